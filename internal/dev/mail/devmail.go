// Package devmail is the development SMTP sink behind `huntdesk dev`: a real
// SMTP server (go-smtp) that accepts every message, with no auth or any AUTH
// PLAIN, keeps it on disk so it survives a restart, and shows it over HTTP at
// GET /dev/mail. Production never uses it; the worker talks to a real relay.
//
// Each message is two files in the sink's directory, named by a time-sortable
// id: ID.eml, the message exactly as received, and ID.json, the Message shown
// by the API, parsed once on receipt so listing is a directory read. The JSON
// is written last and both files appear by rename, so a message is listed
// only once it is whole.
package devmail

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/gin-gonic/gin"

	"github.com/huntdesk/huntdesk/models"
)

// Message is one received email as /dev/mail shows it.
type Message struct {
	ID         string    `json:"id"`
	From       string    `json:"from"` // envelope sender (MAIL FROM), else the From header
	To         []string  `json:"to"`   // envelope recipients (RCPT TO)
	Subject    string    `json:"subject"`
	MessageID  string    `json:"message_id"` // without angle brackets
	ReceivedAt time.Time `json:"received_at"`
	Text       string    `json:"text"`
	HTML       string    `json:"html,omitempty"`
}

// idLayout makes ids sort by receipt time as plain strings; a random suffix
// keeps two sinks sharing a directory from colliding.
const idLayout = "20060102T150405.000000000Z"

