package main

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/auth"
	"cpor/claims"
	"cpor/demo"
	"cpor/live"
	"cpor/models"
	"cpor/notify"
	"cpor/sla"
	"cpor/webhooks"
	"cpor/wiring"
	"cpor/workflow"
)

// webhookReceiver is an HTTPS receiver on loopback that verifies every
// delivery's signature as the README shows; each notification is a
// Contoso claim's, sent to one operator endpoint for every claim.
func webhookReceiver(ctx context.Context, db *gorm.DB) (*receiver, error) {
	quiet := slog.New(slog.DiscardHandler)
	svc := wiring.New(db, live.NewHub(db, live.DefaultConfig, quiet), sla.NewCalendar(), claims.DefaultDocumentLimits,
		workflow.Config{}, wiring.Notifications{Webhooks: webhooks.URLPolicy{AllowPrivate: true}, Log: quiet})
	if err := demo.Seed(ctx, db, demo.Services{Catalog: svc.Catalog, Claims: svc.Claims, Workflow: svc.Workflow}); err != nil {
		return nil, err
	}
	var claim models.Claim
	if err := db.Where("organization_id = ?", demo.Contoso).Order("id").Take(&claim).Error; err != nil {
		return nil, err
	}
	var (
		secret   atomic.Pointer[string]
		verified atomic.Int64
	)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil || webhooks.Verify([]string{*secret.Load()}, r.Header, body, time.Now(), webhooks.DefaultTolerance) != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		verified.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	oscar, _ := demo.FindUser("oscar")
	_, s, err := svc.Webhooks.Register(auth.WithIdentity(ctx, &oscar.Identity), webhooks.Registration{
		URL: srv.URL + "/hooks", EventTypes: []models.NotificationKind{models.NotifySubmitted},
	})
	if err != nil {
		srv.Close()
		return nil, err
	}
	secret.Store(&s)
	tlsConfig := srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	tlsConfig.MinVersion = tls.VersionTLS12
	sender := webhooks.NewSender(db, webhooks.URLPolicy{AllowPrivate: true}, webhooks.SenderConfig{TLS: tlsConfig}, nil, svc.Notices, quiet)
	org := demo.Contoso
	return &receiver{
		channel: models.ChannelWebhook, sender: sender,
		notice: func() models.Notification {
			return models.Notification{ID: uuid.New(), Audience: models.AudiencePartnerAdmins, AudienceID: &org,
				Kind: models.NotifySubmitted, ClaimID: &claim.ID, ClaimName: claim.Name, ClaimStatus: claim.Status,
				Title: "Claim submitted: " + notify.Label(&claim), Body: "Ada submitted the claim for review."}
		},
		received: func() int { return int(verified.Load()) },
		close:    srv.Close,
	}, nil
}
