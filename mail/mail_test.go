package mail_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/huntdesk/huntdesk/mail"
	"github.com/huntdesk/huntdesk/models"
)

// smtpServer is a real SMTP server (go-smtp) that keeps what it receives and
// can be told to refuse the next messages.
type smtpServer struct {
	mu     sync.Mutex
	msgs   []received
	refuse int
	host   string
	port   int
	srv    *smtp.Server
}

type received struct {
	from string
	to   []string
	data string
}

func startSMTP(t *testing.T) *smtpServer {
	t.Helper()
	s := &smtpServer{}
	s.srv = smtp.NewServer(s)
	s.srv.Domain = "test.example"
	s.srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.host = "127.0.0.1"
	s.port = ln.Addr().(*net.TCPAddr).Port
	go s.srv.Serve(ln)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

func (s *smtpServer) NewSession(*smtp.Conn) (smtp.Session, error) { return &sess{s: s}, nil }

func (s *smtpServer) received() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

type sess struct {
	s    *smtpServer
	from string
	to   []string
}

func (x *sess) Mail(from string, _ *smtp.MailOptions) error { x.from = from; return nil }
func (x *sess) Rcpt(to string, _ *smtp.RcptOptions) error   { x.to = append(x.to, to); return nil }
func (x *sess) Reset()                                      {}
func (x *sess) Logout() error                               { return nil }
func (x *sess) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	if x.s.refuse > 0 {
		x.s.refuse--
		return &smtp.SMTPError{Code: 451, Message: "try again later"}
	}
	x.s.msgs = append(x.s.msgs, received{from: x.from, to: x.to, data: string(b)})
	return nil
}

