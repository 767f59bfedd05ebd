package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/auth"
	"cpor/models"
)

var (
	secret   = []byte("0123456789abcdef0123456789abcdef-auth-test")
	orgID    = uuid.MustParse("0b6d3f2e-1c1a-4c55-9a51-000000000a01")
	tenantID = uuid.MustParse("7f3c2a10-5b8e-4d21-9c3a-000000000001")
)

// payload is a token body; tests change it per case.
type payload map[string]any

func validPayload() payload {
	now := time.Now()
	return payload{
		"sub":   "ada@contoso.example",
		"name":  "Ada Lovelace",
		"email": "ada@contoso.example",
		"iss":   "cpor",
		"iat":   now.Unix(),
		"exp":   now.Add(time.Hour).Unix(),
		"org":   orgID.String(),
		"tid":   tenantID.String(),
		"roles": []string{"global_admin", "Reviewer"},
	}
}

func (p payload) with(kv ...any) payload {
	out := payload{}
	for k, v := range p {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

func sign(t testing.TB, method jwt.SigningMethod, key any, p payload, kid string) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, jwt.MapClaims(p))
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

func hs256(t testing.TB, p payload) string { return sign(t, jwt.SigningMethodHS256, secret, p, "") }

func newVerifier(t testing.TB, cfg auth.VerifierConfig) *auth.Verifier {
	t.Helper()
	v, err := auth.NewVerifier(context.Background(), cfg)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

// wantUnauthenticated fails unless err is UNAUTHENTICATED and its message
// contains want.
func wantUnauthenticated(t *testing.T, err error, want string) {
	t.Helper()
	var e *apperr.Error
	if !errors.As(err, &e) || e.Code != apperr.Unauthenticated {
		t.Fatalf("error = %v; want UNAUTHENTICATED", err)
	}
	if !strings.Contains(e.Message, want) {
		t.Fatalf("message %q does not contain %q", e.Message, want)
	}
}

func rsaKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestVerifyHS256(t *testing.T) {
	v := newVerifier(t, auth.VerifierConfig{HS256Secret: secret, Issuer: "cpor"})
	p := validPayload()
	id, err := v.Verify(hs256(t, p))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if id.UserID != "ada@contoso.example" || id.Name != "Ada Lovelace" || id.Email != "ada@contoso.example" {
		t.Errorf("user = %+v", id)
	}
	if id.OrganizationID != orgID || id.TenantID != tenantID {
		t.Errorf("org, tenant = %v, %v", id.OrganizationID, id.TenantID)
	}
	if len(id.Roles) != 2 || id.Roles[0] != auth.GlobalAdmin || id.Roles[1] != auth.Reviewer {
		t.Errorf("roles = %v; want upper-cased GLOBAL_ADMIN, REVIEWER", id.Roles)
	}
	if want := time.Unix(p["exp"].(int64), 0); !id.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v; want %v", id.ExpiresAt, want)
	}

	// Without org and tid the identity has none.
	id, err = v.Verify(hs256(t, p.with("org", nil, "tid", nil, "roles", []string{"REVIEWER"})))
	if err != nil {
		t.Fatal(err)
	}
	if id.OrganizationID != uuid.Nil || id.TenantID != uuid.Nil || !id.IsReviewer() || id.IsPartner() {
		t.Errorf("reviewer identity = %+v", id)
	}

	// A token minted by the service itself verifies.
	tok, err := auth.Mint(secret, auth.Identity{UserID: "u1", OrganizationID: orgID, Roles: []auth.Role{auth.BillingAdmin}}, "cpor", "", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	id, err = v.Verify(tok)
	if err != nil || id.UserID != "u1" || id.OrganizationID != orgID || !id.Has(auth.BillingAdmin) {
		t.Fatalf("minted token = %+v, %v", id, err)
	}
}

func TestVerifyRefusals(t *testing.T) {
	now := time.Now()
	key := rsaKey(t)
	p := validPayload()
	cases := []struct {
		name  string
		token string
		want  string // part of the message
	}{
		{"expired", hs256(t, p.with("exp", now.Add(-time.Hour).Unix())), "expired"},
		{"expired beyond the leeway", hs256(t, p.with("exp", now.Add(-2*time.Minute).Unix())), "expired"},
		{"no expiry", hs256(t, p.with("exp", nil)), "could not be verified"},
		{"not valid yet", hs256(t, p.with("nbf", now.Add(time.Hour).Unix())), "could not be verified"},
		{"issued in the future", hs256(t, p.with("iat", now.Add(time.Hour).Unix())), "could not be verified"},
		{"exp not a number", hs256(t, p.with("exp", "tomorrow")), "exp must be a number"},
		{"wrong secret", sign(t, jwt.SigningMethodHS256, []byte("another-secret-that-is-32-bytes-long!!"), p, ""), "could not be verified"},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, p, ""), "could not be verified"},
		{"HS512 with the right secret", sign(t, jwt.SigningMethodHS512, secret, p, ""), "could not be verified"},
		{"RS256 to an HS256 verifier", sign(t, jwt.SigningMethodRS256, key, p, "k1"), "could not be verified"},
		{"wrong issuer", hs256(t, p.with("iss", "evil")), "could not be verified"},
		{"no issuer", hs256(t, p.with("iss", nil)), "could not be verified"},
		{"no subject", hs256(t, p.with("sub", nil)), "names no user"},
		{"empty subject", hs256(t, p.with("sub", "")), "names no user"},
		{"org not a GUID", hs256(t, p.with("org", "contoso")), "organisation (org) is not a GUID"},
		{"tid not a GUID", hs256(t, p.with("tid", "northwind.onmicrosoft.com")), "tenant (tid) is not a GUID"},
		{"not a JWT", "not-a-token", "not a JWT"},
		{"two parts", "abc.def", "not a JWT"},
		{"empty", "", "not a JWT"},
		{"payload tampered", tamper(t, hs256(t, p)), "could not be verified"},
	}
	v := newVerifier(t, auth.VerifierConfig{HS256Secret: secret, Issuer: "cpor"})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, err := v.Verify(c.token)
			if id != nil {
				t.Fatalf("Verify accepted the token: %+v", id)
			}
			wantUnauthenticated(t, err, c.want)
		})
	}

	// Expiry within the 30 s leeway is still accepted (clock skew).
	if _, err := v.Verify(hs256(t, p.with("exp", now.Add(-10*time.Second).Unix()))); err != nil {
		t.Errorf("a token expired 10 s ago was refused: %v", err)
	}
}

