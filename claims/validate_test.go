package claims_test

import (
	"errors"
	"net/mail"
	"strings"
	"testing"

	"cpor/apperr"
	"cpor/catalog"
	"cpor/claims"
)

func TestNormalizeEmail(t *testing.T) {
	good := []struct{ in, want string }{
		{"ada@contoso.com", "ada@contoso.com"},
		{"Ada.Lovelace@Contoso.COM", "Ada.Lovelace@contoso.com"},
		{"  ada@contoso.onmicrosoft.com\n", "ada@contoso.onmicrosoft.com"},
		{"a+tag@x.io", "a+tag@x.io"},
		{"o'brien@example.org", "o'brien@example.org"},
		{"first_last-1@sub.example.co.uk", "first_last-1@sub.example.co.uk"},
		{strings.Repeat("a", 64) + "@contoso.com", strings.Repeat("a", 64) + "@contoso.com"},
	}
	for _, c := range good {
		t.Run("good "+c.in, func(t *testing.T) {
			got, err := claims.NormalizeEmail(c.in, "input.customerContact.email")
			if err != nil {
				t.Fatalf("NormalizeEmail(%q): %v", c.in, err)
			}
			if got != c.want {
				t.Fatalf("NormalizeEmail(%q) = %q; want %q", c.in, got, c.want)
			}
		})
	}
	bad := []string{
		"",
		"   ",
		"ada",
		"ada@",
		"@contoso.com",
		"ada@@contoso.com",
		"ada@contoso",
		"ada@localhost",
		"ada@contoso..com",
		"ada@-contoso.com",
		"ada@contoso.123",
		"ada@[10.0.0.1]",
		"ada@contoso_x.com",
		"ada@bücher.example",
		"ada@\u212aontoso.com", // KELVIN SIGN is not the letter k
		"Ada Lovelace <ada@contoso.com>",
		"<ada@contoso.com>",
		"ada@contoso.com (Ada)",
		"ada@contoso.com, ben@contoso.com",
		"ada lovelace@contoso.com",
		`"ada"@contoso.com`,
		`"ada@x"@contoso.com`,
		"ada.@contoso.com",
		".ada@contoso.com",
		"ada..l@contoso.com",
		strings.Repeat("a", 65) + "@contoso.com",
		"ada@" + strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 63) + ".com",
	}
	for _, in := range bad {
		t.Run("bad "+in, func(t *testing.T) {
			got, err := claims.NormalizeEmail(in, "input.partnerContact.email")
			if err == nil {
				t.Fatalf("NormalizeEmail(%q) = %q; want an error", in, got)
			}
			var e *apperr.Error
			if !errors.As(err, &e) || e.Code != apperr.InvalidInput || e.Field != "input.partnerContact.email" {
				t.Fatalf("NormalizeEmail(%q) error = %v; want INVALID_INPUT on the field", in, err)
			}
			if !strings.Contains(e.Message, "ada@contoso.com") {
				t.Errorf("message %q shows no example", e.Message)
			}
		})
	}
}

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{
		"ada@contoso.com", "Ada.Lovelace@Contoso.COM", " a+b@x.io ", "o'brien@example.org",
		"Ada <ada@contoso.com>", `"a b"@contoso.com`, `"a@b"@contoso.com`, "ada@[10.0.0.1]",
		"ada@\u212aontoso.com", "ädä@contoso.com", "a@b@c.com", "a(c)@contoso.com", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		out, err := claims.NormalizeEmail(raw, "email")
		if err != nil {
			var e *apperr.Error
			if !errors.As(err, &e) || e.Code != apperr.InvalidInput || e.Field != "email" {
				t.Fatalf("NormalizeEmail(%q) error %v is not INVALID_INPUT on email", raw, err)
			}
			if out != "" {
				t.Fatalf("NormalizeEmail(%q) returned %q with its error", raw, out)
			}
			return
		}
		if strings.Count(out, "@") != 1 {
			t.Fatalf("NormalizeEmail(%q) = %q does not hold exactly one @", raw, out)
		}
		local, domain, _ := strings.Cut(out, "@")
		if local == "" || len(local) > 64 || len(out) > 254 {
			t.Fatalf("NormalizeEmail(%q) = %q: local part of %d bytes, %d in all", raw, out, len(local), len(out))
		}
		if d, err := catalog.NormalizeDomain(domain); err != nil || d != domain {
			t.Fatalf("NormalizeEmail(%q) = %q: domain is not canonical (%q, %v)", raw, out, d, err)
		}
		// Only the domain's case changes: the local part is kept as typed.
		inLocal, inDomain, _ := strings.Cut(strings.TrimSpace(raw), "@")
		if local != inLocal || !strings.EqualFold(domain, inDomain) {
			t.Fatalf("NormalizeEmail(%q) = %q changed more than the domain's case", raw, out)
		}
		// It is one plain address that mail parsing reads back unchanged.
		if a, err := mail.ParseAddress(out); err != nil || a.Name != "" || a.Address != out {
			t.Fatalf("NormalizeEmail(%q) = %q, which does not parse as itself: %+v, %v", raw, out, a, err)
		}
		again, err := claims.NormalizeEmail(out, "email")
		if err != nil || again != out {
			t.Fatalf("NormalizeEmail is not idempotent: %q -> %q -> %q, %v", raw, out, again, err)
		}
	})
}
