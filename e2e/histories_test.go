package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/huntdesk/huntdesk/workflows"
)

// TestRecordHistories runs every path of every workflow on the real server,
// replays each history against today's workflow code, and — with
// HUNTDESK_RECORD_HISTORIES=1 (make record-histories) — saves them to
// workflows/testdata, where workflows' replay test keeps them replaying.
func TestRecordHistories(t *testing.T) {
	st := stack(t, t.TempDir(), "", 3*time.Second)
	defer st.Close()
	c := client{t: t, base: st.URL}
	tok := st.Tokens
	apply := func(admin, contact string) string {
		var app struct{ ID string }
		r := c.call("POST", "/api/v1/applications", tok[admin], map[string]any{"contact_name": "Contact", "contact_email": contact, "accept_privacy_statement": true})
		r.decode(t, &app)
		if r.status != 201 {
			t.Fatalf("apply: %d %s", r.status, r.body)
		}
		c.waitMail(contact, "received")
		return app.ID
	}
	decide := func(id, action, token string, body any) {
		if r := c.call("POST", "/api/v1/applications/"+id+"/"+action, token, body); r.status != 200 {
			t.Fatalf("%s: %d %s", action, r.status, r.body)
		}
	}
	paths := map[string]string{}

	id := apply("admin@contoso.example", "approve@contoso.example")
	decide(id, "approve", tok["manager@huntdesk.example"], map[string]any{"note": "ok"})
	paths["application_approved"] = id

	id = apply("admin@fabrikam.example", "reject@fabrikam.example")
	decide(id, "reject", tok["manager@huntdesk.example"], map[string]any{"reason": "not eligible"})
	paths["application_rejected"] = id

	id = apply("admin@fabrikam.example", "withdraw@fabrikam.example")
	decide(id, "withdraw", tok["admin@fabrikam.example"], nil)
	paths["application_withdrawn"] = id

	id = apply("admin@fabrikam.example", "late@fabrikam.example")
	c.waitMail("manager@huntdesk.example", "overdue")
	decide(id, "approve", tok["manager@huntdesk.example"], nil)
	paths["application_escalated_then_approved"] = id

	record := os.Getenv("HUNTDESK_RECORD_HISTORIES") != ""
	replayer := worker.NewWorkflowReplayer()
	replayer.RegisterWorkflowWithOptions(workflows.EligibilityApplicationWorkflow, workflow.RegisterOptions{Name: workflows.ApplicationWorkflow})
	for name, appID := range paths {
		wfID := workflows.ApplicationWorkflowID(appID)
		var res workflows.ApplicationStatus
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := st.Client.GetWorkflow(ctx, wfID, "").Get(ctx, &res)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		h := &historypb.History{}
		it := st.Client.GetWorkflowHistory(context.Background(), wfID, "", false, 0)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				t.Fatal(err)
			}
			h.Events = append(h.Events, ev)
		}
		if err := replayer.ReplayWorkflowHistory(nil, h); err != nil {
			t.Fatalf("%s does not replay: %v", name, err)
		}
		if record {
			b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(h)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join("..", "workflows", "testdata", name+".json"), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
