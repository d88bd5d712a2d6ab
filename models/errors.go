// Package models holds huntdesk's domain types and errors. It imports no web,
// database or Temporal package, so every other package can depend on it.
package models

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Error codes. The API maps each to one HTTP status in one place (api/errors.go);
// everything else only picks a code.
const (
	EINVALID        = "invalid"                // 400: bad input; Fields names what is wrong
	EUNAUTHORIZED   = "unauthenticated"        // 401: no or bad credentials
	EFORBIDDEN      = "forbidden"              // 403: role may not do this
	ENOTFOUND       = "not_found"              // 404: missing, or another org's
	ECONFLICT       = "conflict"               // 409: clashes with existing data
	EINVALIDSTATE   = "invalid_state"          // 409: the case is not in a state that allows this
	ETOOLARGE       = "too_large"              // 413
	EUNSUPPORTED    = "unsupported_media_type" // 415
	EUNPROCESSABLE  = "unprocessable"          // 422
	EIDEMPOTENCY    = "idempotency_key_reused" // 422: same key, different request
	EPREREQUISITE   = "prerequisite_not_met"   // 422
	ERATELIMITED    = "rate_limited"           // 429
	EUNAVAILABLE    = "unavailable"            // 503: a dependency is down
	EINTERNAL       = "internal"               // 500
	ESUBSCRIPTION   = "subscription_required"  // 403
	ETRIALEXHAUSTED = "trial_exhausted"        // 403
	EFEATURE        = "feature_not_enabled"    // 409: the org has not enabled the feature this needs
)

// Error is a domain error: a machine-readable code, a message for humans and,
// for validation errors, a message per offending field.
type Error struct {
	Code    string
	Message string
	Fields  map[string]string
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + e.Fields[k]
	}
	return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, strings.Join(parts, "; "))
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err if it is, or wraps, an *Error, else EINTERNAL.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return EINTERNAL
}

// ErrorMessage returns the human message of an *Error, or a generic one for
// anything else, so internal details never leak to callers.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// Validation collects field errors; Err returns nil when there are none.
//
//	var v models.Validation
//	v.Check(name != "", "name", "is required")
//	return v.Err()
type Validation map[string]string

// Check records msg for field when ok is false; the first message per field wins.
func (v *Validation) Check(ok bool, field, msg string) {
	if ok {
		return
	}
	if *v == nil {
		*v = Validation{}
	}
	if _, seen := (*v)[field]; !seen {
		(*v)[field] = msg
	}
}

// Err returns an EINVALID *Error naming every recorded field, or nil.
func (v Validation) Err() error {
	if len(v) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: "request is invalid", Fields: map[string]string(v)}
}

// NotFound is the one error every missing or foreign id answers with, so a
// customer cannot tell another org's case from no case at all.
func NotFound(kind string) *Error {
	return Errorf(ENOTFOUND, "%s not found", kind)
}

// Invalid is the EINVALID error naming one field and what is wrong with it.
func Invalid(field, msg string) *Error {
	return &Error{Code: EINVALID, Message: "request is invalid", Fields: map[string]string{field: msg}}
}
