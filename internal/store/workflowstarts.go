package store

import (
	"context"
	"encoding/json"
	"time"

	"gorm.io/gorm"

	"github.com/huntdesk/huntdesk/models"
)

// WorkflowStart is the recorded intent to start a case's workflow: written in
// the transaction of the case's row, marked started once Temporal has the
// workflow. Params is the workflow's input, JSON-encoded, fixed at creation:
// whoever starts it (the request, or the reconciler after a crash) starts it
// with the same input.
type WorkflowStart struct {
	WorkflowID   string `gorm:"primaryKey"`
	WorkflowType string
	Entity       string // "inquiry" or "application"
	EntityID     string
	Params       string
	CreatedAt    time.Time
	StartedAt    *time.Time
	Attempts     int
	LastError    string
}

func (WorkflowStart) TableName() string { return "workflow_starts" }

// NewWorkflowStart prepares a start record for a workflow of typ with params.
func NewWorkflowStart(workflowID, typ, entity, entityID string, params any) (*WorkflowStart, error) {
	b, err := json.Marshal(params)
	if err != nil {
		return nil, err
	}
	return &WorkflowStart{WorkflowID: workflowID, WorkflowType: typ, Entity: entity, EntityID: entityID, Params: string(b)}, nil
}

// RecordStart records ws in tx, the transaction that writes its case (for
// services whose case rows are written through a callback, e.g. alerts).
func (db *DB) RecordStart(tx *gorm.DB, ws *WorkflowStart) error { return db.recordStart(tx, ws) }

func (db *DB) recordStart(tx *gorm.DB, ws *WorkflowStart) error {
	ws.CreatedAt = db.Now()
	return tx.Create(ws).Error
}

// PendingStarts lists recorded workflow starts not yet marked started, oldest
// first, at most limit.
func (db *DB) PendingStarts(ctx context.Context, limit int) ([]WorkflowStart, error) {
	var out []WorkflowStart
	err := db.gorm.WithContext(ctx).Where("started_at IS NULL").Order("created_at, workflow_id").Limit(limit).Find(&out).Error
	return out, mapErr(err)
}

// StartOf returns the recorded start of an entity's workflow.
func (db *DB) StartOf(ctx context.Context, entity, entityID string) (*WorkflowStart, error) {
	var ws WorkflowStart
	if err := db.gorm.WithContext(ctx).Where("entity = ? AND entity_id = ?", entity, entityID).Take(&ws).Error; err != nil {
		return nil, notFound(err, "workflow start")
	}
	return &ws, nil
}

// MarkStarted records that Temporal has the workflow.
func (db *DB) MarkStarted(ctx context.Context, workflowID string) error {
	now := db.Now()
	return mapErr(db.gorm.WithContext(ctx).Model(&WorkflowStart{}).Where("workflow_id = ? AND started_at IS NULL", workflowID).
		Updates(map[string]any{"started_at": now, "attempts": gorm.Expr("attempts + 1"), "last_error": ""}).Error)
}

// StartFailed records a failed attempt; the start stays pending.
func (db *DB) StartFailed(ctx context.Context, workflowID string, cause error) error {
	msg := cause.Error()
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	return mapErr(db.gorm.WithContext(ctx).Model(&WorkflowStart{}).Where("workflow_id = ? AND started_at IS NULL", workflowID).
		Updates(map[string]any{"attempts": gorm.Expr("attempts + 1"), "last_error": msg}).Error)
}

// forgetStart removes the start of a case that is being removed.
func (db *DB) forgetStart(tx *gorm.DB, entity, entityID string) error {
	return tx.Where("entity = ? AND entity_id = ?", entity, entityID).Delete(&WorkflowStart{}).Error
}

// ForgetStart removes a recorded start whose case no longer exists.
func (db *DB) ForgetStart(ctx context.Context, workflowID string) error {
	return mapErr(db.gorm.WithContext(ctx).Where("workflow_id = ?", workflowID).Delete(&WorkflowStart{}).Error)
}

// CaseOpen reports whether the case a workflow start belongs to is still
// open (NotFound when it is gone).
func (db *DB) CaseOpen(ctx context.Context, entity, id string) (bool, error) {
	g := db.gorm.WithContext(ctx)
	switch entity {
	case "inquiry":
		var q models.Inquiry
		if err := g.Select("id", "status").Where("id = ?", id).Take(&q).Error; err != nil {
			return false, notFound(err, "inquiry")
		}
		return q.Status.Open(), nil
	case "alert": // an alert's notifications are due as long as the alert exists
		var a alertRow
		if err := g.Select("id").Where("id = ?", id).Take(&a).Error; err != nil {
			return false, notFound(err, "alert")
		}
		return true, nil
	case "application":
		var a models.Application
		if err := g.Select("id", "status").Where("id = ?", id).Take(&a).Error; err != nil {
			return false, notFound(err, "application")
		}
		return a.Status.Open(), nil
	}
	return false, models.Errorf(models.EINVALID, "unknown case kind %q", entity)
}
