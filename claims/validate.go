package claims

import (
	"net/mail"
	"strings"

	"cpor/apperr"
	"cpor/catalog"
	"cpor/textrule"
)

// NormalizeEmail checks an e-mail address as a person types it: text that
// keeps the e-mail rule, one plain address (no display name), with a valid
// domain. It returns the address with the domain lower-cased.
func NormalizeEmail(raw, field string) (string, error) {
	const example = "ada@contoso.com"
	s, err := textrule.Email.Clean(raw, field)
	if err != nil {
		return "", apperr.Invalidf(field, "%s Enter an address such as %s.", err.(*apperr.Error).Message, example)
	}
	bad := apperr.Invalidf(field, "%s is not an e-mail address; enter one such as %s.", apperr.Quote(s), example)
	if s == "" {
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
