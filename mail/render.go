package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"

	"cpor/models"
	"cpor/relay"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

// kind is one sort of mail: its text template (which also defines the
// subject) and its HTML template.
type kind struct {
	name string
	text *texttemplate.Template
	html *htmltemplate.Template
}

var textFuncs = texttemplate.FuncMap{
	"add": func(a, b int) int { return a + b },
	// indent keeps a multi-line body inside its list item.
	"indent": func(s string) string { return strings.ReplaceAll(s, "\n", "\n   ") },
}

func mustKind(name string) kind {
	return kind{
		name: name,
		text: texttemplate.Must(texttemplate.New(name).Funcs(textFuncs).ParseFS(templateFS,
			"templates/common.txt.tmpl", "templates/"+name+".txt.tmpl")),
		html: htmltemplate.Must(htmltemplate.New(name).ParseFS(templateFS,
			"templates/common.html.tmpl", "templates/"+name+".html.tmpl")),
	}
}

var (
	notificationMail = mustKind("notification")
	digestMail       = mustKind("digest")
)

// view is what the templates see. N is a single mail's notification,
// Items a digest's.
type view struct {
	Name   string
	AppURL string
	// Why says why the reader receives the mail.
	Why   string
	N     item
	Items []item
}

type item struct {
	Title, Body, NextStep string
	HasClaim              bool
	ClaimName             string
	// ClaimStatus is worded for people: "under review".
	ClaimStatus string
	// Link is the claim in the app, or empty.
	Link string
	Time string
}

// rendered is a mail ready to send.
type rendered struct {
	Subject, Text, HTML string
}

func (k kind) render(v view) (rendered, error) {
	var subject, text, html bytes.Buffer
	if err := k.text.ExecuteTemplate(&subject, "subject", v); err != nil {
		return rendered{}, fmt.Errorf("mail: rendering %s subject: %w", k.name, err)
	}
	if err := k.text.ExecuteTemplate(&text, k.name+".txt.tmpl", v); err != nil {
		return rendered{}, fmt.Errorf("mail: rendering %s text: %w", k.name, err)
	}
	if err := k.html.ExecuteTemplate(&html, k.name+".html.tmpl", v); err != nil {
		return rendered{}, fmt.Errorf("mail: rendering %s html: %w", k.name, err)
	}
	return rendered{Subject: oneLine(subject.String()), Text: text.String(), HTML: html.String()}, nil
}

// oneLine keeps a header value on one line whatever a title holds.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

var audienceWords = map[models.Audience]string{
	models.AudiencePartnerAdmins:  "your organisation's partner admins",
	models.AudienceReviewers:      "the reviewers",
	models.AudienceCustomerAdmins: "your organisation's customer admins",
	models.AudienceOperators:      "the operators",
}

func (s *Sender) itemOf(n models.Notification) item {
	it := item{
		Title: n.Title, Body: n.Body, NextStep: n.NextStep,
		HasClaim: n.ClaimID != nil, ClaimName: n.ClaimName,
		ClaimStatus: strings.ToLower(strings.ReplaceAll(string(n.ClaimStatus), "_", " ")),
		Time:        n.CreatedAt.UTC().Format("Mon 2 Jan 2006, 15:04 UTC"),
	}
	if n.ClaimID != nil {
		if it.ClaimName == "" {
			it.ClaimName = n.ClaimID.String()
		}
		if s.cfg.AppURL != "" {
			// The claim's global ID, as the API and the web app name it.
			it.Link = s.cfg.AppURL + "/claims/" + relay.UUIDGlobalID(relay.TypeClaim, *n.ClaimID)
		}
	}
	return it
}

func (s *Sender) renderNotification(name string, n models.Notification) (rendered, error) {
	why := "You receive this e-mail because you asked CPOR to e-mail you each notification"
	if w, ok := audienceWords[n.Audience]; ok {
		why += ", and this one is for " + w
	}
	return notificationMail.render(view{
		Name: name, AppURL: s.cfg.AppURL, Why: why + ".", N: s.itemOf(n),
	})
}

func (s *Sender) renderDigest(d Digest) (rendered, error) {
	items := make([]item, len(d.Notifications))
	for i, n := range d.Notifications {
		items[i] = s.itemOf(n)
	}
	return digestMail.render(view{
		Name: d.Name, AppURL: s.cfg.AppURL, Items: items,
		Why: "You receive this e-mail because you asked CPOR for a daily digest of your notifications.",
	})
}
