package textrule_test

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"cpor/apperr"
	"cpor/textrule"
)

var kinds = map[string]textrule.Kind{
	"Name": textrule.Name, "Code": textrule.Code, "Email": textrule.Email,
	"Reason": textrule.Reason, "Notes": textrule.Notes, "Comment": textrule.Comment,
}

// wantRefused fails unless err is one INVALID_INPUT on field whose message
// holds every fragment.
func wantRefused(t *testing.T, err error, field string, fragments ...string) {
	t.Helper()
	var e *apperr.Error
	if !errors.As(err, &e) || e.Code != apperr.InvalidInput || e.Field != field {
		t.Fatalf("error %v; want INVALID_INPUT on %s", err, field)
	}
	for _, f := range fragments {
		if !strings.Contains(e.Message, f) {
			t.Fatalf("message %q does not say %q", e.Message, f)
		}
	}
}

func TestLimits(t *testing.T) {
	want := map[string]struct {
		max       int
		multiline bool
	}{
		"Name": {200, false}, "Code": {100, false}, "Email": {254, false},
		"Reason": {2000, true}, "Notes": {4000, true}, "Comment": {10000, true},
	}
	for name, k := range kinds {
		if w := want[name]; k.MaxChars != w.max || k.Multiline != w.multiline {
			t.Errorf("%s = %+v; the README documents %+v", name, k, w)
		}
	}
}

func TestEveryKindAcceptsOrdinaryTextUpToItsLimit(t *testing.T) {
	for name, k := range kinds {
		t.Run(name, func(t *testing.T) {
			for _, s := range []string{
				"Dana Diaz",
				"Zoë Ångström-Łukasiewicz",
				"مريم الحسيني\u200f", // right-to-left, with a right-to-left mark
				"李小龍 🙂",
				"a\u00a0b",                      // no-break space
				strings.Repeat("é", k.MaxChars), // characters, not bytes
				strings.Repeat("🙂", k.MaxChars), // 4 bytes each
			} {
				got, err := k.Clean(s, "input.x")
				if err != nil || got != s {
					t.Errorf("Clean(%.40q) = %.40q, %v", s, got, err)
				}
			}
		})
	}
}

func TestEveryKindTrimsTheEdgesOnly(t *testing.T) {
	for name, k := range kinds {
		got, err := k.Clean(" \t Dana  Diaz \n", "f")
		if err != nil || got != "Dana  Diaz" {
			t.Errorf("%s: Clean = %q, %v", name, got, err)
		}
		// The limit applies to what is left after trimming.
		got, err = k.Clean("  "+strings.Repeat("x", k.MaxChars)+"  ", "f")
		if err != nil || len(got) != k.MaxChars {
			t.Errorf("%s: a text at the limit with spaces around: %d, %v", name, len(got), err)
		}
	}
}

func TestEveryKindRefuses(t *testing.T) {
	for name, k := range kinds {
		t.Run(name, func(t *testing.T) {
			cases := []struct {
				name, text string
				says       []string
			}{
				{"NUL", "Dana\x00Diaz", []string{"U+0000", "character 5"}},
				{"escape", "\x1b[31mred", []string{"U+001B", "character 1"}},
				{"bell", "a\ab", []string{"U+0007"}},
				{"DEL", "a\x7fb", []string{"U+007F"}},
				{"C1 control", "a\u0085b\u009bc", []string{"U+0085", "character 2", "1 more"}},
				{"right-to-left override", "invoice\u202efdp.exe", []string{"text-direction control U+202E", "character 8"}},
				{"left-to-right override", "a\u202db", []string{"U+202D"}},
				{"embedding", "a\u202ab\u202c", []string{"U+202A"}},
				{"isolate", "a\u2067b\u2069", []string{"U+2067"}},
				{"invalid UTF-8", "caf\xe9", []string{"not valid UTF-8"}},
				{"encoded surrogate", "a\xed\xa0\x80b", []string{"not valid UTF-8"}},
				{"cut in a character", "ab\xe2\x82", []string{"not valid UTF-8"}},
				{"one over the limit", strings.Repeat("x", k.MaxChars+1), []string{"characters or fewer", "it has"}},
				{"far over the limit", strings.Repeat("é", 200*1024), []string{"characters or fewer"}},
				{"every problem at once", "\xff\x00" + strings.Repeat("x", k.MaxChars), []string{"UTF-8", "U+0000", "characters or fewer"}},
			}
			for _, c := range cases {
				got, err := k.Clean(c.text, "input.customerContact.name")
				if got != "" {
					t.Errorf("%s: Clean returned %.40q with the error", c.name, got)
				}
				wantRefused(t, err, "input.customerContact.name", c.says...)
			}
		})
	}
}

