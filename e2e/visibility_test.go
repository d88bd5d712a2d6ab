package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	devstack "github.com/huntdesk/huntdesk/internal/dev/stack"
	"github.com/huntdesk/huntdesk/workflows"
)

// TestSearchAttributesFindBreachedCases: every case workflow keeps its
// Huntdesk* search attributes, so "HuntdeskBreached = true" lists exactly the
// breached cases, and the UI shows each as a case.
func TestSearchAttributesFindBreachedCases(t *testing.T) {
	st, c := apiStack(t, fastInquiries(2*time.Second))
	tok := st.Tokens
	late := ask(t, c, tok["admin@fabrikam.example"])
	deadline := time.Now().Add(time.Minute)
	for {
		var q inquiry
		c.api("GET", "/api/v1/inquiries/"+late.ID, tok["manager@huntdesk.example"], nil).decode(t, &q)
		if q.SLA.Breached {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the inquiry never breached")
		}
		time.Sleep(100 * time.Millisecond)
	}
	onTime := ask(t, c, tok["admin@fabrikam.example"])
	step(t, c, "POST", "/api/v1/inquiries/"+onTime.ID+"/cancel", tok["admin@fabrikam.example"], nil, 200)

	list := func(query string) []string {
		var ids []string
		var token []byte
		for {
			res, err := st.Client.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Query: query, NextPageToken: token})
			if err != nil {
				t.Fatalf("%s: %v", query, err)
			}
			for _, e := range res.GetExecutions() {
				ids = append(ids, e.GetExecution().GetWorkflowId())
			}
			if token = res.GetNextPageToken(); len(token) == 0 {
				return ids
			}
		}
	}
	want := []string{workflows.InquiryWorkflowID(late.ID)}
	for deadline = time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		got := list("HuntdeskBreached = true")
		cancelled := list("HuntdeskStatus = 'cancelled' AND HuntdeskKind = 'inquiry'")
		if slices.Equal(got, want) && slices.Contains(cancelled, workflows.InquiryWorkflowID(onTime.ID)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("HuntdeskBreached = true lists %v, want %v (cancelled: %v)", got, want, cancelled)
		}
	}
	d, err := st.Client.DescribeWorkflowExecution(context.Background(), workflows.InquiryWorkflowID(late.ID), "")
	if err != nil {
		t.Fatal(err)
	}
	if s := d.GetExecutionConfig().GetUserMetadata().GetSummary(); s == nil || !containsBytes(s.GetData(), "Inquiry from Fabrikam") {
		t.Fatalf("the workflow's summary: %v", s)
	}
	// Registering again on a restart is a no-op.
	if err := devstack.RegisterSearchAttributes(context.Background(), st.Client, "default"); err != nil {
		t.Fatal(err)
	}
}

func containsBytes(b []byte, s string) bool { return strings.Contains(string(b), s) }
