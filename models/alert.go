package models

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Process C: endpoint attack notifications. An expert raises an alert for an
// org whose feature is approved and enabled; every alert belongs to one
// incident of its org; the org's notification rules decide who is emailed.

// Severity is an alert's severity, ordered informational < low < medium < high.
type Severity string

const (
	SeverityInformational Severity = "informational"
	SeverityLow           Severity = "low"
	SeverityMedium        Severity = "medium"
	SeverityHigh          Severity = "high"
)

// Severities lists every severity in ascending order.
var Severities = []string{string(SeverityInformational), string(SeverityLow), string(SeverityMedium), string(SeverityHigh)}

// Rank orders severities (informational 0 … high 3); -1 for an unknown one.
func (s Severity) Rank() int {
	for i, v := range Severities {
		if v == string(s) {
			return i
		}
	}
	return -1
}

// Valid reports whether s is one of the four severities.
func (s Severity) Valid() bool { return s.Rank() >= 0 }

// AlertStatus is where an alert stands in the customer's queue.
type AlertStatus string

const (
	AlertNew        AlertStatus = "new"
	AlertInProgress AlertStatus = "in_progress"
	AlertResolved   AlertStatus = "resolved"
)

// AlertStatuses lists the alert statuses.
var AlertStatuses = []string{string(AlertNew), string(AlertInProgress), string(AlertResolved)}

// IncidentStatus is where an incident stands.
type IncidentStatus string

const (
	IncidentActive     IncidentStatus = "active"
	IncidentInProgress IncidentStatus = "in_progress"
	IncidentResolved   IncidentStatus = "resolved"
)

// IncidentStatuses lists the incident statuses.
var IncidentStatuses = []string{string(IncidentActive), string(IncidentInProgress), string(IncidentResolved)}

// Classification is the customer's verdict on an alert or incident.
type Classification string

// Classifications lists the verdicts.
var Classifications = []string{"true_positive", "informational_expected_activity", "false_positive"}

// Determinations are the values a determination may take under each
// classification, as Defender pairs them.
var Determinations = map[string][]string{
	"true_positive":                   {"multi_staged_attack", "malicious_user_activity", "compromised_account", "malware", "phishing", "unwanted_software", "other"},
	"informational_expected_activity": {"security_testing", "line_of_business_application", "confirmed_activity", "other"},
	"false_positive":                  {"not_malicious", "not_enough_data_to_validate", "other"},
}

// The sources and the tag of an expert's attack notification, as Defender
// shows them.
const (
	TagEndpointAttackNotification = "Endpoint Attack Notification"
	SourceDefenderForEndpoint     = "Microsoft Defender for Endpoint"
	SourceDefenderExperts         = "Microsoft Defender Experts"
)

// Ids of this deployment's alerts and incidents carry these prefixes; an
// inquiry's alert or incident id without one is a reference to another
// system's (e.g. a Defender portal link), kept as given.
const (
	AlertIDPrefix    = "alr_"
	IncidentIDPrefix = "inc_"
)

// ECUSTOMTI refuses an inquiry about what the org's own custom threat
// intelligence detected (422).
const ECUSTOMTI = "custom_threat_intelligence"

// Alert is one alert in an org's queue.
type Alert struct {
	ID                 string      `json:"id" gorm:"primaryKey"`
	OrgID              string      `json:"org_id"`
	IncidentID         string      `json:"incident_id"`
	ExternalID         *string     `json:"external_id"` // the org's own alerts: the id in their source
	Title              string      `json:"title"`
	Description        string      `json:"description"`
	Severity           Severity    `json:"severity"`
	Status             AlertStatus `json:"status"`
	Category           string      `json:"category"`
	Classification     *string     `json:"classification"`
	Determination      *string     `json:"determination"`
	AssignedTo         *string     `json:"assigned_to"`
	ServiceSource      string      `json:"service_source"`
	DetectionSource    string      `json:"detection_source"`
	RecommendedActions string      `json:"recommended_actions"`
	RaisedBy           string      `json:"raised_by"`
	CreatedAt          time.Time   `json:"created_at"`
	UpdatedAt          time.Time   `json:"updated_at"`
	ResolvedAt         *time.Time  `json:"resolved_at"`

	Tags      []string      `json:"tags" gorm:"-"`
	Devices   []AlertDevice `json:"devices" gorm:"-"`
	Evidence  []Evidence    `json:"evidence" gorm:"-"`
	Incident  *Incident     `json:"incident,omitempty" gorm:"-"`  // the detail view only
	Inquiries []InquiryRef  `json:"inquiries,omitempty" gorm:"-"` // the detail view only
}

