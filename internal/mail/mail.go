// Package mail sends huntdesk's email through an SMTP relay with go-mail.
//
// # Once per (entity, event)
//
// Every email belongs to one (entity, event) pair, such as
// ("application/app_1", "received/contact"). Its Message-ID derives from the
// pair (see MessageID), and Send records it in an Outbox before it talks to
// the relay. When a Temporal activity is retried, or another worker picks it
// up, Send finds the message already delivered and returns its id without
// sending. One window remains: a crash, or a failed MarkSent, after the SMTP
// server accepted the message and before the outbox recorded it. The retry
// then sends again, but with the same Message-ID, so receiving systems can
// deduplicate it. The outbox does not lock: two Sends of one message running
// at the same moment could both deliver, which Temporal's one-attempt-at-a-
// time activities do not do.
//
// # Templates
//
// An email template NAME is three files in templates/, embedded in the binary:
//
//	NAME.subject.tmpl  text/template: the subject; trimmed, must be one line
//	NAME.txt.tmpl      text/template: the text/plain part
//	NAME.html.tmpl     html/template: the text/html part
//
// All three are executed with Message.Data; a missing map key is an error.
// NAME may not contain dots. The HTML part is a fragment wrapped in the shared
// _layout.html.tmpl (which gets .Subject and .Body), unless it starts with
// <!DOCTYPE or <html. A file that fits none of this, or a NAME missing one
// of its three files, makes every Render fail, so the package tests catch it.
// To add an email, add the three files and Send with Template: NAME.
package mail

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	gomail "github.com/wneessen/go-mail"

	"github.com/huntdesk/huntdesk/models"
)

// DefaultTimeout bounds one SMTP conversation when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Config is the SMTP relay and the sender.
type Config struct {
	Host string
	Port int
	// Username enables SMTP AUTH; empty means none. go-mail picks the
	// strongest mechanism the server offers and never sends PLAIN or LOGIN
	// credentials over a connection that is not encrypted.
	Username, Password string
	// TLSPolicy is "none", "opportunistic" (STARTTLS when offered),
	// "mandatory" (STARTTLS or fail) or "implicit" (SMTPS, TLS from the start).
	TLSPolicy string
	From      string // a bare address
	// Domain is the right-hand side of Message-IDs; default: From's domain.
	Domain  string
	Timeout time.Duration // per SMTP conversation; 0 means DefaultTimeout
}

// Validate reports every problem at once as an EINVALID error whose fields
// are named after the settings, so startup fails before the first email.
func (c Config) Validate() error {
	var v models.Validation
	v.Check(c.Host != "" && !strings.ContainsFunc(c.Host, isSpaceOrControl), "smtp_host", "is required, without spaces")
	v.Check(c.Port > 0 && c.Port < 65536, "smtp_port", "must be a TCP port")
	_, known := tlsPolicies[c.TLSPolicy]
	v.Check(known, "smtp_tls", "must be none, opportunistic, mandatory or implicit")
	v.Check(c.Password == "" || c.Username != "", "smtp_username", "is required with a password")
	v.Check(!strings.ContainsAny(c.Username, "\r\n\x00"), "smtp_username", "must be one line")
	v.Check(!strings.ContainsAny(c.Password, "\r\n\x00"), "smtp_password", "must be one line")
	v.Check(models.ValidEmail(c.From), "mail_from", "must be a bare email address")
	v.Check(c.Domain == "" || validDomain(c.Domain), "mail_domain", "must be a domain name")
	v.Check(c.Timeout >= 0, "smtp_timeout", "must not be negative")
	return v.Err()
}

func (c Config) domain() string {
	if c.Domain != "" {
		return c.Domain
	}
	return c.From[strings.LastIndexByte(c.From, '@')+1:]
}

// tlsPolicies maps Config.TLSPolicy to go-mail options.
var tlsPolicies = map[string][]gomail.Option{
	"none":          {gomail.WithTLSPolicy(gomail.NoTLS)},
	"opportunistic": {gomail.WithTLSPolicy(gomail.TLSOpportunistic)},
	"mandatory":     {gomail.WithTLSPolicy(gomail.TLSMandatory)},
	"implicit":      {gomail.WithSSL()},
}

