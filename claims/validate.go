package claims

import (
	"net/mail"
	"strings"
	"unicode/utf8"

	"cpor/apperr"
	"cpor/catalog"
)

const (
	maxNameLength    = 200
	maxNotesLength   = 4000
	maxCommentLength = 10000
)

// NormalizeEmail checks an e-mail address as a person types it: one plain
// address (no display name), with a valid domain. It returns the address
// with the domain lower-cased.
func NormalizeEmail(raw, field string) (string, error) {
	s := strings.TrimSpace(raw)
	bad := apperr.Invalidf(field, "%q is not an e-mail address; enter one such as ada@contoso.com.", raw)
	if s == "" || len(s) > 254 {
		return "", bad
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return "", bad
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || len(local) > 64 {
		return "", bad
	}
	domain, err = catalog.NormalizeDomain(domain)
	if err != nil {
		return "", bad
	}
	return local + "@" + domain, nil
}

// cleanText trims a free-text field and bounds its length.
func cleanText(raw, field string, max int) (string, error) {
	s := strings.TrimSpace(raw)
	if !utf8.ValidString(s) {
		return "", apperr.Invalidf(field, "The text is not valid UTF-8.")
	}
	if utf8.RuneCountInString(s) > max {
		return "", apperr.Invalidf(field, "Keep this to %d characters or fewer.", max)
	}
	return s, nil
}
