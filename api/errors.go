package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/models"
)

// eMethodNotAllowed is the API's own code for a known path called with a
// method it does not serve (the domain never produces it).
const eMethodNotAllowed = "method_not_allowed"

// statusOf maps a domain error code to its HTTP status. It is the only place
// that knows both.
func statusOf(code string) int {
	switch code {
	case models.EINVALID:
		return http.StatusBadRequest
	case models.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case models.EFORBIDDEN, models.ESUBSCRIPTION, models.ETRIALEXHAUSTED:
		return http.StatusForbidden
	case models.ENOTFOUND:
		return http.StatusNotFound
	case models.ECONFLICT, models.EINVALIDSTATE, models.EFEATURE:
		return http.StatusConflict
	case models.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case models.EUNSUPPORTED:
		return http.StatusUnsupportedMediaType
	case models.EUNPROCESSABLE, models.EIDEMPOTENCY, models.EPREREQUISITE, models.ECUSTOMTI:
		return http.StatusUnprocessableEntity
	case models.ERATELIMITED:
		return http.StatusTooManyRequests
	case models.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	case eMethodNotAllowed:
		return http.StatusMethodNotAllowed
	}
	return http.StatusInternalServerError
}

// errorBody is the one error shape of the API.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      string            `json:"code"`
	Message   string            `json:"message"`
	Fields    map[string]string `json:"fields,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
}

// errorResponse returns the status and body for err; internal errors are
// logged with the request id and answered without their details.
func errorResponse(c *gin.Context, err error) (int, errorBody) {
	var e *models.Error
	body := errorBody{Error: errorDetail{RequestID: requestID(c)}}
	if errors.As(err, &e) {
		body.Error.Code, body.Error.Message, body.Error.Fields = e.Code, e.Message, e.Fields
	} else if store.IsConnLoss(err) {
		// The database went away under the request (a restart, a failover)
		// on a path that did not map it: an outage, worth a retry.
		body.Error.Code, body.Error.Message = models.EUNAVAILABLE, "database unavailable"
		logger(c).Warn("database unavailable", "err", err)
	} else if errors.Is(err, context.DeadlineExceeded) {
		// The request's deadline (the server's write timeout) ran out while a
		// dependency was slow: worth a retry, like any other outage.
		body.Error.Code, body.Error.Message = models.EUNAVAILABLE, "the request took too long; retry later"
		logger(c).Warn("request deadline exceeded", "err", err)
	} else {
		body.Error.Code, body.Error.Message = models.EINTERNAL, "internal error"
		logger(c).Error("request failed", "err", err)
	}
	status := statusOf(body.Error.Code)
	if status >= 500 && e != nil {
		logger(c).Warn("request failed", "code", e.Code, "err", err)
	}
	return status, body
}

func writeError(c *gin.Context, err error) {
	status, body := errorResponse(c, err)
	c.AbortWithStatusJSON(status, body)
}

func logger(c *gin.Context) *slog.Logger {
	if l, ok := c.Get(ctxLogger); ok {
		return l.(*slog.Logger)
	}
	return slog.Default()
}
