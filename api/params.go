package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/huntdesk/huntdesk/models"
)

// Path ids and query parameters are text from the caller like any body
// field: a NUL in one would reach PostgreSQL, which refuses it with an error
// (a 500). No stored id holds a control character, so such an id names
// nothing and answers as a missing one (404); a query parameter holding one
// is a 400 naming it.

// checkID refuses a path parameter that is not one line of text.
func checkID(c *gin.Context) error {
	for _, p := range c.Params {
		if !models.OneLine(p.Value) {
			return models.Errorf(models.ENOTFOUND, "no such %s", p.Key)
		}
	}
	return nil
}

// checkQuery refuses query parameters that are not one line of text, naming each.
func checkQuery(c *gin.Context) error {
	var v models.Validation
	for k, vals := range c.Request.URL.Query() {
		for _, s := range vals {
			v.Line(k, s)
		}
	}
	return v.Err()
}

// checkParams refuses a request whose path ids are not one line of text
// and, for the lists (GET routes without a path id, the ones that read
// their query), whose query parameters are not; wrap runs it for every
// route, after the role check.
func checkParams(c *gin.Context, r route) error {
	if err := checkID(c); err != nil {
		return err
	}
	if r.method == http.MethodGet && !strings.Contains(r.path, ":") {
		return checkQuery(c)
	}
	return nil
}
