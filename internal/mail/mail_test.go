package mail_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/huntdesk/huntdesk/internal/mail"
	"github.com/huntdesk/huntdesk/models"
)

// smtpServer is a real SMTP server (go-smtp) on a loopback port that keeps
// what it receives and can be told to refuse the next messages.
type smtpServer struct {
	host string
	port int

	mu         sync.Mutex
	msgs       []received
	refuse     int // refuse this many more messages with refuseCode (default 451)
	refuseCode int
}

type received struct {
	from string
	to   []string
	data string
}

func startSMTP(t *testing.T) *smtpServer {
	t.Helper()
	s := &smtpServer{}
	srv := smtp.NewServer(s)
	srv.Domain = "smtp.test.example"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.host, s.port = "127.0.0.1", ln.Addr().(*net.TCPAddr).Port
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close(); ln.Close(); <-done })
	return s
}

func (s *smtpServer) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }

func (s *smtpServer) received() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

func (s *smtpServer) refuseNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = n
}

type session struct {
	s    *smtpServer
	from string
	to   []string
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error { x.from = from; return nil }
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error   { x.to = append(x.to, to); return nil }
func (x *session) Reset()                                      { x.from, x.to = "", nil }
func (x *session) Logout() error                               { return nil }
func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	if x.s.refuse > 0 {
		x.s.refuse--
		if x.s.refuseCode >= 500 {
			return &smtp.SMTPError{Code: x.s.refuseCode, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "mailbox unavailable"}
		}
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	x.s.msgs = append(x.s.msgs, received{from: x.from, to: x.to, data: string(b)})
	return nil
}

func config(s *smtpServer) mail.Config {
	return mail.Config{Host: s.host, Port: s.port, TLSPolicy: "none", From: "huntdesk@huntdesk.example", Timeout: 5 * time.Second}
}

func newMailer(t *testing.T, cfg mail.Config, outbox mail.Outbox, opts ...mail.Option) *mail.Mailer {
	t.Helper()
	m, err := mail.New(cfg, outbox, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// parsed is a received message taken apart the way a mail client would.
type parsed struct {
	header netmail.Header
	parts  map[string]string // decoded body by media type
	top    string            // top-level media type
}

func parse(t *testing.T, raw string) parsed {
	t.Helper()
	msg, err := netmail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatalf("not a message: %v\n%s", err, raw)
	}
	p := parsed{header: msg.Header, parts: map[string]string{}}
	p.top, _, _ = mime.ParseMediaType(msg.Header.Get("Content-Type"))
	collect(t, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, p.parts)
	return p
}

func collect(t *testing.T, contentType, encoding string, body io.Reader, into map[string]string) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		t.Fatalf("Content-Type %q: %v", contentType, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextRawPart()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			collect(t, part.Header.Get("Content-Type"), part.Header.Get("Content-Transfer-Encoding"), part, into)
		}
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	into[mt] = string(b)
}

func TestSendDeliversHeadersAndBothParts(t *testing.T) {
	s := startSMTP(t)
	ob := &mail.MemoryOutbox{}
	m := newMailer(t, config(s), ob)
	id, err := m.Send(context.Background(), mail.Message{Entity: "application/app_1", Event: "received/contact",
		To: []string{"Ann@Alpha.example", "ann@alpha.example", "bob@bravo.example"}, Template: "test", Data: "naïve <check>"})
	if err != nil {
		t.Fatal(err)
	}
	if want := mail.MessageID("application/app_1", "received/contact", "huntdesk.example"); id != want {
		t.Fatalf("id %s, want %s (domain defaults to From's)", id, want)
	}
	got := s.received()
	if len(got) != 1 {
		t.Fatalf("delivered %d messages, want 1", len(got))
	}
	r := got[0]
	if r.from != "huntdesk@huntdesk.example" || strings.Join(r.to, ",") != "ann@alpha.example,bob@bravo.example" {
		t.Fatalf("envelope: from %s to %v; recipients must be deduplicated", r.from, r.to)
	}

	p := parse(t, r.data)
	h := p.header
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	from, _ := h.AddressList("From")
	to, _ := h.AddressList("To")
	if h.Get("Message-ID") != "<"+id+">" || subject != "huntdesk test email (naïve <check>)" ||
		len(from) != 1 || from[0].Address != "huntdesk@huntdesk.example" ||
		len(to) != 2 || to[0].Address != "ann@alpha.example" || to[1].Address != "bob@bravo.example" ||
		h.Get("X-Huntdesk-Event") != "application/app_1/received/contact" {
		t.Fatalf("headers: %v", h)
	}
	if _, err := h.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	if p.top != "multipart/alternative" {
		t.Errorf("top-level type %s, want multipart/alternative", p.top)
	}
	if txt := p.parts["text/plain"]; !strings.Contains(txt, "test email from huntdesk (naïve <check>).") {
		t.Errorf("text part: %q", txt)
	}
	if html := p.parts["text/html"]; !strings.Contains(html, "<p>This is a test email from huntdesk (naïve &lt;check&gt;).</p>") ||
		!strings.HasPrefix(html, "<!DOCTYPE html>") {
		t.Errorf("html part: %q", html)
	}

	e, ok := ob.Entry(id)
	if !ok || !e.Sent || e.SentAt.IsZero() || e.Attempts != 1 || e.Entity != "application/app_1" || e.Event != "received/contact" ||
		strings.Join(e.To, ",") != "ann@alpha.example,bob@bravo.example" || e.Subject != subject {
		t.Fatalf("outbox entry: %+v", e)
	}
}

func TestSameEventIsDeliveredOnce(t *testing.T) {
	s := startSMTP(t)
	ob := &mail.MemoryOutbox{}
	m := newMailer(t, config(s), ob)
	msg := mail.Message{Entity: "application/app_1", Event: "received/contact", To: []string{"ann@alpha.example"}, Template: "test"}
	first, err := m.Send(context.Background(), msg)
	if err != nil {
		t.Fatal(err)
	}
	// A retried activity calls Send again, possibly through another Mailer.
	again, err := newMailer(t, config(s), ob).Send(context.Background(), msg)
	if err != nil || again != first {
		t.Fatalf("second send: %s, %v; want %s", again, err, first)
	}
	if n := len(s.received()); n != 1 {
		t.Fatalf("delivered %d, want 1", n)
	}
	msg.Event = "approved/contact"
	other, err := m.Send(context.Background(), msg)
	if err != nil || other == first {
		t.Fatalf("another event: %s, %v", other, err)
	}
	if n := len(s.received()); n != 2 {
		t.Fatalf("delivered %d, want 2", n)
	}
}

func TestServerRefusalIsRetriedAndDeliveredOnce(t *testing.T) {
	s := startSMTP(t)
	s.refuseNext(1)
	ob := &mail.MemoryOutbox{}
	m := newMailer(t, config(s), ob)
	msg := mail.Message{Entity: "application/app_2", Event: "approved/contact", To: []string{"ann@alpha.example"}, Template: "test"}
	id, err := m.Send(context.Background(), msg)
	if err == nil || !strings.Contains(err.Error(), "try again later") {
		t.Fatalf("a refused message must return the SMTP error so the activity retries: %v", err)
	}
	if models.ErrorCode(err) == models.EINVALID {
		t.Fatalf("an SMTP failure is not bad input: %v", err)
	}
	if e, ok := ob.Entry(id); !ok || e.Sent || e.Attempts != 1 || !strings.Contains(e.LastError, "try again later") || len(s.received()) != 0 {
		t.Fatalf("a refused message must be recorded and stay unsent: %+v", e)
	}
	for range 2 {
		if got, err := m.Send(context.Background(), msg); err != nil || got != id {
			t.Fatalf("retry: %s, %v", got, err)
		}
	}
	if n := len(s.received()); n != 1 || !ob.Sent(id) {
		t.Fatalf("delivered %d, sent=%v; want exactly one delivery", n, ob.Sent(id))
	}
}

// TestSMTPFailuresAreClassified: a 5xx answer is permanent (no retry can fix
// a bounced address), a 4xx answer or a relay that cannot be reached is
// temporary. Activities turn permanent failures into non-retryable errors.
func TestSMTPFailuresAreClassified(t *testing.T) {
	s := startSMTP(t)
	s.mu.Lock()
	s.refuse, s.refuseCode = 1, 550
	s.mu.Unlock()
	ob := &mail.MemoryOutbox{}
	m := newMailer(t, config(s), ob)
	msg := mail.Message{Entity: "inquiry/q_9", Event: "ack/contact", To: []string{"gone@alpha.example"}, Template: "test"}
	id, err := m.Send(context.Background(), msg)
	if err == nil || !mail.IsPermanent(err) {
		t.Fatalf("a 550 must be a permanent failure: %v", err)
	}
	if e, _ := ob.Entry(id); e.Sent || !strings.Contains(e.LastError, "550") {
		t.Fatalf("a bounce must be recorded: %+v", e)
	}

	s.mu.Lock()
	s.refuse, s.refuseCode = 1, 451
	s.mu.Unlock()
	msg.Event = "ack/other"
	if _, err := m.Send(context.Background(), msg); err == nil || mail.IsPermanent(err) {
		t.Fatalf("a 451 is temporary: %v", err)
	}

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cfg := config(s)
	cfg.Port = closed
	down := newMailer(t, cfg, ob)
	msg.Event = "ack/down"
	if _, err := down.Send(context.Background(), msg); err == nil || mail.IsPermanent(err) {
		t.Fatalf("a relay that is down is temporary: %v", err)
	}
	if mail.IsPermanent(errors.New("550 looks like a bounce but is not an SMTP reply")) {
		t.Fatal("only SMTP replies are classified")
	}
}

func TestInjectedSenderFailureIsRetriedAndDeliveredOnce(t *testing.T) {
	fail := errors.New("connection reset")
	var calls int
	var delivered []mail.Outgoing
	ob := &mail.MemoryOutbox{}
	cfg := mail.Config{Host: "smtp.invalid", Port: 25, TLSPolicy: "none", From: "a@huntdesk.example", Domain: "mail.huntdesk.example"}
	m := newMailer(t, cfg, ob, mail.WithSender(func(_ context.Context, o mail.Outgoing) error {
		calls++
		if calls == 1 {
			return fail
		}
		delivered = append(delivered, o)
		return nil
	}))
	msg := mail.Message{Entity: "inquiry/q_1", Event: "ack/contact", To: []string{"x@y.example"}, Template: "test"}
	id, err := m.Send(context.Background(), msg)
	if !errors.Is(err, fail) || id != mail.MessageID("inquiry/q_1", "ack/contact", "mail.huntdesk.example") {
		t.Fatalf("err=%v id=%s", err, id)
	}
	if e, _ := ob.Entry(id); e.Sent || e.LastError != fail.Error() {
		t.Fatalf("after a failure: %+v", e)
	}
	for range 2 {
		if _, err := m.Send(context.Background(), msg); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 2 || len(delivered) != 1 || !ob.Sent(id) {
		t.Fatalf("calls=%d delivered=%d sent=%v; want one failure then one delivery", calls, len(delivered), ob.Sent(id))
	}
	o := delivered[0]
	if o.MessageID != id || o.From != "a@huntdesk.example" || o.Headers["X-Huntdesk-Event"] != "inquiry/q_1/ack/contact" || o.Subject != "huntdesk test email" {
		t.Fatalf("outgoing: %+v", o)
	}
}

func TestBadInputIsRefusedAndNothingSent(t *testing.T) {
	s := startSMTP(t)
	ob := &mail.MemoryOutbox{}
	m := newMailer(t, config(s), ob)
	ok := mail.Message{Entity: "e", Event: "v", To: []string{"a@b.example"}, Template: "test"}
	for _, c := range []struct {
		name, field string
		edit        func(*mail.Message)
	}{
		{"CR/LF in a recipient", "to", func(m *mail.Message) { m.To = []string{"a@b.example\r\nBcc: evil@c.example"} }},
		{"trailing LF in a recipient", "to", func(m *mail.Message) { m.To = []string{"a@b.example\n"} }},
		{"display name", "to", func(m *mail.Message) { m.To = []string{"Evil <a@b.example>"} }},
		{"two addresses in one", "to", func(m *mail.Message) { m.To = []string{"a@b.example, evil@c.example"} }},
		{"one bad among good", "to", func(m *mail.Message) { m.To = []string{"a@b.example", "nope"} }},
		{"no recipient", "to", func(m *mail.Message) { m.To = nil }},
		{"no entity", "entity", func(m *mail.Message) { m.Entity = "" }},
		{"LF in the entity", "entity", func(m *mail.Message) { m.Entity = "e\nX: y" }},
		{"NUL in the event", "event", func(m *mail.Message) { m.Event = "v\x00w" }},
		{"CR/LF in the event", "event", func(m *mail.Message) { m.Event = "v\r\nBcc: evil@c.example" }},
		{"LF in the event", "event", func(m *mail.Message) { m.Event = "v\nX: y" }},
		{"unknown template", "template", func(m *mail.Message) { m.Template = "nope" }},
		{"CR/LF in the rendered subject", "subject", func(m *mail.Message) { m.Data = "x\r\nBcc: evil@c.example" }},
		{"LF in the rendered subject", "subject", func(m *mail.Message) { m.Data = "x\ny" }},
	} {
		msg := ok
		c.edit(&msg)
		_, err := m.Send(context.Background(), msg)
		var e *models.Error
		if !errors.As(err, &e) || e.Code != models.EINVALID || e.Fields[c.field] == "" {
			t.Errorf("%s: %v; want EINVALID naming %s", c.name, err, c.field)
		}
	}
	if n := len(s.received()); n != 0 {
		t.Fatalf("delivered %d; bad input must send nothing", n)
	}
	if n := len(ob.Entries()); n != 0 {
		t.Fatalf("outbox has %d entries; bad input must record nothing", n)
	}
}

func TestTLSPolicies(t *testing.T) {
	s := startSMTP(t) // offers no STARTTLS
	msg := mail.Message{Entity: "e", Event: "v", To: []string{"a@b.example"}, Template: "test"}

	cfg := config(s)
	cfg.TLSPolicy = "mandatory"
	ob := &mail.MemoryOutbox{}
	id, err := newMailer(t, cfg, ob).Send(context.Background(), msg)
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") || ob.Sent(id) || len(s.received()) != 0 {
		t.Fatalf("mandatory TLS must not fall back to plain text: %v", err)
	}
	cfg.TLSPolicy = "opportunistic"
	if _, err := newMailer(t, cfg, ob).Send(context.Background(), msg); err != nil || len(s.received()) != 1 || !ob.Sent(id) {
		t.Fatalf("opportunistic TLS may send in plain text: %v", err)
	}
}

func TestRenderTextAndHTML(t *testing.T) {
	r, err := mail.Render("test", `<b>&"`)
	if err != nil {
		t.Fatal(err)
	}
	if r.Subject != `huntdesk test email (<b>&")` {
		t.Errorf("subject: %q (text/template, trimmed)", r.Subject)
	}
	if !strings.Contains(r.Text, `(<b>&").`) {
		t.Errorf("text: %q (text/template does not escape)", r.Text)
	}
	if !strings.Contains(r.HTML, `(&lt;b&gt;&amp;&#34;).</p>`) || !strings.HasPrefix(r.HTML, "<!DOCTYPE html>") ||
		!strings.Contains(r.HTML, `<title>huntdesk test email (&lt;b&gt;&amp;&#34;)</title>`) || strings.Count(r.HTML, "<html") != 1 {
		t.Errorf("html: %q (html/template escapes; the layout wraps the fragment)", r.HTML)
	}
	if r, err = mail.Render("test", nil); err != nil || r.Subject != "huntdesk test email" {
		t.Fatalf("no data: %q, %v", r.Subject, err)
	}
	_, err = mail.Render("nope", nil)
	if e, ok := err.(*models.Error); !ok || e.Code != models.EINVALID || e.Fields["template"] == "" {
		t.Fatalf("unknown template: %v", err)
	}
}

func TestMessageID(t *testing.T) {
	a := mail.MessageID("application/app_1", "received/contact", "huntdesk.example")
	sum := sha256.Sum256([]byte("application/app_1\x00received/contact"))
	if want := hex.EncodeToString(sum[:])[:32] + "@huntdesk.example"; a != want {
		t.Fatalf("got %s, want %s", a, want)
	}
	if a != mail.MessageID("application/app_1", "received/contact", "huntdesk.example") {
		t.Fatal("same event, different ids")
	}
	for _, b := range []string{
		mail.MessageID("application/app_1", "approved/contact", "huntdesk.example"),
		mail.MessageID("application/app_2", "received/contact", "huntdesk.example"),
		mail.MessageID("application/app_1/received", "contact", "huntdesk.example"),
		mail.MessageID("application/app_1", "received/contact", "other.example"),
	} {
		if b == a {
			t.Fatalf("different events share id %s", a)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	good := mail.Config{Host: "smtp.example", Port: 587, TLSPolicy: "mandatory", From: "a@b.example"}
	for _, c := range []mail.Config{
		good,
		{Host: "smtp.example", Port: 465, TLSPolicy: "implicit", From: "a@b.example", Username: "u", Password: "p", Domain: "mail.b.example", Timeout: time.Second},
		{Host: "127.0.0.1", Port: 25, TLSPolicy: "none", From: "a@b.example"},
		{Host: "smtp.example", Port: 25, TLSPolicy: "opportunistic", From: "a@b.example", Username: "u"},
	} {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}

	bad := mail.Config{Host: "", Port: 0, TLSPolicy: "maybe", From: "Name <a@b.example>", Password: "x\n", Domain: "b.example>\r\nX: y", Timeout: -1}
	var e *models.Error
	if err := bad.Validate(); !errors.As(err, &e) || e.Code != models.EINVALID {
		t.Fatalf("want EINVALID, got %v", err)
	}
	for _, f := range []string{"smtp_host", "smtp_port", "smtp_tls", "mail_from", "smtp_username", "smtp_password", "mail_domain", "smtp_timeout"} {
		if e.Fields[f] == "" {
			t.Errorf("%s not named: %v", f, e.Fields)
		}
	}
	for field, c := range map[string]mail.Config{
		"smtp_host":   {Host: "smtp.example\r\n", Port: 25, TLSPolicy: "none", From: "a@b.example"},
		"smtp_port":   {Host: "smtp.example", Port: 65536, TLSPolicy: "none", From: "a@b.example"},
		"mail_from":   {Host: "smtp.example", Port: 25, TLSPolicy: "none", From: "a@b.example\r\nBcc: c@d.example"},
		"mail_domain": {Host: "smtp.example", Port: 25, TLSPolicy: "none", From: "a@b.example", Domain: "-bad.example"},
	} {
		if err := c.Validate(); !errors.As(err, &e) || e.Fields[field] == "" || len(e.Fields) != 1 {
			t.Errorf("%s: %v", field, err)
		}
	}

	if _, err := mail.New(bad, &mail.MemoryOutbox{}); models.ErrorCode(err) != models.EINVALID {
		t.Errorf("New with a bad config: %v", err)
	}
	if _, err := mail.New(good, nil); err == nil {
		t.Error("New without an outbox must fail")
	}
}

// flakyOutbox fails MarkSent a number of times, as a database restarting
// under the worker does.
type flakyOutbox struct {
	*mail.MemoryOutbox
	mu       sync.Mutex
	failures int
}

func (o *flakyOutbox) MarkSent(ctx context.Context, id string, at time.Time) error {
	o.mu.Lock()
	if o.failures > 0 {
		o.failures--
		o.mu.Unlock()
		return errors.New("FATAL: terminating connection due to administrator command (SQLSTATE 57P01)")
	}
	o.mu.Unlock()
	return o.MemoryOutbox.MarkSent(ctx, id, at)
}

// TestDeliveredEmailIsRecordedDespiteABriefDatabaseOutage: the relay took
// the message, then the database was briefly gone when the outbox was to
// record it. The Mailer keeps trying to record it instead of failing the
// send, whose retry would deliver the email again (the fault suite found a
// duplicate while PostgreSQL restarted).
func TestDeliveredEmailIsRecordedDespiteABriefDatabaseOutage(t *testing.T) {
	ob := &flakyOutbox{MemoryOutbox: &mail.MemoryOutbox{}, failures: 3}
	var delivered int
	cfg := mail.Config{Host: "smtp.invalid", Port: 25, TLSPolicy: "none", From: "a@huntdesk.example", Domain: "mail.huntdesk.example"}
	m := newMailer(t, cfg, ob, mail.WithSender(func(context.Context, mail.Outgoing) error { delivered++; return nil }))
	msg := mail.Message{Entity: "application/app_1", Event: "received/contact", To: []string{"x@y.example"}, Template: "test"}
	for range 2 { // the second is a retry of the first, as an activity's would be
		id, err := m.Send(context.Background(), msg)
		if err != nil {
			t.Fatalf("send: %v", err)
		}
		if !ob.Sent(id) {
			t.Fatal("not recorded as sent")
		}
	}
	if delivered != 1 {
		t.Fatalf("delivered %d times", delivered)
	}
}
