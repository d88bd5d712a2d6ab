package odata

import (
	"strconv"
	"strings"
)

// SQL renders n as a WHERE clause with "?" placeholders and its arguments.
// Everything in the clause comes from the schema or from fixed keywords;
// every value the client wrote is an argument.
func SQL(n Node) (string, []any) {
	var b strings.Builder
	var args []any
	writeSQL(&b, &args, n, "")
	return b.String(), args
}

var sqlOps = map[string]string{"eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}

// writeSQL writes n; inside any(), elem is the collection's value column.
func writeSQL(b *strings.Builder, args *[]any, n Node, elem string) {
	switch n := n.(type) {
	case Binary:
		b.WriteString("(")
		writeSQL(b, args, n.Left, elem)
		b.WriteString(map[string]string{"and": " AND ", "or": " OR "}[n.Op])
		writeSQL(b, args, n.Right, elem)
		b.WriteString(")")
	case Not:
		// NOT over a NULL comparison is NULL, not true: coalesce so that
		// "not (x eq 'a')" keeps the rows where x is NULL, as OData means.
		b.WriteString("(NOT COALESCE(")
		writeSQL(b, args, n.X, elem)
		b.WriteString(", FALSE))")
	case Any:
		c := n.Field.Collection
		b.WriteString("EXISTS (SELECT 1 FROM " + c.Table + " WHERE " + c.Key + " = " + c.Owner + " AND ")
		writeSQL(b, args, n.Body, c.Value)
		b.WriteString(")")
	case Compare:
		col := n.Field.Column
		if elem != "" && n.Field.Collection != nil {
			col = elem
		}
		if n.Value == nil {
			if n.Op == "eq" {
				b.WriteString("(" + col + " IS NULL)")
			} else {
				b.WriteString("(" + col + " IS NOT NULL)")
			}
			return
		}
		if n.Field.Type == Enum && n.Field.Ranked && n.Op != "eq" && n.Op != "ne" {
			b.WriteString("(" + n.Field.RankSQL + " " + sqlOps[n.Op] + " ?)")
			*args = append(*args, int64(rank(n.Field, n.Value.(string))))
			return
		}
		if n.Op == "ne" && n.Field.Nullable {
			// OData: a NULL property is "not equal" to any value.
			b.WriteString("(" + col + " <> ? OR " + col + " IS NULL)")
		} else {
			b.WriteString("(" + col + " " + sqlOps[n.Op] + " ?)")
		}
		*args = append(*args, n.Value)
	}
}

func rank(f *Field, v string) int {
	for i, x := range f.Values {
		if x == v {
			return i
		}
	}
	return -1
}

// RankCase builds a RankSQL for an ordered enum: CASE col WHEN 'low' THEN 1 … END.
// The values are the schema's own constants, never client input.
func RankCase(col string, values ...string) string {
	var b strings.Builder
	b.WriteString("(CASE " + col)
	for i, v := range values {
		b.WriteString(" WHEN '" + strings.ReplaceAll(v, "'", "''") + "' THEN ")
		b.WriteString(strconv.Itoa(i))
	}
	b.WriteString(" ELSE -1 END)")
	return b.String()
}
