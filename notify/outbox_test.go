package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/auth"
	"cpor/demo"
	"cpor/models"
	"cpor/notify"
	"cpor/storage"
	"cpor/testkit"
	"cpor/workflow"
)

// told lists a claim's notifications as audience/kind, in a fixed order.
func told(t *testing.T, w *testkit.World, claim uuid.UUID) []string {
	t.Helper()
	var ns []models.Notification
	if err := w.DB.Where("claim_id = ?", claim).Find(&ns).Error; err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = string(n.Audience) + "/" + string(n.Kind)
	}
	sort.Strings(out)
	return out
}

// deliveriesOf lists a claim's deliveries as channel/recipient.
func deliveriesOf(t *testing.T, w *testkit.World, claim uuid.UUID) []string {
	t.Helper()
	var ds []models.Delivery
	err := w.DB.Where("notification_id IN (SELECT id FROM notifications WHERE claim_id = ?)", claim).Find(&ds).Error
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = string(d.Channel) + "/" + d.Recipient
	}
	sort.Strings(out)
	return out
}

func wantList(t *testing.T, what string, got, want []string) {
	t.Helper()
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got  %v\n want %v", what, got, want)
	}
}

// customerAdmin is an admin of the tenant a fresh claim is on, known to the
// directory.
func customerAdmin(t *testing.T, w *testkit.World, claim uuid.UUID) auth.Identity {
	t.Helper()
	var c models.Claim
	if err := w.DB.Take(&c, "id = ?", claim).Error; err != nil {
		t.Fatal(err)
	}
	id := auth.Identity{UserID: "dana@" + c.CustomerDomain, Name: "Dana", Email: "dana@" + c.CustomerDomain,
		TenantID: c.CustomerTenantID, Roles: []auth.Role{auth.CustomerAdmin}}
	if err := w.Services().People.Remember(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestTransitionsTellWhoTheRulesSay drives a claim through its life and
// checks, after each transition, the notifications and e-mails its
// transaction wrote. The demo directory: Ada (acting) and Ben (in-app only)
// of Contoso, Rita the reviewer and Oscar the operator by e-mail at once,
// Fiona of Fabrikam on the daily digest, Chloe of Northwind.
func TestTransitionsTellWhoTheRulesSay(t *testing.T) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		claim := testkit.SubmitFreshClaim(t, w, "ada", "notify-rules")
		wantList(t, "told on submit", told(t, w, claim),
			[]string{"CUSTOMER_ADMINS/CLAIM_SUBMITTED", "PARTNER_ADMINS/CLAIM_SUBMITTED", "REVIEWERS/CLAIM_SUBMITTED"})
		// Ada submitted (not e-mailed about her own act), Ben is in-app only;
		// the new tenant has no admin known yet.
		wantList(t, "e-mailed on submit", deliveriesOf(t, w, claim), []string{"EMAIL/rita@microsoft.example"})
		dana := customerAdmin(t, w, claim)

		steps := []struct {
			name string
			fire func() error
			told []string
			mail []string
		}{
			{"start review", func() error {
				_, err := w.Workflow.StartReview(testkit.As("rita"), workflow.Request{ClaimID: claim})
				return err
			}, []string{"PARTNER_ADMINS/CLAIM_STATUS_CHANGED"}, []string{"EMAIL/ada@contoso.example"}},
			{"request information", func() error {
				_, err := w.Workflow.RequestInformation(testkit.As("rita"), workflow.Request{ClaimID: claim, Reason: "Send the signed SOW."})
				return err
			}, []string{"PARTNER_ADMINS/INFORMATION_REQUESTED"}, []string{"EMAIL/ada@contoso.example"}},
			{"answer", func() error {
				_, err := w.Workflow.Respond(testkit.As("ben"), workflow.Request{ClaimID: claim, Reason: "Attached."})
				return err
			}, []string{"PARTNER_ADMINS/CLAIM_STATUS_CHANGED", "REVIEWERS/PARTNER_RESPONDED"},
				[]string{"EMAIL/ada@contoso.example", "EMAIL/rita@microsoft.example"}},
			{"approve", func() error {
				_, err := w.Workflow.Approve(testkit.As("rita"), workflow.Request{ClaimID: claim})
				return err
			}, []string{"PARTNER_ADMINS/CLAIM_APPROVED", "CUSTOMER_ADMINS/CLAIM_APPROVED"},
				[]string{"EMAIL/ada@contoso.example", "EMAIL/" + dana.UserID}},
		}
		before, mailedBefore := told(t, w, claim), deliveriesOf(t, w, claim)
		for _, s := range steps {
			if err := s.fire(); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			now, mailed := told(t, w, claim), deliveriesOf(t, w, claim)
			wantList(t, s.name+": told", added(before, now), s.told)
			wantList(t, s.name+": e-mailed", added(mailedBefore, mailed), s.mail)
			before, mailedBefore = now, mailed
		}
	})
}

