package store

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/huntdesk/huntdesk/internal/odata"
	"github.com/huntdesk/huntdesk/models"
)

// listQuery is one page of an OData-filtered list: the filter, the order
// (terms, then the id as a tiebreak) and either an opaque keyset cursor or
// $skip.
type listQuery struct {
	odata.Query
	Cursor string
	idCol  string // e.g. "alerts.id"
}

// sortKey is an item's value of a sortable field, as its cursor keeps it.
func sortKey(field string, sev models.Severity, created, updated time.Time) any {
	switch field {
	case "severity":
		return sev.Rank()
	case "created_at":
		return created
	case "updated_at":
		return updated
	}
	return nil
}

// listedRow is a stored row of an OData list: the item it holds, its id,
// and its values of the sortable fields.
type listedRow[R, T any] interface {
	*R
	listed() (*T, string)
	sortKey(field string) any
}

// pageOData runs one page of an OData list over table: the caller's org
// (scope), or for staff the org they name; the filter, order and page; and
// the $count of every match when asked.
func pageOData[R, T any, PR listedRow[R, T]](q *gorm.DB, table, scope string, f AlertFilter, schema *odata.Schema) (models.List[T], *int64, error) {
	if scope != "" {
		q = q.Where(table+".org_id = ?", scope)
	} else if f.OrgID != "" {
		q = q.Where(table+".org_id = ?", f.OrgID)
	}
	var count *int64
	if f.Count {
		var n int64
		cq := q.Session(&gorm.Session{})
		if f.Filter != nil {
			where, args := odata.SQL(f.Filter)
			cq = cq.Where(where, args...)
		}
		if err := cq.Count(&n).Error; err != nil {
			return models.List[T]{}, nil, mapErr(err)
		}
		count = &n
	}
	lq := listQuery{Query: withDefaultOrder(f.Query, schema), Cursor: f.Cursor, idCol: table + ".id"}
	q, err := lq.apply(q)
	if err != nil {
		return models.List[T]{}, nil, err
	}
	var rows []R
	if err := q.Find(&rows).Error; err != nil {
		return models.List[T]{}, nil, mapErr(err)
	}
	out := models.List[T]{Items: make([]T, 0, len(rows))}
	if len(rows) > lq.Top {
		rows = rows[:lq.Top]
		last := PR(&rows[len(rows)-1])
		_, id := last.listed()
		out.NextCursor = lq.next(last.sortKey, id)
	}
	for i := range rows {
		item, _ := PR(&rows[i]).listed()
		out.Items = append(out.Items, *item)
	}
	return out, count, nil
}

// odataCursor is the position after a page's last item: the values of the
// order terms and the id. Clients see it base64-encoded and opaque.
type odataCursor struct {
	Vals []string `json:"v"`
	ID   string   `json:"i"`
}

func badCursor() error {
	return &models.Error{Code: models.EINVALID, Message: "request is invalid", Fields: map[string]string{"cursor": "is not a cursor this server issued for this order"}}
}

// apply adds the filter, the keyset position, the order and the limit to q.
func (lq listQuery) apply(q *gorm.DB) (*gorm.DB, error) {
	if lq.Filter != nil {
		where, args := odata.SQL(lq.Filter)
		q = q.Where(where, args...)
	}
	if lq.Cursor != "" {
		if lq.Skip > 0 {
			return nil, &models.Error{Code: models.EINVALID, Message: "request is invalid", Fields: map[string]string{"$skip": "cannot be combined with cursor"}}
		}
		var c odataCursor
		b, err := base64.RawURLEncoding.DecodeString(lq.Cursor)
		if err == nil {
			err = json.Unmarshal(b, &c)
		}
		if err != nil || c.ID == "" || !models.OneLine(c.ID) || len(c.Vals) != len(lq.OrderBy) {
			return nil, badCursor()
		}
		vals := make([]any, len(c.Vals))
		for i, o := range lq.OrderBy {
			if vals[i], err = parseKey(o.Field, c.Vals[i]); err != nil {
				return nil, badCursor()
			}
		}
		// (t1, …, tn, id) after (v1, …, vn, id0) in the order's directions.
		var or []string
		var args []any
		for k := 0; k <= len(lq.OrderBy); k++ {
			var and []string
			for j := 0; j < k; j++ {
				and = append(and, orderExpr(lq.OrderBy[j])+" = ?")
				args = append(args, vals[j])
			}
			if k < len(lq.OrderBy) {
				op := ">"
				if lq.OrderBy[k].Desc {
					op = "<"
				}
				and = append(and, orderExpr(lq.OrderBy[k])+" "+op+" ?")
				args = append(args, vals[k])
			} else {
				and = append(and, lq.idCol+" < ?")
				args = append(args, c.ID)
			}
			or = append(or, "("+strings.Join(and, " AND ")+")")
		}
		q = q.Where("("+strings.Join(or, " OR ")+")", args...)
	}
	for _, o := range lq.OrderBy {
		q = q.Order(o.SQL())
	}
	q = q.Order(lq.idCol + " DESC")
	if lq.Skip > 0 {
		q = q.Offset(lq.Skip)
	}
	return q.Limit(lq.Top + 1), nil
}

// next is the cursor after the last item of a full page: its values of the
// order's fields (sortKey) and its id.
func (lq listQuery) next(sortKey func(string) any, id string) string {
	c := odataCursor{ID: id, Vals: []string{}}
	for _, o := range lq.OrderBy {
		switch v := sortKey(o.Field.Name).(type) {
		case time.Time:
			c.Vals = append(c.Vals, v.UTC().Format(time.RFC3339Nano))
		case int:
			c.Vals = append(c.Vals, strconv.Itoa(v))
		default:
			c.Vals = append(c.Vals, "")
		}
	}
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func orderExpr(o odata.Order) string {
	s := o.SQL()
	return s[:strings.LastIndexByte(s, ' ')]
}

func parseKey(f *odata.Field, s string) (any, error) {
	if f.Type == odata.DateTime {
		return time.Parse(time.RFC3339Nano, s)
	}
	return strconv.ParseInt(s, 10, 64)
}

// withDefaultOrder orders by created_at, newest first, when the client
// named no order.
func withDefaultOrder(q odata.Query, s *odata.Schema) odata.Query {
	if len(q.OrderBy) == 0 {
		f, _ := s.Lookup("created_at")
		q.OrderBy = []odata.Order{{Field: f, Desc: true}}
	}
	return q
}
