package models

import (
	"encoding/json"
	"time"
)

// AuditEntry records one state change of one case: who did what, when. The
// log is append-only; the database refuses updates and deletes.
type AuditEntry struct {
	ID        string          `json:"id" gorm:"primaryKey"`
	At        time.Time       `json:"at"`
	ActorID   string          `json:"actor_id"`   // user id, or "system" for timers and workers
	ActorRole string          `json:"actor_role"` // role at the time, or "system"
	OrgID     string          `json:"org_id"`
	Entity    string          `json:"entity"` // e.g. "application", "org", "user", "token"
	EntityID  string          `json:"entity_id"`
	Action    string          `json:"action"` // e.g. "created", "approved", "sla_escalated"
	Data      json.RawMessage `json:"data" gorm:"type:text;serializer:json"`
}

// TableName keeps GORM off the pluralised default.
func (AuditEntry) TableName() string { return "audit_log" }

// SystemActor is the actor of changes made by timers and workers.
const SystemActor = "system"

// AuditFilter selects audit entries; zero fields match everything.
type AuditFilter struct {
	Entity   string
	EntityID string
	OrgID    string
	ActorID  string
	Since    *time.Time
	Until    *time.Time
	Page
}

// Page asks for one page of a list: at most Limit items after Cursor.
type Page struct {
	Limit  int
	Cursor string
}

// List is one page of results.
type List[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}
