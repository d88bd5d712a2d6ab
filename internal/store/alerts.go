package store

import (
	"context"
	"sort"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/huntdesk/huntdesk/internal/odata"
	"github.com/huntdesk/huntdesk/models"
)

// AlertSchema is what $filter and $orderby may name on /alerts: the JSON
// field names, and Defender's names as aliases so a query written for the
// Defender alerts API works unchanged.
var AlertSchema = odata.NewSchema(
	odata.Field{Name: "id", Aliases: []string{"alertId"}, Type: odata.String, Column: "alerts.id"},
	odata.Field{Name: "org_id", Aliases: []string{"tenantId"}, Type: odata.String, Column: "alerts.org_id"},
	odata.Field{Name: "incident_id", Aliases: []string{"incidentId"}, Type: odata.String, Column: "alerts.incident_id"},
	odata.Field{Name: "title", Type: odata.String, Column: "alerts.title"},
	odata.Field{Name: "category", Type: odata.String, Column: "alerts.category"},
	odata.Field{Name: "severity", Type: odata.Enum, Column: "alerts.severity", Values: models.Severities,
		Ranked: true, RankSQL: "alerts.severity_rank", Sortable: true},
	odata.Field{Name: "status", Type: odata.Enum, Column: "alerts.status", Values: models.AlertStatuses},
	odata.Field{Name: "classification", Type: odata.Enum, Column: "alerts.classification", Values: models.Classifications, Nullable: true},
	odata.Field{Name: "determination", Type: odata.String, Column: "alerts.determination", Nullable: true},
	odata.Field{Name: "assigned_to", Aliases: []string{"assignedTo"}, Type: odata.String, Column: "alerts.assigned_to", Nullable: true},
	odata.Field{Name: "service_source", Aliases: []string{"serviceSource"}, Type: odata.String, Column: "alerts.service_source"},
	odata.Field{Name: "detection_source", Aliases: []string{"detectionSource"}, Type: odata.String, Column: "alerts.detection_source"},
	odata.Field{Name: "created_at", Aliases: []string{"createdDateTime", "alertCreationTime"}, Type: odata.DateTime, Column: "alerts.created_at", Sortable: true},
	odata.Field{Name: "updated_at", Aliases: []string{"lastUpdateDateTime", "lastUpdateTime"}, Type: odata.DateTime, Column: "alerts.updated_at", Sortable: true},
	odata.Field{Name: "resolved_at", Aliases: []string{"resolvedDateTime", "resolvedTime"}, Type: odata.DateTime, Column: "alerts.resolved_at", Nullable: true},
	odata.Field{Name: "tags", Aliases: []string{"systemTags"}, Type: odata.String,
		Collection: &odata.Collection{Table: "alert_tags", Key: "alert_tags.alert_id", Owner: "alerts.id", Value: "alert_tags.tag"}},
)

// IncidentSchema is what $filter and $orderby may name on /incidents.
var IncidentSchema = odata.NewSchema(
	odata.Field{Name: "id", Aliases: []string{"incidentId"}, Type: odata.String, Column: "incidents.id"},
	odata.Field{Name: "org_id", Aliases: []string{"tenantId"}, Type: odata.String, Column: "incidents.org_id"},
	odata.Field{Name: "title", Aliases: []string{"displayName", "incidentName"}, Type: odata.String, Column: "incidents.title"},
	odata.Field{Name: "severity", Type: odata.Enum, Column: "incidents.severity", Values: models.Severities,
		Ranked: true, RankSQL: "incidents.severity_rank", Sortable: true},
	odata.Field{Name: "status", Type: odata.Enum, Column: "incidents.status", Values: models.IncidentStatuses},
	odata.Field{Name: "classification", Type: odata.Enum, Column: "incidents.classification", Values: models.Classifications, Nullable: true},
	odata.Field{Name: "determination", Type: odata.String, Column: "incidents.determination", Nullable: true},
	odata.Field{Name: "assigned_to", Aliases: []string{"assignedTo"}, Type: odata.String, Column: "incidents.assigned_to", Nullable: true},
	odata.Field{Name: "alert_count", Type: odata.Int, Column: "incidents.alert_count"},
	odata.Field{Name: "created_at", Aliases: []string{"createdDateTime", "createdTime"}, Type: odata.DateTime, Column: "incidents.created_at", Sortable: true},
	odata.Field{Name: "updated_at", Aliases: []string{"lastUpdateDateTime", "lastUpdateTime"}, Type: odata.DateTime, Column: "incidents.updated_at", Sortable: true},
	odata.Field{Name: "tags", Aliases: []string{"systemTags"}, Type: odata.String,
		Collection: &odata.Collection{Table: "alert_tags JOIN alerts ta ON ta.id = alert_tags.alert_id", Key: "ta.incident_id", Owner: "incidents.id", Value: "alert_tags.tag"}},
)

