package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/huntdesk/huntdesk/models"
)

// farFuture orders paused inquiries after every running one in the queue.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// CreateInquiry records a customer's inquiry after checking the org's
// Experts-on-Demand subscription: none is refused, a trial past its end date
// or allowance is exhausted.
func (db *DB) CreateInquiry(ctx context.Context, actor models.Principal, in models.InquiryInput, kind models.TopicKind, sla time.Duration) (*models.Inquiry, error) {
	q, _, _, err := db.CreateInquiryStarting(ctx, actor, in, kind, sla, "", nil)
	return q, err
}

// CreateInquiryStarting is CreateInquiry that also records, in the same
// transaction, the start of the inquiry's workflow that plan describes (nil:
// none). The caller then starts it and marks it started; if the process dies
// in between, the worker's reconciler starts it.
//
// requestKey (a hash of the caller's Idempotency-Key; "" for none) makes a
// retry find the inquiry its first attempt made: it comes back with
// created false and its recorded start (nil if none), and nothing is counted
// against a trial again.
func (db *DB) CreateInquiryStarting(ctx context.Context, actor models.Principal, in models.InquiryInput, kind models.TopicKind, sla time.Duration,
	requestKey string, plan func(*models.Inquiry) (*WorkflowStart, error)) (*models.Inquiry, *WorkflowStart, bool, error) {
	if requestKey != "" {
		if q, ws, err := db.inquiryByRequest(ctx, actor, requestKey); err == nil || models.ErrorCode(err) != models.ENOTFOUND {
			return q, ws, false, err
		}
	}
	q, ws, err := db.createInquiry(ctx, actor, in, kind, sla, requestKey, plan)
	if err != nil && requestKey != "" && isDuplicate(err) { // a concurrent retry won
		q, ws, err := db.inquiryByRequest(ctx, actor, requestKey)
		return q, ws, false, err
	}
	return q, ws, err == nil, err
}

func (db *DB) inquiryByRequest(ctx context.Context, actor models.Principal, requestKey string) (*models.Inquiry, *WorkflowStart, error) {
	var q models.Inquiry
	if err := db.gorm.WithContext(ctx).Where("submitted_by = ? AND request_key = ?", actor.UserID, requestKey).Take(&q).Error; err != nil {
		return nil, nil, notFound(err, "inquiry")
	}
	ws, err := db.StartOf(ctx, "inquiry", q.ID)
	if models.ErrorCode(err) == models.ENOTFOUND {
		return &q, nil, nil
	}
	return &q, ws, err
}

func (db *DB) createInquiry(ctx context.Context, actor models.Principal, in models.InquiryInput, kind models.TopicKind, sla time.Duration,
	requestKey string, plan func(*models.Inquiry) (*WorkflowStart, error)) (*models.Inquiry, *WorkflowStart, error) {
	var q models.Inquiry
	var ws *WorkflowStart
	err := db.tx(ctx, func(tx *gorm.DB) error {
		// The org's row is locked for the transaction, so that concurrent
		// creates count the trial's inquiries one after another: without it,
		// PostgreSQL's READ COMMITTED lets each of them count the same
		// number and insert (count-then-insert race). SQLite transactions
		// take the write lock up front (_txlock=immediate) and are serial.
		var o models.Org
		if err := db.forUpdate(tx).Where("id = ?", actor.OrgID).Take(&o).Error; err != nil {
			return notFound(err, "org")
		}
		now := db.Now()
		switch o.Plan {
		case models.PlanTrial:
			if o.TrialEndsAt != nil && !now.Before(*o.TrialEndsAt) {
				return models.Errorf(models.ETRIALEXHAUSTED, "the Experts on Demand trial ended on %s: contact your account team to subscribe", o.TrialEndsAt.Format("2006-01-02"))
			}
			var used int64
			if err := tx.Model(&models.Inquiry{}).Where("org_id = ? AND subscription = ?", o.ID, models.PlanTrial).Count(&used).Error; err != nil {
				return err
			}
			if used >= int64(o.TrialAllowance) {
				return models.Errorf(models.ETRIALEXHAUSTED, "the Experts on Demand trial's %d inquiries are used: contact your account team to subscribe", o.TrialAllowance)
			}
		case models.PlanFull:
		default:
			return models.Errorf(models.ESUBSCRIPTION, "asking an expert needs an Experts on Demand subscription: contact your account team")
		}
		if err := db.checkTopic(tx, o.ID, in); err != nil {
			return err
		}
		due := now.Add(sla)
		q = models.Inquiry{ID: newID("inq"), OrgID: o.ID, SubmittedBy: actor.UserID, TopicURL: in.TopicURL, TopicKind: kind,
			TopicGroup: in.TopicGroup, AlertID: in.AlertID, IncidentID: in.IncidentID, Context: in.Context, ContactEmail: in.ContactEmail,
			Subscription: o.Plan, Status: models.InquirySubmitted, DueAt: &due, QueueKey: due, Period: 1, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&q).Error; err != nil {
			return err
		}
		if requestKey != "" {
			if err := tx.Model(&models.Inquiry{}).Where("id = ?", q.ID).Update("request_key", requestKey).Error; err != nil {
				return err
			}
		}
		if plan != nil {
			var err error
			if ws, err = plan(&q); err != nil {
				return err
			}
			if err := db.recordStart(tx, ws); err != nil {
				return err
			}
		}
		return db.audit(tx, actor, o.ID, "inquiry", q.ID, "submitted", map[string]any{
			"topic_url": q.TopicURL, "topic_kind": q.TopicKind, "topic_group": q.TopicGroup, "subscription": q.Subscription, "progress_report_due_at": due})
	})
	if err != nil {
		return nil, nil, err
	}
	return &q, ws, nil
}