// added is what after has beyond before (both sorted multisets).
func added(before, after []string) []string {
	rest := slices.Clone(before)
	var out []string
	for _, s := range after {
		if i := slices.Index(rest, s); i >= 0 {
			rest = slices.Delete(rest, i, i+1)
			continue
		}
		out = append(out, s)
	}
	return out
}

// failingNotifier writes the outbox, then fails: the rest of the
// transition's transaction fails after the notifications were written.
type failingNotifier struct{ inner workflow.Notifier }

var errAfterOutbox = errors.New("a failure after the outbox was written")

func (f failingNotifier) Record(tx *storage.Tx, causes []notify.Cause) error {
	if err := f.inner.Record(tx, causes); err != nil {
		return err
	}
	return errAfterOutbox
}

// TestARolledBackTransitionNotifiesNoOne: the outbox rows go with the
// transaction, so a change that fails leaves neither notification nor
// delivery (nor NOTIFY: the live feed hears nothing).
func TestARolledBackTransitionNotifiesNoOne(t *testing.T) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		claim := testkit.SubmitFreshClaim(t, w, "ada", "notify-rollback")
		toldBefore, mailedBefore := told(t, w, claim), deliveriesOf(t, w, claim)
		feed, err := w.Services().Feed.Subscribe(ctxFor(t, "ada"), ptr(testkit.Identity("ada")))
		if err != nil {
			t.Fatal(err)
		}
		w.Workflow.NotifyWith(failingNotifier{w.Services().Notices})
		_, err = w.Workflow.StartReview(testkit.As("rita"), workflow.Request{ClaimID: claim})
		w.Workflow.NotifyWith(w.Services().Notices)
		if !errors.Is(err, errAfterOutbox) {
			t.Fatalf("start review: %v, want the notifier's failure", err)
		}
		var c models.Claim
		if err := w.DB.Take(&c, "id = ?", claim).Error; err != nil || c.Status != models.Submitted {
			t.Fatalf("claim is %s (%v) after a rolled-back review start", c.Status, err)
		}
		wantList(t, "notifications after rollback", told(t, w, claim), toldBefore)
		wantList(t, "deliveries after rollback", deliveriesOf(t, w, claim), mailedBefore)
		// The same transition, committed, is told at once.
		if _, err := w.Workflow.StartReview(testkit.As("rita"), workflow.Request{ClaimID: claim}); err != nil {
			t.Fatal(err)
		}
		// The submission's own notification may arrive first (on PostgreSQL
		// NOTIFY comes a moment after the commit); nothing else may.
		for deadline := time.After(20 * time.Second); ; {
			select {
			case n := <-feed:
				if n.Kind == models.NotifySubmitted && *n.ClaimID == claim {
					continue
				}
				if n.Kind != models.NotifyStatusChanged || *n.ClaimID != claim {
					t.Fatalf("live feed gave %s on %v; the rolled-back start must give nothing", n.Kind, n.ClaimID)
				}
			case <-deadline:
				t.Fatal("the committed transition's notification never reached the live feed")
			}
			break
		}
	})
}

func ptr[T any](v T) *T { return &v }

func ctxFor(t *testing.T, handle string) context.Context {
	ctx, cancel := context.WithCancel(testkit.As(handle))
	t.Cleanup(cancel)
	return ctx
}

