package httpapi_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"cpor/httpapi"
	"cpor/httpapi/playground"
	"cpor/storage"
	"cpor/testkit"
	"cpor/testkit/apitest"
	"cpor/testkit/browser"
)

// TestPlaygroundWorksOffline opens the playground in headless Chromium
// with the network closed to everything but the service: the page loads
// from the binary's own assets, the demo-user picker signs in, a query
// runs, and a subscription receives a status change live over the
// websocket.
func TestPlaygroundWorksOffline(t *testing.T) {
	w := testkit.New(t, storage.SQLite)
	srv := apitest.NewServerWith(t, w, func(c *httpapi.Config) {
		c.Playground = true
		c.DemoUsers = []playground.User{{Handle: "ada", About: "Contoso Partners, Global admin", Token: apitest.Token(t, "ada")}}
	})
	b := browser.Open(t, srv.URL)
	editor := `document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror`
	result := func(contains string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](`(document.querySelector('.result-window') || {innerText: ''}).innerText.includes(`+
			browser.Quote(contains)+`)`, chromedp.WithPollingTimeout(30*time.Second))
	}
	err := chromedp.Do(b.Ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(".graphiql-container"),
		chromedp.SetValue("#signin", "ada"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#signin').dispatchEvent(new Event('change'))`),
		chromedp.WaitVisible(".graphiql-query-editor .CodeMirror"),
		chromedp.Evaluate[chromedp.Void](editor+`.setValue('query Who { viewer { userId roles } }')`),
		chromedp.Sleep(500*time.Millisecond),
		chromedp.Click(".graphiql-execute-button"),
		result("ada@contoso.example"),
		chromedp.Evaluate[chromedp.Void](editor+`.setValue('subscription Live { claimStatusChanged { status claim { id } } }')`),
		// GraphiQL takes an edit into its state a moment after the editor
		// has it; a click before runs the previous operation again.
		chromedp.Sleep(500*time.Millisecond),
		chromedp.Click(".graphiql-execute-button"),
		chromedp.Poll[chromedp.Void](`document.querySelector('.graphiql-execute-button').getAttribute('aria-label').startsWith('Stop')`,
			chromedp.WithPollingTimeout(10*time.Second)),
	)
	if err != nil {
		t.Fatalf("playground: %v (requests refused: %v)", err, b.Refused())
	}
	// The browser opens the websocket when the subscription starts.
	for deadline := time.Now().Add(45 * time.Second); w.Live.Stats().Subscribers < 1; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the playground's subscription never reached the server (requests refused: %v)", b.Refused())
		}
	}
	testkit.SubmitFreshClaim(t, w, "ada", "playground-live")
	if err := chromedp.Do(b.Ctx, result("SUBMITTED")); err != nil {
		t.Fatalf("the subscription's event never showed: %v", err)
	}
	if refused := b.Refused(); len(refused) > 0 {
		t.Errorf("the page tried to reach beyond the service: %v", refused)
	}
}
