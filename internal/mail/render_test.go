package mail

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestEmbeddedTemplatesParse(t *testing.T) {
	reg, err := templates()
	if err != nil {
		t.Fatal(err)
	}
	if reg.layout == nil || reg.pages["test"].html == nil {
		t.Fatal("the layout and the test template must be embedded")
	}
}

func TestTemplateConvention(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	triple := fstest.MapFS{
		"t/a.subject.tmpl": file("A"),
		"t/a.txt.tmpl":     file("text"),
		"t/a.html.tmpl":    file("<p>html</p>"),
	}
	if _, err := parseTemplates(triple, "t"); err != nil {
		t.Fatalf("a complete triple: %v", err)
	}
	for name, extra := range map[string]fstest.MapFS{
		"missing html":    {"t/b.subject.tmpl": file("B"), "t/b.txt.tmpl": file("text")},
		"stray file":      {"t/a.text.tmpl": file("typo")},
		"dotted name":     {"t/x.y.subject.tmpl": file("S"), "t/x.y.txt.tmpl": file("T"), "t/x.y.html.tmpl": file("H")},
		"unknown shared":  {"t/_footer.html.tmpl": file("F")},
		"parse error":     {"t/c.subject.tmpl": file("{{"), "t/c.txt.tmpl": file("T"), "t/c.html.tmpl": file("H")},
		"bad html layout": {"t/_layout.html.tmpl": file("{{.Body")},
	} {
		fsys := fstest.MapFS{}
		for k, v := range triple {
			fsys[k] = v
		}
		for k, v := range extra {
			fsys[k] = v
		}
		if _, err := parseTemplates(fsys, "t"); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

func TestLayoutLeavesWholeDocumentsAlone(t *testing.T) {
	for html, want := range map[string]bool{
		"<p>fragment</p>":                false,
		"  <!DOCTYPE html><html></html>": true,
		"<HTML><body></body></HTML>":     true,
	} {
		if isDocument(html) != want {
			t.Errorf("isDocument(%q) = %v", html, !want)
		}
	}
	if !strings.HasPrefix(strings.TrimSpace(mustRender(t).HTML), "<!DOCTYPE html>") {
		t.Error("fragments are wrapped in the layout")
	}
}

func mustRender(t *testing.T) Rendered {
	t.Helper()
	r, err := Render("test", nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
