package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"gorm.io/gorm"

	"github.com/huntdesk/huntdesk/models"
)

// keyHash is the part of an event's audit id that derives from its key
// alone (eventID's last 20 hex digits).
func keyHash(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])[:20]
}

// eventRecorded reports whether entity/entityID's audit log holds the event
// named key, at whatever time it was recorded: an event is recorded once per
// key, even when a commit is retried later with another time. (The id keeps
// its time prefix, so audit pages stay in time order.)
func eventRecorded(tx *gorm.DB, entity, entityID, key string) (bool, error) {
	var n int64
	err := tx.Model(&models.AuditEntry{}).Where("entity = ? AND entity_id = ? AND id LIKE ?", entity, entityID, "%"+keyHash(key)).Count(&n).Error
	return n > 0, err
}

// InquiryEventRecorded reports whether the inquiry's change named key (as
// in InquiryChange.Key) was committed: a workflow asks when its commit gave
// up and the outcome is unknown.
func (db *DB) InquiryEventRecorded(ctx context.Context, inquiryID, key string) (bool, error) {
	ok, err := eventRecorded(db.gorm.WithContext(ctx), "inquiry", inquiryID, "inquiry/"+inquiryID+"/"+key)
	return ok, mapErr(err)
}
