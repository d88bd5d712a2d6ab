package web

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"

	"github.com/huntdesk/huntdesk/internal/cases"
	"github.com/huntdesk/huntdesk/models"
)

// settings is the customer's Advanced features page: Endpoint attack
// notifications' state, the application (apply, its status, withdraw) and
// the toggle once approved.
func (c *Console) settings(w http.ResponseWriter, r *http.Request, p models.Principal) {
	c.renderSettings(w, r, p, http.StatusOK, nil, models.ApplicationInput{ContactEmail: p.Email})
}

func (c *Console) renderSettings(w http.ResponseWriter, r *http.Request, p models.Principal, status int, fields map[string]string, in models.ApplicationInput) {
	ean, err := c.Apps.Settings(r.Context(), p, p.OrgID)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	data := pageData{"EAN": ean, "In": in, "Fields": fields}
	if ean.ApplicationID != nil {
		app, err := c.Apps.Get(r.Context(), p, *ean.ApplicationID)
		if err != nil {
			c.fail(w, r, p, err)
			return
		}
		data["App"] = app
	}
	c.render(w, r, status, "settings", p, data)
}

func (c *Console) apply(w http.ResponseWriter, r *http.Request, p models.Principal) {
	accepted := r.FormValue("accept_privacy_statement") == "on"
	in := models.ApplicationInput{ContactName: r.FormValue("contact_name"), ContactEmail: r.FormValue("contact_email"), AcceptPrivacyStatement: &accepted}
	_, _, err := c.Apps.Submit(r.Context(), p, in)
	if err != nil && !errors.Is(err, cases.ErrStarting) {
		if models.ErrorCode(err) == models.EINVALID {
			c.renderSettings(w, r, p, http.StatusBadRequest, fieldsOf(err), in)
			return
		}
		c.fail(w, r, p, err)
		return
	}
	http.Redirect(w, r, "/app/settings", http.StatusSeeOther)
}

func (c *Console) withdraw(w http.ResponseWriter, r *http.Request, p models.Principal) {
	ean, err := c.Apps.Settings(r.Context(), p, p.OrgID)
	if err == nil && ean.ApplicationID == nil {
		err = models.Errorf(models.EINVALIDSTATE, "There is no application to withdraw.")
	}
	if err == nil {
		_, err = c.Apps.Withdraw(r.Context(), p, *ean.ApplicationID)
	}
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	http.Redirect(w, r, "/app/settings", http.StatusSeeOther)
}

func (c *Console) toggleNotifications(w http.ResponseWriter, r *http.Request, p models.Principal) {
	var on bool
	switch r.FormValue("enabled") {
	case "on":
		on = true
	case "off":
	default:
		c.fail(w, r, p, models.Invalid("enabled", "must be on or off"))
		return
	}
	if _, err := c.Apps.SetEnabled(r.Context(), p, on); err != nil {
		c.fail(w, r, p, err)
		return
	}
	http.Redirect(w, r, "/app/settings", http.StatusSeeOther)
}

// uploadSample streams the file part of a multipart form into the same
// service call as the API's upload: the size limit, the count and quota per
// inquiry, the filename rules and the SHA-256 are all the service's.
func (c *Console) uploadSample(w http.ResponseWriter, r *http.Request, p models.Principal) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		c.fail(w, r, p, models.Invalid("file", "must be sent from the upload form"))
		return
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			c.fail(w, r, p, models.Invalid("file", "choose a file to upload"))
			return
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			c.fail(w, r, p, models.Errorf(models.ETOOLARGE, "The file is larger than the %s a sample may be.", humanBytes(c.SampleMaxBytes)))
			return
		}
		if err != nil {
			c.fail(w, r, p, models.Invalid("file", "the upload was cut short; try again"))
			return
		}
		if part.FormName() != "file" {
			continue
		}
		if part.FileName() == "" {
			c.fail(w, r, p, models.Invalid("file", "choose a file to upload"))
			return
		}
		if err := models.ValidateFilename("file", part.FileName()); err != nil {
			c.fail(w, r, p, err)
			return
		}
		_, err = c.Inq.AddSampleStream(r.Context(), p, r.PathValue("id"), part.FileName(), part, c.SampleMaxBytes)
		if errors.As(err, &mbe) {
			err = models.Errorf(models.ETOOLARGE, "The file is larger than the %s a sample may be.", humanBytes(c.SampleMaxBytes))
		}
		c.after(w, r, p, err)
		return
	}
}

