package webhooks_test

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/models"
	"cpor/webhooks"
)

// receiver is an integrator's HTTPS endpoint: it verifies each delivery
// with the secrets it knows, as the README tells integrators to, answers
// 401 when that fails, and otherwise answers as the test says.
type receiver struct {
	srv   *httptest.Server
	conns atomic.Int32

	mu      sync.Mutex
	secrets []string
	answer  func(n int, w http.ResponseWriter, r *http.Request)
	got     []received
}

type received struct {
	header http.Header
	body   []byte
	// verified is Verify's verdict.
	verified error
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	rc := &receiver{}
	rc.srv = httptest.NewUnstartedServer(http.HandlerFunc(rc.serve))
	rc.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			rc.conns.Add(1)
		}
	}
	rc.srv.StartTLS()
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	verdict := webhooks.Verify(rc.secrets, r.Header, body, time.Now(), webhooks.DefaultTolerance)
	rc.got = append(rc.got, received{header: r.Header.Clone(), body: body, verified: verdict})
	n, answer := len(rc.got), rc.answer
	rc.mu.Unlock()
	switch {
	case verdict != nil:
		http.Error(w, verdict.Error(), http.StatusUnauthorized)
	case answer != nil:
		answer(n, w, r)
	default:
		w.WriteHeader(http.StatusOK)
	}
}

// trust sets the secrets the receiver verifies with.
func (rc *receiver) trust(secrets ...string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.secrets = secrets
}

// answering sets how the receiver answers the nth verified request.
func (rc *receiver) answering(fn func(n int, w http.ResponseWriter, r *http.Request)) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.answer = fn
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func (rc *receiver) tls() *tls.Config {
	return rc.srv.Client().Transport.(*http.Transport).TLSClientConfig
}

// stall holds a request until its client gives up (or the test ends).
func stall(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
		// Returning would let net/http answer 200 as the client gives up:
		// a stalled receiver answers nothing.
		panic(http.ErrAbortHandler)
	case <-time.After(10 * time.Second):
		w.WriteHeader(http.StatusOK)
	}
}

// insertEndpoint writes an endpoint directly, past registration's checks,
// and returns it with its secret.
func insertEndpoint(t *testing.T, db *gorm.DB, org *uuid.UUID, url string, kinds string) models.WebhookEndpoint {
	t.Helper()
	secret, err := webhooks.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	e := models.WebhookEndpoint{
		ID: uuid.New(), OrganizationID: org, URL: url, EventTypes: kinds, Secret: secret,
		CreatedBy: "test", CreatedAt: now, UpdatedAt: now,
	}
	if err := db.Create(&e).Error; err != nil {
		t.Fatalf("insert endpoint: %v", err)
	}
	return e
}
