// Package mail sends huntdesk's email through an SMTP relay with go-mail.
//
// Every email is one (entity, event): Message-ID derives from the pair, and
// the message is recorded in an Outbox before it is sent. A retried Temporal
// activity finds the message already sent and skips it, so a retry or a dead
// worker never mails a customer twice. One window remains: a crash after the
// SMTP server accepted the message and before MarkSent. The resend then
// carries the same Message-ID, so receiving systems can deduplicate it.
//
// Templates live in templates/ as NAME.subject.tmpl and NAME.txt.tmpl
// (text/template) and NAME.html.tmpl (html/template); a process adds an email
// by adding the three files.
package mail

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/huntdesk/huntdesk/models"
)

// Config is the SMTP relay and sender.
type Config struct {
	Host      string
	Port      int
	Username  string // empty: no SMTP auth
	Password  string
	TLSPolicy string // none, opportunistic, mandatory (STARTTLS), implicit (SMTPS)
	From      string // a bare address
	Domain    string // right-hand side of Message-IDs; default: From's domain
	Timeout   time.Duration
}

// Validate checks the configuration before the first send needs it.
func (c Config) Validate() error {
	var v models.Validation
	v.Check(c.Host != "" && !strings.ContainsAny(c.Host, " \r\n"), "smtp_host", "is required")
	v.Check(c.Port > 0 && c.Port < 65536, "smtp_port", "must be a TCP port")
	switch c.TLSPolicy {
	case "none", "opportunistic", "mandatory", "implicit":
	default:
		v.Check(false, "smtp_tls", "must be none, opportunistic, mandatory or implicit")
	}
	v.Check(models.ValidEmail(c.From), "mail_from", "must be a bare email address")
	v.Check(c.Password == "" || c.Username != "", "smtp_username", "is required with a password")
	return v.Err()
}

func (c Config) domain() string {
	if c.Domain != "" {
		return c.Domain
	}
	return c.From[strings.LastIndexByte(c.From, '@')+1:]
}

// OutboxEntry is one email as recorded before it is sent.
type OutboxEntry struct {
	MessageID, Entity, Event string
	To                       []string
	Subject, Text, HTML      string
	CreatedAt                time.Time
}

// Outbox records emails so each is sent once; the database implements it.
type Outbox interface {
	// Reserve records e unless its MessageID is known; sent reports whether
	// that message was already delivered.
	Reserve(ctx context.Context, e OutboxEntry) (sent bool, err error)
	MarkSent(ctx context.Context, messageID string, at time.Time) error
	MarkFailed(ctx context.Context, messageID string, errText string) error
}

// Message asks for one email: who, which template with what data, and the
// (Entity, Event) pair that makes it unique.
type Message struct {
	Entity, Event string
	To            []string
	Template      string
	Data          any
}

// Outgoing is a rendered message handed to the transport.
type Outgoing struct {
	MessageID string // without angle brackets
	From      string
	To        []string
	Subject   string
	Text      string
	HTML      string
	Headers   map[string]string
}

// Sender delivers one rendered message; the default speaks SMTP via go-mail.
type Sender func(ctx context.Context, m Outgoing) error

// Option configures a Mailer.
type Option func(*Mailer)

// WithSender replaces the SMTP transport (tests, tools).
func WithSender(s Sender) Option { return func(m *Mailer) { m.send = s } }

// Mailer sends emails once per (entity, event).
type Mailer struct {
	cfg    Config
	outbox Outbox
	send   Sender
	now    func() time.Time
}

// New returns a Mailer; it does not connect until the first Send.
func New(cfg Config, outbox Outbox, opts ...Option) (*Mailer, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Mailer{cfg: cfg, outbox: outbox, now: time.Now}
	m.send = m.smtp
	for _, o := range opts {
		o(m)
	}
	return m, nil
}

// MessageID returns the Message-ID (without angle brackets) of an event's
// email: the same (entity, event) always gives the same id.
func MessageID(entity, event, domain string) string {
	h := sha256.Sum256([]byte(entity + "\x00" + event))
	return hex.EncodeToString(h[:16]) + "@" + domain
}

