package webhooks

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/models"
	"cpor/outbox"
	"cpor/storage"
)

// Noticer writes notifications (an endpoint disabled) in a transaction.
type Noticer interface {
	Write(tx *storage.Tx, ns ...models.Notification) error
}

// SenderConfig tunes deliveries.
type SenderConfig struct {
	// Timeout bounds one attempt, connection included (default 10s).
	Timeout time.Duration
	// DisableAfter disables an endpoint failing without a success for
	// this long (default 5 days), with a notice to its owner.
	DisableAfter time.Duration
	// UserAgent is sent with each delivery.
	UserAgent string
	// TLS, when set, replaces the system's TLS settings (tests trust
	// their receiver's certificate with it).
	TLS *tls.Config
}

// Sender is the outbox's webhook channel.
type Sender struct {
	db      *gorm.DB
	policy  URLPolicy
	cfg     SenderConfig
	client  *http.Client
	clock   func() time.Time
	notices Noticer
	log     *slog.Logger
}

// maxAnswer is how much of a receiver's answer is read (and dropped).
const maxAnswer = 64 << 10

// NewSender returns the webhook channel's sender. clock defaults to
// storage.Now; a nil log discards.
func NewSender(db *gorm.DB, policy URLPolicy, cfg SenderConfig, clock func() time.Time, notices Noticer, log *slog.Logger) *Sender {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.DisableAfter <= 0 {
		cfg.DisableAfter = 5 * 24 * time.Hour
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "cpor-webhooks/1"
	}
	if clock == nil {
		clock = storage.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dialer := &net.Dialer{Timeout: cfg.Timeout, Control: policy.dialControl}
	transport := &http.Transport{
		// No proxy: a proxy would connect on our behalf, past the address
		// check of each connection.
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       cfg.TLS,
		TLSHandshakeTimeout:   cfg.Timeout,
		ResponseHeaderTimeout: cfg.Timeout,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &Sender{
		db: db, policy: policy, cfg: cfg, clock: clock, notices: notices, log: log.With("component", "webhooks"),
		client: &http.Client{
			Transport: transport, Timeout: cfg.Timeout,
			// A redirect is an answer, not a success: following it could
			// lead anywhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// Send posts one delivery, signed, to its endpoint. It reads the endpoint
// (its URL and secrets) by primary key, outside any transaction.
func (s *Sender) Send(ctx context.Context, m outbox.Message) outbox.Result {
	e, err := s.endpoint(ctx, m.Delivery.Recipient)
	if err != nil {
		return outbox.Result{Err: err, Permanent: errors.Is(err, errGone)}
	}
	// The form is checked again (the policy may have tightened since the
	// endpoint was registered); where the name points now is for the
	// dialer, which checks every address the connection tries.
	if _, err := s.policy.checkForm(e.URL); err != nil {
		return outbox.Result{Err: fmt.Errorf("the endpoint's URL is no longer allowed: %w", err), Permanent: true}
	}
	req, err := s.request(ctx, e, m.Delivery)
	if err != nil {
		return outbox.Result{Err: err, Permanent: true}
	}
	resp, err := s.client.Do(req)
	if err != nil {
		var refused errForbiddenAddress
		return outbox.Result{Err: shortError(err), Permanent: errors.As(err, &refused)}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return outbox.Result{StatusCode: resp.StatusCode, Err: fmt.Errorf("the receiver answered %s", resp.Status)}
	}
	return outbox.Result{StatusCode: resp.StatusCode}
}

var errGone = errors.New("the endpoint was deleted or disabled")

func (s *Sender) endpoint(ctx context.Context, recipient string) (*models.WebhookEndpoint, error) {
	id, err := uuid.Parse(recipient)
	if err != nil {
		return nil, errGone
	}
	var e models.WebhookEndpoint
	err = s.db.WithContext(ctx).Take(&e, "id = ?", id).Error
	switch {
	case storage.IsNotFound(err):
		return nil, errGone
	case err != nil:
		return nil, fmt.Errorf("read the endpoint: %w", err)
	case e.DisabledAt != nil:
		return nil, errGone
	}
	return &e, nil
}

// request is the signed POST of a delivery: signed by the current secret
// and, during a rotation, by the previous one too.
func (s *Sender) request(ctx context.Context, e *models.WebhookEndpoint, d models.Delivery) (*http.Request, error) {
	body := []byte(d.Payload)
	now := s.clock()
	sig, err := Sign(e.Secret, d.ID.String(), now, body)
	if err != nil {
		return nil, err
	}
	if e.PreviousSecret != "" && e.PreviousSecretUntil != nil && now.Before(*e.PreviousSecretUntil) {
		if old, err := Sign(e.PreviousSecret, d.ID.String(), now, body); err == nil {
			sig += " " + old
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build the request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.cfg.UserAgent)
	req.Header.Set(HeaderID, d.ID.String())
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderSignature, sig)
	return req, nil
}

// shortError keeps a transport error's cause without repeating the URL's
// query string.
func shortError(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return fmt.Errorf("delivery failed: %w", inner)
		}
	}
	return err
}

// Settle keeps the endpoint's health in the attempt's transaction: a
// success clears its failure record; a failure starts one, and an endpoint
// that has failed without a success for DisableAfter is disabled, and its
// owner told.
func (s *Sender) Settle(tx *storage.Tx, m outbox.Message, r outbox.Result, _ bool, now time.Time) error {
	id, err := uuid.Parse(m.Delivery.Recipient)
	if err != nil {
		return nil
	}
	if r.Err == nil {
		return tx.Model(&models.WebhookEndpoint{}).Where("id = ? AND failing_since IS NOT NULL", id).
			Update("failing_since", nil).Error
	}
	var e models.WebhookEndpoint
	err = storage.ForUpdate(tx.DB).Take(&e, "id = ?", id).Error
	if storage.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the endpoint: %w", err)
	}
	if e.DisabledAt != nil {
		return nil
	}
	if e.FailingSince == nil {
		return tx.Model(&e).Update("failing_since", now).Error
	}
	if now.Sub(*e.FailingSince) < s.cfg.DisableAfter {
		return nil
	}
	reason := fmt.Sprintf("no delivery succeeded since %s", e.FailingSince.UTC().Format(time.RFC3339))
	if err := tx.Model(&e).Updates(map[string]any{"disabled_at": now, "disabled_reason": reason}).Error; err != nil {
		return fmt.Errorf("disable the endpoint: %w", err)
	}
	s.log.Warn("webhook endpoint disabled", "endpoint", e.ID, "failing_since", e.FailingSince)
	return s.notices.Write(tx, DisabledNotice(&e, now))
}

// DisabledNotice tells an endpoint's owner that it was disabled.
func DisabledNotice(e *models.WebhookEndpoint, now time.Time) models.Notification {
	n := models.Notification{
		ID: uuid.New(), Audience: models.AudienceOperators, Kind: models.NotifyWebhookDisabled,
		Title: "Webhook endpoint disabled",
		Body: fmt.Sprintf("Deliveries to %s have failed since %s, so the endpoint was disabled; nothing more is sent to it.",
			e.URL, e.FailingSince.UTC().Format("2 January 2006 15:04 MST")),
		NextStep:  "Fix the receiver, then enable the endpoint again and redeliver what it missed.",
		CreatedAt: now,
	}
	if e.OrganizationID != nil {
		org := *e.OrganizationID
		n.Audience, n.AudienceID = models.AudiencePartnerAdmins, &org
	}
	return n
}
