package mail_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/google/uuid"

	"cpor/mail"
	"cpor/models"
	"cpor/outbox"
	gid "cpor/relay"
)

const appURL = "https://cpor.example"

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// config is a sender's configuration for a relay on loopback.
func config(port int, security string) mail.Config {
	return mail.Config{
		Host: "127.0.0.1", Port: port, Security: security,
		From: "CPOR <noreply@cpor.example>", AppURL: appURL + "/",
		Timeout: 5 * time.Second,
	}
}

func newSender(t *testing.T, cfg mail.Config) *mail.Sender {
	t.Helper()
	s, err := mail.NewSender(cfg, quiet)
	if err != nil {
		t.Fatalf("NewSender: %v", err)
	}
	return s
}

func notification(title, body string) *models.Notification {
	claim := uuid.New()
	return &models.Notification{
		ID: uuid.New(), Audience: models.AudiencePartnerAdmins, Kind: models.NotifyInformationRequested,
		ClaimID: &claim, ClaimName: "Q3 co-op campaign", ClaimStatus: models.ActionRequired,
		Title: title, Body: body, NextStep: "Upload the missing invoice.",
		CreatedAt: time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC),
	}
}

// single is the message of one notification's e-mail to ada.
func single(n *models.Notification) outbox.Message {
	return outbox.Message{
		Delivery: models.Delivery{
			ID: uuid.New(), Channel: models.ChannelEmail, NotificationID: &n.ID,
			Recipient: "user-ada", Address: "ada@partner.example",
			Payload: mail.EncodeRecipient("Ada Lovelace"),
		},
		Notification: n,
	}
}

func send(t *testing.T, s *mail.Sender, m outbox.Message) outbox.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	return s.Send(ctx, m)
}

// parsed is a received message taken apart.
type parsed struct {
	Header      netmail.Header
	Subject     string
	Text, HTML  string
	ContentType string
}

func parse(t *testing.T, data []byte) parsed {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("reading message: %v\n%s", err, data)
	}
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	p := parsed{Header: msg.Header, Subject: subject}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	p.ContentType = mt
	if mt != "multipart/alternative" {
		t.Fatalf("Content-Type = %q, want multipart/alternative", mt)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart() // decodes quoted-printable
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(part)
		if err != nil {
			t.Fatal(err)
		}
		b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
		pt, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		switch pt {
		case "text/plain":
			p.Text = string(b)
		case "text/html":
			p.HTML = string(b)
		default:
			t.Errorf("unexpected part %q", pt)
		}
	}
	if p.Text == "" || p.HTML == "" {
		t.Fatalf("want a plain and an HTML part, got text %q html %q", p.Text, p.HTML)
	}
	return p
}

func only(t *testing.T, r *relay) received {
	t.Helper()
	got := r.received()
	if len(got) != 1 {
		t.Fatalf("relay received %d messages, want 1", len(got))
	}
	return got[0]
}

func TestNotificationMail(t *testing.T) {
	t.Parallel()
	r := newRelay(t, plainRelay, nil)
	s := newSender(t, config(r.Port, mail.SecurityNone))
	n := notification("More information needed", "The reviewer asks for the invoice.\nIt is missing.")
	m := single(n)

	if res := send(t, s, m); res.Err != nil {
		t.Fatalf("Send: %v (permanent %v)", res.Err, res.Permanent)
	}
	got := only(t, r)
	if got.From != "noreply@cpor.example" || len(got.To) != 1 || got.To[0] != "ada@partner.example" {
		t.Errorf("envelope from %q to %q", got.From, got.To)
	}
	p := parse(t, got.Data)
	from, err := netmail.ParseAddress(p.Header.Get("From"))
	if err != nil || from.Address != "noreply@cpor.example" || from.Name != "CPOR" {
		t.Errorf("From = %q (%v)", p.Header.Get("From"), err)
	}
	to, err := netmail.ParseAddress(p.Header.Get("To"))
	if err != nil || to.Address != "ada@partner.example" || to.Name != "Ada Lovelace" {
		t.Errorf("To = %q (%v)", p.Header.Get("To"), err)
	}
	for header, want := range map[string]string{
		"Message-ID":               "<" + m.Delivery.ID.String() + "@cpor>",
		"X-CPOR-Delivery-ID":       m.Delivery.ID.String(),
		"X-CPOR-Notification-Kind": string(models.NotifyInformationRequested),
		"Auto-Submitted":           "auto-generated",
	} {
		if got := p.Header.Get(header); got != want {
			t.Errorf("%s = %q, want %q", header, got, want)
		}
	}
	if p.Subject != n.Title {
		t.Errorf("Subject = %q, want %q", p.Subject, n.Title)
	}
	link := appURL + "/claims/" + gid.UUIDGlobalID(gid.TypeClaim, *n.ClaimID)
	for _, part := range []struct{ name, body string }{{"text", p.Text}, {"html", p.HTML}} {
		for _, want := range []string{
			"Hello Ada Lovelace,", "The reviewer asks for the invoice.", "Q3 co-op campaign",
			"action required", "Upload the missing invoice.", link, "notificationPreferences",
		} {
			if !strings.Contains(part.body, want) {
				t.Errorf("%s part lacks %q:\n%s", part.name, want, part.body)
			}
		}
	}
	if !strings.Contains(p.HTML, `href="`+link+`"`) {
		t.Errorf("HTML part does not link the claim:\n%s", p.HTML)
	}
}

