package cases_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/huntdesk/huntdesk/internal/cases"
	"github.com/huntdesk/huntdesk/models"
)

// TestInquiryParamsDefaults pins the production SLA wiring where it is
// computed (issue 18, item 24): a progress report due 48 h after submission,
// the warning at 75 % (36 h), customer reminders after 2 and 5 days, closing
// as closed_no_response after 14 days.
func TestInquiryParamsDefaults(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	p := (&cases.Inquiries{}).Params(&models.Inquiry{ID: "inq_1", OrgID: "org_1", CreatedAt: at})
	if p.InquiryID != "inq_1" || p.OrgID != "org_1" || !p.SubmittedAt.Equal(at) {
		t.Fatalf("identity: %+v", p)
	}
	if p.SLA != 48*time.Hour || p.WarnAfter != 36*time.Hour {
		t.Fatalf("SLA %v, warning after %v; want 48h and 36h (75 %%)", p.SLA, p.WarnAfter)
	}
	if !reflect.DeepEqual(p.Reminders, []time.Duration{48 * time.Hour, 120 * time.Hour}) || p.CustomerTimeout != 14*24*time.Hour {
		t.Fatalf("reminders %v, customer timeout %v; want [48h 120h] and 336h", p.Reminders, p.CustomerTimeout)
	}
	if p.State != nil || p.MaxChanges != 0 {
		t.Fatalf("a new inquiry starts with no carried state: %+v", p)
	}
}

// TestInquiryParamsConfigured: configured durations pass through, and the
// warning stays at 75 % of the configured SLA.
func TestInquiryParamsConfigured(t *testing.T) {
	s := &cases.Inquiries{SLA: 40 * time.Second, Reminders: []time.Duration{}, CustomerTimeout: 30 * time.Second, MaxChanges: 7}
	p := s.Params(&models.Inquiry{ID: "inq_2"})
	if p.SLA != 40*time.Second || p.WarnAfter != 30*time.Second || len(p.Reminders) != 0 || p.CustomerTimeout != 30*time.Second || p.MaxChanges != 7 {
		t.Fatalf("configured params: %+v", p)
	}
}

// TestApplicationParams: the review SLA defaults to 5 days and managers are
// reminded at 80 % of it (96 h); a configured SLA keeps the 80 %.
func TestApplicationParams(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	app := &models.Application{ID: "app_1", OrgID: "org_1", CreatedAt: at}
	p := (&cases.Applications{}).Params(app)
	if p.ApplicationID != "app_1" || p.OrgID != "org_1" || !p.SubmittedAt.Equal(at) || p.ReviewSLA != 120*time.Hour || p.RemindAfter != 96*time.Hour {
		t.Fatalf("default application params: %+v; want a 120h review SLA, reminder at 96h", p)
	}
	p = (&cases.Applications{ReviewSLA: 30 * time.Second}).Params(app)
	if p.ReviewSLA != 30*time.Second || p.RemindAfter != 24*time.Second {
		t.Fatalf("configured application params: %+v; want 30s, reminder at 24s", p)
	}
}
