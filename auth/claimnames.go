package auth

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/golang-jwt/jwt/v5"

	"cpor/apperr"
)

// ClaimNames says which claims of a token carry the user, the organisation,
// the customer tenant and the roles. An empty field takes the default (the
// service's own names, those Mint writes); NoClaim says the token does not
// carry it. An identity provider with names of its own, such as Microsoft
// Entra ID (oid, preferred_username, an extension attribute), is configured
// here rather than made to send ours.
type ClaimNames struct {
	Subject      string // the user's ID; default sub; never NoClaim
	Name         string // display name; default name
	Email        string // e-mail address; default email
	Organization string // partner organisation GUID; default org
	Tenant       string // customer tenant GUID; default tid
	Roles        string // a string or an array of strings; default roles
}

// NoClaim as a claim name says the token carries no such claim: the
// identity then has none (for Tenant, Entra ID's tid names the issuer's
// directory, which is not a customer tenant).
const NoClaim = "-"

// DefaultClaimNames are the service's own claim names.
func DefaultClaimNames() ClaimNames {
	return ClaimNames{Subject: "sub", Name: "name", Email: "email", Organization: "org", Tenant: "tid", Roles: "roles"}
}

// withDefaults fills the empty names with the defaults.
func (n ClaimNames) withDefaults() ClaimNames {
	d := DefaultClaimNames()
	for _, f := range []struct{ dest, def *string }{
		{&n.Subject, &d.Subject}, {&n.Name, &d.Name}, {&n.Email, &d.Email},
		{&n.Organization, &d.Organization}, {&n.Tenant, &d.Tenant}, {&n.Roles, &d.Roles},
	} {
		if *f.dest == "" {
			*f.dest = *f.def
		}
	}
	return n
}

// tokenOnlyClaims are about the token, not the user: naming one of them as
// the user's claim is a configuration mistake.
var tokenOnlyClaims = []string{"iss", "aud", "exp", "nbf", "iat", "jti"}

// Validate refuses names that cannot be a claim of the user; field names
// the configuration key (e.g. Subject).
func (n ClaimNames) Validate() error {
	n = n.withDefaults()
	if n.Subject == NoClaim {
		return fmt.Errorf("the subject claim is required: every token names its user")
	}
	for _, f := range []struct{ field, name string }{
		{"Subject", n.Subject}, {"Name", n.Name}, {"Email", n.Email},
		{"Organization", n.Organization}, {"Tenant", n.Tenant}, {"Roles", n.Roles},
	} {
		switch {
		case len(f.name) > 200:
			return fmt.Errorf("the %s claim name is longer than 200 bytes", f.field)
		case strings.IndexFunc(f.name, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r == ',' }) >= 0:
			return fmt.Errorf("the %s claim name %q has a space, a control character or a comma", f.field, f.name)
		case slices.Contains(tokenOnlyClaims, f.name):
			return fmt.Errorf("the %s claim name %q is a claim about the token, not the user", f.field, f.name)
		}
	}
	return nil
}

// serviceRoles are the roles the service knows.
var serviceRoles = []Role{GlobalAdmin, BillingAdmin, IncentivesAdmin, Reviewer, Operator, CustomerAdmin}

// Known reports whether the service knows the role.
func (r Role) Known() bool { return slices.Contains(serviceRoles, r) }

// validateRoleMap refuses a map to a role the service does not know.
func validateRoleMap(m map[string]Role) error {
	for value, r := range m {
		if value == "" {
			return fmt.Errorf("the role map has an empty token value")
		}
		if !r.Known() {
			return fmt.Errorf("the role map sends %q to %q, which is not a role of this service (%s)", value, r, roleList())
		}
	}
	return nil
}

