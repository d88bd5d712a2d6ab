package odata

import (
	"net/url"
	"strconv"
	"strings"
)

// Query is a request's OData options, checked against a schema.
type Query struct {
	Filter  Node    // nil: no $filter
	OrderBy []Order // empty: the resource's default order
	Top     int     // 1..MaxTop; DefaultTop when absent
	Skip    int     // ≥ 0
	Count   bool    // $count=true: the total matching count is wanted
}

// Order is one $orderby term.
type Order struct {
	Field *Field
	Desc  bool
}

// SQL is the term's ORDER BY expression, from the schema only.
func (o Order) SQL() string {
	expr := o.Field.OrderSQL
	if expr == "" {
		expr = o.Field.RankSQL
	}
	if expr == "" {
		expr = o.Field.Column
	}
	if o.Desc {
		return expr + " DESC"
	}
	return expr + " ASC"
}

// Limits of $top, as Defender's alerts API has them.
const (
	DefaultTop = 100
	MaxTop     = 1000
	maxSkip    = 1_000_000
)

// Parse reads $filter, $orderby, $top, $skip and $count from a query string.
// Other parameters are the caller's to read.
func Parse(schema *Schema, v url.Values) (Query, error) {
	q := Query{Top: DefaultTop}
	var err error
	if f, ok := v["$filter"]; ok {
		if len(f) != 1 {
			return q, errAt("$filter", 0, "may be given once")
		}
		if q.Filter, err = ParseFilter(schema, f[0]); err != nil {
			return q, err
		}
	}
	if s := v.Get("$top"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxTop {
			return q, errAt("$top", 0, "must be an integer from 1 to %d", MaxTop)
		}
		q.Top = n
	}
	if s := v.Get("$skip"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > maxSkip {
			return q, errAt("$skip", 0, "must be an integer from 0 to %d", maxSkip)
		}
		q.Skip = n
	}
	switch strings.ToLower(v.Get("$count")) {
	case "", "false":
	case "true":
		q.Count = true
	default:
		return q, errAt("$count", 0, "must be true or false")
	}
	if s := v.Get("$orderby"); s != "" {
		if q.OrderBy, err = parseOrderBy(schema, s); err != nil {
			return q, err
		}
	}
	return q, nil
}

func parseOrderBy(schema *Schema, s string) ([]Order, error) {
	toks, err := lex("$orderby", s)
	if err != nil {
		return nil, err
	}
	var out []Order
	seen := map[*Field]bool{}
	for i := 0; ; {
		t := toks[i]
		if t.kind != tIdent {
			return nil, errAt("$orderby", t.pos, "expected a property name but found %s", t)
		}
		f, ok := schema.Lookup(t.text)
		if !ok || !f.Sortable {
			return nil, errAt("$orderby", t.pos, "cannot order by %s; use one of %s", t.text, sortable(schema))
		}
		if seen[f] {
			return nil, errAt("$orderby", t.pos, "%s is named twice", t.text)
		}
		seen[f] = true
		o := Order{Field: f}
		i++
		if d := toks[i]; d.kind == tIdent {
			switch strings.ToLower(d.text) {
			case "asc":
			case "desc":
				o.Desc = true
			default:
				return nil, errAt("$orderby", d.pos, "expected asc or desc but found %s", d)
			}
			i++
		}
		out = append(out, o)
		switch t := toks[i]; t.kind {
		case tEOF:
			return out, nil
		case tComma:
			i++
		default:
			return nil, errAt("$orderby", t.pos, "expected , or the end but found %s", t)
		}
	}
}

func sortable(s *Schema) string {
	var n []string
	for _, f := range s.Fields {
		if f.Sortable {
			n = append(n, f.Name)
		}
	}
	return strings.Join(n, ", ")
}
