package api_test

// Process B's HTTP validation over the real cases.Inquiries and the real
// store. Nothing here reaches Temporal (the fixture's client is a mock that
// expects no call): refused input is refused before any workflow is touched.
// Everything that runs the state machine is in e2e/api_inquiries_test.go.

import (
	"bytes"
	"mime/multipart"
	"net/textproto"
	"strings"
	"testing"

	"github.com/huntdesk/huntdesk/api"
	"github.com/huntdesk/huntdesk/models"
)

var goodInquiry = map[string]any{"topic_url": "https://security.microsoft.com/machines/m1", "context": "Is this device compromised? Odd rundll32 activity.", "contact_email": "soc@alpha.example"}

func TestInquiryValidation(t *testing.T) {
	f := newFixture(t, api.Config{})
	for _, c := range []struct {
		body   map[string]any
		fields []string
	}{
		{map[string]any{"topic_url": "ftp://x/alerts/1", "context": "short", "contact_email": "nope"}, []string{"topic_url", "context", "contact_email"}},
		{map[string]any{"topic_url": "/alerts/1", "context": strings.Repeat("x", 10001), "contact_email": "a@b.example"}, []string{"topic_url", "context"}},
		{map[string]any{"topic_url": "https://portal.example/alerts/1", "context": "Long enough context here.", "contact_email": "a@b.example", "topic_group": "gossip"}, []string{"topic_group"}},
		// PostgreSQL refuses NUL: a 400 naming the field, never a 500.
		{map[string]any{"topic_url": "https://portal.example/alerts/1", "context": "Long enough context\x00 here.", "contact_email": "a@b.example"}, []string{"context"}},
		{map[string]any{"topic_url": "https://portal.example/alerts/1\u2028x", "context": "Long enough context here.", "contact_email": "a@b.example", "alert_id": "a\x00"}, []string{"topic_url", "alert_id"}},
	} {
		res := f.do(request{method: "POST", path: "/api/v1/inquiries", token: f.as("customer_admin"), body: c.body})
		code, fields := res.errorOf(t)
		if res.Status != 400 || code != models.EINVALID {
			t.Fatalf("%q: %d %s", c.body, res.Status, res.Body)
		}
		for _, want := range c.fields {
			if fields[want] == "" {
				t.Errorf("%q not named: %v", want, fields)
			}
		}
	}
	if r := f.do(request{method: "GET", path: "/api/v1/inquiries", token: f.as("manager")}); !strings.Contains(string(r.Body), `"items":[]`) {
		t.Fatalf("bad input created something: %s", r.Body)
	}
}

func TestReportResponseAndAssignValidation(t *testing.T) {
	f := newFixture(t, api.Config{})
	// Each is refused on its body alone, before the inquiry is even looked up.
	const id = "inq_0"
	for _, c := range []struct {
		role, action string
		body         map[string]any
		fields       []string
	}{
		{"manager", "reports", map[string]any{"category": "gossip", "message": ""}, []string{"category", "message"}},
		{"manager", "reports", map[string]any{"category": "more_time_needed", "message": "Still\x00 digging."}, []string{"message"}},
		{"customer_admin", "responses", map[string]any{"message": "   "}, []string{"message"}},
		{"customer_admin", "responses", map[string]any{"message": "Here\x00 it is."}, []string{"message"}},
		{"manager", "assign", map[string]any{}, []string{"user_id"}},
		{"manager", "assign", map[string]any{"user_id": "usr_\x00"}, []string{"user_id"}},
		// Not staff: refused by the service (SPEC: a manager assigns to an expert).
		{"manager", "assign", map[string]any{"user_id": f.users["customer_admin"].ID}, []string{"user_id"}},
		{"manager", "assign", map[string]any{"user_id": "usr_missing"}, []string{"user_id"}},
	} {
		r := f.do(request{method: "POST", path: "/api/v1/inquiries/" + id + "/" + c.action, token: f.as(c.role), body: c.body})
		code, fields := r.errorOf(t)
		if r.Status != 400 || code != models.EINVALID {
			t.Errorf("%s %q: %d %s", c.action, c.body, r.Status, r.Body)
			continue
		}
		for _, want := range c.fields {
			if fields[want] == "" {
				t.Errorf("%s %q: %q not named in %v", c.action, c.body, want, fields)
			}
		}
	}
}

// filePart encodes one multipart part named "file" with a raw
// Content-Disposition, so a test can send what a browser would not.
func filePart(t *testing.T, disposition string, data []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", disposition)
	h.Set("Content-Type", "application/octet-stream")
	pw, err := w.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	pw.Write(data)
	w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

func TestSampleFilenameMustBeOneLine(t *testing.T) {
	f := newFixture(t, api.Config{})
	for what, disp := range map[string]string{
		// RFC 2231/5987 encoding carries any byte into the decoded name.
		"CR/LF":           `form-data; name="file"; filename*=UTF-8''report%0D%0ABcc%3A%20x.pdf`,
		"NUL":             `form-data; name="file"; filename*=UTF-8''run%00.ps1`,
		"escape sequence": `form-data; name="file"; filename*=UTF-8''%1B%5B31mred.txt`,
	} {
		body, ct := filePart(t, disp, []byte("MZ"))
		r := f.do(request{method: "POST", path: "/api/v1/inquiries/inq_0/samples", token: f.as("customer_admin"), body: body, header: map[string]string{"Content-Type": ct}})
		if code, fields := r.errorOf(t); r.Status != 400 || code != models.EINVALID || fields["file"] == "" {
			t.Errorf("file name with %s: %d %s, want 400 naming file", what, r.Status, r.Body)
		}
	}
}
