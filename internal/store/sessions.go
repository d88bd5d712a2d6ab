package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/huntdesk/huntdesk/models"
)

// The console's secrets: one-time sign-in links and browser sessions. Only
// their SHA-256 is stored, so a copy of the database signs nobody in.
const (
	SignInLinkTTL  = 15 * time.Minute
	SessionIdleTTL = 12 * time.Hour
	// At most this many links per person per SignInLinkTTL: a form anyone
	// can post must not become a way to flood someone's mailbox.
	maxLinksPerWindow = 5
)

type signInLink struct {
	Hash      string `gorm:"primaryKey"`
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

func (signInLink) TableName() string { return "sign_in_links" }

type sessionRow struct {
	Hash       string `gorm:"primaryKey"`
	UserID     string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

func (sessionRow) TableName() string { return "sessions" }

func secret(prefix string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// CreateSignInLink makes a one-time sign-in secret for the enabled user with
// this email. An unknown or disabled email is models.ENOTFOUND (the console
// shows the same page either way); more than a few links in a window is
// models.ERATELIMITED.
func (db *DB) CreateSignInLink(ctx context.Context, email string) (string, *models.User, error) {
	var u models.User
	if err := db.gorm.WithContext(ctx).Where("email = ? AND disabled = ?", strings.ToLower(strings.TrimSpace(email)), false).Take(&u).Error; err != nil {
		return "", nil, notFound(err, "user")
	}
	tok, err := secret("hdl_")
	if err != nil {
		return "", nil, err
	}
	now := db.Now()
	err = db.tx(ctx, func(tx *gorm.DB) error {
		var recent int64
		if err := tx.Model(&signInLink{}).Where("user_id = ? AND created_at > ?", u.ID, now.Add(-SignInLinkTTL)).Count(&recent).Error; err != nil {
			return err
		}
		if recent >= maxLinksPerWindow {
			return models.Errorf(models.ERATELIMITED, "too many sign-in links; use the last one or wait a few minutes")
		}
		return tx.Create(&signInLink{Hash: hashToken(tok), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(SignInLinkTTL)}).Error
	})
	if err != nil {
		return "", nil, err
	}
	return tok, &u, nil
}

// UseSignInLink spends a sign-in link, once, and opens a session; it returns
// the session secret for the cookie. A used, expired or unknown link is
// models.EUNAUTHORIZED.
func (db *DB) UseSignInLink(ctx context.Context, link string) (string, models.Principal, error) {
	deny := models.Errorf(models.EUNAUTHORIZED, "this sign-in link is used, expired or unknown: ask for a new one")
	sess, err := secret("hds_")
	if err != nil {
		return "", models.Principal{}, err
	}
	var p models.Principal
	err = db.tx(ctx, func(tx *gorm.DB) error {
		now := db.Now()
		var l signInLink
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("hash = ?", hashToken(link)).Take(&l).Error; err != nil {
			if isNotFound(err) {
				return deny
			}
			return err
		}
		if l.UsedAt != nil || !now.Before(l.ExpiresAt) {
			return deny
		}
		// Spent whatever happens next: the guard makes a racing second use
		// update nothing.
		res := tx.Model(&signInLink{}).Where("hash = ? AND used_at IS NULL", l.Hash).Update("used_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return deny
		}
		var u models.User
		if err := tx.Where("id = ? AND disabled = ?", l.UserID, false).Take(&u).Error; err != nil {
			if isNotFound(err) {
				return deny
			}
			return err
		}
		p = models.Principal{UserID: u.ID, OrgID: u.OrgID, Email: u.Email, Role: u.Role}
		if err := tx.Create(&sessionRow{Hash: hashToken(sess), UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(SessionIdleTTL)}).Error; err != nil {
			return err
		}
		return db.audit(tx, p, u.OrgID, "user", u.ID, "signed_in", map[string]string{"via": "console"})
	})
	if err != nil {
		return "", models.Principal{}, err
	}
	return sess, p, nil
}

// Session returns who a session belongs to and slides its idle expiry
// (written at most once a minute). An unknown, expired or disabled one is
// models.EUNAUTHORIZED.
func (db *DB) Session(ctx context.Context, sess string) (models.Principal, error) {
	deny := models.Errorf(models.EUNAUTHORIZED, "not signed in")
	if !strings.HasPrefix(sess, "hds_") || len(sess) > 100 {
		return models.Principal{}, deny
	}
	g := db.gorm.WithContext(ctx)
	var row sessionRow
	if err := g.Where("hash = ?", hashToken(sess)).Take(&row).Error; err != nil {
		if isNotFound(err) {
			return models.Principal{}, deny
		}
		return models.Principal{}, mapErr(err)
	}
	now := db.Now()
	var u models.User
	if err := g.Where("id = ?", row.UserID).Take(&u).Error; err != nil {
		return models.Principal{}, notFound(err, "user")
	}
	if !now.Before(row.ExpiresAt) || u.Disabled {
		return models.Principal{}, deny
	}
	if now.Sub(row.LastSeenAt) > time.Minute {
		g.Model(&sessionRow{}).Where("hash = ?", row.Hash).Updates(map[string]any{"last_seen_at": now, "expires_at": now.Add(SessionIdleTTL)})
	}
	return models.Principal{UserID: u.ID, OrgID: u.OrgID, Email: u.Email, Role: u.Role}, nil
}

// EndSession signs a browser out.
func (db *DB) EndSession(ctx context.Context, sess string) error {
	return mapErr(db.gorm.WithContext(ctx).Where("hash = ?", hashToken(sess)).Delete(&sessionRow{}).Error)
}