func TestLinesAndTabsOnlyInMultilineKinds(t *testing.T) {
	text := "Agenda:\n\t1. Kick-off\r\n\t2. Demo"
	for name, k := range kinds {
		got, err := k.Clean(text, "input.body")
		if k.Multiline {
			if err != nil || got != text {
				t.Errorf("%s: Clean(multi-line) = %q, %v", name, got, err)
			}
			continue
		}
		wantRefused(t, err, "input.body", "line break", "one line")
		_, err = k.Clean("a\tb", "input.body")
		wantRefused(t, err, "input.body", "the tab", "one line")
	}
}

func TestAllowsMatchesTheDocumentedRule(t *testing.T) {
	for _, r := range []rune{0, 0x1f, 0x7f, 0x80, 0x9f, 0x202a, 0x202e, 0x2066, 0x2069} {
		if textrule.Name.Allows(r) || textrule.Comment.Allows(r) {
			t.Errorf("U+%04X is allowed", r)
		}
	}
	for _, r := range []rune{' ', '~', 0xa0, 0x200e, 0x200f, 0x061c, 0x2028, 0x2065, 0x206a, 0xfeff, utf8.MaxRune} {
		if !textrule.Name.Allows(r) || !textrule.Comment.Allows(r) {
			t.Errorf("U+%04X is refused", r)
		}
	}
	for _, r := range []rune{'\n', '\r', '\t'} {
		if textrule.Name.Allows(r) || !textrule.Comment.Allows(r) {
			t.Errorf("U+%04X: single-line allows it or multi-line refuses it", r)
		}
	}
}

// accepts is the rule as documented, written independently of the package:
// valid UTF-8, no C0/DEL/C1 control (line breaks and tabs in multi-line
// text) and no explicit direction control, at most MaxChars characters.
func accepts(k textrule.Kind, s string) bool {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > k.MaxChars {
		return false
	}
	for _, r := range s {
		lineOrTab := r == '\n' || r == '\r' || r == '\t'
		control := r < 0x20 || (r >= 0x7f && r <= 0x9f)
		direction := (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
		if direction || (control && !(k.Multiline && lineOrTab)) {
			return false
		}
	}
	return true
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"Dana Diaz", " padded ", "a\x00b", "a\nb", "\xff", "a\u202eb", "\u0085x\u0085", strings.Repeat("x", 201)} {
		f.Add(s, uint8(0))
	}
	order := []textrule.Kind{textrule.Name, textrule.Code, textrule.Email, textrule.Reason, textrule.Notes, textrule.Comment}
	f.Fuzz(func(t *testing.T, raw string, which uint8) {
		k := order[int(which)%len(order)]
		got, err := k.Clean(raw, "input.f")
		trimmed := strings.TrimSpace(raw)
		if want := accepts(k, trimmed); want != (err == nil) {
			t.Fatalf("Clean(%q) with %+v: error %v; the rule says accepted=%v", raw, k, err, want)
		}
		if err != nil {
			wantRefused(t, err, "input.f")
			if got != "" {
				t.Fatalf("Clean(%q) returned %q with an error", raw, got)
			}
			return
		}
		if got != trimmed {
			t.Fatalf("Clean(%q) = %q; it may only trim", raw, got)
		}
	})
}