// A resend of the same delivery is the same message to the receiver.
func TestResendKeepsMessageID(t *testing.T) {
	t.Parallel()
	r := newRelay(t, plainRelay, nil)
	s := newSender(t, config(r.Port, mail.SecurityNone))
	m := single(notification("Claim approved", "Approved."))
	for range 2 {
		if res := send(t, s, m); res.Err != nil {
			t.Fatal(res.Err)
		}
	}
	got := r.received()
	if len(got) != 2 {
		t.Fatalf("received %d", len(got))
	}
	a, b := parse(t, got[0].Data), parse(t, got[1].Data)
	if a.Header.Get("Message-ID") != b.Header.Get("Message-ID") {
		t.Errorf("Message-IDs differ: %q, %q", a.Header.Get("Message-ID"), b.Header.Get("Message-ID"))
	}
}

func TestGreetingWithoutName(t *testing.T) {
	t.Parallel()
	r := newRelay(t, plainRelay, nil)
	s := newSender(t, config(r.Port, mail.SecurityNone))
	n := notification("Claim submitted", "A claim was submitted.")
	n.ClaimID, n.NextStep = nil, ""
	for _, payload := range []string{"", mail.EncodeRecipient(""), "not json"} {
		m := single(n)
		m.Delivery.Payload = payload
		if res := send(t, s, m); res.Err != nil {
			t.Fatalf("payload %q: %v", payload, res.Err)
		}
	}
	for _, got := range r.received() {
		p := parse(t, got.Data)
		if !strings.HasPrefix(p.Text, "Hello,\n") {
			t.Errorf("text does not greet generically:\n%s", p.Text)
		}
		if strings.Contains(p.Text, "/claims/") || strings.Contains(p.Text, "Next step") {
			t.Errorf("text speaks of a claim or a next step it does not have:\n%s", p.Text)
		}
	}
}

func TestHTMLEscapesNotificationText(t *testing.T) {
	t.Parallel()
	r := newRelay(t, plainRelay, nil)
	s := newSender(t, config(r.Port, mail.SecurityNone))
	n := notification(`<script>alert("title")</script>`, `<script>alert("body")</script> & <b>bold</b>`)
	n.ClaimName = `<img src=x onerror=alert(1)>`
	m := single(n)
	m.Delivery.Payload = mail.EncodeRecipient(`<i>Eve</i>`)
	if res := send(t, s, m); res.Err != nil {
		t.Fatal(res.Err)
	}
	p := parse(t, only(t, r).Data)
	for _, raw := range []string{"<script>", "<b>", "<img", "<i>"} {
		if strings.Contains(p.HTML, raw) {
			t.Errorf("HTML part holds %q unescaped:\n%s", raw, p.HTML)
		}
	}
	for _, escaped := range []string{"&lt;script&gt;", "&amp;", "&lt;img"} {
		if !strings.Contains(p.HTML, escaped) {
			t.Errorf("HTML part lacks %q:\n%s", escaped, p.HTML)
		}
	}
	if p.Subject != n.Title || !strings.Contains(p.Text, `<script>alert("body")</script>`) {
		t.Errorf("subject %q and text should carry the text as written:\n%s", p.Subject, p.Text)
	}
}