// TestDateClaimsMustBeNumbers: exp, nbf and iat are JSON numbers (RFC 7519
// NumericDate). golang-jwt alone would read "exp": "1999999999" as a date;
// such a token is refused, as is any other kind of value, while nbf and iat
// may be left out.
func TestDateClaimsMustBeNumbers(t *testing.T) {
	now := time.Now()
	valid := map[string]int64{
		"exp": now.Add(time.Hour).Unix(),
		"nbf": now.Add(-time.Minute).Unix(),
		"iat": now.Add(-time.Minute).Unix(),
	}
	v := newVerifier(t, auth.VerifierConfig{HS256Secret: secret, Issuer: "cpor"})
	for _, claim := range []string{"exp", "nbf", "iat"} {
		seconds := valid[claim]
		accepted := map[string]any{
			"an integer":  seconds,
			"a fraction":  float64(seconds) + 0.5,
			"an exponent": json.Number(strconv.FormatFloat(float64(seconds), 'e', -1, 64)),
		}
		refused := map[string]any{
			"a string of digits": strconv.FormatInt(seconds, 10),
			"a date string":      now.Add(time.Hour).Format(time.RFC3339),
			"true":               true,
			"false":              false,
			"an object":          map[string]any{"seconds": seconds},
			"an array":           []int64{seconds},
			"null":               json.RawMessage("null"),
		}
		for name, value := range accepted {
			t.Run(claim+" as "+name, func(t *testing.T) {
				if _, err := v.Verify(hs256(t, validPayload().with(claim, value))); err != nil {
					t.Fatalf("refused: %v", err)
				}
			})
		}
		for name, value := range refused {
			t.Run(claim+" as "+name, func(t *testing.T) {
				id, err := v.Verify(hs256(t, validPayload().with(claim, value)))
				if id != nil {
					t.Fatalf("accepted: %+v", id)
				}
				wantUnauthenticated(t, err, "The token's "+claim+" must be a number")
			})
		}
	}
	t.Run("without nbf and iat", func(t *testing.T) {
		if _, err := v.Verify(hs256(t, validPayload().with("nbf", nil, "iat", nil))); err != nil {
			t.Fatalf("refused: %v", err)
		}
	})
	t.Run("without exp", func(t *testing.T) {
		_, err := v.Verify(hs256(t, validPayload().with("exp", nil)))
		wantUnauthenticated(t, err, "could not be verified")
	})
}