// AbortInquiry removes an inquiry whose workflow was certainly never started
// (and its recorded start). Submit no longer calls it: a start error may be
// ambiguous, and the reconciler finishes a recorded start instead.
func (db *DB) AbortInquiry(ctx context.Context, id string) error {
	return db.tx(ctx, func(tx *gorm.DB) error {
		var q models.Inquiry
		if err := tx.Where("id = ?", id).Take(&q).Error; err != nil {
			return notFound(err, "inquiry")
		}
		if err := tx.Delete(&q).Error; err != nil {
			return err
		}
		if err := db.forgetStart(tx, "inquiry", id); err != nil {
			return err
		}
		return db.audit(tx, models.System, q.OrgID, "inquiry", id, "submission_aborted", map[string]string{"why": "the workflow could not be started"})
	})
}

// messageRow is a report's or a response's text. It is written before the
// workflow accepts the command (histories carry ids, not texts) and posted
// when the workflow commits it.
type messageRow struct {
	ID        string `gorm:"primaryKey"`
	InquiryID string
	AuthorID  string
	Kind      string
	Category  *string
	Body      string
	Posted    bool
	CreatedAt time.Time
}

func (messageRow) TableName() string { return "inquiry_messages" }

// DraftMessage stores a text for a command the workflow has yet to accept.
func (db *DB) DraftMessage(ctx context.Context, actor models.Principal, inquiryID, kind string, category models.ReportCategory, body string) (string, error) {
	id, _, err := db.UpsertDraft(ctx, actor, inquiryID, "", kind, category, body)
	return id, err
}

// UpsertDraft stores a text under id (a new id when empty). A retried
// request derives the same id: it finds the first attempt's draft and keeps
// it (the first text wins), and posted says whether the workflow already
// committed it. A draft of another inquiry, author or kind is a conflict.
func (db *DB) UpsertDraft(ctx context.Context, actor models.Principal, inquiryID, id, kind string, category models.ReportCategory, body string) (string, bool, error) {
	if id == "" {
		id = newID("msg")
	}
	m := messageRow{ID: id, InquiryID: inquiryID, AuthorID: actor.UserID, Kind: kind, Body: body, CreatedAt: db.Now()}
	if category != "" {
		c := string(category)
		m.Category = &c
	}
	g := db.gorm.WithContext(ctx)
	if err := g.Clauses(clause.OnConflict{DoNothing: true}).Create(&m).Error; err != nil {
		return "", false, mapErr(err)
	}
	var got messageRow
	if err := g.Where("id = ?", id).Take(&got).Error; err != nil {
		return "", false, mapErr(err)
	}
	if got.InquiryID != inquiryID || got.AuthorID != actor.UserID || got.Kind != kind {
		return "", false, models.Errorf(models.EIDEMPOTENCY, "this Idempotency-Key was used for another request")
	}
	return id, got.Posted, nil
}

// DraftPosted reports whether the text id exists and is posted.
func (db *DB) DraftPosted(ctx context.Context, id string) (exists, posted bool, err error) {
	var m messageRow
	err = db.gorm.WithContext(ctx).Where("id = ?", id).Take(&m).Error
	if isNotFound(err) {
		return false, false, nil
	}
	if err != nil {
		return false, false, mapErr(err)
	}
	return true, m.Posted, nil
}

