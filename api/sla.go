package api

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/huntdesk/huntdesk/models"
)

// SLA is what managers audit; *cases.SLA implements it.
type SLA interface {
	Timers(ctx context.Context, p models.Principal, f models.SLATimerFilter) (models.List[models.SLATimer], error)
}

func (s *Server) slaRoutes() []route {
	return checkedRoutes([]route{
		{method: "GET", path: "/api/v1/sla/timers", roles: managers, handle: s.slaTimers},
	})
}

func (s *Server) slaTimers(c *gin.Context, p models.Principal) (int, any, error) {
	pg, err := page(c)
	if err != nil {
		return 0, nil, err
	}
	l, err := s.SLA.Timers(c, p, models.SLATimerFilter{Kind: c.Query("kind"), State: c.Query("state"), OrgID: c.Query("org_id"),
		AssigneeID: c.Query("assignee_id"), Page: pg})
	return http.StatusOK, l, err
}
