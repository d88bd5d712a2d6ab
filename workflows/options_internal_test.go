package workflows

import (
	"testing"

	"github.com/huntdesk/huntdesk/internal/mail"
)

// TestEmailActivityOutlastsTheSMTPTimeout: a slow relay must time out inside
// the activity (its error recorded), not the activity mid-send (sent again).
func TestEmailActivityOutlastsTheSMTPTimeout(t *testing.T) {
	if got := mailOptions.StartToCloseTimeout; got < 2*mail.DefaultTimeout {
		t.Fatalf("email start-to-close %v, want well above the SMTP timeout %v", got, mail.DefaultTimeout)
	}
	if mailOptions.RetryPolicy.MaximumAttempts != 0 || mailOptions.ScheduleToCloseTimeout < 24*60*60*1e9 {
		t.Fatalf("emails must retry for at least a day: %+v", mailOptions)
	}
}
