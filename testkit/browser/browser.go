// Package browser drives headless Chromium (Debian's chromium) from tests
// through chromedp, with the network closed to everything but the service
// under test: a page that tries to load anything from elsewhere fails the
// way it would on a closed network, and the test sees which requests were
// refused.
package browser

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Browser is one headless Chromium allowed to reach one origin.
type Browser struct {
	Ctx context.Context

	mu      sync.Mutex
	refused []string
}

// Open starts Chromium for the test, allowed to reach only base's origin.
// Without Chromium it fails when CPOR_REQUIRE_BROWSER=1 (CI), and skips
// otherwise.
func Open(t *testing.T, base string) *Browser {
	t.Helper()
	exe := lookChromium()
	if exe == "" {
		if os.Getenv("CPOR_REQUIRE_BROWSER") == "1" {
			t.Fatal("headless Chromium is required (CPOR_REQUIRE_BROWSER=1) but not installed: apt-get install chromium")
		}
		t.Skip("Chromium not installed")
	}
	allowed, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-dev-shm-usage", true))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	b := &Browser{Ctx: ctx}
	// The listener only hands paused requests on: commands run elsewhere.
	paused := make(chan *fetch.EventRequestPaused, 256)
	if err := chromedp.Listen(ctx, func(ev any) {
		if p, ok := ev.(*fetch.EventRequestPaused); ok {
			paused <- p
		}
	}); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case p := <-paused:
				b.decide(ctx, p, allowed.Host)
			}
		}
	}()
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{}); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return b
}

// decide lets a request through to the allowed host (and data: URLs) and
// refuses every other, noting it.
func (b *Browser) decide(ctx context.Context, p *fetch.EventRequestPaused, host string) {
	u, err := url.Parse(p.Request.URL)
	if err == nil && (u.Scheme == "data" || u.Host == host) {
		_, _ = chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: p.RequestID})
		return
	}
	b.mu.Lock()
	b.refused = append(b.refused, p.Request.URL)
	b.mu.Unlock()
	_, _ = chromedp.Call(ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: p.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
}

// Refused lists the requests the closed network stopped.
func (b *Browser) Refused() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.refused...)
}

func lookChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}