// DiscardDraft deletes a draft the workflow refused: bad input changes nothing.
func (db *DB) DiscardDraft(ctx context.Context, id string) error {
	return mapErr(db.gorm.WithContext(ctx).Where("id = ? AND posted = ?", id, false).Delete(&messageRow{}).Error)
}

// Message returns one posted or draft text.
func (db *DB) Message(ctx context.Context, id string) (string, error) {
	var m messageRow
	if err := db.gorm.WithContext(ctx).Where("id = ?", id).Take(&m).Error; err != nil {
		return "", notFound(err, "message")
	}
	return m.Body, nil
}

type sampleBlob struct {
	SampleID string `gorm:"primaryKey"`
	Data     []byte
}

func (sampleBlob) TableName() string { return "sample_blobs" }

type sampleChunk struct {
	SampleID string `gorm:"primaryKey"`
	Seq      int    `gorm:"primaryKey"`
	Data     []byte
}

func (sampleChunk) TableName() string { return "sample_chunks" }

type sampleRow struct {
	models.Sample
	Attached bool
	Complete bool
}

func (sampleRow) TableName() string { return "samples" }

// SampleChunkSize is how much of an upload is held in memory at a time.
const SampleChunkSize = 1 << 20

// DraftSample stores an uploaded file and its SHA-256; it counts once the
// workflow accepts it.
func (db *DB) DraftSample(ctx context.Context, actor models.Principal, inquiryID, filename string, data []byte) (*models.Sample, error) {
	return db.StoreSample(ctx, actor, inquiryID, "", filename, bytes.NewReader(data), int64(len(data)))
}

// StoreSample streams r into the database while hashing it: one chunk of
// SampleChunkSize in memory at a time, each chunk its own short write (no
// transaction held open while a slow client sends). The sample is complete,
// with its size and SHA-256, once the last chunk is in; an upload that fails
// or exceeds maxBytes (ETOOLARGE) is removed again. id "" picks a new id.
func (db *DB) StoreSample(ctx context.Context, actor models.Principal, inquiryID, id, filename string, r io.Reader, maxBytes int64) (*models.Sample, error) {
	if id == "" {
		id = newID("smp")
	}
	s := sampleRow{Sample: models.Sample{ID: id, InquiryID: inquiryID, OrgID: actor.OrgID, UploadedBy: actor.UserID,
		Filename: filename, CreatedAt: db.Now()}}
	g := db.gorm.WithContext(ctx)
	if err := g.Create(&s).Error; err != nil {
		return nil, mapErr(err)
	}
	fail := func(err error) (*models.Sample, error) {
		if rerr := db.removeSample(context.WithoutCancel(ctx), id); rerr != nil {
			slog.Error("remove a failed sample upload", "sample_id", id, "err", rerr)
		}
		return nil, err
	}
	h := sha256.New()
	buf := make([]byte, SampleChunkSize)
	var size int64
	for seq := 0; ; seq++ {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			size += int64(n)
			if size > maxBytes {
				return fail(&models.Error{Code: models.ETOOLARGE, Message: fmt.Sprintf("a sample may be at most %d bytes", maxBytes)})
			}
			h.Write(buf[:n])
			if err := g.Create(&sampleChunk{SampleID: id, Seq: seq, Data: buf[:n]}).Error; err != nil {
				return fail(mapErr(err))
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return fail(fmt.Errorf("read sample: %w", err))
		}
	}
	s.Size, s.SHA256 = size, hex.EncodeToString(h.Sum(nil))
	if err := g.Model(&sampleRow{}).Where("id = ?", id).Updates(map[string]any{"size": s.Size, "sha256": s.SHA256, "complete": true}).Error; err != nil {
		return fail(mapErr(err))
	}
	return &s.Sample, nil
}

// SampleState is a stored sample and whether it is complete and attached.
type SampleState struct {
	Sample             models.Sample
	Attached, Complete bool
}

// SampleStateOf returns a sample however far it got (NotFound when missing).
func (db *DB) SampleStateOf(ctx context.Context, id string) (*SampleState, error) {
	var s sampleRow
	if err := db.gorm.WithContext(ctx).Where("id = ?", id).Take(&s).Error; err != nil {
		return nil, notFound(err, "sample")
	}
	return &SampleState{Sample: s.Sample, Attached: s.Attached, Complete: s.Complete}, nil
}

