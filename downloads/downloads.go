// Package downloads signs and verifies download links: a short-lived query
// string that stands in for the bearer header where a browser cannot send
// one (<a href>, <img src>). A link is bound to one document and to the
// viewer it was made for; it carries that viewer's identity (user,
// organisation, tenant, roles) under an HMAC-SHA256 signature, so the
// download is authorised exactly as the viewer's own request would be.
//
// A link is ?expires=<unix seconds>&user=<viewer key>&sig=<signature>:
// user is the viewer's identity, serialised deterministically and
// base64url-encoded (opaque to clients); sig is the base64url HMAC-SHA256,
// under the server's secret, of a version label, the document ID, expires
// and user. Changing any of them, or using the link for another document,
// breaks the signature.
package downloads

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/auth"
)

// DefaultLifetime is how long a link works unless configured otherwise.
const DefaultLifetime = 5 * time.Minute

// MinSecretBytes is the shortest secret a Signer accepts.
const MinSecretBytes = 32

// Query parameters of a signed link.
const (
	ParamExpires = "expires"
	ParamUser    = "user"
	ParamSig     = "sig"
)

// label separates this signature from any other use of the key; it names
// the payload's version.
const label = "cpor download link v1"

// maxUserParam bounds the viewer key a verifier decodes; a real one is a
// few hundred bytes.
const maxUserParam = 4096

// Options tune a Signer; the zero value of a field means its default.
type Options struct {
	// Lifetime is how long a link works (DefaultLifetime).
	Lifetime time.Duration
	// Now is the clock links are signed and checked against (time.Now).
	Now func() time.Time
}

// Signer signs and verifies download links. It is safe for concurrent use.
type Signer struct {
	key      []byte
	lifetime time.Duration
	now      func() time.Time
}

