package store

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/huntdesk/huntdesk/models"
)

// TestConnectionLossIsUnavailable: what PostgreSQL and the driver say while
// the server restarts is an outage (503, worth a retry), never an internal
// error. The fault suite found the first one as a 500: a request whose
// connection the restarting server terminated.
func TestConnectionLossIsUnavailable(t *testing.T) {
	for _, err := range []error{
		&pgconn.PgError{Severity: "FATAL", Code: "57P01", Message: "terminating connection due to administrator command"},
		&pgconn.PgError{Severity: "FATAL", Code: "57P02", Message: "terminating connection due to crash of another server process"},
		&pgconn.PgError{Severity: "FATAL", Code: "57P03", Message: "the database system is shutting down"},
		&pgconn.PgError{Severity: "FATAL", Code: "08006", Message: "connection failure"},
		fmt.Errorf("query: %w", &pgconn.PgError{Severity: "FATAL", Code: "57P01", Message: "terminating connection due to administrator command"}),
		fmt.Errorf("read: %w", io.ErrUnexpectedEOF),
		errors.New("conn closed"),
		errors.New("driver: bad connection"),
		errors.New("dial tcp 127.0.0.1:5432: connect: connection refused"),
	} {
		if got := mapErr(err); models.ErrorCode(got) != models.EUNAVAILABLE {
			t.Errorf("%v: mapped to %v, want %s", err, got, models.EUNAVAILABLE)
		}
	}
	// A constraint or a syntax error is no outage.
	for _, err := range []error{
		&pgconn.PgError{Severity: "ERROR", Code: "23503", Message: "insert or update violates foreign key constraint"},
		&pgconn.PgError{Severity: "ERROR", Code: "42601", Message: "syntax error"},
	} {
		if got := mapErr(err); models.ErrorCode(got) == models.EUNAVAILABLE {
			t.Errorf("%v: mapped to unavailable", err)
		}
	}
}
