package catalog_test

import (
	"errors"
	"strings"
	"testing"

	"cpor/apperr"
	"cpor/catalog"
)

// domainTestLowerASCII lower-cases ASCII letters only, the one change NormalizeDomain
// may make to a name's characters.
func domainTestLowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// checkDomainShape fails unless d is a canonical domain name: lower-case
// ASCII letters, digits and hyphens in 2 or more labels of 1 to 63
// characters that neither start nor end with a hyphen, at most 253
// characters, with a last label that is not all digits.
func checkDomainShape(t *testing.T, d string) {
	t.Helper()
	if len(d) > 253 {
		t.Fatalf("%q is longer than 253 characters", d)
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		t.Fatalf("%q has fewer than two labels", d)
	}
	for _, l := range labels {
		if len(l) < 1 || len(l) > 63 {
			t.Fatalf("%q has a label of %d characters", d, len(l))
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			t.Fatalf("%q has a label %q that starts or ends with a hyphen", d, l)
		}
		for _, c := range []byte(l) {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				t.Fatalf("%q holds %q", d, c)
			}
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		t.Fatalf("%q ends in a numeric label", d)
	}
}

func TestNormalizeDomain(t *testing.T) {
	label63 := strings.Repeat("a", 63)
	// 63+1+63+1+63+1+61 = 253 characters.
	longest := label63 + "." + label63 + "." + label63 + "." + strings.Repeat("b", 61)
	good := []struct{ in, want string }{
		{"contoso.com", "contoso.com"},
		{"Contoso.COM", "contoso.com"},
		{"  contoso.onmicrosoft.com\t", "contoso.onmicrosoft.com"},
		{"contoso.com.", "contoso.com"},
		{"NORTHWIND.onmicrosoft.com.", "northwind.onmicrosoft.com"},
		{"a-b.c-d.example", "a-b.c-d.example"},
		{"123.example", "123.example"},
		{"sub.123.example", "sub.123.example"},
		{"x.io", "x.io"},
		{"xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"a.b2", "a.b2"},
		{label63 + ".com", label63 + ".com"},
		{longest, longest},
		{longest + ".", longest},
	}
	for _, c := range good {
		t.Run("good "+c.in, func(t *testing.T) {
			got, err := catalog.NormalizeDomain(c.in)
			if err != nil {
				t.Fatalf("NormalizeDomain(%q): %v", c.in, err)
			}
			if got != c.want {
				t.Fatalf("NormalizeDomain(%q) = %q; want %q", c.in, got, c.want)
			}
		})
	}
	bad := []string{
		"",
		"   ",
		".",
		"localhost",
		"contoso",
		".contoso.com",
		"contoso..com",
		"contoso.com..",
		"-contoso.com",
		"contoso-.com",
		"contoso.-com",
		"contoso.com-",
		"contoso.123",
		"10.0.0.1",
		"conto so.com",
		"contoso_x.com",
		"contoso.com/path",
		"https://contoso.com",
		"ada@contoso.com",
		"contoso.com:443",
		"*.contoso.com",
		"bücher.example",                 // must be given as xn--
		"contoso.c\u043em",               // Cyrillic o
		"\u212aontoso.com",               // KELVIN SIGN, lower-cases to k
		"contoso\u3002com",               // ideographic full stop
		"contoso.com\x00",                //
		strings.Repeat("a", 64) + ".com", // label of 64
		longest + "b",                    // 254 characters
		label63 + "." + label63 + "." + label63 + "." + label63, // 255
	}
	for _, in := range bad {
		t.Run("bad "+in, func(t *testing.T) {
			got, err := catalog.NormalizeDomain(in)
			if err == nil {
				t.Fatalf("NormalizeDomain(%q) = %q; want an error", in, got)
			}
			var e *apperr.Error
			if !errors.As(err, &e) || e.Code != apperr.InvalidInput || e.Field != "customerDomain" {
				t.Fatalf("NormalizeDomain(%q) error = %v; want INVALID_INPUT on customerDomain", in, err)
			}
			if !strings.Contains(e.Message, "contoso.onmicrosoft.com") {
				t.Errorf("message %q does not show an example", e.Message)
			}
		})
	}
}

func TestInitialDomain(t *testing.T) {
	d := catalog.InitialDomain("northwind")
	if d != "northwind.onmicrosoft.com" {
		t.Fatalf("InitialDomain = %q", d)
	}
	if got, err := catalog.NormalizeDomain(d); err != nil || got != d {
		t.Fatalf("the initial domain is not canonical: %q, %v", got, err)
	}
}

func FuzzNormalizeDomain(f *testing.F) {
	for _, s := range []string{
		"contoso.com", "Contoso.COM.", " northwind.onmicrosoft.com ", "a.b", "123.example", "contoso.123",
		"xn--bcher-kva.example", "bücher.example", "\u212aontoso.com", "-a.com", "a..b", ".", "",
		strings.Repeat("a.", 130) + "com", strings.Repeat("a", 64) + ".com",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		d, err := catalog.NormalizeDomain(raw)
		if err != nil {
			if d != "" {
				t.Fatalf("NormalizeDomain(%q) returned %q with its error", raw, d)
			}
			if apperr.CodeOf(err) != apperr.InvalidInput {
				t.Fatalf("NormalizeDomain(%q) error %v is not INVALID_INPUT", raw, err)
			}
			return
		}
		checkDomainShape(t, d)
		if d != strings.ToLower(d) {
			t.Fatalf("NormalizeDomain(%q) = %q is not lower case", raw, d)
		}
		// The only changes are trimming spaces and a final dot and
		// lower-casing ASCII letters: no other character becomes a letter.
		if want := domainTestLowerASCII(strings.TrimSuffix(strings.TrimSpace(raw), ".")); d != want {
			t.Fatalf("NormalizeDomain(%q) = %q; want %q (ASCII case folded only)", raw, d, want)
		}
		again, err := catalog.NormalizeDomain(d)
		if err != nil || again != d {
			t.Fatalf("NormalizeDomain is not idempotent: %q -> %q -> %q, %v", raw, d, again, err)
		}
		// Spelling it in upper case with a final dot names the same domain.
		if up, err := catalog.NormalizeDomain(strings.ToUpper(d) + "."); err != nil || up != d {
			t.Fatalf("NormalizeDomain(%q) = %q, %v; want %q", strings.ToUpper(d)+".", up, err, d)
		}
	})
}
