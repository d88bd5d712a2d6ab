// Package devmail is the development SMTP sink: a real SMTP server (go-smtp)
// that accepts every message, keeps it on disk under the dev stack's data dir
// (so it survives a restart) and shows it at GET /dev/mail. It is never used
// in production, where the worker talks to a real relay.
package devmail

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
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
	"sort"
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
	From       string    `json:"from"`
	To         []string  `json:"to"` // envelope recipients
	Subject    string    `json:"subject"`
	MessageID  string    `json:"message_id"`
	ReceivedAt time.Time `json:"received_at"`
	Text       string    `json:"text"`
	HTML       string    `json:"html,omitempty"`
}

// Sink is a running SMTP sink.
type Sink struct {
	dir    string
	ln     net.Listener
	srv    *smtp.Server
	log    *slog.Logger
	mu     sync.Mutex // serialises writes so ids stay unique and ordered
	closed chan struct{}
}

// Start listens on addr and keeps messages in dir.
func Start(addr, dir string, log *slog.Logger) (*Sink, error) {
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Sink{dir: dir, ln: ln, log: log, closed: make(chan struct{})}
	s.srv = smtp.NewServer(backend{s})
	s.srv.Domain = "huntdesk.dev"
	s.srv.AllowInsecureAuth = true
	s.srv.MaxMessageBytes = 32 << 20
	s.srv.MaxRecipients = 1000
	s.srv.ReadTimeout = time.Minute
	s.srv.WriteTimeout = time.Minute
	go func() {
		defer close(s.closed)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			log.Error("smtp sink stopped", "err", err)
		}
	}()
	return s, nil
}

// Addr is the address the sink listens on.
func (s *Sink) Addr() string { return s.ln.Addr().String() }

// Close stops the server; stored messages stay on disk.
func (s *Sink) Close() error {
	err := s.srv.Close()
	// Serve may not have registered the listener with the server yet, in which
	// case srv.Close cannot reach it: close it ourselves.
	s.ln.Close()
	<-s.closed
	if errors.Is(err, smtp.ErrServerClosed) {
		err = nil
	}
	return err
}

type backend struct{ s *Sink }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s    *Sink
	from string
	to   []string
}

func (x *session) AuthMechanisms() []string { return []string{"PLAIN"} }
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

var validID = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}\.[0-9]{9}Z-[0-9a-f]{8}$`)

func (s *Sink) store(from string, to []string, raw []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now().UTC()
	b := make([]byte, 4)
	rand.Read(b)
	id := now.Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(b)
	m := parse(raw)
	m.ID, m.From, m.To, m.ReceivedAt = id, from, append([]string(nil), to...), now
	meta, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(s.dir, id+".eml"), raw, 0o600); err != nil {
		return err
	}
	// The sidecar is written last: a message is listed only once whole.
	if err := os.WriteFile(filepath.Join(s.dir, id+".json"), meta, 0o600); err != nil {
		return err
	}
	s.log.Info("dev mail received", "id", id, "to", to, "subject", m.Subject)
	return nil
}

// List returns every stored message, newest first.
func (s *Sink) List() ([]Message, error) {
	names, err := filepath.Glob(filepath.Join(s.dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Sort(sort.Reverse(sort.StringSlice(names)))
	out := make([]Message, 0, len(names))
	for _, n := range names {
		var m Message
		b, err := os.ReadFile(n)
		if err != nil || json.Unmarshal(b, &m) != nil {
			continue
		}
		out = append(out, m)
	}
	return out, nil
}

// Get returns one message.
func (s *Sink) Get(id string) (Message, error) {
	var m Message
	if !validID.MatchString(id) {
		return m, models.NotFound("message")
	}
	b, err := os.ReadFile(filepath.Join(s.dir, id+".json"))
	if err != nil {
		return m, models.NotFound("message")
	}
	err = json.Unmarshal(b, &m)
	return m, err
}

// Raw returns a message as received.
func (s *Sink) Raw(id string) ([]byte, error) {
	if !validID.MatchString(id) {
		return nil, models.NotFound("message")
	}
	b, err := os.ReadFile(filepath.Join(s.dir, id+".eml"))
	if err != nil {
		return nil, models.NotFound("message")
	}
	return b, nil
}

// Register adds GET /dev/mail (?to= filters by recipient) and
// GET /dev/mail/:id (?format=raw for the message as received).
func (s *Sink) Register(r gin.IRouter) {
	r.GET("/dev/mail", func(c *gin.Context) {
		msgs, err := s.List()
		if err != nil {
			c.JSON(http.StatusInternalServerError, errBody("internal", err.Error()))
			return
		}
		if to := strings.ToLower(c.Query("to")); to != "" {
			kept := msgs[:0]
			for _, m := range msgs {
				for _, r := range m.To {
					if strings.ToLower(r) == to {
						kept = append(kept, m)
						break
					}
				}
			}
			msgs = kept
		}
		c.JSON(http.StatusOK, msgs)
	})
	r.GET("/dev/mail/:id", func(c *gin.Context) {
		id := c.Param("id")
		if c.Query("format") == "raw" {
			b, err := s.Raw(id)
			if err != nil {
				c.JSON(http.StatusNotFound, errBody(models.ENOTFOUND, "message not found"))
				return
			}
			c.Data(http.StatusOK, "message/rfc822", b)
			return
		}
		m, err := s.Get(id)
		if err != nil {
			c.JSON(http.StatusNotFound, errBody(models.ENOTFOUND, "message not found"))
			return
		}
		c.JSON(http.StatusOK, m)
	})
}

func errBody(code, msg string) gin.H {
	return gin.H{"error": gin.H{"code": code, "message": msg}}
}

// parse extracts the headers and bodies /dev/mail shows.
func parse(raw []byte) Message {
	var m Message
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		m.Text = string(raw)
		return m
	}
	dec := new(mime.WordDecoder)
	if s, err := dec.DecodeHeader(msg.Header.Get("Subject")); err == nil {
		m.Subject = s
	} else {
		m.Subject = msg.Header.Get("Subject")
	}
	m.MessageID = strings.Trim(msg.Header.Get("Message-ID"), "<> ")
	walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, &m)
	return m
}

func walk(contentType, encoding string, body io.Reader, m *Message) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, m)
		}
	}
	var r io.Reader = body
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, newlineStripper{body})
	}
	b, _ := io.ReadAll(r)
	switch {
	case mt == "text/plain" && m.Text == "":
		m.Text = string(b)
	case mt == "text/html" && m.HTML == "":
		m.HTML = string(b)
	}
}

// newlineStripper drops CR and LF so base64 bodies with line breaks decode.
type newlineStripper struct{ r io.Reader }

func (n newlineStripper) Read(p []byte) (int, error) {
	k, err := n.r.Read(p)
	j := 0
	for _, c := range p[:k] {
		if c != '\r' && c != '\n' {
			p[j] = c
			j++
		}
	}
	return j, err
}
