package cases

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/client"

	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/internal/zipcrypto"
	"github.com/huntdesk/huntdesk/models"
	"github.com/huntdesk/huntdesk/workflows"
)

// SamplePassword is the industry's convention for zipped malware samples.
const SamplePassword = "infected"

// Inquiries runs Process B: expert inquiries and their progress-report SLA.
type Inquiries struct {
	DB              *store.DB
	Temporal        client.Client
	SLA             time.Duration   // default 48h
	Reminders       []time.Duration // default 48h, 120h
	CustomerTimeout time.Duration   // default 336h
	MaxChanges      int             // continue-as-new threshold; 0: the workflow's default
	Crash           CrashHook       // tests only: stop a create after a step
}

// Params are the input an inquiry's workflow starts with: the configured
// durations, or the product's defaults — a progress report due 48 h after
// submission, the warning at 75 % of it, customer reminders after 2 and 5
// days, and closing as closed_no_response after 14 days.
func (s *Inquiries) Params(q *models.Inquiry) workflows.InquiryParams {
	sla, timeout, rem := s.SLA, s.CustomerTimeout, s.Reminders
	if sla <= 0 {
		sla = 48 * time.Hour
	}
	if timeout <= 0 {
		timeout = 14 * 24 * time.Hour
	}
	if rem == nil {
		rem = []time.Duration{48 * time.Hour, 120 * time.Hour}
	}
	return workflows.InquiryParams{InquiryID: q.ID, OrgID: q.OrgID, SubmittedAt: q.CreatedAt, SLA: sla, WarnAfter: sla * 3 / 4,
		Reminders: rem, CustomerTimeout: timeout, MaxChanges: s.MaxChanges}
}

// Submit checks and records an inquiry, with the start of its workflow in the
// same transaction, then starts the workflow. If the start fails or its
// outcome is unknown, the inquiry stays (never deleted: the workflow may be
// running) and comes back with ErrStarting; the worker's reconciler starts
// recorded starts that are not marked.
func (s *Inquiries) Submit(ctx context.Context, p models.Principal, in models.InquiryInput) (*models.Inquiry, error) {
	kind, err := in.Validate()
	if err != nil {
		return nil, err
	}
	q, ws, err := s.DB.CreateInquiryStarting(ctx, p, in, kind, s.Params(&models.Inquiry{}).SLA, func(q *models.Inquiry) (*store.WorkflowStart, error) {
		return store.NewWorkflowStart(workflows.InquiryWorkflowID(q.ID), workflows.InquiryWorkflow, "inquiry", q.ID, s.Params(q))
	})
	if err != nil {
		return nil, err
	}
	if s.Crash != nil {
		if err := s.Crash(StepRecorded, ws.WorkflowID); err != nil {
			return nil, err
		}
	}
	serr := startRecorded(ctx, s.DB, s.Temporal, ws, s.Crash)
	if isCrash(serr) {
		return nil, serr
	}
	got, err := s.DB.Inquiry(context.WithoutCancel(ctx), "", q.ID)
	if err != nil {
		return nil, err
	}
	if serr != nil {
		slog.Warn("inquiry recorded; its workflow start is left to the reconciler", "inquiry_id", q.ID, "err", serr)
		return got, ErrStarting
	}
	return got, nil
}

// Get returns one inquiry as p may see it.
func (s *Inquiries) Get(ctx context.Context, p models.Principal, id string) (*models.Inquiry, error) {
	return s.DB.Inquiry(ctx, p.Scope(), id)
}

// List lists inquiries newest first (a customer's: its org's).
func (s *Inquiries) List(ctx context.Context, p models.Principal, f models.InquiryFilter) (models.List[models.Inquiry], error) {
	if scope := p.Scope(); scope != "" {
		f.OrgID = scope
	}
	f.OpenOnly = false
	return s.DB.Inquiries(ctx, f)
}

// Queue lists open inquiries of every org by SLA due time.
func (s *Inquiries) Queue(ctx context.Context, p models.Principal, f models.InquiryFilter) (models.List[models.Inquiry], error) {
	f.OpenOnly = true
	return s.DB.Inquiries(ctx, f)
}

// Claim gives the inquiry to the calling expert.
func (s *Inquiries) Claim(ctx context.Context, p models.Principal, id string) (*models.Inquiry, error) {
	return s.update(ctx, p, id, workflows.InquiryClaim, workflows.InquiryCommand{})
}

// Assign gives the inquiry to an expert (managers).
func (s *Inquiries) Assign(ctx context.Context, p models.Principal, id, userID string) (*models.Inquiry, error) {
	u, err := s.DB.User(ctx, "", userID)
	if err != nil || !u.Role.Staff() || u.Disabled {
		return nil, &models.Error{Code: models.EINVALID, Message: "request is invalid", Fields: map[string]string{"user_id": "must be an enabled expert or manager"}}
	}
	return s.update(ctx, p, id, workflows.InquiryAssign, workflows.InquiryCommand{AssigneeID: userID})
}

// Report posts a progress report (the assignee or a manager).
func (s *Inquiries) Report(ctx context.Context, p models.Principal, id string, category models.ReportCategory, message string) (*models.Inquiry, error) {
	var v models.Validation
	v.Check(category.Valid(), "category", "must be one of more_info_needed, samples_needed, more_time_needed, concluded")
	checkText(&v, "message", message)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.withDraft(ctx, p, id, "report", category, message, workflows.InquiryReport)
}

