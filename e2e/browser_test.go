package e2e

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// chromium finds Debian's Chromium. Without it the browser test skips,
// saying how to install it, unless HUNTDESK_BROWSER_TEST=require (CI),
// where a missing browser fails.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("HUNTDESK_BROWSER_TEST") == "require" {
		t.Fatal("HUNTDESK_BROWSER_TEST=require but no chromium on PATH")
	}
	t.Skip("no Chromium: install it (apt-get install chromium) to run the console in a real browser")
	return ""
}

// browser starts a headless Chromium of its own (own profile, own
// cookies) for one person, bounded in time so a page that never loads
// fails the test instead of hanging it.
func browser(t *testing.T, exe string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// person drives the console in the browser as one user at a time.
type person struct {
	t     *testing.T
	ctx   context.Context
	c     client
	base  string
	shots string
}

func (p person) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	// Each step has its own bound: a selector that never appears fails the
	// step, and the page it was on is shown.
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(p.ctx, chromedp.Location())
		body, _ := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS("body")))
		p.t.Fatalf("%s: %v\non %s:\n%s", what, err, loc, body)
	}
}

// text is the rendered text of the first element matching sel.
func (p person) text(sel string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("read %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// signIn asks for a link, reads it in the dev mail sink's page, opens it
// and confirms, as a person does.
func (p person) signIn(email string) {
	p.t.Helper()
	p.run("ask for a sign-in link", chromedp.Navigate(p.base+"/app/sign-in"),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), email), submit("#send-link"),
		chromedp.WaitVisible(chromedp.CSS("#message")))
	// Wait for it, then read it in the sink's page and click it, as a
	// newcomer does.
	m := p.c.waitMail(email, "sign-in link")
	link := signInLink.FindString(m.Text)
	p.run("read the mail", chromedp.Navigate(p.base+"/dev/mail?to="+url.QueryEscape(email)))
	p.run("open the link", submit(`article.mail a[href*="`+link+`"]`))
	p.run("confirm", submit("#sign-in"))
	p.run("signed in", chromedp.WaitVisible(chromedp.CSS("header nav")))
}

func (p person) signOut() {
	p.t.Helper()
	p.run("sign out", submit("header form.out button"), chromedp.WaitVisible(chromedp.CSS("#send-link")))
}

// submit clicks sel (a button or link) and waits for the page it leads
// to, so what follows reads the new page and never the old one.
func submit(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel)))(ctx, t)
		return err
	})
}