func TestDigestMail(t *testing.T) {
	t.Parallel()
	r := newRelay(t, plainRelay, nil)
	s := newSender(t, config(r.Port, mail.SecurityNone))
	var ns []models.Notification
	for _, title := range []string{"Claim submitted", "Claim approved", "Deadline near"} {
		ns = append(ns, *notification(title, "About "+title+"."))
	}
	ns[1].ClaimID = nil // one without a claim
	payload, err := mail.EncodeDigest(mail.Digest{Name: "Ada", Notifications: ns})
	if err != nil {
		t.Fatal(err)
	}
	m := outbox.Message{Delivery: models.Delivery{
		ID: uuid.New(), Channel: models.ChannelEmail, Recipient: "user-ada",
		Address: "ada@partner.example", Payload: payload,
	}}
	if res := send(t, s, m); res.Err != nil {
		t.Fatal(res.Err)
	}
	p := parse(t, only(t, r).Data)
	if want := "Your CPOR claims digest: 3 updates"; p.Subject != want {
		t.Errorf("Subject = %q, want %q", p.Subject, want)
	}
	if got := p.Header.Get("X-CPOR-Notification-Kind"); got != "DIGEST" {
		t.Errorf("kind = %q", got)
	}
	if got, want := p.Header.Get("Message-ID"), "<"+m.Delivery.ID.String()+"@cpor>"; got != want {
		t.Errorf("Message-ID = %q, want %q", got, want)
	}
	for _, part := range []struct{ name, body string }{{"text", p.Text}, {"html", p.HTML}} {
		if !strings.Contains(part.body, "Hello Ada,") || !strings.Contains(part.body, "Fri 20 Nov 2026, 09:30 UTC") {
			t.Errorf("%s part lacks the greeting or the time:\n%s", part.name, part.body)
		}
		for _, n := range ns {
			if !strings.Contains(part.body, n.Title) || !strings.Contains(part.body, n.Body) {
				t.Errorf("%s part lacks %q:\n%s", part.name, n.Title, part.body)
			}
			if n.ClaimID != nil && !strings.Contains(part.body, appURL+"/claims/"+gid.UUIDGlobalID(gid.TypeClaim, *n.ClaimID)) {
				t.Errorf("%s part lacks the link of %q", part.name, n.Title)
			}
		}
		if c := strings.Count(part.body, appURL+"/claims/"); c != 2 {
			t.Errorf("%s part has %d claim links, want 2", part.name, c)
		}
	}

	one, _ := mail.EncodeDigest(mail.Digest{Notifications: ns[:1]})
	m.Delivery.Payload = one
	if res := send(t, s, m); res.Err != nil {
		t.Fatal(res.Err)
	}
	if got := parse(t, r.received()[1].Data).Subject; got != "Your CPOR claims digest: 1 update" {
		t.Errorf("Subject = %q", got)
	}
}

// Over TLS, STARTTLS or implicit, the sender authenticates with the
// relay's certificate verified against RootCAs.
func TestTLSAndAuth(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		mode     relayMode
		security string
	}{
		{"starttls", startTLSRelay, mail.SecurityStartTLS},
		{"implicit tls", implicitTLSRelay, mail.SecurityTLS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRelay(t, tc.mode, func(r *relay) { r.User, r.Password = "cpor", "s3cret-pw" })
			cfg := config(r.Port, tc.security)
			cfg.Username, cfg.Password, cfg.RootCAs = "cpor", "s3cret-pw", r.Certs
			if res := send(t, newSender(t, cfg), single(notification("Hi", "Body"))); res.Err != nil {
				t.Fatalf("Send: %v", res.Err)
			}
			got := only(t, r)
			if got.User != "cpor" || !got.TLS {
				t.Errorf("authenticated as %q, TLS %v", got.User, got.TLS)
			}
			parse(t, got.Data)

			// A wrong password is our configuration's fault, not the
			// recipient's: retried, and never written into the error.
			cfg.Password = "wrong-pw-0xC0FFEE"
			res := send(t, newSender(t, cfg), single(notification("Hi", "Body")))
			if res.Err == nil || res.Permanent {
				t.Fatalf("wrong password: %v, permanent %v", res.Err, res.Permanent)
			}
			if strings.Contains(res.Err.Error(), cfg.Password) {
				t.Errorf("error holds the password: %v", res.Err)
			}

			// A relay whose certificate is not trusted is refused.
			cfg.Password, cfg.RootCAs = "s3cret-pw", nil
			if res := send(t, newSender(t, cfg), single(notification("Hi", "Body"))); res.Err == nil || res.Permanent {
				t.Fatalf("untrusted certificate: %v, permanent %v", res.Err, res.Permanent)
			}
			if n := len(r.received()); n != 1 {
				t.Errorf("relay received %d messages, want only the first", n)
			}
		})
	}
}

