package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/auth"
)

// An Entra ID app registration and its directory, as in the README's
// example.
const (
	entraClientID = "6731de76-14a6-49ae-97bc-6eba6914391e"
	entraOrgClaim = "extension_6731de7614a649ae97bc6eba6914391e_partnerOrg"
	entraTenClaim = "extension_6731de7614a649ae97bc6eba6914391e_customerTenant"
)

var (
	entraDirectory = uuid.MustParse("72f988bf-86f1-41af-91ab-2d7cd011db47")
	entraIssuer    = "https://login.microsoftonline.com/" + entraDirectory.String() + "/v2.0"
	entraUserOID   = "00000000-0000-0000-66f3-3332eca7ea81"
)

// entraNames and entraRoles follow the README's CPOR_CLAIM_* and CPOR_ROLE_MAP
// (with no customer tenant, CPOR_CLAIM_TENANT=-).
func entraNames() auth.ClaimNames {
	return auth.ClaimNames{Subject: "oid", Email: "preferred_username", Organization: entraOrgClaim, Tenant: auth.NoClaim}
}

var entraRoles = map[string]auth.Role{
	"Cpor.PartnerAdmin":  auth.GlobalAdmin,
	"Cpor.Billing":       auth.BillingAdmin,
	"Cpor.Reviewer":      auth.Reviewer,
	"Cpor.CustomerAdmin": auth.CustomerAdmin,
}

// entraPayload is shaped like an Entra ID v2.0 access token for the app.
func entraPayload() payload {
	now := time.Now()
	return payload{
		"aud":                entraClientID,
		"iss":                entraIssuer,
		"iat":                now.Unix(),
		"nbf":                now.Unix(),
		"exp":                now.Add(time.Hour).Unix(),
		"ver":                "2.0",
		"azp":                "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
		"scp":                "access_as_user",
		"sub":                "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", // pairwise, per app
		"oid":                entraUserOID,
		"tid":                entraDirectory.String(),
		"name":               "Ada Lovelace",
		"preferred_username": "ada@contoso.example",
		entraOrgClaim:        orgID.String(),
		"roles":              []string{"Cpor.PartnerAdmin"},
	}
}

