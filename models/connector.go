package models

import (
	"strings"
	"time"
	"unicode/utf8"
)

// RoleConnector is the role of a connector credential: it may call the
// ingest route for its own org and nothing else. It is no user's role (not
// in Roles, not Valid for users).
const RoleConnector Role = "connector"

// Connector is an org's credential for pushing its own endpoint alerts.
type Connector struct {
	ID         string     `json:"id" gorm:"primaryKey"`
	OrgID      string     `json:"org_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Hash       string     `json:"-"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// ConnectorInput creates a connector; staff name the org.
type ConnectorInput struct {
	Name  string `json:"name"`
	OrgID string `json:"org_id"`
}

// Validate checks a connector's name.
func (in *ConnectorInput) Validate() error {
	var v Validation
	in.Name = strings.TrimSpace(in.Name)
	v.Check(in.Name != "" && utf8.RuneCountInString(in.Name) <= 100, "name", "must be 1 to 100 characters")
	v.Line("name", in.Name)
	v.Line("org_id", in.OrgID)
	return v.Err()
}

// Evidence is one piece of an alert's evidence: a command line, a file
// hash, a process, a URL, an IP address, a file path or a user.
type Evidence struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// EvidenceKinds lists the kinds of evidence.
var EvidenceKinds = []string{"command_line", "file_hash", "file_path", "process", "url", "ip", "user", "registry_key", "other"}

// IngestAlert is one of an org's own alerts as its connector sends it.
type IngestAlert struct {
	ExternalID         string        `json:"external_id"`
	Title              string        `json:"title"`
	Description        string        `json:"description"`
	Severity           Severity      `json:"severity"`
	Category           string        `json:"category"`
	Status             AlertStatus   `json:"status"`     // default new
	CreatedAt          *time.Time    `json:"created_at"` // default: when it arrives
	Devices            []AlertDevice `json:"devices"`
	ServiceSource      string        `json:"service_source"` // default Microsoft Defender for Endpoint
	DetectionSource    string        `json:"detection_source"`
	Evidence           []Evidence    `json:"evidence"`
	IncidentExternalID *string       `json:"incident_external_id"`
	Tags               []string      `json:"tags"`
}

// Limits of an ingest batch.
const (
	MaxIngestBatch    = 1000
	MaxIngestEvidence = 100
	MaxIngestBytes    = 10 << 20
)

// SourceCustomTI is the detection source of an org's own custom threat
// intelligence: experts do not answer inquiries about what it detected.
const SourceCustomTI = "Custom threat intelligence"

// Validate checks one ingested alert and fills its defaults; now is the
// arrival time.
func (in *IngestAlert) Validate(now time.Time) error {
	var v Validation
	in.ExternalID, in.Title, in.Category = strings.TrimSpace(in.ExternalID), strings.TrimSpace(in.Title), strings.TrimSpace(in.Category)
	in.DetectionSource, in.ServiceSource = strings.TrimSpace(in.DetectionSource), strings.TrimSpace(in.ServiceSource)
	v.Check(in.ExternalID != "" && len(in.ExternalID) <= 200, "external_id", "must be 1 to 200 characters")
	v.Line("external_id", in.ExternalID)
	v.Check(in.Title != "" && utf8.RuneCountInString(in.Title) <= 500, "title", "must be 1 to 500 characters")
	v.Line("title", in.Title)
	v.Check(utf8.RuneCountInString(in.Description) <= maxLongText, "description", "must be at most 20,000 characters")
	v.Text("description", in.Description)
	v.Check(in.Severity.Valid(), "severity", "must be one of informational, low, medium, high")
	v.Check(in.Category != "" && utf8.RuneCountInString(in.Category) <= 100, "category", "must be 1 to 100 characters")
	v.Line("category", in.Category)
	if in.Status == "" {
		in.Status = AlertNew
	}
	v.Check(oneOf(string(in.Status), AlertStatuses), "status", "must be one of new, in_progress, resolved")
	if in.ServiceSource == "" {
		in.ServiceSource = SourceDefenderForEndpoint
	}
	v.Check(utf8.RuneCountInString(in.ServiceSource) <= 100, "service_source", "must be at most 100 characters")
	v.Line("service_source", in.ServiceSource)
	v.Check(in.DetectionSource != "" && utf8.RuneCountInString(in.DetectionSource) <= 100, "detection_source", "must be 1 to 100 characters, e.g. EDR, Antivirus, Custom threat intelligence")
	v.Line("detection_source", in.DetectionSource)
	if in.CreatedAt == nil {
		t := now
		in.CreatedAt = &t
	} else {
		t := in.CreatedAt.UTC().Truncate(time.Microsecond)
		in.CreatedAt = &t
		v.Check(!t.After(now.Add(time.Hour)) && t.Year() >= 2000, "created_at", "must not be in the future")
	}
	checkDevices(&v, in.Devices)
	v.Check(len(in.Evidence) <= MaxIngestEvidence, "evidence", "must hold at most 100 items")
	for _, e := range in.Evidence {
		v.Check(oneOf(e.Kind, EvidenceKinds), "evidence", "each kind must be one of "+strings.Join(EvidenceKinds, ", "))
		v.Check(e.Value != "" && len(e.Value) <= 4096, "evidence", "each value must be 1 to 4,096 bytes")
		v.Text("evidence", e.Value)
	}
	if in.IncidentExternalID != nil {
		s := strings.TrimSpace(*in.IncidentExternalID)
		in.IncidentExternalID = &s
		v.Check(s != "" && len(s) <= 200, "incident_external_id", "must be 1 to 200 characters")
		v.Line("incident_external_id", s)
	}
	v.Check(len(in.Tags) <= 20, "tags", "must hold at most 20 tags")
	for _, t := range in.Tags {
		v.Check(t != "" && utf8.RuneCountInString(t) <= 100 && OneLine(t), "tags", "each tag must be 1 to 100 characters, one line")
	}
	return v.Err()
}

// IngestBatch is what a connector posts.
type IngestBatch struct {
	Alerts []IngestAlert `json:"alerts"`
}

// IngestResult counts what a batch did; Errors lists each rejected item.
type IngestResult struct {
	Created  int           `json:"created"`
	Updated  int           `json:"updated"`
	Rejected int           `json:"rejected"`
	Errors   []IngestError `json:"errors"`
}

// IngestError is why one item of a batch was rejected.
type IngestError struct {
	Index      int               `json:"index"`
	ExternalID string            `json:"external_id"`
	Fields     map[string]string `json:"fields"`
}
