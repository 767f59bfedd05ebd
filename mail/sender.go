package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	gomail "github.com/wneessen/go-mail"

	"cpor/models"
	"cpor/outbox"
)

// Sender is the outbox's e-mail channel. It holds no connection between
// messages: each Send dials, sends and quits, which suits the outbox's
// trickle of mail and leaves no idle connection for a relay to drop.
type Sender struct {
	cfg  Config
	from *mail.Address
	tls  *tls.Config
	log  *slog.Logger
}

var _ outbox.Sender = (*Sender)(nil)

// NewSender checks cfg and returns its sender; with no Host, one that logs
// each message instead of sending it.
func NewSender(cfg Config, log *slog.Logger) (*Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	s := &Sender{cfg: cfg.withDefaults(), log: log}
	if s.cfg.Host == "" {
		log.Info("mail: no SMTP server is configured (CPOR_SMTP_HOST unset), so e-mails are printed to the log instead of sent")
		return s, nil
	}
	from, err := mail.ParseAddress(s.cfg.From)
	if err != nil { // Validate has parsed it already
		return nil, fmt.Errorf("mail: From: %w", err)
	}
	s.from = from
	s.tls = &tls.Config{ServerName: s.cfg.Host, RootCAs: s.cfg.RootCAs, MinVersion: tls.VersionTLS12}
	return s, nil
}

// digestKind is the X-CPOR-Notification-Kind of a digest.
const digestKind = "DIGEST"

// Send renders the delivery's mail and hands it to the relay. A payload it
// cannot read or an address it cannot use fails permanently: no retry
// changes them.
func (s *Sender) Send(ctx context.Context, m outbox.Message) outbox.Result {
	r, kindHeader, name, err := s.render(m)
	if err != nil {
		return outbox.Result{Err: err, Permanent: true}
	}
	if s.cfg.Host == "" {
		s.log.InfoContext(ctx, "mail: not sent, no SMTP server is configured (CPOR_SMTP_HOST unset); printing it instead",
			"delivery", m.Delivery.ID, "to", m.Delivery.Address, "subject", r.Subject, "body", r.Text)
		return outbox.Result{}
	}
	msg, err := s.message(m.Delivery, kindHeader, name, r)
	if err != nil {
		return outbox.Result{Err: err, Permanent: true}
	}
	return s.deliver(ctx, msg)
}

// render picks and renders the delivery's mail. It returns the kind header
// and the recipient's name with it.
func (s *Sender) render(m outbox.Message) (rendered, string, string, error) {
	if m.Notification != nil {
		name, err := decodeRecipient(m.Delivery.Payload)
		if err != nil {
			// The greeting is not worth losing the notification over.
			s.log.Warn("mail: unreadable recipient payload, greeting generically",
				"delivery", m.Delivery.ID, "error", err)
		}
		r, err := s.renderNotification(name, *m.Notification)
		return r, string(m.Notification.Kind), name, err
	}
	d, err := DecodeDigest(m.Delivery.Payload)
	if err != nil {
		return rendered{}, "", "", err
	}
	if len(d.Notifications) == 0 {
		return rendered{}, "", "", errors.New("mail: digest payload lists no notifications")
	}
	r, err := s.renderDigest(d)
	return r, digestKind, d.Name, err
}

// message builds the MIME message: plain text with an HTML alternative.
func (s *Sender) message(d models.Delivery, kindHeader, name string, r rendered) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(s.from)
	to, err := mail.ParseAddress(d.Address)
	if err != nil {
		return nil, fmt.Errorf("mail: recipient address %q: %v", d.Address, err)
	}
	if to.Name == "" {
		to.Name = oneLine(name)
	}
	msg.ToMailAddress(to)
	msg.Subject(r.Subject)
	// The delivery's ID is the idempotency key: a resend carries the same
	// Message-ID.
	msg.SetMessageIDWithValue(d.ID.String() + "@cpor")
	msg.SetDate()
	msg.SetGenHeader("X-CPOR-Delivery-ID", d.ID.String())
	msg.SetGenHeader("X-CPOR-Notification-Kind", kindHeader)
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	// Out-of-office replies to a notification help nobody.
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	msg.SetBodyString(gomail.TypeTextPlain, r.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, r.HTML)
	return msg, nil
}

