package store

import (
	"context"
	"encoding/json"
	"time"

	"gorm.io/gorm/clause"

	"github.com/huntdesk/huntdesk/internal/mail"
)

// outboxRow is one email as recorded before sending; see mail.Outbox.
type outboxRow struct {
	MessageID  string `gorm:"primaryKey"`
	Entity     string
	Event      string
	Recipients string
	Subject    string
	TextBody   string
	HTMLBody   string `gorm:"column:html_body"`
	Status     string
	Attempts   int
	LastError  string
	CreatedAt  time.Time
	SentAt     *time.Time
}

func (outboxRow) TableName() string { return "outbox" }

// Outbox is the database side of mail's send-once guarantee.
type Outbox struct{ db *DB }

// Outbox returns the mail outbox kept in this database.
func (db *DB) Outbox() *Outbox { return &Outbox{db: db} }

var _ mail.Outbox = (*Outbox)(nil)

// Reserve implements mail.Outbox.
func (o *Outbox) Reserve(ctx context.Context, e mail.OutboxEntry) (bool, error) {
	to, _ := json.Marshal(e.To)
	created := e.CreatedAt
	if created.IsZero() {
		created = o.db.Now()
	}
	row := outboxRow{MessageID: e.MessageID, Entity: e.Entity, Event: e.Event, Recipients: string(to), Subject: e.Subject, TextBody: e.Text, HTMLBody: e.HTML, Status: "pending", CreatedAt: created.UTC().Truncate(time.Microsecond)}
	g := o.db.gorm.WithContext(ctx)
	if err := g.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
		return false, mapErr(err)
	}
	var status string
	if err := g.Model(&outboxRow{}).Where("message_id = ?", e.MessageID).Pluck("status", &status).Error; err != nil {
		return false, mapErr(err)
	}
	return status == "sent", nil
}

// MarkSent implements mail.Outbox.
func (o *Outbox) MarkSent(ctx context.Context, messageID string, at time.Time) error {
	at = at.UTC().Truncate(time.Microsecond)
	return mapErr(o.db.gorm.WithContext(ctx).Model(&outboxRow{}).Where("message_id = ?", messageID).
		Updates(map[string]any{"status": "sent", "sent_at": at, "attempts": gormExpr("attempts + 1"), "last_error": ""}).Error)
}

// MarkFailed implements mail.Outbox.
func (o *Outbox) MarkFailed(ctx context.Context, messageID string, errText string) error {
	if len(errText) > 1000 {
		errText = errText[:1000]
	}
	return mapErr(o.db.gorm.WithContext(ctx).Model(&outboxRow{}).Where("message_id = ? AND status <> ?", messageID, "sent").
		Updates(map[string]any{"status": "failed", "attempts": gormExpr("attempts + 1"), "last_error": errText}).Error)
}

// OutboxEntry is an outbox row as tests and operators see it.
type OutboxEntry struct {
	MessageID, Entity, Event, Status, LastError string
	To                                          []string
	Subject                                     string
	Attempts                                    int
	SentAt                                      *time.Time
}

// Entries lists outbox rows for an entity ("" for all), oldest first.
func (o *Outbox) Entries(ctx context.Context, entity string) ([]OutboxEntry, error) {
	var rows []outboxRow
	q := o.db.gorm.WithContext(ctx).Order("created_at, message_id")
	if entity != "" {
		q = q.Where("entity = ?", entity)
	}
	if err := q.Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]OutboxEntry, len(rows))
	for i, r := range rows {
		out[i] = OutboxEntry{MessageID: r.MessageID, Entity: r.Entity, Event: r.Event, Status: r.Status, LastError: r.LastError, Subject: r.Subject, Attempts: r.Attempts, SentAt: r.SentAt}
		_ = json.Unmarshal([]byte(r.Recipients), &out[i].To)
	}
	return out, nil
}
