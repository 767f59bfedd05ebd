package webhooks_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/demo"
	"cpor/models"
	"cpor/relay"
	"cpor/testkit"
	"cpor/webhooks"
)

// TestService runs the service's tests on one world of each database,
// each subtest starting with no endpoints and no webhook deliveries: a
// world per test would make the package slow.
func TestService(t *testing.T) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		for _, tc := range []struct {
			name string
			fn   func(t *testing.T, w *testkit.World)
		}{
			{"Register", testRegister},
			{"RegisterCleansInput", testRegisterCleansInput},
			{"RegisterLimit", testRegisterLimit},
			{"List", testList},
			{"OthersEndpointsNotFound", testOthersEndpointsNotFound},
			{"RotateSecret", testRotateSecret},
			{"Update", testUpdate},
			{"Delete", testDelete},
			{"Deliveries", testDeliveries},
			{"Redeliver", testRedeliver},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resetWebhooks(t, w)
				tc.fn(t, w)
			})
		}
	})
}

func testRegister(t *testing.T, w *testkit.World) {
	svc := w.Services().Webhooks
	contoso, fabrikam := demo.Contoso, demo.Fabrikam
	sub := kinds(models.NotifySubmitted)
	tests := []struct {
		name    string
		ctx     context.Context
		in      webhooks.Registration
		code    apperr.Code
		field   string
		wantOrg *uuid.UUID
	}{
		{"partner admin, own organisation", testkit.As("ada"), webhooks.Registration{OrganizationID: &contoso, URL: "https://a.example.com/h", EventTypes: sub}, "", "", &contoso},
		{"partner admin, implicit organisation", testkit.As("ben"), webhooks.Registration{URL: "https://b.example.com/h", EventTypes: sub}, "", "", &contoso},
		{"other partner admin", testkit.As("fiona"), webhooks.Registration{URL: "https://f.example.com/h", EventTypes: sub}, "", "", &fabrikam},
		{"partner admin, another organisation", testkit.As("ada"), webhooks.Registration{OrganizationID: &fabrikam, URL: "https://a.example.com/h", EventTypes: sub}, apperr.Forbidden, "", nil},
		{"operator, every claim", testkit.As("oscar"), webhooks.Registration{URL: "https://o.example.com/h", EventTypes: sub}, "", "", nil},
		{"operator naming an organisation", testkit.As("oscar"), webhooks.Registration{OrganizationID: &contoso, URL: "https://o.example.com/h", EventTypes: sub}, apperr.InvalidInput, "organizationId", nil},
		{"reviewer", testkit.As("rita"), webhooks.Registration{URL: "https://r.example.com/h", EventTypes: sub}, apperr.Forbidden, "", nil},
		{"partner without admin role", testkit.As("carl"), webhooks.Registration{URL: "https://c.example.com/h", EventTypes: sub}, apperr.Forbidden, "", nil},
		{"customer admin", testkit.As("chloe"), webhooks.Registration{URL: "https://c.example.com/h", EventTypes: sub}, apperr.Forbidden, "", nil},
		{"anonymous", anonymous, webhooks.Registration{URL: "https://x.example.com/h", EventTypes: sub}, apperr.Unauthenticated, "", nil},
		{"no event types", testkit.As("ada"), webhooks.Registration{URL: "https://a.example.com/h"}, apperr.InvalidInput, "eventTypes", nil},
		{"empty event types", testkit.As("ada"), webhooks.Registration{URL: "https://a.example.com/h", EventTypes: []models.NotificationKind{}}, apperr.InvalidInput, "eventTypes", nil},
		{"PARTNER_RESPONDED", testkit.As("ada"), webhooks.Registration{URL: "https://a.example.com/h", EventTypes: kinds(models.NotifySubmitted, models.NotifyPartnerResponded)}, apperr.InvalidInput, "eventTypes", nil},
		{"WEBHOOK_DISABLED", testkit.As("ada"), webhooks.Registration{URL: "https://a.example.com/h", EventTypes: kinds(models.NotifyWebhookDisabled)}, apperr.InvalidInput, "eventTypes", nil},
		{"unknown kind", testkit.As("ada"), webhooks.Registration{URL: "https://a.example.com/h", EventTypes: kinds("NOPE")}, apperr.InvalidInput, "eventTypes", nil},
		{"internal host", testkit.As("ada"), webhooks.Registration{URL: "https://localhost/h", EventTypes: sub}, apperr.WebhookURLInvalid, "url", nil},
		{"private address", testkit.As("ada"), webhooks.Registration{URL: "https://10.0.0.1/h", EventTypes: sub}, apperr.WebhookURLInvalid, "url", nil},
		{"not absolute", testkit.As("ada"), webhooks.Registration{URL: "hooks.example.com", EventTypes: sub}, apperr.WebhookURLInvalid, "url", nil},
		{"credentials in the URL", testkit.As("ada"), webhooks.Registration{URL: "https://u:p@a.example.com/h", EventTypes: sub}, apperr.WebhookURLInvalid, "url", nil},
		{"description of 500 characters", testkit.As("ada"), webhooks.Registration{URL: "https://a.example.com/h", Description: strings.Repeat("é", 500), EventTypes: sub}, "", "", &contoso},
		{"description of 501 characters", testkit.As("ada"), webhooks.Registration{URL: "https://a.example.com/h", Description: strings.Repeat("é", 501), EventTypes: sub}, apperr.InvalidInput, "description", nil},
		{"description with NUL", testkit.As("ada"), webhooks.Registration{URL: "https://a.example.com/h", Description: "ops\x00", EventTypes: sub}, apperr.InvalidInput, "description", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var before int64
			w.DB.Model(&models.WebhookEndpoint{}).Count(&before)
			e, secret, err := svc.Register(tc.ctx, tc.in)
			if tc.code != "" {
				wantCode(t, err, tc.code, tc.field)
				if e != nil || secret != "" {
					t.Errorf("refused registration returned %v and a secret", e)
				}
				var after int64
				w.DB.Model(&models.WebhookEndpoint{}).Count(&after)
				if after != before {
					t.Errorf("refused registration stored an endpoint")
				}
				return
			}
			if err != nil {
				t.Fatalf("register: %v", err)
			}
			if (e.OrganizationID == nil) != (tc.wantOrg == nil) || (e.OrganizationID != nil && *e.OrganizationID != *tc.wantOrg) {
				t.Errorf("organisation %v, want %v", e.OrganizationID, tc.wantOrg)
			}
			stored := endpointRow(t, w.DB, e.ID)
			if !strings.HasPrefix(secret, "whsec_") || stored.Secret != secret || e.Secret != secret {
				t.Errorf("secret %q returned, %q stored", secret, stored.Secret)
			}
			if stored.URL != tc.in.URL || stored.CreatedBy == "" || stored.DisabledAt != nil {
				t.Errorf("stored %+v", stored)
			}
		})
	}
}