func TestDefaultClaimNamesUnchanged(t *testing.T) {
	for name, names := range map[string]auth.ClaimNames{
		"zero value":   {},
		"the defaults": auth.DefaultClaimNames(),
		"some given":   {Subject: "sub", Tenant: "tid"},
	} {
		t.Run(name, func(t *testing.T) {
			v := newVerifier(t, auth.VerifierConfig{HS256Secret: secret, Issuer: "cpor", ClaimNames: names})
			p := validPayload()
			id, err := v.Verify(hs256(t, p))
			if err != nil {
				t.Fatal(err)
			}
			want := &auth.Identity{
				UserID: "ada@contoso.example", Name: "Ada Lovelace", Email: "ada@contoso.example",
				OrganizationID: orgID, TenantID: tenantID, Roles: []auth.Role{auth.GlobalAdmin, auth.Reviewer},
				ExpiresAt: time.Unix(p["exp"].(int64), 0),
			}
			if !reflect.DeepEqual(id, want) {
				t.Fatalf("identity = %+v\nwant %+v", id, want)
			}
			// The service's own tokens read back the same.
			tok, err := auth.Mint(secret, auth.Identity{UserID: "u1", Name: "U", Email: "u@x.example", TenantID: tenantID, Roles: []auth.Role{auth.CustomerAdmin}}, "cpor", "", time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if id, err := v.Verify(tok); err != nil || id.UserID != "u1" || id.TenantID != tenantID || !id.IsCustomerAdmin() {
				t.Fatalf("minted token = %+v, %v", id, err)
			}
		})
	}
}

func TestEntraIDClaims(t *testing.T) {
	customer := uuid.MustParse("7f3c2a10-5b8e-4d21-9c3a-0000000000c7")
	cases := []struct {
		name    string
		names   auth.ClaimNames
		roleMap map[string]auth.Role
		token   payload
		want    auth.Identity // ExpiresAt not compared
	}{
		{"partner admin; tid is not a customer tenant", entraNames(), entraRoles, entraPayload(),
			auth.Identity{UserID: entraUserOID, Name: "Ada Lovelace", Email: "ada@contoso.example", OrganizationID: orgID, Roles: []auth.Role{auth.GlobalAdmin}}},
		{"e-mail from the optional email claim", func() auth.ClaimNames { n := entraNames(); n.Email = "email"; return n }(), entraRoles,
			entraPayload().with("email", "ada.lovelace@contoso.example"),
			auth.Identity{UserID: entraUserOID, Name: "Ada Lovelace", Email: "ada.lovelace@contoso.example", OrganizationID: orgID, Roles: []auth.Role{auth.GlobalAdmin}}},
		{"reviewer without an organisation", entraNames(), entraRoles,
			entraPayload().with(entraOrgClaim, nil, "roles", []string{"Cpor.Reviewer"}),
			auth.Identity{UserID: entraUserOID, Name: "Ada Lovelace", Email: "ada@contoso.example", Roles: []auth.Role{auth.Reviewer}}},
		{"customer admin from an extension attribute", func() auth.ClaimNames { n := entraNames(); n.Tenant = entraTenClaim; return n }(), entraRoles,
			entraPayload().with(entraOrgClaim, nil, entraTenClaim, customer.String(), "roles", []string{"Cpor.CustomerAdmin"}),
			auth.Identity{UserID: entraUserOID, Name: "Ada Lovelace", Email: "ada@contoso.example", TenantID: customer, Roles: []auth.Role{auth.CustomerAdmin}}},
		{"tid as the customer tenant only when configured so", func() auth.ClaimNames { n := entraNames(); n.Tenant = "tid"; return n }(), entraRoles,
			entraPayload().with(entraOrgClaim, nil, "roles", []string{"Cpor.CustomerAdmin"}),
			auth.Identity{UserID: entraUserOID, Name: "Ada Lovelace", Email: "ada@contoso.example", TenantID: entraDirectory, Roles: []auth.Role{auth.CustomerAdmin}}},
		{"two app roles", entraNames(), entraRoles,
			entraPayload().with("roles", []string{"Cpor.Billing", "Cpor.Reviewer"}),
			auth.Identity{UserID: entraUserOID, Name: "Ada Lovelace", Email: "ada@contoso.example", OrganizationID: orgID, Roles: []auth.Role{auth.BillingAdmin, auth.Reviewer}}},
		// Read with the default names the same token is someone else: the
		// pairwise sub, no organisation, the directory as the tenant, and an
		// unknown role. This is why an Entra ID deployment sets the names.
		{"the default names misread it", auth.ClaimNames{}, nil, entraPayload(),
			auth.Identity{UserID: "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", Name: "Ada Lovelace", TenantID: entraDirectory, Roles: []auth.Role{"CPOR.PARTNERADMIN"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := newVerifier(t, auth.VerifierConfig{HS256Secret: secret, Issuer: entraIssuer, Audience: entraClientID, ClaimNames: c.names, RoleMap: c.roleMap})
			id, err := v.Verify(hs256(t, c.token))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			id.ExpiresAt = time.Time{}
			if !reflect.DeepEqual(*id, c.want) {
				t.Fatalf("identity = %+v\nwant       %+v", *id, c.want)
			}
		})
	}
}

// TestEntraIDTokenFromLocalJWKS: an RS256 token signed by a key the test
// generates and serves as a JWKS, as Entra ID serves its keys, is verified
// and read with the configured names.
func TestEntraIDTokenFromLocalJWKS(t *testing.T) {
	key := rsaKey(t)
	srv := jwksServer(t, &key.PublicKey, "entra-k1")
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	v, err := auth.NewVerifier(ctx, auth.VerifierConfig{
		JWKSURL: srv.URL, Issuer: entraIssuer, Audience: entraClientID, ClaimNames: entraNames(), RoleMap: entraRoles,
	})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	id, err := v.Verify(sign(t, jwt.SigningMethodRS256, key, entraPayload(), "entra-k1"))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if id.UserID != entraUserOID || id.Email != "ada@contoso.example" || id.OrganizationID != orgID || id.TenantID != uuid.Nil || !id.IsPartnerAdmin() {
		t.Fatalf("identity = %+v", id)
	}
	for name, tok := range map[string]string{
		"another key":         sign(t, jwt.SigningMethodRS256, rsaKey(t), entraPayload(), "entra-k1"),
		"another app":         sign(t, jwt.SigningMethodRS256, key, entraPayload().with("aud", "00000003-0000-0000-c000-000000000000"), "entra-k1"),
		"another directory":   sign(t, jwt.SigningMethodRS256, key, entraPayload().with("iss", "https://login.microsoftonline.com/"+uuid.NewString()+"/v2.0"), "entra-k1"),
		"the v1.0 issuer":     sign(t, jwt.SigningMethodRS256, key, entraPayload().with("iss", "https://sts.windows.net/"+entraDirectory.String()+"/"), "entra-k1"),
		"no oid":              sign(t, jwt.SigningMethodRS256, key, entraPayload().with("oid", nil), "entra-k1"),
		"roles not a string":  sign(t, jwt.SigningMethodRS256, key, entraPayload().with("roles", []any{"Cpor.Reviewer", 7}), "entra-k1"),
		"organisation a list": sign(t, jwt.SigningMethodRS256, key, entraPayload().with(entraOrgClaim, []string{orgID.String()}), "entra-k1"),
	} {
		t.Run(name, func(t *testing.T) {
			if id, err := v.Verify(tok); id != nil || apperr.CodeOf(err) != apperr.Unauthenticated {
				t.Fatalf("Verify = %+v, %v; want UNAUTHENTICATED", id, err)
			}
		})
	}
}

func TestClaimTypesRefused(t *testing.T) {
	cases := []struct {
		name  string
		names auth.ClaimNames
		token payload
		want  string
	}{
		{"sub a number", auth.ClaimNames{}, validPayload().with("sub", 42), "The token's sub claim must be a string, not a number"},
		{"sub an object", auth.ClaimNames{}, validPayload().with("sub", map[string]any{"id": "u1"}), "sub claim must be a string, not an object"},
		{"oid an array", entraNames(), entraPayload().with("oid", []string{entraUserOID}), "oid claim must be a string, not an array"},
		{"name a boolean", auth.ClaimNames{}, validPayload().with("name", true), "name claim must be a string, not a boolean"},
		{"email a number", auth.ClaimNames{}, validPayload().with("email", 1.5), "email claim must be a string, not a number"},
		{"preferred_username an object", entraNames(), entraPayload().with("preferred_username", map[string]any{}), "preferred_username claim must be a string"},
		{"org a number", auth.ClaimNames{}, validPayload().with("org", 7), "org claim must be a string, not a number"},
		{"extension organisation an array", entraNames(), entraPayload().with(entraOrgClaim, []string{orgID.String()}), entraOrgClaim + " claim must be a string, not an array"},
		{"extension organisation not a GUID", entraNames(), entraPayload().with(entraOrgClaim, "Contoso"), "organisation (" + entraOrgClaim + ") is not a GUID"},
		{"tid a boolean", auth.ClaimNames{}, validPayload().with("tid", false), "tid claim must be a string, not a boolean"},
		{"roles a number", auth.ClaimNames{}, validPayload().with("roles", 3), "roles claim must be a string or an array of strings, not a number"},
		{"roles an object", entraNames(), entraPayload().with("roles", map[string]any{"Cpor.Reviewer": true}), "roles claim must be a string or an array of strings, not an object"},
		{"roles with a number", auth.ClaimNames{}, validPayload().with("roles", []any{"REVIEWER", 1}), "item 2 is a number"},
		{"roles with null", entraNames(), entraPayload().with("roles", []any{nil}), "item 1 is null"},
		{"roles nested", auth.ClaimNames{}, validPayload().with("roles", []any{[]string{"REVIEWER"}}), "item 1 is an array"},
		{"oid missing", entraNames(), entraPayload().with("oid", nil), "names no user (oid)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			iss := "cpor"
			if c.token["iss"] == entraIssuer {
				iss = entraIssuer
			}
			v := newVerifier(t, auth.VerifierConfig{HS256Secret: secret, Issuer: iss, ClaimNames: c.names, RoleMap: entraRoles})
			id, err := v.Verify(hs256(t, c.token))
			if id != nil {
				t.Fatalf("accepted: %+v", id)
			}
			wantUnauthenticated(t, err, c.want)
		})
	}

	// Null is as good as absent, and one role may come as a string.
	v := newVerifier(t, auth.VerifierConfig{HS256Secret: secret, Issuer: "cpor"})
	id, err := v.Verify(hs256(t, validPayload().with("name", json.RawMessage("null"), "org", json.RawMessage("null"), "roles", "reviewer")))
	if err != nil {
		t.Fatal(err)
	}
	if id.Name != "" || id.OrganizationID != uuid.Nil || !slices.Equal(id.Roles, []auth.Role{auth.Reviewer}) {
		t.Fatalf("identity = %+v", id)
	}
}

func TestRoleMapUnknownValues(t *testing.T) {
	cases := []struct {
		name  string
		roles any
		want  []auth.Role
	}{
		{"only unknown values", []string{"Cpor.Superuser", "Directory.Admin"}, nil},
		{"known and unknown", []string{"Cpor.Superuser", "Cpor.PartnerAdmin"}, []auth.Role{auth.GlobalAdmin}},
		{"the same role twice", []string{"Cpor.PartnerAdmin", "Cpor.PartnerAdmin"}, []auth.Role{auth.GlobalAdmin}},
		{"values match exactly", []string{"cpor.partneradmin", "CPOR.PARTNERADMIN"}, nil},
		{"a service role's own name is not mapped", []string{"GLOBAL_ADMIN", "REVIEWER"}, nil},
		{"one value as a string", "Cpor.Reviewer", []auth.Role{auth.Reviewer}},
		{"an empty list", []string{}, nil},
		{"no roles claim", nil, nil},
	}
	v := newVerifier(t, auth.VerifierConfig{HS256Secret: secret, Issuer: entraIssuer, ClaimNames: entraNames(), RoleMap: entraRoles})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, err := v.Verify(hs256(t, entraPayload().with("roles", c.roles)))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(id.Roles, c.want) {
				t.Fatalf("roles = %v; want %v", id.Roles, c.want)
			}
			if len(c.want) == 0 && (id.IsPartnerAdmin() || id.RequirePartnerAdmin() == nil || id.IsReviewer()) {
				t.Fatalf("an identity without mapped roles may act: %+v", id)
			}
		})
	}
}

