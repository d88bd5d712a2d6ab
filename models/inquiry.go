package models

import (
	"net/url"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// InquiryStatus is where an expert inquiry (Process B) stands.
type InquiryStatus string

const (
	InquirySubmitted        InquiryStatus = "submitted" // in the queue, unassigned
	InquiryInProgress       InquiryStatus = "in_progress"
	InquiryAwaitingCustomer InquiryStatus = "awaiting_customer" // SLA clock paused
	InquiryConcluded        InquiryStatus = "concluded"
	InquiryCancelled        InquiryStatus = "cancelled"
	InquiryClosedNoResponse InquiryStatus = "closed_no_response"
)

// Open reports whether the inquiry is still being worked.
func (s InquiryStatus) Open() bool {
	return s == InquirySubmitted || s == InquiryInProgress || s == InquiryAwaitingCustomer
}

// ValidInquiryStatus reports whether s is a status.
func ValidInquiryStatus(s string) bool {
	switch InquiryStatus(s) {
	case InquirySubmitted, InquiryInProgress, InquiryAwaitingCustomer, InquiryConcluded, InquiryCancelled, InquiryClosedNoResponse:
		return true
	}
	return false
}

// ReportCategory is the one category of a progress report.
type ReportCategory string

const (
	ReportMoreInfo  ReportCategory = "more_info_needed"
	ReportSamples   ReportCategory = "samples_needed"
	ReportMoreTime  ReportCategory = "more_time_needed"
	ReportConcluded ReportCategory = "concluded"
)

// Valid reports whether c is a category.
func (c ReportCategory) Valid() bool {
	switch c {
	case ReportMoreInfo, ReportSamples, ReportMoreTime, ReportConcluded:
		return true
	}
	return false
}

// Words is the category as the customer reads it.
func (c ReportCategory) Words() string {
	switch c {
	case ReportMoreInfo:
		return "More information is needed to continue the investigation"
	case ReportSamples:
		return "One or more file samples are needed for technical context"
	case ReportMoreTime:
		return "The investigation needs more time"
	case ReportConcluded:
		return "The investigation is concluded"
	}
	return string(c)
}

// AwaitsCustomer reports whether a report of this category pauses the SLA
// clock until the customer answers.
func (c ReportCategory) AwaitsCustomer() bool { return c == ReportMoreInfo || c == ReportSamples }

// TopicKind is what the investigation topic links to.
type TopicKind string

const (
	TopicIncident TopicKind = "incident"
	TopicAlert    TopicKind = "alert"
	TopicDevice   TopicKind = "device"
	TopicOther    TopicKind = "other"
)

// TopicGroup is one of the four groups of sample topics of the seeds.
type TopicGroup string

const (
	GroupAlertInformation         TopicGroup = "alert_information"
	GroupPossibleDeviceCompromise TopicGroup = "possible_device_compromise"
	GroupThreatIntelligence       TopicGroup = "threat_intelligence_details"
	GroupAlertCommunications      TopicGroup = "alert_communications"
)

// Valid reports whether g is a group.
func (g TopicGroup) Valid() bool {
	switch g {
	case GroupAlertInformation, GroupPossibleDeviceCompromise, GroupThreatIntelligence, GroupAlertCommunications:
		return true
	}
	return false
}

// ParseTopic derives the kind of a portal link and, for an alert or an
// incident link, its id: .../alerts/<id>, .../incidents/<id>, .../machines/<id> or
// .../devices/<id>. Anything else is "other".
func ParseTopic(u *url.URL) (TopicKind, string) {
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	for i, s := range segs {
		next := ""
		if i+1 < len(segs) {
			next = segs[i+1]
		}
		switch strings.ToLower(s) {
		case "alerts", "alert":
			return TopicAlert, next
		case "incidents", "incident":
			return TopicIncident, next
		case "machines", "machine", "devices", "device":
			return TopicDevice, ""
		}
	}
	return TopicOther, ""
}

// Inquiry is a customer's question to an expert (Process B). The row is the
// read model; ExpertInquiryWorkflow owns the process and its SLA clock.
type Inquiry struct {
	ID            string        `json:"id" gorm:"primaryKey"`
	OrgID         string        `json:"org_id"`
	SubmittedBy   string        `json:"submitted_by"`
	TopicURL      string        `json:"topic_url"`
	TopicKind     TopicKind     `json:"topic_kind"`
	TopicGroup    *TopicGroup   `json:"topic_group"`
	AlertID       *string       `json:"alert_id"`
	IncidentID    *string       `json:"incident_id"`
	Context       string        `json:"context"`
	ContactEmail  string        `json:"contact_email"`
	Subscription  Plan          `json:"subscription"` // trial or full, as at submission
	Status        InquiryStatus `json:"status"`
	AssigneeID    *string       `json:"assignee_id"`
	DueAt         *time.Time    `json:"progress_report_due_at"` // nil while paused or closed
	PausedAt      *time.Time    `json:"-"`
	Breached      bool          `json:"-"` // the current SLA period ran out
	BreachCount   int           `json:"breach_count"`
	Period        int           `json:"period"` // the SLA period: 1 at submission, +1 per answer or "more time needed"
	QueueKey      time.Time     `json:"-"`      // DueAt, or far future while paused: the queue's order
	FirstReportAt *time.Time    `json:"first_report_at"`
	ClosedAt      *time.Time    `json:"closed_at"`
	CreatedAt     time.Time     `json:"created_at"`
	UpdatedAt     time.Time     `json:"updated_at"`

	SLA       InquirySLA        `json:"sla" gorm:"-"`
	Reports   []InquiryReport   `json:"reports,omitempty" gorm:"-"`
	Responses []InquiryResponse `json:"responses,omitempty" gorm:"-"`
	Samples   []Sample          `json:"samples,omitempty" gorm:"-"`
	Timeline  []AuditEntry      `json:"timeline,omitempty" gorm:"-"`
	// The linked alert or incident of this deployment, as the expert needs
	// it to start: title, severity, sources, devices, evidence (detail only).
	Alert    *Alert    `json:"alert,omitempty" gorm:"-"`
	Incident *Incident `json:"incident,omitempty" gorm:"-"`
}

// InquirySLA is the progress-report clock as people read it.
type InquirySLA struct {
	DueAt    *time.Time `json:"due_at"`
	Paused   bool       `json:"paused"`
	Breached bool       `json:"breached"`
	TimeLeft *string    `json:"time_left"` // e.g. "31h12m0s"; negative once breached; nil while paused or closed
	Seconds  *int64     `json:"time_left_seconds"`
}

// FillSLA computes the SLA view at now.
func (q *Inquiry) FillSLA(now time.Time) {
	q.SLA = InquirySLA{DueAt: q.DueAt, Paused: q.Status == InquiryAwaitingCustomer, Breached: q.Breached}
	if q.DueAt != nil && q.Status.Open() {
		d := q.DueAt.Sub(now).Truncate(time.Second)
		s, n := d.String(), int64(d.Seconds())
		q.SLA.TimeLeft, q.SLA.Seconds = &s, &n
	}
}

// InquiryReport is an expert's progress report.
type InquiryReport struct {
	ID        string         `json:"id" gorm:"primaryKey"`
	InquiryID string         `json:"inquiry_id"`
	AuthorID  string         `json:"author_id"`
	Category  ReportCategory `json:"category"`
	Message   string         `json:"message"`
	CreatedAt time.Time      `json:"created_at"`
}

// InquiryResponse is the customer's answer to a report.
type InquiryResponse struct {
	ID        string    `json:"id" gorm:"primaryKey"`
	InquiryID string    `json:"inquiry_id"`
	AuthorID  string    `json:"author_id"`
	Message   string    `json:"message"`
	CreatedAt time.Time `json:"created_at"`
}

// Sample is an uploaded file: stored with its SHA-256, never executed, never
// served raw (experts get it inside a password-protected zip).
type Sample struct {
	ID         string    `json:"id" gorm:"primaryKey"`
	InquiryID  string    `json:"inquiry_id"`
	OrgID      string    `json:"-"`
	UploadedBy string    `json:"uploaded_by"`
	Filename   string    `json:"filename"`
	Size       int64     `json:"size"`
	SHA256     string    `json:"sha256" gorm:"column:sha256"`
	CreatedAt  time.Time `json:"created_at"`
}

// InquiryInput is a customer's question.
type InquiryInput struct {
	TopicURL     string      `json:"topic_url"`
	TopicGroup   *TopicGroup `json:"topic_group"`
	Context      string      `json:"context"`
	ContactEmail string      `json:"contact_email"`
	AlertID      *string     `json:"alert_id"`
	IncidentID   *string     `json:"incident_id"`
}

// Validate checks an inquiry and derives its topic kind, group, alert and
// incident.
func (in *InquiryInput) Validate() (TopicKind, error) {
	var v Validation
	in.TopicURL = strings.TrimSpace(in.TopicURL)
	in.ContactEmail = strings.TrimSpace(in.ContactEmail)
	u, err := url.Parse(in.TopicURL)
	okURL := err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && len(in.TopicURL) <= 2000
	v.Line("topic_url", in.TopicURL)
	v.Check(okURL, "topic_url", "must be an absolute http(s) link to the incident, alert or device page")
	v.Text("context", in.Context)
	n := utf8.RuneCountInString(strings.TrimSpace(in.Context))
	v.Check(n >= 20 && n <= 10000, "context", "must be 20 to 10,000 characters: enough for an expert to start")
	v.Line("contact_email", in.ContactEmail)
	v.Check(ValidEmail(in.ContactEmail), "contact_email", "must be a real mailbox address")
	if in.TopicGroup != nil {
		v.Check(in.TopicGroup.Valid(), "topic_group", "must be one of alert_information, possible_device_compromise, threat_intelligence_details, alert_communications")
	}
	if in.AlertID != nil {
		v.Line("alert_id", *in.AlertID)
		v.Check(*in.AlertID != "" && len(*in.AlertID) <= 200, "alert_id", "must be an alert id")
	}
	if in.IncidentID != nil {
		v.Line("incident_id", *in.IncidentID)
		v.Check(*in.IncidentID != "" && len(*in.IncidentID) <= 200, "incident_id", "must be an incident id")
	}
	if err := v.Err(); err != nil {
		return "", err
	}
	kind, ref := ParseTopic(u)
	if ref != "" && (!OneLine(ref) || len(ref) > 200) { // e.g. .../alerts/%00: decoded, a NUL
		v.Check(false, "topic_url", "names an alert or incident id that is not one line of at most 200 characters")
		return "", v.Err()
	}
	switch {
	case kind == TopicAlert && in.AlertID == nil && ref != "":
		in.AlertID = &ref
	case kind == TopicIncident && in.IncidentID == nil && ref != "":
		in.IncidentID = &ref
	}
	if in.TopicGroup == nil {
		var g TopicGroup
		switch {
		case kind == TopicAlert, kind == TopicIncident, in.AlertID != nil, in.IncidentID != nil:
			g = GroupAlertInformation
		case kind == TopicDevice:
			g = GroupPossibleDeviceCompromise
		}
		if g != "" {
			in.TopicGroup = &g
		}
	}
	return kind, nil
}

// InquiryFilter selects inquiries for lists and the expert queue.
type InquiryFilter struct {
	OrgID      string
	Status     InquiryStatus
	AssigneeID string // a user id
	Unassigned bool
	Breached   *bool
	TopicGroup TopicGroup
	// AlertSeverity keeps inquiries about an alert of this severity (or an
	// incident whose highest severity it is).
	AlertSeverity Severity
	OpenOnly      bool // the queue: open inquiries, ordered by SLA due time
	Page
}

// CleanFilename keeps a sample's display name: no directories, no control
// characters or quotes (it ends up in headers and zip entries), no bidi
// controls (which make "invoice\u202Efdp.exe" display as "invoiceexe.pdf"),
// valid UTF-8 (invalid bytes become U+FFFD) and at most 255 bytes, cut
// between characters.
func CleanFilename(name string) string {
	name = path.Base(strings.ReplaceAll(strings.ToValidUTF8(name, "\uFFFD"), "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '"' || bidiControl(r) {
			return -1
		}
		return r
	}, name)
	if name == "." || name == "/" || name == ".." {
		return ""
	}
	return cutUTF8(name, 255)
}