func testRegisterCleansInput(t *testing.T, w *testkit.World) {
	e, _, err := w.Services().Webhooks.Register(testkit.As("ada"), webhooks.Registration{
		URL: "https://hooks.example.com/h", Description: "  CRM bridge  ",
		EventTypes: kinds(models.NotifyRejected, models.NotifySubmitted, models.NotifyRejected),
	})
	if err != nil {
		t.Fatal(err)
	}
	stored := endpointRow(t, w.DB, e.ID)
	if stored.Description != "CRM bridge" {
		t.Errorf("description %q, want trimmed", stored.Description)
	}
	if stored.EventTypes != ",CLAIM_REJECTED,CLAIM_SUBMITTED," {
		t.Errorf("event types %q", stored.EventTypes)
	}
	if got := webhooks.Kinds(&stored); !slices.Equal(got, kinds(models.NotifyRejected, models.NotifySubmitted)) {
		t.Errorf("Kinds = %v", got)
	}
}

func testRegisterLimit(t *testing.T, w *testkit.World) {
	svc := w.Services().Webhooks
	for i := range webhooks.MaxEndpointsPerOwner {
		// Both Contoso admins fill the same organisation's allowance.
		register(t, svc, []string{"ada", "ben"}[i%2], "https://hooks.example.com/h")
	}
	_, _, err := svc.Register(testkit.As("ben"), webhooks.Registration{URL: "https://hooks.example.com/h", EventTypes: kinds(models.NotifySubmitted)})
	wantCode(t, err, apperr.InvalidInput, "")
	// Other owners have their own allowance.
	register(t, svc, "fiona", "https://hooks.example.com/f")
	register(t, svc, "oscar", "https://hooks.example.com/o")
}

