package models

import (
	"net/mail"
	"strings"
	"time"
)

// Role is what a user may do. Customers act within their own org; experts and
// managers belong to the provider org and work across every org.
type Role string

const (
	RoleCustomerViewer Role = "customer_viewer"
	RoleCustomerAdmin  Role = "customer_admin"
	RoleExpert         Role = "expert"
	RoleManager        Role = "manager"
)

// Roles lists every role, in order of increasing power.
var Roles = []Role{RoleCustomerViewer, RoleCustomerAdmin, RoleExpert, RoleManager}

// Valid reports whether r is one of the four roles.
func (r Role) Valid() bool {
	switch r {
	case RoleCustomerViewer, RoleCustomerAdmin, RoleExpert, RoleManager:
		return true
	}
	return false
}

// Staff reports whether r is a provider role (expert or manager).
func (r Role) Staff() bool { return r == RoleExpert || r == RoleManager }

// Principal is the authenticated caller of a request.
type Principal struct {
	UserID string
	OrgID  string
	Email  string
	Role   Role
}

// Scope is the org a principal's queries are confined to: its own org for a
// customer, "" (every org) for staff. Every customer-facing query applies it.
func (p Principal) Scope() string {
	if p.Role.Staff() {
		return ""
	}
	return p.OrgID
}

// OrgKind tells the provider org apart from customer orgs.
type OrgKind string

const (
	OrgProvider OrgKind = "provider"
	OrgCustomer OrgKind = "customer"
)

// Plan is an org's Experts-on-Demand subscription plan.
type Plan string

const (
	PlanNone  Plan = "none"
	PlanTrial Plan = "trial"
	PlanFull  Plan = "full"
)

// FeatureState is the eligibility state of Endpoint attack notifications.
type FeatureState string

const (
	FeatureNotApplied FeatureState = "not_applied"
	FeatureApplied    FeatureState = "applied"
	FeatureApproved   FeatureState = "approved"
	FeatureRejected   FeatureState = "rejected"
)

// Org is a customer organisation, or the provider itself.
type Org struct {
	ID               string       `json:"id" gorm:"primaryKey"`
	Name             string       `json:"name"`
	Kind             OrgKind      `json:"kind"`
	DevicesEnrolled  int          `json:"devices_enrolled"`
	Plan             Plan         `json:"-"`
	TrialEndsAt      *time.Time   `json:"-"`
	TrialAllowance   int          `json:"-"`
	EANState         FeatureState `json:"-" gorm:"column:ean_state"`
	EANVisible       bool         `json:"-" gorm:"column:ean_visible"`
	EANEnabled       bool         `json:"-" gorm:"column:ean_enabled"`
	EANApplicationID *string      `json:"-" gorm:"column:ean_application_id"`
	CreatedAt        time.Time    `json:"created_at"`
	UpdatedAt        time.Time    `json:"updated_at"`
}

// Subscription is the Experts-on-Demand part of an org as the API shows it.
type Subscription struct {
	Plan           Plan       `json:"plan"`
	TrialEndsAt    *time.Time `json:"trial_ends_at,omitempty"`
	TrialAllowance *int       `json:"trial_allowance,omitempty"`
}

// Subscription returns the org's subscription view.
func (o *Org) Subscription() Subscription {
	s := Subscription{Plan: o.Plan}
	if o.Plan == PlanTrial {
		s.TrialEndsAt = o.TrialEndsAt
		n := o.TrialAllowance
		s.TrialAllowance = &n
	}
	return s
}

// EndpointAttackNotifications is the advanced feature's state and toggle.
type EndpointAttackNotifications struct {
	State         FeatureState `json:"state"`
	Visible       bool         `json:"visible"`
	Enabled       bool         `json:"enabled"`
	ApplicationID *string      `json:"application_id"`
}

// EAN returns the org's Endpoint attack notifications feature view.
func (o *Org) EAN() EndpointAttackNotifications {
	return EndpointAttackNotifications{State: o.EANState, Visible: o.EANVisible, Enabled: o.EANEnabled, ApplicationID: o.EANApplicationID}
}

// OrgInput creates or changes an org; nil fields are left as they are.
type OrgInput struct {
	Name            *string       `json:"name"`
	DevicesEnrolled *int          `json:"devices_enrolled"`
	Subscription    *Subscription `json:"subscription"`
}

// Validate checks an OrgInput; creating requires a name.
func (in OrgInput) Validate(create bool) error {
	var v Validation
	if create || in.Name != nil {
		name := ""
		if in.Name != nil {
			name = strings.TrimSpace(*in.Name)
		}
		v.Check(name != "", "name", "is required")
		v.Check(len(name) <= 200, "name", "must be at most 200 characters")
		v.Line("name", name)
	}
	if in.DevicesEnrolled != nil {
		v.Check(*in.DevicesEnrolled >= 0, "devices_enrolled", "must not be negative")
	}
	if s := in.Subscription; s != nil {
		switch s.Plan {
		case PlanNone, PlanFull:
			v.Check(s.TrialEndsAt == nil, "subscription.trial_ends_at", "is only for a trial")
			v.Check(s.TrialAllowance == nil, "subscription.trial_allowance", "is only for a trial")
		case PlanTrial:
			v.Check(s.TrialEndsAt != nil, "subscription.trial_ends_at", "is required for a trial")
			v.Check(s.TrialAllowance != nil && *s.TrialAllowance > 0, "subscription.trial_allowance", "must be a positive number of inquiries")
		default:
			v.Check(false, "subscription.plan", "must be one of none, trial, full")
		}
	}
	return v.Err()
}

