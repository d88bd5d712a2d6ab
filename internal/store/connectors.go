package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/huntdesk/huntdesk/models"
)

// connectorPrefix marks connector secrets apart from user tokens ("hd_"), so
// a leaked one is recognisable and Authenticate knows where to look.
const connectorPrefix = "hdc_"

// CreateConnector makes an org's connector credential; the secret is shown
// once and stored hashed.
func (db *DB) CreateConnector(ctx context.Context, actor models.Principal, orgID string, in models.ConnectorInput) (string, *models.Connector, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	secret := connectorPrefix + base64.RawURLEncoding.EncodeToString(b)
	c := &models.Connector{ID: newID("cnr"), OrgID: orgID, Name: in.Name, Prefix: secret[:11], Hash: hashToken(secret), CreatedBy: actor.UserID, CreatedAt: db.Now()}
	err := db.tx(ctx, func(tx *gorm.DB) error {
		var o models.Org
		if err := tx.Where("id = ? AND kind = ?", orgID, models.OrgCustomer).Take(&o).Error; err != nil {
			return notFound(err, "org")
		}
		var n int64
		if err := tx.Model(&models.Connector{}).Where("org_id = ? AND revoked_at IS NULL", orgID).Count(&n).Error; err != nil {
			return err
		}
		if n >= 20 {
			return models.Errorf(models.ECONFLICT, "an org may keep at most 20 active connectors: revoke one first")
		}
		if err := tx.Create(c).Error; err != nil {
			return err
		}
		return db.audit(tx, actor, orgID, "connector", c.ID, "created", map[string]string{"name": c.Name})
	})
	if err != nil {
		return "", nil, err
	}
	return secret, c, nil
}

// Connectors lists an org's connectors, newest first.
func (db *DB) Connectors(ctx context.Context, orgID string) ([]models.Connector, error) {
	out := []models.Connector{}
	err := db.gorm.WithContext(ctx).Where("org_id = ?", orgID).Order("id DESC").Find(&out).Error
	return out, mapErr(err)
}

