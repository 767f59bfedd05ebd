package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
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

// TestPartnerAndReviewerInTheirOwnBrowsers drives the web app in headless
// Chromium, with the network closed to everything but the service: a
// partner fills the claim form (seeing a rule's error at its field),
// uploads proof, downloads it through its signed link and submits; a
// reviewer, in a browser context of her own, finds the claim, takes it
// into review and asks for information; the partner, whose page shows the
// request live, answers with new proof; the reviewer approves and
// comments, and the partner's page, never reloaded, shows both as they
// happen.
//
// With CPOR_SCREENSHOTS=DIR it also saves the README's screenshots there.
func TestPartnerAndReviewerInTheirOwnBrowsers(t *testing.T) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		tenant, subscription := testkit.FreshTarget(t, w, "fourth-coffee")
		ritasToken := apitest.Token(t, "rita")
		srv := apitest.NewServerWith(t, w, func(c *httpapi.Config) {
			c.DemoUsers = []playground.User{
				{Handle: "ada", About: "Contoso Partners, Global admin", Token: apitest.Token(t, "ada")},
				{Handle: "rita", About: "Microsoft reviewer", Token: ritasToken},
			}
		})
		shots := screenshotDir(t, w)
		partner := browser.Open(t, srv.URL)
		reviewer := partner.NewWindow(t)
		pdf := writeFile(t, "workshop.pdf", testkit.PDF)
		agenda := writeFile(t, "agenda.pdf", append(append([]byte(nil), testkit.PDF...), "% the agenda\n"...))

		// The partner signs in and fills the form with the wrong domain.
		run(t, partner, "sign in as the partner",
			chromedp.Navigate(srv.URL+"/app/"),
			chromedp.WaitVisible(`button[data-user="ada"]`))
		partner.Screenshot(t, shots, "sign-in")
		run(t, partner, "open the claim form",
			chromedp.Click(`button[data-user="ada"]`),
			chromedp.WaitVisible(`#claim-rows tr`),
			// Set once; a reload would lose it.
			chromedp.Evaluate[chromedp.Void](`window.neverReloaded = true`),
			chromedp.Click(`#new-claim`),
			chromedp.WaitVisible(`#f-customerDomain`),
			fill(`#f-name`, "Fourth Coffee rollout"),
			fill(`#f-activity`, "USAGE"),
			choose(`#f-productId`, "Dynamics 365 Sales"),
			choose(`#f-mpnId`, ""),
			fill(`#f-customerTenantId`, tenant.String()),
			fill(`#f-customerDomain`, "fourth-coffee.example"),
			fill(`#f-subscriptionId`, subscription.String()),
			fill(`#f-customerContact-name`, "Dana Diaz"),
			fill(`#f-customerContact-title`, "CIO"),
			fill(`#f-customerContact-email`, "dana@fourth-coffee.onmicrosoft.com"),
			chromedp.Click(`#save`),
			chromedp.WaitVisible(`[data-field="customerDomain"] .field-error[data-code="DOMAIN_TENANT_MISMATCH"]`))
		partner.Screenshot(t, shots, "claim-form")
		run(t, partner, "save the draft",
			fill(`#f-customerDomain`, "fourth-coffee.onmicrosoft.com"),
			chromedp.Click(`#save`),
			waitStatus("DRAFT"))

		// Submitting without proof lists the rule, under the field's name.
		run(t, partner, "submit without proof",
			chromedp.Click(`button[data-action="SUBMIT"]`),
			waitText(`#rule-errors li[data-code="PROOF_OF_EXECUTION_REQUIRED"]`, "Proof of execution:"))

		// Proof: uploaded, then read back through its signed link alone.
		run(t, partner, "upload proof",
			chromedp.SetUploadFiles(`#proof-file`, []string{pdf}),
			chromedp.Click(`#proof-upload`),
			chromedp.WaitVisible(`a.document`),
			chromedp.Poll[chromedp.Void](`document.querySelector('#rule-errors') === null`, chromedp.WithPollingTimeout(10*time.Second)))
		download, err := chromedp.Run(partner.Ctx, chromedp.Evaluate[string](`fetch(document.querySelector('a.document').href,
			{credentials: 'omit'}).then(async r => r.status + ' ' + (await r.arrayBuffer()).byteLength)`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("download proof through its link: %v", err)
		}
		if want := "200 " + strconv.Itoa(len(testkit.PDF)); download != want {
			t.Fatalf("downloading the proof by its link: %q, want %q", download, want)
		}
		run(t, partner, "submit", chromedp.Click(`button[data-action="SUBMIT"]`), waitStatus("SUBMITTED"))

		// The reviewer, in her own browser, finds the claim and decides it.
		run(t, reviewer, "sign in as the reviewer and find the claim",
			chromedp.Navigate(srv.URL+"/app/"),
			chromedp.Click(`button[data-user="rita"]`),
			chromedp.WaitVisible(`#claim-rows tr`),
			fill(`#search`, "Fourth Coffee"),
			chromedp.Poll[chromedp.Void](`document.querySelectorAll('#claim-rows tr').length === 1 &&
				document.querySelector('#claim-rows tr a').textContent === 'Fourth Coffee rollout'`, chromedp.WithPollingTimeout(20*time.Second)),
			chromedp.Click(`#claim-rows tr a`),
			waitStatus("SUBMITTED"),
			chromedp.Click(`button[data-action="START_REVIEW"]`),
			waitStatus("UNDER_REVIEW"),
			chromedp.Click(`button[data-action="REQUEST_INFORMATION"]`),
			chromedp.SendKeys(`#action-text`, "Please attach the workshop agenda."),
			chromedp.Click(`#action-confirm`),
			waitStatus("ACTION_REQUIRED"))

		// The partner sees the request arrive and answers it with new proof
		// (a multipart mutation); the reviewer sees the claim come back.
		run(t, partner, "answer the information request",
			waitStatus("ACTION_REQUIRED"),
			waitText(`#thread`, "Please attach the workshop agenda."),
			chromedp.Click(`button[data-action="RESPOND"]`),
			chromedp.SendKeys(`#action-text`, "Agenda attached."),
			chromedp.SetUploadFiles(`#action-file`, []string{agenda}),
			chromedp.Click(`#action-confirm`),
			waitStatus("UNDER_REVIEW"),
			chromedp.Poll[chromedp.Void](`document.querySelectorAll('a.document').length === 2`, chromedp.WithPollingTimeout(30*time.Second)))
		run(t, reviewer, "approve",
			waitStatus("UNDER_REVIEW"),
			waitText(`#thread`, "Agenda attached."),
			chromedp.Click(`button[data-action="APPROVE"]`),
			chromedp.SendKeys(`#action-text`, "Workshop proven."),
			chromedp.Click(`#action-confirm`),
			waitStatus("APPROVED"),
			chromedp.SendKeys(`#comment-body`, "Approved: thank you for the agenda."),
			chromedp.Click(`#comment-send`),
			waitText(`#thread`, "Approved: thank you for the agenda."))
		reviewer.Screenshot(t, shots, "claim-reviewer")

		// The partner's page shows it all without a reload.
		run(t, partner, "see the decision live",
			waitStatus("APPROVED"),
			waitText(`#thread`, "Approved: thank you for the agenda."),
			waitText(`#history`, "Approve"),
			chromedp.Poll[chromedp.Void](`window.neverReloaded === true`, chromedp.WithPollingTimeout(time.Second)))
		partner.Screenshot(t, shots, "claim-partner")
		run(t, reviewer, "list the claims", chromedp.Navigate(srv.URL+"/app/"), chromedp.WaitVisible(`#claim-rows tr`))
		reviewer.Screenshot(t, shots, "claims")

		// Without the demo picker, a token from the identity provider is
		// pasted in.
		run(t, reviewer, "sign in with a pasted token",
			chromedp.Click(`#sign-out`),
			chromedp.WaitVisible(`#token`),
			chromedp.SendKeys(`#token`, ritasToken),
			chromedp.Click(`#token-sign-in`),
			waitText(`#who`, "Rita Reviewer"),
			chromedp.WaitVisible(`#claim-rows tr`))

		// A change to a claim the list does not show is offered as a refresh.
		testkit.SubmitFreshClaim(t, w, "ada", "fabrikam-cafe")
		run(t, reviewer, "refresh the list after another claim changed",
			chromedp.WaitVisible(`#show-changes`),
			chromedp.Click(`#show-changes`),
			waitText(`#claim-rows`, "fabrikam-cafe"))

		if refused := partner.Refused(); len(refused) > 0 {
			t.Errorf("the app tried to reach beyond the service: %v", refused)
		}
	})
}