// deliver sends msg over a connection of its own. The context bounds the
// whole exchange: its deadline shortens every step's timeout, and its end
// closes the connection under whatever step is waiting.
func (s *Sender) deliver(ctx context.Context, msg *gomail.Msg) outbox.Result {
	timeout := s.cfg.Timeout
	if deadline, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(deadline))
	}
	if err := ctx.Err(); err != nil {
		return outbox.Result{Err: s.failure(ctx, "smtp", err)}
	}
	if timeout <= 0 {
		return outbox.Result{Err: errors.New("smtp: no time left to send")}
	}

	var conn net.Conn
	stop := func() bool { return false }
	defer func() {
		stop()
		if conn != nil {
			_ = conn.Close() // a no-op after a clean QUIT
		}
	}()
	// go-mail's own address ("host:port") would garble an IPv6 literal.
	addr := net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
	dial := func(dialCtx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(dialCtx, network, addr)
		if err != nil {
			return nil, err
		}
		conn = c
		stop = context.AfterFunc(ctx, func() { _ = c.Close() })
		if s.cfg.Security != SecurityTLS {
			return c, nil
		}
		tc := tls.Client(c, s.tls)
		if err := tc.HandshakeContext(dialCtx); err != nil {
			return nil, err
		}
		return tc, nil
	}

	opts := []gomail.Option{
		gomail.WithPort(s.cfg.Port),
		gomail.WithTimeout(timeout),
		gomail.WithDialContextFunc(dial),
		gomail.WithTLSConfig(s.tls),
		gomail.WithoutNoop(),
	}
	switch s.cfg.Security {
	case SecurityStartTLS:
		// WithTLSPolicy, not WithTLSPortPolicy: that one moves port 25 to 587.
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default: // implicit TLS is the dialer's; "none" is none
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.cfg.Username != "" {
		// PLAIN or LOGIN when offered (only ever over TLS: Validate refuses
		// credentials with "none"), else the strongest the relay offers.
		opts = append(opts,
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	client, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return outbox.Result{Err: s.describe("smtp: client", err)}
	}

	sc, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		// Anything refused before the message is the relay refusing us, not
		// the recipient: a later try, or a corrected configuration, delivers.
		return outbox.Result{Err: s.failure(ctx, "smtp: connecting to "+addr, err)}
	}
	err = client.SendWithSMTPClient(sc, msg)
	if msg.IsDelivered() {
		// The relay took it; a failed RSET or QUIT afterwards changes nothing.
		_ = client.CloseWithSMTPClient(sc)
		return outbox.Result{}
	}
	if err == nil { // not delivered and no error: cannot happen, but never claim success
		err = errors.New("message not accepted")
	}
	var se *gomail.SendError
	isSendErr := errors.As(err, &se)
	what := "smtp"
	if isSendErr && contextEnded(ctx) != nil {
		what += ": " + se.Reason.String() // where it stalled
	}
	res := outbox.Result{Err: s.failure(ctx, what, err)}
	if isSendErr && contextEnded(ctx) == nil {
		switch se.Reason {
		case gomail.ErrSMTPRcptTo, gomail.ErrSMTPData, gomail.ErrSMTPDataClose:
			// The relay refuses this recipient or this message: 5xx is final.
			res.Permanent = replyCode(err) >= 500
		}
	}
	return res
}

// replyCode is the SMTP reply code in err, 0 when the error is no reply.
func replyCode(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	var se *gomail.SendError
	if errors.As(err, &se) {
		return se.ErrorCode()
	}
	return 0
}

// failure words err for deliveries.last_error; when the context ended the
// attempt, that is the cause whatever the connection reports.
func (s *Sender) failure(ctx context.Context, what string, err error) error {
	if ended := contextEnded(ctx); ended != nil {
		return s.describe(what, fmt.Errorf("gave up: %w", ended))
	}
	return s.describe(what, err)
}

// contextEnded is why ctx has ended, or nil. A passed deadline counts
// before ctx's timer has fired: the connection's deadlines, which are never
// earlier, may time out first.
func contextEnded(ctx context.Context) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if deadline, ok := ctx.Deadline(); ok && !time.Now().Before(deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// maxErrorLen keeps last_error readable.
const maxErrorLen = 300

// describe is a short error that never holds the password.
func (s *Sender) describe(what string, err error) error {
	text := err.Error()
	// go-mail adds the message ID to its errors; the row already knows it.
	if i := strings.Index(text, ", affected message ID:"); i >= 0 {
		text = text[:i]
	}
	text = what + ": " + text
	if s.cfg.Password != "" {
		text = strings.ReplaceAll(text, s.cfg.Password, "[password]")
	}
	if len(text) > maxErrorLen {
		cut := maxErrorLen
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut] + "…"
	}
	return &sendError{text: text, err: err}
}

// sendError keeps the cause for errors.Is and errors.As beneath the short
// text.
type sendError struct {
	text string
	err  error
}

func (e *sendError) Error() string { return e.text }
func (e *sendError) Unwrap() error { return e.err }
