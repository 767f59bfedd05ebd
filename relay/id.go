// Package relay implements the Relay conventions the API follows: opaque
// global IDs for the Node interface, and cursor connections paged by keyset
// over GORM queries.
package relay

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"cpor/apperr"
)

// Node type names, as they appear in global IDs and the schema.
const (
	TypeClaim           = "Claim"
	TypeComment         = "Comment"
	TypeDocument        = "ProofOfExecution"
	TypeClaimEvent      = "ClaimEvent"
	TypeMpn             = "Mpn"
	TypeOrganization    = "PartnerOrganization"
	TypeCustomerTenant  = "CustomerTenant"
	TypeProduct         = "Product"
	TypeSubscription    = "Subscription"
	TypeAssociation     = "Association"
	TypeArbitrationCase = "ArbitrationCase"
	TypeNotification    = "Notification"
	TypeWebhookEndpoint = "WebhookEndpoint"
	TypeWebhookDelivery = "WebhookDelivery"
)

// GlobalID returns the opaque ID of the object of the type with the key.
func GlobalID(typ, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typ + ":" + key))
}

// UUIDGlobalID is GlobalID for objects keyed by a UUID.
func UUIDGlobalID(typ string, id uuid.UUID) string { return GlobalID(typ, id.String()) }

// ParseGlobalID splits a global ID into its type and key.
func ParseGlobalID(id string) (typ, key string, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(id, "="))
	if err != nil {
		return "", "", false
	}
	typ, key, ok = strings.Cut(string(raw), ":")
	return typ, key, ok && typ != "" && key != ""
}

// ParseUUID reads a global ID of the wanted type keyed by a UUID; field names
// the input for the error.
func ParseUUID(id, wantType, field string) (uuid.UUID, error) {
	typ, key, ok := ParseGlobalID(id)
	if !ok || typ != wantType {
		return uuid.Nil, apperr.Invalidf(field, "%s is not a %s ID; use the id field of a %s.", apperr.Quote(id), wantType, wantType)
	}
	u, err := uuid.Parse(key)
	if err != nil || u.String() != key {
		return uuid.Nil, apperr.Invalidf(field, "%s is not a %s ID; use the id field of a %s.", apperr.Quote(id), wantType, wantType)
	}
	return u, nil
}

// ParseInt64 reads a global ID of the wanted type keyed by an integer.
func ParseInt64(id, wantType, field string) (int64, error) {
	typ, key, ok := ParseGlobalID(id)
	n, err := strconv.ParseInt(key, 10, 64)
	if !ok || typ != wantType || err != nil || n <= 0 || strconv.FormatInt(n, 10) != key {
		return 0, apperr.Invalidf(field, "%s is not a %s ID.", apperr.Quote(id), wantType)
	}
	return n, nil
}

// ParseGUID reads a plain GUID as customers and Partner Center show them
// (tenant and subscription IDs), in any of the usual spellings, and returns
// it in canonical form.
func ParseGUID(s, field, what string) (uuid.UUID, error) {
	s = strings.TrimSpace(s)
	// uuid.Parse also accepts "urn:uuid:" prefixes and 32 bare hex digits;
	// Partner Center shows the hyphenated form, with or without braces.
	trimmed := strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	if len(trimmed) != 36 || (trimmed != s && len(s) != 38) {
		return uuid.Nil, apperr.Invalidf(field, "%s is not a valid %s: enter a GUID such as 8c6d5e2a-1b3f-4a5c-9d7e-0f1a2b3c4d5e.", apperr.Quote(s), what)
	}
	u, err := uuid.Parse(trimmed)
	if err != nil {
		return uuid.Nil, apperr.Invalidf(field, "%s is not a valid %s: enter a GUID such as 8c6d5e2a-1b3f-4a5c-9d7e-0f1a2b3c4d5e.", apperr.Quote(s), what)
	}
	return u, nil
}