// AssignInput gives an inquiry to an expert or a manager.
type AssignInput struct {
	UserID string `json:"user_id"`
}

// Validate checks an assignment; whether the user is staff is the service's to check.
func (in *AssignInput) Validate() error {
	var v Validation
	in.UserID = strings.TrimSpace(in.UserID)
	v.Check(in.UserID != "", "user_id", "is required")
	v.Line("user_id", in.UserID)
	return v.Err()
}

// ReportInput is an expert's progress report.
type ReportInput struct {
	Category ReportCategory `json:"category"`
	Message  string         `json:"message"`
}

// Validate checks a report.
func (in *ReportInput) Validate() error {
	var v Validation
	v.Check(in.Category.Valid(), "category", "must be one of more_info_needed, samples_needed, more_time_needed, concluded")
	checkMessage(&v, "message", in.Message)
	return v.Err()
}

// ResponseInput is the customer's answer to a report.
type ResponseInput struct {
	Message string `json:"message"`
}

// Validate checks a response.
func (in *ResponseInput) Validate() error {
	var v Validation
	checkMessage(&v, "message", in.Message)
	return v.Err()
}

func checkMessage(v *Validation, field, s string) {
	v.Text(field, s)
	n := utf8.RuneCountInString(strings.TrimSpace(s))
	v.Check(n >= 1 && n <= 10000, field, "must be 1 to 10,000 characters")
}