// AlertDevice is a device an alert affects.
type AlertDevice struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// InquiryRef is an inquiry asked about an alert, as the alert shows it.
type InquiryRef struct {
	ID        string        `json:"id"`
	Status    InquiryStatus `json:"status"`
	CreatedAt time.Time     `json:"created_at"`
}

// Incident groups an org's related alerts.
type Incident struct {
	ID             string         `json:"id" gorm:"primaryKey"`
	OrgID          string         `json:"org_id"`
	ExternalID     *string        `json:"external_id"`
	Title          string         `json:"title"` // the first alert's
	Status         IncidentStatus `json:"status"`
	Severity       Severity       `json:"severity"` // the highest of its alerts
	Classification *string        `json:"classification"`
	Determination  *string        `json:"determination"`
	AssignedTo     *string        `json:"assigned_to"`
	AlertCount     int            `json:"alert_count"`
	ResolvedAlerts int            `json:"resolved_alert_count"`
	CreatedAt      time.Time      `json:"created_at"`
	UpdatedAt      time.Time      `json:"updated_at"`

	// AllAlertsResolved shows that every alert of the incident is resolved,
	// whatever the incident's own status says.
	AllAlertsResolved bool          `json:"all_alerts_resolved" gorm:"-"`
	Devices           []AlertDevice `json:"devices" gorm:"-"`
	Alerts            []Alert       `json:"alerts,omitempty" gorm:"-"`    // the detail view only
	Inquiries         []InquiryRef  `json:"inquiries,omitempty" gorm:"-"` // the detail view only
}

// Fill derives the incident's computed fields.
func (i *Incident) Fill() {
	i.AllAlertsResolved = i.AlertCount > 0 && i.ResolvedAlerts == i.AlertCount
	if i.Devices == nil {
		i.Devices = []AlertDevice{}
	}
}

// AlertInput is an expert's attack notification.
type AlertInput struct {
	OrgID              string        `json:"org_id"`
	Title              string        `json:"title"`
	Description        string        `json:"description"`
	Severity           Severity      `json:"severity"`
	Category           string        `json:"category"`
	Devices            []AlertDevice `json:"devices"`
	RecommendedActions string        `json:"recommended_actions"`
	IncidentID         *string       `json:"incident_id"`
}

// Limits of an alert's parts.
const (
	MaxAlertDevices = 1000
	maxLongText     = 20000
)

// Validate checks an attack notification.
func (in *AlertInput) Validate() error {
	var v Validation
	in.Title, in.Category = strings.TrimSpace(in.Title), strings.TrimSpace(in.Category)
	v.Check(in.OrgID != "", "org_id", "is required")
	v.Line("org_id", in.OrgID)
	v.Check(in.Title != "" && utf8.RuneCountInString(in.Title) <= 500, "title", "must be 1 to 500 characters")
	v.Line("title", in.Title)
	v.Check(utf8.RuneCountInString(in.Description) <= maxLongText, "description", "must be at most 20,000 characters")
	v.Text("description", in.Description)
	v.Check(in.Severity.Valid(), "severity", "must be one of informational, low, medium, high")
	v.Check(in.Category != "" && utf8.RuneCountInString(in.Category) <= 100, "category", "must be 1 to 100 characters")
	v.Line("category", in.Category)
	v.Check(utf8.RuneCountInString(in.RecommendedActions) <= maxLongText, "recommended_actions", "must be at most 20,000 characters")
	v.Text("recommended_actions", in.RecommendedActions)
	if in.IncidentID != nil {
		v.Check(*in.IncidentID != "" && len(*in.IncidentID) <= 100, "incident_id", "must be an incident id")
		v.Line("incident_id", *in.IncidentID)
	}
	v.Check(len(in.Devices) >= 1, "devices", "must list 1 to 1,000 affected devices")
	checkDevices(&v, in.Devices)
	return v.Err()
}

