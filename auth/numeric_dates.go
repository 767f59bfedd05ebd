package auth

import (
	"encoding/json"
	"fmt"

	"cpor/apperr"
)

// UnmarshalJSON refuses a token whose exp, nbf or iat is present but not a
// JSON number, then decodes it as usual. RFC 7519 makes these claims
// numbers; golang-jwt also takes a string of digits ("exp": "1999999999"),
// which a standard issuer never sends, so such a token is refused rather
// than read two ways.
func (c *Claims) UnmarshalJSON(b []byte) error {
	if err := checkNumericDates(b); err != nil {
		return err
	}
	type plain Claims // the same fields without this method
	if err := json.Unmarshal(b, (*plain)(c)); err != nil {
		return fmt.Errorf("decode the token's claims: %w", err)
	}
	return nil
}

// checkNumericDates refuses a token payload whose exp, nbf or iat is present
// but not a JSON number.
func checkNumericDates(b []byte) error {
	var dates struct {
		Exp json.RawMessage `json:"exp"`
		Nbf json.RawMessage `json:"nbf"`
		Iat json.RawMessage `json:"iat"`
	}
	if err := json.Unmarshal(b, &dates); err != nil {
		return fmt.Errorf("decode the token's dates: %w", err)
	}
	for _, d := range []struct {
		claim string
		raw   json.RawMessage
	}{{"exp", dates.Exp}, {"nbf", dates.Nbf}, {"iat", dates.Iat}} {
		if d.raw != nil && !isJSONNumber(d.raw) {
			return apperr.Unauthenticatedf("The token's %s must be a number (seconds since 1970-01-01 UTC), not %s; ask the identity provider for a standard JWT.", d.claim, jsonKind(d.raw))
		}
	}
	return nil
}

// isJSONNumber reports whether raw, a valid JSON value, is a number.
func isJSONNumber(raw json.RawMessage) bool {
	return len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9')
}

// jsonKind names the kind of raw, a valid JSON value other than a number,
// without echoing what the token holds.
func jsonKind(raw json.RawMessage) string {
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 'n':
		return "null"
	}
	return "a boolean"
}
