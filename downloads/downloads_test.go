package downloads_test

import (
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/auth"
	"cpor/downloads"
	"cpor/testkit/fakeclock"
)

var secret = []byte("download-secret-of-at-least-32-bytes!!")

var ada = &auth.Identity{
	UserID: "ada@contoso.example", Name: "Ada", Email: "ada@contoso.example",
	OrganizationID: uuid.MustParse("11111111-1111-1111-1111-111111111111"),
	Roles:          []auth.Role{auth.IncentivesAdmin, auth.GlobalAdmin},
}

func newSigner(t testing.TB) (*downloads.Signer, *fakeclock.Clock) {
	t.Helper()
	clock := fakeclock.At(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	s, err := downloads.New(secret, downloads.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return s, clock
}

func sign(t testing.TB, s *downloads.Signer, doc uuid.UUID, id *auth.Identity) url.Values {
	t.Helper()
	raw, err := s.Sign(doc, id)
	if err != nil {
		t.Fatal(err)
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func refused(t *testing.T, err error) {
	t.Helper()
	if apperr.CodeOf(err) != apperr.Unauthenticated {
		t.Fatalf("want UNAUTHENTICATED, got %v", err)
	}
}

func TestSignedLinkCarriesTheViewer(t *testing.T) {
	s, clock := newSigner(t)
	doc := uuid.New()
	q := sign(t, s, doc, ada)
	got, err := s.Verify(doc, q)
	if err != nil {
		t.Fatal(err)
	}
	if got.UserID != ada.UserID || got.OrganizationID != ada.OrganizationID || got.TenantID != uuid.Nil ||
		!slices.Equal(got.Roles, []auth.Role{auth.GlobalAdmin, auth.IncentivesAdmin}) {
		t.Fatalf("identity %+v", got)
	}
	if want := clock.Now().Add(downloads.DefaultLifetime); !got.ExpiresAt.Equal(want) {
		t.Fatalf("expires at %v, want %v", got.ExpiresAt, want)
	}
	// Roles in another order sign the same viewer.
	other := *ada
	other.Roles = []auth.Role{auth.GlobalAdmin, auth.IncentivesAdmin}
	if q2 := sign(t, s, doc, &other); q2.Get("user") != q.Get("user") || q2.Get("sig") != q.Get("sig") {
		t.Fatal("the viewer key depends on the order of roles")
	}
}

func TestSignedLinkExpires(t *testing.T) {
	s, clock := newSigner(t)
	doc := uuid.New()
	q := sign(t, s, doc, ada)
	clock.Advance(downloads.DefaultLifetime - time.Second)
	if _, err := s.Verify(doc, q); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	clock.Advance(time.Second)
	_, err := s.Verify(doc, q)
	refused(t, err)

	// A shorter lifetime configured later cuts links already made.
	short, _ := downloads.New(secret, downloads.Options{Now: clock.Now, Lifetime: time.Minute})
	long, _ := downloads.New(secret, downloads.Options{Now: clock.Now, Lifetime: time.Hour})
	_, err = short.Verify(doc, sign(t, long, doc, ada))
	refused(t, err)
}

func TestSignedLinkDiesWithTheToken(t *testing.T) {
	s, clock := newSigner(t)
	doc := uuid.New()
	viewer := *ada
	viewer.ExpiresAt = clock.Now().Add(time.Minute)
	q := sign(t, s, doc, &viewer)
	clock.Advance(time.Minute)
	_, err := s.Verify(doc, q)
	refused(t, err)
}

func TestSignedLinkRefusesTampering(t *testing.T) {
	s, _ := newSigner(t)
	doc := uuid.New()
	good := sign(t, s, doc, ada)
	fiona := &auth.Identity{UserID: "fiona@fabrikam.example", OrganizationID: uuid.New(), Roles: []auth.Role{auth.GlobalAdmin}}
	fionaLink := sign(t, s, doc, fiona)
	cases := map[string]func(q url.Values){
		"expires later":    func(q url.Values) { q.Set("expires", q.Get("expires")+"0") },
		"expires with +":   func(q url.Values) { q.Set("expires", "+"+q.Get("expires")) },
		"another user":     func(q url.Values) { q.Set("user", fionaLink.Get("user")) },
		"another sig":      func(q url.Values) { q.Set("sig", fionaLink.Get("sig")) },
		"flipped sig":      func(q url.Values) { b := []byte(q.Get("sig")); b[3] ^= 1; q.Set("sig", string(b)) },
		"short sig":        func(q url.Values) { q.Set("sig", q.Get("sig")[:20]) },
		"padded sig":       func(q url.Values) { q.Set("sig", q.Get("sig")+"=") },
		"no sig":           func(q url.Values) { q.Del("sig") },
		"no expires":       func(q url.Values) { q.Del("expires") },
		"no user":          func(q url.Values) { q.Del("user") },
		"two sigs":         func(q url.Values) { q.Add("sig", q.Get("sig")) },
		"empty":            func(q url.Values) { clear(q) },
		"user not base64":  func(q url.Values) { q.Set("user", "***") },
		"expires not a no": func(q url.Values) { q.Set("expires", "soon") },
	}
	for name, tamper := range cases {
		t.Run(name, func(t *testing.T) {
			q := url.Values{}
			for k, v := range good {
				q[k] = slices.Clone(v)
			}
			tamper(q)
			_, err := s.Verify(doc, q)
			refused(t, err)
		})
	}
	t.Run("another document", func(t *testing.T) {
		_, err := s.Verify(uuid.New(), good)
		refused(t, err)
	})
	t.Run("another secret", func(t *testing.T) {
		other, _ := downloads.New([]byte("another-secret-of-at-least-32-bytes!!"), downloads.Options{})
		_, err := other.Verify(doc, good)
		refused(t, err)
	})
}

func TestSecrets(t *testing.T) {
	if _, err := downloads.New([]byte("short"), downloads.Options{}); err == nil {
		t.Fatal("a short secret was accepted")
	}
	a, err := downloads.DeriveSecret(secret)
	if err != nil || len(a) != 32 {
		t.Fatalf("derived %d bytes, %v", len(a), err)
	}
	b, _ := downloads.DeriveSecret(secret)
	if string(a) != string(b) || string(a) == string(secret[:32]) {
		t.Fatal("derivation is not a fixed function distinct from its input")
	}
}

// FuzzVerifySignedLink: no query string makes Verify panic, and whatever it
// accepts is a link this signer made for this document.
func FuzzVerifySignedLink(f *testing.F) {
	s, _ := newSigner(f)
	doc := uuid.MustParse("22222222-2222-2222-2222-222222222222")
	raw, _ := s.Sign(doc, ada)
	f.Add(raw)
	f.Add("")
	f.Add("expires=1&user=W10&sig=AAAA")
	f.Add("expires=99999999999999999999&user=WyIiLCIiLCIiLFtdXQ&sig=" + url.QueryEscape("////"))
	f.Add(raw + "&sig=x")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		id, err := s.Verify(doc, q)
		if err != nil {
			if apperr.CodeOf(err) != apperr.Unauthenticated {
				t.Fatalf("refused with %v", err)
			}
			return
		}
		if id.UserID != ada.UserID || id.OrganizationID != ada.OrganizationID {
			t.Fatalf("accepted a link for %+v", id)
		}
	})
}
