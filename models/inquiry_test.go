package models_test

import (
	"strings"
	"testing"

	"github.com/huntdesk/huntdesk/models"
)

func TestInquiryInputDerivesTopic(t *testing.T) {
	for _, c := range []struct {
		url      string
		kind     models.TopicKind
		group    string
		alert    string
		incident string
	}{
		{"https://security.microsoft.com/alerts/da637?tid=1", models.TopicAlert, "alert_information", "da637", ""},
		{"https://security.microsoft.com/incidents/42/overview", models.TopicIncident, "alert_information", "", "42"},
		{"http://localhost:8080/api/v1/alerts/alr_01", models.TopicAlert, "alert_information", "alr_01", ""},
		{"http://localhost:8080/api/v1/incidents/inc_01", models.TopicIncident, "alert_information", "", "inc_01"},
		{"https://security.microsoft.com/machines/abc123/overview", models.TopicDevice, "possible_device_compromise", "", ""},
		{"http://portal.example/devices/d1", models.TopicDevice, "possible_device_compromise", "", ""},
		{"https://portal.example/hunting", models.TopicOther, "", "", ""},
	} {
		in := models.InquiryInput{TopicURL: c.url, Context: strings.Repeat("c", 20), ContactEmail: "a@b.example"}
		kind, err := in.Validate()
		if err != nil || kind != c.kind {
			t.Errorf("%s: kind %s err %v, want %s", c.url, kind, err, c.kind)
			continue
		}
		group := ""
		if in.TopicGroup != nil {
			group = string(*in.TopicGroup)
		}
		alert, incident := "", ""
		if in.AlertID != nil {
			alert = *in.AlertID
		}
		if in.IncidentID != nil {
			incident = *in.IncidentID
		}
		if group != c.group || alert != c.alert || incident != c.incident {
			t.Errorf("%s: group %q alert %q incident %q, want %q %q %q", c.url, group, alert, incident, c.group, c.alert, c.incident)
		}
	}
	// A link whose id decodes to a control character is refused, never stored
	// (PostgreSQL refuses NUL: it would be a 500).
	bad := models.InquiryInput{TopicURL: "https://x.example/alerts/a%00b", Context: strings.Repeat("c", 20), ContactEmail: "a@b.example"}
	if _, err := bad.Validate(); err == nil || bad.AlertID != nil {
		t.Fatalf("an alert id with NUL from the link: %v %v", err, bad.AlertID)
	}
	g := models.GroupThreatIntelligence
	in := models.InquiryInput{TopicURL: "https://x.example/alerts/1", TopicGroup: &g, Context: strings.Repeat("c", 20), ContactEmail: "a@b.example"}
	if _, err := in.Validate(); err != nil || *in.TopicGroup != g {
		t.Fatalf("a named group is kept: %v %v", err, *in.TopicGroup)
	}
}

func TestCleanFilename(t *testing.T) {
	for in, want := range map[string]string{
		"run.ps1": "run.ps1", `..\..\evil".exe`: "evil.exe", "../../etc/passwd": "passwd", "a\r\nb.txt": "ab.txt", "..": "", "/": "",
	} {
		if got := models.CleanFilename(in); got != want {
			t.Errorf("CleanFilename(%q) = %q, want %q", in, got, want)
		}
	}
}