// An IPv6 literal is a host like any other.
func TestIPv6Relay(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	cfg := config(port, mail.SecurityNone)
	cfg.Host = "::1"
	res := send(t, newSender(t, cfg), single(notification("Hi", "Body")))
	if res.Err == nil || !strings.Contains(res.Err.Error(), "[::1]:") {
		t.Errorf("Send = %v, want a refusal from [::1]", res.Err)
	}
}

// STARTTLS is required unless the configuration says "none".
func TestStartTLSRequired(t *testing.T) {
	t.Parallel()
	r := newRelay(t, plainRelay, nil)
	res := send(t, newSender(t, config(r.Port, mail.SecurityStartTLS)), single(notification("Hi", "Body")))
	if res.Err == nil || res.Permanent {
		t.Fatalf("relay without STARTTLS: %v, permanent %v", res.Err, res.Permanent)
	}
	if !strings.Contains(res.Err.Error(), "STARTTLS") {
		t.Errorf("error does not say why: %v", res.Err)
	}
}

func TestFailures(t *testing.T) {
	t.Parallel()
	refuse := func(code int, enhanced smtp.EnhancedCode, msg string) func(*relay) {
		return func(r *relay) { r.RcptErr = &smtp.SMTPError{Code: code, EnhancedCode: enhanced, Message: msg} }
	}
	reply := func(code int, msg string) error {
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 7, 1}, Message: msg}
	}
	for _, tc := range []struct {
		name string
		// port starts the relay and returns its port.
		port      func(t *testing.T) int
		deadline  time.Duration
		permanent bool
		errHas    string
	}{
		{
			name: "550 mailbox unavailable",
			port: func(t *testing.T) int {
				return newRelay(t, plainRelay, refuse(550, smtp.EnhancedCode{5, 1, 1}, "mailbox unavailable")).Port
			},
			permanent: true, errHas: "550",
		},
		{
			name: "451 try later",
			port: func(t *testing.T) int {
				return newRelay(t, plainRelay, refuse(451, smtp.EnhancedCode{4, 3, 0}, "try again later")).Port
			},
			errHas: "451",
		},
		{
			name: "554 message refused",
			port: func(t *testing.T) int {
				return newRelay(t, plainRelay, func(r *relay) { r.DataErr = reply(554, "message refused") }).Port
			},
			permanent: true, errHas: "554",
		},
		{
			// The relay refusing our sender is our configuration's fault;
			// every recipient would fail, so none is given up on.
			name: "553 sender refused",
			port: func(t *testing.T) int {
				return newRelay(t, plainRelay, func(r *relay) { r.MailErr = reply(553, "sender not allowed") }).Port
			},
			errHas: "553",
		},
		{
			name: "connection dropped",
			port: func(t *testing.T) int { return rawListener(t, func(c net.Conn) { _ = c.Close() }) },
		},
		{
			name: "dropped after the greeting",
			port: func(t *testing.T) int {
				return rawListener(t, func(c net.Conn) {
					_, _ = c.Write([]byte("220 localhost ESMTP\r\n"))
					_, _ = c.Read(make([]byte, 512))
					_ = c.Close()
				})
			},
		},
		{
			name:   "nothing listening",
			port:   closedPort,
			errHas: "refused",
		},
		{
			name: "silent relay beyond the deadline",
			port: func(t *testing.T) int {
				return rawListener(t, func(c net.Conn) {
					_, _ = io.Copy(io.Discard, c) // never greets; ends when the client hangs up
					_ = c.Close()
				})
			},
			deadline: 300 * time.Millisecond, errHas: "deadline",
		},
		{
			name: "slow reply to the message beyond the deadline",
			port: func(t *testing.T) int {
				return newRelay(t, plainRelay, func(r *relay) { r.DataDelay = time.Minute }).Port
			},
			deadline: 300 * time.Millisecond, errHas: "deadline",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := config(tc.port(t), mail.SecurityNone)
			cfg.Timeout = 30 * time.Second // the context's deadline must be what ends it
			s := newSender(t, cfg)
			ctx := t.Context()
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.deadline)
				defer cancel()
			}
			start := time.Now()
			res := s.Send(ctx, single(notification("Hi", "Body")))
			elapsed := time.Since(start)
			if res.Err == nil {
				t.Fatal("Send succeeded")
			}
			if res.Permanent != tc.permanent {
				t.Errorf("permanent = %v, want %v (%v)", res.Permanent, tc.permanent, res.Err)
			}
			if !strings.Contains(res.Err.Error(), tc.errHas) {
				t.Errorf("error %q lacks %q", res.Err, tc.errHas)
			}
			if len(res.Err.Error()) > 320 {
				t.Errorf("error is long (%d): %v", len(res.Err.Error()), res.Err)
			}
			if tc.deadline > 0 && elapsed > tc.deadline+2*time.Second {
				t.Errorf("Send took %v past a %v deadline", elapsed, tc.deadline)
			}
			t.Logf("%v (after %v)", res.Err, elapsed.Round(time.Millisecond))
		})
	}
}

