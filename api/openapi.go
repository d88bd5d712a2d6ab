package api

import (
	_ "embed"

	"github.com/gin-gonic/gin"
)

// OpenAPI is the API's OpenAPI 3 document. A test keeps it true: every route
// must be in it and every response a test sees must match its schema.
//
//go:embed openapi.yaml
var OpenAPI []byte

func serveOpenAPI(c *gin.Context) { c.Data(200, "application/yaml", OpenAPI) }
