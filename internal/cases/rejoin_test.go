package cases

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"
	"go.temporal.io/sdk/temporal"

	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/internal/store/storetest"
	"github.com/huntdesk/huntdesk/models"
	"github.com/huntdesk/huntdesk/workflows"
)

// committedAnswer is an inquiry whose customer's answer, sent with an
// Idempotency-Key, was committed by the workflow's update handler (the
// text is posted) while the caller got no answer: the state a retry finds.
func committedAnswer(t *testing.T, db *store.DB, ctx context.Context, customer models.Principal) (inquiryID, msgID string) {
	t.Helper()
	in := models.InquiryInput{TopicURL: "https://security.microsoft.com/machines/abc", Context: "Twenty characters at least, here.", ContactEmail: "a@example.com"}
	kind, _ := in.Validate()
	q, err := db.CreateInquiry(ctx, customer, in, kind, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	msgID = "msg_" + derive(ctx, customer, "inquiry/"+q.ID+"/response")
	if _, _, err := db.UpsertDraft(ctx, customer, q.ID, msgID, "response", "", "The build service account."); err != nil {
		t.Fatal(err)
	}
	if err := db.ApplyInquiryChange(ctx, store.InquiryChange{InquiryID: q.ID, Key: "responded/" + msgID, Action: "responded", Actor: customer,
		At: time.Now(), Status: models.InquiryInProgress, DueAt: time.Now().Add(time.Hour), MessageID: msgID, Period: 2}); err != nil {
		t.Fatal(err)
	}
	return q.ID, msgID
}

// TestRetriedAnswerWaitsForTheWorkflow: a retry of an answer whose text the
// first attempt committed must not answer before the workflow has applied
// that update (its handler finishes after the commit, and a Temporal crash
// can hold it up): it sends the same update, by the same id, and answers
// with its outcome. Answering at once let the caller's next request meet a
// workflow still waiting on the answer (the fault suite found a report
// refused with "waiting on the customer's answer" after its answer got 201).
func TestRetriedAnswerWaitsForTheWorkflow(t *testing.T) {
	db := storetest.Open(t)
	name, devices := "Contoso", 5
	o, err := db.CreateOrg(context.Background(), models.System, models.OrgCustomer, models.OrgInput{Name: &name, DevicesEnrolled: &devices, Subscription: &models.Subscription{Plan: models.PlanFull}})
	if err != nil {
		t.Fatal(err)
	}
	customer := models.Principal{UserID: "usr_admin", OrgID: o.ID, Role: models.RoleCustomerAdmin}
	ctx := WithIdempotencyKey(context.Background(), "answer-1")

	for _, tc := range []struct {
		name    string
		outcome error
	}{
		{"the update is still finishing", nil},
		{"the workflow has moved on", temporal.NewApplicationError("no answer is awaited", models.EINVALIDSTATE)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, _ := committedAnswer(t, db, ctx, customer)
			tcl := mocks.NewClient(t)
			h := mocks.NewWorkflowUpdateHandle(t)
			h.On("Get", mock.Anything, mock.Anything).Return(tc.outcome).Once()
			want := derive(ctx, customer, "inquiry/"+id+"/"+workflows.InquiryRespond)
			tcl.On("UpdateWorkflow", mock.Anything, mock.MatchedBy(func(o client.UpdateWorkflowOptions) bool {
				return o.UpdateID == want && o.UpdateName == workflows.InquiryRespond && o.WorkflowID == workflows.InquiryWorkflowID(id)
			})).Return(h, nil).Once()
			s := &Inquiries{DB: db, Temporal: tcl}
			q, err := s.Respond(ctx, customer, id, "The build service account.")
			if err != nil || q.ID != id {
				t.Fatalf("retry: %v %+v", err, q)
			}
		})
	}
}