// SampleUsage counts an inquiry's samples, attached or on their way, and
// their bytes: what its quota is checked against.
func (db *DB) SampleUsage(ctx context.Context, inquiryID string) (count, size int64, err error) {
	var row struct {
		N     int64
		Bytes int64
	}
	err = db.gorm.WithContext(ctx).Model(&sampleRow{}).Select("COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes").
		Where("inquiry_id = ?", inquiryID).Scan(&row).Error
	return row.N, row.Bytes, mapErr(err)
}

// DiscardSample deletes a sample the workflow refused, and nothing else: an
// attached sample (the workflow committed it) stays.
func (db *DB) DiscardSample(ctx context.Context, id string) error {
	return db.removeSample(ctx, id)
}

// removeSample deletes an unattached sample and its bytes; the row is locked
// first (PostgreSQL) so that an attach racing with it wins or loses whole.
func (db *DB) removeSample(ctx context.Context, id string) error {
	return db.tx(ctx, func(tx *gorm.DB) error {
		var s sampleRow
		err := db.forUpdate(tx).Where("id = ?", id).Take(&s).Error
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if s.Attached {
			return nil
		}
		if err := tx.Where("sample_id = ?", id).Delete(&sampleChunk{}).Error; err != nil {
			return err
		}
		if err := tx.Where("sample_id = ?", id).Delete(&sampleBlob{}).Error; err != nil {
			return err
		}
		return tx.Where("id = ? AND attached = ?", id, false).Delete(&sampleRow{}).Error
	})
}

// SampleData returns an attached sample and its bytes, as seen from scope.
func (db *DB) SampleData(ctx context.Context, scope, id string) (*models.Sample, []byte, error) {
	var s sampleRow
	q := db.gorm.WithContext(ctx).Where("id = ? AND attached = ? AND complete = ?", id, true, true)
	if scope != "" {
		q = q.Where("org_id = ?", scope)
	}
	if err := q.Take(&s).Error; err != nil {
		return nil, nil, notFound(err, "sample")
	}
	// One chunk at a time into one buffer of the sample's size.
	rows, err := db.gorm.WithContext(ctx).Model(&sampleChunk{}).Select("data").Where("sample_id = ?", id).Order("seq").Rows()
	if err != nil {
		return nil, nil, mapErr(err)
	}
	defer rows.Close()
	data, chunks := make([]byte, 0, s.Size), 0
	for rows.Next() {
		var c []byte
		if err := rows.Scan(&c); err != nil {
			return nil, nil, mapErr(err)
		}
		data = append(data, c...)
		chunks++
	}
	if err := rows.Err(); err != nil {
		return nil, nil, mapErr(err)
	}
	if chunks > 0 || s.Size == 0 {
		return &s.Sample, data, nil
	}
	var b sampleBlob // stored before chunks existed
	if err := db.gorm.WithContext(ctx).Where("sample_id = ?", id).Take(&b).Error; err != nil {
		return nil, nil, mapErr(err)
	}
	return &s.Sample, b.Data, nil
}

// Inquiry returns one inquiry with its reports, responses, samples, SLA and
// timeline, as seen from scope.
func (db *DB) Inquiry(ctx context.Context, scope, id string) (*models.Inquiry, error) {
	var q models.Inquiry
	g := db.gorm.WithContext(ctx)
	w := g.Where("id = ?", id)
	if scope != "" {
		w = w.Where("org_id = ?", scope)
	}
	if err := w.Take(&q).Error; err != nil {
		return nil, notFound(err, "inquiry")
	}
	var msgs []messageRow
	// By time, then id: ids derived from an Idempotency-Key are not time-ordered.
	if err := g.Where("inquiry_id = ? AND posted = ?", id, true).Order("created_at, id").Find(&msgs).Error; err != nil {
		return nil, mapErr(err)
	}
	q.Reports, q.Responses = []models.InquiryReport{}, []models.InquiryResponse{}
	for _, m := range msgs {
		if m.Kind == "report" && m.Category != nil {
			q.Reports = append(q.Reports, models.InquiryReport{ID: m.ID, InquiryID: id, AuthorID: m.AuthorID, Category: models.ReportCategory(*m.Category), Message: m.Body, CreatedAt: m.CreatedAt})
		} else {
			q.Responses = append(q.Responses, models.InquiryResponse{ID: m.ID, InquiryID: id, AuthorID: m.AuthorID, Message: m.Body, CreatedAt: m.CreatedAt})
		}
	}
	q.Samples = []models.Sample{}
	if err := g.Model(&sampleRow{}).Where("inquiry_id = ? AND attached = ? AND complete = ?", id, true, true).Order("created_at, id").Find(&q.Samples).Error; err != nil {
		return nil, mapErr(err)
	}
	tl, err := db.Timeline(ctx, "inquiry", id)
	if err != nil {
		return nil, err
	}
	q.Timeline = tl
	if err := db.topicOf(ctx, &q); err != nil {
		return nil, err
	}
	q.FillSLA(db.Now())
	return &q, nil
}