func testList(t *testing.T, w *testkit.World) {
	svc := w.Services().Webhooks
	a1, _ := register(t, svc, "ada", "https://a1.example.com/h")
	a2, _ := register(t, svc, "ben", "https://a2.example.com/h")
	f1, _ := register(t, svc, "fiona", "https://f1.example.com/h")
	o1, _ := register(t, svc, "oscar", "https://o1.example.com/h")
	ids := func(es []models.WebhookEndpoint) []uuid.UUID {
		var out []uuid.UUID
		for _, e := range es {
			out = append(out, e.ID)
		}
		slices.SortFunc(out, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
		return out
	}
	sorted := func(us ...uuid.UUID) []uuid.UUID {
		slices.SortFunc(us, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
		return us
	}
	for _, tc := range []struct {
		who  string
		want []uuid.UUID
	}{
		{"ada", sorted(a1.ID, a2.ID)},
		{"ben", sorted(a1.ID, a2.ID)},
		{"fiona", sorted(f1.ID)},
		{"oscar", sorted(a1.ID, a2.ID, f1.ID, o1.ID)},
	} {
		got, err := svc.List(testkit.As(tc.who))
		if err != nil {
			t.Fatalf("%s: %v", tc.who, err)
		}
		if !slices.Equal(ids(got), tc.want) {
			t.Errorf("%s sees %v, want %v", tc.who, ids(got), tc.want)
		}
	}
	for _, who := range []string{"rita", "carl", "chloe"} {
		_, err := svc.List(testkit.As(who))
		wantCode(t, err, apperr.Forbidden, "")
	}
	_, err := svc.List(anonymous)
	wantCode(t, err, apperr.Unauthenticated, "")
}

// TestOthersEndpointsNotFound: an endpoint one may not manage is not
// found, whatever one tries, so that its existence is not revealed.
func testOthersEndpointsNotFound(t *testing.T, w *testkit.World) {
	svc := w.Services().Webhooks
	adas, adaSecret := register(t, svc, "ada", "https://a.example.com/h")
	oscars, _ := register(t, svc, "oscar", "https://o.example.com/h")
	url := "https://evil.example.com/h"
	off := false
	ops := map[string]func(ctx context.Context, id uuid.UUID) error{
		"Get": func(ctx context.Context, id uuid.UUID) error { _, err := svc.Get(ctx, id); return err },
		"Update URL": func(ctx context.Context, id uuid.UUID) error {
			_, err := svc.Update(ctx, id, webhooks.Update{URL: &url})
			return err
		},
		"Update disable": func(ctx context.Context, id uuid.UUID) error {
			_, err := svc.Update(ctx, id, webhooks.Update{Enabled: &off})
			return err
		},
		"RotateSecret": func(ctx context.Context, id uuid.UUID) error { _, _, err := svc.RotateSecret(ctx, id); return err },
		"Delete":       func(ctx context.Context, id uuid.UUID) error { return svc.Delete(ctx, id) },
		"Deliveries": func(ctx context.Context, id uuid.UUID) error {
			_, err := svc.Deliveries(ctx, id, relay.Args{})
			return err
		},
	}
	cases := []struct {
		who string
		id  uuid.UUID
	}{
		{"fiona", adas.ID}, {"carl", adas.ID}, {"rita", adas.ID}, {"chloe", adas.ID},
		{"ada", oscars.ID}, {"fiona", oscars.ID},
		{"ada", uuid.New()}, {"oscar", uuid.New()},
	}
	for name, op := range ops {
		for _, c := range cases {
			err := op(testkit.As(c.who), c.id)
			if !apperr.Is(err, apperr.NotFound) {
				t.Errorf("%s by %s of %s: %v, want NOT_FOUND", name, c.who, c.id, err)
			}
		}
	}
	stored := endpointRow(t, w.DB, adas.ID)
	if stored.URL != "https://a.example.com/h" || stored.Secret != adaSecret || stored.DisabledAt != nil {
		t.Errorf("refused changes changed the endpoint: %+v", stored)
	}
	endpointRow(t, w.DB, oscars.ID)
	// Those who may manage them find them.
	for _, c := range []struct {
		who string
		id  uuid.UUID
	}{{"ada", adas.ID}, {"ben", adas.ID}, {"oscar", adas.ID}, {"oscar", oscars.ID}} {
		if _, err := svc.Get(testkit.As(c.who), c.id); err != nil {
			t.Errorf("Get by %s: %v", c.who, err)
		}
	}
	_, err := svc.Get(anonymous, adas.ID)
	wantCode(t, err, apperr.Unauthenticated, "")
}

func testRotateSecret(t *testing.T, w *testkit.World) {
	clock := newClock()
	svc := webhooks.New(w.DB, webhooks.URLPolicy{}, 0, clock.Now)
	e, first := register(t, svc, "ada", "https://a.example.com/h")
	clock.Advance(time.Hour)
	rotated, second, err := svc.RotateSecret(testkit.As("ben"), e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if second == first || !strings.HasPrefix(second, "whsec_") {
		t.Fatalf("new secret %q (old %q)", second, first)
	}
	want := clock.Now().Add(webhooks.RotationOverlap)
	for name, got := range map[string]models.WebhookEndpoint{"returned": *rotated, "stored": endpointRow(t, w.DB, e.ID)} {
		if got.Secret != second || got.PreviousSecret != first {
			t.Errorf("%s: secret %q previous %q", name, got.Secret, got.PreviousSecret)
		}
		if got.PreviousSecretUntil == nil || !sameTime(*got.PreviousSecretUntil, want) {
			t.Errorf("%s: previous secret until %v, want %v", name, got.PreviousSecretUntil, want)
		}
	}
	_, third, err := svc.RotateSecret(testkit.As("oscar"), e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored := endpointRow(t, w.DB, e.ID); stored.Secret != third || stored.PreviousSecret != second {
		t.Errorf("second rotation: secret %q previous %q", stored.Secret, stored.PreviousSecret)
	}
}

func testUpdate(t *testing.T, w *testkit.World) {
	clock := newClock()
	svc := webhooks.New(w.DB, webhooks.URLPolicy{RequireHTTPS: true}, 0, clock.Now)
	e, _ := register(t, svc, "ada", "https://a.example.com/h")
	ctx := testkit.As("ada")
	failing := clock.Now().Add(-time.Hour)
	if err := w.DB.Model(&models.WebhookEndpoint{}).Where("id = ?", e.ID).Update("failing_since", failing).Error; err != nil {
		t.Fatal(err)
	}

	off, on := false, true
	if _, err := svc.Update(ctx, e.ID, webhooks.Update{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	got := endpointRow(t, w.DB, e.ID)
	if got.DisabledAt == nil || !sameTime(*got.DisabledAt, clock.Now()) || !strings.Contains(got.DisabledReason, "disabled by") {
		t.Errorf("disabled: at %v reason %q", got.DisabledAt, got.DisabledReason)
	}

	if err := w.DB.Model(&models.WebhookEndpoint{}).Where("id = ?", e.ID).Update("failing_since", failing).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Update(ctx, e.ID, webhooks.Update{Enabled: &on}); err != nil {
		t.Fatal(err)
	}
	got = endpointRow(t, w.DB, e.ID)
	if got.DisabledAt != nil || got.DisabledReason != "" || got.FailingSince != nil {
		t.Errorf("enabled: disabled at %v (%q), failing since %v", got.DisabledAt, got.DisabledReason, got.FailingSince)
	}

	newURL, desc := "https://b.example.com/h2", "  receiver  "
	clock.Advance(time.Minute)
	if _, err := svc.Update(ctx, e.ID, webhooks.Update{URL: &newURL, Description: &desc, EventTypes: kinds(models.NotifyApproved)}); err != nil {
		t.Fatal(err)
	}
	got = endpointRow(t, w.DB, e.ID)
	if got.URL != newURL || got.Description != "receiver" || got.EventTypes != ",CLAIM_APPROVED," {
		t.Errorf("updated: %+v", got)
	}

	bad := []struct {
		name  string
		in    webhooks.Update
		code  apperr.Code
		field string
	}{
		{"private URL", webhooks.Update{URL: ptr("https://192.168.1.1/h")}, apperr.WebhookURLInvalid, "url"},
		{"http URL", webhooks.Update{URL: ptr("http://b.example.com/h")}, apperr.WebhookURLInvalid, "url"},
		{"empty event types", webhooks.Update{EventTypes: []models.NotificationKind{}}, apperr.InvalidInput, "eventTypes"},
		{"PARTNER_RESPONDED", webhooks.Update{EventTypes: kinds(models.NotifyPartnerResponded)}, apperr.InvalidInput, "eventTypes"},
		{"long description", webhooks.Update{Description: ptr(strings.Repeat("x", 501))}, apperr.InvalidInput, "description"},
	}
	for _, tc := range bad {
		_, err := svc.Update(ctx, e.ID, tc.in)
		if !apperr.Is(err, tc.code) {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
			continue
		}
		if list, _ := apperr.All(err); list[0].Field != tc.field {
			t.Errorf("%s: field %q, want %q", tc.name, list[0].Field, tc.field)
		}
	}
	if after := endpointRow(t, w.DB, e.ID); after.URL != got.URL || after.EventTypes != got.EventTypes || after.Description != got.Description {
		t.Errorf("refused updates changed the endpoint: %+v", after)
	}
}

func ptr[T any](v T) *T { return &v }

func testDelete(t *testing.T, w *testkit.World) {
	svc := w.Services().Webhooks
	e, _ := register(t, svc, "ada", "https://a.example.com/h")
	other, _ := register(t, svc, "ben", "https://b.example.com/h")
	pending := insertDelivery(t, w.DB, e.ID, models.DeliveryPending, "{}")
	delivered := insertDelivery(t, w.DB, e.ID, models.DeliveryDelivered, "{}")
	othersPending := insertDelivery(t, w.DB, other.ID, models.DeliveryPending, "{}")
	if err := svc.Delete(testkit.As("ada"), e.ID); err != nil {
		t.Fatal(err)
	}
	var n int64
	w.DB.Model(&models.WebhookEndpoint{}).Where("id = ?", e.ID).Count(&n)
	if n != 0 {
		t.Errorf("endpoint still stored")
	}
	if d := deliveryRow(t, w.DB, pending.ID); d.Status != models.DeliveryFailed || d.LastError == "" || d.LeasedUntil != nil {
		t.Errorf("pending delivery after delete: %s %q", d.Status, d.LastError)
	}
	if d := deliveryRow(t, w.DB, delivered.ID); d.Status != models.DeliveryDelivered {
		t.Errorf("delivered delivery became %s", d.Status)
	}
	if d := deliveryRow(t, w.DB, othersPending.ID); d.Status != models.DeliveryPending {
		t.Errorf("another endpoint's delivery became %s", d.Status)
	}
	wantCode(t, svc.Delete(testkit.As("ada"), e.ID), apperr.NotFound, "")
	_, err := svc.Get(testkit.As("ada"), e.ID)
	wantCode(t, err, apperr.NotFound, "")
}

func testDeliveries(t *testing.T, w *testkit.World) {
	svc := w.Services().Webhooks
	e, _ := register(t, svc, "ada", "https://a.example.com/h")
	fabrikams, _ := register(t, svc, "fiona", "https://f.example.com/h")
	approvals, _ := register(t, svc, "ada", "https://a.example.com/approvals", models.NotifyApproved)
	claim := testkit.SubmitFreshClaim(t, w, "ada", "whdeliveries1")

	page, err := svc.Deliveries(testkit.As("ada"), e.ID, relay.Args{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 {
		t.Fatalf("%d deliveries, want 1", len(page.Items))
	}
	d := page.Items[0]
	if d.Channel != models.ChannelWebhook || d.Recipient != e.ID.String() || d.Status != models.DeliveryPending ||
		!strings.Contains(d.Payload, claim.String()) || len(d.Attempts) != 0 {
		t.Errorf("delivery %+v", d)
	}
	for _, other := range []uuid.UUID{fabrikams.ID, approvals.ID} {
		p, err := svc.Deliveries(testkit.As("oscar"), other, relay.Args{})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) != 0 {
			t.Errorf("endpoint %s received %d deliveries of a Contoso submission", other, len(p.Items))
		}
	}

	// Attempts come with their delivery, oldest first.
	start := time.Now().UTC().Truncate(time.Microsecond)
	code := 503
	for i, a := range []models.DeliveryAttempt{
		{DeliveryID: d.ID, AttemptedAt: start, LatencyMs: 12, StatusCode: &code, Error: "the receiver answered 503"},
		{DeliveryID: d.ID, AttemptedAt: start.Add(time.Minute), LatencyMs: 3000, Error: "timeout"},
	} {
		if err := w.DB.Create(&a).Error; err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	page, err = svc.Deliveries(testkit.As("ben"), e.ID, relay.Args{})
	if err != nil {
		t.Fatal(err)
	}
	as := page.Items[0].Attempts
	if len(as) != 2 || as[0].StatusCode == nil || *as[0].StatusCode != 503 || as[1].StatusCode != nil || as[1].Error != "timeout" {
		t.Fatalf("attempts %+v", as)
	}

	_, err = svc.Deliveries(testkit.As("fiona"), e.ID, relay.Args{})
	wantCode(t, err, apperr.NotFound, "")

	// Paging, newest first.
	testkit.SubmitFreshClaim(t, w, "ben", "whdeliveries2")
	testkit.SubmitFreshClaim(t, w, "ada", "whdeliveries3")
	two := 2
	first, err := svc.Deliveries(testkit.As("ada"), e.ID, relay.Args{First: &two})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Items) != 2 || !first.PageInfo.HasNextPage || first.PageInfo.EndCursor == nil {
		t.Fatalf("first page: %d items, %+v", len(first.Items), first.PageInfo)
	}
	second, err := svc.Deliveries(testkit.As("ada"), e.ID, relay.Args{First: &two, After: first.PageInfo.EndCursor})
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Items) != 1 || second.PageInfo.HasNextPage {
		t.Fatalf("second page: %d items, %+v", len(second.Items), second.PageInfo)
	}
	all := append(first.Items, second.Items...)
	if all[2].ID != d.ID || len(all[2].Attempts) != 2 {
		t.Errorf("the oldest delivery is not last with its attempts")
	}
	for i := 1; i < len(all); i++ {
		if all[i].CreatedAt.After(all[i-1].CreatedAt) || all[i].ID == all[i-1].ID {
			t.Errorf("deliveries not newest first: %v then %v", all[i-1].CreatedAt, all[i].CreatedAt)
		}
	}
}

func testRedeliver(t *testing.T, w *testkit.World) {
	clock := newClock()
	clock.Advance(3 * time.Hour)
	svc := webhooks.New(w.DB, webhooks.URLPolicy{}, 0, clock.Now)
	e, _ := register(t, svc, "ada", "https://a.example.com/h")
	testkit.SubmitFreshClaim(t, w, "ada", "whredeliver")
	ds := webhookDeliveries(t, w.DB, e.ID)
	if len(ds) != 1 {
		t.Fatalf("%d deliveries, want 1", len(ds))
	}
	id := ds[0].ID
	old := ds[0].CreatedAt.Add(-time.Hour)
	if err := w.DB.Model(&models.Delivery{}).Where("id = ?", id).Updates(map[string]any{
		"status": models.DeliveryFailed, "attempts": 7, "last_error": "the receiver answered 500 Internal Server Error",
		"next_attempt_at": old, "give_up_at": old,
	}).Error; err != nil {
		t.Fatal(err)
	}

	for _, who := range []string{"fiona", "carl", "rita"} {
		_, err := svc.Redeliver(testkit.As(who), id)
		wantCode(t, err, apperr.NotFound, "")
	}
	_, err := svc.Redeliver(testkit.As("ada"), uuid.New())
	wantCode(t, err, apperr.NotFound, "")
	if d := deliveryRow(t, w.DB, id); d.Status != models.DeliveryFailed || d.Attempts != 7 {
		t.Fatalf("refused redeliveries changed it: %s, %d attempts", d.Status, d.Attempts)
	}

	got, err := svc.Redeliver(testkit.As("ben"), id)
	if err != nil {
		t.Fatal(err)
	}
	now := clock.Now()
	for name, d := range map[string]models.Delivery{"returned": *got, "stored": deliveryRow(t, w.DB, id)} {
		if d.ID != id || d.Status != models.DeliveryPending || d.Attempts != 0 || d.LastError != "" || d.LeasedUntil != nil || d.DeliveredAt != nil {
			t.Errorf("%s: %+v", name, d)
		}
		if !sameTime(d.GiveUpAt, now.Add(24*time.Hour)) || !sameTime(d.NextAttemptAt, now) {
			t.Errorf("%s: next %v give up %v, want %v and a day later", name, d.NextAttemptAt, d.GiveUpAt, now)
		}
	}
	if _, err := svc.Redeliver(testkit.As("oscar"), id); err != nil {
		t.Errorf("operator redeliver: %v", err)
	}

	// Only webhook deliveries: an e-mail with the same recipient is not one.
	mail := insertDelivery(t, w.DB, e.ID, models.DeliveryFailed, "")
	if err := w.DB.Model(&models.Delivery{}).Where("id = ?", mail.ID).Update("channel", models.ChannelEmail).Error; err != nil {
		t.Fatal(err)
	}
	_, err = svc.Redeliver(testkit.As("ada"), mail.ID)
	wantCode(t, err, apperr.NotFound, "")

	// A deleted endpoint's deliveries are no longer anyone's.
	if err := svc.Delete(testkit.As("ada"), e.ID); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Redeliver(testkit.As("oscar"), id)
	wantCode(t, err, apperr.NotFound, "")
}