func writeFile(t *testing.T, name string, content []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func run(t *testing.T, b *browser.Browser, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		shown, _ := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`location.href + '\n' + document.body.innerText.slice(0, 2000)`))
		t.Fatalf("%s: %v\nthe page shows:\n%s\nconsole: %q\nrequests refused: %v", step, err, shown, b.Console(), b.Refused())
	}
}

// fill sets a form control's value as typing would, with the events the
// app listens for.
func fill(selector, value string) chromedp.Action[chromedp.Void] {
	return setControl(selector, `() => `+browser.Quote(value))
}

// choose picks the first option of a select whose text starts with prefix
// ("" takes the first real choice), as a person choosing would.
func choose(selector, prefix string) chromedp.Action[chromedp.Void] {
	return setControl(selector, `(el) => ([...el.options].find(o => o.value && o.text.startsWith(`+browser.Quote(prefix)+`)) || {}).value`)
}

// setControl waits for the control and for the value pick(el) gives it,
// then sets it and tells the app.
func setControl(selector, pick string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](`(() => {
		const el = document.querySelector(`+browser.Quote(selector)+`);
		const value = el && (`+pick+`)(el);
		if (value === undefined) return false;
		el.value = value;
		el.dispatchEvent(new Event('input', {bubbles: true}));
		el.dispatchEvent(new Event('change', {bubbles: true}));
		return el.value === value;
	})()`, chromedp.WithPollingTimeout(10*time.Second))
}

