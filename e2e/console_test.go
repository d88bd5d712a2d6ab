package e2e

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// consoleUser is one person's browser on the console: its own cookies, no
// redirects followed.
type consoleUser struct {
	t    *testing.T
	base string
	http *http.Client
}

func (u consoleUser) do(method, path string, form url.Values) (int, string, string) {
	u.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := u.http.Do(req)
	if err != nil {
		u.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header.Get("Location")
}

var signInLink = regexp.MustCompile(`/app/sign-in/hdl_[A-Za-z0-9_-]+`)

// consoleSignIn signs a demo user in as a person would: the form, the link
// read from the dev mail sink, the click.
func consoleSignIn(t *testing.T, c client, base, email string) consoleUser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	u := consoleUser{t: t, base: base, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	before := len(c.mailsTo(email))
	if st, body, _ := u.do("POST", "/app/sign-in", url.Values{"email": {email}}); st != 200 || !strings.Contains(body, "Check your mailbox") {
		t.Fatalf("sign-in form: %d", st)
	}
	deadline := time.Now().Add(30 * time.Second)
	var link string
	for link == "" {
		msgs := c.mailsTo(email)
		if len(msgs) > before {
			for _, m := range msgs {
				if strings.Contains(m.Subject, "sign-in link") {
					link = signInLink.FindString(m.Text)
					break
				}
			}
		}
		if link == "" && time.Now().After(deadline) {
			t.Fatalf("no sign-in link for %s", email)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st, _, loc := u.do("POST", link, url.Values{"next": {"/app/"}}); st != http.StatusSeeOther || loc != "/app/" {
		t.Fatalf("spend the link: %d %s", st, loc)
	}
	return u
}

// TestConsoleEndToEnd: on the real dev stack, people work through the
// console only: a customer asks an expert, the expert claims it from the
// queue and asks for information, the customer answers, the expert
// concludes; a manager decides an application.
func TestConsoleEndToEnd(t *testing.T) {
	st, c := apiStack(t)
	if code, _, loc := (consoleUser{t: t, base: st.URL, http: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}).do("GET", "/", nil); code != http.StatusSeeOther || loc != "/app/" {
		t.Fatalf("/ leads to the console: %d %s", code, loc)
	}
	customer := consoleSignIn(t, c, st.URL, "admin@fabrikam.example")
	code, body, loc := customer.do("POST", "/app/inquiries", url.Values{"topic_url": {"https://security.microsoft.com/machines/abc/overview"},
		"context": {"HR-DESKTOP-2 made outbound connections at 3 am. Compromised?"}, "contact_email": {"secops@fabrikam.example"}})
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/app/inquiries/inq_") {
		t.Fatalf("ask: %d %s", code, body)
	}
	inq := loc
	manager := consoleSignIn(t, c, st.URL, "manager@huntdesk.example")
	if code, body, _ := manager.do("GET", "/app/sla", nil); code != 200 || !strings.Contains(body, strings.TrimPrefix(inq, "/app/inquiries/")) {
		t.Fatalf("the SLA board shows the new inquiry: %d", code)
	}

	expert := consoleSignIn(t, c, st.URL, "expert@huntdesk.example")
	if code, body, _ := expert.do("GET", "/app/queue", nil); code != 200 || !strings.Contains(body, strings.TrimPrefix(inq, "/app/inquiries/")) {
		t.Fatalf("the queue: %d", code)
	}
	if code, _, _ := expert.do("POST", inq+"/claim", url.Values{}); code != http.StatusSeeOther {
		t.Fatalf("claim: %d", code)
	}
	if code, body, _ := expert.do("POST", inq+"/claim", url.Values{}); code != http.StatusConflict || !strings.Contains(body, "already claimed") {
		t.Fatalf("a second claim shows the conflict as a message: %d", code)
	}
	if code, body, _ := expert.do("POST", inq+"/reports", url.Values{"category": {"more_info_needed"}, "message": {"Which user was signed in?"}}); code != http.StatusSeeOther {
		t.Fatalf("report: %d %s", code, body)
	}
	if code, body, _ := customer.do("GET", inq, nil); code != 200 || !strings.Contains(body, "awaiting_customer") || !strings.Contains(body, "Which user was signed in?") {
		t.Fatalf("the customer's view: %d", code)
	}
	// The report's email links to the console's page of the inquiry.
	if m := c.waitMail("secops@fabrikam.example", "progress report"); !strings.Contains(m.Text, st.URL+inq) {
		t.Fatalf("the report email does not link to %s: %s", inq, m.Text)
	}
	if code, _, _ := customer.do("POST", inq+"/responses", url.Values{"message": {"j.doe, an HR clerk."}}); code != http.StatusSeeOther {
		t.Fatalf("answer: %d", code)
	}
	if code, _, _ := expert.do("POST", inq+"/reports", url.Values{"category": {"concluded"}, "message": {"Benign backup software."}}); code != http.StatusSeeOther {
		t.Fatalf("conclude: %d", code)
	}
	if _, body, _ := customer.do("GET", inq, nil); !strings.Contains(body, `id="status">concluded`) {
		t.Fatalf("concluded: %s", body)
	}

	// A manager decides an application from the console.
	r := c.api("POST", "/api/v1/applications", st.Tokens["admin@contoso.example"], map[string]any{"contact_name": "C", "contact_email": "c@contoso.example", "accept_privacy_statement": true})
	var app struct{ ID string }
	r.decode(t, &app)
	if code, body, _ := manager.do("GET", "/app/applications", nil); code != 200 || !strings.Contains(body, app.ID) {
		t.Fatalf("applications page: %d", code)
	}
	if code, _, _ := manager.do("POST", "/app/applications/"+app.ID+"/approve", url.Values{}); code != http.StatusSeeOther {
		t.Fatalf("approve: %d", code)
	}
	var got struct{ Status string }
	c.api("GET", "/api/v1/applications/"+app.ID, st.Tokens["manager@huntdesk.example"], nil).decode(t, &got)
	if got.Status != "approved" {
		t.Fatalf("after the console's approval: %s", got.Status)
	}
}
