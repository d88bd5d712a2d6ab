// Package odata parses the OData query options that Microsoft Defender's
// alerts API accepts ($filter, $orderby, $top, $skip, $count) and turns them
// into parameterized SQL for a table described by a Schema.
//
// The filter text never reaches SQL as text: it is lexed and parsed into an
// AST (recursive descent), every property is looked up in the schema, every
// literal is checked against the property's type, and the SQL that comes out
// holds only the schema's own column expressions, fixed keywords and "?"
// placeholders whose values travel as arguments. Errors name the offending
// token and its position (1-based, in characters).
package odata

import (
	"fmt"
	"strings"
	"time"

	"github.com/huntdesk/huntdesk/models"
)

// Type is a property's type; it decides which literals and operators fit.
type Type int

const (
	String   Type = iota // eq, ne; string literals
	Enum                 // eq, ne (and gt/ge/lt/le when Ranked); string literals from Values
	DateTime             // every comparison; unquoted ISO 8601 or a quoted one
	Int                  // every comparison; integer literals
	Bool                 // eq, ne; true/false
)

func (t Type) String() string {
	return [...]string{"string", "enum", "datetime", "integer", "boolean"}[t]
}

// Field describes one filterable property.
type Field struct {
	Name    string   // the JSON field name
	Aliases []string // other accepted names (Defender's), case-insensitive
	Type    Type
	Column  string   // SQL expression of the column, e.g. "alerts.severity"
	Values  []string // Enum: the allowed values
	// Ranked: for an ordered enum (severity), RankSQL maps the column to a
	// number and Values are in ascending order, so gt/ge/lt/le compare ranks.
	Ranked  bool
	RankSQL string
	// Collection: the property is a set of strings kept in another table;
	// it is filtered only through any(), e.g. tags/any(t: t eq 'x').
	Collection *Collection
	Nullable   bool // eq null / ne null allowed
	Sortable   bool // may appear in $orderby (by OrderSQL, else RankSQL, else Column)
	OrderSQL   string
}

// Collection is a one-to-many string property: rows of Table whose Key
// column equals the Owner expression, with values in Value.
type Collection struct {
	Table string // e.g. "alert_tags"
	Key   string // e.g. "alert_tags.alert_id"
	Owner string // e.g. "alerts.id"
	Value string // e.g. "alert_tags.tag"
}

// Schema is the set of properties a resource may be filtered and ordered by.
type Schema struct {
	Fields []Field
	byName map[string]*Field
}

// NewSchema indexes fields by name and alias (case-insensitively).
func NewSchema(fields ...Field) *Schema {
	s := &Schema{Fields: fields, byName: map[string]*Field{}}
	for i := range s.Fields {
		f := &s.Fields[i]
		s.byName[strings.ToLower(f.Name)] = f
		for _, a := range f.Aliases {
			s.byName[strings.ToLower(a)] = f
		}
	}
	return s
}

// Lookup finds a property by its name or an alias.
func (s *Schema) Lookup(name string) (*Field, bool) {
	f, ok := s.byName[strings.ToLower(name)]
	return f, ok
}

// Names lists the properties' names, for error messages.
func (s *Schema) Names() string {
	n := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		n[i] = f.Name
	}
	return strings.Join(n, ", ")
}

// Error is a query option that cannot be used; Param names the option
// ($filter, $orderby, …), Pos is 1-based (0 when it has none).
func errAt(param string, pos int, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if pos > 0 {
		msg = fmt.Sprintf("%s at position %d", msg, pos)
	}
	return &models.Error{Code: models.EINVALID, Message: "request is invalid", Fields: map[string]string{param: msg}}
}

// parseTime accepts the datetime forms OData clients send.
func parseTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