// validDomain accepts a dot-separated host name (letters, digits, hyphens),
// which is all a Message-ID's right-hand side needs.
func validDomain(d string) bool {
	if len(d) > 253 {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

func isSpaceOrControl(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }

// Message asks for one email: who, which template with what data, and the
// (Entity, Event) pair that makes it unique.
type Message struct {
	Entity, Event string
	To            []string // bare addresses; duplicates are sent once
	Template      string
	Data          any
}

// Outgoing is a rendered, validated message handed to the transport.
type Outgoing struct {
	MessageID string // without angle brackets
	From      string
	To        []string
	Subject   string
	Text      string
	HTML      string // empty: text only
	Headers   map[string]string
}

// Sender delivers one message. The default speaks SMTP through go-mail;
// WithSender swaps it, for tests that inject failures or count deliveries.
type Sender func(ctx context.Context, m Outgoing) error

// Option configures a Mailer.
type Option func(*Mailer)

// WithSender replaces the SMTP transport.
func WithSender(s Sender) Option { return func(m *Mailer) { m.send = s } }

// Outcomes of a Send, as WithObserver reports them.
const (
	ResultSent            = "sent"
	ResultDuplicate       = "skipped_duplicate" // the outbox had it delivered already
	ResultFailedTemporary = "failed_temporary"
	ResultFailedPermanent = "failed_permanent"
)

// WithObserver calls observe after each delivery attempt with the template
// and one of the Result outcomes (for metrics: both sets are fixed).
func WithObserver(observe func(template, result string)) Option {
	return func(m *Mailer) { m.observe = observe }
}

// Mailer sends each (entity, event) email once. It is safe for concurrent use.
type Mailer struct {
	cfg     Config
	outbox  Outbox
	send    Sender
	smtp    []gomail.Option
	observe func(template, result string)
}

// New checks cfg and returns a Mailer. It does not connect: each Send dials
// the relay once, so a relay that is down fails that Send, not startup.
func New(cfg Config, outbox Outbox, opts ...Option) (*Mailer, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if outbox == nil {
		return nil, errors.New("mail: an outbox is required")
	}
	m := &Mailer{cfg: cfg, outbox: outbox}
	m.smtp = append([]gomail.Option{gomail.WithPort(cfg.Port), gomail.WithTimeout(cfg.Timeout)}, tlsPolicies[cfg.TLSPolicy]...)
	if cfg.Username != "" {
		m.smtp = append(m.smtp, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	// Apply the options once here so a bad one fails New, not every Send.
	if _, err := gomail.NewClient(cfg.Host, m.smtp...); err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	m.send = m.sendSMTP
	for _, o := range opts {
		o(m)
	}
	return m, nil
}

// MessageID returns the Message-ID, without angle brackets, of the email for
// (entity, event): the first 32 hex digits of SHA-256(entity NUL event), then
// "@domain". The same pair always gives the same id, which is what lets a
// resend be recognised; the NUL keeps ("a/b", "c") apart from ("a", "b/c").
func MessageID(entity, event, domain string) string {
	h := sha256.Sum256([]byte(entity + "\x00" + event))
	return hex.EncodeToString(h[:16]) + "@" + domain
}

// Send renders msg and sends it unless the outbox says it was delivered
// already; either way it returns the Message-ID (without angle brackets).
// Bad input is an EINVALID *models.Error naming the field, and nothing is
// recorded or sent. A failed delivery is recorded with MarkFailed and
// returned wrapped, with the id, for the caller to retry.
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
		Subject: r.Subject, Text: r.Text, HTML: r.HTML, CreatedAt: time.Now()})
	if err != nil {
		return id, fmt.Errorf("mail: outbox: reserve %s: %w", id, err)
	}
	if sent {
		m.observed(msg.Template, ResultDuplicate)
		return id, nil
	}
	out := Outgoing{MessageID: id, From: m.cfg.From, To: to, Subject: r.Subject, Text: r.Text, HTML: r.HTML,
		Headers: map[string]string{"X-Huntdesk-Event": msg.Entity + "/" + msg.Event}}
	// Record the outcome even when ctx was cancelled mid-send.
	rec := context.WithoutCancel(ctx)
	if err := m.send(ctx, out); err != nil {
		if IsPermanent(err) {
			m.observed(msg.Template, ResultFailedPermanent)
		} else {
			m.observed(msg.Template, ResultFailedTemporary)
		}
		if ferr := m.outbox.MarkFailed(rec, id, err.Error()); ferr != nil {
			return id, fmt.Errorf("mail: send %s: %w (outbox: %v)", id, err, ferr)
		}
		return id, fmt.Errorf("mail: send %s: %w", id, err)
	}
	m.observed(msg.Template, ResultSent)
	if err := markSent(rec, m.outbox, id, time.Now()); err != nil {
		return id, fmt.Errorf("mail: outbox: mark %s sent: %w", id, err)
	}
	return id, nil
}

// MarkSentPatience is how long Send keeps trying to record a delivered
// email as sent while the outbox's database is unreachable (a restart, a
// failover). Failing instead would make the caller's retry deliver it again.
// It stays well inside the email activity's start-to-close timeout.
var MarkSentPatience = time.Minute

// markSent records a delivery, retrying with backoff for MarkSentPatience.
func markSent(ctx context.Context, ob Outbox, id string, at time.Time) error {
	deadline := time.Now().Add(MarkSentPatience)
	wait := 100 * time.Millisecond
	for {
		err := ob.MarkSent(ctx, id, at)
		if err == nil || time.Now().Add(wait).After(deadline) {
			return err
		}
		slog.Warn("mail: recording a delivered email failed; retrying", "message_id", id, "err", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(wait*2, 5*time.Second)
	}
}

func (m *Mailer) observed(template, result string) {
	if m.observe != nil {
		m.observe(template, result)
	}
}

// IsPermanent reports whether err carries an SMTP reply in the 5xx range: the
// relay refused the message for good (a bounced mailbox, a policy refusal),
// and sending it again cannot help. A 4xx reply, a timeout or a relay that
// cannot be reached is temporary: the caller retries. Only SMTP replies are
// classified, never an error's text.
func IsPermanent(err error) bool {
	var se *gomail.SendError
	if errors.As(err, &se) && se.ErrorCode() >= 500 && se.ErrorCode() < 600 {
		return true
	}
	var te *textproto.Error
	return errors.As(err, &te) && te.Code >= 500 && te.Code < 600
}

// checkMessage validates everything that reaches a header and returns the
// recipients lower-cased and deduplicated, in their first order.
func checkMessage(msg Message) ([]string, error) {
	var v models.Validation
	v.Check(msg.Entity != "" && !strings.ContainsFunc(msg.Entity, unicode.IsControl), "entity", "is required, without control characters")
	v.Check(msg.Event != "" && !strings.ContainsFunc(msg.Event, unicode.IsControl), "event", "is required, without control characters")
	v.Check(msg.Template != "", "template", "is required")
	v.Check(len(msg.To) > 0, "to", "needs at least one recipient")
	var to []string
	for _, addr := range msg.To {
		// Reject CR/LF before trimming, which would quietly remove them.
		a := strings.ToLower(strings.TrimSpace(addr))
		if strings.ContainsAny(addr, "\r\n") || !models.ValidEmail(a) {
			v.Check(false, "to", fmt.Sprintf("%q is not one bare email address", addr))
			continue
		}
		if !slices.Contains(to, a) {
			to = append(to, a)
		}
	}
	return to, v.Err()
}

// sendSMTP is the default Sender: one go-mail connection per message, with
// the text part and, when there is one, the HTML part as its alternative.
func (m *Mailer) sendSMTP(ctx context.Context, o Outgoing) error {
	gm := gomail.NewMsg()
	if err := gm.From(o.From); err != nil {
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
	c, err := gomail.NewClient(m.cfg.Host, m.smtp...)
	if err != nil {
		return err
	}
	if err := c.DialAndSendWithContext(ctx, gm); err != nil {
		return fmt.Errorf("smtp %s: %w", net.JoinHostPort(m.cfg.Host, strconv.Itoa(m.cfg.Port)), err)
	}
	return nil
}
