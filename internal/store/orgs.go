package store

import (
	"context"
	"errors"
	"strings"

	"gorm.io/gorm"

	"github.com/huntdesk/huntdesk/models"
)

// CreateOrg creates an org of kind k.
func (db *DB) CreateOrg(ctx context.Context, actor models.Principal, k models.OrgKind, in models.OrgInput) (*models.Org, error) {
	if err := in.Validate(true); err != nil {
		return nil, err
	}
	now := db.Now()
	o := &models.Org{ID: newID("org"), Name: strings.TrimSpace(*in.Name), Kind: k, Plan: models.PlanNone, EANState: models.FeatureNotApplied, CreatedAt: now, UpdatedAt: now}
	applyOrgInput(o, in)
	err := db.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(o).Error; err != nil {
			if isDuplicate(err) {
				return &models.Error{Code: models.ECONFLICT, Message: "an org with this name exists", Fields: map[string]string{"name": "is taken"}}
			}
			return err
		}
		return db.audit(tx, actor, o.ID, "org", o.ID, "created", in)
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

func applyOrgInput(o *models.Org, in models.OrgInput) {
	if in.Name != nil {
		o.Name = strings.TrimSpace(*in.Name)
	}
	if in.DevicesEnrolled != nil {
		o.DevicesEnrolled = *in.DevicesEnrolled
	}
	if s := in.Subscription; s != nil {
		o.Plan, o.TrialEndsAt, o.TrialAllowance = s.Plan, nil, 0
		if s.Plan == models.PlanTrial {
			t := s.TrialEndsAt.UTC()
			o.TrialEndsAt, o.TrialAllowance = &t, *s.TrialAllowance
		}
	}
}

// UpdateOrg changes an org's name, devices or subscription.
func (db *DB) UpdateOrg(ctx context.Context, actor models.Principal, id string, in models.OrgInput) (*models.Org, error) {
	if err := in.Validate(false); err != nil {
		return nil, err
	}
	var o models.Org
	err := db.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", id).Take(&o).Error; err != nil {
			return notFound(err, "org")
		}
		applyOrgInput(&o, in)
		o.UpdatedAt = db.Now()
		if err := tx.Save(&o).Error; err != nil {
			if isDuplicate(err) {
				return &models.Error{Code: models.ECONFLICT, Message: "an org with this name exists", Fields: map[string]string{"name": "is taken"}}
			}
			return err
		}
		return db.audit(tx, actor, o.ID, "org", o.ID, "updated", in)
	})
	if err != nil {
		return nil, err
	}
	return &o, nil
}

// Org returns the org id as seen from scope ("" sees every org).
func (db *DB) Org(ctx context.Context, scope, id string) (*models.Org, error) {
	if scope != "" && scope != id {
		return nil, models.NotFound("org")
	}
	var o models.Org
	if err := db.gorm.WithContext(ctx).Where("id = ?", id).Take(&o).Error; err != nil {
		return nil, notFound(err, "org")
	}
	return &o, nil
}

// OrgByName finds an org by its unique name.
func (db *DB) OrgByName(ctx context.Context, name string) (*models.Org, error) {
	var o models.Org
	if err := db.gorm.WithContext(ctx).Where("name = ?", name).Take(&o).Error; err != nil {
		return nil, notFound(err, "org")
	}
	return &o, nil
}

// Orgs lists orgs newest first.
func (db *DB) Orgs(ctx context.Context, p models.Page) (models.List[models.Org], error) {
	return pageByID(db.gorm.WithContext(ctx).Model(&models.Org{}), p, func(o models.Org) string { return o.ID })
}

// InquirySummary is what names an inquiry's workflow: its org's name and
// its topic group ("" when none), in one query.
func (db *DB) InquirySummary(ctx context.Context, id string) (org, group string, err error) {
	var row struct {
		Name       string
		TopicGroup *string
	}
	err = db.gorm.WithContext(ctx).Table("inquiries").Select("orgs.name, inquiries.topic_group").
		Joins("JOIN orgs ON orgs.id = inquiries.org_id").Where("inquiries.id = ?", id).Take(&row).Error
	if err != nil {
		return "", "", notFound(err, "inquiry")
	}
	if row.TopicGroup != nil {
		group = *row.TopicGroup
	}
	return row.Name, group, nil
}

// OrgNames maps each of ids to its org's name, in one query (a list page
// names the orgs of its rows).
func (db *DB) OrgNames(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct{ ID, Name string }
	if err := db.gorm.WithContext(ctx).Model(&models.Org{}).Select("id", "name").Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, nil
}

// notFound maps a missing row to the one NotFound error of its kind.
func notFound(err error, kind string) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return models.NotFound(kind)
	}
	return mapErr(err)
}

func isDuplicate(err error) bool {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "duplicate key value") || strings.Contains(s, "SQLSTATE 23505")
}

func isNotFound(err error) bool { return errors.Is(err, gorm.ErrRecordNotFound) }
