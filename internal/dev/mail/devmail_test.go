package devmail_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	netsmtp "net/smtp"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	devmail "github.com/huntdesk/huntdesk/internal/dev/mail"
	"github.com/huntdesk/huntdesk/internal/mail"
	"github.com/huntdesk/huntdesk/models"
)

func start(t *testing.T, dir string) (*devmail.Sink, *gin.Engine) {
	t.Helper()
	s, err := devmail.Start("127.0.0.1:0", dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	s.Register(e)
	return s, e
}

// send sends the test email through huntdesk's own mailer (go-mail over SMTP).
func send(t *testing.T, s *devmail.Sink, entity, to string) string {
	t.Helper()
	host, port, _ := net.SplitHostPort(s.Addr())
	p, _ := strconv.Atoi(port)
	m, err := mail.New(mail.Config{Host: host, Port: p, TLSPolicy: "none", From: "huntdesk@huntdesk.example"}, &mail.MemoryOutbox{})
	if err != nil {
		t.Fatal(err)
	}
	id, err := m.Send(context.Background(), mail.Message{Entity: entity, Event: "test", To: []string{to}, Template: "test", Data: "naïve café"})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func get(t *testing.T, e *gin.Engine, path string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	return w
}

func list(t *testing.T, e *gin.Engine, path string) []devmail.Message {
	t.Helper()
	w := get(t, e, path)
	var msgs []devmail.Message
	if err := json.Unmarshal(w.Body.Bytes(), &msgs); w.Code != http.StatusOK || err != nil {
		t.Fatalf("GET %s: %d %s", path, w.Code, w.Body)
	}
	return msgs
}

func TestSinkReceivesListsAndSurvivesRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mail")
	s, e := start(t, dir)
	if _, port, _ := net.SplitHostPort(s.Addr()); port == "0" {
		t.Fatalf("Addr %s must carry the real port", s.Addr())
	}
	if fi, err := os.Stat(dir); err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o700) {
		t.Fatalf("dir: %v %v", fi.Mode(), err)
	}
	first := send(t, s, "case/1", "ann@alpha.example")
	second := send(t, s, "case/2", "bob@bravo.example")

	msgs := list(t, e, "/dev/mail")
	if len(msgs) != 2 || msgs[0].MessageID != second || msgs[1].MessageID != first {
		t.Fatalf("want both, newest first: %+v", msgs)
	}
	m := msgs[1]
	if m.From != "huntdesk@huntdesk.example" || strings.Join(m.To, ",") != "ann@alpha.example" || m.Subject != "huntdesk test email (naïve café)" ||
		!strings.Contains(m.Text, "test email from huntdesk (naïve café).") || !strings.Contains(m.HTML, "<p>This is a test email from huntdesk (naïve café).</p>") ||
		m.ReceivedAt.IsZero() || !strings.HasPrefix(m.ID, m.ReceivedAt.UTC().Format("20060102T150405")) {
		t.Fatalf("parsed message: %+v", m)
	}

	w := get(t, e, "/dev/mail/"+m.ID)
	var one devmail.Message
	if err := json.Unmarshal(w.Body.Bytes(), &one); w.Code != http.StatusOK || err != nil || one.ID != m.ID || one.MessageID != first {
		t.Fatalf("one: %d %s", w.Code, w.Body)
	}
	if got, err := s.Get(m.ID); err != nil || got.Subject != m.Subject {
		t.Fatalf("Get: %+v %v", got, err)
	}

	w = get(t, e, "/dev/mail/"+m.ID+"?format=raw")
	raw, err := s.Raw(m.ID)
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "message/rfc822" || err != nil || w.Body.String() != string(raw) ||
		!strings.Contains(string(raw), "Message-ID: <"+first+">") {
		t.Fatalf("raw: %d %q %v\n%s", w.Code, w.Header().Get("Content-Type"), err, w.Body)
	}
	if fi, err := os.Stat(filepath.Join(dir, m.ID+".eml")); err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
		t.Fatalf("stored as %s.eml: %v", m.ID, err)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, e = start(t, dir)
	after := list(t, e, "/dev/mail")
	if len(after) != 2 || after[0].ID != msgs[0].ID || after[1].ID != msgs[1].ID {
		t.Fatalf("after restart: %+v", after)
	}
	third := send(t, s, "case/3", "ann@alpha.example")
	if after = list(t, e, "/dev/mail"); len(after) != 3 || after[0].MessageID != third {
		t.Fatalf("a message after the restart must list first: %+v", after)
	}
}