// checkDevices trims and checks an alert's devices: at most 1,000, each with
// a one-line id and name, no id twice.
func checkDevices(v *Validation, devices []AlertDevice) {
	v.Check(len(devices) <= MaxAlertDevices, "devices", "must list at most 1,000 devices")
	seen := map[string]bool{}
	for i := range devices {
		d := &devices[i]
		d.ID, d.Name = strings.TrimSpace(d.ID), strings.TrimSpace(d.Name)
		ok := d.ID != "" && len(d.ID) <= 200 && OneLine(d.ID) && d.Name != "" && utf8.RuneCountInString(d.Name) <= 255 && OneLine(d.Name)
		v.Check(ok, "devices", "each device needs an id (up to 200 characters) and a name (up to 255), each one line")
		v.Check(!seen[d.ID], "devices", "a device is listed twice: "+clip(d.ID, 60))
		seen[d.ID] = true
	}
}

// AlertPatch changes what a customer (or an expert) may change of an alert
// or an incident; nil fields stay as they are, "" clears classification,
// determination and assignee.
type AlertPatch struct {
	Status         *string `json:"status"`
	Classification *string `json:"classification"`
	Determination  *string `json:"determination"`
	AssignedTo     *string `json:"assigned_to"`
}

// Validate checks the patch on its own; statuses is the resource's list.
func (p *AlertPatch) Validate(statuses []string) error {
	var v Validation
	v.Check(p.Status != nil || p.Classification != nil || p.Determination != nil || p.AssignedTo != nil, "body", "names nothing to change")
	if p.Status != nil {
		v.Check(oneOf(*p.Status, statuses), "status", "must be one of "+strings.Join(statuses, ", "))
	}
	if p.Classification != nil && *p.Classification != "" {
		v.Check(oneOf(*p.Classification, Classifications), "classification", "must be one of "+strings.Join(Classifications, ", "))
	}
	if p.Determination != nil && *p.Determination != "" {
		v.Check(anyDetermination(*p.Determination), "determination", "is not a determination")
	}
	if p.AssignedTo != nil && *p.AssignedTo != "" {
		*p.AssignedTo = strings.TrimSpace(*p.AssignedTo)
		v.Check(ValidEmail(*p.AssignedTo), "assigned_to", "must be the assignee's email address, or empty to unassign")
	}
	return v.Err()
}

// CheckDetermination checks that a determination fits the classification it
// will stand under (Defender's pairs); an empty determination always fits.
func CheckDetermination(classification, determination *string) error {
	if determination == nil || *determination == "" {
		return nil
	}
	if classification == nil || *classification == "" {
		return &Error{Code: EINVALID, Message: "request is invalid", Fields: map[string]string{"determination": "needs a classification"}}
	}
	if !oneOf(*determination, Determinations[*classification]) {
		return &Error{Code: EINVALID, Message: "request is invalid", Fields: map[string]string{
			"determination": "under " + *classification + " must be one of " + strings.Join(Determinations[*classification], ", ")}}
	}
	return nil
}

func anyDetermination(d string) bool {
	for _, c := range Classifications {
		if oneOf(d, Determinations[c]) {
			return true
		}
	}
	return false
}

