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
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Browser is a window of a headless Chromium allowed to reach one origin.
type Browser struct {
	Ctx context.Context
	net *closedNetwork
}

// closedNetwork lets requests through to one host and notes the others;
// it also keeps what the pages wrote to their consoles, for failures.
type closedNetwork struct {
	host    string
	mu      sync.Mutex
	refused []string
	console []string
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
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 900))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	b := &Browser{Ctx: ctx, net: &closedNetwork{host: allowed.Host}}
	b.close(t)
	return b
}

// NewWindow opens a window of the same Chromium in a browser context of
// its own (cookies and storage apart, as another person's browser would
// have), on the same closed network.
func (b *Browser) NewWindow(t *testing.T) *Browser {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.Ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	w := &Browser{Ctx: ctx, net: b.net}
	w.close(t)
	return w
}

// close routes every request of the window through the closed network.
func (b *Browser) close(t *testing.T) {
	t.Helper()
	ctx := b.Ctx
	// The listener only hands paused requests on: commands run elsewhere.
	paused := make(chan *fetch.EventRequestPaused, 256)
	if err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *fetch.EventRequestPaused:
			paused <- ev
		case *runtime.EventExceptionThrown:
			line := "exception: " + ev.ExceptionDetails.Text
			if ex := ev.ExceptionDetails.Exception; ex != nil {
				line += " " + ex.Description
			}
			b.net.note(line)
		case *runtime.EventConsoleAPICalled:
			line := string(ev.Type) + ":"
			for _, arg := range ev.Args {
				line += " " + string(arg.Value) + arg.Description
			}
			b.net.note(line)
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
				b.net.decide(ctx, p)
			}
		}
	}()
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{}); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
}

// decide lets a request through to the allowed host (and data: URLs) and
// refuses every other, noting it.
func (n *closedNetwork) decide(ctx context.Context, p *fetch.EventRequestPaused) {
	u, err := url.Parse(p.Request.URL)
	if err == nil && (u.Scheme == "data" || u.Host == n.host) {
		_, _ = chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: p.RequestID})
		return
	}
	n.mu.Lock()
	n.refused = append(n.refused, p.Request.URL)
	n.mu.Unlock()
	_, _ = chromedp.Call(ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: p.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
}

func (n *closedNetwork) note(line string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.console) < 200 {
		n.console = append(n.console, line)
	}
}

// Console is what the pages of every window wrote to their consoles, and
// the exceptions they threw.
func (b *Browser) Console() []string {
	b.net.mu.Lock()
	defer b.net.mu.Unlock()
	return append([]string(nil), b.net.console...)
}

// Refused lists the requests the closed network stopped, in any window.
func (b *Browser) Refused() []string {
	b.net.mu.Lock()
	defer b.net.mu.Unlock()
	return append([]string(nil), b.net.refused...)
}

// Screenshot saves the whole page as a PNG when dir is not empty (the
// README's screenshots are taken this way), and does nothing otherwise.
func (b *Browser) Screenshot(t *testing.T, dir, name string) {
	t.Helper()
	if dir == "" {
		return
	}
	png, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Quote writes s as a JavaScript string literal, for the expressions tests
// evaluate in the page.
func Quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`).Replace(s) + "'"
}

func lookChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}