// TestInbox: each person sees their audiences' notifications, unread
// first, pages through them and marks them read.
func TestInbox(t *testing.T) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		inbox := w.Services().Inbox
		// The demo's own history put notifications in every demo inbox.
		for _, h := range []string{"ada", "ben", "fiona", "rita", "oscar", "chloe"} {
			if n, err := inbox.UnreadCount(testkit.As(h)); err != nil || n == 0 {
				t.Errorf("%s has %d unread demo notifications (%v); the demo should fill every inbox", h, n, err)
			}
		}
		if _, err := inbox.UnreadCount(testkit.As("carl")); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("carl (no admin role) reads an inbox: %v", err)
		}
		if _, err := inbox.UnreadCount(context.Background()); !apperr.Is(err, apperr.Unauthenticated) {
			t.Errorf("anonymous reads an inbox: %v", err)
		}

		ada := testkit.As("ada")
		if _, err := inbox.MarkRead(ada, nil, true); err != nil {
			t.Fatal(err)
		}
		claim := testkit.SubmitFreshClaim(t, w, "ada", "notify-inbox")
		if _, err := w.Workflow.StartReview(testkit.As("rita"), workflow.Request{ClaimID: claim}); err != nil {
			t.Fatal(err)
		}
		if n, _ := inbox.UnreadCount(ada); n != 2 {
			t.Fatalf("ada has %d unread after submit and review start, want 2", n)
		}
		first, err := inbox.List(ada, 1, nil)
		if err != nil || len(first.Items) != 1 || !first.HasNextPage {
			t.Fatalf("first page: %+v, %v", first, err)
		}
		if first.Items[0].Kind != models.NotifyStatusChanged || first.Items[0].ReadAt != nil {
			t.Errorf("newest unread first: got %s read %v", first.Items[0].Kind, first.Items[0].ReadAt)
		}
		// Marking the newest read moves it after the other unread one.
		if n, err := inbox.MarkRead(ada, []uuid.UUID{first.Items[0].ID}, false); err != nil || n != 1 {
			t.Fatalf("mark read: %d, %v", n, err)
		}
		if n, err := inbox.MarkRead(ada, []uuid.UUID{first.Items[0].ID}, false); err != nil || n != 0 {
			t.Errorf("marking again: %d, %v; want 0 and no error", n, err)
		}
		page, err := inbox.List(ada, 2, nil)
		if err != nil || len(page.Items) != 2 {
			t.Fatalf("page: %+v, %v", page, err)
		}
		if page.Items[0].Kind != models.NotifySubmitted || page.Items[0].ReadAt != nil || page.Items[1].ReadAt == nil {
			t.Errorf("unread first: got %s (read %v), %s (read %v)", page.Items[0].Kind, page.Items[0].ReadAt, page.Items[1].Kind, page.Items[1].ReadAt)
		}
		// Walking page by page gives every notification once.
		seen := map[uuid.UUID]bool{}
		var after *string
		for {
			p, err := inbox.List(ada, 7, after)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range p.Items {
				if seen[it.ID] {
					t.Fatalf("notification %s twice while paging", it.ID)
				}
				seen[it.ID] = true
			}
			if !p.HasNextPage {
				break
			}
			after = &p.Items[len(p.Items)-1].Cursor
		}
		var total int64
		w.DB.Model(&models.Notification{}).Where("audience = ? AND audience_id = ?", models.AudiencePartnerAdmins, demo.Contoso).Count(&total)
		if int64(len(seen)) != total {
			t.Errorf("paged through %d notifications, Contoso's admins have %d", len(seen), total)
		}

		// Another organisation's notification is not in Fiona's inbox, and
		// she cannot mark it.
		if _, err := inbox.MarkRead(testkit.As("fiona"), []uuid.UUID{first.Items[0].ID}, false); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("fiona marks Contoso's notification: %v, want NOT_FOUND", err)
		}
		for _, bad := range []struct {
			ids []uuid.UUID
			all bool
		}{{nil, false}, {[]uuid.UUID{first.Items[0].ID}, true}, {make([]uuid.UUID, notify.MaxMarked+1), false}} {
			if _, err := inbox.MarkRead(ada, bad.ids, bad.all); !apperr.Is(err, apperr.InvalidInput) {
				t.Errorf("mark %d ids, all=%v: %v, want INVALID_INPUT", len(bad.ids), bad.all, err)
			}
		}
		for _, cursor := range []string{"nope", "", first.Items[0].Cursor + "x"} {
			if _, err := inbox.List(ada, 5, &cursor); !apperr.Is(err, apperr.InvalidInput) {
				t.Errorf("cursor %q: %v, want INVALID_INPUT", cursor, err)
			}
		}
		if _, err := inbox.List(ada, 101, nil); !apperr.Is(err, apperr.InvalidInput) {
			t.Errorf("first: 101: %v, want INVALID_INPUT", err)
		}
	})
}