// tamper changes the token's payload (the organisation) and keeps its
// signature.
func tamper(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(raw), orgID.String(), "0b6d3f2e-1c1a-4c55-9a51-000000000b01", 1)
	if changed == string(raw) {
		t.Fatal("nothing to tamper with")
	}
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(changed))
	return strings.Join(parts, ".")
}

func TestVerifyAudience(t *testing.T) {
	v := newVerifier(t, auth.VerifierConfig{HS256Secret: secret, Issuer: "cpor", Audience: "cpor-api"})
	p := validPayload()
	if _, err := v.Verify(hs256(t, p.with("aud", "cpor-api"))); err != nil {
		t.Fatalf("right audience refused: %v", err)
	}
	if _, err := v.Verify(hs256(t, p.with("aud", []string{"other", "cpor-api"}))); err != nil {
		t.Fatalf("audience list with ours refused: %v", err)
	}
	for name, tok := range map[string]string{
		"wrong audience": hs256(t, p.with("aud", "other-api")),
		"no audience":    hs256(t, p),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := v.Verify(tok)
			wantUnauthenticated(t, err, "could not be verified")
		})
	}
	// Without a configured issuer any issuer is accepted.
	open := newVerifier(t, auth.VerifierConfig{HS256Secret: secret})
	if _, err := open.Verify(hs256(t, p.with("iss", "elsewhere"))); err != nil {
		t.Fatalf("issuer checked although none is configured: %v", err)
	}
}

func TestNewVerifierConfig(t *testing.T) {
	for name, cfg := range map[string]auth.VerifierConfig{
		"short secret": {HS256Secret: []byte("0123456789abcdef0123456789abcde")}, // 31 bytes
		"one byte":     {HS256Secret: []byte("x")},
		"nothing":      {},
	} {
		t.Run(name, func(t *testing.T) {
			if v, err := auth.NewVerifier(context.Background(), cfg); err == nil {
				t.Fatalf("NewVerifier accepted %d-byte secret: %v", len(cfg.HS256Secret), v)
			}
		})
	}
	if _, err := auth.NewVerifier(context.Background(), auth.VerifierConfig{HS256Secret: secret[:auth.MinSecretBytes]}); err != nil {
		t.Fatalf("a %d-byte secret was refused: %v", auth.MinSecretBytes, err)
	}
}

