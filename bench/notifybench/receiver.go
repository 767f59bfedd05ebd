package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/mail"
	"cpor/models"
	"cpor/outbox"
	"cpor/storage"
	"cpor/testkit/smtpcatch"
)

// receiver is one channel's local receiver, the sender that reaches it,
// and the notifications that make deliveries to it.
type receiver struct {
	channel  models.Channel
	sender   outbox.Sender
	notice   func() models.Notification
	received func() int
	close    func()
}

func newReceiver(ctx context.Context, channel string, db *gorm.DB) (*receiver, error) {
	switch channel {
	case "email":
		return emailReceiver(ctx, db)
	case "webhook":
		return webhookReceiver(ctx, db)
	}
	return nil, fmt.Errorf("-channel is email or webhook, not %q", channel)
}

// emailReceiver is the in-process SMTP server; each notification is for
// the reviewers, of whom one, known to the directory, wants e-mail at once.
func emailReceiver(ctx context.Context, db *gorm.DB) (*receiver, error) {
	catcher, err := smtpcatch.Start()
	if err != nil {
		return nil, err
	}
	sender, err := mail.NewSender(mail.Config{Host: "127.0.0.1", Port: catcher.Port, Security: mail.SecurityNone,
		From: "CPOR <cpor@bench.test>", AppURL: "https://cpor.bench.test"}, slog.New(slog.DiscardHandler))
	if err != nil {
		_ = catcher.Close()
		return nil, err
	}
	rita := models.NotificationRecipient{UserID: "rita@bench.test", Email: "rita@bench.test", Name: "Rita",
		Reviewer: true, Preference: models.PreferEmailImmediate, UpdatedAt: storage.Now()}
	if err := db.WithContext(ctx).Create(&rita).Error; err != nil {
		_ = catcher.Close()
		return nil, err
	}
	return &receiver{
		channel: models.ChannelEmail, sender: sender,
		notice: func() models.Notification {
			return models.Notification{ID: uuid.New(), Audience: models.AudienceReviewers, Kind: models.NotifySubmitted,
				Title: "New claim to review", Body: "A partner submitted a claim for review.", NextStep: "Start the review."}
		},
		received: func() int { return len(catcher.Messages()) },
		close:    func() { _ = catcher.Close() },
	}, nil
}