func TestVerifierRefusesBadClaimConfig(t *testing.T) {
	for name, cfg := range map[string]auth.VerifierConfig{
		"no subject":              {ClaimNames: auth.ClaimNames{Subject: auth.NoClaim}},
		"a space in a name":       {ClaimNames: auth.ClaimNames{Email: "preferred username"}},
		"a comma in a name":       {ClaimNames: auth.ClaimNames{Roles: "roles,groups"}},
		"a claim about the token": {ClaimNames: auth.ClaimNames{Subject: "iss"}},
		"expiry as the tenant":    {ClaimNames: auth.ClaimNames{Tenant: "exp"}},
		"an unknown service role": {RoleMap: map[string]auth.Role{"Cpor.Admin": "SUPERUSER"}},
		"a lower-case role":       {RoleMap: map[string]auth.Role{"Cpor.Admin": "global_admin"}},
		"an empty token value":    {RoleMap: map[string]auth.Role{"": auth.Reviewer}},
	} {
		t.Run(name, func(t *testing.T) {
			cfg.HS256Secret = secret
			if v, err := auth.NewVerifier(context.Background(), cfg); err == nil {
				t.Fatalf("NewVerifier accepted %+v: %v", cfg, v)
			}
		})
	}
}

func TestParseRoleMap(t *testing.T) {
	good := []struct {
		in   string
		want map[string]auth.Role
	}{
		{"", map[string]auth.Role{}},
		{"  ", map[string]auth.Role{}},
		{"Cpor.Reviewer=REVIEWER", map[string]auth.Role{"Cpor.Reviewer": auth.Reviewer}},
		{"Cpor.Reviewer=REVIEWER,Cpor.PartnerAdmin=GLOBAL_ADMIN", map[string]auth.Role{"Cpor.Reviewer": auth.Reviewer, "Cpor.PartnerAdmin": auth.GlobalAdmin}},
		{" Cpor.Ops = operator , Cpor.Billing=Billing_Admin ", map[string]auth.Role{"Cpor.Ops": auth.Operator, "Cpor.Billing": auth.BillingAdmin}},
		{"a=CUSTOMER_ADMIN,b=CUSTOMER_ADMIN", map[string]auth.Role{"a": auth.CustomerAdmin, "b": auth.CustomerAdmin}},
	}
	for _, c := range good {
		got, err := auth.ParseRoleMap(c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseRoleMap(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	bad := []struct{ in, want string }{
		{"Cpor.Reviewer", "not tokenValue=ROLE"},
		{"Cpor.Reviewer=", "not tokenValue=ROLE"},
		{"=REVIEWER", "not tokenValue=ROLE"},
		{"Cpor.Reviewer=REVIEWER,", "not tokenValue=ROLE"},
		{"Cpor.Reviewer=REVIEWER,,Cpor.Ops=OPERATOR", "not tokenValue=ROLE"},
		{"Cpor.Admin=SUPERUSER", `"SUPERUSER" is not a role of this service`},
		{"Cpor.Admin=GLOBAL_ADMIN=x", "not a role of this service"},
		{"a=REVIEWER,a=OPERATOR", `"a" is mapped twice`},
	}
	for _, c := range bad {
		_, err := auth.ParseRoleMap(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseRoleMap(%q) error = %v; want %q", c.in, err, c.want)
		}
	}
}

// FuzzClaimExtraction: whatever JSON object a correctly signed token
// carries, reading the identity never panics, and it is either refused as
// UNAUTHENTICATED or an identity with a user and, with a role map, only
// mapped roles.
func FuzzClaimExtraction(f *testing.F) {
	for _, p := range []payload{validPayload(), entraPayload(), entraPayload().with("roles", "Cpor.Reviewer")} {
		b, err := json.Marshal(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{`{}`, `{"sub":1}`, `{"oid":"u","roles":[null,{},[]]}`, `{"org":["x"],"tid":{"a":1}}`, `{"roles":"x","sub":"\u0000"}`, `[1]`, `null`, `{"exp":"1"}`} {
		f.Add([]byte(s))
	}
	verifiers := []*auth.Verifier{
		newVerifier(f, auth.VerifierConfig{HS256Secret: secret, Issuer: "cpor"}),
		newVerifier(f, auth.VerifierConfig{HS256Secret: secret, Issuer: "cpor", ClaimNames: entraNames(), RoleMap: entraRoles}),
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var claims map[string]any
		if json.Unmarshal(body, &claims) != nil || claims == nil {
			return
		}
		// The lifetime and issuer are made valid, so that the claims are read.
		now := time.Now()
		claims["iss"], claims["exp"] = "cpor", now.Add(time.Hour).Unix()
		delete(claims, "nbf")
		delete(claims, "iat")
		tok := hs256(t, payload(claims))
		for i, v := range verifiers {
			id, err := v.Verify(tok)
			if err != nil {
				var e *apperr.Error
				if id != nil || !errors.As(err, &e) || e.Code != apperr.Unauthenticated || e.Message == "" {
					t.Fatalf("verifier %d: %+v, %v; want a nil identity and UNAUTHENTICATED", i, id, err)
				}
				continue
			}
			if id == nil || id.UserID == "" {
				t.Fatalf("verifier %d accepted a token without a user: %+v", i, id)
			}
			if i == 1 {
				for _, r := range id.Roles {
					if !r.Known() {
						t.Fatalf("mapped roles include %q", r)
					}
				}
			}
		}
	})
}
