package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/huntdesk/huntdesk/models"
)

// CreateApplication records a customer's application, or returns the org's
// open one (created false). It refuses an org without enrolled devices and an
// org already approved.
func (db *DB) CreateApplication(ctx context.Context, actor models.Principal, in models.ApplicationInput, reviewSLA time.Duration) (*models.Application, bool, error) {
	return db.CreateApplicationStarting(ctx, actor, in, reviewSLA, nil)
}

// CreateApplicationStarting is CreateApplication that also records, in the
// transaction of a new application, the start of its workflow that plan
// describes (nil: none).
func (db *DB) CreateApplicationStarting(ctx context.Context, actor models.Principal, in models.ApplicationInput, reviewSLA time.Duration,
	plan func(*models.Application) (*WorkflowStart, error)) (*models.Application, bool, error) {
	if err := in.Validate(); err != nil {
		return nil, false, err
	}
	var app models.Application
	created := false
	err := db.tx(ctx, func(tx *gorm.DB) error {
		var o models.Org
		if err := tx.Where("id = ?", actor.OrgID).Take(&o).Error; err != nil {
			return notFound(err, "org")
		}
		if o.DevicesEnrolled <= 0 {
			return models.Errorf(models.EPREREQUISITE, "the org has no devices enrolled in the endpoint product: deploy it and onboard devices, then apply again")
		}
		if o.EANState == models.FeatureApproved {
			return models.Errorf(models.EINVALIDSTATE, "the org is already approved for Endpoint attack notifications")
		}
		err := tx.Where("org_id = ? AND status = ?", o.ID, models.ApplicationSubmitted).Take(&app).Error
		if err == nil {
			return nil
		} else if !isNotFound(err) {
			return err
		}
		now := db.Now()
		app = models.Application{ID: newID("app"), OrgID: o.ID, SubmittedBy: actor.UserID, ContactName: in.ContactName,
			ContactEmail: in.ContactEmail, PrivacyAcceptedAt: now, Status: models.ApplicationSubmitted,
			ReviewDueAt: now.Add(reviewSLA), CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&app).Error; err != nil {
			return err
		}
		if plan != nil {
			ws, err := plan(&app)
			if err != nil {
				return err
			}
			if err := db.recordStart(tx, ws); err != nil {
				return err
			}
		}
		if err := tx.Model(&models.Org{}).Where("id = ?", o.ID).Updates(map[string]any{
			"ean_state": models.FeatureApplied, "ean_application_id": app.ID, "updated_at": now,
		}).Error; err != nil {
			return err
		}
		created = true
		return db.audit(tx, actor, o.ID, "application", app.ID, "submitted",
			map[string]any{"contact_name": app.ContactName, "contact_email": app.ContactEmail, "review_due_at": app.ReviewDueAt})
	})
	if err != nil {
		if isDuplicate(err) { // lost a race with a concurrent application: return the winner
			return db.openApplication(ctx, actor.OrgID)
		}
		return nil, false, err
	}
	return &app, created, nil
}

func (db *DB) openApplication(ctx context.Context, orgID string) (*models.Application, bool, error) {
	var app models.Application
	if err := db.gorm.WithContext(ctx).Where("org_id = ? AND status = ?", orgID, models.ApplicationSubmitted).Take(&app).Error; err != nil {
		return nil, false, notFound(err, "application")
	}
	return &app, false, nil
}

// AbortApplication undoes CreateApplication when its workflow could not be
// started, so the org is not left with an open application nobody runs. The
// audit log keeps both facts.
func (db *DB) AbortApplication(ctx context.Context, id string) error {
	return db.tx(ctx, func(tx *gorm.DB) error {
		var app models.Application
		if err := tx.Where("id = ?", id).Take(&app).Error; err != nil {
			return notFound(err, "application")
		}
		if err := tx.Delete(&app).Error; err != nil {
			return err
		}
		if err := db.forgetStart(tx, "application", id); err != nil {
			return err
		}
		if err := tx.Model(&models.Org{}).Where("id = ? AND ean_application_id = ?", app.OrgID, id).Updates(map[string]any{
			"ean_state": models.FeatureNotApplied, "ean_application_id": nil, "updated_at": db.Now(),
		}).Error; err != nil {
			return err
		}
		return db.audit(tx, models.System, app.OrgID, "application", id, "submission_aborted", map[string]string{"why": "the workflow could not be started"})
	})
}

// Application returns one application with its timeline, as seen from scope.
func (db *DB) Application(ctx context.Context, scope, id string) (*models.Application, error) {
	var app models.Application
	q := db.gorm.WithContext(ctx).Where("id = ?", id)
	if scope != "" {
		q = q.Where("org_id = ?", scope)
	}
	if err := q.Take(&app).Error; err != nil {
		return nil, notFound(err, "application")
	}
	tl, err := db.Timeline(ctx, "application", id)
	if err != nil {
		return nil, err
	}
	app.Timeline = tl
	return &app, nil
}

