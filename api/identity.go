package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/huntdesk/huntdesk/models"
)

// orgView is an org as the API shows it.
type orgView struct {
	ID                          string                             `json:"id"`
	Name                        string                             `json:"name"`
	Kind                        models.OrgKind                     `json:"kind"`
	DevicesEnrolled             int                                `json:"devices_enrolled"`
	Subscription                models.Subscription                `json:"subscription"`
	EndpointAttackNotifications models.EndpointAttackNotifications `json:"endpoint_attack_notifications"`
	CreatedAt                   time.Time                          `json:"created_at"`
	UpdatedAt                   time.Time                          `json:"updated_at"`
}

func viewOrg(o *models.Org) orgView {
	return orgView{ID: o.ID, Name: o.Name, Kind: o.Kind, DevicesEnrolled: o.DevicesEnrolled, Subscription: o.Subscription(),
		EndpointAttackNotifications: o.EAN(), CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
}

func viewOrgs(l models.List[models.Org]) models.List[orgView] {
	out := models.List[orgView]{Items: make([]orgView, len(l.Items)), NextCursor: l.NextCursor}
	for i := range l.Items {
		out.Items[i] = viewOrg(&l.Items[i])
	}
	return out
}

// patchMe sets the caller's own preferences: the "work arrived" emails.
func (s *Server) patchMe(c *gin.Context, p models.Principal) (int, any, error) {
	var in models.MePatch
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	if err := in.Validate(); err != nil {
		return 0, nil, err
	}
	if _, err := s.DB.SetNotifications(c, p, *in.Notifications); err != nil {
		return 0, nil, err
	}
	return s.me(c, p)
}

func (s *Server) me(c *gin.Context, p models.Principal) (int, any, error) {
	u, err := s.DB.User(c, "", p.UserID)
	if err != nil {
		return 0, nil, err
	}
	o, err := s.DB.Org(c, "", p.OrgID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, gin.H{"user": u, "org": viewOrg(o)}, nil
}

func (s *Server) listOrgs(c *gin.Context, p models.Principal) (int, any, error) {
	pg, err := page(c)
	if err != nil {
		return 0, nil, err
	}
	l, err := s.DB.Orgs(c, pg)
	return http.StatusOK, viewOrgs(l), err
}

func (s *Server) createOrg(c *gin.Context, p models.Principal) (int, any, error) {
	var in models.OrgInput
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	o, err := s.DB.CreateOrg(c, p, models.OrgCustomer, in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, viewOrg(o), nil
}

func (s *Server) getOrg(c *gin.Context, p models.Principal) (int, any, error) {
	o, err := s.DB.Org(c, p.Scope(), c.Param("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, viewOrg(o), nil
}

func (s *Server) updateOrg(c *gin.Context, p models.Principal) (int, any, error) {
	var in models.OrgInput
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	o, err := s.DB.UpdateOrg(c, p, c.Param("id"), in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, viewOrg(o), nil
}

func (s *Server) listUsers(c *gin.Context, p models.Principal) (int, any, error) {
	pg, err := page(c)
	if err != nil {
		return 0, nil, err
	}
	l, err := s.DB.Users(c, c.Query("org_id"), pg)
	return http.StatusOK, l, err
}

func (s *Server) createUser(c *gin.Context, p models.Principal) (int, any, error) {
	var in models.UserInput
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	u, err := s.DB.CreateUser(c, p, in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, u, nil
}

func (s *Server) getUser(c *gin.Context, p models.Principal) (int, any, error) {
	u, err := s.DB.User(c, p.Scope(), c.Param("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, u, nil
}

func (s *Server) updateUser(c *gin.Context, p models.Principal) (int, any, error) {
	var in models.UserPatch
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	if err := in.Validate(); err != nil {
		return 0, nil, err
	}
	u, err := s.DB.UpdateUser(c, p, c.Param("id"), in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, u, nil
}

func (s *Server) listTokens(c *gin.Context, p models.Principal) (int, any, error) {
	pg, err := page(c)
	if err != nil {
		return 0, nil, err
	}
	if _, err := s.DB.User(c, "", c.Param("id")); err != nil {
		return 0, nil, err
	}
	l, err := s.DB.Tokens(c, c.Param("id"), pg)
	return http.StatusOK, l, err
}

// createdToken is the only response that ever carries a token's secret.
type createdToken struct {
	models.Token
	Secret string `json:"token"`
}

func (s *Server) createToken(c *gin.Context, p models.Principal) (int, any, error) {
	var in models.TokenInput
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	if err := in.Validate(); err != nil {
		return 0, nil, err
	}
	secret, t, err := s.DB.CreateToken(c, p, c.Param("id"), in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, createdToken{Token: *t, Secret: secret}, nil
}

func (s *Server) revokeToken(c *gin.Context, p models.Principal) (int, any, error) {
	t, err := s.DB.RevokeToken(c, p, c.Param("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, t, nil
}

func (s *Server) listAudit(c *gin.Context, p models.Principal) (int, any, error) {
	pg, err := page(c)
	if err != nil {
		return 0, nil, err
	}
	f := models.AuditFilter{Entity: c.Query("entity"), EntityID: c.Query("entity_id"), OrgID: c.Query("org_id"), ActorID: c.Query("actor_id"), Page: pg}
	if f.Since, err = queryTime(c, "since"); err != nil {
		return 0, nil, err
	}
	if f.Until, err = queryTime(c, "until"); err != nil {
		return 0, nil, err
	}
	l, err := s.DB.Audit(c, f)
	return http.StatusOK, l, err
}
