package textrule

import (
	"path"
	"strings"
	"unicode/utf8"
)

const (
	// MaxFileNameBytes bounds a stored file name, as most file systems do.
	MaxFileNameBytes = 255
	// DefaultFileName names an upload whose name has nothing left to keep.
	DefaultFileName = "document"
	// maxExtensionBytes is the longest extension kept whole when a long name
	// is cut: ".docx" survives, a "." in the middle of a sentence does not.
	maxExtensionBytes = 16
)

// FileName makes a client's file name safe to store and to send back in a
// Content-Disposition header: valid UTF-8 (invalid bytes become U+FFFD), the
// base name only (a path's directories dropped), without control or
// text-direction characters or double quotes, at most MaxFileNameBytes
// bytes cut at a character boundary (keeping a short extension), and
// DefaultFileName when nothing is left. Unlike typed text, an upload's name
// is cleaned rather than refused: the client's operating system chose it.
func FileName(raw string) string {
	name := strings.ToValidUTF8(raw, string(utf8.RuneError))
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r == '"' || !Name.Allows(r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(cut(strings.TrimSpace(name), MaxFileNameBytes))
	if strings.Trim(name, ".") == "" {
		return DefaultFileName
	}
	return name
}

// cut shortens name to at most max bytes without splitting a character,
// keeping a short extension.
func cut(name string, max int) string {
	if len(name) <= max {
		return name
	}
	ext := path.Ext(name)
	if len(ext) > maxExtensionBytes || len(ext) == len(name) {
		ext = ""
	}
	stem := name[:len(name)-len(ext)]
	return strings.TrimSpace(prefix(stem, max-len(ext))) + ext
}

// prefix is the longest prefix of s of at most max bytes that ends at a
// character boundary.
func prefix(s string, max int) string {
	if len(s) <= max {
		return s
	}
	for max > 0 && !utf8.RuneStart(s[max]) {
		max--
	}
	return s[:max]
}
