package httpapi

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCSVCellNeutralisesFormulas(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"=1+1", "'=1+1"},
		{"+31 20 123", "'+31 20 123"},
		{"-2", "'-2"},
		{"@SUM(A1:A9)", "'@SUM(A1:A9)"},
		{"\t=cmd", "'\t=cmd"},
		{"\r=cmd", "'\r=cmd"},
		{`=HYPERLINK("http://evil.example","x")`, `'=HYPERLINK("http://evil.example","x")`},
		{"Contoso = good", "Contoso = good"},
		{"'quoted", "'quoted"},
		{"", ""},
		{"2025-03-01T09:00:00Z", "2025-03-01T09:00:00Z"},
		{"Q3 renewal, \"big\"", "Q3 renewal, \"big\""},
	} {
		if got := csvCell(c.in); got != c.want {
			t.Errorf("csvCell(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// Whatever a cell holds, the written CSV parses back with encoding/csv to
// the neutralised cell, and no parsed cell starts with a character a
// spreadsheet would take for a formula.
func FuzzCSVCell(f *testing.F) {
	for _, s := range []string{"=1+1", "a,b", "\"", "line\nbreak", "\r\n", "-", "@", "\t", " =x", "", "'="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			t.Skip("the service stores only valid UTF-8 (textrule)")
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		record := []string{csvCell(s), "x", csvCell(s)}
		if err := w.Write(record); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		got, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatalf("%q does not parse back: %v", buf.String(), err)
		}
		if len(got) != 1 || len(got[0]) != 3 {
			t.Fatalf("%q parsed as %q", buf.String(), got)
		}
		// encoding/csv reads a quoted \r\n as \n; nothing else changes.
		want := strings.ReplaceAll(record[0], "\r\n", "\n")
		for _, cell := range []string{got[0][0], got[0][2]} {
			if cell != want {
				t.Fatalf("cell %q read back as %q", want, cell)
			}
			if cell != "" && strings.IndexByte("=+-@\t\r", cell[0]) >= 0 {
				t.Fatalf("cell %q starts with a formula character", cell)
			}
		}
	})
}
