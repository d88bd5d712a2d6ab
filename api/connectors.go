package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/huntdesk/huntdesk/models"
)

// Connectors is the org's-own-alerts part of Process C; *cases.Alerts
// implements it.
type Connectors interface {
	CreateConnector(ctx context.Context, p models.Principal, in models.ConnectorInput) (string, *models.Connector, error)
	Connectors(ctx context.Context, p models.Principal, orgID string) (models.List[models.Connector], error)
	RevokeConnector(ctx context.Context, p models.Principal, id string) (*models.Connector, error)
	Ingest(ctx context.Context, p models.Principal, b models.IngestBatch) (models.IngestResult, error)
}

var (
	connectorAdmins = []models.Role{models.RoleCustomerAdmin, models.RoleManager}
	connectorsOnly  = []models.Role{models.RoleConnector}
)

func (s *Server) connectorRoutes() []route {
	return []route{
		{method: "POST", path: "/api/v1/connectors", roles: connectorAdmins, create: true, handle: s.createConnector},
		{method: "GET", path: "/api/v1/connectors", roles: connectorAdmins, handle: s.listConnectors},
		{method: "DELETE", path: "/api/v1/connectors/:id", roles: connectorAdmins, handle: s.revokeConnector},
		// The one route a connector credential may call. Its body may be gzip.
		{method: "POST", path: "/api/v1/connector/alerts", roles: connectorsOnly, maxBody: models.MaxIngestBytes, handle: s.ingestAlerts},
	}
}

func (s *Server) createConnector(c *gin.Context, p models.Principal) (int, any, error) {
	var in models.ConnectorInput
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	secret, cn, err := s.Conn.CreateConnector(c, p, in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, struct {
		*models.Connector
		Token string `json:"token"`
	}{cn, secret}, nil
}

func (s *Server) listConnectors(c *gin.Context, p models.Principal) (int, any, error) {
	l, err := s.Conn.Connectors(c, p, c.Query("org_id"))
	return http.StatusOK, l, err
}

func (s *Server) revokeConnector(c *gin.Context, p models.Principal) (int, any, error) {
	cn, err := s.Conn.RevokeConnector(c, p, c.Param("id"))
	return http.StatusOK, cn, err
}

func (s *Server) ingestAlerts(c *gin.Context, p models.Principal) (int, any, error) {
	if enc := strings.ToLower(strings.TrimSpace(c.GetHeader("Content-Encoding"))); enc != "" && enc != "identity" {
		if enc != "gzip" {
			return 0, nil, models.Errorf(models.EUNSUPPORTED, "Content-Encoding must be gzip or none")
		}
		if err := gunzipBody(c, models.MaxIngestBytes); err != nil {
			return 0, nil, err
		}
	}
	var b models.IngestBatch
	if err := decode(c, &b); err != nil {
		return 0, nil, err
	}
	res, err := s.Conn.Ingest(c, p, b)
	return http.StatusOK, res, err
}

// gunzipBody replaces the request's gzip body by its content, refusing
// content over limit (a small body must not inflate into a large one).
func gunzipBody(c *gin.Context, limit int64) error {
	raw, err := readBody(c)
	if err != nil {
		return err
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return invalid("body", "is not gzip")
	}
	b, err := io.ReadAll(io.LimitReader(zr, limit+1))
	if err != nil {
		return invalid("body", "is not valid gzip")
	}
	if int64(len(b)) > limit {
		return models.Errorf(models.ETOOLARGE, "request body is larger than %d bytes once decompressed", limit)
	}
	c.Set(ctxBody, b)
	return nil
}
