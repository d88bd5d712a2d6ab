package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"path"
	"strings"
	"sync"
	texttemplate "text/template"
	"unicode"

	"github.com/huntdesk/huntdesk/models"
)

//go:embed templates/*.tmpl
var templateFiles embed.FS

// The three files of a template, by role.
const (
	subjectSuffix = ".subject.tmpl"
	textSuffix    = ".txt.tmpl"
	htmlSuffix    = ".html.tmpl"
	layoutFile    = "_layout.html.tmpl"
)

// Rendered is a message's subject and bodies.
type Rendered struct{ Subject, Text, HTML string }

type page struct {
	subject, text *texttemplate.Template
	html          *htmltemplate.Template
}

type registry struct {
	pages  map[string]page
	layout *htmltemplate.Template // nil when there is no _layout.html.tmpl
}

// templates parses every embedded file once. One broken or stray file fails
// every Render, so a mistake shows in the first test rather than in one
// customer's missing email.
var templates = sync.OnceValues(func() (*registry, error) { return parseTemplates(templateFiles, "templates") })

func parseTemplates(fsys fs.FS, dir string) (*registry, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	read := func(name string) (string, error) {
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		return string(b), err
	}
	const opt = "missingkey=error"
	reg := &registry{pages: map[string]page{}}
	files := map[string]map[string]bool{} // template name → suffixes seen
	for _, e := range entries {
		file := e.Name()
		if strings.HasPrefix(file, "_") {
			if file != layoutFile {
				return nil, fmt.Errorf("mail templates: unknown shared file %s (only %s)", file, layoutFile)
			}
			src, err := read(file)
			if err != nil {
				return nil, err
			}
			if reg.layout, err = htmltemplate.New(file).Option(opt).Parse(src); err != nil {
				return nil, fmt.Errorf("mail templates: %w", err)
			}
			continue
		}
		name, suffix, ok := splitTemplateFile(file)
		if !ok {
			return nil, fmt.Errorf("mail templates: %s is not NAME%s, NAME%s or NAME%s", file, subjectSuffix, textSuffix, htmlSuffix)
		}
		if files[name] == nil {
			files[name] = map[string]bool{}
		}
		files[name][suffix] = true
	}
	for name, got := range files {
		for _, suffix := range []string{subjectSuffix, textSuffix, htmlSuffix} {
			if !got[suffix] {
				return nil, fmt.Errorf("mail templates: %s has no %s", name, name+suffix)
			}
		}
		var p page
		var src string
		if src, err = read(name + subjectSuffix); err == nil {
			p.subject, err = texttemplate.New(name + subjectSuffix).Option(opt).Parse(src)
		}
		if err == nil {
			if src, err = read(name + textSuffix); err == nil {
				p.text, err = texttemplate.New(name + textSuffix).Option(opt).Parse(src)
			}
		}
		if err == nil {
			if src, err = read(name + htmlSuffix); err == nil {
				p.html, err = htmltemplate.New(name + htmlSuffix).Option(opt).Parse(src)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("mail templates: %w", err)
		}
		reg.pages[name] = p
	}
	return reg, nil
}

func splitTemplateFile(file string) (name, suffix string, ok bool) {
	for _, suffix := range []string{subjectSuffix, textSuffix, htmlSuffix} {
		if name, ok := strings.CutSuffix(file, suffix); ok && name != "" && !strings.Contains(name, ".") {
			return name, suffix, true
		}
	}
	return "", "", false
}

// Render renders template name with data. The subject is trimmed and must be
// one line: a CR or LF there, typically from data, would let it inject
// headers, so that is an EINVALID error naming "subject". The HTML body is
// wrapped in the shared layout unless it is a whole document already.
func Render(name string, data any) (Rendered, error) {
	reg, err := templates()
	if err != nil {
		return Rendered{}, err
	}
	p, ok := reg.pages[name]
	if !ok {
		return Rendered{}, invalid("template", fmt.Sprintf("%q does not exist", name))
	}
	var subject, text, html bytes.Buffer
	if err := p.subject.Execute(&subject, data); err != nil {
		return Rendered{}, fmt.Errorf("render %s: %w", name, err)
	}
	if err := p.text.Execute(&text, data); err != nil {
		return Rendered{}, fmt.Errorf("render %s: %w", name, err)
	}
	if err := p.html.Execute(&html, data); err != nil {
		return Rendered{}, fmt.Errorf("render %s: %w", name, err)
	}
	r := Rendered{Subject: strings.TrimSpace(subject.String()), Text: text.String(), HTML: html.String()}
	if r.Subject == "" || strings.ContainsFunc(r.Subject, func(c rune) bool { return c != '\t' && unicode.IsControl(c) }) {
		return Rendered{}, invalid("subject", "must render to one non-empty line")
	}
	if reg.layout != nil && !isDocument(r.HTML) {
		var doc bytes.Buffer
		// Body came out of html/template, so it is already escaped HTML.
		err := reg.layout.Execute(&doc, struct {
			Subject string
			Body    htmltemplate.HTML
		}{r.Subject, htmltemplate.HTML(r.HTML)})
		if err != nil {
			return Rendered{}, fmt.Errorf("render %s: %w", name, err)
		}
		r.HTML = doc.String()
	}
	return r, nil
}

// isDocument reports whether html is a whole document that brings its own
// <html> element, which the layout must not wrap again.
func isDocument(html string) bool {
	s := strings.ToLower(strings.TrimSpace(html))
	return strings.HasPrefix(s, "<!doctype") || strings.HasPrefix(s, "<html")
}

func invalid(field, msg string) error {
	var v models.Validation
	v.Check(false, field, msg)
	return v.Err()
}
