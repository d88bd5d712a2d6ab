package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/huntdesk/huntdesk/models"
)

// audit appends an entry in the transaction of the change it records, so the
// log never misses a change nor records one that rolled back.
func (db *DB) audit(tx *gorm.DB, actor models.Principal, orgID, entity, entityID, action string, data any) error {
	raw := json.RawMessage(`{}`)
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			return err
		}
		if string(b) != "null" {
			raw = b
		}
	}
	e := models.AuditEntry{ID: newID("aud"), At: db.Now(), ActorID: actor.UserID, ActorRole: string(actor.Role), OrgID: orgID, Entity: entity, EntityID: entityID, Action: action, Data: raw}
	return tx.Create(&e).Error
}

// Audit lists audit entries newest first.
func (db *DB) Audit(ctx context.Context, f models.AuditFilter) (models.List[models.AuditEntry], error) {
	q := db.gorm.WithContext(ctx).Model(&models.AuditEntry{})
	for col, v := range map[string]string{"entity": f.Entity, "entity_id": f.EntityID, "org_id": f.OrgID, "actor_id": f.ActorID} {
		if v != "" {
			q = q.Where(col+" = ?", v)
		}
	}
	if f.Since != nil {
		q = q.Where("at >= ?", f.Since.UTC())
	}
	if f.Until != nil {
		q = q.Where("at < ?", f.Until.UTC())
	}
	return pageByID(q, f.Page, func(e models.AuditEntry) string { return e.ID })
}

// Timeline returns every audit entry of one entity, oldest first.
func (db *DB) Timeline(ctx context.Context, entity, id string) ([]models.AuditEntry, error) {
	var out []models.AuditEntry
	err := db.gorm.WithContext(ctx).Where("entity = ? AND entity_id = ?", entity, id).Order("at, id").Find(&out).Error
	return out, mapErr(err)
}

// AppendAudit records an entry outside any other change (e.g. an SLA escalation).
func (db *DB) AppendAudit(ctx context.Context, actor models.Principal, orgID, entity, entityID, action string, data any) error {
	return db.tx(ctx, func(tx *gorm.DB) error { return db.audit(tx, actor, orgID, entity, entityID, action, data) })
}

// AuditEvent is an audit entry written by a workflow activity. Its ID derives
// from the event's workflow time and a key naming the event, so a retried
// activity writes it once.
type AuditEvent struct {
	At       time.Time
	Key      string // unique per event, e.g. "application/app_1/escalated"
	Actor    models.Principal
	OrgID    string
	Entity   string
	EntityID string
	Action   string
	Data     any
}

// eventID is time-ordered like newID (so keyset pages stay in time order) but
// deterministic in (at, key).
func eventID(prefix string, at time.Time, key string) string {
	h := sha256.Sum256([]byte(key))
	return fmt.Sprintf("%s_%012x%s", prefix, at.UnixMilli(), hex.EncodeToString(h[:])[:20])
}

func (db *DB) recordEvent(tx *gorm.DB, e AuditEvent) error {
	if done, err := eventRecorded(tx, e.Entity, e.EntityID, e.Key); err != nil || done {
		return err // once per key, even when retried at another time
	}
	raw := json.RawMessage(`{}`)
	if e.Data != nil {
		b, err := json.Marshal(e.Data)
		if err != nil {
			return err
		}
		raw = b
	}
	row := models.AuditEntry{ID: eventID("aud", e.At, e.Key), At: e.At.UTC().Truncate(time.Microsecond), ActorID: e.Actor.UserID, ActorRole: string(e.Actor.Role), OrgID: e.OrgID, Entity: e.Entity, EntityID: e.EntityID, Action: e.Action, Data: raw}
	return tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error
}

func jsonMarshal(v any) (json.RawMessage, error) { return json.Marshal(v) }