func TestSinkListsNewestFirstAndFiltersByRecipient(t *testing.T) {
	s, e := start(t, t.TempDir())
	var sent []string
	for i := range 5 {
		to := "ann@alpha.example"
		if i%2 == 1 {
			to = "bob@bravo.example"
		}
		sent = append(sent, send(t, s, "case/"+strconv.Itoa(i), to))
	}
	msgs := list(t, e, "/dev/mail")
	if len(msgs) != len(sent) {
		t.Fatalf("listed %d, want %d", len(msgs), len(sent))
	}
	for i, m := range msgs {
		if m.MessageID != sent[len(sent)-1-i] {
			t.Fatalf("position %d: %s, want %s (newest first, even within one clock tick)", i, m.MessageID, sent[len(sent)-1-i])
		}
		if i > 0 && m.ID >= msgs[i-1].ID {
			t.Fatalf("ids must sort by receipt: %s after %s", m.ID, msgs[i-1].ID)
		}
	}

	bob := list(t, e, "/dev/mail?to=BOB@bravo.example")
	if len(bob) != 2 || bob[0].MessageID != sent[3] || bob[1].MessageID != sent[1] {
		t.Fatalf("filter by recipient (case-insensitive): %+v", bob)
	}
	if none := list(t, e, "/dev/mail?to=carol@charlie.example"); len(none) != 0 {
		t.Fatalf("unknown recipient: %+v", none)
	}
	if w := get(t, e, "/dev/mail?to=carol@charlie.example"); strings.TrimSpace(w.Body.String()) != "[]" {
		t.Fatalf("an empty list is [], not null: %s", w.Body)
	}
}

// A client other than go-mail, with AUTH PLAIN, a Bcc only in the envelope,
// an encoded subject, nested multiparts, base64 and quoted-printable bodies,
// and an attachment that must not be taken for the text.
func TestSinkParsesMIMEFromAnotherClient(t *testing.T) {
	s, e := start(t, t.TempDir())
	raw := strings.ReplaceAll(`From: Ann Example <ann@alpha.example>
To: bob@bravo.example
Subject: =?UTF-8?B?SGVsbG8gd8O2cmxk?= again
Message-ID: <abc.123@alpha.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

SGVsbG8gd8O2cmxkLCB0aGlzIGlzIHRoZSB0ZXh0IHBhcnQgb2YgYSBsb25nZXIgbWVzc2Fn
ZS4=
--inner
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<p>Hello w=C3=B6rld, this is a long line that quoted-printable wraps with =
a soft break.</p>
--inner--
--outer
Content-Type: text/plain; name="notes.txt"
Content-Disposition: attachment; filename="notes.txt"

not the body
--outer--
`, "\n", "\r\n")
	auth := netsmtp.PlainAuth("", "anyone", "any password", "127.0.0.1")
	if err := netsmtp.SendMail(s.Addr(), auth, "ann@alpha.example", []string{"bob@bravo.example", "carol@charlie.example"}, []byte(raw)); err != nil {
		t.Fatal(err)
	}
	latin1 := "From: old@client.example\r\nSubject: caf\xe9\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\ncaf\xe9 cr\xe8me\r\n"
	if err := netsmtp.SendMail(s.Addr(), nil, "", []string{"dave@delta.example"}, []byte(latin1)); err != nil {
		t.Fatal(err)
	}

	msgs := list(t, e, "/dev/mail")
	if len(msgs) != 2 {
		t.Fatalf("listed %d, want 2", len(msgs))
	}
	m := msgs[1]
	if m.From != "ann@alpha.example" || strings.Join(m.To, ",") != "bob@bravo.example,carol@charlie.example" ||
		m.Subject != "Hello wörld again" || m.MessageID != "abc.123@alpha.example" ||
		m.Text != "Hello wörld, this is the text part of a longer message." ||
		m.HTML != "<p>Hello wörld, this is a long line that quoted-printable wraps with a soft break.</p>" {
		t.Fatalf("parsed: %+v", m)
	}
	if got, _ := s.Raw(m.ID); string(got) != raw {
		t.Fatalf("raw must be the message as received:\n%q\n%q", got, raw)
	}
	old := msgs[0]
	if old.From != "old@client.example" || old.Text != "café crème\r\n" || old.HTML != "" || strings.Join(old.To, ",") != "dave@delta.example" {
		t.Fatalf("latin-1, empty envelope sender: %+v", old)
	}
	if body := get(t, e, "/dev/mail/"+old.ID).Body.String(); strings.Contains(body, `"html"`) {
		t.Fatalf("html is omitted when there is none: %s", body)
	}
}