// jwksServer serves a JWKS holding the public half of key under kid.
func jwksServer(t *testing.T, key *rsa.PublicKey, kid string) *httptest.Server {
	t.Helper()
	b64 := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	jwks := map[string]any{"keys": []map[string]any{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
		"n": b64(key.N.Bytes()),
		"e": b64(big.NewInt(int64(key.E)).Bytes()),
	}}}
	body, err := json.Marshal(jwks)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestVerifyJWKS(t *testing.T) {
	key := rsaKey(t)
	srv := jwksServer(t, &key.PublicKey, "k1")
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	v, err := auth.NewVerifier(ctx, auth.VerifierConfig{JWKSURL: srv.URL, Issuer: "https://login.example/"})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	p := validPayload().with("iss", "https://login.example/")
	id, err := v.Verify(sign(t, jwt.SigningMethodRS256, key, p, "k1"))
	if err != nil {
		t.Fatalf("RS256 token with the JWKS key refused: %v", err)
	}
	if id.UserID != "ada@contoso.example" || id.OrganizationID != orgID || !id.Has(auth.GlobalAdmin) {
		t.Fatalf("identity = %+v", id)
	}

	// Without a kid the set's keys are tried: the right signature still
	// verifies.
	if _, err := v.Verify(sign(t, jwt.SigningMethodRS256, key, p, "")); err != nil {
		t.Fatalf("RS256 token without kid, signed by the JWKS key, refused: %v", err)
	}

	other := rsaKey(t)
	n := key.PublicKey.N.Bytes()
	cases := map[string]string{
		// The classic confusion: an HS256 token "signed" with the public key.
		"HS256 keyed by the public modulus": sign(t, jwt.SigningMethodHS256, n, p, "k1"),
		"HS256 with a secret":               sign(t, jwt.SigningMethodHS256, secret, p, "k1"),
		"another RSA key, same kid":         sign(t, jwt.SigningMethodRS256, other, p, "k1"),
		"unknown kid":                       sign(t, jwt.SigningMethodRS256, key, p, "k2"),
		"another RSA key, no kid":           sign(t, jwt.SigningMethodRS256, other, p, ""),
		"RS512":                             sign(t, jwt.SigningMethodRS512, key, p, "k1"),
		"alg none":                          sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, p, "k1"),
		"wrong issuer":                      sign(t, jwt.SigningMethodRS256, key, p.with("iss", "cpor"), "k1"),
		"expired":                           sign(t, jwt.SigningMethodRS256, key, p.with("exp", time.Now().Add(-time.Hour).Unix()), "k1"),
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			id, err := v.Verify(tok)
			if id != nil || err == nil {
				t.Fatalf("Verify accepted: %+v", id)
			}
			if apperr.CodeOf(err) != apperr.Unauthenticated {
				t.Fatalf("error %v is not UNAUTHENTICATED", err)
			}
		})
	}
}

func TestIdentityPredicates(t *testing.T) {
	other := uuid.MustParse("0b6d3f2e-1c1a-4c55-9a51-000000000b01")
	type want struct {
		partnerAdmin, reviewer, operator, customerAdmin bool
		seeOwn, seeOther                                bool
		enroller                                        bool
		actor                                           models.ActorKind
	}
	cases := []struct {
		name string
		id   auth.Identity
		want want
	}{
		{"global admin", auth.Identity{OrganizationID: orgID, Roles: []auth.Role{auth.GlobalAdmin}},
			want{partnerAdmin: true, seeOwn: true, enroller: true, actor: models.ActorPartner}},
		{"billing admin", auth.Identity{OrganizationID: orgID, Roles: []auth.Role{auth.BillingAdmin}},
			want{partnerAdmin: true, seeOwn: true, actor: models.ActorPartner}},
		{"incentives admin", auth.Identity{OrganizationID: orgID, Roles: []auth.Role{auth.IncentivesAdmin}},
			want{partnerAdmin: true, seeOwn: true, enroller: true, actor: models.ActorPartner}},
		{"partner user without an admin role", auth.Identity{OrganizationID: orgID, Roles: []auth.Role{"SALES_AGENT"}},
			want{actor: models.ActorPartner}},
		{"admin role without an organisation", auth.Identity{Roles: []auth.Role{auth.GlobalAdmin}},
			want{actor: models.ActorPartner}},
		{"lower-case role is not the role", auth.Identity{OrganizationID: orgID, Roles: []auth.Role{"global_admin"}},
			want{actor: models.ActorPartner}},
		{"reviewer", auth.Identity{Roles: []auth.Role{auth.Reviewer}},
			want{reviewer: true, seeOwn: true, seeOther: true, actor: models.ActorReviewer}},
		{"operator", auth.Identity{Roles: []auth.Role{auth.Operator}},
			want{operator: true, actor: models.ActorOperator}},
		{"customer admin", auth.Identity{TenantID: tenantID, Roles: []auth.Role{auth.CustomerAdmin}},
			want{customerAdmin: true, actor: models.ActorCustomer}},
		{"customer admin without a tenant", auth.Identity{Roles: []auth.Role{auth.CustomerAdmin}},
			want{actor: models.ActorPartner}},
		{"no roles", auth.Identity{OrganizationID: orgID}, want{actor: models.ActorPartner}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := c.id
			got := want{
				partnerAdmin: id.IsPartnerAdmin(), reviewer: id.IsReviewer(), operator: id.IsOperator(),
				customerAdmin: id.IsCustomerAdmin(), seeOwn: id.CanSeeOrganisation(orgID), seeOther: id.CanSeeOrganisation(other),
				enroller: id.RequireMpnEnroller() == nil, actor: id.ActorKind(),
			}
			if got != c.want {
				t.Fatalf("got %+v\nwant %+v", got, c.want)
			}
			for name, check := range map[string]struct {
				err error
				ok  bool
			}{
				"RequirePartnerAdmin": {id.RequirePartnerAdmin(), c.want.partnerAdmin},
				"RequireReviewer":     {id.RequireReviewer(), c.want.reviewer},
				"RequireOperator":     {id.RequireOperator(), c.want.operator},
				"RequireMpnEnroller":  {id.RequireMpnEnroller(), c.want.enroller},
			} {
				if (check.err == nil) != check.ok {
					t.Errorf("%s = %v; want ok=%v", name, check.err, check.ok)
				}
				if check.err != nil && apperr.CodeOf(check.err) != apperr.Forbidden {
					t.Errorf("%s error %v is not FORBIDDEN", name, check.err)
				}
			}
		})
	}
	named := auth.Identity{UserID: "u1", Name: "Ada"}
	if named.DisplayName() != "Ada" || (&auth.Identity{UserID: "u1"}).DisplayName() != "u1" {
		t.Errorf("DisplayName falls back wrongly")
	}
}