// New returns a signer over secret, which must be MinSecretBytes or longer.
func New(secret []byte, o Options) (*Signer, error) {
	if len(secret) < MinSecretBytes {
		return nil, fmt.Errorf("the download-link secret must be at least %d bytes", MinSecretBytes)
	}
	s := &Signer{key: slices.Clone(secret), lifetime: o.Lifetime, now: o.Now}
	if s.lifetime <= 0 {
		s.lifetime = DefaultLifetime
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Ephemeral returns a signer with the default options over a random
// secret: its links stop working when the process ends, and other
// instances refuse them.
func Ephemeral() *Signer {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret) // crypto/rand.Read never fails
	return &Signer{key: secret, lifetime: DefaultLifetime, now: time.Now}
}

// DeriveSecret derives a download-link secret from another secret (the
// JWT signing secret) with HKDF-SHA256 and the fixed info label
// "cpor download links", so the links' key is never the tokens' key.
func DeriveSecret(from []byte) ([]byte, error) {
	return hkdf.Key(sha256.New, from, nil, "cpor download links", 32)
}

// Lifetime is how long the signer's links work.
func (s *Signer) Lifetime() time.Duration { return s.lifetime }

// Sign returns the query string (without "?") of a link to the document for
// the viewer, valid for the signer's lifetime from now, or until the
// viewer's token expires when that is sooner.
func (s *Signer) Sign(doc uuid.UUID, viewer *auth.Identity) (string, error) {
	if viewer == nil {
		return "", apperr.Unauthenticatedf("Sign in: send a bearer token in the Authorization header.")
	}
	user, err := encodeViewer(viewer)
	if err != nil {
		return "", err
	}
	// Rounded down to the second: a link never works longer than the
	// lifetime, nor than the viewer's token.
	until := s.now().Add(s.lifetime)
	if !viewer.ExpiresAt.IsZero() && viewer.ExpiresAt.Before(until) {
		until = viewer.ExpiresAt
	}
	exp := until.Unix()
	expires := strconv.FormatInt(exp, 10)
	q := url.Values{
		ParamExpires: {expires},
		ParamUser:    {user},
		ParamSig:     {s.sign(doc, expires, user)},
	}
	return q.Encode(), nil
}

// URL is path plus the signed query of a link to the document for the viewer.
func (s *Signer) URL(path string, doc uuid.UUID, viewer *auth.Identity) (string, error) {
	q, err := s.Sign(doc, viewer)
	if err != nil {
		return "", err
	}
	return path + "?" + q, nil
}

// Present reports whether the query carries any signed-link parameter: such
// a request is to be judged by Verify, not by another credential.
func Present(q url.Values) bool {
	return q.Has(ParamExpires) || q.Has(ParamUser) || q.Has(ParamSig)
}

// The errors Verify returns are UNAUTHENTICATED (HTTP 401), not FORBIDDEN:
// the link is the request's credential, and the remedy is a fresh one, as
// for an expired token. Whether the viewer may read the document is decided
// afterwards, as for a bearer request.

func errInvalid() error {
	return apperr.Unauthenticatedf("This download link is not valid for this document; ask for the document's downloadUrl again.")
}

func errExpired() error {
	return apperr.Unauthenticatedf("This download link has expired; ask for the document's downloadUrl again.")
}

// Verify checks a link's query for the document and returns the identity it
// was signed for, with ExpiresAt the link's expiry. A malformed, tampered,
// expired link or one for another document fails with UNAUTHENTICATED.
func (s *Signer) Verify(doc uuid.UUID, q url.Values) (*auth.Identity, error) {
	expires, ok1 := single(q, ParamExpires)
	user, ok2 := single(q, ParamUser)
	sig, ok3 := single(q, ParamSig)
	if !ok1 || !ok2 || !ok3 || len(user) > maxUserParam {
		return nil, errInvalid()
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return nil, errInvalid()
	}
	if !hmac.Equal(got, s.mac(doc, expires, user)) {
		return nil, errInvalid()
	}
	// Signed by this server: what follows only reads what it wrote.
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil {
		return nil, errInvalid()
	}
	now := s.now()
	at := time.Unix(exp, 0)
	if !now.Before(at) {
		return nil, errExpired()
	}
	// A link outlives the lifetime only if the lifetime was shortened since
	// it was made: then the shorter one holds.
	if at.Sub(now) > s.lifetime {
		return nil, errExpired()
	}
	id, err := decodeViewer(user)
	if err != nil {
		return nil, errInvalid()
	}
	id.ExpiresAt = at
	return id, nil
}

// single is the query's only value of key.
func single(q url.Values, key string) (string, bool) {
	v := q[key]
	if len(v) != 1 || v[0] == "" {
		return "", false
	}
	return v[0], true
}

func (s *Signer) sign(doc uuid.UUID, expires, user string) string {
	return base64.RawURLEncoding.EncodeToString(s.mac(doc, expires, user))
}

// mac is the HMAC of the link's fields. None of them can hold a newline
// (a UUID, decimal digits, base64url), so joining them with one is
// unambiguous.
func (s *Signer) mac(doc uuid.UUID, expires, user string) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte(strings.Join([]string{label, doc.String(), expires, user}, "\n")))
	return h.Sum(nil)
}

// viewer is the identity a link carries, as a JSON array in a fixed order:
// [user ID, organisation ID, tenant ID, roles sorted].
type viewer struct {
	UserID       string
	Organization uuid.UUID
	Tenant       uuid.UUID
	Roles        []string
}

func encodeViewer(id *auth.Identity) (string, error) {
	roles := make([]string, len(id.Roles))
	for i, r := range id.Roles {
		roles[i] = string(r)
	}
	slices.Sort(roles)
	roles = slices.Compact(roles)
	b, err := json.Marshal([]any{id.UserID, id.OrganizationID.String(), id.TenantID.String(), roles})
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func decodeViewer(user string) (*auth.Identity, error) {
	b, err := base64.RawURLEncoding.DecodeString(user)
	if err != nil {
		return nil, err
	}
	var fields []json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, err
	}
	if len(fields) != 4 {
		return nil, errors.New("a viewer key has four fields")
	}
	var v viewer
	var org, tenant string
	for i, dest := range []any{&v.UserID, &org, &tenant, &v.Roles} {
		if err := json.Unmarshal(fields[i], dest); err != nil {
			return nil, err
		}
	}
	if v.Organization, err = uuid.Parse(org); err != nil {
		return nil, err
	}
	if v.Tenant, err = uuid.Parse(tenant); err != nil {
		return nil, err
	}
	id := &auth.Identity{UserID: v.UserID, OrganizationID: v.Organization, TenantID: v.Tenant}
	for _, r := range v.Roles {
		id.Roles = append(id.Roles, auth.Role(r))
	}
	return id, nil
}
