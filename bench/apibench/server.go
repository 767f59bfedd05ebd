package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"cpor/bench/benchkit"
)

// secret signs the tokens the bench mints and the server verifies.
const secret = "apibench-secret-of-at-least-32-bytes!"

// server is the service running as its own process.
type server struct {
	cmd   *exec.Cmd
	base  string // http://127.0.0.1:port
	admin string // the admin listener
}

// buildServer compiles the service once per run into dir.
func buildServer(dir string) (string, error) {
	bin := filepath.Join(dir, "cpor")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return "", fmt.Errorf("build server: %v\n%s", err, out)
	}
	return bin, nil
}

// startServer runs the binary on the database: budgets off (the bench's few
// users send far more than a person's budget allows), pprof on the loopback
// admin listener, and errors only in the log: under load every statement
// that queues for a connection is a slow-query warning, thousands a second.
func startServer(bin, dataDir, databaseURL string) (*server, error) {
	port, err := benchkit.FreePort()
	if err != nil {
		return nil, err
	}
	adminPort, err := benchkit.FreePort()
	if err != nil {
		return nil, err
	}
	s := &server{base: "http://127.0.0.1:" + strconv.Itoa(port), admin: "http://127.0.0.1:" + strconv.Itoa(adminPort)}
	env := append(os.Environ(), "CPOR_DATA_DIR="+dataDir, "CPOR_ADDR=127.0.0.1:"+strconv.Itoa(port),
		"CPOR_ADMIN_ADDR=127.0.0.1:"+strconv.Itoa(adminPort), "CPOR_PPROF=true", "CPOR_BUDGET=off", "CPOR_ANONYMOUS_BUDGET=off",
		"CPOR_JWT_SECRET="+secret, "CPOR_LOG_LEVEL=error")
	if databaseURL != "" {
		env = append(env, "DATABASE_URL="+databaseURL)
	}
	s.cmd = exec.Command(bin)
	s.cmd.Env = env
	s.cmd.Stderr = os.Stderr
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	if err := benchkit.WaitReady(s.base, 2*time.Minute); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	_ = s.cmd.Wait()
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// statements reads the server's count of SQL statements sent.
func (s *server) statements() (float64, error) {
	m, err := benchkit.Scrape(s.admin)
	if err != nil {
		return 0, err
	}
	n, ok := m["cpor_db_statements_total"]
	if !ok {
		return 0, errors.New("the server's metrics have no cpor_db_statements_total")
	}
	return n, nil
}

// profile fetches a CPU profile of the server over d into path.
func (s *server) profile(d time.Duration, path string) error {
	return benchkit.Fetch(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", s.admin, int(d.Seconds())), path)
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// cpuTime is the CPU a process has used: utime+stime, plus with children
// the CPU of its children that have exited and been waited for.
func cpuTime(pid int, children bool) (time.Duration, error) {
	f, err := procStat(pid)
	if err != nil {
		return 0, err
	}
	ticks := f.utime + f.stime
	if children {
		ticks += f.cutime + f.cstime
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

type statFields struct {
	ppid                         int
	utime, stime, cutime, cstime int64
}

func procStat(pid int) (statFields, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return statFields{}, err
	}
	// The command name, in parentheses, may hold spaces: fields start after
	// its closing parenthesis, with the state (field 3).
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return statFields{}, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(raw[i+1:]))
	if len(f) < 15 {
		return statFields{}, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	num := func(k int) int64 { n, _ := strconv.ParseInt(f[k-3], 10, 64); return n }
	return statFields{ppid: int(num(4)), utime: num(14), stime: num(15), cutime: num(16), cstime: num(17)}, nil
}

// postgresCPU measures a local PostgreSQL server: the postmaster's own CPU,
// that of its exited children, and that of its live children (backends and
// background processes).
type postgresCPU struct{ postmaster int }

// findPostgres finds the postmaster of the server at url when it runs on
// this machine (its data directory's postmaster.pid names it); nil when it
// cannot be found, and then the figure is left out.
func findPostgres(ctx context.Context, url string) *postgresCPU {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil
	}
	defer conn.Close(ctx)
	var dir string
	if err := conn.QueryRow(ctx, "SHOW data_directory").Scan(&dir); err != nil {
		return nil
	}
	raw, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return nil
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		return nil
	}
	if _, err := procStat(pid); err != nil {
		return nil
	}
	return &postgresCPU{postmaster: pid}
}

// postgresVersion is the server's version, for the report ("" when it
// cannot be read).
func postgresVersion(ctx context.Context, url string) string {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return ""
	}
	defer conn.Close(ctx)
	var v string
	_ = conn.QueryRow(ctx, "SHOW server_version").Scan(&v)
	return v
}

func (p *postgresCPU) total() (time.Duration, error) {
	if p == nil {
		return 0, nil
	}
	sum, err := cpuTime(p.postmaster, true)
	if err != nil {
		return 0, err
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f, err := procStat(pid)
		if err != nil || f.ppid != p.postmaster {
			continue
		}
		sum += time.Duration(f.utime+f.stime) * time.Second / clockTicks
	}
	return sum, nil
}
