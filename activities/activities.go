// Package activities is where huntdesk's workflows touch the world: the
// database read model and email. Every activity is idempotent, because
// Temporal retries it: database writes key on the event, and every email
// carries a Message-ID derived from (case, event) recorded in the outbox.
package activities

import (
	"context"
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/huntdesk/huntdesk/internal/mail"
	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/models"
)

// Mailer sends one email per (entity, event); *mail.Mailer is the real one.
type Mailer interface {
	Send(ctx context.Context, m mail.Message) (string, error)
}

// Activities holds what activities need; the worker registers its methods.
type Activities struct {
	DB   *store.DB
	Mail Mailer
	// PublicURL is where people reach huntdesk, for links in emails.
	PublicURL string
}

// ESMTPPermanent is the error type of an email the relay refused for good
// (an SMTP 5xx reply): Temporal does not retry it, and the workflow logs it
// (the outbox row says failed, with the reply).
const ESMTPPermanent = "smtp_permanent"

// mailError classifies a send's error: a 5xx reply is non-retryable; a 4xx
// reply, a timeout or a relay that is down stays retryable, so the email is
// delayed, not lost, while mail is out.
func mailError(err error) error {
	if err != nil && mail.IsPermanent(err) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ESMTPPermanent, err)
	}
	return permanent(err)
}

// permanent marks domain errors that no retry can fix (bad input, a case in
// the wrong state, a missing row) as non-retryable, keeping their code as the
// error type so workflows and callers can tell them apart.
func permanent(err error) error {
	var e *models.Error
	if errors.As(err, &e) {
		switch e.Code {
		case models.EUNAVAILABLE, models.EINTERNAL:
			return err
		}
		return temporal.NewNonRetryableApplicationError(e.Message, e.Code, err)
	}
	return err
}
