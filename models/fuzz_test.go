package models_test

import (
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/huntdesk/huntdesk/models"
)

// FuzzInputs decodes arbitrary JSON into every input the API decodes and
// validates it: nothing panics, and an input that passes keeps the one-line
// rule on the names that reach email headers.
func FuzzInputs(f *testing.F) {
	for _, s := range []string{`{"name":"a"}`, `{"topic_url":"https://x.example/alerts/alr_1","context":"twenty characters at least","contact_email":"a@b.example"}`,
		`{"org_id":"o","title":"t","severity":"high","category":"c","devices":[{"id":"d","name":"n"}]}`,
		`{"name":"n","recipients":["a@b.example"],"min_severity":"low","service_sources":["EDR"]}`,
		`{"external_id":"e","title":"t","severity":"low","category":"c","detection_source":"EDR","evidence":[{"kind":"url","value":"x"}]}`} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte) {
		var org models.OrgInput
		if json.Unmarshal(b, &org) == nil && org.Validate(true) == nil && !models.OneLine(*org.Name) {
			t.Fatalf("org name %q passed", *org.Name)
		}
		var app models.ApplicationInput
		if json.Unmarshal(b, &app) == nil && app.Validate() == nil && !models.OneLine(app.ContactName) {
			t.Fatalf("contact name %q passed", app.ContactName)
		}
		var inq models.InquiryInput
		if json.Unmarshal(b, &inq) == nil {
			if _, err := inq.Validate(); err == nil && (!models.OneLine(inq.TopicURL) || !models.StorableText(inq.Context)) {
				t.Fatalf("inquiry %+v passed", inq)
			}
		}
		var al models.AlertInput
		if json.Unmarshal(b, &al) == nil && al.Validate() == nil && !models.OneLine(al.Title) {
			t.Fatalf("alert title %q passed", al.Title)
		}
		var rule models.RuleInput
		if json.Unmarshal(b, &rule) == nil && rule.Validate() == nil {
			for _, r := range rule.Recipients {
				if !models.OneLine(r) || !models.ValidEmail(r) {
					t.Fatalf("recipient %q passed", r)
				}
			}
		}
		var ing models.IngestAlert
		if json.Unmarshal(b, &ing) == nil && ing.Validate(now) == nil && (!models.OneLine(ing.Title) || !models.OneLine(ing.ExternalID)) {
			t.Fatalf("ingested alert %+v passed", ing)
		}
	})
}

// FuzzTopic: any topic link parses without panicking, and an alert or
// incident reference it yields is one path segment of the link.
func FuzzTopic(f *testing.F) {
	for _, s := range []string{"https://security.microsoft.com/alerts/da637", "http://localhost:8080/api/v1/incidents/inc_1/", "https://x.example/machines/../alerts/%00", "https://x/alerts"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := url.Parse(s)
		if err != nil {
			return
		}
		kind, ref := models.ParseTopic(u)
		if ref != "" && kind != models.TopicAlert && kind != models.TopicIncident {
			t.Fatalf("%q: a reference %q for a %s link", s, ref, kind)
		}
		in := models.InquiryInput{TopicURL: s, Context: "twenty characters at least", ContactEmail: "a@b.example"}
		if _, err := in.Validate(); err == nil && in.AlertID != nil && !models.OneLine(*in.AlertID) {
			t.Fatalf("%q: alert id %q passed", s, *in.AlertID)
		}
	})
}