func newMailer(t *testing.T, s *smtpServer, outbox mail.Outbox, opts ...mail.Option) *mail.Mailer {
	t.Helper()
	m, err := mail.New(mail.Config{Host: s.host, Port: s.port, TLSPolicy: "none", From: "huntdesk@huntdesk.example", Timeout: 5 * time.Second}, outbox, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSendDeliversOnceWithHeadersAndBothParts(t *testing.T) {
	s := startSMTP(t)
	ob := &mail.MemoryOutbox{}
	m := newMailer(t, s, ob)
	msg := mail.Message{Entity: "application/app_1", Event: "received/contact", To: []string{"Ann@Alpha.example", "ann@alpha.example"}, Template: "test", Data: "check"}
	id, err := m.Send(context.Background(), msg)
	if err != nil {
		t.Fatal(err)
	}
	if id2, err := m.Send(context.Background(), msg); err != nil || id2 != id {
		t.Fatalf("second send: %v %s", err, id2)
	}
	got := s.received()
	if len(got) != 1 {
		t.Fatalf("delivered %d messages, want 1", len(got))
	}
	r := got[0]
	if r.from != "huntdesk@huntdesk.example" || len(r.to) != 1 || r.to[0] != "ann@alpha.example" {
		t.Fatalf("envelope: from %s to %v (recipients must be deduplicated)", r.from, r.to)
	}
	for _, want := range []string{"Message-ID: <" + id + ">", "Subject: huntdesk test email", "From: <huntdesk@huntdesk.example>",
		"To: <ann@alpha.example>", "X-Huntdesk-Event: application/app_1 received/contact", "text/plain", "text/html", "(check)"} {
		if !strings.Contains(r.data, want) {
			t.Errorf("message lacks %q:\n%s", want, r.data)
		}
	}
	if !ob.Sent(id) || !strings.HasSuffix(id, "@huntdesk.example") {
		t.Fatalf("outbox: sent=%v id=%s", ob.Sent(id), id)
	}
}

func TestFailedSendIsRetriedAndDeliveredOnce(t *testing.T) {
	s := startSMTP(t)
	s.refuse = 1
	ob := &mail.MemoryOutbox{}
	m := newMailer(t, s, ob)
	msg := mail.Message{Entity: "application/app_2", Event: "approved/contact", To: []string{"ann@alpha.example"}, Template: "test"}
	id, err := m.Send(context.Background(), msg)
	if err == nil {
		t.Fatal("a refused message must return an error so the activity retries")
	}
	if ob.Sent(id) || len(s.received()) != 0 {
		t.Fatal("a refused message must stay unsent")
	}
	if _, err := m.Send(context.Background(), msg); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if _, err := m.Send(context.Background(), msg); err != nil {
		t.Fatalf("third call: %v", err)
	}
	if n := len(s.received()); n != 1 || !ob.Sent(id) {
		t.Fatalf("delivered %d, sent=%v; want exactly one delivery", n, ob.Sent(id))
	}
}

func TestInjectedSenderFailure(t *testing.T) {
	calls := 0
	fail := errors.New("connection reset")
	m, err := mail.New(mail.Config{Host: "smtp.invalid", Port: 25, TLSPolicy: "none", From: "a@huntdesk.example"}, &mail.MemoryOutbox{},
		mail.WithSender(func(context.Context, mail.Outgoing) error { calls++; return fail }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Send(context.Background(), mail.Message{Entity: "e", Event: "v", To: []string{"x@y.example"}, Template: "test"}); !errors.Is(err, fail) || calls != 1 {
		t.Fatalf("err=%v calls=%d", err, calls)
	}
}

func TestHeaderInjectionIsRefused(t *testing.T) {
	s := startSMTP(t)
	m := newMailer(t, s, &mail.MemoryOutbox{})
	for name, msg := range map[string]mail.Message{
		"to":     {Entity: "e", Event: "v", To: []string{"a@b.example\r\nBcc: evil@c.example"}, Template: "test"},
		"entity": {Entity: "e\nX: y", Event: "v", To: []string{"a@b.example"}, Template: "test"},
		"to ":    {Entity: "e", Event: "v", To: []string{"Evil <a@b.example>"}, Template: "test"},
	} {
		_, err := m.Send(context.Background(), msg)
		var e *models.Error
		if !errors.As(err, &e) || e.Code != models.EINVALID || e.Fields[strings.TrimSpace(name)] == "" {
			t.Errorf("%s: %v, want EINVALID naming the field", name, err)
		}
	}
	if len(s.received()) != 0 {
		t.Fatal("nothing may be sent")
	}
}

func TestRenderRefusesMultiLineSubjects(t *testing.T) {
	if _, err := mail.Render("test", "fine"); err != nil {
		t.Fatal(err)
	}
	if _, err := mail.Render("nope", nil); models.ErrorCode(err) != models.EINVALID {
		t.Fatalf("unknown template: %v", err)
	}
	// Data reaches subjects of real templates; a newline there must not become a header.
	_, err := mail.Render("application_review_reminder", map[string]any{
		"Org": map[string]any{"Name": "Evil\r\nBcc: x@y.example"}, "App": map[string]any{"ID": "a", "ReviewDueAt": time.Now()}, "URL": "u",
	})
	if e, ok := err.(*models.Error); !ok || e.Fields["subject"] == "" {
		t.Fatalf("CR/LF in a subject: %v", err)
	}
}

func TestMessageIDIsDeterministic(t *testing.T) {
	a := mail.MessageID("application/app_1", "received/contact", "huntdesk.example")
	if a != mail.MessageID("application/app_1", "received/contact", "huntdesk.example") {
		t.Fatal("same event, different ids")
	}
	if a == mail.MessageID("application/app_1", "approved/contact", "huntdesk.example") || a == mail.MessageID("application/app_2", "received/contact", "huntdesk.example") {
		t.Fatal("different events share an id")
	}
}

func TestConfigValidate(t *testing.T) {
	ok := mail.Config{Host: "smtp.example", Port: 587, TLSPolicy: "mandatory", From: "a@b.example"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := mail.Config{Host: "", Port: 0, TLSPolicy: "maybe", From: "Name <a@b.example>", Password: "x"}
	err := bad.Validate()
	var e *models.Error
	if !errors.As(err, &e) {
		t.Fatal(err)
	}
	for _, f := range []string{"smtp_host", "smtp_port", "smtp_tls", "mail_from", "smtp_username"} {
		if e.Fields[f] == "" {
			t.Errorf("%s not named: %v", f, e.Fields)
		}
	}

}