// TestWebhookDeliveriesFollowTheirEndpoints: an event of Contoso's claim
// is sent to Contoso's endpoints that chose its kind and to operators'
// endpoints, never to another organisation's or a disabled one, with a
// body that names only Contoso's claim.
func TestWebhookDeliveriesFollowTheirEndpoints(t *testing.T) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		now := time.Now()
		endpoint := func(org *uuid.UUID, kinds string, disabled bool) uuid.UUID {
			e := models.WebhookEndpoint{ID: uuid.New(), OrganizationID: org, URL: "https://hooks.example/" + kinds,
				EventTypes: kinds, Secret: "whsec_x", CreatedBy: "test", CreatedAt: now, UpdatedAt: now}
			if disabled {
				e.DisabledAt = &now
			}
			if err := w.DB.Create(&e).Error; err != nil {
				t.Fatal(err)
			}
			return e.ID
		}
		contoso, fabrikam := demo.Contoso, demo.Fabrikam
		all := endpoint(&contoso, ",CLAIM_SUBMITTED,CLAIM_STATUS_CHANGED,", false)
		decisionsOnly := endpoint(&contoso, ",CLAIM_APPROVED,", false)
		endpoint(&fabrikam, ",CLAIM_SUBMITTED,", false)
		endpoint(&contoso, ",CLAIM_SUBMITTED,", true)
		operator := endpoint(nil, ",CLAIM_SUBMITTED,", false)

		claim := testkit.SubmitFreshClaim(t, w, "ada", "notify-webhooks")
		var ds []models.Delivery
		if err := w.DB.Where("channel = ? AND notification_id IN (SELECT id FROM notifications WHERE claim_id = ?)", models.ChannelWebhook, claim).
			Order("recipient").Find(&ds).Error; err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range ds {
			got = append(got, d.Recipient)
			var body notify.WebhookPayload
			if err := json.Unmarshal([]byte(d.Payload), &body); err != nil {
				t.Fatalf("payload %q: %v", d.Payload, err)
			}
			if body.Type != "claim.submitted" || d.Address != "claim.submitted" || body.Data.Claim.ID != claim ||
				body.Data.Claim.OrganizationID != contoso || body.Data.Claim.Status != models.Submitted {
				t.Errorf("delivery to %s: %s", d.Recipient, d.Payload)
			}
			if d.GiveUpAt.Sub(d.CreatedAt) != 24*time.Hour {
				t.Errorf("retry window %s, want 24h", d.GiveUpAt.Sub(d.CreatedAt))
			}
		}
		wantList(t, "endpoints sent the submission", got, []string{all.String(), operator.String()})
		_ = decisionsOnly
	})
}

// TestDailyDigest: a person on the digest gets one e-mail a day with what
// reached their inbox since the last one and is still unread; nothing when
// nothing is new, and never twice the same day.
func TestDailyDigest(t *testing.T) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		ctx := context.Background()
		digests, err := notify.NewDigests(7, 0)
		if err != nil {
			t.Fatal(err)
		}
		sched := newScheduler(t, w, digests)
		if err := digests.Ensure(ctx, w.DB, w.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		// Fiona chose the digest when the demo loaded; her organisation's
		// claim now moves twice, and she reads one of the notifications.
		claim := testkit.SubmitFreshClaim(t, w, "fiona", "notify-digest")
		if _, err := w.Workflow.StartReview(testkit.As("rita"), workflow.Request{ClaimID: claim}); err != nil {
			t.Fatal(err)
		}
		fiona := testkit.As("fiona")
		page, err := w.Services().Inbox.List(fiona, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Services().Inbox.MarkRead(fiona, []uuid.UUID{page.Items[0].ID}, false); err != nil {
			t.Fatal(err)
		}
		if immediate := deliveriesOf(t, w, claim); slices.Contains(immediate, "EMAIL/fiona@fabrikam.example") {
			t.Errorf("fiona, on the digest, was e-mailed at once: %v", immediate)
		}

		w.Clock.Advance(25 * time.Hour)
		runDue(t, sched)
		digestsOf := func() []models.Delivery {
			var ds []models.Delivery
			w.DB.Where("channel = ? AND notification_id IS NULL AND recipient = ?", models.ChannelEmail, "fiona@fabrikam.example").Find(&ds)
			return ds
		}
		ds := digestsOf()
		if len(ds) != 1 {
			t.Fatalf("%d digests for fiona after a day, want 1", len(ds))
		}
		var body struct {
			Name          string `json:"name"`
			Notifications []struct {
				ID    uuid.UUID `json:"id"`
				Title string    `json:"title"`
			} `json:"notifications"`
		}
		if err := json.Unmarshal([]byte(ds[0].Payload), &body); err != nil {
			t.Fatal(err)
		}
		if body.Name != "Fiona Walsh" || ds[0].Address != "fiona@fabrikam.example" {
			t.Errorf("digest to %q greets %q", ds[0].Address, body.Name)
		}
		var ids []uuid.UUID
		for _, n := range body.Notifications {
			ids = append(ids, n.ID)
		}
		if slices.Contains(ids, page.Items[0].ID) {
			t.Errorf("the digest lists a notification fiona had read")
		}
		var unread int64
		w.DB.Model(&models.Notification{}).Where("claim_id = ? AND audience = ?", claim, models.AudiencePartnerAdmins).Count(&unread)
		if int64(len(ids)) != unread-1 {
			t.Errorf("digest lists %d notifications, want the %d unread", len(ids), unread-1)
		}

		// The same day again: nothing new is sent.
		w.Clock.Advance(2 * time.Hour)
		runDue(t, sched)
		if n := len(digestsOf()); n != 1 {
			t.Errorf("%d digests after a second run the same day, want 1", n)
		}
		// The next day with nothing new: no empty digest.
		w.Clock.Advance(24 * time.Hour)
		runDue(t, sched)
		if n := len(digestsOf()); n != 1 {
			t.Errorf("%d digests after a quiet day, want 1 (no empty digest)", n)
		}
	})
}

