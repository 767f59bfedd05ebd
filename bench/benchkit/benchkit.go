// Package benchkit is what the bench commands share to drive the service
// as a separate process: a free loopback port, waiting for readiness, the
// admin listener's metrics and profiles, a fresh database.
package benchkit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"cpor/storage"
)

// FreePort returns a loopback port nobody listens on now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// WaitReady waits until the server at base answers /readyz with 204.
func WaitReady(base string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusNoContent {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("server never became ready")
}

// Scrape reads the server's Prometheus metrics (unlabelled series only)
// from its admin listener.
func Scrape(admin string) (map[string]float64, error) {
	resp, err := http.Get(admin + "/metrics")
	if err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(raw), "\n") {
		if line == "" || line[0] == '#' || strings.Contains(line, "{") {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if v, err := strconv.ParseFloat(value, 64); err == nil {
			out[name] = v
		}
	}
	return out, nil
}

// Fetch saves what url answers (a profile, say) into path.
func Fetch(url, path string) error {
	resp, err := http.Get(url)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch %s: HTTP %d", url, resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}

// FreshDatabase makes an empty database, named prefix and a random
// suffix, on the PostgreSQL server, and returns its URL and how to drop it.
func FreshDatabase(ctx context.Context, server, prefix string) (string, func(), error) {
	quiet := slog.New(slog.DiscardHandler)
	admin, err := storage.Open(ctx, storage.Config{DatabaseURL: server, MaxOpenConns: 1}, quiet)
	if err != nil {
		return "", nil, err
	}
	name := prefix + "_" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	if err := admin.Exec("CREATE DATABASE " + name).Error; err != nil {
		_ = storage.Close(admin)
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	u, err := url.Parse(server)
	if err != nil {
		_ = storage.Close(admin)
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() {
		_ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)").Error
		_ = storage.Close(admin)
	}
	return u.String(), drop, nil
}