func roleList() string {
	names := make([]string, len(serviceRoles))
	for i, r := range serviceRoles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

// ParseRoleMap reads "tokenValue=ROLE,tokenValue=ROLE" (as CPOR_ROLE_MAP
// holds it): token values are matched exactly, as the identity provider
// spells them; roles are the service's, in any case. A malformed entry, a
// value given twice or an unknown role is refused. An empty string is an
// empty map: role values are then taken as they are.
func ParseRoleMap(s string) (map[string]Role, error) {
	m := map[string]Role{}
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	for _, entry := range strings.Split(s, ",") {
		value, role, ok := strings.Cut(entry, "=")
		value, role = strings.TrimSpace(value), strings.TrimSpace(role)
		if !ok || value == "" || role == "" {
			return nil, fmt.Errorf("%q is not tokenValue=ROLE (e.g. Cpor.Reviewer=REVIEWER)", strings.TrimSpace(entry))
		}
		r := Role(strings.ToUpper(role))
		if !r.Known() {
			return nil, fmt.Errorf("%q is not a role of this service (%s)", role, roleList())
		}
		if _, dup := m[value]; dup {
			return nil, fmt.Errorf("the token value %q is mapped twice", value)
		}
		m[value] = r
	}
	return m, nil
}

// tokenClaims is what Verify decodes: the registered claims the parser
// checks (lifetime, issuer, audience) and every claim by name, from which
// the identity is read with the configured names.
type tokenClaims struct {
	registered struct {
		Issuer    string           `json:"iss"`
		Audience  jwt.ClaimStrings `json:"aud"`
		ExpiresAt *jwt.NumericDate `json:"exp"`
		NotBefore *jwt.NumericDate `json:"nbf"`
		IssuedAt  *jwt.NumericDate `json:"iat"`
	}
	all jwt.MapClaims
}

// UnmarshalJSON refuses dates that are not numbers (see Claims), then keeps
// the registered claims and the whole map.
func (c *tokenClaims) UnmarshalJSON(b []byte) error {
	if err := checkNumericDates(b); err != nil {
		return err
	}
	if err := json.Unmarshal(b, &c.registered); err != nil {
		return fmt.Errorf("decode the token's claims: %w", err)
	}
	if err := json.Unmarshal(b, &c.all); err != nil {
		return fmt.Errorf("decode the token's claims: %w", err)
	}
	return nil
}

func (c *tokenClaims) GetExpirationTime() (*jwt.NumericDate, error) {
	return c.registered.ExpiresAt, nil
}
func (c *tokenClaims) GetIssuedAt() (*jwt.NumericDate, error)  { return c.registered.IssuedAt, nil }
func (c *tokenClaims) GetNotBefore() (*jwt.NumericDate, error) { return c.registered.NotBefore, nil }
func (c *tokenClaims) GetIssuer() (string, error)              { return c.registered.Issuer, nil }
func (c *tokenClaims) GetAudience() (jwt.ClaimStrings, error)  { return c.registered.Audience, nil }

// GetSubject is the standard sub, which the parser is not asked to check;
// the identity's user is read by the configured name.
func (c *tokenClaims) GetSubject() (string, error) {
	s, _ := c.all["sub"].(string)
	return s, nil
}

// stringClaim returns the claim called name: "" when the name is NoClaim or
// the token leaves it out (or null), refused when it is not a string.
func stringClaim(all jwt.MapClaims, name string) (string, error) {
	if name == NoClaim {
		return "", nil
	}
	switch v := all[name].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	default:
		return "", apperr.Unauthenticatedf("The token's %s claim must be a string, not %s; check the identity provider's claim configuration.", name, kindOf(v))
	}
}

// rolesClaim returns the role values: an array of strings, or one string.
func rolesClaim(all jwt.MapClaims, name string) ([]string, error) {
	if name == NoClaim {
		return nil, nil
	}
	switch v := all[name].(type) {
	case nil:
		return nil, nil
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for i, item := range v {
			s, ok := item.(string)
			if !ok {
				return nil, apperr.Unauthenticatedf("The token's %s claim must be an array of strings, but item %d is %s; check the identity provider's claim configuration.", name, i+1, kindOf(item))
			}
			out = append(out, s)
		}
		return out, nil
	default:
		return nil, apperr.Unauthenticatedf("The token's %s claim must be a string or an array of strings, not %s; check the identity provider's claim configuration.", name, kindOf(v))
	}
}

// kindOf names the JSON kind of a decoded value without echoing it.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64, json.Number:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "an unexpected value"
}

// mapRoles turns the token's role values into the service's roles: with no
// map, upper-cased as they are (the service's own tokens); with a map, only
// the values it names, each once, the others ignored.
func mapRoles(values []string, m map[string]Role) []Role {
	var out []Role
	for _, v := range values {
		if len(m) == 0 {
			out = append(out, Role(strings.ToUpper(v)))
			continue
		}
		if r, ok := m[v]; ok && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}