// Send renders and sends msg unless the outbox says it was sent already. It
// returns the Message-ID. An input error is a models.Error (EINVALID); an
// SMTP failure is returned wrapped, for the caller to retry.
func (m *Mailer) Send(ctx context.Context, msg Message) (string, error) {
	to, err := checkMessage(msg)
	if err != nil {
		return "", err
	}
	r, err := Render(msg.Template, msg.Data)
	if err != nil {
		return "", err
	}
	id := MessageID(msg.Entity, msg.Event, m.cfg.domain())
	sent, err := m.outbox.Reserve(ctx, OutboxEntry{MessageID: id, Entity: msg.Entity, Event: msg.Event, To: to,
		Subject: r.Subject, Text: r.Text, HTML: r.HTML, CreatedAt: m.now()})
	if err != nil {
		return "", fmt.Errorf("outbox: %w", err)
	}
	if sent {
		return id, nil
	}
	out := Outgoing{MessageID: id, From: m.cfg.From, To: to, Subject: r.Subject, Text: r.Text, HTML: r.HTML,
		Headers: map[string]string{"X-Huntdesk-Event": msg.Entity + " " + msg.Event}}
	if err := m.send(ctx, out); err != nil {
		if ferr := m.outbox.MarkFailed(context.WithoutCancel(ctx), id, err.Error()); ferr != nil {
			return id, fmt.Errorf("send %s: %w (and outbox: %v)", id, err, ferr)
		}
		return id, fmt.Errorf("send %s: %w", id, err)
	}
	if err := m.outbox.MarkSent(context.WithoutCancel(ctx), id, m.now()); err != nil {
		return id, fmt.Errorf("outbox: mark %s sent: %w", id, err)
	}
	return id, nil
}

// checkMessage validates what ends up in headers: no CR/LF, bare addresses.
func checkMessage(msg Message) ([]string, error) {
	var v models.Validation
	v.Check(msg.Entity != "" && !strings.ContainsAny(msg.Entity, "\r\n"), "entity", "is required, on one line")
	v.Check(msg.Event != "" && !strings.ContainsAny(msg.Event, "\r\n"), "event", "is required, on one line")
	v.Check(msg.Template != "", "template", "is required")
	v.Check(len(msg.To) > 0, "to", "needs at least one recipient")
	seen := map[string]bool{}
	var to []string
	for _, addr := range msg.To {
		a := strings.ToLower(strings.TrimSpace(addr))
		if !models.ValidEmail(a) {
			v.Check(false, "to", fmt.Sprintf("%q is not a bare email address", addr))
			continue
		}
		if !seen[a] {
			seen[a] = true
			to = append(to, a)
		}
	}
	return to, v.Err()
}

func (m *Mailer) smtp(ctx context.Context, o Outgoing) error {
	gm := gomail.NewMsg()
	if err := gm.From(m.cfg.From); err != nil {
		return err
	}
	if err := gm.To(o.To...); err != nil {
		return err
	}
	gm.Subject(o.Subject)
	gm.SetMessageIDWithValue(o.MessageID)
	gm.SetDate()
	for k, v := range o.Headers {
		gm.SetGenHeader(gomail.Header(k), v)
	}
	gm.SetBodyString(gomail.TypeTextPlain, o.Text)
	if o.HTML != "" {
		gm.AddAlternativeString(gomail.TypeTextHTML, o.HTML)
	}
	opts := []gomail.Option{gomail.WithPort(m.cfg.Port), gomail.WithTimeout(m.cfg.Timeout)}
	switch m.cfg.TLSPolicy {
	case "none":
		opts = append(opts, gomail.WithTLSPortPolicy(gomail.NoTLS), gomail.WithPort(m.cfg.Port))
	case "opportunistic":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case "mandatory":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case "implicit":
		opts = append(opts, gomail.WithSSL(), gomail.WithPort(m.cfg.Port))
	}
	if m.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(m.cfg.Username), gomail.WithPassword(m.cfg.Password))
	}
	c, err := gomail.NewClient(m.cfg.Host, opts...)
	if err != nil {
		return err
	}
	return c.DialAndSendWithContext(ctx, gm)
}
