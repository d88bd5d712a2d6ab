package models

import (
	"strings"
	"time"
)

// ApplicationStatus is where an eligibility application stands.
type ApplicationStatus string

const (
	ApplicationSubmitted ApplicationStatus = "submitted" // open: waiting for a manager
	ApplicationApproved  ApplicationStatus = "approved"
	ApplicationRejected  ApplicationStatus = "rejected"
	ApplicationWithdrawn ApplicationStatus = "withdrawn"
)

// Open reports whether an application in status s can still be decided or withdrawn.
func (s ApplicationStatus) Open() bool { return s == ApplicationSubmitted }

// Application is an org's application for Endpoint attack notifications
// (Process A). The row is the read model; EligibilityApplicationWorkflow owns
// the process and writes it through activities.
type Application struct {
	ID                string            `json:"id" gorm:"primaryKey"`
	OrgID             string            `json:"org_id"`
	SubmittedBy       string            `json:"submitted_by"`
	ContactName       string            `json:"contact_name"`
	ContactEmail      string            `json:"contact_email"`
	PrivacyAcceptedAt time.Time         `json:"privacy_statement_accepted_at"`
	Status            ApplicationStatus `json:"status"`
	ReviewDueAt       time.Time         `json:"review_due_at"`
	ReminderSentAt    *time.Time        `json:"reminder_sent_at"`
	EscalatedAt       *time.Time        `json:"escalated_at"`
	DecidedBy         *string           `json:"decided_by"`
	DecidedAt         *time.Time        `json:"decided_at"`
	DecisionNote      *string           `json:"note"`
	RejectionReason   *string           `json:"reason"`
	CreatedAt         time.Time         `json:"created_at"`
	UpdatedAt         time.Time         `json:"updated_at"`
	Timeline          []AuditEntry      `json:"timeline,omitempty" gorm:"-"`
}

// ApplicationInput is a customer's application.
type ApplicationInput struct {
	ContactName            string `json:"contact_name"`
	ContactEmail           string `json:"contact_email"`
	AcceptPrivacyStatement *bool  `json:"accept_privacy_statement"`
}

// Validate trims and checks an application.
func (in *ApplicationInput) Validate() error {
	var v Validation
	in.ContactName = strings.TrimSpace(in.ContactName)
	in.ContactEmail = strings.TrimSpace(in.ContactEmail)
	v.Check(in.ContactName != "", "contact_name", "is required")
	v.Check(len(in.ContactName) <= 200, "contact_name", "must be at most 200 characters")
	v.Line("contact_name", in.ContactName)
	v.Line("contact_email", in.ContactEmail)
	v.Check(ValidEmail(in.ContactEmail), "contact_email", "must be a valid email address")
	v.Check(in.AcceptPrivacyStatement != nil && *in.AcceptPrivacyStatement, "accept_privacy_statement", "must be true: the privacy statement has to be accepted")
	return v.Err()
}

// Decision is a manager's approval or rejection, or a customer's withdrawal.
type Decision struct {
	Note   string `json:"note"`
	Reason string `json:"reason"`
}

// Validate checks a decision that moves an application to status to: an
// approval may carry a note, a rejection must carry a reason, a withdrawal
// carries neither.
func (d *Decision) Validate(to ApplicationStatus) error {
	var v Validation
	switch to {
	case ApplicationApproved:
		v.Check(d.Reason == "", "reason", "is for rejections; use note")
	case ApplicationRejected:
		v.Check(strings.TrimSpace(d.Reason) != "", "reason", "is required: the customer is told why")
		v.Check(d.Note == "", "note", "is for approvals; use reason")
	default:
		v.Check(d.Reason == "", "reason", "is only for rejections")
		v.Check(d.Note == "", "note", "is only for approvals")
	}
	v.Check(len(d.Note) <= 2000, "note", "must be at most 2000 characters")
	v.Check(len(d.Reason) <= 2000, "reason", "must be at most 2000 characters")
	v.Text("note", d.Note)
	v.Text("reason", d.Reason)
	return v.Err()
}

// ApplicationFilter selects applications.
type ApplicationFilter struct {
	OrgID  string
	Status ApplicationStatus
	Page
}