func waitStatus(status string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](`document.querySelector(`+browser.Quote(`#status [data-status="`+status+`"]`)+`) !== null`,
		chromedp.WithPollingTimeout(30*time.Second))
}

func waitText(selector, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](`(document.querySelector(`+browser.Quote(selector)+`) || {innerText: ''}).innerText.includes(`+browser.Quote(text)+`)`,
		chromedp.WithPollingTimeout(30*time.Second))
}

// screenshotDir is CPOR_SCREENSHOTS for the SQLite run, else "".
func screenshotDir(t *testing.T, w *testkit.World) string {
	dir := os.Getenv("CPOR_SCREENSHOTS")
	if dir == "" || w.Dialect != storage.SQLite {
		return ""
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestCustomerAdminReadsHerTenantsClaims: a customer admin's pages ask
// for none of the fields she may not see (each would be FORBIDDEN). Before
// she signs in, a refused token shows as the sign-in form's error.
func TestCustomerAdminReadsHerTenantsClaims(t *testing.T) {
	w := testkit.New(t, storage.SQLite)
	srv := apitest.NewServerWith(t, w, func(c *httpapi.Config) {
		c.DemoUsers = []playground.User{{Handle: "chloe", About: "Northwind Traders, customer admin", Token: apitest.Token(t, "chloe")}}
	})
	b := browser.Open(t, srv.URL)
	run(t, b, "a refused token is the sign-in form's error",
		chromedp.Navigate(srv.URL+"/app/"),
		chromedp.SendKeys(`#token`, "not.a.token"),
		chromedp.Click(`#token-sign-in`),
		waitText(`main`, "UNAUTHENTICATED"))
	run(t, b, "read a claim as the customer",
		chromedp.Click(`button[data-user="chloe"]`),
		chromedp.WaitVisible(`#claim-rows tr`),
		chromedp.Click(`#claim-rows tr a`),
		chromedp.WaitVisible(`#status .badge`))
	shown, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`document.querySelector('#problem').innerText +
		'|' + (document.querySelector('#comments') === null) + '|' + (document.querySelector('#proof') === null)`))
	if err != nil || shown != "|true|true" {
		t.Errorf("the customer's claim page: problems|no comments|no proof = %q (%v)", shown, err)
	}
}