// downloadSample hands an expert the sample zipped with the password
// "infected", as the API does (and audited there).
func (c *Console) downloadSample(w http.ResponseWriter, r *http.Request, p models.Principal) {
	name, zip, err := c.Inq.DownloadSample(r.Context(), p, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	_, _ = w.Write(zip)
}

func (c *Console) cancel(w http.ResponseWriter, r *http.Request, p models.Principal) {
	_, err := c.Inq.Cancel(r.Context(), p, r.PathValue("id"))
	c.after(w, r, p, err)
}

func (c *Console) assign(w http.ResponseWriter, r *http.Request, p models.Principal) {
	in := models.AssignInput{UserID: r.FormValue("user_id")}
	err := in.Validate()
	if err == nil {
		_, err = c.Inq.Assign(r.Context(), p, r.PathValue("id"), in.UserID)
	}
	c.after(w, r, p, err)
}

// incidents lists the org's incidents (staff: every org's), filtered like
// the API.
func (c *Console) incidents(w http.ResponseWriter, r *http.Request, p models.Principal) {
	c.odataPage(w, r, p, "incidents", func(q url.Values) (any, error) { return c.Alerts.Incidents(r.Context(), p, q) })
}

func (c *Console) incident(w http.ResponseWriter, r *http.Request, p models.Principal) {
	in, err := c.Alerts.Incident(r.Context(), p, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	c.render(w, r, http.StatusOK, "incident", p, pageData{"I": in, "AskURL": "/app/inquiries/new?topic_url=" + url.QueryEscape(c.PublicURL+"/app/incidents/"+in.ID)})
}

// rules shows the org's notification rules; admins add and delete them.
func (c *Console) rules(w http.ResponseWriter, r *http.Request, p models.Principal) {
	c.renderRules(w, r, p, http.StatusOK, nil, ruleForm{MinSeverity: string(models.SeverityHigh), Recipients: p.Email})
}

// ruleForm is the rule form as typed: recipients comma-separated.
type ruleForm struct {
	Name, Recipients, MinSeverity, Sources string
	Devices                                bool
}

func (c *Console) renderRules(w http.ResponseWriter, r *http.Request, p models.Principal, status int, fields map[string]string, in ruleForm) {
	org := p.OrgID
	if p.Role.Staff() {
		org = r.URL.Query().Get("org_id")
	}
	data := pageData{"In": in, "Fields": fields, "Severities": models.Severities, "OrgID": org}
	if org != "" {
		l, err := c.Alerts.Rules(r.Context(), p, org)
		if err != nil {
			c.fail(w, r, p, err)
			return
		}
		data["List"] = l
	}
	c.render(w, r, status, "rules", p, data)
}

func (c *Console) createRule(w http.ResponseWriter, r *http.Request, p models.Principal) {
	f := ruleForm{Name: r.FormValue("name"), Recipients: r.FormValue("recipients"), MinSeverity: r.FormValue("min_severity"),
		Sources: r.FormValue("service_sources"), Devices: r.FormValue("include_device_details") == "on"}
	in := models.RuleInput{Name: f.Name, Recipients: splitList(f.Recipients), MinSeverity: models.Severity(f.MinSeverity),
		ServiceSources: splitList(f.Sources), IncludeDeviceDetails: f.Devices}
	if _, err := c.Alerts.CreateRule(r.Context(), p, in); err != nil {
		if models.ErrorCode(err) == models.EINVALID {
			c.renderRules(w, r, p, http.StatusBadRequest, fieldsOf(err), f)
			return
		}
		c.fail(w, r, p, err)
		return
	}
	http.Redirect(w, r, "/app/rules", http.StatusSeeOther)
}

func (c *Console) deleteRule(w http.ResponseWriter, r *http.Request, p models.Principal) {
	if err := c.Alerts.DeleteRule(r.Context(), p, r.PathValue("id")); err != nil {
		c.fail(w, r, p, err)
		return
	}
	http.Redirect(w, r, "/app/rules", http.StatusSeeOther)
}

// splitList reads "a, b,c" as [a b c]; an empty field is an empty list.
func splitList(s string) []string {
	out := []string{}
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// me shows who is signed in and, for staff, which "work arrived" emails
// they get.
func (c *Console) me(w http.ResponseWriter, r *http.Request, p models.Principal) {
	u, err := c.DB.User(r.Context(), "", p.UserID)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	c.render(w, r, http.StatusOK, "me", p, pageData{"U": u, "Saved": r.URL.Query().Get("saved") != ""})
}

// setNotifications saves the four switches of the preferences form (an
// unticked box is not sent, so each is read as on or off).
func (c *Console) setNotifications(w http.ResponseWriter, r *http.Request, p models.Principal) {
	on := func(k string) *bool { v := r.FormValue(k) == "on"; return &v }
	prefs := models.NotificationPrefs{Queued: on("queued"), Assigned: on("assigned"), CustomerActivity: on("customer_activity"), Cancelled: on("cancelled")}
	if _, err := c.DB.SetNotifications(r.Context(), p, prefs); err != nil {
		c.fail(w, r, p, err)
		return
	}
	http.Redirect(w, r, "/app/me?saved=1", http.StatusSeeOther)
}