func TestContextIdentity(t *testing.T) {
	if id, err := auth.FromContext(context.Background()); id != nil || apperr.CodeOf(err) != apperr.Unauthenticated {
		t.Fatalf("anonymous context = %v, %v", id, err)
	}
	if id, err := auth.FromContext(auth.WithIdentity(context.Background(), nil)); id != nil || apperr.CodeOf(err) != apperr.Unauthenticated {
		t.Fatalf("nil identity = %v, %v", id, err)
	}
	want := &auth.Identity{UserID: "u1"}
	if id, err := auth.FromContext(auth.WithIdentity(context.Background(), want)); err != nil || id != want {
		t.Fatalf("FromContext = %v, %v", id, err)
	}
}

func TestBearerToken(t *testing.T) {
	cases := []struct {
		header, token string
		ok            bool
	}{
		{"Bearer abc.def.ghi", "abc.def.ghi", true},
		{"bearer abc", "abc", true},
		{"BEARER abc", "abc", true},
		{"  Bearer   abc  ", "abc", true},
		{"Bearer a b", "a b", true},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Bearer    ", "", false},
		{"Basic dXNlcjpwYXNz", "", false},
		{"Bearerabc", "", false},
		{"Token abc", "", false},
		{"abc", "", false},
		{"", "", false},
	}
	for _, c := range cases {
		tok, ok := auth.BearerToken(c.header)
		if tok != c.token || ok != c.ok {
			t.Errorf("BearerToken(%q) = %q, %v; want %q, %v", c.header, tok, ok, c.token, c.ok)
		}
	}
}

func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer  x ", "Bearer", "Basic x", " Bearer \t y\n", "Bearer\tabc", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		tok, ok := auth.BearerToken(header)
		if !ok {
			if tok != "" {
				t.Fatalf("BearerToken(%q) = %q without ok", header, tok)
			}
			return
		}
		if tok == "" || strings.TrimSpace(tok) != tok {
			t.Fatalf("BearerToken(%q) = %q: empty or with surrounding spaces", header, tok)
		}
		scheme, _, _ := strings.Cut(strings.TrimSpace(header), " ")
		if !strings.EqualFold(scheme, "Bearer") {
			t.Fatalf("BearerToken(%q) accepted the scheme %q", header, scheme)
		}
		if !strings.HasSuffix(strings.TrimSpace(header), tok) {
			t.Fatalf("BearerToken(%q) = %q is not the end of the header", header, tok)
		}
		// The token read back from a header the client would send is the same.
		if again, ok := auth.BearerToken("Bearer " + tok); !ok || again != tok {
			t.Fatalf("BearerToken(Bearer %q) = %q, %v", tok, again, ok)
		}
	})
}

