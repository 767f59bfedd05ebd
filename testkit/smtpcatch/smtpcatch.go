// Package smtpcatch is an SMTP server on loopback that keeps what it
// receives, for tests and benchmarks of the e-mail channel. It speaks the
// protocol (emersion/go-smtp); it can be told to refuse, drop connections
// or answer slowly, to play a mail server that is down for a while.
package smtpcatch

import (
	"bytes"
	"errors"
	"io"
	"log"
	"net"
	"net/mail"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Behaviour is how the server answers.
type Behaviour int

const (
	// Accept takes every message.
	Accept Behaviour = iota
	// Refuse answers 451 (try again later) to every recipient.
	Refuse
	// Drop closes each connection as soon as it is accepted.
	Drop
)

// Message is one received message.
type Message struct {
	From      string
	To        []string
	MessageID string
	Subject   string
	Header    mail.Header
	Raw       []byte
	At        time.Time
}

// Server is a running catcher.
type Server struct {
	Addr string
	Port int

	srv  *smtp.Server
	ln   net.Listener
	done chan struct{}

	mu        sync.Mutex
	behaviour Behaviour
	delay     time.Duration
	msgs      []Message
	received  chan struct{}
}

// Start listens on a free loopback port.
func Start() (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{ln: &dropper{Listener: ln}, done: make(chan struct{}), received: make(chan struct{}, 1)}
	s.ln.(*dropper).server = s
	s.Addr, s.Port = ln.Addr().String(), ln.Addr().(*net.TCPAddr).Port
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	s.srv.Domain = "localhost"
	s.srv.ReadTimeout, s.srv.WriteTimeout = 30*time.Second, 30*time.Second
	s.srv.MaxMessageBytes = 10 << 20
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(s.ln)
	}()
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error {
	err := s.srv.Close()
	<-s.done
	return err
}

// Set changes how the server answers from now on.
func (s *Server) Set(b Behaviour) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.behaviour = b
}

// Slow delays each message's acceptance by d (0: at once).
func (s *Server) Slow(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// Messages returns what was received so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Wait waits until at least n messages were received or timeout passes,
// and reports whether they were.
func (s *Server) Wait(n int, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		if len(s.Messages()) >= n {
			return true
		}
		select {
		case <-s.received:
		case <-deadline:
			return len(s.Messages()) >= n
		}
	}
}

func (s *Server) now() (Behaviour, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.behaviour, s.delay
}

func (s *Server) keep(m Message) {
	s.mu.Lock()
	s.msgs = append(s.msgs, m)
	s.mu.Unlock()
	select {
	case s.received <- struct{}{}:
	default:
	}
}

// dropper closes accepted connections while the server drops them.
type dropper struct {
	net.Listener
	server *Server
}

func (d *dropper) Accept() (net.Conn, error) {
	for {
		c, err := d.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if b, _ := d.server.now(); b == Drop {
			_ = c.Close()
			continue
		}
		return c, nil
	}
}

type session struct {
	s    *Server
	from string
	to   []string
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if b, _ := x.s.now(); b == Refuse {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if _, delay := x.s.now(); delay > 0 {
		time.Sleep(delay)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return errors.New("unreadable message")
	}
	x.s.keep(Message{
		From: x.from, To: append([]string(nil), x.to...), MessageID: msg.Header.Get("Message-Id"),
		Subject: msg.Header.Get("Subject"), Header: msg.Header, Raw: raw, At: time.Now(),
	})
	return nil
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }
