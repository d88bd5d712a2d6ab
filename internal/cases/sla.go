package cases

import (
	"context"
	"time"

	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/models"
)

// SLA is what managers audit: the clocks of every open case.
type SLA struct {
	DB *store.DB
}

// Timers lists every open inquiry's and application's SLA clock.
func (s *SLA) Timers(ctx context.Context, p models.Principal, f models.SLATimerFilter) (models.List[models.SLATimer], error) {
	if p.Role != models.RoleManager { // the route says so too; the service keeps it
		return models.List[models.SLATimer]{}, models.Errorf(models.EFORBIDDEN, "only managers audit SLA timers")
	}
	if err := f.Validate(); err != nil {
		return models.List[models.SLATimer]{}, err
	}
	return s.DB.SLATimers(ctx, f)
}

// MaxReportPeriod bounds the SLA report's period.
const MaxReportPeriod = 366 * 24 * time.Hour

// Report computes the SLA report for [from, to): from defaults to 30 days
// before to, to to now.
func (s *SLA) Report(ctx context.Context, p models.Principal, from, to *time.Time, orgID string) (*models.SLAReport, error) {
	if p.Role != models.RoleManager {
		return nil, models.Errorf(models.EFORBIDDEN, "only managers read the SLA report")
	}
	end := s.DB.Now()
	if to != nil {
		end = to.UTC()
	}
	start := end.Add(-30 * 24 * time.Hour)
	if from != nil {
		start = from.UTC()
	}
	var v models.Validation
	v.Check(start.Before(end), "from", "must be before to")
	v.Check(end.Sub(start) <= MaxReportPeriod, "to", "the period may be at most 366 days")
	v.Line("org_id", orgID)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.DB.SLAReport(ctx, start, end, orgID)
}
