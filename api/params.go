package api

import (
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

// checked runs h after checkID and, for routes that read their query, checkQuery.
func checked(query bool, h handler) handler {
	return func(c *gin.Context, p models.Principal) (int, any, error) {
		if err := checkID(c); err != nil {
			return 0, nil, err
		}
		if query {
			if err := checkQuery(c); err != nil {
				return 0, nil, err
			}
		}
		return h(c, p)
	}
}

// checkedRoutes puts checked in front of every route's handler; GET routes
// without a path id (the lists) also check their query.
func checkedRoutes(rs []route) []route {
	for i := range rs {
		rs[i].handle = checked(rs[i].method == "GET" && !strings.Contains(rs[i].path, ":"), rs[i].handle)
	}
	return rs
}