func TestFileName(t *testing.T) {
	long := strings.Repeat("a", 300)
	euro253 := strings.Repeat("a", 253) + "€€" // the first € spans bytes 254-256
	cases := []struct{ name, in, want string }{
		{"ordinary", "proof.pdf", "proof.pdf"},
		{"non-ASCII", "Präsentation März.pptx", "Präsentation März.pptx"},
		{"Windows path", `C:\Users\dana\proof.pdf`, "proof.pdf"},
		{"Unix path", "../../etc/passwd", "passwd"},
		{"trailing separator", "reports/", textrule.DefaultFileName},
		{"control characters", "pro\x00of\r\n.pdf\x1b", "proof.pdf"},
		{"C1 and DEL", "a\u0085b\x7f.pdf", "ab.pdf"},
		{"direction override", "invoice\u202efdp.exe", "invoicefdp.exe"},
		{"double quotes", `"proof".pdf`, "proof.pdf"},
		{"invalid UTF-8", "caf\xe9.pdf", "caf\uFFFD.pdf"},
		{"only invalid bytes", "\xff\xfe", "\uFFFD"},
		{"spaces around", "  proof.pdf  ", "proof.pdf"},
		{"empty", "", textrule.DefaultFileName},
		{"dots", "..", textrule.DefaultFileName},
		{"only controls", "\x00\x01", textrule.DefaultFileName},
		{"long, with an extension", long + ".pdf", long[:251] + ".pdf"},
		{"long, without an extension", long, long[:255]},
		{"long, with a long extension", "a." + long, ("a." + long)[:255]},
		{"cut inside a character", euro253, strings.Repeat("a", 253)},
		{"cut inside a character, before the extension", strings.Repeat("a", 249) + "€€.pdf", strings.Repeat("a", 249) + ".pdf"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := textrule.FileName(c.in)
			if got != c.want {
				t.Errorf("FileName(%q) = %q; want %q", c.in, got, c.want)
			}
			checkFileName(t, c.in, got)
		})
	}
}

// checkFileName fails unless name keeps every promise of FileName.
func checkFileName(t *testing.T, raw, name string) {
	t.Helper()
	if !utf8.ValidString(name) {
		t.Fatalf("FileName(%q) = %q is not valid UTF-8", raw, name)
	}
	if len(name) == 0 || len(name) > textrule.MaxFileNameBytes {
		t.Fatalf("FileName(%q) = %q has %d bytes", raw, name, len(name))
	}
	if strings.ContainsAny(name, `/\"`) {
		t.Fatalf("FileName(%q) = %q holds a separator or a quote", raw, name)
	}
	if name != strings.TrimSpace(name) || strings.Trim(name, ".") == "" {
		t.Fatalf("FileName(%q) = %q", raw, name)
	}
	for _, r := range name {
		if unicode.IsControl(r) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			t.Fatalf("FileName(%q) = %q holds U+%04X", raw, name, r)
		}
	}
}

func FuzzFileName(f *testing.F) {
	for _, s := range []string{"proof.pdf", `C:\a\b.pdf`, "\xff\xfe", strings.Repeat("€", 100) + ".docx", "a\u202eb", "..", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		name := textrule.FileName(raw)
		checkFileName(t, raw, name)
		// Cleaning a clean name changes nothing.
		if again := textrule.FileName(name); again != name {
			t.Fatalf("FileName(%q) = %q, but FileName(%q) = %q", raw, name, name, again)
		}
	})
}

func TestRequire(t *testing.T) {
	for _, blank := range []string{"", "   ", "\n\t "} {
		got, err := textrule.Reason.Require(blank, "input.reason", "Give the reason.")
		wantRefused(t, err, "input.reason", "Give the reason.")
		if got != "" {
			t.Errorf("Require(%q) = %q", blank, got)
		}
	}
	// A text that breaks the rule says so, not that it is missing.
	_, err := textrule.Reason.Require("\x00", "input.reason", "Give the reason.")
	wantRefused(t, err, "input.reason", "U+0000")
	if got, err := textrule.Reason.Require(" Late proof. ", "input.reason", "Give the reason."); err != nil || got != "Late proof." {
		t.Errorf("Require = %q, %v", got, err)
	}
}
