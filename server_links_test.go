package main

import (
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"

	"cpor/auth"
	"cpor/downloads"
)

// TestDownloadLinkSecret: the download-link key is CPOR_DOWNLOAD_SECRET, or
// derived from the token secret (so every instance sharing that secret
// accepts the others' links), or random in development only.
func TestDownloadLinkSecret(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	tokenSecret := []byte("jwt-secret-of-at-least-32-bytes-long!!")
	viewer := &auth.Identity{UserID: "ada", OrganizationID: uuid.New(), Roles: []auth.Role{auth.GlobalAdmin}}
	doc := uuid.New()
	signers := func(env map[string]string, secret []byte) (*downloads.Signer, *downloads.Signer) {
		t.Helper()
		var out [2]*downloads.Signer
		for i := range out {
			cfg, err := loadConfig(envOf(env))
			if err != nil {
				t.Fatal(err)
			}
			if out[i], err = cfg.downloadLinks(secret, log); err != nil {
				t.Fatal(err)
			}
		}
		return out[0], out[1]
	}
	sharedBy := func(a, b *downloads.Signer) bool {
		raw, err := a.Sign(doc, viewer)
		if err != nil {
			t.Fatal(err)
		}
		q, _ := url.ParseQuery(raw)
		_, err = b.Verify(doc, q)
		return err == nil
	}

	if a, b := signers(map[string]string{}, tokenSecret); !sharedBy(a, b) {
		t.Error("two instances with the same token secret refuse each other's links")
	}
	a, _ := signers(map[string]string{}, tokenSecret)
	b, _ := signers(map[string]string{"CPOR_DOWNLOAD_SECRET": "download-secret-of-at-least-32-bytes"}, tokenSecret)
	if sharedBy(a, b) {
		t.Error("CPOR_DOWNLOAD_SECRET does not replace the derived key")
	}
	if a, b := signers(map[string]string{"CPOR_JWKS_URL": "https://idp.example/jwks"}, nil); sharedBy(a, b) {
		t.Error("two development processes without a secret share a key")
	}
	if a, _ := signers(map[string]string{"CPOR_DOWNLOAD_LINK_LIFETIME": "2m"}, tokenSecret); a.Lifetime() != 2*time.Minute {
		t.Errorf("lifetime %v, want 2m", a.Lifetime())
	}

	for _, env := range []map[string]string{
		{"CPOR_DOWNLOAD_SECRET": "too-short"},
		{"CPOR_DOWNLOAD_LINK_LIFETIME": "0s"},
	} {
		if _, err := loadConfig(envOf(env)); err == nil {
			t.Errorf("loadConfig accepted %v", env)
		}
	}
	cfg, err := loadConfig(envOf(map[string]string{"CPOR_ENV": "production", "CPOR_JWKS_URL": "https://idp.example/jwks"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.downloadLinks(nil, log); err == nil {
		t.Error("production without a download secret or an HS256 secret signs links with a key of its own")
	}
}