// Cancelling the attempt (the dispatcher stopping) ends a send at once,
// whatever step waits.
func TestCancelEndsSend(t *testing.T) {
	t.Parallel()
	silent := rawListener(t, func(c net.Conn) {
		_, _ = io.Copy(io.Discard, c)
		_ = c.Close()
	})
	slow := newRelay(t, plainRelay, func(r *relay) { r.DataDelay = time.Minute })
	for name, port := range map[string]int{"greeting": silent, "message": slow.Port} {
		cfg := config(port, mail.SecurityNone)
		cfg.Timeout = 30 * time.Second
		s := newSender(t, cfg)
		ctx, cancel := context.WithCancel(t.Context())
		timer := time.AfterFunc(200*time.Millisecond, cancel)
		start := time.Now()
		res := s.Send(ctx, single(notification("Hi", "Body")))
		timer.Stop()
		cancel()
		if res.Err == nil || res.Permanent || !strings.Contains(res.Err.Error(), "canceled") {
			t.Errorf("%s: %v, permanent %v", name, res.Err, res.Permanent)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: Send took %v after a cancel at 200ms", name, d)
		}
	}
}

// A payload or address no retry can mend fails at once, before dialling.
func TestUnsendableFailsPermanently(t *testing.T) {
	t.Parallel()
	s := newSender(t, config(closedPort(t), mail.SecurityNone))
	badAddress := single(notification("Hi", "Body"))
	badAddress.Delivery.Address = "not an address"
	for name, m := range map[string]outbox.Message{
		"bad address":  badAddress,
		"bad digest":   {Delivery: models.Delivery{ID: uuid.New(), Address: "a@b.example", Payload: "{"}},
		"empty digest": {Delivery: models.Delivery{ID: uuid.New(), Address: "a@b.example", Payload: `{"notifications":[]}`}},
	} {
		if res := send(t, s, m); res.Err == nil || !res.Permanent {
			t.Errorf("%s: %v, permanent %v", name, res.Err, res.Permanent)
		}
	}
}

func TestLogSenderWithoutHost(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	s, err := mail.NewSender(mail.Config{AppURL: appURL}, slog.New(slog.NewTextHandler(&buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	n := notification("Claim rejected", "The claim was rejected.")
	res := s.Send(t.Context(), single(n))
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	out := buf.String()
	for _, want := range []string{
		"level=INFO", "CPOR_SMTP_HOST", "Claim rejected", "ada@partner.example",
		"The claim was rejected.", appURL + "/claims/" + gid.UUIDGlobalID(gid.TypeClaim, *n.ClaimID),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}
