package odata

import (
	"strconv"
	"strings"
)

// Node is a filter's AST.
type Node interface{ node() }

// Binary is "left and right" or "left or right".
type Binary struct {
	Op          string // "and", "or"
	Left, Right Node
}

// Not negates its operand.
type Not struct{ X Node }

// Compare is "property op literal"; Value is typed by the property
// (string, time.Time, int64, bool) or nil for null.
type Compare struct {
	Field *Field
	Op    string // eq ne gt ge lt le
	Value any
}

// Any is "collection/any(v: body)"; inside body, comparisons are on the
// collection's values (Compare.Field is the collection's field).
type Any struct {
	Field *Field
	Body  Node
}

func (Binary) node()  {}
func (Not) node()     {}
func (Compare) node() {}
func (Any) node()     {}

// maxDepth bounds nesting, so a filter of 4,000 '(' cannot exhaust the stack.
const maxDepth = 32

type parser struct {
	param  string
	schema *Schema
	toks   []token
	i      int
	depth  int
	lambda string // the range variable inside any(), else ""
	coll   *Field // its collection
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) keyword(t token, words ...string) bool {
	if t.kind != tIdent {
		return false
	}
	for _, w := range words {
		if strings.EqualFold(t.text, w) {
			return true
		}
	}
	return false
}

// ParseFilter parses a $filter expression against schema.
func ParseFilter(schema *Schema, filter string) (Node, error) {
	toks, err := lex("$filter", filter)
	if err != nil {
		return nil, err
	}
	p := &parser{param: "$filter", schema: schema, toks: toks}
	if p.peek().kind == tEOF {
		return nil, errAt(p.param, 1, "is empty")
	}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, errAt(p.param, t.pos, "unexpected %s; expected and, or or the end", t)
	}
	return n, nil
}

func (p *parser) or() (Node, error) {
	l, err := p.and()
	for err == nil && p.keyword(p.peek(), "or") {
		p.next()
		var r Node
		if r, err = p.and(); err == nil {
			l = Binary{"or", l, r}
		}
	}
	return l, err
}

func (p *parser) and() (Node, error) {
	l, err := p.unary()
	for err == nil && p.keyword(p.peek(), "and") {
		p.next()
		var r Node
		if r, err = p.unary(); err == nil {
			l = Binary{"and", l, r}
		}
	}
	return l, err
}

func (p *parser) unary() (Node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, errAt(p.param, p.peek().pos, "nesting deeper than %d", maxDepth)
	}
	t := p.peek()
	switch {
	case p.keyword(t, "not"):
		p.next()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return Not{x}, nil
	case t.kind == tLParen:
		p.next()
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tRParen {
			return nil, errAt(p.param, c.pos, "expected ) but found %s", c)
		}
		return x, nil
	case t.kind == tIdent:
		return p.predicate()
	case t.kind == tEOF:
		return nil, errAt(p.param, t.pos, "unexpected end of filter; expected a comparison")
	}
	return nil, errAt(p.param, t.pos, "unexpected %s; expected a property name", t)
}

var comparisons = map[string]bool{"eq": true, "ne": true, "gt": true, "ge": true, "lt": true, "le": true}

func (p *parser) predicate() (Node, error) {
	name := p.next()
	var f *Field
	if p.lambda != "" && name.text == p.lambda {
		f = p.coll
	} else {
		var ok bool
		if f, ok = p.schema.Lookup(name.text); !ok {
			if p.lambda != "" {
				return nil, errAt(p.param, name.pos, "unknown name %s inside any(); use %s", name.text, p.lambda)
			}
			return nil, errAt(p.param, name.pos, "unknown property %s; known: %s", name.text, p.schema.Names())
		}
		if f.Collection != nil {
			return p.any(f, name)
		}
	}
	opTok := p.next()
	op := strings.ToLower(opTok.text)
	if opTok.kind != tIdent || !comparisons[op] {
		return nil, errAt(p.param, opTok.pos, "expected an operator (eq, ne, gt, ge, lt, le) after %s but found %s", name.text, opTok)
	}
	lit := p.next()
	v, err := p.literal(f, op, opTok, lit)
	if err != nil {
		return nil, err
	}
	return Compare{Field: f, Op: op, Value: v}, nil
}

