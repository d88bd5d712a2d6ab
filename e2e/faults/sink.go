package faults

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
)

// sinkMode is how the SMTP sink treats a new connection.
type sinkMode int32

const (
	sinkAccept sinkMode = iota // a working relay: every message is kept
	sinkRefuse                 // "421 service not available" at once, then close: an outage the sender must retry
	sinkHang                   // the connection is accepted and nothing is ever said: a relay that hangs
)

func (m sinkMode) String() string {
	return [...]string{"accept", "refuse", "hang"}[m]
}

// received is one message as the sink got it.
type received struct {
	MessageID string // without angle brackets
	Event     string // X-Huntdesk-Event: entity/event
	To        []string
	At        time.Time
}

// sink is the SMTP relay of the stack: a real SMTP server (go-smtp) on
// loopback whose behaviour the suite switches between accepting, refusing
// and hanging. It counts messages by Message-ID.
type sink struct {
	ln   net.Listener
	srv  *smtp.Server
	mode atomic.Int32
	// conns feeds accepted connections to the SMTP server.
	conns chan net.Conn

	mu       sync.Mutex
	msgs     []received
	refused  int
	hung     []net.Conn
	closed   bool
	accepted int
}

func startSink() (*sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{ln: ln, conns: make(chan net.Conn)}
	s.srv = smtp.NewServer(sinkBackend{s})
	s.srv.Domain = "sink.faults"
	s.srv.ReadTimeout, s.srv.WriteTimeout = time.Minute, time.Minute
	s.srv.MaxMessageBytes = 32 << 20
	s.srv.MaxRecipients = 1000
	s.srv.AllowInsecureAuth = true
	go func() { _ = s.srv.Serve(chanListener{s}) }()
	go s.acceptLoop()
	return s, nil
}

func (s *sink) addr() string { return s.ln.Addr().String() }

func (s *sink) setMode(m sinkMode) {
	s.mode.Store(int32(m))
	slog.Info("SMTP sink", "mode", m.String())
	if m != sinkHang {
		// A relay that comes back drops the connections it hung on.
		s.mu.Lock()
		for _, c := range s.hung {
			c.Close()
		}
		s.hung = nil
		s.mu.Unlock()
	}
}

func (s *sink) acceptLoop() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		switch sinkMode(s.mode.Load()) {
		case sinkRefuse:
			s.mu.Lock()
			s.refused++
			s.mu.Unlock()
			_, _ = io.WriteString(c, "421 4.3.2 Service not available, try again later\r\n")
			c.Close()
		case sinkHang:
			s.mu.Lock()
			s.hung = append(s.hung, c)
			s.mu.Unlock()
		default:
			s.mu.Lock()
			s.accepted++
			s.mu.Unlock()
			s.conns <- c
		}
	}
}

func (s *sink) close() {
	s.mu.Lock()
	s.closed = true
	for _, c := range s.hung {
		c.Close()
	}
	s.mu.Unlock()
	s.ln.Close()
	s.srv.Close()
}

// messages returns a copy of what arrived.
func (s *sink) messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

func (s *sink) stats() (refused, hung, accepted int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused, len(s.hung), s.accepted
}

// chanListener hands the SMTP server the connections acceptLoop let through.
type chanListener struct{ s *sink }

func (l chanListener) Accept() (net.Conn, error) {
	c, ok := <-l.s.conns
	if !ok {
		return nil, net.ErrClosed
	}
	return c, nil
}
func (l chanListener) Close() error   { return nil }
func (l chanListener) Addr() net.Addr { return l.s.ln.Addr() }

type sinkBackend struct{ s *sink }

func (b sinkBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: b.s}, nil }

type sinkSession struct {
	s  *sink
	to []string
}

func (x *sinkSession) AuthPlain(string, string) error { return nil }
func (x *sinkSession) Mail(string, *smtp.MailOptions) error {
	return nil
}
func (x *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}
func (x *sinkSession) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, m.Body)
	id := strings.Trim(strings.TrimSpace(m.Header.Get("Message-Id")), "<>")
	if id == "" {
		return errors.New("no Message-ID")
	}
	x.s.mu.Lock()
	x.s.msgs = append(x.s.msgs, received{MessageID: id, Event: m.Header.Get("X-Huntdesk-Event"), To: x.to, At: time.Now()})
	x.s.mu.Unlock()
	return nil
}
func (x *sinkSession) Reset()        { x.to = nil }
func (x *sinkSession) Logout() error { return nil }
