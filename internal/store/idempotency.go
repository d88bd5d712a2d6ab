package store

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/huntdesk/huntdesk/models"
)

func gormExpr(sql string) clause.Expr { return gorm.Expr(sql) }

type idempotencyRow struct {
	UserID       string `gorm:"primaryKey"`
	Key          string `gorm:"primaryKey;column:idem_key"`
	RequestHash  string
	StatusCode   int
	ResponseBody string
	Completed    bool
	LockedUntil  *time.Time // while in progress: the holder's lease
	CreatedAt    time.Time
}

// IdempotencyLease is how long a request holds its Idempotency-Key while it
// runs. A holder that finishes releases or completes the key itself; one that
// crashed, or lost its database connection, simply lets the lease run out, and
// a retry of the same request then takes the key over. It is far longer than
// any create takes (the body is read before the key is claimed), and far
// shorter than the 24 h the key is kept.
const IdempotencyLease = 60 * time.Second

func (idempotencyRow) TableName() string { return "idempotency_keys" }

// IdempotentResponse is a stored response to replay.
type IdempotentResponse struct {
	Status int
	Body   []byte
}

// BeginIdempotent claims (user, key) for a request whose body hashes to hash.
// It returns the stored response when the same request already completed;
// EIDEMPOTENCY when the key was used for another request; ECONFLICT while the
// first request is still running; and (nil, nil) when the caller now owns the
// key and must Complete or Abort it.
func (db *DB) BeginIdempotent(ctx context.Context, userID, key, hash string) (*IdempotentResponse, error) {
	now := db.Now()
	until := now.Add(IdempotencyLease)
	row := idempotencyRow{UserID: userID, Key: key, RequestHash: hash, LockedUntil: &until, CreatedAt: now}
	g := db.gorm.WithContext(ctx)
	res := g.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
	if res.Error != nil {
		return nil, mapErr(res.Error)
	}
	if res.RowsAffected == 1 {
		return nil, nil
	}
	var got idempotencyRow
	if err := g.Where("user_id = ? AND idem_key = ?", userID, key).Take(&got).Error; err != nil {
		return nil, mapErr(err)
	}
	switch {
	case got.RequestHash != hash:
		return nil, models.Errorf(models.EIDEMPOTENCY, "Idempotency-Key was already used for a different request")
	case !got.Completed:
		// The holder's lease ran out: take the key over, unless another
		// retry got there first (the update is conditional on the lease).
		if got.LockedUntil == nil || got.LockedUntil.Before(now) {
			q := g.Model(&idempotencyRow{}).Where("user_id = ? AND idem_key = ? AND completed = ?", userID, key, false)
			if got.LockedUntil == nil {
				q = q.Where("locked_until IS NULL")
			} else {
				q = q.Where("locked_until = ?", *got.LockedUntil)
			}
			res := q.Update("locked_until", until)
			if res.Error != nil {
				return nil, mapErr(res.Error)
			}
			if res.RowsAffected == 1 {
				return nil, nil
			}
		}
		return nil, models.Errorf(models.ECONFLICT, "a request with this Idempotency-Key is still in progress")
	}
	return &IdempotentResponse{Status: got.StatusCode, Body: []byte(got.ResponseBody)}, nil
}

// CompleteIdempotent stores the response to replay for (user, key). The
// first completion stands: a holder that lost its lease and finishes after
// the one that took the key over does not change what is replayed.
func (db *DB) CompleteIdempotent(ctx context.Context, userID, key string, status int, body []byte) error {
	return mapErr(db.gorm.WithContext(ctx).Model(&idempotencyRow{}).Where("user_id = ? AND idem_key = ? AND completed = ?", userID, key, false).
		Updates(map[string]any{"status_code": status, "response_body": string(body), "completed": true, "locked_until": nil}).Error)
}

// AbortIdempotent releases (user, key) after a failure worth retrying, so the
// retry runs the request again instead of replaying the failure.
func (db *DB) AbortIdempotent(ctx context.Context, userID, key string) error {
	return mapErr(db.gorm.WithContext(ctx).Where("user_id = ? AND idem_key = ? AND completed = ?", userID, key, false).Delete(&idempotencyRow{}).Error)
}

// PurgeIdempotent deletes keys older than before; the dev stack and workers
// call it periodically so the table does not grow forever.
func (db *DB) PurgeIdempotent(ctx context.Context, before time.Time) (int64, error) {
	res := db.gorm.WithContext(ctx).Where("created_at < ?", before.UTC()).Delete(&idempotencyRow{})
	return res.RowsAffected, mapErr(res.Error)
}
