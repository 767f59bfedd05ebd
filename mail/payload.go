package mail

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"cpor/models"
)

// Digest is what a digest delivery's payload carries: the recipient's name
// and the notifications themselves, so that sending needs no database.
type Digest struct {
	Name          string
	Notifications []models.Notification
}

// The payload's wire form. Its field names are a contract with the digest
// writer: rows written before a deploy are read after it, so names are only
// ever added.
type digestJSON struct {
	Name          string             `json:"name"`
	Notifications []notificationJSON `json:"notifications"`
}

type notificationJSON struct {
	ID          uuid.UUID  `json:"id"`
	Kind        string     `json:"kind"`
	Title       string     `json:"title"`
	Body        string     `json:"body"`
	NextStep    string     `json:"nextStep,omitempty"`
	ClaimID     *uuid.UUID `json:"claimId,omitempty"`
	ClaimName   string     `json:"claimName,omitempty"`
	ClaimStatus string     `json:"claimStatus,omitempty"`
	CreatedAt   time.Time  `json:"createdAt"`
}

// EncodeDigest is the payload of a digest delivery. It keeps what a mail
// shows of each notification (not its audience).
func EncodeDigest(d Digest) (string, error) {
	w := digestJSON{Name: d.Name, Notifications: make([]notificationJSON, len(d.Notifications))}
	for i, n := range d.Notifications {
		w.Notifications[i] = notificationJSON{
			ID: n.ID, Kind: string(n.Kind), Title: n.Title, Body: n.Body, NextStep: n.NextStep,
			ClaimID: n.ClaimID, ClaimName: n.ClaimName, ClaimStatus: string(n.ClaimStatus),
			CreatedAt: n.CreatedAt,
		}
	}
	b, err := json.Marshal(w)
	if err != nil {
		return "", fmt.Errorf("mail: encoding digest: %w", err)
	}
	return string(b), nil
}

// DecodeDigest reads a payload EncodeDigest wrote. Unknown fields are
// ignored, so that a newer writer's rows still read.
func DecodeDigest(payload string) (Digest, error) {
	var w digestJSON
	if err := json.Unmarshal([]byte(payload), &w); err != nil {
		return Digest{}, fmt.Errorf("mail: decoding digest: %w", err)
	}
	d := Digest{Name: w.Name, Notifications: make([]models.Notification, len(w.Notifications))}
	for i, n := range w.Notifications {
		d.Notifications[i] = models.Notification{
			ID: n.ID, Kind: models.NotificationKind(n.Kind), Title: n.Title, Body: n.Body,
			NextStep: n.NextStep, ClaimID: n.ClaimID, ClaimName: n.ClaimName,
			ClaimStatus: models.ClaimStatus(n.ClaimStatus), CreatedAt: n.CreatedAt,
		}
	}
	return d, nil
}

type recipientJSON struct {
	Name string `json:"name"`
}

// EncodeRecipient is the payload of a single notification's e-mail
// delivery: the recipient's name for the greeting ("" for a generic one).
func EncodeRecipient(name string) string {
	b, _ := json.Marshal(recipientJSON{Name: name}) // a string always encodes
	return string(b)
}

// decodeRecipient reads EncodeRecipient's payload; an empty payload is a
// nameless recipient.
func decodeRecipient(payload string) (string, error) {
	if payload == "" {
		return "", nil
	}
	var r recipientJSON
	if err := json.Unmarshal([]byte(payload), &r); err != nil {
		return "", errors.New("mail: payload is not a recipient's name")
	}
	return r.Name, nil
}