func TestSinkRefusesBadIDs(t *testing.T) {
	dir := t.TempDir()
	s, e := start(t, dir)
	// A file the sink must never serve, one level up and in its own directory.
	os.WriteFile(filepath.Join(filepath.Dir(dir), "secret.json"), []byte(`{"id":"secret"}`), 0o600)
	os.WriteFile(filepath.Join(dir, "x.json"), []byte(`{"id":"x"}`), 0o600)
	want := `{"error":{"code":"not_found","message":"message not found"}}`
	// Encoded slashes decode into paths no route matches.
	for _, path := range []string{"/dev/mail/..%2F..%2Fetc%2Fpasswd", "/dev/mail/..%2Fsecret"} {
		for _, q := range []string{"", "?format=raw"} {
			if w := get(t, e, path+q); w.Code != http.StatusNotFound {
				t.Errorf("%s%s: %d %s", path, q, w.Code, w.Body)
			}
		}
	}
	// Single segments reach the handler, which must refuse them itself.
	for _, id := range []string{"..", "x", "secret", "nope", "20261122T000000.000000000Z-zzzzzzzz", "20261122T000000.000000000Z-0123abcd"} {
		for _, q := range []string{"", "?format=raw"} {
			if w := get(t, e, "/dev/mail/"+id+q); w.Code != http.StatusNotFound || w.Body.String() != want {
				t.Errorf("%s%s: %d %s", id, q, w.Code, w.Body)
			}
		}
	}
	for _, id := range []string{"../secret", "x", "20261122T000000.000000000Z-0123abcd"} {
		if _, err := s.Get(id); models.ErrorCode(err) != models.ENOTFOUND {
			t.Errorf("Get(%q): %v", id, err)
		}
		if _, err := s.Raw(id); models.ErrorCode(err) != models.ENOTFOUND {
			t.Errorf("Raw(%q): %v", id, err)
		}
	}
	if msgs := list(t, e, "/dev/mail"); len(msgs) != 0 {
		t.Errorf("files that are not messages must not be listed: %+v", msgs)
	}
}

// A browser gets the sink as a page to read, with the links in each email
// clickable (how a newcomer signs in to the console) and the text escaped.
func TestSinkShowsBrowsersAPage(t *testing.T) {
	s, e := start(t, t.TempDir())
	host, port, _ := net.SplitHostPort(s.Addr())
	p, _ := strconv.Atoi(port)
	m, err := mail.New(mail.Config{Host: host, Port: p, TLSPolicy: "none", From: "huntdesk@huntdesk.example"}, &mail.MemoryOutbox{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Send(context.Background(), mail.Message{Entity: "user/1", Event: "sign_in", To: []string{"ann@alpha.example"}, Template: "console_sign_in",
		Data: struct{ Name, URL string }{"<b>Ann</b>", "http://127.0.0.1:8080/app/sign-in/hdl_abc"}}); err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/dev/mail", nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	body := w.Body.String()
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("a browser gets %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	if !strings.Contains(body, `<a href="http://127.0.0.1:8080/app/sign-in/hdl_abc">`) || strings.Contains(body, "<b>Ann</b>") {
		t.Fatalf("the link is not clickable, or the text is not escaped: %s", body)
	}
	if msgs := list(t, e, "/dev/mail"); len(msgs) != 1 {
		t.Fatalf("without Accept, JSON as before: %+v", msgs)
	}
}
