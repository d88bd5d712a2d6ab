package mail

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"

	"github.com/huntdesk/huntdesk/models"
)

//go:embed templates/*.tmpl
var templateFiles embed.FS

// Rendered is a message's subject and bodies.
type Rendered struct{ Subject, Text, HTML string }

type tmpl struct {
	subject, text *texttemplate.Template
	html          *htmltemplate.Template
}

var (
	parseOnce sync.Once
	templates map[string]tmpl
	parseErr  error
)

func parse() {
	templates = map[string]tmpl{}
	entries, err := templateFiles.ReadDir("templates")
	if err != nil {
		parseErr = err
		return
	}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".subject.tmpl")
		if !ok {
			continue
		}
		var t tmpl
		read := func(suffix string) string {
			b, err := templateFiles.ReadFile("templates/" + name + suffix)
			if err != nil && parseErr == nil {
				parseErr = fmt.Errorf("template %s: %w", name, err)
			}
			return string(b)
		}
		opt := "missingkey=error"
		if t.subject, err = texttemplate.New(name).Option(opt).Parse(read(".subject.tmpl")); err == nil {
			if t.text, err = texttemplate.New(name).Option(opt).Parse(read(".txt.tmpl")); err == nil {
				t.html, err = htmltemplate.New(name).Option(opt).Parse(read(".html.tmpl"))
			}
		}
		if err != nil && parseErr == nil {
			parseErr = fmt.Errorf("template %s: %w", name, err)
		}
		templates[name] = t
	}
}

// Render renders template name with data. The subject must come out as one
// line: a CR or LF there would let data inject headers.
func Render(name string, data any) (Rendered, error) {
	parseOnce.Do(parse)
	if parseErr != nil {
		return Rendered{}, parseErr
	}
	t, ok := templates[name]
	if !ok {
		return Rendered{}, &models.Error{Code: models.EINVALID, Message: "request is invalid", Fields: map[string]string{"template": fmt.Sprintf("%q does not exist", name)}}
	}
	var s, txt, html bytes.Buffer
	if err := t.subject.Execute(&s, data); err != nil {
		return Rendered{}, fmt.Errorf("render %s subject: %w", name, err)
	}
	if err := t.text.Execute(&txt, data); err != nil {
		return Rendered{}, fmt.Errorf("render %s text: %w", name, err)
	}
	if err := t.html.Execute(&html, data); err != nil {
		return Rendered{}, fmt.Errorf("render %s html: %w", name, err)
	}
	subject := strings.TrimSpace(s.String())
	if subject == "" || strings.ContainsAny(subject, "\r\n") {
		return Rendered{}, &models.Error{Code: models.EINVALID, Message: "request is invalid", Fields: map[string]string{"subject": "must be one non-empty line"}}
	}
	return Rendered{Subject: subject, Text: txt.String(), HTML: html.String()}, nil
}

// MemoryOutbox is an in-memory Outbox for tests and tools.
type MemoryOutbox struct {
	mu      sync.Mutex
	entries map[string]*memEntry
}

type memEntry struct {
	OutboxEntry
	sent     bool
	attempts int
	lastErr  string
}

// Reserve implements Outbox.
func (o *MemoryOutbox) Reserve(_ context.Context, e OutboxEntry) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.entries == nil {
		o.entries = map[string]*memEntry{}
	}
	if got, ok := o.entries[e.MessageID]; ok {
		return got.sent, nil
	}
	o.entries[e.MessageID] = &memEntry{OutboxEntry: e}
	return false, nil
}

// MarkSent implements Outbox.
func (o *MemoryOutbox) MarkSent(_ context.Context, id string, _ time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if e, ok := o.entries[id]; ok {
		e.sent, e.attempts = true, e.attempts+1
	}
	return nil
}

// MarkFailed implements Outbox.
func (o *MemoryOutbox) MarkFailed(_ context.Context, id, errText string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if e, ok := o.entries[id]; ok && !e.sent {
		e.attempts, e.lastErr = e.attempts+1, errText
	}
	return nil
}

// Sent reports whether a message was delivered.
func (o *MemoryOutbox) Sent(id string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	e, ok := o.entries[id]
	return ok && e.sent
}
