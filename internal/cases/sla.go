package cases

import (
	"context"

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