// Applications lists applications newest first.
func (db *DB) Applications(ctx context.Context, f models.ApplicationFilter) (models.List[models.Application], error) {
	q := db.gorm.WithContext(ctx).Model(&models.Application{})
	if f.OrgID != "" {
		q = q.Where("org_id = ?", f.OrgID)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	return pageByID(q, f.Page, func(a models.Application) string { return a.ID })
}

// DecideApplication commits a decision and, in the same transaction, the
// org's feature state: approval makes the toggle visible and enabled. Called
// by a workflow activity, so a retry of a committed decision is a no-op.
func (db *DB) DecideApplication(ctx context.Context, id string, to models.ApplicationStatus, actor models.Principal, note, reason string, at time.Time) error {
	at = at.UTC().Truncate(time.Microsecond)
	return db.tx(ctx, func(tx *gorm.DB) error {
		var app models.Application
		if err := tx.Where("id = ?", id).Take(&app).Error; err != nil {
			return notFound(err, "application")
		}
		if app.Status == to {
			return nil
		}
		if !app.Status.Open() {
			return models.Errorf(models.EINVALIDSTATE, "the application is already %s", app.Status)
		}
		upd := map[string]any{"status": to, "decided_by": actor.UserID, "decided_at": at, "updated_at": at}
		data := map[string]any{}
		if note != "" {
			upd["decision_note"], data["note"] = note, note
		}
		if reason != "" {
			upd["rejection_reason"], data["reason"] = reason, reason
		}
		if err := tx.Model(&app).Updates(upd).Error; err != nil {
			return err
		}
		feature := map[string]any{"updated_at": at}
		switch to {
		case models.ApplicationApproved:
			feature["ean_state"], feature["ean_visible"], feature["ean_enabled"] = models.FeatureApproved, true, true
		case models.ApplicationRejected:
			feature["ean_state"], feature["ean_visible"], feature["ean_enabled"] = models.FeatureRejected, false, false
		case models.ApplicationWithdrawn:
			feature["ean_state"] = models.FeatureNotApplied
		}
		if err := tx.Model(&models.Org{}).Where("id = ? AND ean_application_id = ?", app.OrgID, app.ID).Updates(feature).Error; err != nil {
			return err
		}
		return db.recordEvent(tx, AuditEvent{At: at, Key: "application/" + id + "/" + string(to), Actor: actor, OrgID: app.OrgID,
			Entity: "application", EntityID: id, Action: string(to), Data: data})
	})
}

// RecordApplicationEvent stamps a review-clock event (reminder, escalation) on
// the application and the audit log, once.
func (db *DB) RecordApplicationEvent(ctx context.Context, id, action string, at time.Time) error {
	at = at.UTC().Truncate(time.Microsecond)
	col := map[string]string{"review_reminder_sent": "reminder_sent_at", "review_escalated": "escalated_at"}[action]
	if col == "" {
		return models.Errorf(models.EINVALID, "unknown application event %q", action)
	}
	return db.tx(ctx, func(tx *gorm.DB) error {
		var app models.Application
		if err := tx.Where("id = ?", id).Take(&app).Error; err != nil {
			return notFound(err, "application")
		}
		if !app.Status.Open() { // the review clock of a decided application has stopped
			return models.Errorf(models.EINVALIDSTATE, "the application is already %s", app.Status)
		}
		if err := tx.Model(&app).Where(col+" IS NULL").Update(col, at).Error; err != nil {
			return err
		}
		return db.recordEvent(tx, AuditEvent{At: at, Key: "application/" + id + "/" + action, Actor: models.System, OrgID: app.OrgID,
			Entity: "application", EntityID: id, Action: action, Data: map[string]any{"review_due_at": app.ReviewDueAt}})
	})
}

// SetEndpointAttackNotifications switches an approved org's feature on or off.
func (db *DB) SetEndpointAttackNotifications(ctx context.Context, actor models.Principal, orgID string, enabled bool) (*models.Org, error) {
	var o models.Org
	err := db.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", orgID).Take(&o).Error; err != nil {
			return notFound(err, "org")
		}
		if !o.EANVisible || o.EANState != models.FeatureApproved {
			return models.Errorf(models.EINVALIDSTATE, "Endpoint attack notifications can be switched only once the org's application is approved (state: %s)", o.EANState)
		}
		if o.EANEnabled == enabled {
			return nil
		}
		o.EANEnabled, o.UpdatedAt = enabled, db.Now()
		if err := tx.Model(&o).Updates(map[string]any{"ean_enabled": enabled, "updated_at": o.UpdatedAt}).Error; err != nil {
			return err
		}
		return db.audit(tx, actor, o.ID, "org", o.ID, "endpoint_attack_notifications_toggled", map[string]bool{"enabled": enabled})
	})
	if err != nil {
		return nil, err
	}
	return &o, nil
}