var validID = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}\.[0-9]{9}Z-[0-9a-f]{8}$`)

// Sink is a running SMTP sink.
type Sink struct {
	dir    string
	ln     net.Listener
	srv    *smtp.Server
	log    *slog.Logger
	served chan struct{} // closed when Serve returns

	mu     sync.Mutex // serialises stores so ids are unique and increasing
	last   time.Time  // receipt time of the newest id
	closed bool       // no store after Close
}

// Start listens on addr (":0" picks a free port; see Addr) and keeps
// messages in dir, creating it private to the user.
func Start(addr, dir string, logger *slog.Logger) (*Sink, error) {
	if logger == nil {
		logger = slog.Default()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	s := &Sink{dir: dir, log: logger, served: make(chan struct{})}
	// Continue after the newest stored id, so order holds even if the clock
	// stepped back across a restart.
	ids, err := s.ids()
	if err != nil {
		return nil, err
	}
	if len(ids) > 0 {
		s.last, _ = time.Parse(idLayout, ids[0][:len(idLayout)])
	}
	if s.ln, err = net.Listen("tcp", addr); err != nil {
		return nil, err
	}
	s.srv = smtp.NewServer(backend{s})
	s.srv.Domain = "huntdesk.dev"
	s.srv.AllowInsecureAuth = true // it is a local sink: AUTH PLAIN without TLS is fine
	s.srv.MaxMessageBytes = 32 << 20
	s.srv.MaxRecipients = 1000
	s.srv.ReadTimeout = time.Minute
	s.srv.WriteTimeout = time.Minute
	s.srv.ErrorLog = slogAdapter{logger}
	go func() {
		defer close(s.served)
		if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, net.ErrClosed) {
			logger.Error("dev mail sink stopped", "err", err)
		}
	}()
	return s, nil
}

// Addr is the address the sink listens on, with the real port.
func (s *Sink) Addr() string { return s.ln.Addr().String() }

// Close stops the server. Stored messages stay on disk, and nothing is
// written to the directory after Close returns.
func (s *Sink) Close() error {
	err := s.srv.Close()
	// Serve may not have registered the listener with the server yet, in which
	// case srv.Close cannot reach it: close it ourselves.
	s.ln.Close()
	<-s.served
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	if errors.Is(err, smtp.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

type backend struct{ s *Sink }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

// session accepts any sender, any recipient and any AUTH PLAIN credentials.
type session struct {
	s    *Sink
	from string
	to   []string
}

var _ smtp.AuthSession = (*session)(nil)

func (x *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (x *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, _, _ string) error { return nil }), nil
}
func (x *session) Mail(from string, _ *smtp.MailOptions) error { x.from = from; return nil }
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error   { x.to = append(x.to, to); return nil }
func (x *session) Reset()                                      { x.from, x.to = "", nil }
func (x *session) Logout() error                               { return nil }
func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	return x.s.store(x.from, x.to, raw)
}

// store writes one message; the SMTP client hears "250 OK" only after it is
// on disk.
func (s *Sink) store(from string, to []string, raw []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "sink is shutting down"}
	}
	now := time.Now().UTC()
	if !now.After(s.last) {
		now = s.last.Add(time.Nanosecond)
	}
	var b [4]byte
	rand.Read(b[:])
	id := now.Format(idLayout) + "-" + hex.EncodeToString(b[:])

	m := parse(raw)
	m.ID, m.ReceivedAt, m.To = id, now, slices.Clone(to)
	if from != "" {
		m.From = from
	}
	if m.To == nil {
		m.To = []string{}
	}
	meta, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(s.dir, id+".eml"), raw); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(s.dir, id+".json"), meta); err != nil {
		return err
	}
	s.last = now
	s.log.Info("dev mail received", "id", id, "from", m.From, "to", to, "subject", m.Subject)
	return nil
}

// writeFile writes through a temporary name so a reader never sees half a file.
func writeFile(name string, b []byte) error {
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, name); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// ids returns the ids of every listed message, newest first.
func (s *Sink) ids() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range entries {
		if id, ok := strings.CutSuffix(e.Name(), ".json"); ok && validID.MatchString(id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	slices.Reverse(ids)
	return ids, nil
}

// List returns every stored message, newest first.
func (s *Sink) List() ([]Message, error) {
	ids, err := s.ids()
	if err != nil {
		return nil, err
	}
	out := make([]Message, 0, len(ids))
	for _, id := range ids {
		m, err := s.Get(id)
		if models.ErrorCode(err) == models.ENOTFOUND {
			continue // deleted by hand while we listed
		}
		if err != nil {
			// One damaged file must not hide every other message.
			s.log.Warn("dev mail: skipping unreadable message", "id", id, "err", err)
			continue
		}
		out = append(out, m)
	}
	return out, nil
}

// Get returns one message. An unknown or malformed id is models.NotFound; ids
// are checked against their exact shape, so none can name another file.
func (s *Sink) Get(id string) (Message, error) {
	if !validID.MatchString(id) {
		return Message{}, models.NotFound("message")
	}
	b, err := os.ReadFile(filepath.Join(s.dir, id+".json"))
	if errors.Is(err, os.ErrNotExist) {
		return Message{}, models.NotFound("message")
	}
	if err != nil {
		return Message{}, err
	}
	var m Message
	if err := json.Unmarshal(b, &m); err != nil {
		return Message{}, fmt.Errorf("devmail: %s.json: %w", id, err)
	}
	return m, nil
}

// Raw returns a message exactly as received.
func (s *Sink) Raw(id string) ([]byte, error) {
	if !validID.MatchString(id) {
		return nil, models.NotFound("message")
	}
	b, err := os.ReadFile(filepath.Join(s.dir, id+".eml"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, models.NotFound("message")
	}
	return b, err
}

// Register adds GET /dev/mail (newest first; ?to=ADDRESS keeps messages with
// that envelope recipient) and GET /dev/mail/:id (?format=raw for the
// message as received).
func (s *Sink) Register(r gin.IRouter) {
	r.GET("/dev/mail", func(c *gin.Context) {
		msgs, err := s.List()
		if err != nil {
			s.fail(c, err)
			return
		}
		if to := strings.TrimSpace(c.Query("to")); to != "" {
			msgs = slices.DeleteFunc(msgs, func(m Message) bool {
				return !slices.ContainsFunc(m.To, func(r string) bool { return strings.EqualFold(r, to) })
			})
		}
		if c.NegotiateFormat(gin.MIMEJSON, gin.MIMEHTML) == gin.MIMEHTML {
			s.page(c, msgs) // a browser: the messages to read, links to click
			return
		}
		c.JSON(http.StatusOK, msgs)
	})
	r.GET("/dev/mail/:id", func(c *gin.Context) {
		id := c.Param("id")
		if c.Query("format") == "raw" {
			b, err := s.Raw(id)
			if err != nil {
				s.fail(c, err)
				return
			}
			c.Data(http.StatusOK, "message/rfc822", b)
			return
		}
		m, err := s.Get(id)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, m)
	})
}

// mailPage shows the sink's messages to a person: newest first, each with
// its text, and the links in it clickable (the console's sign-in link).
var mailPage = template.Must(template.New("mail").Funcs(template.FuncMap{"links": links}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>huntdesk dev mail</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:900px;margin:1.5rem auto;padding:0 1rem;color:#1d2430}
article{border:1px solid #d9dee7;border-radius:6px;padding:.5rem 1rem;margin:1rem 0;background:#fff}
pre{white-space:pre-wrap}small{color:#5b6575}</style></head>
<body><h1>Mail sink</h1><p><small>Every email the dev stack sent, newest first. JSON: <code>curl /dev/mail</code>.</small></p>
{{range .}}<article class="mail"><h2>{{.Subject}}</h2><p><small>to {{range $i, $t := .To}}{{if $i}}, {{end}}{{$t}}{{end}} · {{.ReceivedAt.Format "2006-01-02 15:04:05 MST"}} · <a href="/dev/mail/{{.ID}}?format=raw">raw</a></small></p>
<pre>{{range links .Text}}{{if .URL}}<a href="{{.URL}}">{{.URL}}</a>{{else}}{{.Text}}{{end}}{{end}}</pre></article>
{{else}}<p>No email yet.</p>{{end}}</body></html>`))

