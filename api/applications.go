package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/huntdesk/huntdesk/internal/cases"
	"github.com/huntdesk/huntdesk/models"
)

// Applications is Process A as the API needs it; *cases.Applications is the
// implementation.
type Applications interface {
	Submit(ctx context.Context, p models.Principal, in models.ApplicationInput) (*models.Application, bool, error)
	Get(ctx context.Context, p models.Principal, id string) (*models.Application, error)
	List(ctx context.Context, p models.Principal, f models.ApplicationFilter) (models.List[models.Application], error)
	Approve(ctx context.Context, p models.Principal, id, note string) (*models.Application, error)
	Reject(ctx context.Context, p models.Principal, id, reason string) (*models.Application, error)
	Withdraw(ctx context.Context, p models.Principal, id string) (*models.Application, error)
	Settings(ctx context.Context, p models.Principal, orgID string) (models.EndpointAttackNotifications, error)
	SetEnabled(ctx context.Context, p models.Principal, enabled bool) (models.EndpointAttackNotifications, error)
}

func (s *Server) applicationRoutes() []route {
	return []route{
		{method: "POST", path: "/api/v1/applications", roles: admins, create: true, handle: s.submitApplication},
		{method: "GET", path: "/api/v1/applications", roles: anyone, handle: s.listApplications},
		{method: "GET", path: "/api/v1/applications/:id", roles: anyone, handle: s.getApplication},
		{method: "POST", path: "/api/v1/applications/:id/approve", roles: managers, handle: s.approveApplication},
		{method: "POST", path: "/api/v1/applications/:id/reject", roles: managers, handle: s.rejectApplication},
		{method: "POST", path: "/api/v1/applications/:id/withdraw", roles: admins, handle: s.withdrawApplication},
		{method: "GET", path: "/api/v1/settings/advanced-features", roles: anyone, handle: s.getAdvancedFeatures},
		{method: "PATCH", path: "/api/v1/settings/advanced-features/endpoint-attack-notifications", roles: admins, handle: s.setEndpointAttackNotifications},
	}
}

func (s *Server) submitApplication(c *gin.Context, p models.Principal) (int, any, error) {
	var in models.ApplicationInput
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	app, created, err := s.Apps.Submit(c, p, in)
	if errors.Is(err, cases.ErrStarting) {
		// Recorded, with its workflow start: the reconciler starts it.
		return http.StatusAccepted, app, nil
	}
	if err != nil {
		return 0, nil, err
	}
	if !created {
		return http.StatusOK, app, nil
	}
	return http.StatusCreated, app, nil
}

func (s *Server) listApplications(c *gin.Context, p models.Principal) (int, any, error) {
	pg, err := page(c)
	if err != nil {
		return 0, nil, err
	}
	f := models.ApplicationFilter{Status: models.ApplicationStatus(c.Query("status")), OrgID: c.Query("org_id"), Page: pg}
	switch f.Status {
	case "", models.ApplicationSubmitted, models.ApplicationApproved, models.ApplicationRejected, models.ApplicationWithdrawn:
	default:
		return 0, nil, invalid("status", "must be one of submitted, approved, rejected, withdrawn")
	}
	l, err := s.Apps.List(c, p, f)
	return http.StatusOK, l, err
}

func (s *Server) getApplication(c *gin.Context, p models.Principal) (int, any, error) {
	app, err := s.Apps.Get(c, p, c.Param("id"))
	return http.StatusOK, app, err
}

// decisionBody reads an optional JSON body: an empty body is no note.
func decisionBody(c *gin.Context) (models.Decision, error) {
	var d models.Decision
	if c.Request.ContentLength == 0 && c.GetHeader("Content-Type") == "" {
		return d, nil
	}
	err := decode(c, &d)
	return d, err
}

func (s *Server) approveApplication(c *gin.Context, p models.Principal) (int, any, error) {
	d, err := decisionBody(c)
	if err != nil {
		return 0, nil, err
	}
	if err := d.Validate(models.ApplicationApproved); err != nil {
		return 0, nil, err
	}
	app, err := s.Apps.Approve(idem(c), p, c.Param("id"), d.Note)
	return http.StatusOK, app, err
}

func (s *Server) rejectApplication(c *gin.Context, p models.Principal) (int, any, error) {
	var d models.Decision
	if err := decode(c, &d); err != nil {
		return 0, nil, err
	}
	if err := d.Validate(models.ApplicationRejected); err != nil {
		return 0, nil, err
	}
	app, err := s.Apps.Reject(idem(c), p, c.Param("id"), d.Reason)
	return http.StatusOK, app, err
}

func (s *Server) withdrawApplication(c *gin.Context, p models.Principal) (int, any, error) {
	app, err := s.Apps.Withdraw(idem(c), p, c.Param("id"))
	return http.StatusOK, app, err
}

func (s *Server) getAdvancedFeatures(c *gin.Context, p models.Principal) (int, any, error) {
	org := p.OrgID
	if p.Role.Staff() {
		if org = c.Query("org_id"); org == "" {
			return 0, nil, invalid("org_id", "is required for provider staff")
		}
	}
	ean, err := s.Apps.Settings(c, p, org)
	return http.StatusOK, gin.H{"endpoint_attack_notifications": ean}, err
}

func (s *Server) setEndpointAttackNotifications(c *gin.Context, p models.Principal) (int, any, error) {
	var in struct {
		Enabled *bool `json:"enabled"`
	}
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	if in.Enabled == nil {
		return 0, nil, invalid("enabled", "is required (true or false)")
	}
	ean, err := s.Apps.SetEnabled(c, p, *in.Enabled)
	return http.StatusOK, gin.H{"endpoint_attack_notifications": ean}, err
}
