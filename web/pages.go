package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/huntdesk/huntdesk/internal/cases"
	"github.com/huntdesk/huntdesk/internal/mail"
	"github.com/huntdesk/huntdesk/models"
)

func (c *Console) signInForm(w http.ResponseWriter, r *http.Request, p models.Principal) {
	c.render(w, r, http.StatusOK, "sign-in", p, pageData{"Next": safeNext(r.URL.Query().Get("next"))})
}

// requestLink emails a one-time sign-in link. Whether the address belongs to
// anyone, the page says the same thing: the form tells no one who has an
// account.
func (c *Console) requestLink(w http.ResponseWriter, r *http.Request, p models.Principal) {
	if !c.allowAddr(r) {
		c.render(w, r, http.StatusTooManyRequests, "error", p, pageData{"Message": "Too many sign-in requests from here; wait a minute."})
		return
	}
	email := strings.TrimSpace(r.FormValue("email"))
	next := safeNext(r.FormValue("next"))
	if !models.ValidEmail(email) || !models.OneLine(email) {
		c.render(w, r, http.StatusBadRequest, "sign-in", p, pageData{"Fields": map[string]string{"email": "must be your email address"}, "Email": email, "Next": next})
		return
	}
	link, u, err := c.DB.CreateSignInLink(r.Context(), email)
	switch {
	case models.ErrorCode(err) == models.ENOTFOUND:
	case err != nil:
		c.fail(w, r, p, err)
		return
	default:
		// The email goes now, through the outbox, on a context that outlives
		// a client that hangs up.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
		defer cancel()
		u2 := c.PublicURL + "/app/sign-in/" + link
		if next != "/app/" {
			u2 += "?next=" + next
		}
		_, err := c.Mail.Send(ctx, mail.Message{Entity: "user/" + u.ID, Event: "sign_in/" + link[len(link)-12:], To: []string{u.Email},
			Template: "console_sign_in", Data: struct{ Name, URL string }{u.Name, u2}})
		if err != nil {
			c.Logger.Error("send sign-in link", "user_id", u.ID, "err", err)
			c.render(w, r, http.StatusServiceUnavailable, "error", p, pageData{"Message": "The sign-in email could not be sent just now; try again in a minute."})
			return
		}
	}
	c.render(w, r, http.StatusOK, "check-mail", p, pageData{"Email": email})
}

// confirmLink asks for a click before spending the link: mail scanners that
// fetch every link in an email must not sign anyone in, nor spend it.
func (c *Console) confirmLink(w http.ResponseWriter, r *http.Request, p models.Principal) {
	c.render(w, r, http.StatusOK, "confirm", p, pageData{"Link": r.PathValue("link"), "Next": safeNext(r.URL.Query().Get("next"))})
}