// alertRow is an alert as stored: the model plus its severity's rank.
type alertRow struct {
	models.Alert
	SeverityRank int
	RequestKey   *string // a hash of the raiser's Idempotency-Key (RaiseAlert), nil without one
}

func (alertRow) TableName() string { return "alerts" }

type incidentRow struct {
	models.Incident
	SeverityRank int
}

func (incidentRow) TableName() string { return "incidents" }

type alertTag struct {
	AlertID string `gorm:"primaryKey"`
	Tag     string `gorm:"primaryKey"`
}

func (alertTag) TableName() string { return "alert_tags" }

type alertDevice struct {
	AlertID    string `gorm:"primaryKey"`
	DeviceID   string `gorm:"primaryKey"`
	DeviceName string
}

func (alertDevice) TableName() string { return "alert_devices" }

type alertEvidence struct {
	AlertID  string `gorm:"primaryKey"`
	Position int    `gorm:"primaryKey"`
	Kind     string
	Value    string
}

func (alertEvidence) TableName() string { return "alert_evidence" }

type alertNotification struct {
	AlertID              string `gorm:"primaryKey"`
	Recipient            string `gorm:"primaryKey"`
	RuleID               string
	IncludeDeviceDetails bool
}

func (alertNotification) TableName() string { return "alert_notifications" }

// NewAlert is an alert about to be raised: what the caller sent and what the
// process decides (its sources and tags).
type NewAlert struct {
	models.AlertInput
	ServiceSource   string
	DetectionSource string
	Tags            []string
	// RequestKey (a hash of the caller's Idempotency-Key; "" for none) makes
	// a retry find the alert its first attempt raised instead of raising
	// another.
	RequestKey string
}

// RaiseAlert records an alert for an org whose Endpoint attack notifications
// are approved and enabled, in a new incident or joining the open incident
// it names, and records whom the org's rules email about it, all in one
// transaction. started, when not nil, runs inside the transaction too (it
// records the alert's workflow start).
//
// With a RequestKey, an alert the same caller already raised with it comes
// back as it is (started is not called: its start was recorded with it).
func (db *DB) RaiseAlert(ctx context.Context, actor models.Principal, in NewAlert, started func(tx *gorm.DB, a *models.Alert) error) (*models.Alert, error) {
	if in.RequestKey != "" {
		if a, err := db.alertByRequest(ctx, actor, in.RequestKey); err == nil || models.ErrorCode(err) != models.ENOTFOUND {
			return a, err
		}
	}
	a, err := db.raiseAlert(ctx, actor, in, started)
	if err != nil && in.RequestKey != "" && isDuplicate(err) { // a concurrent retry won
		return db.alertByRequest(ctx, actor, in.RequestKey)
	}
	return a, err
}

func (db *DB) alertByRequest(ctx context.Context, actor models.Principal, requestKey string) (*models.Alert, error) {
	var r alertRow
	if err := db.gorm.WithContext(ctx).Where("raised_by = ? AND request_key = ?", actor.UserID, requestKey).Take(&r).Error; err != nil {
		return nil, notFound(err, "alert")
	}
	return db.Alert(ctx, "", r.ID)
}

