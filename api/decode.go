package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/huntdesk/huntdesk/models"
)

func invalid(field, msg string) error { return models.Invalid(field, msg) }

// readBody reads the (size-limited) request body once and keeps it for the
// handler, so the idempotency layer can hash it first.
func readBody(c *gin.Context) ([]byte, error) {
	if b, ok := c.Get(ctxBody); ok {
		return b.([]byte), nil
	}
	b, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, models.Errorf(models.ETOOLARGE, "request body is larger than %d bytes", mbe.Limit)
		}
		return nil, models.Errorf(models.EINVALID, "could not read request body")
	}
	c.Set(ctxBody, b)
	return b, nil
}

// decode reads a JSON body into v strictly: JSON content type, no unknown
// fields, no trailing data; each problem is named by its field.
func decode(c *gin.Context, v any) error {
	b, err := readBody(c)
	if err != nil {
		return err
	}
	if mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type")); mt != "application/json" {
		return models.Errorf(models.EUNSUPPORTED, "Content-Type must be application/json")
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return invalid("body", "is required")
	}
	// encoding/json would quietly turn invalid UTF-8 into U+FFFD and store
	// that: refuse it instead (RFC 8259 requires UTF-8).
	if !utf8.Valid(b) {
		return invalid("body", "is not valid UTF-8")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return decodeError(err)
	}
	if d.More() {
		return invalid("body", "must hold one JSON object")
	}
	return nil
}

func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		return invalid(field, "must be "+jsonKind(te.Type.String()))
	case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("body", "is not valid JSON")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return invalid(name, "is not a known field")
	}
	var pe *time.ParseError
	if errors.As(err, &pe) {
		return invalid("body", "holds a time that is not RFC 3339")
	}
	return invalid("body", "is not valid JSON: "+err.Error())
}

func jsonKind(goType string) string {
	switch {
	case strings.Contains(goType, "int"), strings.Contains(goType, "float"):
		return "a number"
	case strings.Contains(goType, "bool"):
		return "true or false"
	case strings.Contains(goType, "string"), strings.Contains(goType, "Role"), strings.Contains(goType, "Plan"):
		return "a string"
	case strings.Contains(goType, "Time"):
		return "an RFC 3339 time"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	}
	return "an object"
}

// page reads limit and cursor query parameters.
func page(c *gin.Context) (models.Page, error) {
	p := models.Page{Cursor: c.Query("cursor")}
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 200 {
			return p, invalid("limit", "must be a whole number from 1 to 200")
		}
		p.Limit = n
	}
	return p, nil
}

// queryTime reads an optional RFC 3339 time parameter.
func queryTime(c *gin.Context, name string) (*time.Time, error) {
	s := c.Query(name)
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, invalid(name, "must be an RFC 3339 time, e.g. 2026-01-02T15:04:05Z")
	}
	return &t, nil
}
