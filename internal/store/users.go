package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/huntdesk/huntdesk/models"
)

// CreateUser creates a user in an existing org; the role must fit the org
// (staff roles in the provider org, customer roles in customer orgs).
func (db *DB) CreateUser(ctx context.Context, actor models.Principal, in models.UserInput) (*models.User, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	now := db.Now()
	u := &models.User{ID: newID("usr"), OrgID: in.OrgID, Email: in.Email, Name: in.Name, Role: in.Role, CreatedAt: now, UpdatedAt: now}
	err := db.tx(ctx, func(tx *gorm.DB) error {
		var o models.Org
		if err := tx.Where("id = ?", in.OrgID).Take(&o).Error; err != nil {
			if isNotFound(err) {
				return &models.Error{Code: models.EINVALID, Message: "request is invalid", Fields: map[string]string{"org_id": "no such org"}}
			}
			return err
		}
		if !models.RoleFitsOrg(in.Role, o.Kind) {
			return &models.Error{Code: models.EINVALID, Message: "request is invalid", Fields: map[string]string{"role": "expert and manager belong to the provider org; customer_viewer and customer_admin to a customer org"}}
		}
		if err := tx.Create(u).Error; err != nil {
			if isDuplicate(err) {
				return &models.Error{Code: models.ECONFLICT, Message: "a user with this email exists", Fields: map[string]string{"email": "is taken"}}
			}
			return err
		}
		return db.audit(tx, actor, u.OrgID, "user", u.ID, "created", map[string]any{"email": u.Email, "role": u.Role})
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// UpdateUser changes a user's name, role or disabled flag.
func (db *DB) UpdateUser(ctx context.Context, actor models.Principal, id string, p models.UserPatch) (*models.User, error) {
	var v models.Validation
	if p.Name != nil {
		*p.Name = strings.TrimSpace(*p.Name)
		v.Check(*p.Name != "" && len(*p.Name) <= 200, "name", "must be 1 to 200 characters")
	}
	if p.Role != nil {
		v.Check(p.Role.Valid(), "role", "must be one of customer_viewer, customer_admin, expert, manager")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var u models.User
	err := db.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", id).Take(&u).Error; err != nil {
			return notFound(err, "user")
		}
		if p.Role != nil {
			var o models.Org
			if err := tx.Where("id = ?", u.OrgID).Take(&o).Error; err != nil {
				return err
			}
			if !models.RoleFitsOrg(*p.Role, o.Kind) {
				return &models.Error{Code: models.EINVALID, Message: "request is invalid", Fields: map[string]string{"role": "does not fit the user's org"}}
			}
			u.Role = *p.Role
		}
		if p.Name != nil {
			u.Name = *p.Name
		}
		if p.Disabled != nil {
			u.Disabled = *p.Disabled
		}
		u.UpdatedAt = db.Now()
		if err := tx.Save(&u).Error; err != nil {
			return err
		}
		return db.audit(tx, actor, u.OrgID, "user", u.ID, "updated", p)
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// User returns a user as seen from scope.
func (db *DB) User(ctx context.Context, scope, id string) (*models.User, error) {
	var u models.User
	q := db.gorm.WithContext(ctx).Where("id = ?", id)
	if scope != "" {
		q = q.Where("org_id = ?", scope)
	}
	if err := q.Take(&u).Error; err != nil {
		return nil, notFound(err, "user")
	}
	return &u, nil
}

// UserByEmail finds a user by email.
func (db *DB) UserByEmail(ctx context.Context, email string) (*models.User, error) {
	var u models.User
	if err := db.gorm.WithContext(ctx).Where("email = ?", strings.ToLower(email)).Take(&u).Error; err != nil {
		return nil, notFound(err, "user")
	}
	return &u, nil
}

// Users lists users newest first, optionally of one org.
func (db *DB) Users(ctx context.Context, orgID string, p models.Page) (models.List[models.User], error) {
	q := db.gorm.WithContext(ctx).Model(&models.User{})
	if orgID != "" {
		q = q.Where("org_id = ?", orgID)
	}
	return pageByID(q, p, func(u models.User) string { return u.ID })
}

// Emails returns the addresses of enabled users holding any of roles, sorted,
// for notifications to "every manager" or "every expert".
func (db *DB) Emails(ctx context.Context, roles ...models.Role) ([]string, error) {
	var out []string
	err := db.gorm.WithContext(ctx).Model(&models.User{}).
		Where("role IN ? AND disabled = ?", roles, false).Order("email").Pluck("email", &out).Error
	return out, mapErr(err)
}

// Notifiable returns the addresses of the enabled users of role (or of the
// one user id, when given) whose preferences let an email of kind through.
func (db *DB) Notifiable(ctx context.Context, kind, userID string, roles ...models.Role) ([]string, error) {
	var users []models.User
	q := db.gorm.WithContext(ctx).Where("disabled = ?", false)
	if userID != "" {
		q = q.Where("id = ?", userID)
	} else {
		q = q.Where("role IN ?", roles)
	}
	if err := q.Order("email").Find(&users).Error; err != nil {
		return nil, mapErr(err)
	}
	var out []string
	for _, u := range users {
		if u.Notifications.Wants(kind) {
			out = append(out, u.Email)
		}
	}
	return out, nil
}

// SetNotifications records a user's notification switches (merged: a switch
// the patch leaves out keeps its value).
func (db *DB) SetNotifications(ctx context.Context, actor models.Principal, in models.NotificationPrefs) (*models.User, error) {
	var u models.User
	err := db.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", actor.UserID).Take(&u).Error; err != nil {
			return notFound(err, "user")
		}
		n := u.Notifications
		for _, sw := range []struct{ from, to **bool }{{&in.Queued, &n.Queued}, {&in.Assigned, &n.Assigned}, {&in.CustomerActivity, &n.CustomerActivity}, {&in.Cancelled, &n.Cancelled}} {
			if *sw.from != nil {
				*sw.to = *sw.from
			}
		}
		u.Notifications = n
		if err := tx.Model(&u).Select("notification_prefs").Updates(&models.User{Notifications: n}).Error; err != nil {
			return err
		}
		return db.audit(tx, actor, u.OrgID, "user", u.ID, "notifications_set", n)
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// tokenPrefix marks huntdesk secrets so secret scanners can find leaked ones.
const tokenPrefix = "hd_"

func hashToken(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// CreateToken issues an API token for a user. The secret is returned once;
// only its SHA-256 is stored.
func (db *DB) CreateToken(ctx context.Context, actor models.Principal, userID string, in models.TokenInput) (string, *models.Token, error) {
	var v models.Validation
	in.Name = strings.TrimSpace(in.Name)
	v.Check(in.Name != "" && len(in.Name) <= 100, "name", "must be 1 to 100 characters")
	v.Check(in.ExpiresAt == nil || in.ExpiresAt.After(db.Now()), "expires_at", "must be in the future")
	if err := v.Err(); err != nil {
		return "", nil, err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	secret := tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	t := &models.Token{ID: newID("tok"), UserID: userID, Name: in.Name, Prefix: secret[:10], Hash: hashToken(secret), CreatedAt: db.Now()}
	if in.ExpiresAt != nil {
		e := in.ExpiresAt.UTC()
		t.ExpiresAt = &e
	}
	err := db.tx(ctx, func(tx *gorm.DB) error {
		var u models.User
		if err := tx.Where("id = ?", userID).Take(&u).Error; err != nil {
			return notFound(err, "user")
		}
		if err := tx.Create(t).Error; err != nil {
			return err
		}
		return db.audit(tx, actor, u.OrgID, "token", t.ID, "created", map[string]any{"user_id": userID, "name": t.Name})
	})
	if err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

// Tokens lists a user's tokens (never their secrets).
func (db *DB) Tokens(ctx context.Context, userID string, p models.Page) (models.List[models.Token], error) {
	return pageByID(db.gorm.WithContext(ctx).Model(&models.Token{}).Where("user_id = ?", userID), p, func(t models.Token) string { return t.ID })
}

// RevokeToken revokes a token; revoking twice is a no-op.
func (db *DB) RevokeToken(ctx context.Context, actor models.Principal, id string) (*models.Token, error) {
	var t models.Token
	err := db.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", id).Take(&t).Error; err != nil {
			return notFound(err, "token")
		}
		if t.RevokedAt != nil {
			return nil
		}
		now := db.Now()
		t.RevokedAt = &now
		if err := tx.Model(&t).Update("revoked_at", now).Error; err != nil {
			return err
		}
		var u models.User
		if err := tx.Where("id = ?", t.UserID).Take(&u).Error; err != nil {
			return err
		}
		return db.audit(tx, actor, u.OrgID, "token", t.ID, "revoked", nil)
	})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// Authenticate resolves a bearer secret to its principal. Every failure is the
// same EUNAUTHORIZED so a caller learns nothing about which part was wrong.
func (db *DB) Authenticate(ctx context.Context, secret string) (models.Principal, error) {
	deny := models.Errorf(models.EUNAUTHORIZED, "missing or invalid bearer token")
	if strings.HasPrefix(secret, connectorPrefix) && len(secret) <= 100 {
		return db.authenticateConnector(ctx, secret)
	}
	if !strings.HasPrefix(secret, tokenPrefix) || len(secret) > 100 {
		return models.Principal{}, deny
	}
	var row struct {
		TokenID    string
		ExpiresAt  *time.Time
		RevokedAt  *time.Time
		LastUsedAt *time.Time
		models.User
	}
	err := db.gorm.WithContext(ctx).Table("tokens").
		Select("tokens.id AS token_id, tokens.expires_at, tokens.revoked_at, tokens.last_used_at, users.*").
		Joins("JOIN users ON users.id = tokens.user_id").
		Where("tokens.hash = ?", hashToken(secret)).Take(&row).Error
	if err != nil {
		if isNotFound(err) {
			return models.Principal{}, deny
		}
		return models.Principal{}, mapErr(err)
	}
	now := db.Now()
	if row.RevokedAt != nil || (row.ExpiresAt != nil && !row.ExpiresAt.After(now)) || row.User.Disabled {
		return models.Principal{}, deny
	}
	// Record use at most once a minute: a write per request would make every
	// read contend for the database's write lock.
	if row.LastUsedAt == nil || now.Sub(*row.LastUsedAt) > time.Minute {
		db.gorm.WithContext(ctx).Model(&models.Token{}).Where("id = ?", row.TokenID).Update("last_used_at", now)
	}
	return models.Principal{UserID: row.User.ID, OrgID: row.User.OrgID, Email: row.User.Email, Role: row.User.Role}, nil
}