func (db *DB) raiseAlert(ctx context.Context, actor models.Principal, in NewAlert, started func(tx *gorm.DB, a *models.Alert) error) (*models.Alert, error) {
	var out models.Alert
	err := db.tx(ctx, func(tx *gorm.DB) error {
		var o models.Org
		if err := tx.Where("id = ? AND kind = ?", in.OrgID, models.OrgCustomer).Take(&o).Error; err != nil {
			return notFound(err, "org")
		}
		if o.EANState != models.FeatureApproved || !o.EANEnabled {
			return models.Errorf(models.EFEATURE, "%s has not enabled Endpoint attack notifications (state %s, enabled %t)", o.Name, o.EANState, o.EANEnabled)
		}
		now := db.Now()
		a := alertRow{Alert: models.Alert{ID: newID("alr"), OrgID: o.ID, Title: in.Title, Description: in.Description,
			Severity: in.Severity, Status: models.AlertNew, Category: in.Category, ServiceSource: in.ServiceSource,
			DetectionSource: in.DetectionSource, RecommendedActions: in.RecommendedActions, RaisedBy: actor.UserID,
			CreatedAt: now, UpdatedAt: now}, SeverityRank: in.Severity.Rank()}
		if in.RequestKey != "" {
			a.RequestKey = &in.RequestKey
		}
		inc, created, err := db.incidentFor(tx, actor, &a.Alert, in.IncidentID)
		if err != nil {
			return err
		}
		a.IncidentID = inc
		if err := tx.Omit(clause.Associations).Create(&a).Error; err != nil {
			return err
		}
		for _, t := range in.Tags {
			if err := tx.Create(&alertTag{AlertID: a.ID, Tag: t}).Error; err != nil {
				return err
			}
		}
		devs := make([]alertDevice, len(in.Devices))
		for i, d := range in.Devices {
			devs[i] = alertDevice{AlertID: a.ID, DeviceID: d.ID, DeviceName: d.Name}
		}
		if err := tx.CreateInBatches(devs, 200).Error; err != nil {
			return err
		}
		if err := db.snapshotRecipients(tx, &a.Alert); err != nil {
			return err
		}
		if err := db.audit(tx, actor, o.ID, "alert", a.ID, "raised", map[string]any{
			"incident_id": inc, "severity": a.Severity, "title": a.Title, "devices": len(devs)}); err != nil {
			return err
		}
		action := "alert_joined"
		if created {
			action = "opened"
		}
		if err := db.audit(tx, actor, o.ID, "incident", inc, action, map[string]any{"alert_id": a.ID, "severity": a.Severity}); err != nil {
			return err
		}
		out = a.Alert
		if started != nil {
			return started(tx, &out)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.Tags, out.Devices, out.Evidence = in.Tags, in.Devices, []models.Evidence{}
	return &out, nil
}

// incidentFor opens an incident for a, or adds a to the open incident id of
// a's org, keeping the incident's counts and highest severity right.
func (db *DB) incidentFor(tx *gorm.DB, actor models.Principal, a *models.Alert, id *string) (string, bool, error) {
	if id == nil {
		inc := incidentRow{Incident: models.Incident{ID: newID("inc"), OrgID: a.OrgID, Title: a.Title, Status: models.IncidentActive,
			Severity: a.Severity, AlertCount: 1, CreatedAt: a.CreatedAt, UpdatedAt: a.CreatedAt}, SeverityRank: a.Severity.Rank()}
		return inc.ID, true, tx.Omit(clause.Associations).Create(&inc).Error
	}
	var inc incidentRow
	if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ? AND org_id = ?", *id, a.OrgID).Take(&inc).Error; err != nil {
		return "", false, notFound(err, "incident")
	}
	if inc.Status == models.IncidentResolved {
		return "", false, models.Errorf(models.EINVALIDSTATE, "incident %s is resolved: raise the alert in a new incident", inc.ID)
	}
	up := map[string]any{"alert_count": gorm.Expr("alert_count + 1"), "updated_at": a.CreatedAt}
	if r := a.Severity.Rank(); r > inc.SeverityRank {
		up["severity"], up["severity_rank"] = a.Severity, r
	}
	return inc.ID, false, tx.Model(&incidentRow{}).Where("id = ?", inc.ID).Updates(up).Error
}

// snapshotRecipients records whom the org's enabled rules email about a,
// as the rules stand now.
func (db *DB) snapshotRecipients(tx *gorm.DB, a *models.Alert) error {
	var rules []models.NotificationRule
	if err := tx.Where("org_id = ? AND enabled = ?", a.OrgID, true).Order("id").Find(&rules).Error; err != nil {
		return err
	}
	return createAll(tx, recipients(rules, a))
}

// AlertRecipient is one email the notification workflow sends.
type AlertRecipient struct {
	Recipient            string
	IncludeDeviceDetails bool
}

// AlertRecipients lists whom an alert's notification emails go to, in a
// stable order.
func (db *DB) AlertRecipients(ctx context.Context, alertID string) ([]AlertRecipient, error) {
	var rows []alertNotification
	err := db.gorm.WithContext(ctx).Where("alert_id = ?", alertID).Order("recipient").Find(&rows).Error
	out := make([]AlertRecipient, len(rows))
	for i, r := range rows {
		out[i] = AlertRecipient{Recipient: r.Recipient, IncludeDeviceDetails: r.IncludeDeviceDetails}
	}
	return out, mapErr(err)
}

// AlertFilter is a list request: the OData options and, for staff, an org.
type AlertFilter struct {
	odata.Query
	OrgID  string // staff may narrow to an org; customers are scoped anyway
	Cursor string
}

// Alerts lists alerts as the filter asks; count is the total number matching
// (only when f.Count).
func (db *DB) Alerts(ctx context.Context, scope string, f AlertFilter) (models.List[models.Alert], *int64, error) {
	out, count, err := pageOData[alertRow, models.Alert](db.gorm.WithContext(ctx).Model(&alertRow{}), "alerts", scope, f, AlertSchema)
	if err == nil {
		err = db.fillAlerts(ctx, out.Items)
	}
	return out, count, err
}

func (r *alertRow) listed() (*models.Alert, string) { return &r.Alert, r.ID }

func (r *alertRow) sortKey(field string) any {
	return sortKey(field, r.Severity, r.CreatedAt, r.UpdatedAt)
}

// fillAlerts loads the tags and devices of alerts (two queries for a page).
func (db *DB) fillAlerts(ctx context.Context, alerts []models.Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	ids := make([]string, len(alerts))
	at := map[string]*models.Alert{}
	for i := range alerts {
		ids[i] = alerts[i].ID
		at[alerts[i].ID] = &alerts[i]
		alerts[i].Tags, alerts[i].Devices, alerts[i].Evidence = []string{}, []models.AlertDevice{}, []models.Evidence{}
	}
	g := db.gorm.WithContext(ctx)
	var tags []alertTag
	if err := g.Where("alert_id IN ?", ids).Order("alert_id, tag").Find(&tags).Error; err != nil {
		return mapErr(err)
	}
	for _, t := range tags {
		at[t.AlertID].Tags = append(at[t.AlertID].Tags, t.Tag)
	}
	var devs []alertDevice
	if err := g.Where("alert_id IN ?", ids).Order("alert_id, device_id").Find(&devs).Error; err != nil {
		return mapErr(err)
	}
	for _, d := range devs {
		at[d.AlertID].Devices = append(at[d.AlertID].Devices, models.AlertDevice{ID: d.DeviceID, Name: d.DeviceName})
	}
	var ev []alertEvidence
	if err := g.Where("alert_id IN ?", ids).Order("alert_id, position").Find(&ev).Error; err != nil {
		return mapErr(err)
	}
	for _, e := range ev {
		at[e.AlertID].Evidence = append(at[e.AlertID].Evidence, models.Evidence{Kind: e.Kind, Value: e.Value})
	}
	return nil
}

// Alert returns one alert with its tags, devices, incident and the inquiries
// asked about it; another org's id is not found.
func (db *DB) Alert(ctx context.Context, scope, id string) (*models.Alert, error) {
	a, err := db.alert(db.gorm.WithContext(ctx), scope, id)
	if err != nil {
		return nil, err
	}
	list := []models.Alert{*a}
	if err := db.fillAlerts(ctx, list); err != nil {
		return nil, err
	}
	out := &list[0]
	if out.Incident, err = db.incident(ctx, "", out.IncidentID); err != nil {
		return nil, err
	}
	var inq []models.Inquiry
	if err := db.gorm.WithContext(ctx).Select("id", "status", "created_at").Where("alert_id = ? AND org_id = ?", id, out.OrgID).
		Order("id").Find(&inq).Error; err != nil {
		return nil, mapErr(err)
	}
	out.Inquiries = make([]models.InquiryRef, len(inq))
	for i, q := range inq {
		out.Inquiries[i] = models.InquiryRef{ID: q.ID, Status: q.Status, CreatedAt: q.CreatedAt}
	}
	return out, nil
}

func (db *DB) alert(g *gorm.DB, scope, id string) (*models.Alert, error) {
	q := g.Where("id = ?", id)
	if scope != "" {
		q = q.Where("org_id = ?", scope)
	}
	var a alertRow
	if err := q.Take(&a).Error; err != nil {
		return nil, notFound(err, "alert")
	}
	return &a.Alert, nil
}

// checkTopic checks the alert or incident an inquiry is about, when it is
// one of this deployment's (an id with its prefix; others are references to
// another system's, kept as given): it must be the org's (else not found),
// and not a detection of the org's own custom threat intelligence, which
// experts do not investigate.
func (db *DB) checkTopic(tx *gorm.DB, orgID string, in models.InquiryInput) error {
	refuse := models.Errorf(models.ECUSTOMTI, "Experts on Demand does not investigate detections of your own custom threat intelligence: "+
		"consult your security operations or incident-response team")
	if in.AlertID != nil && strings.HasPrefix(*in.AlertID, models.AlertIDPrefix) {
		var a alertRow
		if err := tx.Select("id", "detection_source").Where("id = ? AND org_id = ?", *in.AlertID, orgID).Take(&a).Error; err != nil {
			return notFound(err, "alert")
		}
		if a.DetectionSource == models.SourceCustomTI {
			return refuse
		}
	}
	if in.IncidentID != nil && strings.HasPrefix(*in.IncidentID, models.IncidentIDPrefix) {
		var inc incidentRow
		if err := tx.Select("id").Where("id = ? AND org_id = ?", *in.IncidentID, orgID).Take(&inc).Error; err != nil {
			return notFound(err, "incident")
		}
		var all, ti int64
		if err := tx.Model(&alertRow{}).Where("incident_id = ?", inc.ID).Count(&all).Error; err != nil {
			return err
		}
		if err := tx.Model(&alertRow{}).Where("incident_id = ? AND detection_source = ?", inc.ID, models.SourceCustomTI).Count(&ti).Error; err != nil {
			return err
		}
		if all > 0 && ti == all {
			return refuse
		}
	}
	return nil
}

// topicOf loads the alert or incident an inquiry is about, when it is one of
// this deployment's, so the expert starts with its evidence.
func (db *DB) topicOf(ctx context.Context, q *models.Inquiry) error {
	if q.AlertID != nil && strings.HasPrefix(*q.AlertID, models.AlertIDPrefix) {
		a, err := db.alert(db.gorm.WithContext(ctx), q.OrgID, *q.AlertID)
		if err != nil {
			return err
		}
		list := []models.Alert{*a}
		if err := db.fillAlerts(ctx, list); err != nil {
			return err
		}
		q.Alert = &list[0]
	}
	if q.IncidentID != nil && strings.HasPrefix(*q.IncidentID, models.IncidentIDPrefix) {
		inc, err := db.incident(ctx, q.OrgID, *q.IncidentID)
		if err != nil {
			return err
		}
		q.Incident = inc
	}
	return nil
}

// PatchAlert changes an alert's status, verdict or assignee and keeps its
// incident's resolved count (and, when every alert is resolved, status) right.
func (db *DB) PatchAlert(ctx context.Context, actor models.Principal, scope, id string, p models.AlertPatch) (*models.Alert, error) {
	err := db.tx(ctx, func(tx *gorm.DB) error {
		a, err := db.alert(tx.Clauses(clause.Locking{Strength: "UPDATE"}), scope, id)
		if err != nil {
			return err
		}
		up, changes, err := verdictChanges(p, a.Classification, a.Determination, a.AssignedTo)
		if err != nil {
			return err
		}
		now := db.Now()
		delta := 0
		if p.Status != nil && models.AlertStatus(*p.Status) != a.Status {
			to := models.AlertStatus(*p.Status)
			up["status"], changes["status"] = to, to
			switch {
			case to == models.AlertResolved:
				up["resolved_at"], delta = now, 1
			case a.Status == models.AlertResolved:
				up["resolved_at"], delta = nil, -1
			}
		}
		if len(changes) == 0 {
			return nil
		}
		up["updated_at"] = now
		if err := tx.Model(&alertRow{}).Where("id = ?", a.ID).Updates(up).Error; err != nil {
			return err
		}
		if err := db.audit(tx, actor, a.OrgID, "alert", a.ID, "updated", changes); err != nil {
			return err
		}
		return db.touchIncident(tx, actor, a.IncidentID, delta, now)
	})
	if err != nil {
		return nil, err
	}
	return db.Alert(ctx, scope, id)
}

// verdictChanges turns a patch's classification, determination and assignee
// into column updates and audit data, checking the pair fits.
func verdictChanges(p models.AlertPatch, class, det, assigned *string) (map[string]any, map[string]any, error) {
	up, changes := map[string]any{}, map[string]any{}
	nextClass, nextDet := class, det
	set := func(col string, v *string, cur *string, next **string) {
		if v == nil || (cur != nil && *cur == *v) || (cur == nil && *v == "") {
			return
		}
		var val any
		if *v != "" {
			val = *v
		}
		up[col], changes[col] = val, val
		if next != nil {
			*next = v
		}
	}
	set("classification", p.Classification, class, &nextClass)
	if p.Classification != nil && p.Determination == nil && det != nil && *det != "" {
		// A new verdict drops a determination that belonged to the old one.
		if err := models.CheckDetermination(nextClass, det); err != nil {
			empty := ""
			p.Determination = &empty
		}
	}
	set("determination", p.Determination, det, &nextDet)
	set("assigned_to", p.AssignedTo, assigned, nil)
	if err := models.CheckDetermination(nextClass, nextDet); err != nil {
		return nil, nil, err
	}
	return up, changes, nil
}

// touchIncident adds delta to an incident's resolved alerts and derives its
// status: all alerts resolved shows it resolved; a reopened alert makes a
// resolved incident active again.
func (db *DB) touchIncident(tx *gorm.DB, actor models.Principal, id string, delta int, now any) error {
	var inc incidentRow
	if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", id).Take(&inc).Error; err != nil {
		return err
	}
	resolved := inc.ResolvedAlerts + delta
	up := map[string]any{"resolved_alerts": resolved, "updated_at": now}
	switch {
	case resolved == inc.AlertCount && inc.Status != models.IncidentResolved:
		up["status"] = models.IncidentResolved
	case resolved < inc.AlertCount && delta < 0 && inc.Status == models.IncidentResolved:
		up["status"] = models.IncidentActive
	}
	if err := tx.Model(&incidentRow{}).Where("id = ?", id).Updates(up).Error; err != nil {
		return err
	}
	if st, ok := up["status"]; ok {
		return db.audit(tx, models.Principal{UserID: models.SystemActor, Role: "system"}, inc.OrgID, "incident", id, "status_derived",
			map[string]any{"status": st, "because": "alert changed by " + actor.UserID})
	}
	return nil
}

// Incidents lists incidents as the filter asks.
func (db *DB) Incidents(ctx context.Context, scope string, f AlertFilter) (models.List[models.Incident], *int64, error) {
	out, count, err := pageOData[incidentRow, models.Incident](db.gorm.WithContext(ctx).Model(&incidentRow{}), "incidents", scope, f, IncidentSchema)
	if err == nil {
		err = db.fillIncidents(ctx, out.Items)
	}
	return out, count, err
}

func (r *incidentRow) listed() (*models.Incident, string) { return &r.Incident, r.ID }

func (r *incidentRow) sortKey(field string) any {
	return sortKey(field, r.Severity, r.CreatedAt, r.UpdatedAt)
}

// fillIncidents derives each incident's devices (the union of its alerts').
func (db *DB) fillIncidents(ctx context.Context, incs []models.Incident) error {
	if len(incs) == 0 {
		return nil
	}
	ids := make([]string, len(incs))
	at := map[string]*models.Incident{}
	for i := range incs {
		ids[i] = incs[i].ID
		at[incs[i].ID] = &incs[i]
		incs[i].Devices = []models.AlertDevice{}
	}
	var devs []struct {
		IncidentID, DeviceID, DeviceName string
	}
	err := db.gorm.WithContext(ctx).Table("alert_devices").
		Select("alerts.incident_id, alert_devices.device_id, MIN(alert_devices.device_name) AS device_name").
		Joins("JOIN alerts ON alerts.id = alert_devices.alert_id").
		Where("alerts.incident_id IN ?", ids).
		Group("alerts.incident_id, alert_devices.device_id").
		Order("alerts.incident_id, alert_devices.device_id").Scan(&devs).Error
	if err != nil {
		return mapErr(err)
	}
	for _, d := range devs {
		at[d.IncidentID].Devices = append(at[d.IncidentID].Devices, models.AlertDevice{ID: d.DeviceID, Name: d.DeviceName})
	}
	for i := range incs {
		incs[i].Fill()
	}
	return nil
}

// Incident returns one incident with its devices and alerts.
func (db *DB) Incident(ctx context.Context, scope, id string) (*models.Incident, error) {
	inc, err := db.incident(ctx, scope, id)
	if err != nil {
		return nil, err
	}
	var rows []alertRow
	if err := db.gorm.WithContext(ctx).Where("incident_id = ?", id).Order("id").Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	inc.Alerts = make([]models.Alert, len(rows))
	ids := make([]string, len(rows))
	for i, r := range rows {
		inc.Alerts[i], ids[i] = r.Alert, r.ID
	}
	var inq []models.Inquiry
	if err := db.gorm.WithContext(ctx).Select("id", "status", "created_at").Where("org_id = ? AND (incident_id = ? OR alert_id IN ?)", inc.OrgID, id, append(ids, "")).
		Order("id").Find(&inq).Error; err != nil {
		return nil, mapErr(err)
	}
	inc.Inquiries = make([]models.InquiryRef, len(inq))
	for i, q := range inq {
		inc.Inquiries[i] = models.InquiryRef{ID: q.ID, Status: q.Status, CreatedAt: q.CreatedAt}
	}
	return inc, db.fillAlerts(ctx, inc.Alerts)
}

func (db *DB) incident(ctx context.Context, scope, id string) (*models.Incident, error) {
	q := db.gorm.WithContext(ctx).Where("id = ?", id)
	if scope != "" {
		q = q.Where("org_id = ?", scope)
	}
	var r incidentRow
	if err := q.Take(&r).Error; err != nil {
		return nil, notFound(err, "incident")
	}
	list := []models.Incident{r.Incident}
	if err := db.fillIncidents(ctx, list); err != nil {
		return nil, err
	}
	return &list[0], nil
}

// PatchIncident changes an incident's own status, verdict or assignee. It
// changes none of its alerts: resolving an incident resolves nothing by
// itself.
func (db *DB) PatchIncident(ctx context.Context, actor models.Principal, scope, id string, p models.AlertPatch) (*models.Incident, error) {
	err := db.tx(ctx, func(tx *gorm.DB) error {
		q := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", id)
		if scope != "" {
			q = q.Where("org_id = ?", scope)
		}
		var inc incidentRow
		if err := q.Take(&inc).Error; err != nil {
			return notFound(err, "incident")
		}
		up, changes, err := verdictChanges(p, inc.Classification, inc.Determination, inc.AssignedTo)
		if err != nil {
			return err
		}
		if p.Status != nil && models.IncidentStatus(*p.Status) != inc.Status {
			up["status"], changes["status"] = *p.Status, *p.Status
		}
		if len(changes) == 0 {
			return nil
		}
		up["updated_at"] = db.Now()
		if err := tx.Model(&incidentRow{}).Where("id = ?", id).Updates(up).Error; err != nil {
			return err
		}
		return db.audit(tx, actor, inc.OrgID, "incident", id, "updated", changes)
	})
	if err != nil {
		return nil, err
	}
	return db.Incident(ctx, scope, id)
}

// HuntingEach calls fn for each DeviceAlertEvents row the filter selects,
// newest alert first, device by device, streaming from the database; at
// most limit rows (0: no limit). It returns the cursor after the last row
// when more remain.
func (db *DB) HuntingEach(ctx context.Context, f models.HuntingFilter, limit int, fn func(models.HuntingRow) error) (string, error) {
	q := db.gorm.WithContext(ctx).Table("alert_devices").
		Select("alerts.created_at AS timestamp, alerts.id AS alert_id, alerts.title, alerts.severity, alerts.category, " +
			"alert_devices.device_id, alert_devices.device_name, alerts.service_source, alerts.detection_source, alerts.incident_id").
		Joins("JOIN alerts ON alerts.id = alert_devices.alert_id")
	if f.OrgID != "" {
		q = q.Where("alerts.org_id = ?", f.OrgID)
	}
	if f.DeviceID != "" {
		q = q.Where("alert_devices.device_id = ?", f.DeviceID)
	}
	if f.From != nil {
		q = q.Where("alerts.created_at >= ?", f.From.UTC())
	}
	if f.To != nil {
		q = q.Where("alerts.created_at < ?", f.To.UTC())
	}
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor)
		if err != nil {
			return "", err
		}
		q = q.Where("(alerts.id < ? OR (alerts.id = ? AND alert_devices.device_id > ?))", c.ID, c.ID, c.Key)
	}
	q = q.Order("alerts.id DESC, alert_devices.device_id ASC")
	if limit > 0 {
		q = q.Limit(limit + 1)
	}
	rows, err := q.Rows()
	if err != nil {
		return "", mapErr(err)
	}
	defer rows.Close()
	n := 0
	var last models.HuntingRow
	for rows.Next() {
		var r models.HuntingRow
		if err := rows.Scan(&r.Timestamp, &r.AlertID, &r.Title, &r.Severity, &r.Category, &r.DeviceID, &r.DeviceName,
			&r.ServiceSource, &r.DetectionSource, &r.IncidentID); err != nil {
			return "", mapErr(err)
		}
		if limit > 0 && n == limit {
			return encodeCursor(cursor{Key: last.DeviceID, ID: last.AlertID}), nil
		}
		r.Timestamp = r.Timestamp.UTC()
		if err := fn(r); err != nil {
			return "", err
		}
		last = r
		n++
	}
	return "", mapErr(rows.Err())
}

