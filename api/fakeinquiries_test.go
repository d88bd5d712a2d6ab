package api_test

import (
	"context"
	"time"

	"github.com/huntdesk/huntdesk/internal/cases"
	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/models"
)

// storeInquiries is Process B without Temporal, for the HTTP-layer tests: it
// commits each command straight to the read model with a simplified state
// machine. The workflow's own rules are tested in workflows/, and the real
// thing end to end in e2e/.
type storeInquiries struct {
	db   *store.DB
	real *cases.Inquiries // for the parts that need no workflow (validation, zip)
}

func newStoreInquiries(db *store.DB) *storeInquiries {
	return &storeInquiries{db: db, real: &cases.Inquiries{DB: db}}
}

func (s *storeInquiries) Submit(ctx context.Context, p models.Principal, in models.InquiryInput) (*models.Inquiry, error) {
	kind, err := in.Validate()
	if err != nil {
		return nil, err
	}
	q, err := s.db.CreateInquiry(ctx, p, in, kind, 48*time.Hour)
	if err != nil {
		return nil, err
	}
	return s.db.Inquiry(ctx, "", q.ID)
}
func (s *storeInquiries) Get(ctx context.Context, p models.Principal, id string) (*models.Inquiry, error) {
	return s.real.Get(ctx, p, id)
}
func (s *storeInquiries) List(ctx context.Context, p models.Principal, f models.InquiryFilter) (models.List[models.Inquiry], error) {
	return s.real.List(ctx, p, f)
}
func (s *storeInquiries) Queue(ctx context.Context, p models.Principal, f models.InquiryFilter) (models.List[models.Inquiry], error) {
	return s.real.Queue(ctx, p, f)
}

func (s *storeInquiries) apply(ctx context.Context, p models.Principal, id, action string, mut func(q *models.Inquiry, ch *store.InquiryChange) error) (*models.Inquiry, error) {
	q, err := s.db.Inquiry(ctx, p.Scope(), id)
	if err != nil {
		return nil, err
	}
	if !q.Status.Open() {
		return nil, models.Errorf(models.EINVALIDSTATE, "the inquiry is %s", q.Status)
	}
	ch := store.InquiryChange{InquiryID: id, Key: store.NewID("k"), Action: action, Actor: p, At: time.Now(), Status: q.Status}
	if q.AssigneeID != nil {
		ch.Assignee = *q.AssigneeID
	}
	if q.DueAt != nil {
		ch.DueAt = *q.DueAt
	}
	if err := mut(q, &ch); err != nil {
		return nil, err
	}
	if err := s.db.ApplyInquiryChange(ctx, ch); err != nil {
		return nil, err
	}
	return s.db.Inquiry(ctx, "", id)
}

func (s *storeInquiries) Claim(ctx context.Context, p models.Principal, id string) (*models.Inquiry, error) {
	return s.apply(ctx, p, id, "claimed", func(q *models.Inquiry, ch *store.InquiryChange) error {
		if q.AssigneeID != nil {
			return models.Errorf(models.EINVALIDSTATE, "already claimed")
		}
		ch.Assignee, ch.Status = p.UserID, models.InquiryInProgress
		return nil
	})
}
func (s *storeInquiries) Assign(ctx context.Context, p models.Principal, id, userID string) (*models.Inquiry, error) {
	if u, err := s.db.User(ctx, "", userID); err != nil || !u.Role.Staff() {
		return nil, &models.Error{Code: models.EINVALID, Message: "request is invalid", Fields: map[string]string{"user_id": "must be an expert"}}
	}
	return s.apply(ctx, p, id, "assigned", func(q *models.Inquiry, ch *store.InquiryChange) error {
		ch.Assignee, ch.Status = userID, models.InquiryInProgress
		return nil
	})
}
func (s *storeInquiries) Report(ctx context.Context, p models.Principal, id string, c models.ReportCategory, msg string) (*models.Inquiry, error) {
	var v models.Validation
	v.Check(c.Valid(), "category", "is not a category")
	v.Check(msg != "", "message", "is required")
	if err := v.Err(); err != nil {
		return nil, err
	}
	if _, err := s.db.Inquiry(ctx, p.Scope(), id); err != nil {
		return nil, err
	}
	mid, err := s.db.DraftMessage(ctx, p, id, "report", c, msg)
	if err != nil {
		return nil, err
	}
	return s.apply(ctx, p, id, "reported", func(q *models.Inquiry, ch *store.InquiryChange) error {
		if q.Status == models.InquiryAwaitingCustomer {
			return models.Errorf(models.EINVALIDSTATE, "waiting on the customer")
		}
		ch.MessageID, ch.Category = mid, c
		switch {
		case c.AwaitsCustomer():
			ch.Status = models.InquiryAwaitingCustomer
		case c == models.ReportConcluded:
			ch.Status = models.InquiryConcluded
		default:
			ch.Status, ch.DueAt = models.InquiryInProgress, time.Now().Add(48*time.Hour)
		}
		return nil
	})
}
func (s *storeInquiries) Respond(ctx context.Context, p models.Principal, id, msg string) (*models.Inquiry, error) {
	if msg == "" {
		return nil, &models.Error{Code: models.EINVALID, Message: "request is invalid", Fields: map[string]string{"message": "is required"}}
	}
	if _, err := s.db.Inquiry(ctx, p.Scope(), id); err != nil {
		return nil, err
	}
	mid, err := s.db.DraftMessage(ctx, p, id, "response", "", msg)
	if err != nil {
		return nil, err
	}
	return s.apply(ctx, p, id, "responded", func(q *models.Inquiry, ch *store.InquiryChange) error {
		if q.Status != models.InquiryAwaitingCustomer {
			return models.Errorf(models.EINVALIDSTATE, "no answer is awaited")
		}
		ch.MessageID, ch.Status, ch.DueAt = mid, models.InquiryInProgress, time.Now().Add(48*time.Hour)
		return nil
	})
}
func (s *storeInquiries) AddSample(ctx context.Context, p models.Principal, id, filename string, data []byte) (*models.Sample, error) {
	if _, err := s.db.Inquiry(ctx, p.Scope(), id); err != nil {
		return nil, err
	}
	smp, err := s.db.DraftSample(ctx, p, id, models.CleanFilename(filename), data)
	if err != nil {
		return nil, err
	}
	_, err = s.apply(ctx, p, id, "sample_added", func(q *models.Inquiry, ch *store.InquiryChange) error {
		ch.SampleID = smp.ID
		return nil
	})
	return smp, err
}
func (s *storeInquiries) Cancel(ctx context.Context, p models.Principal, id string) (*models.Inquiry, error) {
	return s.apply(ctx, p, id, "cancelled", func(q *models.Inquiry, ch *store.InquiryChange) error {
		ch.Status = models.InquiryCancelled
		return nil
	})
}
func (s *storeInquiries) DownloadSample(ctx context.Context, p models.Principal, id string) (string, []byte, error) {
	return s.real.DownloadSample(ctx, p, id)
}