func (p person) screenshot(name string) {
	p.t.Helper()
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(p.shots, name+".png"), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// TestConsoleInABrowser walks the console's main story in headless
// Chromium on the dev stack: a customer signs in by the emailed link and
// applies for attack notifications, a manager approves; the customer asks
// an expert; the manager sees the case on the SLA board; the expert claims
// it and asks for a sample; the customer uploads it; the expert downloads
// it (zipped) and concludes. Every assertion reads the rendered DOM.
// Screenshots go to HUNTDESK_SCREENSHOTS, or the test's artifact directory
// (go test -artifacts).
func TestConsoleInABrowser(t *testing.T) {
	exe := chromium(t)
	st, c := apiStack(t, fastInquiries(48*time.Hour))
	shots := os.Getenv("HUNTDESK_SCREENSHOTS")
	if shots == "" {
		shots = t.ArtifactDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	// Three people, each in a browser of their own, each signed in once,
	// as three people at three desks would be.
	newPerson := func(email string) person {
		p := person{t: t, ctx: browser(t, exe), c: c, base: st.URL, shots: shots}
		p.signIn(email)
		return p
	}

	// The customer applies for Endpoint attack notifications.
	p := newPerson("admin@fabrikam.example")
	customer := p
	p.run("open settings", chromedp.Navigate(st.URL+"/app/settings"))
	p.run("name", chromedp.SendKeys(chromedp.CSS(`#apply-form input[name=contact_name]`), "Frankie Fabrikam"))
	p.run("email", chromedp.SetValue(chromedp.CSS(`#apply-form input[name=contact_email]`), "secops@fabrikam.example")) // prefilled with mine
	p.run("privacy", chromedp.Click(chromedp.CSS(`#apply-form input[name=accept_privacy_statement]`)))
	p.run("apply", submit("#apply"), chromedp.WaitVisible(chromedp.CSS("#app-status")))
	if s := p.text("#app-status"); s != "submitted" {
		t.Fatalf("the application after applying: %q", s)
	}

	// A manager approves it.
	p = newPerson("manager@huntdesk.example")
	manager := p
	p.run("approve", chromedp.Navigate(st.URL+"/app/applications"), chromedp.WaitVisible(chromedp.CSS("#applications")))
	if row := p.text("#applications tbody tr"); !strings.Contains(row, "Fabrikam") {
		t.Fatalf("the application is not listed: %q", row)
	}
	p.run("approve", submit("#applications button.approve"), chromedp.WaitVisible(chromedp.CSS("#applications")))
	if row := p.text("#applications tbody"); !strings.Contains(row, "No application waits") {
		t.Fatalf("after approving: %q", row)
	}

	// The customer sees the approval and asks an expert.
	p = customer
	p.run("settings", chromedp.Navigate(st.URL+"/app/settings"), chromedp.WaitVisible(chromedp.CSS("#ean-state")))
	if s := p.text("#ean-state"); s != "approved" {
		t.Fatalf("the feature after approval: %q", s)
	}
	p.run("ask", chromedp.Navigate(st.URL+"/app/inquiries/new"),
		chromedp.SetValue(chromedp.CSS(`input[name=topic_url]`), "https://security.microsoft.com/machines/hr-desktop-2/overview"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name=context]`), "HR-DESKTOP-2 made outbound connections to an unknown host at 3 am. Is it compromised?"),
		chromedp.SetValue(chromedp.CSS(`input[name=contact_email]`), "secops@fabrikam.example"),
		submit("#ask"), chromedp.WaitVisible(chromedp.CSS("#status")))
	inq, err := chromedp.Run(p.ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(inq, "/app/inquiries/inq_") || p.text("#sla") != "on-time" {
		t.Fatalf("after asking: %s, SLA %q", inq, p.text("#sla"))
	}
	id := inq[strings.LastIndex(inq, "/")+1:]

	// The manager sees it on the SLA board, running.
	p = manager
	p.run("SLA board", chromedp.Navigate(st.URL+"/app/sla"), chromedp.WaitVisible(chromedp.CSS("table.sla")))
	if board := p.text("main"); !strings.Contains(board, id) || !strings.Contains(board, "Fabrikam") {
		t.Fatalf("the SLA board does not show %s: %q", id, board)
	}
	p.screenshot("sla-board")

	// The expert claims it from the queue and asks for a sample.
	p = newPerson("expert@huntdesk.example")
	expert := p
	p.run("queue", chromedp.Navigate(st.URL+"/app/queue"), chromedp.WaitVisible(chromedp.CSS("#inquiries")))
	if q := p.text("#inquiries tbody"); !strings.Contains(q, "hr-desktop-2") || !strings.Contains(q, "on-time") {
		t.Fatalf("the queue: %q", q)
	}
	p.screenshot("expert-queue")
	p.run("claim", submit(`#inquiries a[href$="`+id+`"]`), chromedp.WaitVisible(chromedp.CSS("#claim")),
		submit("#claim"), chromedp.WaitVisible(chromedp.CSS("#report")))
	p.run("ask for a sample", chromedp.Click(chromedp.CSS(`input[name=category][value=samples_needed]`)),
		chromedp.SendKeys(chromedp.CSS(`form textarea[name=message]`), "Please upload the binary that made the connection."),
		submit("#report"), chromedp.WaitVisible(chromedp.CSS("#status")))
	if s := p.text("#status"); s != "awaiting_customer" {
		t.Fatalf("after asking for a sample: %q", s)
	}

	// The customer uploads the sample from the inquiry's page.
	sample := filepath.Join(t.TempDir(), "updater.exe")
	if err := os.WriteFile(sample, []byte("MZ not really a program"), 0o644); err != nil {
		t.Fatal(err)
	}
	p = customer
	p.run("upload", chromedp.Navigate(inq), chromedp.WaitVisible(chromedp.CSS("#upload-form")))
	if r := p.text("main"); !strings.Contains(r, "Please upload the binary") || !strings.Contains(r, "at most 32 MiB") {
		t.Fatalf("the customer's view of the report: %q", r)
	}
	p.run("upload", chromedp.SetUploadFiles(chromedp.CSS(`#upload-form input[type=file]`), []string{sample}),
		submit("#upload"), chromedp.WaitVisible(chromedp.CSS("#samples")))
	if s := p.text("#samples"); !strings.Contains(s, "updater.exe") {
		t.Fatalf("the sample is not listed: %q", s)
	}
	p.screenshot("customer-inquiry")

	// The expert downloads it, zipped, and concludes.
	p = expert
	p.run("open", chromedp.Navigate(inq), chromedp.WaitVisible(chromedp.CSS(`#samples a[download]`)))
	got, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`fetch(document.querySelector("#samples a[download]").href).then(r => r.arrayBuffer().then(b =>
		r.status + " " + r.headers.get("content-type") + " " + String.fromCharCode(...new Uint8Array(b).slice(0, 2))))`, chromedp.EvalAwaitPromise))
	if err != nil || got != "200 application/zip PK" {
		t.Fatalf("the sample download: %q", got)
	}
	p.run("conclude", chromedp.Click(chromedp.CSS(`input[name=category][value=concluded]`)),
		chromedp.SendKeys(chromedp.CSS(`form textarea[name=message]`), "A signed updater of the HR software: benign."),
		submit("#report"), chromedp.WaitVisible(chromedp.CSS("#status")))
	if s := p.text("#status"); s != "concluded" {
		t.Fatalf("after concluding: %q", s)
	}

	// The manager's SLA report counts it; the customer signs out.
	p = manager
	p.run("SLA report", chromedp.Navigate(st.URL+"/app/sla/report"), chromedp.WaitVisible(chromedp.CSS("#opened")))
	if n := p.text("#opened"); n != "1" {
		t.Fatalf("the SLA report's opened count: %q", n)
	}
	p.screenshot("sla-report")
	customer.signOut()
}
