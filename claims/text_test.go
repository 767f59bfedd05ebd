package claims_test

// Free text that breaks its kind's rule (textrule) never reaches the
// database: on PostgreSQL a NUL used to fail the insert (INTERNAL), and
// SQLite stored invalid UTF-8 as it came.

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"cpor/apperr"
	"cpor/claims"
	"cpor/demo"
	"cpor/models"
	"cpor/testkit"
	"cpor/textrule"
)

// badText is text each kind refuses, by name: the characters any field
// refuses and one character over the kind's limit.
func badText(k textrule.Kind) map[string]string {
	bad := map[string]string{
		"NUL":                "Dana\x00Diaz",
		"escape":             "Dana\x1b[2JDiaz",
		"C1 control":         "Dana\u0085Diaz",
		"direction override": "Dana\u202eDiaz",
		"invalid UTF-8":      "Dana\xffDiaz",
		"over the limit":     strings.Repeat("é", k.MaxChars+1),
	}
	if !k.Multiline {
		bad["line break"] = "Dana\nDiaz"
		bad["tab"] = "Dana\tDiaz"
	}
	return bad
}

func TestDraftFreeTextIsChecked(t *testing.T) {
	fields := []struct {
		field string
		kind  textrule.Kind
		set   func(in *claims.DraftInput, text string)
	}{
		{"customerContact.name", textrule.Name, func(in *claims.DraftInput, s string) { in.CustomerContact.Name = s }},
		{"customerContact.title", textrule.Name, func(in *claims.DraftInput, s string) { in.CustomerContact.Title = s }},
		{"customerContact.email", textrule.Email, func(in *claims.DraftInput, s string) { in.CustomerContact.Email = s }},
		{"partnerContact.name", textrule.Name, func(in *claims.DraftInput, s string) { in.PartnerContact.Name = s }},
		{"partnerContact.email", textrule.Email, func(in *claims.DraftInput, s string) { in.PartnerContact.Email = s }},
		{"notes", textrule.Notes, func(in *claims.DraftInput, s string) { in.Notes = &s }},
	}
	eachWorld(t, func(t *testing.T, k kit) {
		draft := k.create("ada", k.woodgrove())
		before := k.w.Snapshot(t)
		for _, f := range fields {
			for name, text := range badText(f.kind) {
				t.Run(f.field+"/"+name, func(t *testing.T) {
					in := k.at(t).woodgrove()
					f.set(&in, text)
					_, err := k.w.Claims.Create(testkit.As("ada"), in)
					wantCode(t, err, apperr.InvalidInput, f.field)
					_, err = k.w.Claims.Update(testkit.As("ada"), draft.ID, nil, in)
					wantCode(t, err, apperr.InvalidInput, f.field)
				})
			}
		}
		// Every bad field of one form is reported at once.
		in := k.woodgrove()
		for _, f := range fields {
			f.set(&in, "x\x00")
		}
		_, err := k.w.Claims.Create(testkit.As("ada"), in)
		for _, f := range fields {
			wantCode(t, err, apperr.InvalidInput, f.field)
		}
		k.w.Unchanged(t, before, "drafts with bad text")

		// Several lines are notes' right; a name keeps its inner spaces.
		in = k.woodgrove()
		in.Notes = p("Workshop on 3 March:\n\t- demo\r\n\t- pilot")
		in.CustomerContact.Name = "  Zoë  Ångström "
		c, err := k.w.Claims.Update(testkit.As("ada"), draft.ID, nil, in)
		if err != nil || c.Notes != *in.Notes || c.CustomerContact.Name != "Zoë  Ångström" {
			t.Fatalf("update with multi-line notes: %+v, %v", c, err)
		}
	})
}

func TestCommentBodyIsChecked(t *testing.T) {
	eachWorld(t, func(t *testing.T, k kit) {
		c := k.demoClaim(demo.Contoso, models.UnderReview)
		before := k.w.Snapshot(t)
		for name, text := range badText(textrule.Comment) {
			for _, handle := range []string{"ada", "rita"} {
				_, err := k.w.Claims.AddComment(testkit.As(handle), c.ID, text)
				if !apperr.Is(err, apperr.InvalidInput) {
					t.Errorf("%s as %s: %v", name, handle, err)
				}
				wantCode(t, err, apperr.InvalidInput, "body")
			}
		}
		k.w.Unchanged(t, before, "comments with bad text")
		body := "Agenda attached.\n\tSee page 2."
		cm, err := k.w.Claims.AddComment(testkit.As("ada"), c.ID, body)
		if err != nil || cm.Body != body {
			t.Fatalf("multi-line comment: %+v, %v", cm, err)
		}
	})
}

// An upload's name is the client's operating system's: it is cleaned, not
// refused, and what either database stores is valid UTF-8 of at most 255
// bytes, the same on both.
func TestUploadFileNamesAreCleaned(t *testing.T) {
	cases := []struct{ name, fileName, want string }{
		{"cut inside a character", strings.Repeat("ü", 130) + ".pdf", strings.Repeat("ü", 125) + ".pdf"},
		{"255 bytes ending inside a character", strings.Repeat("a", 254) + "€", strings.Repeat("a", 254)},
		{"invalid UTF-8", "Pr\xe4sentation.pdf", "Pr\uFFFDsentation.pdf"},
		{"control characters", "proof\x00\r\n.pdf", "proof.pdf"},
		{"direction override", "invoice\u202efdp.exe", "invoicefdp.exe"},
		{"a path", `C:\Users\dana\proof.pdf`, "proof.pdf"},
		{"nothing left", "\x00/", textrule.DefaultFileName},
	}
	eachWorld(t, func(t *testing.T, k kit) {
		draft := k.create("ada", k.woodgrove())
		for _, c := range cases {
			doc, err := k.w.Claims.Attach(testkit.As("ada"), draft.ID, claims.Upload{FileName: c.fileName, Content: bytes.NewReader(testkit.PDF)})
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
				continue
			}
			var stored models.Document
			if err := k.w.DB.Where("id = ?", doc.ID).Take(&stored).Error; err != nil {
				t.Fatal(err)
			}
			if stored.FileName != c.want || !utf8.ValidString(stored.FileName) || len(stored.FileName) > 255 {
				t.Errorf("%s: stored %q (%d bytes); want %q", c.name, stored.FileName, len(stored.FileName), c.want)
			}
		}
	})
}