func TestMiddleware(t *testing.T) {
	v := newVerifier(t, auth.VerifierConfig{HS256Secret: secret, Issuer: "cpor"})
	var seen *auth.Identity
	var called bool
	h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		called = true
		seen, _ = auth.FromContext(r.Context())
		w.WriteHeader(http.StatusNoContent)
	}))
	serve := func(header string) *httptest.ResponseRecorder {
		called, seen = false, nil
		r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{}`))
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}

	// No header: passes on anonymous.
	rec := serve("")
	if !called || seen != nil || rec.Code != http.StatusNoContent {
		t.Fatalf("anonymous request: called=%v identity=%v code=%d", called, seen, rec.Code)
	}
	// A good token: passes on with the identity.
	rec = serve("Bearer " + hs256(t, validPayload()))
	if !called || seen == nil || seen.UserID != "ada@contoso.example" || rec.Code != http.StatusNoContent {
		t.Fatalf("signed-in request: called=%v identity=%v code=%d", called, seen, rec.Code)
	}
	// Bad tokens and schemes: 401 with a GraphQL-shaped UNAUTHENTICATED body.
	for _, header := range []string{
		"Bearer not-a-token",
		"Bearer " + hs256(t, validPayload().with("exp", time.Now().Add(-time.Hour).Unix())),
		"Bearer " + sign(t, jwt.SigningMethodHS256, []byte("another-secret-that-is-32-bytes-long!!"), validPayload(), ""),
		"Basic dXNlcjpwYXNz",
		"Bearer",
	} {
		t.Run(header, func(t *testing.T) {
			rec := serve(header)
			if called {
				t.Fatal("the handler ran for a bad token")
			}
			if rec.Code != http.StatusUnauthorized {
				t.Fatalf("status = %d; want 401", rec.Code)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q", ct)
			}
			if !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate = %q", rec.Header().Get("WWW-Authenticate"))
			}
			var body struct {
				Errors []struct {
					Message    string `json:"message"`
					Extensions struct {
						Code string `json:"code"`
					} `json:"extensions"`
				} `json:"errors"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", rec.Body.String(), err)
			}
			if len(body.Errors) != 1 || body.Errors[0].Extensions.Code != "UNAUTHENTICATED" || body.Errors[0].Message == "" {
				t.Fatalf("body = %s", rec.Body.String())
			}
		})
	}
}

// TestIdentityTextMustBeStorable: the token's user ID, name and e-mail go
// into histories and comments, so they follow the rules of typed text.
func TestIdentityTextMustBeStorable(t *testing.T) {
	v := newVerifier(t, auth.VerifierConfig{HS256Secret: secret, Issuer: "cpor"})
	for _, tc := range []struct {
		claim string
		value any
		want  string
	}{
		{"sub", "ada\x00", "sub cannot be stored"},
		{"sub", strings.Repeat("u", 256), "sub cannot be stored"},
		{"sub", "   ", "names no user"},
		{"name", "Ada\u202eecalevol", "name cannot be stored"},
		{"name", "Ada\nLovelace", "name cannot be stored"},
		{"name", strings.Repeat("a", 201), "name cannot be stored"},
		{"email", "ada\x7f@contoso.example", "email cannot be stored"},
	} {
		_, err := v.Verify(hs256(t, validPayload().with(tc.claim, tc.value)))
		wantUnauthenticated(t, err, tc.want)
	}
	id, err := v.Verify(hs256(t, validPayload().with("name", "  Zoë Ó Briain  ", "sub", strings.Repeat("u", 255))))
	if err != nil || id.Name != "Zoë Ó Briain" || len(id.UserID) != 255 {
		t.Fatalf("ordinary identity refused or altered: %+v %v", id, err)
	}
}