// TestPreferences: a person's choice is kept across what their token says,
// and the directory learns people in the background.
func TestPreferences(t *testing.T) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		people := w.Services().People
		ben := testkit.As("ben")
		if p, err := people.Preference(ben); err != nil || p != models.PreferInAppOnly {
			t.Fatalf("ben's preference %s, %v; the demo set IN_APP_ONLY", p, err)
		}
		if _, err := people.SetPreference(ben, "LOUDLY"); !apperr.Is(err, apperr.InvalidInput) {
			t.Errorf("an unknown preference: %v", err)
		}
		if _, err := people.SetPreference(testkit.As("carl"), models.PreferEmailImmediate); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("carl sets a preference: %v", err)
		}
		// A new person is learnt from a request, with e-mail at once by
		// default, in the background.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go people.Run(ctx)
		newcomer := auth.Identity{UserID: "nia@contoso.example", Name: "Nia", Email: "nia@contoso.example",
			OrganizationID: demo.Contoso, Roles: []auth.Role{auth.GlobalAdmin}}
		people.Saw(&newcomer)
		deadline := time.Now().Add(10 * time.Second)
		var r models.NotificationRecipient
		for w.DB.Take(&r, "user_id = ?", newcomer.UserID).Error != nil {
			if time.Now().After(deadline) {
				t.Fatal("the directory never learnt a person it saw")
			}
			time.Sleep(10 * time.Millisecond)
		}
		if r.Email != newcomer.Email || r.OrganizationID == nil || *r.OrganizationID != demo.Contoso || r.Preference != models.PreferEmailImmediate {
			t.Errorf("learnt %+v", r)
		}
		claim := testkit.SubmitFreshClaim(t, w, "ada", "notify-newcomer")
		if got := deliveriesOf(t, w, claim); !slices.Contains(got, "EMAIL/nia@contoso.example") {
			t.Errorf("the newcomer was not e-mailed of the submission: %v", got)
		}
	})
}

// TestLiveFeedEndsWithTheToken: a notificationAdded subscription ends when
// its token expires, not when the next notification happens to come.
func TestLiveFeedEndsWithTheToken(t *testing.T) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		id := testkit.Identity("ada")
		id.ExpiresAt = time.Now().Add(200 * time.Millisecond)
		feed, err := w.Services().Feed.Subscribe(ctxFor(t, "ada"), &id)
		if err != nil {
			t.Fatal(err)
		}
		select {
		case _, open := <-feed:
			if open {
				t.Fatal("a notification arrived on an expiring feed with nothing written")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the feed outlived its token")
		}
		if n := w.Services().Feed.Subscribers(); n != 0 {
			t.Errorf("%d subscribers left after the token expired", n)
		}
	})
}
