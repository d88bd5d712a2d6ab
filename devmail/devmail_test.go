package devmail_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/huntdesk/huntdesk/devmail"
	"github.com/huntdesk/huntdesk/mail"
)

func start(t *testing.T, dir string) (*devmail.Sink, *gin.Engine) {
	t.Helper()
	s, err := devmail.Start("127.0.0.1:0", dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	s.Register(e)
	return s, e
}

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

func get(t *testing.T, e *gin.Engine, path string) (int, []byte) {
	t.Helper()
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
	return w.Code, w.Body.Bytes()
}

func TestSinkReceivesListsAndSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	s, e := start(t, dir)
	first := send(t, s, "case/1", "ann@alpha.example")
	second := send(t, s, "case/2", "bob@bravo.example")

	code, body := get(t, e, "/dev/mail")
	var list []devmail.Message
	if err := json.Unmarshal(body, &list); code != 200 || err != nil || len(list) != 2 {
		t.Fatalf("list: %d %s", code, body)
	}
	if list[0].MessageID != second || list[1].MessageID != first {
		t.Fatalf("newest first: got %s, %s", list[0].MessageID, list[1].MessageID)
	}
	m := list[1]
	if m.From != "huntdesk@huntdesk.example" || len(m.To) != 1 || m.To[0] != "ann@alpha.example" || m.Subject != "huntdesk test email" ||
		!strings.Contains(m.Text, "naïve café") || !strings.Contains(m.HTML, "<p>") || m.ReceivedAt.IsZero() {
		t.Fatalf("parsed message: %+v", m)
	}

	code, body = get(t, e, "/dev/mail?to=bob@bravo.example")
	if err := json.Unmarshal(body, &list); code != 200 || err != nil || len(list) != 1 || list[0].MessageID != second {
		t.Fatalf("filter by recipient: %s", body)
	}
	code, body = get(t, e, "/dev/mail/"+m.ID)
	var one devmail.Message
	if err := json.Unmarshal(body, &one); code != 200 || err != nil || one.MessageID != first {
		t.Fatalf("one: %d %s", code, body)
	}
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest("GET", "/dev/mail/"+m.ID+"?format=raw", nil))
	if w.Code != 200 || w.Header().Get("Content-Type") != "message/rfc822" || !strings.Contains(w.Body.String(), "Message-ID: <"+first+">") {
		t.Fatalf("raw: %d %s", w.Code, w.Body.String())
	}

	s.Close()
	s, e = start(t, dir)
	defer s.Close()
	if _, body := get(t, e, "/dev/mail"); strings.Count(string(body), `"message_id"`) != 2 {
		t.Fatalf("after restart: %s", body)
	}
}

func TestSinkRefusesBadIDs(t *testing.T) {
	s, e := start(t, t.TempDir())
	defer s.Close()
	if code, _ := get(t, e, "/dev/mail/..%2F..%2Fetc%2Fpasswd"); code != http.StatusNotFound {
		t.Errorf("encoded traversal: %d", code)
	}
	for _, id := range []string{"..", "nope", "x.json", "20261122T000000.000000000Z-zzzzzzzz"} {
		if code, body := get(t, e, "/dev/mail/"+id); code != http.StatusNotFound || !strings.Contains(string(body), `"not_found"`) {
			t.Errorf("%s: %d %s", id, code, body)
		}
		if code, _ := get(t, e, "/dev/mail/"+id+"?format=raw"); code != http.StatusNotFound {
			t.Errorf("raw %s: %d", id, code)
		}
	}
}