// Rules lists an org's notification rules, oldest first.
func (db *DB) Rules(ctx context.Context, orgID string) ([]models.NotificationRule, error) {
	out := []models.NotificationRule{}
	err := db.gorm.WithContext(ctx).Where("org_id = ?", orgID).Order("id").Find(&out).Error
	return out, mapErr(err)
}

// Rule returns one rule of the scope's org.
func (db *DB) Rule(ctx context.Context, scope, id string) (*models.NotificationRule, error) {
	q := db.gorm.WithContext(ctx).Where("id = ?", id)
	if scope != "" {
		q = q.Where("org_id = ?", scope)
	}
	var r models.NotificationRule
	if err := q.Take(&r).Error; err != nil {
		return nil, notFound(err, "notification rule")
	}
	return &r, nil
}

// MaxRulesPerOrg bounds the rules an org may keep.
const MaxRulesPerOrg = 100

// CreateRule adds a notification rule to the actor's org.
func (db *DB) CreateRule(ctx context.Context, actor models.Principal, orgID string, in models.RuleInput) (*models.NotificationRule, error) {
	now := db.Now()
	r := models.NotificationRule{ID: newID("nr"), OrgID: orgID, CreatedBy: actor.UserID, CreatedAt: now, UpdatedAt: now}
	setRule(&r, in)
	err := db.tx(ctx, func(tx *gorm.DB) error {
		var o models.Org
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", orgID).Take(&o).Error; err != nil {
			return notFound(err, "org")
		}
		var n int64
		if err := tx.Model(&models.NotificationRule{}).Where("org_id = ?", orgID).Count(&n).Error; err != nil {
			return err
		}
		if n >= MaxRulesPerOrg {
			return models.Errorf(models.ECONFLICT, "an org may keep at most %d notification rules", MaxRulesPerOrg)
		}
		if err := tx.Create(&r).Error; err != nil {
			return err
		}
		return db.audit(tx, actor, orgID, "notification_rule", r.ID, "created", r)
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// ReplaceRule replaces a rule whole (PUT).
func (db *DB) ReplaceRule(ctx context.Context, actor models.Principal, scope, id string, in models.RuleInput) (*models.NotificationRule, error) {
	var r models.NotificationRule
	err := db.tx(ctx, func(tx *gorm.DB) error {
		q := tx.Where("id = ?", id)
		if scope != "" {
			q = q.Where("org_id = ?", scope)
		}
		if err := q.Take(&r).Error; err != nil {
			return notFound(err, "notification rule")
		}
		setRule(&r, in)
		r.UpdatedAt = db.Now()
		if err := tx.Save(&r).Error; err != nil {
			return err
		}
		return db.audit(tx, actor, r.OrgID, "notification_rule", r.ID, "replaced", r)
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// DeleteRule deletes a rule; emails already decided for raised alerts still go.
func (db *DB) DeleteRule(ctx context.Context, actor models.Principal, scope, id string) error {
	return db.tx(ctx, func(tx *gorm.DB) error {
		q := tx.Where("id = ?", id)
		if scope != "" {
			q = q.Where("org_id = ?", scope)
		}
		var r models.NotificationRule
		if err := q.Take(&r).Error; err != nil {
			return notFound(err, "notification rule")
		}
		if err := tx.Delete(&r).Error; err != nil {
			return err
		}
		return db.audit(tx, actor, r.OrgID, "notification_rule", r.ID, "deleted", map[string]string{"name": r.Name})
	})
}

func setRule(r *models.NotificationRule, in models.RuleInput) {
	r.Name, r.Recipients, r.MinSeverity, r.ServiceSources, r.IncludeDeviceDetails = in.Name, in.Recipients, in.MinSeverity, in.ServiceSources, in.IncludeDeviceDetails
	sort.Strings(r.ServiceSources)
	r.Enabled = in.Enabled == nil || *in.Enabled
}