// RevokeConnector revokes a connector of the scope's org; revoking twice is
// a no-op.
func (db *DB) RevokeConnector(ctx context.Context, actor models.Principal, scope, id string) (*models.Connector, error) {
	var c models.Connector
	err := db.tx(ctx, func(tx *gorm.DB) error {
		q := tx.Where("id = ?", id)
		if scope != "" {
			q = q.Where("org_id = ?", scope)
		}
		if err := q.Take(&c).Error; err != nil {
			return notFound(err, "connector")
		}
		if c.RevokedAt != nil {
			return nil
		}
		now := db.Now()
		c.RevokedAt = &now
		if err := tx.Model(&c).Update("revoked_at", now).Error; err != nil {
			return err
		}
		return db.audit(tx, actor, c.OrgID, "connector", c.ID, "revoked", nil)
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// authenticateConnector turns a connector secret into its principal: role
// connector, scoped to its org.
func (db *DB) authenticateConnector(ctx context.Context, secret string) (models.Principal, error) {
	deny := models.Errorf(models.EUNAUTHORIZED, "missing or invalid bearer token")
	var c models.Connector
	if err := db.gorm.WithContext(ctx).Where("hash = ?", hashToken(secret)).Take(&c).Error; err != nil {
		if isNotFound(err) {
			return models.Principal{}, deny
		}
		return models.Principal{}, mapErr(err)
	}
	if c.RevokedAt != nil {
		return models.Principal{}, deny
	}
	now := db.Now()
	if c.LastUsedAt == nil || now.Sub(*c.LastUsedAt) > time.Minute {
		db.gorm.WithContext(ctx).Model(&models.Connector{}).Where("id = ?", c.ID).Update("last_used_at", now)
	}
	return models.Principal{UserID: c.ID, OrgID: c.OrgID, Role: models.RoleConnector}, nil
}

// Ingested is what one batch did, and the new alerts whose notification
// workflows must start (those with recipients).
type Ingested struct {
	Created, Updated []string
	Notify           []*models.Alert
}

// IngestAlerts upserts an org's own alerts by (org, external_id) in one
// transaction, with bulk statements (a batch of 1,000 is a handful of round
// trips, not thousands): new alerts open or join incidents by
// incident_external_id, re-sent ones are updated in place, their tags,
// devices and evidence replaced, and every touched incident's counts,
// severity and status recomputed. New alerts get their notification
// recipients decided now, by the org's rules. started, when not nil, runs in
// the transaction for the new alerts that have recipients.
func (db *DB) IngestAlerts(ctx context.Context, actor models.Principal, items []models.IngestAlert, started func(tx *gorm.DB, alerts []*models.Alert) error) (*Ingested, error) {
	out := &Ingested{}
	org := actor.OrgID
	err := db.tx(ctx, func(tx *gorm.DB) error {
		now := db.Now()
		exts := make([]string, len(items))
		for i, it := range items {
			exts[i] = it.ExternalID
		}
		type known struct {
			ID, IncidentID, ExternalID string
		}
		have := map[string]known{}
		for _, chunk := range chunks(exts, 500) {
			var rows []known
			if err := tx.Model(&alertRow{}).Select("id, incident_id, external_id").Where("org_id = ? AND external_id IN ?", org, chunk).Scan(&rows).Error; err != nil {
				return err
			}
			for _, r := range rows {
				have[r.ExternalID] = r
			}
		}

		// Incidents named by external id: the ones that exist, and new ones
		// (titled after their first alert in this batch).
		incByExt := map[string]string{}
		var incExts []string
		for _, it := range items {
			if it.IncidentExternalID != nil {
				incExts = append(incExts, *it.IncidentExternalID)
			}
		}
		for _, chunk := range chunks(incExts, 500) {
			var rows []struct{ ID, ExternalID string }
			if err := tx.Model(&incidentRow{}).Select("id, external_id").Where("org_id = ? AND external_id IN ?", org, chunk).Scan(&rows).Error; err != nil {
				return err
			}
			for _, r := range rows {
				incByExt[r.ExternalID] = r.ID
			}
		}
		var newIncs []incidentRow
		touched := map[string]bool{}
		alerts := make([]alertRow, len(items))
		for i, it := range items {
			a := alertRow{Alert: models.Alert{OrgID: org, Title: it.Title, Description: it.Description, Severity: it.Severity,
				Status: it.Status, Category: it.Category, ServiceSource: it.ServiceSource, DetectionSource: it.DetectionSource,
				RaisedBy: actor.UserID, CreatedAt: *it.CreatedAt, UpdatedAt: now}, SeverityRank: it.Severity.Rank()}
			ext := it.ExternalID
			a.ExternalID = &ext
			if it.Status == models.AlertResolved {
				a.ResolvedAt = &now
			}
			if k, ok := have[ext]; ok {
				a.ID, a.IncidentID = k.ID, k.IncidentID
				touched[k.IncidentID] = true // it may move: its old incident is recomputed too
			} else {
				a.ID = newID("alr")
			}
			switch {
			case it.IncidentExternalID != nil:
				id, ok := incByExt[*it.IncidentExternalID]
				if !ok {
					ie := *it.IncidentExternalID
					inc := incidentRow{Incident: models.Incident{ID: newID("inc"), OrgID: org, ExternalID: &ie, Title: it.Title, Status: models.IncidentActive,
						Severity: it.Severity, CreatedAt: *it.CreatedAt, UpdatedAt: now}, SeverityRank: it.Severity.Rank()}
					newIncs = append(newIncs, inc)
					id, incByExt[ie] = inc.ID, inc.ID
				}
				a.IncidentID = id
			case a.IncidentID == "":
				inc := incidentRow{Incident: models.Incident{ID: newID("inc"), OrgID: org, Title: it.Title, Status: models.IncidentActive,
					Severity: it.Severity, CreatedAt: *it.CreatedAt, UpdatedAt: now}, SeverityRank: it.Severity.Rank()}
				newIncs = append(newIncs, inc)
				a.IncidentID = inc.ID
			}
			touched[a.IncidentID] = true
			alerts[i] = a
			if _, ok := have[ext]; ok {
				out.Updated = append(out.Updated, a.ID)
			} else {
				out.Created = append(out.Created, a.ID)
			}
		}
		if len(newIncs) > 0 {
			if err := tx.Omit(clause.Associations).CreateInBatches(newIncs, 200).Error; err != nil {
				return err
			}
		}
		// One upsert for new and re-sent alerts alike: a re-sent alert keeps
		// its id, its raiser and its first arrival; the rest follows the source.
		err := tx.Omit(clause.Associations).Clauses(clause.OnConflict{
			Columns: []clause.Column{{Name: "id"}},
			DoUpdates: clause.AssignmentColumns([]string{"incident_id", "title", "description", "severity", "severity_rank", "status", "category",
				"service_source", "detection_source", "created_at", "updated_at", "resolved_at"}),
		}).CreateInBatches(alerts, 200).Error
		if err != nil {
			return err
		}
		ids := append(append([]string{}, out.Created...), out.Updated...)
		var tags []alertTag
		var devs []alertDevice
		var evs []alertEvidence
		for i, it := range items {
			id := alerts[i].ID
			seen := map[string]bool{}
			for _, t := range it.Tags {
				if !seen[t] {
					seen[t] = true
					tags = append(tags, alertTag{AlertID: id, Tag: t})
				}
			}
			for _, d := range it.Devices {
				devs = append(devs, alertDevice{AlertID: id, DeviceID: d.ID, DeviceName: d.Name})
			}
			for p, e := range it.Evidence {
				evs = append(evs, alertEvidence{AlertID: id, Position: p, Kind: e.Kind, Value: e.Value})
			}
		}
		for _, chunk := range chunks(out.Updated, 500) {
			for _, m := range []any{&alertTag{}, &alertDevice{}, &alertEvidence{}} {
				if err := tx.Where("alert_id IN ?", chunk).Delete(m).Error; err != nil {
					return err
				}
			}
		}
		if err := createAll(tx, tags); err != nil {
			return err
		}
		if err := createAll(tx, devs); err != nil {
			return err
		}
		if err := createAll(tx, evs); err != nil {
			return err
		}
		if err := db.recountIncidents(tx, keysOf(touched), now); err != nil {
			return err
		}

		// Whom the rules email about each new alert, decided now.
		var rules []models.NotificationRule
		if err := tx.Where("org_id = ? AND enabled = ?", org, true).Order("id").Find(&rules).Error; err != nil {
			return err
		}
		created := map[string]bool{}
		for _, id := range out.Created {
			created[id] = true
		}
		var notes []alertNotification
		for i := range alerts {
			a := &alerts[i].Alert
			if !created[a.ID] {
				continue
			}
			if n := recipients(rules, a); len(n) > 0 {
				notes = append(notes, n...)
				out.Notify = append(out.Notify, a)
			}
		}
		if err := createAll(tx, notes); err != nil {
			return err
		}
		if err := db.audit(tx, actor, org, "connector", actor.UserID, "alerts_ingested", map[string]any{
			"created": len(out.Created), "updated": len(out.Updated), "alert_ids": ids}); err != nil {
			return err
		}
		if started != nil && len(out.Notify) > 0 {
			return started(tx, out.Notify)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// recountIncidents recomputes incidents' counts, highest severity and
// derived status from their alerts, in two statements.
func (db *DB) recountIncidents(tx *gorm.DB, ids []string, now time.Time) error {
	sevCase := "CASE (SELECT MAX(a.severity_rank) FROM alerts a WHERE a.incident_id = incidents.id)"
	for i, s := range models.Severities {
		sevCase += " WHEN " + strconv.Itoa(i) + " THEN '" + s + "'"
	}
	sevCase += " ELSE severity END"
	for _, chunk := range chunks(ids, 500) {
		err := tx.Model(&incidentRow{}).Where("id IN ?", chunk).Updates(map[string]any{
			"alert_count":     gorm.Expr("(SELECT COUNT(*) FROM alerts a WHERE a.incident_id = incidents.id)"),
			"resolved_alerts": gorm.Expr("(SELECT COUNT(*) FROM alerts a WHERE a.incident_id = incidents.id AND a.status = 'resolved')"),
			"severity_rank":   gorm.Expr("COALESCE((SELECT MAX(a.severity_rank) FROM alerts a WHERE a.incident_id = incidents.id), severity_rank)"),
			"severity":        gorm.Expr(sevCase),
			"updated_at":      now,
		}).Error
		if err != nil {
			return err
		}
		err = tx.Model(&incidentRow{}).Where("id IN ?", chunk).Update("status", gorm.Expr(
			"CASE WHEN alert_count > 0 AND resolved_alerts = alert_count THEN 'resolved' WHEN status = 'resolved' THEN 'active' ELSE status END")).Error
		if err != nil {
			return err
		}
	}
	return nil
}

// recipients is whom rules email about a, one row per address.
func recipients(rules []models.NotificationRule, a *models.Alert) []alertNotification {
	seen := map[string]int{}
	var out []alertNotification
	for _, r := range rules {
		if !r.Matches(a) {
			continue
		}
		for _, to := range r.Recipients {
			k := strings.ToLower(to)
			if i, ok := seen[k]; ok {
				out[i].IncludeDeviceDetails = out[i].IncludeDeviceDetails || r.IncludeDeviceDetails
				continue
			}
			seen[k] = len(out)
			out = append(out, alertNotification{AlertID: a.ID, Recipient: to, RuleID: r.ID, IncludeDeviceDetails: r.IncludeDeviceDetails})
		}
	}
	return out
}

func createAll[T any](tx *gorm.DB, rows []T) error {
	if len(rows) == 0 {
		return nil
	}
	return tx.CreateInBatches(rows, 200).Error
}
func chunks(s []string, n int) [][]string {
	var out [][]string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	if len(s) > 0 {
		out = append(out, s)
	}
	return out
}