// User is a person who signs in with API tokens.
type User struct {
	ID        string    `json:"id" gorm:"primaryKey"`
	OrgID     string    `json:"org_id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Notifications are the "work arrived" emails the user gets (staff).
	Notifications NotificationPrefs `json:"notifications" gorm:"column:notification_prefs;serializer:json"`
}

// NotificationPrefs switches the emails that tell experts work arrived; a
// nil switch is on.
type NotificationPrefs struct {
	Queued           *bool `json:"queued,omitempty"`            // an inquiry entered the queue (every expert)
	Assigned         *bool `json:"assigned,omitempty"`          // a manager assigned an inquiry to you
	CustomerActivity *bool `json:"customer_activity,omitempty"` // the customer answered or uploaded a sample
	Cancelled        *bool `json:"cancelled,omitempty"`         // the customer cancelled your inquiry
}

// Wants reports whether the prefs let an email of kind through (kinds other
// than the four switches always go).
func (n NotificationPrefs) Wants(kind string) bool {
	sw := map[string]*bool{"queued": n.Queued, "assigned": n.Assigned, "response": n.CustomerActivity, "sample": n.CustomerActivity,
		"cancelled_assignee": n.Cancelled}[kind]
	return sw == nil || *sw
}

// MePatch is what a user may change of themself.
type MePatch struct {
	Notifications *NotificationPrefs `json:"notifications"`
}

// Validate checks the patch.
func (p *MePatch) Validate() error {
	var v Validation
	v.Check(p.Notifications != nil, "notifications", "is required")
	return v.Err()
}

// UserInput creates a user.
type UserInput struct {
	OrgID string `json:"org_id"`
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  Role   `json:"role"`
}

// UserPatch changes a user; nil fields are left as they are.
type UserPatch struct {
	Name     *string `json:"name"`
	Role     *Role   `json:"role"`
	Disabled *bool   `json:"disabled"`
}

// Validate checks a UserInput on its own; the org's kind is checked by the store.
func (in *UserInput) Validate() error {
	var v Validation
	v.Line("email", in.Email) // before lower-casing, which would mend bad UTF-8
	in.Email = strings.ToLower(strings.TrimSpace(in.Email))
	in.Name = strings.TrimSpace(in.Name)
	v.Check(in.OrgID != "", "org_id", "is required")
	v.Line("org_id", in.OrgID)
	v.Check(ValidEmail(in.Email), "email", "must be a valid email address")
	v.Check(in.Name != "", "name", "is required")
	v.Check(len(in.Name) <= 200, "name", "must be at most 200 characters")
	v.Line("name", in.Name)
	v.Check(in.Role.Valid(), "role", "must be one of customer_viewer, customer_admin, expert, manager")
	return v.Err()
}

// Validate trims and checks a UserPatch.
func (p *UserPatch) Validate() error {
	var v Validation
	if p.Name != nil {
		*p.Name = strings.TrimSpace(*p.Name)
		v.Check(*p.Name != "" && len(*p.Name) <= 200, "name", "must be 1 to 200 characters")
		v.Line("name", *p.Name)
	}
	if p.Role != nil {
		v.Check(p.Role.Valid(), "role", "must be one of customer_viewer, customer_admin, expert, manager")
	}
	return v.Err()
}

// RoleFitsOrg reports whether role may belong to an org of kind k: staff roles
// live in the provider org, customer roles in customer orgs.
func RoleFitsOrg(r Role, k OrgKind) bool {
	return r.Staff() == (k == OrgProvider)
}

// Token is an API token. Its secret is shown once at creation; only its
// SHA-256 is stored.
type Token struct {
	ID         string     `json:"id" gorm:"primaryKey"`
	UserID     string     `json:"user_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Hash       string     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// TokenInput creates a token.
type TokenInput struct {
	Name      string     `json:"name"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// Validate trims and checks a TokenInput's text; the expiry is checked
// against the store's clock.
func (in *TokenInput) Validate() error {
	var v Validation
	in.Name = strings.TrimSpace(in.Name)
	v.Check(in.Name != "" && len(in.Name) <= 100, "name", "must be 1 to 100 characters")
	v.Line("name", in.Name)
	return v.Err()
}

// ValidEmail reports whether s is one bare mailbox address (no display name,
// no header-injection characters).
func ValidEmail(s string) bool {
	if s == "" || len(s) > 254 || strings.ContainsAny(s, "\r\n<>, ") {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == "" && strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".")
}

// System is the principal of changes made by timers and workers.
var System = Principal{UserID: SystemActor, Role: "system"}