// segment is a run of an email's text, or one link in it.
type segment struct{ Text, URL string }

var linkRe = regexp.MustCompile(`https?://[^\s<>"]+`)

// links splits text into plain runs and http(s) links.
func links(text string) []segment {
	var out []segment
	last := 0
	for _, m := range linkRe.FindAllStringIndex(text, -1) {
		out = append(out, segment{Text: text[last:m[0]]}, segment{URL: text[m[0]:m[1]]})
		last = m[1]
	}
	return append(out, segment{Text: text[last:]})
}

func (s *Sink) page(c *gin.Context, msgs []Message) {
	var buf bytes.Buffer
	if err := mailPage.Execute(&buf, msgs); err != nil {
		s.fail(c, err)
		return
	}
	c.Data(http.StatusOK, "text/html; charset=utf-8", buf.Bytes())
}

// fail answers with the API's error shape. It is a small stand-in for the
// API's shared error mapper.
func (s *Sink) fail(c *gin.Context, err error) {
	status := http.StatusInternalServerError
	if models.ErrorCode(err) == models.ENOTFOUND {
		status = http.StatusNotFound
	} else {
		s.log.Error("dev mail", "path", c.Request.URL.Path, "err", err)
	}
	c.JSON(status, gin.H{"error": gin.H{"code": models.ErrorCode(err), "message": models.ErrorMessage(err)}})
}

// parse extracts what /dev/mail shows. It never fails: what it cannot read
// it leaves out, and the raw message is always there.
func parse(raw []byte) Message {
	var m Message
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		m.Text = string(raw)
		return m
	}
	dec := new(mime.WordDecoder)
	m.Subject = msg.Header.Get("Subject")
	if s, err := dec.DecodeHeader(m.Subject); err == nil {
		m.Subject = s
	}
	if from, err := msg.Header.AddressList("From"); err == nil && len(from) > 0 {
		m.From = from[0].Address
	}
	m.MessageID = strings.TrimSpace(msg.Header.Get("Message-ID"))
	m.MessageID = strings.TrimSuffix(strings.TrimPrefix(m.MessageID, "<"), ">")
	walk(msg.Header, msg.Body, &m, 0)
	return m
}

// header is the subset of a header walk needs, shared by messages and parts.
type header interface{ Get(string) string }

// walk fills m.Text and m.HTML from the first text/plain and text/html parts
// that are not attachments, descending into nested multiparts.
func walk(h header, body io.Reader, m *Message, depth int) {
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		mt, params = "text/plain", map[string]string{}
	}
	if strings.HasPrefix(mt, "multipart/") {
		if depth > 10 {
			return
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			walk(p.Header, p, m, depth+1)
		}
	}
	if d, _, _ := mime.ParseMediaType(h.Get("Content-Disposition")); d == "attachment" {
		return
	}
	if !(mt == "text/plain" && m.Text == "") && !(mt == "text/html" && m.HTML == "") {
		return
	}
	var r io.Reader = body
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))) {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, body) // skips line breaks itself
	}
	b, _ := io.ReadAll(r) // keep what decoded before an error
	text := decodeCharset(b, params["charset"])
	if mt == "text/plain" {
		m.Text = text
	} else {
		m.HTML = text
	}
}

// decodeCharset turns a body into UTF-8. Besides UTF-8 and ASCII it knows
// Latin-1, whose bytes are its code points; anything else is shown as is.
func decodeCharset(b []byte, charset string) string {
	switch strings.ToLower(charset) {
	case "iso-8859-1", "iso_8859-1", "latin1":
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r)
	}
	return string(b)
}

// slogAdapter sends go-smtp's connection errors to the sink's logger.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Printf(format string, v ...any) {
	a.l.Warn("dev mail smtp", "msg", strings.TrimSpace(fmt.Sprintf(format, v...)))
}

func (a slogAdapter) Println(v ...any) {
	a.l.Warn("dev mail smtp", "msg", strings.TrimSpace(fmt.Sprintln(v...)))
}