func oneOf(s string, list []string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// CountedList is a page of a list that also answers OData's $count=true
// with the number of every item the filter matches.
type CountedList[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
	Count      *int64 `json:"count,omitempty"`
}

// HuntingRow is one row of the DeviceAlertEvents-style table: one alert on
// one device.
type HuntingRow struct {
	Timestamp       time.Time `json:"Timestamp"`
	AlertID         string    `json:"AlertId"`
	Title           string    `json:"Title"`
	Severity        Severity  `json:"Severity"`
	Category        string    `json:"Category"`
	DeviceID        string    `json:"DeviceId"`
	DeviceName      string    `json:"DeviceName"`
	ServiceSource   string    `json:"ServiceSource"`
	DetectionSource string    `json:"DetectionSource"`
	IncidentID      string    `json:"IncidentId"`
}

// HuntingFilter selects hunting rows.
type HuntingFilter struct {
	OrgID    string
	DeviceID string
	From, To *time.Time
	Page
}

// NotificationRule decides who is emailed when an org gets a new alert.
type NotificationRule struct {
	ID                   string    `json:"id" gorm:"primaryKey"`
	OrgID                string    `json:"org_id"`
	Name                 string    `json:"name"`
	Recipients           []string  `json:"recipients" gorm:"serializer:json"`
	MinSeverity          Severity  `json:"min_severity"`
	ServiceSources       []string  `json:"service_sources" gorm:"serializer:json"` // empty: every source
	IncludeDeviceDetails bool      `json:"include_device_details"`
	Enabled              bool      `json:"enabled"`
	CreatedBy            string    `json:"created_by"`
	CreatedAt            time.Time `json:"created_at"`
	UpdatedAt            time.Time `json:"updated_at"`
}

// Matches reports whether a rule emails about alert a.
func (r *NotificationRule) Matches(a *Alert) bool {
	if !r.Enabled || a.Severity.Rank() < r.MinSeverity.Rank() {
		return false
	}
	return len(r.ServiceSources) == 0 || oneOf(a.ServiceSource, r.ServiceSources)
}

// RuleInput creates or replaces a notification rule (PUT replaces it whole).
type RuleInput struct {
	Name                 string   `json:"name"`
	Recipients           []string `json:"recipients"`
	MinSeverity          Severity `json:"min_severity"`
	ServiceSources       []string `json:"service_sources"`
	IncludeDeviceDetails bool     `json:"include_device_details"`
	Enabled              *bool    `json:"enabled"` // default true
}

// MaxRecipients bounds a rule's recipients.
const MaxRecipients = 50

// Validate checks a rule and normalises its lists.
func (in *RuleInput) Validate() error {
	var v Validation
	in.Name = strings.TrimSpace(in.Name)
	v.Check(in.Name != "" && utf8.RuneCountInString(in.Name) <= 200, "name", "must be 1 to 200 characters")
	v.Line("name", in.Name)
	v.Check(len(in.Recipients) >= 1 && len(in.Recipients) <= MaxRecipients, "recipients", "must list 1 to 50 email addresses")
	seen := map[string]bool{}
	out := make([]string, 0, len(in.Recipients))
	for _, r := range in.Recipients {
		r = strings.TrimSpace(r)
		v.Check(ValidEmail(r) && OneLine(r), "recipients", "must all be valid email addresses: "+clip(r, 80)+" is not")
		if k := strings.ToLower(r); !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	in.Recipients = out
	v.Check(in.MinSeverity.Valid(), "min_severity", "must be one of informational, low, medium, high")
	v.Check(len(in.ServiceSources) <= 20, "service_sources", "must list at most 20 sources")
	for _, s := range in.ServiceSources {
		v.Check(s != "" && utf8.RuneCountInString(s) <= 100 && OneLine(s), "service_sources", "each source must be 1 to 100 characters, one line")
	}
	if in.ServiceSources == nil {
		in.ServiceSources = []string{}
	}
	return v.Err()
}