func (c *Console) useLink(w http.ResponseWriter, r *http.Request, p models.Principal) {
	sess, who, err := c.DB.UseSignInLink(r.Context(), r.PathValue("link"))
	if err != nil {
		c.render(w, r, http.StatusUnauthorized, "error", p, pageData{"Message": models.ErrorMessage(err)})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sess, Path: "/app/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: strings.HasPrefix(c.PublicURL, "https://"), MaxAge: int((12 * time.Hour).Seconds())})
	c.Logger.Info("console sign-in", "user_id", who.UserID)
	http.Redirect(w, r, safeNext(r.FormValue("next")), http.StatusSeeOther)
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request, p models.Principal) {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		_ = c.DB.EndSession(r.Context(), ck.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/app/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/app/sign-in", http.StatusSeeOther)
}

// safeNext keeps a redirect inside the console.
func safeNext(s string) string {
	if !strings.HasPrefix(s, "/app/") || strings.HasPrefix(s, "//") || strings.ContainsAny(s, "\\\r\n") {
		return "/app/"
	}
	return s
}

func (c *Console) home(w http.ResponseWriter, r *http.Request, p models.Principal) {
	data := pageData{}
	if !p.Role.Staff() {
		org, err := c.DB.Org(r.Context(), p.Scope(), p.OrgID)
		if err != nil {
			c.fail(w, r, p, err)
			return
		}
		data["Org"], data["Sub"], data["EAN"] = org, org.Subscription(), org.EAN()
	}
	c.render(w, r, http.StatusOK, "home", p, data)
}

func (c *Console) inquiries(w http.ResponseWriter, r *http.Request, p models.Principal) {
	l, err := c.Inq.List(r.Context(), p, models.InquiryFilter{Page: models.Page{Limit: 50, Cursor: r.URL.Query().Get("cursor")}})
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	c.render(w, r, http.StatusOK, "inquiries", p, pageData{"List": l, "Title": "Inquiries", "NextURL": nextURL("/app/inquiries", url.Values{}, l.NextCursor)})
}

func (c *Console) queue(w http.ResponseWriter, r *http.Request, p models.Principal) {
	q := r.URL.Query()
	f := models.InquiryFilter{OrgID: q.Get("org_id"), Page: models.Page{Limit: 50, Cursor: q.Get("cursor")}}
	if g := models.TopicGroup(q.Get("topic_group")); g.Valid() {
		f.TopicGroup = g
	}
	l, err := c.Inq.Queue(r.Context(), p, f)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	orgs, err := c.DB.Orgs(r.Context(), models.Page{Limit: 200})
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	c.render(w, r, http.StatusOK, "inquiries", p, pageData{"List": l, "Title": "Expert queue", "Queue": true, "Group": f.TopicGroup,
		"Org": f.OrgID, "Orgs": orgs.Items, "NextURL": nextURL("/app/queue", q, l.NextCursor)})
}

func (c *Console) inquiry(w http.ResponseWriter, r *http.Request, p models.Principal) {
	q, err := c.Inq.Get(r.Context(), p, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	data := pageData{"Q": q, "Mine": q.AssigneeID != nil && *q.AssigneeID == p.UserID, "SampleMax": humanBytes(c.SampleMaxBytes)}
	if p.Role == models.RoleManager && q.Status.Open() {
		// Whom a manager may assign: the provider's experts and managers.
		staff, err := c.DB.Users(r.Context(), p.OrgID, models.Page{Limit: 200})
		if err != nil {
			c.fail(w, r, p, err)
			return
		}
		data["Experts"] = staff.Items
	}
	c.render(w, r, http.StatusOK, "inquiry", p, data)
}

func (c *Console) askForm(w http.ResponseWriter, r *http.Request, p models.Principal) {
	// "Ask an expert" opens with the page the person was on as the topic.
	c.render(w, r, http.StatusOK, "ask", p, pageData{"In": models.InquiryInput{TopicURL: r.URL.Query().Get("topic_url"), ContactEmail: p.Email}})
}

func (c *Console) ask(w http.ResponseWriter, r *http.Request, p models.Principal) {
	in := models.InquiryInput{TopicURL: r.FormValue("topic_url"), Context: r.FormValue("context"), ContactEmail: r.FormValue("contact_email")}
	if g := models.TopicGroup(r.FormValue("topic_group")); g != "" {
		in.TopicGroup = &g
	}
	q, err := c.Inq.Submit(r.Context(), p, in)
	if err != nil && !errors.Is(err, cases.ErrStarting) {
		if models.ErrorCode(err) == models.EINVALID {
			c.render(w, r, http.StatusBadRequest, "ask", p, pageData{"In": in, "Fields": fieldsOf(err)})
			return
		}
		c.fail(w, r, p, err)
		return
	}
	http.Redirect(w, r, "/app/inquiries/"+q.ID, http.StatusSeeOther)
}

// after runs one command on an inquiry and goes back to it; a refusal shows
// on the page.
func (c *Console) after(w http.ResponseWriter, r *http.Request, p models.Principal, err error) {
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	http.Redirect(w, r, "/app/inquiries/"+r.PathValue("id"), http.StatusSeeOther)
}

func (c *Console) respond(w http.ResponseWriter, r *http.Request, p models.Principal) {
	_, err := c.Inq.Respond(r.Context(), p, r.PathValue("id"), r.FormValue("message"))
	c.after(w, r, p, err)
}

func (c *Console) claim(w http.ResponseWriter, r *http.Request, p models.Principal) {
	_, err := c.Inq.Claim(r.Context(), p, r.PathValue("id"))
	c.after(w, r, p, err)
}

func (c *Console) report(w http.ResponseWriter, r *http.Request, p models.Principal) {
	_, err := c.Inq.Report(r.Context(), p, r.PathValue("id"), models.ReportCategory(r.FormValue("category")), r.FormValue("message"))
	c.after(w, r, p, err)
}

func (c *Console) applications(w http.ResponseWriter, r *http.Request, p models.Principal) {
	l, err := c.Apps.List(r.Context(), p, models.ApplicationFilter{Status: models.ApplicationSubmitted, Page: models.Page{Limit: 100}})
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	ids := make([]string, 0, len(l.Items))
	for _, a := range l.Items {
		ids = append(ids, a.OrgID)
	}
	names, err := c.DB.OrgNames(r.Context(), ids)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	c.render(w, r, http.StatusOK, "applications", p, pageData{"List": l, "Orgs": names})
}

func (c *Console) approve(w http.ResponseWriter, r *http.Request, p models.Principal) {
	if _, err := c.Apps.Approve(r.Context(), p, r.PathValue("id"), r.FormValue("note")); err != nil {
		c.fail(w, r, p, err)
		return
	}
	http.Redirect(w, r, "/app/applications", http.StatusSeeOther)
}

func (c *Console) reject(w http.ResponseWriter, r *http.Request, p models.Principal) {
	if _, err := c.Apps.Reject(r.Context(), p, r.PathValue("id"), r.FormValue("reason")); err != nil {
		c.fail(w, r, p, err)
		return
	}
	http.Redirect(w, r, "/app/applications", http.StatusSeeOther)
}

// slaBoard shows managers every open case's clock: breached first, then
// running by due time, then paused.
func (c *Console) slaBoard(w http.ResponseWriter, r *http.Request, p models.Principal) {
	sections := []struct {
		Title string
		Items []models.SLATimer
	}{{Title: "Breached"}, {Title: "Running"}, {Title: "Paused (waiting on the customer)"}}
	for i, state := range []string{"breached", "running", "paused"} {
		l, err := c.SLA.Timers(r.Context(), p, models.SLATimerFilter{State: state, Page: models.Page{Limit: 200}})
		if err != nil {
			c.fail(w, r, p, err)
			return
		}
		sections[i].Items = l.Items
	}
	c.render(w, r, http.StatusOK, "sla", p, pageData{"Sections": sections})
}

// alerts is the alert queue: the org's alerts (staff: every org's), newest
// first, filtered like the API (OData $filter), e.g. severity eq 'high'.
func (c *Console) alerts(w http.ResponseWriter, r *http.Request, p models.Principal) {
	c.odataPage(w, r, p, "alerts", func(q url.Values) (any, error) { return c.Alerts.List(r.Context(), p, q) })
}

// odataPage renders a list filtered like the API's OData lists (50 rows
// unless $top says otherwise); a filter that does not parse shows its error
// beside the filter box.
func (c *Console) odataPage(w http.ResponseWriter, r *http.Request, p models.Principal, page string, list func(url.Values) (any, error)) {
	q := r.URL.Query()
	if q.Get("$top") == "" {
		q.Set("$top", "50")
	}
	l, err := list(q)
	if err != nil {
		if models.ErrorCode(err) == models.EINVALID {
			c.render(w, r, http.StatusBadRequest, page, p, pageData{"Filter": q.Get("$filter"), "Fields": fieldsOf(err)})
			return
		}
		c.fail(w, r, p, err)
		return
	}
	c.render(w, r, http.StatusOK, page, p, pageData{"List": l, "Filter": q.Get("$filter")})
}

// nextURL is path with q and the next page's cursor.
func nextURL(path string, q url.Values, cursor string) string {
	if cursor == "" {
		return ""
	}
	q.Set("cursor", cursor)
	return path + "?" + q.Encode()
}

// alert shows one alert with its devices, evidence and incident; "Ask an
// expert" opens the form with this page as the topic.
func (c *Console) alert(w http.ResponseWriter, r *http.Request, p models.Principal) {
	a, err := c.Alerts.Get(r.Context(), p, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	c.renderAlert(w, r, p, http.StatusOK, a, nil)
}

func (c *Console) renderAlert(w http.ResponseWriter, r *http.Request, p models.Principal, status int, a *models.Alert, fields map[string]string) {
	c.render(w, r, status, "alert", p, pageData{"A": a, "AskURL": "/app/inquiries/new?topic_url=" + url.QueryEscape(c.PublicURL+"/app/alerts/"+a.ID),
		"Statuses": models.AlertStatuses, "Classifications": models.Classifications, "Determinations": models.Determinations, "Fields": fields})
}

// triage sets an alert's status, classification and determination with
// the API's PATCH (same validation, same audit).
func (c *Console) triage(w http.ResponseWriter, r *http.Request, p models.Principal) {
	opt := func(k string) *string {
		v := strings.TrimSpace(r.FormValue(k))
		if v == "" {
			return nil
		}
		return &v
	}
	in := models.AlertPatch{Status: opt("status"), Classification: opt("classification"), Determination: opt("determination")}
	if _, err := c.Alerts.Patch(r.Context(), p, r.PathValue("id"), in); err != nil {
		if models.ErrorCode(err) == models.EINVALID {
			if a, gerr := c.Alerts.Get(r.Context(), p, r.PathValue("id")); gerr == nil {
				c.renderAlert(w, r, p, http.StatusBadRequest, a, fieldsOf(err))
				return
			}
		}
		c.fail(w, r, p, err)
		return
	}
	http.Redirect(w, r, "/app/alerts/"+r.PathValue("id"), http.StatusSeeOther)
}
