package auth

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/textrule"
)

// Claims is the JWT payload: the standard claims plus the organisation, the
// customer tenant and the roles.
type Claims struct {
	jwt.RegisteredClaims
	Name         string   `json:"name,omitempty"`
	Email        string   `json:"email,omitempty"`
	Organization string   `json:"org,omitempty"`
	Tenant       string   `json:"tid,omitempty"`
	Roles        []string `json:"roles,omitempty"`
}

// VerifierConfig says how tokens are signed and which claims carry the
// identity. Exactly one of HS256Secret and JWKSURL is needed.
type VerifierConfig struct {
	HS256Secret []byte
	JWKSURL     string
	Issuer      string
	Audience    string
	// ClaimNames names the claims the identity is read from; the zero value
	// is the service's own names (sub, name, email, org, tid, roles).
	ClaimNames ClaimNames
	// RoleMap sends a token's role value (as the identity provider spells
	// it, e.g. an Entra ID app role Cpor.Reviewer) to a service role. Values
	// it does not name are ignored. Empty, role values are taken as they
	// are, upper-cased.
	RoleMap map[string]Role
}

// MinSecretBytes is the shortest HS256 secret accepted.
const MinSecretBytes = 32

// Verifier turns a bearer token into an Identity.
type Verifier struct {
	keyfunc jwt.Keyfunc
	parser  *jwt.Parser
	names   ClaimNames
	roleMap map[string]Role
}

// NewVerifier builds a verifier; with a JWKS URL it fetches the keys now and
// refreshes them in the background until ctx ends.
func NewVerifier(ctx context.Context, cfg VerifierConfig) (*Verifier, error) {
	if err := cfg.ClaimNames.Validate(); err != nil {
		return nil, err
	}
	if err := validateRoleMap(cfg.RoleMap); err != nil {
		return nil, err
	}
	opts := []jwt.ParserOption{jwt.WithExpirationRequired(), jwt.WithLeeway(30 * time.Second), jwt.WithIssuedAt()}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	v := &Verifier{names: cfg.ClaimNames.withDefaults(), roleMap: maps.Clone(cfg.RoleMap)}
	switch {
	case cfg.JWKSURL != "":
		kf, err := keyfunc.NewDefaultCtx(ctx, []string{cfg.JWKSURL})
		if err != nil {
			return nil, fmt.Errorf("load JWKS from %s: %w", cfg.JWKSURL, err)
		}
		v.keyfunc = kf.Keyfunc
		opts = append(opts, jwt.WithValidMethods([]string{"RS256"}))
	case len(cfg.HS256Secret) >= MinSecretBytes:
		secret := cfg.HS256Secret
		v.keyfunc = func(*jwt.Token) (any, error) { return secret, nil }
		opts = append(opts, jwt.WithValidMethods([]string{"HS256"}))
	case len(cfg.HS256Secret) > 0:
		return nil, fmt.Errorf("the HS256 secret must be at least %d bytes", MinSecretBytes)
	default:
		return nil, errors.New("no token key configured: set an HS256 secret or a JWKS URL")
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// Verify checks the token's signature and lifetime and returns its identity.
// Every failure is UNAUTHENTICATED with a message that says what to fix.
func (v *Verifier) Verify(raw string) (*Identity, error) {
	var c tokenClaims
	if _, err := v.parser.ParseWithClaims(raw, &c, v.keyfunc); err != nil {
		var refused *apperr.Error
		switch {
		case errors.As(err, &refused): // the claims said what is wrong
			return nil, refused
		case errors.Is(err, jwt.ErrTokenExpired):
			return nil, apperr.Unauthenticatedf("The token has expired; sign in again.")
		case errors.Is(err, jwt.ErrTokenMalformed):
			return nil, apperr.Unauthenticatedf("The bearer token is not a JWT.")
		default:
			return nil, apperr.Unauthenticatedf("The token could not be verified; sign in again.")
		}
	}
	return v.identity(&c)
}

// subjectRule bounds a token's subject, an identity provider's opaque user
// ID (RFC 7519 leaves its length open; 255 covers every provider's).
var subjectRule = textrule.Kind{MaxChars: 255}

// identity reads the verified claims by the configured names. A claim of
// the wrong type is refused, never guessed at.
func (v *Verifier) identity(c *tokenClaims) (*Identity, error) {
	n := v.names
	id := &Identity{}
	// The user's ID, name and e-mail go into histories and comments as they
	// are: they follow the rules of typed names, or the token is refused.
	for _, f := range []struct {
		claim string
		kind  textrule.Kind
		dest  *string
	}{{n.Subject, subjectRule, &id.UserID}, {n.Name, textrule.Name, &id.Name}, {n.Email, textrule.Email, &id.Email}} {
		raw, err := stringClaim(c.all, f.claim)
		if err != nil {
			return nil, err
		}
		v, err := f.kind.Clean(raw, f.claim)
		if err != nil {
			return nil, apperr.Unauthenticatedf("The token's %s cannot be stored: %s", f.claim, apperr.MessageOf(err))
		}
		*f.dest = v
	}
	if id.UserID == "" {
		return nil, apperr.Unauthenticatedf("The token names no user (%s).", n.Subject)
	}
	if c.registered.ExpiresAt != nil {
		id.ExpiresAt = c.registered.ExpiresAt.Time
	}
	for _, f := range []struct {
		what, claim string
		dest        *uuid.UUID
	}{{"organisation", n.Organization, &id.OrganizationID}, {"tenant", n.Tenant, &id.TenantID}} {
		raw, err := stringClaim(c.all, f.claim)
		if err != nil {
			return nil, err
		}
		if *f.dest, err = optionalUUID(raw); err != nil {
			return nil, apperr.Unauthenticatedf("The token's %s (%s) is not a GUID.", f.what, f.claim)
		}
	}
	values, err := rolesClaim(c.all, n.Roles)
	if err != nil {
		return nil, err
	}
	id.Roles = mapRoles(values, v.roleMap)
	return id, nil
}

func optionalUUID(s string) (uuid.UUID, error) {
	if s == "" {
		return uuid.Nil, nil
	}
	return uuid.Parse(s)
}

// Mint signs an HS256 token for the identity, valid for ttl. The token
// subcommand and the development banner use it; production tokens come from
// the identity provider.
func Mint(secret []byte, id Identity, issuer, audience string, ttl time.Duration) (string, error) {
	now := time.Now()
	c := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   id.UserID,
			Issuer:    issuer,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
		Name:  id.Name,
		Email: id.Email,
	}
	if audience != "" {
		c.Audience = jwt.ClaimStrings{audience}
	}
	if id.OrganizationID != uuid.Nil {
		c.Organization = id.OrganizationID.String()
	}
	if id.TenantID != uuid.Nil {
		c.Tenant = id.TenantID.String()
	}
	for _, r := range id.Roles {
		c.Roles = append(c.Roles, string(r))
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
}
