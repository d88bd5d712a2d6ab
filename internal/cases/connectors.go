package cases

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/models"
)

// CreateConnector makes a connector credential for the caller's org (a
// manager names the org); the secret is returned once.
func (s *Alerts) CreateConnector(ctx context.Context, p models.Principal, in models.ConnectorInput) (string, *models.Connector, error) {
	if err := in.Validate(); err != nil {
		return "", nil, err
	}
	org, err := ruleOrg(p, in.OrgID)
	if err != nil {
		return "", nil, err
	}
	return s.DB.CreateConnector(ctx, p, org, in)
}

// Connectors lists an org's connectors.
func (s *Alerts) Connectors(ctx context.Context, p models.Principal, orgID string) (models.List[models.Connector], error) {
	org, err := ruleOrg(p, orgID)
	if err != nil {
		return models.List[models.Connector]{}, err
	}
	cs, err := s.DB.Connectors(ctx, org)
	return models.List[models.Connector]{Items: cs}, err
}

// RevokeConnector revokes a connector; its secret stops working at once.
func (s *Alerts) RevokeConnector(ctx context.Context, p models.Principal, id string) (*models.Connector, error) {
	return s.DB.RevokeConnector(ctx, p, p.Scope(), id)
}

// Ingest takes a connector's batch: each item is checked on its own (a bad
// one is rejected with its index and reasons, the rest go on), the valid
// ones are upserted in one transaction, and new alerts that the org's rules
// match get their notification workflow.
func (s *Alerts) Ingest(ctx context.Context, p models.Principal, b models.IngestBatch) (models.IngestResult, error) {
	res := models.IngestResult{Errors: []models.IngestError{}}
	var v models.Validation
	v.Check(len(b.Alerts) >= 1 && len(b.Alerts) <= models.MaxIngestBatch, "alerts", "must hold 1 to 1,000 alerts")
	if err := v.Err(); err != nil {
		return res, err
	}
	now := s.DB.Now()
	seen := map[string]int{}
	valid := make([]models.IngestAlert, 0, len(b.Alerts))
	for i := range b.Alerts {
		it := b.Alerts[i]
		err := it.Validate(now)
		if err == nil {
			if first, dup := seen[it.ExternalID]; dup {
				err = &models.Error{Code: models.EINVALID, Fields: map[string]string{"external_id": fmt.Sprintf("is the same as item %d's in this batch", first)}}
			}
		}
		if err != nil {
			fields := map[string]string{"item": models.ErrorMessage(err)}
			if me, ok := err.(*models.Error); ok && len(me.Fields) > 0 {
				fields = me.Fields
			}
			res.Errors = append(res.Errors, models.IngestError{Index: i, ExternalID: clipID(it.ExternalID), Fields: fields})
			continue
		}
		seen[it.ExternalID] = i
		valid = append(valid, it)
	}
	res.Rejected = len(res.Errors)
	if len(valid) == 0 {
		return res, nil
	}
	var starts []*store.WorkflowStart
	done, err := s.DB.IngestAlerts(ctx, p, valid, func(tx *gorm.DB, as []*models.Alert) error { return s.recordStarts(tx, as, &starts) })
	if err != nil {
		return res, err
	}
	res.Created, res.Updated = len(done.Created), len(done.Updated)
	s.start(ctx, starts)
	return res, nil
}

func clipID(s string) string {
	if len(s) > 200 {
		return s[:200]
	}
	return s
}