// Respond posts the customer's answer to a report.
func (s *Inquiries) Respond(ctx context.Context, p models.Principal, id, message string) (*models.Inquiry, error) {
	var v models.Validation
	checkText(&v, "message", message)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.withDraft(ctx, p, id, "response", "", message, workflows.InquiryRespond)
}

func checkText(v *models.Validation, field, s string) {
	n := utf8.RuneCountInString(strings.TrimSpace(s))
	v.Check(n >= 1 && n <= 10000, field, "must be 1 to 10,000 characters")
}

// withDraft stores the text, sends the workflow its id, and discards the
// text again if the workflow refuses: histories never carry long texts, and
// a refused command leaves nothing behind.
func (s *Inquiries) withDraft(ctx context.Context, p models.Principal, id, kind string, category models.ReportCategory, body, update string) (*models.Inquiry, error) {
	q, err := s.DB.Inquiry(ctx, p.Scope(), id)
	if err != nil {
		return nil, err
	}
	// Refuse the plainly out-of-state before writing anything; the
	// workflow's validator stays the authority when two requests race.
	switch {
	case !q.Status.Open():
		return nil, models.Errorf(models.EINVALIDSTATE, "the inquiry is %s", q.Status)
	case kind == "response" && q.Status != models.InquiryAwaitingCustomer:
		return nil, models.Errorf(models.EINVALIDSTATE, "no answer is awaited: the inquiry is %s", q.Status)
	case kind == "report" && q.Status == models.InquiryAwaitingCustomer:
		return nil, models.Errorf(models.EINVALIDSTATE, "the inquiry is waiting on the customer's answer")
	}
	msgID, err := s.DB.DraftMessage(ctx, p, id, kind, category, body)
	if err != nil {
		return nil, err
	}
	q, err = s.update(ctx, p, id, update, workflows.InquiryCommand{Category: category, MessageID: msgID})
	if err != nil {
		if derr := s.DB.DiscardDraft(context.WithoutCancel(ctx), msgID); derr != nil {
			slog.Error("discard refused draft", "message_id", msgID, "err", derr)
		}
	}
	return q, err
}

// AddSample stores an uploaded file and hands it to the workflow; while the
// inquiry waits on the customer, a sample is an answer and resumes work.
func (s *Inquiries) AddSample(ctx context.Context, p models.Principal, id, filename string, data []byte) (*models.Sample, error) {
	if _, err := s.DB.Inquiry(ctx, p.Scope(), id); err != nil {
		return nil, err
	}
	name := models.CleanFilename(filename)
	var v models.Validation
	v.Check(name != "", "file", "needs a file name")
	v.Check(len(data) > 0, "file", "is empty")
	if err := v.Err(); err != nil {
		return nil, err
	}
	smp, err := s.DB.DraftSample(ctx, p, id, name, data)
	if err != nil {
		return nil, err
	}
	if _, err := s.update(ctx, p, id, workflows.InquirySample, workflows.InquiryCommand{SampleID: smp.ID}); err != nil {
		if derr := s.DB.DiscardSample(context.WithoutCancel(ctx), smp.ID); derr != nil {
			slog.Error("discard refused sample", "sample_id", smp.ID, "err", derr)
		}
		return nil, err
	}
	return smp, nil
}

// Cancel closes the customer's open inquiry.
func (s *Inquiries) Cancel(ctx context.Context, p models.Principal, id string) (*models.Inquiry, error) {
	return s.update(ctx, p, id, workflows.InquiryCancel, workflows.InquiryCommand{})
}

// DownloadSample returns a sample inside a zip encrypted with the password
// "infected": samples are never served raw.
func (s *Inquiries) DownloadSample(ctx context.Context, p models.Principal, id string) (string, []byte, error) {
	smp, data, err := s.DB.SampleData(ctx, p.Scope(), id)
	if err != nil {
		return "", nil, err
	}
	var buf bytes.Buffer
	if err := zipcrypto.WriteFile(&buf, smp.Filename, data, SamplePassword, smp.CreatedAt); err != nil {
		return "", nil, err
	}
	if err := s.DB.AppendAudit(ctx, p, smp.OrgID, "inquiry", smp.InquiryID, "sample_downloaded", map[string]string{"sample_id": smp.ID, "sha256": smp.SHA256}); err != nil {
		return "", nil, err
	}
	return smp.ID + ".zip", buf.Bytes(), nil
}

func (s *Inquiries) update(ctx context.Context, p models.Principal, id, name string, cmd workflows.InquiryCommand) (*models.Inquiry, error) {
	q, err := s.DB.Inquiry(ctx, p.Scope(), id)
	if err != nil {
		return nil, err
	}
	if !q.Status.Open() {
		return nil, models.Errorf(models.EINVALIDSTATE, "the inquiry is %s", q.Status)
	}
	cmd.Actor = workflows.Actor{UserID: p.UserID, Role: p.Role}
	var st workflows.InquiryState
	if err := runUpdate(ctx, s.Temporal, workflows.InquiryWorkflowID(id), name, cmd, &st); err != nil {
		return nil, err
	}
	return s.DB.Inquiry(ctx, "", id)
}
