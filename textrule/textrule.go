// Package textrule holds the rules for the free text people type into the
// service: which characters each kind of field may hold and how long it may
// be. The domain packages check every free-text input with the rule of its
// kind before anything reaches the database, so text that PostgreSQL would
// refuse (a NUL) or that would mislead a reader (control characters,
// direction overrides) is INVALID_INPUT on the field, never INTERNAL.
package textrule

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"cpor/apperr"
)

// Kind is the rule of one kind of field: its length in characters (Unicode
// code points, after trimming) and whether it may span several lines.
type Kind struct {
	MaxChars  int
	Multiline bool
}

// The kinds of free text the API takes; the README lists their limits.
// Domain names have a stricter rule of their own (catalog.NormalizeDomain:
// ASCII letters, digits and hyphens, 253 characters).
var (
	// Name is a person's name or title, a tenant's or a product's name.
	Name = Kind{MaxChars: 200}
	// Code is an operator's product code.
	Code = Kind{MaxChars: 100}
	// Email is an e-mail address (RFC 5321's 254 characters).
	Email = Kind{MaxChars: 254}
	// Reason is what a reviewer or customer writes with a decision: a
	// rejection or escalation reason, an approval note, an information
	// request, an arbitration resolution, a decline.
	Reason = Kind{MaxChars: 2000, Multiline: true}
	// Notes are a claim's notes.
	Notes = Kind{MaxChars: 4000, Multiline: true}
	// Comment is the body of a comment in a claim's thread.
	Comment = Kind{MaxChars: 10000, Multiline: true}
)

// Clean trims the white space around raw and checks the rest against the
// kind's rule. A violation is one INVALID_INPUT error on field whose message
// names every problem of the text and what to change.
func (k Kind) Clean(raw, field string) (string, error) {
	s := strings.TrimSpace(raw)
	if problems := k.problems(s); len(problems) > 0 {
		return "", apperr.Invalidf(field, "%s", strings.Join(problems, " "))
	}
	return s, nil
}

// Require is Clean for a field that must not be empty: text that is empty
// once trimmed is INVALID_INPUT on field with the message missing, which
// says what to write.
func (k Kind) Require(raw, field, missing string) (string, error) {
	s, err := k.Clean(raw, field)
	if err == nil && s == "" {
		return "", apperr.Invalidf(field, "%s", missing)
	}
	return s, err
}

// problems describes each way s breaks the rule, one sentence each.
func (k Kind) problems(s string) []string {
	var out []string
	if !utf8.ValidString(s) {
		out = append(out, "The text is not valid UTF-8; send it encoded as UTF-8.")
	}
	if bad := k.firstRefused(s); bad.count > 0 {
		out = append(out, k.refusedSentence(bad))
	}
	if n := utf8.RuneCountInString(s); n > k.MaxChars {
		out = append(out, fmt.Sprintf("Keep this to %d characters or fewer; it has %d.", k.MaxChars, n))
	}
	return out
}

// refused is the first character the rule refuses, where it stands (1-based,
// in characters) and how many such characters the text holds.
type refused struct {
	r     rune
	at    int
	count int
}

func (k Kind) firstRefused(s string) refused {
	var bad refused
	at := 0
	for _, r := range s {
		at++
		if k.Allows(r) {
			continue
		}
		if bad.count == 0 {
			bad.r, bad.at = r, at
		}
		bad.count++
	}
	return bad
}

func (k Kind) refusedSentence(bad refused) string {
	more := ""
	if bad.count > 1 {
		more = fmt.Sprintf(" (and %d more like it)", bad.count-1)
	}
	hint := "this field holds one line of ordinary text"
	if k.Multiline {
		hint = "line breaks and tabs are the only control characters allowed here"
	}
	return fmt.Sprintf("Remove %s at character %d%s; %s.", describe(bad.r), bad.at, more, hint)
}

func describe(r rune) string {
	switch {
	case r == '\n' || r == '\r':
		return "the line break"
	case r == '\t':
		return "the tab"
	case isDirectionControl(r):
		return fmt.Sprintf("the text-direction control U+%04X", r)
	}
	return fmt.Sprintf("the control character U+%04X", r)
}

// Allows reports whether the kind's text may hold r: anything but control
// characters (C0, DEL, C1) and text-direction controls, with line breaks
// and tabs in multi-line text. The invalid-UTF-8 marker RuneError is
// allowed here; Clean refuses invalid UTF-8 on its own.
func (k Kind) Allows(r rune) bool {
	if k.Multiline && (r == '\n' || r == '\r' || r == '\t') {
		return true
	}
	return !unicode.IsControl(r) && !isDirectionControl(r)
}

// isDirectionControl reports the explicit embeddings, overrides and
// isolates (U+202A–U+202E, U+2066–U+2069). They reorder how the text that
// follows is shown, which can make a name or a reason read as something it
// is not (and a file name end in .pdf that ends in .exe). The implicit
// marks (LRM, RLM, ALM), which right-to-left writing may need, stay allowed.
func isDirectionControl(r rune) bool {
	return (r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069')
}
