package catalog

import (
	"strings"

	"cpor/apperr"
)

// NormalizeDomain checks a DNS domain name as a partner types it and returns
// its canonical form: lower case, without surrounding spaces or a final dot.
// Internationalised names must be given in their xn-- (punycode) form, as
// Microsoft Entra stores them.
func NormalizeDomain(raw string) (string, error) {
	// Only ASCII letters are folded: strings.ToLower would turn some
	// non-ASCII letters (KELVIN SIGN U+212A) into ASCII ones and accept a
	// name the customer never had.
	d := strings.TrimSuffix(lowerASCII(strings.TrimSpace(raw)), ".")
	bad := func(why string) error {
		return apperr.Invalidf("customerDomain", "%s is not a domain name (%s); enter a domain such as contoso.onmicrosoft.com.", apperr.Quote(raw), why)
	}
	if d == "" {
		return "", bad("it is empty")
	}
	if len(d) > 253 {
		return "", bad("it is longer than 253 characters")
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return "", bad("it needs at least two labels")
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return "", bad("each label must be 1 to 63 characters")
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return "", bad("a label cannot start or end with a hyphen")
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", bad("only letters, digits and hyphens are allowed")
			}
		}
	}
	if tld := labels[len(labels)-1]; strings.Trim(tld, "0123456789") == "" {
		return "", bad("the last label cannot be numeric")
	}
	return d, nil
}

func lowerASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// InitialDomain returns the initial subdomain of a tenant named name:
// <name>.onmicrosoft.com.
func InitialDomain(name string) string { return name + ".onmicrosoft.com" }
