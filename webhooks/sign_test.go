package webhooks_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"cpor/webhooks"
)

// signed returns the headers a sender would put on body, signed by each
// secret.
func signed(t *testing.T, id string, ts time.Time, body []byte, secrets ...string) http.Header {
	t.Helper()
	var sigs []string
	for _, s := range secrets {
		sig, err := webhooks.Sign(s, id, ts, body)
		if err != nil {
			t.Fatalf("sign: %v", err)
		}
		sigs = append(sigs, sig)
	}
	h := http.Header{}
	h.Set(webhooks.HeaderID, id)
	h.Set(webhooks.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(webhooks.HeaderSignature, strings.Join(sigs, " "))
	return h
}

func newSecret(t *testing.T) string {
	t.Helper()
	s, err := webhooks.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSignSpecVector checks the signature against the example of the
// Standard Webhooks specification, so that receivers using its libraries
// verify ours.
func TestSignSpecVector(t *testing.T) {
	sig, err := webhooks.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
		time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; sig != want {
		t.Fatalf("signature %s, want %s", sig, want)
	}
}

func TestVerify(t *testing.T) {
	secret, other := newSecret(t), newSecret(t)
	now := time.Now()
	body := []byte(`{"type":"claim.submitted","data":{}}`)
	const id = "3f0c1f4e-8a2b-4b8e-9d7e-0c3c2f1a5b6d"
	good := func() http.Header { return signed(t, id, now, body, secret) }
	without := func(name string) http.Header { h := good(); h.Del(name); return h }
	with := func(name, value string) http.Header { h := good(); h.Set(name, value); return h }
	validSig := good().Get(webhooks.HeaderSignature)
	validValue := strings.TrimPrefix(validSig, "v1,")

	tests := []struct {
		name    string
		secrets []string
		header  http.Header
		body    []byte
		now     time.Time
		want    error
	}{
		{"as signed", []string{secret}, good(), body, now, nil},
		{"4 minutes late", []string{secret}, good(), body, now.Add(4 * time.Minute), nil},
		{"one of several secrets", []string{other, secret}, good(), body, now, nil},
		{"tampered body", []string{secret}, good(), []byte(`{"type":"claim.approved","data":{}}`), now, webhooks.ErrSignature},
		{"empty body", []string{secret}, good(), nil, now, webhooks.ErrSignature},
		{"other id", []string{secret}, with(webhooks.HeaderID, "another"), body, now, webhooks.ErrSignature},
		{"6 minutes old", []string{secret}, good(), body, now.Add(6 * time.Minute), webhooks.ErrTimestamp},
		{"6 minutes in the future", []string{secret}, good(), body, now.Add(-6 * time.Minute), webhooks.ErrTimestamp},
		{"timestamp moved within tolerance", []string{secret},
			with(webhooks.HeaderTimestamp, strconv.FormatInt(now.Unix()+1, 10)), body, now, webhooks.ErrSignature},
		{"timestamp not a number", []string{secret}, with(webhooks.HeaderTimestamp, "soon"), body, now, webhooks.ErrTimestamp},
		{"timestamp in milliseconds", []string{secret},
			with(webhooks.HeaderTimestamp, strconv.FormatInt(now.UnixMilli(), 10)), body, now, webhooks.ErrTimestamp},
		{"wrong secret", []string{other}, good(), body, now, webhooks.ErrSignature},
		{"no secrets", nil, good(), body, now, webhooks.ErrSignature},
		{"secret not base64", []string{"whsec_!!!"}, good(), body, now, webhooks.ErrSignature},
		{"no id", []string{secret}, without(webhooks.HeaderID), body, now, webhooks.ErrMissingHeaders},
		{"no timestamp", []string{secret}, without(webhooks.HeaderTimestamp), body, now, webhooks.ErrMissingHeaders},
		{"no signature", []string{secret}, without(webhooks.HeaderSignature), body, now, webhooks.ErrMissingHeaders},
		{"no headers", []string{secret}, http.Header{}, body, now, webhooks.ErrMissingHeaders},
		{"signature not base64", []string{secret}, with(webhooks.HeaderSignature, "v1,!!!"), body, now, webhooks.ErrSignature},
		{"signature without version", []string{secret}, with(webhooks.HeaderSignature, validValue), body, now, webhooks.ErrSignature},
		{"other version", []string{secret}, with(webhooks.HeaderSignature, "v2,"+validValue), body, now, webhooks.ErrSignature},
		{"version only", []string{secret}, with(webhooks.HeaderSignature, "v1"), body, now, webhooks.ErrSignature},
		{"truncated signature", []string{secret}, with(webhooks.HeaderSignature, validSig[:len(validSig)-4]), body, now, webhooks.ErrSignature},
		{"garbage then the good one", []string{secret}, with(webhooks.HeaderSignature, "v1,AAAA x "+validSig), body, now, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := webhooks.Verify(tc.secrets, tc.header, tc.body, tc.now, webhooks.DefaultTolerance)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestVerifyDuringRotation: the sender signs with both secrets; a receiver
// that knows either one accepts.
func TestVerifyDuringRotation(t *testing.T) {
	old, current := newSecret(t), newSecret(t)
	now := time.Now()
	body := []byte(`{"n":1}`)
	h := signed(t, "id-1", now, body, current, old)
	if n := len(strings.Fields(h.Get(webhooks.HeaderSignature))); n != 2 {
		t.Fatalf("%d signatures, want 2", n)
	}
	for name, secret := range map[string]string{"old": old, "current": current} {
		if err := webhooks.Verify([]string{secret}, h, body, now, webhooks.DefaultTolerance); err != nil {
			t.Errorf("with the %s secret only: %v", name, err)
		}
	}
	if err := webhooks.Verify([]string{newSecret(t)}, h, body, now, webhooks.DefaultTolerance); !errors.Is(err, webhooks.ErrSignature) {
		t.Errorf("with a third secret: %v, want ErrSignature", err)
	}
}

func TestNewSecret(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		s := newSecret(t)
		raw, ok := strings.CutPrefix(s, "whsec_")
		if !ok {
			t.Fatalf("secret %q lacks whsec_", s)
		}
		key, err := base64.StdEncoding.DecodeString(raw)
		if err != nil || len(key) != 32 {
			t.Fatalf("secret %q: %d bytes, %v; want 32", s, len(key), err)
		}
		if seen[s] {
			t.Fatalf("secret %q given twice", s)
		}
		seen[s] = true
	}
}

func TestSignRefusesBadSecret(t *testing.T) {
	for _, s := range []string{"", "whsec_", "whsec_***", "not base64 at all"} {
		if _, err := webhooks.Sign(s, "id", time.Now(), nil); err == nil {
			t.Errorf("Sign with secret %q succeeded", s)
		}
	}
}

func FuzzVerify(f *testing.F) {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	now := time.Unix(1614265330, 0)
	good, _ := webhooks.Sign(secret, "msg", now, []byte("{}"))
	f.Add("msg", "1614265330", good, []byte("{}"))
	f.Add("msg", "1614265330", good+" "+good, []byte("{}"))
	f.Add("", "", "", []byte(nil))
	f.Add("x", "-9223372036854775808", "v1,", []byte("x"))
	f.Add("x", "9223372036854775807", "v1,,v1", []byte("x"))
	f.Add("x", "1e9", "v1 ,=", []byte("x"))
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set(webhooks.HeaderID, id)
		h.Set(webhooks.HeaderTimestamp, ts)
		h.Set(webhooks.HeaderSignature, sig)
		err := webhooks.Verify([]string{secret, "whsec_", "junk"}, h, body, now, webhooks.DefaultTolerance)
		if err != nil && !errors.Is(err, webhooks.ErrMissingHeaders) && !errors.Is(err, webhooks.ErrTimestamp) && !errors.Is(err, webhooks.ErrSignature) {
			t.Fatalf("unexpected error %v", err)
		}
		if err == nil {
			// Accepted: one of the signatures must be ours over exactly this.
			n, _ := strconv.ParseInt(ts, 10, 64)
			want, _ := webhooks.Sign(secret, id, time.Unix(n, 0), body)
			found := false
			for _, s := range strings.Fields(sig) {
				if v, ok := strings.CutPrefix(s, "v1,"); ok {
					a, _ := base64.StdEncoding.DecodeString(v)
					b, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(want, "v1,"))
					found = found || string(a) == string(b)
				}
			}
			if !found {
				t.Fatalf("accepted id %q ts %q sig %q without a matching signature", id, ts, sig)
			}
		}
	})
}
