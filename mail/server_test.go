package mail_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// received is one message as the test relay took it.
type received struct {
	From string
	To   []string
	Data []byte
	// User is who authenticated, TLS whether the session was encrypted.
	User string
	TLS  bool
}

// relay is a real SMTP server on loopback (go-smtp), with knobs for the
// ways a relay refuses or stalls.
type relay struct {
	Port int
	// Certs trusts the relay's self-signed certificate.
	Certs *x509.CertPool

	// User and Password, when set, are required (AUTH PLAIN).
	User, Password string
	// MailErr refuses every sender, RcptErr every recipient, DataErr every
	// message.
	MailErr, RcptErr, DataErr error
	// DataDelay stalls the reply to the message's end.
	DataDelay time.Duration

	stop chan struct{}
	mu   sync.Mutex
	msgs []received
}

type relayMode int

const (
	plainRelay    relayMode = iota // no TLS offered
	startTLSRelay                  // STARTTLS offered
	implicitTLSRelay
)

// newRelay starts a relay; configure it with set before it is used.
func newRelay(t *testing.T, mode relayMode, set func(*relay)) *relay {
	t.Helper()
	r := &relay{stop: make(chan struct{})}
	if set != nil {
		set(r)
	}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{relay: r, conn: c}, nil
	}))
	s.Domain = "localhost"
	s.ReadTimeout = 10 * time.Second
	s.WriteTimeout = 10 * time.Second
	s.ErrorLog = log.New(io.Discard, "", 0)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.Port = l.Addr().(*net.TCPAddr).Port
	if mode != plainRelay {
		cert, pool := selfSigned(t)
		r.Certs = pool
		tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if mode == startTLSRelay {
			s.TLSConfig = tc
		} else {
			l = tls.NewListener(l, tc)
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(l)
	}()
	t.Cleanup(func() {
		close(r.stop) // release a stalled Data
		_ = s.Close()
		<-done
	})
	return r
}

func (r *relay) received() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.msgs...)
}

type session struct {
	relay *relay
	conn  *smtp.Conn
	user  string
	from  string
	to    []string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, password string) error {
		if user != s.relay.User || password != s.relay.Password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "credentials invalid"}
		}
		s.user = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.relay.User != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	if s.relay.MailErr != nil {
		return s.relay.MailErr
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.relay.RcptErr != nil {
		return s.relay.RcptErr
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if d := s.relay.DataDelay; d > 0 {
		select {
		case <-time.After(d):
		case <-s.relay.stop:
		}
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "too slow"}
	}
	if s.relay.DataErr != nil {
		return s.relay.DataErr
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.relay.mu.Lock()
	s.relay.msgs = append(s.relay.msgs, received{From: s.from, To: s.to, Data: b, User: s.user, TLS: isTLS})
	s.relay.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// selfSigned is a certificate for 127.0.0.1 and the pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test relay"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// rawListener accepts connections and hands each to handle: for relays
// that do not speak SMTP at all.
func rawListener(t *testing.T, handle func(net.Conn)) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		_ = l.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				handle(c)
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}