// openInquiries is the open statuses as literals, so that PostgreSQL matches
// the partial index inquiries_open_queue (bound parameters would hide the
// statuses from the planner's generic plans).
const openInquiries = "inquiries.status IN ('submitted', 'in_progress', 'awaiting_customer')"

// Inquiries lists inquiries: newest first, or — for the queue (OpenOnly) —
// open ones by SLA due time, paused ones last.
func (db *DB) Inquiries(ctx context.Context, f models.InquiryFilter) (models.List[models.Inquiry], error) {
	q := db.gorm.WithContext(ctx).Model(&models.Inquiry{})
	if f.OrgID != "" {
		q = q.Where("org_id = ?", f.OrgID)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.AssigneeID != "" {
		q = q.Where("assignee_id = ?", f.AssigneeID)
	}
	if f.Unassigned {
		q = q.Where("assignee_id IS NULL")
	}
	if f.Breached != nil {
		q = q.Where("breached = ?", *f.Breached)
	}
	if f.TopicGroup != "" {
		q = q.Where("topic_group = ?", f.TopicGroup)
	}
	if f.AlertSeverity != "" {
		q = q.Where("(alert_id IN (SELECT id FROM alerts WHERE severity = ?) OR incident_id IN (SELECT id FROM incidents WHERE severity = ?))",
			f.AlertSeverity, f.AlertSeverity)
	}
	var out models.List[models.Inquiry]
	var err error
	if !f.OpenOnly {
		out, err = pageByID(q, f.Page, func(i models.Inquiry) string { return i.ID })
	} else {
		q = q.Where(openInquiries)
		out, err = pageByQueue(q, f.Page)
	}
	now := db.Now()
	for i := range out.Items {
		out.Items[i].FillSLA(now)
	}
	return out, err
}

func pageByQueue(q *gorm.DB, p models.Page) (models.List[models.Inquiry], error) {
	n := limitOf(p)
	if p.Cursor != "" {
		c, err := decodeCursor(p.Cursor)
		if err != nil {
			return models.List[models.Inquiry]{}, err
		}
		k, err := time.Parse(time.RFC3339Nano, c.Key)
		if err != nil {
			return models.List[models.Inquiry]{}, &models.Error{Code: models.EINVALID, Message: "request is invalid", Fields: map[string]string{"cursor": "is not a cursor this server issued"}}
		}
		q = q.Where("(queue_key, id) > (?, ?)", k, c.ID) // a row comparison: one index range
	}
	var items []models.Inquiry
	if err := q.Order("queue_key, id").Limit(n + 1).Find(&items).Error; err != nil {
		return models.List[models.Inquiry]{}, mapErr(err)
	}
	out := models.List[models.Inquiry]{Items: items}
	if len(items) > n {
		last := items[n-1]
		out.Items = items[:n]
		out.NextCursor = encodeCursor(cursor{Key: last.QueueKey.UTC().Format(time.RFC3339Nano), ID: last.ID})
	}
	if out.Items == nil {
		out.Items = []models.Inquiry{}
	}
	return out, nil
}

// InquiryChange is one committed step of an inquiry's workflow.
type InquiryChange struct {
	InquiryID, Key, Action string
	Actor                  models.Principal
	At                     time.Time
	Status                 models.InquiryStatus
	Assignee               string
	DueAt                  time.Time
	Breached               bool
	Category               models.ReportCategory
	MessageID, SampleID    string
	Period                 int // the SLA period after the change; 0: unknown (older workflows)
}

// ApplyInquiryChange commits a workflow step: the inquiry's new state, the
// posted text or attached sample, and the audit entry, all in one
// transaction. The audit entry's id derives from the change's key, so a
// retried commit finds it and changes nothing.
func (db *DB) ApplyInquiryChange(ctx context.Context, ch InquiryChange) error {
	at := ch.At.UTC().Truncate(time.Microsecond)
	return db.tx(ctx, func(tx *gorm.DB) error {
		var q models.Inquiry
		if err := tx.Where("id = ?", ch.InquiryID).Take(&q).Error; err != nil {
			return notFound(err, "inquiry")
		}
		data := map[string]any{"status": ch.Status}
		if ch.Category != "" {
			data["category"] = ch.Category
		}
		if ch.Assignee != "" && (q.AssigneeID == nil || *q.AssigneeID != ch.Assignee) {
			data["assignee_id"] = ch.Assignee
		}
		if ch.MessageID != "" {
			data["message_id"] = ch.MessageID
		}
		if ch.SampleID != "" {
			data["sample_id"] = ch.SampleID
		}
		if !ch.DueAt.IsZero() {
			data["progress_report_due_at"] = ch.DueAt.UTC()
		}
		// Once per key, whatever the time: a commit retried after its outcome
		// was lost carries a later time (and so another id).
		if done, err := eventRecorded(tx, "inquiry", q.ID, "inquiry/"+ch.InquiryID+"/"+ch.Key); err != nil || done {
			return err
		}
		row := models.AuditEntry{ID: eventID("aud", at, "inquiry/"+ch.InquiryID+"/"+ch.Key), At: at, ActorID: ch.Actor.UserID,
			ActorRole: string(ch.Actor.Role), OrgID: q.OrgID, Entity: "inquiry", EntityID: q.ID, Action: ch.Action}
		raw, _ := jsonMarshal(data)
		row.Data = raw
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return nil // committed by an earlier attempt
		}
		upd := map[string]any{"status": ch.Status, "breached": ch.Breached, "updated_at": at}
		if ch.Assignee != "" {
			upd["assignee_id"] = ch.Assignee
		}
		switch {
		case !ch.Status.Open():
			upd["due_at"], upd["paused_at"], upd["closed_at"] = nil, nil, at
		case ch.Status == models.InquiryAwaitingCustomer:
			upd["due_at"], upd["queue_key"] = nil, farFuture
			if q.Status != models.InquiryAwaitingCustomer {
				upd["paused_at"] = at
			}
		default:
			due := ch.DueAt.UTC().Truncate(time.Microsecond)
			upd["due_at"], upd["queue_key"], upd["paused_at"] = due, due, nil
		}
		if ch.Period > 0 {
			upd["period"] = ch.Period
		}
		if ch.Action == "sla_breached" {
			upd["breach_count"] = gorm.Expr("breach_count + 1")
		}
		if ch.Action == "reported" && q.FirstReportAt == nil {
			upd["first_report_at"] = at
		}
		if err := tx.Model(&models.Inquiry{}).Where("id = ?", q.ID).Updates(upd).Error; err != nil {
			return err
		}
		if ch.MessageID != "" {
			if err := tx.Model(&messageRow{}).Where("id = ? AND inquiry_id = ?", ch.MessageID, q.ID).Update("posted", true).Error; err != nil {
				return err
			}
		}
		if ch.SampleID != "" {
			if err := tx.Model(&sampleRow{}).Where("id = ? AND inquiry_id = ?", ch.SampleID, q.ID).Update("attached", true).Error; err != nil {
				return err
			}
		}
		return nil
	})
}

// PurgeAbandoned removes drafts and samples that no workflow ever took and
// that were stored before `before`: uploads cut off by a crash, texts and
// files of commands whose outcome never came. They count against nothing
// once gone (an inquiry's sample quota counts its unattached samples). It
// returns how many drafts and samples it removed.
func (db *DB) PurgeAbandoned(ctx context.Context, before time.Time) (drafts, samples int64, err error) {
	g := db.gorm.WithContext(ctx)
	res := g.Where("posted = ? AND created_at < ?", false, before.UTC()).Delete(&messageRow{})
	if res.Error != nil {
		return 0, 0, mapErr(res.Error)
	}
	drafts = res.RowsAffected
	var ids []string
	if err := g.Model(&sampleRow{}).Where("attached = ? AND created_at < ?", false, before.UTC()).Limit(1000).Pluck("id", &ids).Error; err != nil {
		return drafts, 0, mapErr(err)
	}
	for _, id := range ids {
		if err := db.removeSample(ctx, id); err != nil {
			return drafts, samples, err
		}
		samples++
	}
	return drafts, samples, nil
}