func (p *parser) any(f *Field, name token) (Node, error) {
	if t := p.next(); t.kind != tSlash {
		return nil, errAt(p.param, t.pos, "%s is a collection: filter it with %s/any(t: t eq '…')", name.text, name.text)
	}
	if t := p.next(); !p.keyword(t, "any") {
		return nil, errAt(p.param, t.pos, "expected any after %s/ but found %s", name.text, t)
	}
	if t := p.next(); t.kind != tLParen {
		return nil, errAt(p.param, t.pos, "expected ( after any but found %s", t)
	}
	if p.lambda != "" {
		return nil, errAt(p.param, name.pos, "any() cannot be nested")
	}
	v := p.next()
	if v.kind != tIdent || comparisons[strings.ToLower(v.text)] || p.keyword(v, "and", "or", "not") {
		return nil, errAt(p.param, v.pos, "expected a range variable name but found %s", v)
	}
	if t := p.next(); t.kind != tColon {
		return nil, errAt(p.param, t.pos, "expected : after %s but found %s", v.text, t)
	}
	p.lambda, p.coll = v.text, f
	body, err := p.or()
	p.lambda, p.coll = "", nil
	if err != nil {
		return nil, err
	}
	if t := p.next(); t.kind != tRParen {
		return nil, errAt(p.param, t.pos, "expected ) to close any() but found %s", t)
	}
	return Any{Field: f, Body: body}, nil
}

func (p *parser) literal(f *Field, op string, opTok, lit token) (any, error) {
	if p.keyword(lit, "null") {
		if !f.Nullable || (op != "eq" && op != "ne") {
			return nil, errAt(p.param, lit.pos, "%s cannot be compared with null", f.Name)
		}
		return nil, nil
	}
	ordered := op != "eq" && op != "ne"
	switch f.Type {
	case String:
		if ordered {
			return nil, errAt(p.param, opTok.pos, "operator %s is not supported for %s (a string): use eq or ne", op, f.Name)
		}
		if lit.kind != tString {
			return nil, errAt(p.param, lit.pos, "%s needs a quoted string but found %s", f.Name, lit)
		}
		return lit.text, nil
	case Enum:
		if ordered && !f.Ranked {
			return nil, errAt(p.param, opTok.pos, "operator %s is not supported for %s: use eq or ne", op, f.Name)
		}
		if lit.kind != tString {
			return nil, errAt(p.param, lit.pos, "%s needs a quoted value (one of %s) but found %s", f.Name, strings.Join(f.Values, ", "), lit)
		}
		for _, v := range f.Values {
			if strings.EqualFold(v, lit.text) {
				return v, nil
			}
		}
		return nil, errAt(p.param, lit.pos, "%s is not a value of %s (one of %s)", lit, f.Name, strings.Join(f.Values, ", "))
	case DateTime:
		if lit.kind != tDate && lit.kind != tString {
			return nil, errAt(p.param, lit.pos, "%s needs a datetime such as 2026-01-02T15:04:05Z but found %s", f.Name, lit)
		}
		t, ok := parseTime(lit.text)
		if !ok {
			return nil, errAt(p.param, lit.pos, "%s is not a datetime (use 2026-01-02T15:04:05Z)", lit)
		}
		return t, nil
	case Int:
		if lit.kind != tNumber {
			return nil, errAt(p.param, lit.pos, "%s needs an integer but found %s", f.Name, lit)
		}
		// Integer properties are 32-bit columns (INTEGER): PostgreSQL's
		// driver cannot bind a larger value to them.
		n, err := strconv.ParseInt(lit.text, 10, 32)
		if err != nil {
			return nil, errAt(p.param, lit.pos, "%s is out of range (integers are 32-bit)", lit)
		}
		return n, nil
	case Bool:
		if ordered {
			return nil, errAt(p.param, opTok.pos, "operator %s is not supported for %s (a boolean)", op, f.Name)
		}
		if !p.keyword(lit, "true", "false") {
			return nil, errAt(p.param, lit.pos, "%s needs true or false but found %s", f.Name, lit)
		}
		return strings.EqualFold(lit.text, "true"), nil
	}
	return nil, errAt(p.param, lit.pos, "%s cannot be filtered", f.Name)
}
