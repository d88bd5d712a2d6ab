package store_test

import (
	"context"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/huntdesk/huntdesk/internal/odata"
	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/internal/store/storetest"
	"github.com/huntdesk/huntdesk/models"
)

var (
	sysActor = models.Principal{UserID: models.SystemActor, Role: "system"}
	expert   = models.Principal{UserID: "usr_expert", Role: models.RoleExpert}
)

// enrolled makes a customer org whose Endpoint attack notifications are
// approved and enabled (Process A, through the store).
func enrolled(t *testing.T, db *store.DB, name string) *models.Org {
	t.Helper()
	ctx := context.Background()
	devices := 10
	o, err := db.CreateOrg(ctx, sysActor, models.OrgCustomer, models.OrgInput{Name: &name, DevicesEnrolled: &devices})
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	app, _, err := db.CreateApplication(ctx, models.Principal{UserID: "usr_admin", OrgID: o.ID, Role: models.RoleCustomerAdmin},
		models.ApplicationInput{ContactName: "C", ContactEmail: "c@example.com", AcceptPrivacyStatement: &yes}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.DecideApplication(ctx, app.ID, models.ApplicationApproved, models.Principal{UserID: "usr_mgr", Role: models.RoleManager}, "", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	return o
}

func raise(t *testing.T, db *store.DB, org string, sev models.Severity, incident *string, devices ...string) *models.Alert {
	t.Helper()
	in := store.NewAlert{AlertInput: models.AlertInput{OrgID: org, Title: "Suspicious " + string(sev), Severity: sev, Category: "Execution",
		IncidentID: incident}, ServiceSource: models.SourceDefenderForEndpoint, DetectionSource: models.SourceDefenderExperts,
		Tags: []string{models.TagEndpointAttackNotification}}
	for _, d := range devices {
		in.Devices = append(in.Devices, models.AlertDevice{ID: d, Name: "host-" + d})
	}
	a, err := db.RaiseAlert(context.Background(), expert, in, nil)
	if err != nil {
		t.Fatalf("raise: %v", err)
	}
	return a
}

func TestRaiseAlertNeedsTheFeatureApprovedAndEnabled(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	name := "Fabrikam"
	o, err := db.CreateOrg(ctx, sysActor, models.OrgCustomer, models.OrgInput{Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	in := store.NewAlert{AlertInput: models.AlertInput{OrgID: o.ID, Title: "x", Severity: models.SeverityHigh, Category: "c",
		Devices: []models.AlertDevice{{ID: "d", Name: "n"}}}}
	if _, err := db.RaiseAlert(ctx, expert, in, nil); models.ErrorCode(err) != models.EFEATURE {
		t.Fatalf("not enrolled: %v", err)
	}
	in.OrgID = "org_missing"
	if _, err := db.RaiseAlert(ctx, expert, in, nil); models.ErrorCode(err) != models.ENOTFOUND {
		t.Fatalf("unknown org: %v", err)
	}
	c := enrolled(t, db, "Contoso")
	if _, err := db.SetEndpointAttackNotifications(ctx, models.Principal{UserID: "usr_admin", OrgID: c.ID, Role: models.RoleCustomerAdmin}, c.ID, false); err != nil {
		t.Fatal(err)
	}
	in.OrgID = c.ID
	if _, err := db.RaiseAlert(ctx, expert, in, nil); models.ErrorCode(err) != models.EFEATURE {
		t.Fatalf("switched off: %v", err)
	}
	if l, _, err := db.Alerts(ctx, c.ID, store.AlertFilter{Query: odata.Query{Top: 10}}); err != nil || len(l.Items) != 0 || l.Items == nil {
		t.Fatalf("nothing raised, an empty list (not null): %#v %v", l.Items, err)
	}
}

func TestIncidentKeepsItsAggregatesAsAlertsJoinAndChange(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	org := enrolled(t, db, "Contoso")
	other := enrolled(t, db, "Other")

	a1 := raise(t, db, org.ID, models.SeverityLow, nil, "d1", "d2")
	inc, err := db.Incident(ctx, org.ID, a1.IncidentID)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Title != a1.Title || inc.Severity != models.SeverityLow || inc.Status != models.IncidentActive || inc.AlertCount != 1 || len(inc.Devices) != 2 {
		t.Fatalf("new incident: %+v", inc)
	}
	a2 := raise(t, db, org.ID, models.SeverityHigh, &a1.IncidentID, "d2", "d3")
	raise(t, db, org.ID, models.SeverityMedium, &a1.IncidentID, "d1")
	inc, _ = db.Incident(ctx, org.ID, a1.IncidentID)
	devs := []models.AlertDevice{{ID: "d1", Name: "host-d1"}, {ID: "d2", Name: "host-d2"}, {ID: "d3", Name: "host-d3"}}
	if inc.Title != a1.Title || inc.Severity != models.SeverityHigh || inc.AlertCount != 3 || len(inc.Alerts) != 3 || !reflect.DeepEqual(inc.Devices, devs) {
		t.Fatalf("after joins: %+v", inc)
	}
	// Another org's incident, or a missing one: not found; a resolved one: refused.
	if _, err := db.RaiseAlert(ctx, expert, store.NewAlert{AlertInput: models.AlertInput{OrgID: other.ID, Title: "t", Severity: models.SeverityLow, Category: "c",
		Devices: []models.AlertDevice{{ID: "d", Name: "n"}}, IncidentID: &a1.IncidentID}}, nil); models.ErrorCode(err) != models.ENOTFOUND {
		t.Fatalf("another org's incident: %v", err)
	}

	resolve := func(id string, st string) {
		t.Helper()
		if _, err := db.PatchAlert(ctx, models.Principal{UserID: "usr_admin", OrgID: org.ID, Role: models.RoleCustomerAdmin}, org.ID, id, models.AlertPatch{Status: &st}); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range inc.Alerts {
		resolve(a.ID, "resolved")
	}
	inc, _ = db.Incident(ctx, org.ID, a1.IncidentID)
	if inc.Status != models.IncidentResolved || !inc.AllAlertsResolved || inc.ResolvedAlerts != 3 {
		t.Fatalf("all alerts resolved shows the incident resolved: %+v", inc)
	}
	if _, err := db.RaiseAlert(ctx, expert, store.NewAlert{AlertInput: models.AlertInput{OrgID: org.ID, Title: "t", Severity: models.SeverityLow, Category: "c",
		Devices: []models.AlertDevice{{ID: "d", Name: "n"}}, IncidentID: &a1.IncidentID}}, nil); models.ErrorCode(err) != models.EINVALIDSTATE {
		t.Fatalf("joining a resolved incident: %v", err)
	}
	resolve(a2.ID, "in_progress")
	inc, _ = db.Incident(ctx, org.ID, a1.IncidentID)
	if inc.Status != models.IncidentActive || inc.AllAlertsResolved || inc.ResolvedAlerts != 2 {
		t.Fatalf("a reopened alert reopens the incident: %+v", inc)
	}
	// Resolving the incident itself resolves none of its alerts.
	st := "resolved"
	inc, err = db.PatchIncident(ctx, expert, "", inc.ID, models.AlertPatch{Status: &st})
	if err != nil || inc.Status != models.IncidentResolved || inc.AllAlertsResolved {
		t.Fatalf("incident resolved by hand: %+v %v", inc, err)
	}
	if a, _ := db.Alert(ctx, org.ID, a2.ID); a.Status != models.AlertInProgress {
		t.Fatalf("its alert changed: %s", a.Status)
	}
	if _, err := db.Incident(ctx, other.ID, inc.ID); models.ErrorCode(err) != models.ENOTFOUND {
		t.Fatalf("another org reads it: %v", err)
	}
	tl, _ := db.Timeline(ctx, "alert", a2.ID)
	if n := len(tl); n != 3 || tl[0].Action != "raised" || tl[1].Action != "updated" {
		t.Fatalf("alert timeline: %+v", tl)
	}
}

func TestPatchAlertChecksTheVerdictPair(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	org := enrolled(t, db, "Contoso")
	a := raise(t, db, org.ID, models.SeverityHigh, nil, "d1")
	s := func(v string) *string { return &v }
	if _, err := db.PatchAlert(ctx, expert, "", a.ID, models.AlertPatch{Determination: s("malware")}); models.ErrorCode(err) != models.EINVALID {
		t.Fatalf("determination without classification: %v", err)
	}
	if _, err := db.PatchAlert(ctx, expert, "", a.ID, models.AlertPatch{Classification: s("false_positive"), Determination: s("malware")}); models.ErrorCode(err) != models.EINVALID {
		t.Fatalf("malware under false_positive: %v", err)
	}
	got, err := db.PatchAlert(ctx, expert, "", a.ID, models.AlertPatch{Classification: s("true_positive"), Determination: s("malware"), AssignedTo: s("soc@contoso.example")})
	if err != nil || *got.Classification != "true_positive" || *got.Determination != "malware" || *got.AssignedTo != "soc@contoso.example" {
		t.Fatalf("%+v %v", got, err)
	}
	// A new classification drops a determination that does not fit it.
	got, err = db.PatchAlert(ctx, expert, "", a.ID, models.AlertPatch{Classification: s("false_positive")})
	if err != nil || *got.Classification != "false_positive" || got.Determination != nil {
		t.Fatalf("%+v %v", got, err)
	}
	got, err = db.PatchAlert(ctx, expert, "", a.ID, models.AlertPatch{AssignedTo: s("")})
	if err != nil || got.AssignedTo != nil {
		t.Fatalf("unassign: %+v %v", got, err)
	}
}

func TestAlertListFiltersOrdersAndPages(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	org := enrolled(t, db, "Contoso")
	other := enrolled(t, db, "Other")
	var ids []string
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i, sev := range []models.Severity{"low", "high", "medium", "high", "informational"} {
		db.Now = func() time.Time { return base.Add(time.Duration(i) * time.Hour) }
		ids = append(ids, raise(t, db, org.ID, sev, nil, "d").ID)
	}
	raise(t, db, other.ID, models.SeverityHigh, nil, "d")
	list := func(v url.Values, cursor string) ([]string, string, *int64) {
		t.Helper()
		q, err := odata.Parse(store.AlertSchema, v)
		if err != nil {
			t.Fatal(err)
		}
		l, n, err := db.Alerts(ctx, org.ID, store.AlertFilter{Query: q, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range l.Items {
			got = append(got, a.ID)
			if a.Tags[0] != models.TagEndpointAttackNotification || len(a.Devices) != 1 {
				t.Fatalf("tags and devices: %+v", a)
			}
		}
		return got, l.NextCursor, n
	}
	if got, _, n := list(url.Values{"$filter": {"severity eq 'high'"}, "$count": {"true"}}, ""); !reflect.DeepEqual(got, []string{ids[3], ids[1]}) || *n != 2 {
		t.Fatalf("high, newest first: %v %v", got, *n)
	}
	if got, _, _ := list(url.Values{"$filter": {"createdDateTime ge 2026-11-01T02:00:00Z and tags/any(t: t eq 'Endpoint Attack Notification')"}, "$orderby": {"createdDateTime asc"}}, ""); !reflect.DeepEqual(got, ids[2:]) {
		t.Fatalf("by time: %v", got)
	}
	// Severity descending, paged by 2 through the cursor: ties break by id.
	want := []string{ids[3], ids[1], ids[2], ids[0], ids[4]}
	var all []string
	cursor := ""
	for range 5 {
		got, next, _ := list(url.Values{"$orderby": {"severity desc"}, "$top": {"2"}}, cursor)
		all = append(all, got...)
		if cursor = next; cursor == "" {
			break
		}
	}
	if !reflect.DeepEqual(all, want) {
		t.Fatalf("by cursor: %v, want %v", all, want)
	}
	if got, _, _ := list(url.Values{"$orderby": {"severity desc"}, "$top": {"2"}, "$skip": {"2"}}, ""); !reflect.DeepEqual(got, want[2:4]) {
		t.Fatalf("by $skip: %v", got)
	}
	q, _ := odata.Parse(store.AlertSchema, url.Values{"$skip": {"1"}})
	if _, _, err := db.Alerts(ctx, org.ID, store.AlertFilter{Query: q, Cursor: "eyJ2IjpbXSwiaSI6IngifQ"}); models.ErrorCode(err) != models.EINVALID {
		t.Fatalf("cursor with $skip: %v", err)
	}
}

func TestRulesDecideRecipientsWhenTheAlertIsRaised(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	org := enrolled(t, db, "Contoso")
	admin := models.Principal{UserID: "usr_admin", OrgID: org.ID, Role: models.RoleCustomerAdmin}
	off := false
	for _, in := range []models.RuleInput{
		{Name: "high", Recipients: []string{"soc@contoso.example", "ciso@contoso.example"}, MinSeverity: "high", IncludeDeviceDetails: true},
		{Name: "medium", Recipients: []string{"SOC@contoso.example", "oncall@contoso.example"}, MinSeverity: "medium"},
		{Name: "edr only", Recipients: []string{"edr@contoso.example"}, MinSeverity: "informational", ServiceSources: []string{"EDR"}},
		{Name: "off", Recipients: []string{"off@contoso.example"}, MinSeverity: "informational", Enabled: &off},
	} {
		if err := in.Validate(); err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateRule(ctx, admin, org.ID, in); err != nil {
			t.Fatal(err)
		}
	}
	high := raise(t, db, org.ID, models.SeverityHigh, nil, "d")
	low := raise(t, db, org.ID, models.SeverityLow, nil, "d")
	got, err := db.AlertRecipients(ctx, high.ID)
	want := []store.AlertRecipient{{Recipient: "ciso@contoso.example", IncludeDeviceDetails: true}, {Recipient: "oncall@contoso.example"},
		{Recipient: "soc@contoso.example", IncludeDeviceDetails: true}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("high: %+v %v", got, err)
	}
	if got, _ := db.AlertRecipients(ctx, low.ID); len(got) != 0 {
		t.Fatalf("low matches no rule: %+v", got)
	}
	// Rules changed later do not change whom a raised alert goes to.
	rules, _ := db.Rules(ctx, org.ID)
	if err := db.DeleteRule(ctx, admin, org.ID, rules[0].ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.AlertRecipients(ctx, high.ID); len(got) != 3 {
		t.Fatalf("after the rule went: %+v", got)
	}
	if _, err := db.Rule(ctx, "org_other", rules[1].ID); models.ErrorCode(err) != models.ENOTFOUND {
		t.Fatalf("another org's rule: %v", err)
	}
}

func TestHuntingRowsPerAlertAndDevice(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	org := enrolled(t, db, "Contoso")
	other := enrolled(t, db, "Other")
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return t0 }
	a1 := raise(t, db, org.ID, models.SeverityLow, nil, "d1", "d2")
	db.Now = func() time.Time { return t0.Add(time.Hour) }
	a2 := raise(t, db, org.ID, models.SeverityHigh, nil, "d2")
	raise(t, db, other.ID, models.SeverityHigh, nil, "d2")
	rows := func(f models.HuntingFilter, limit int) ([]string, string) {
		t.Helper()
		var out []string
		next, err := db.HuntingEach(ctx, f, limit, func(r models.HuntingRow) error {
			out = append(out, r.AlertID+"/"+r.DeviceID)
			if r.DeviceName != "host-"+r.DeviceID || r.IncidentID == "" || r.Timestamp.IsZero() {
				t.Fatalf("row: %+v", r)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out, next
	}
	all, _ := rows(models.HuntingFilter{OrgID: org.ID}, 0)
	if !reflect.DeepEqual(all, []string{a2.ID + "/d2", a1.ID + "/d1", a1.ID + "/d2"}) {
		t.Fatalf("all: %v", all)
	}
	if got, _ := rows(models.HuntingFilter{OrgID: org.ID, DeviceID: "d2"}, 0); len(got) != 2 {
		t.Fatalf("d2: %v", got)
	}
	from := t0.Add(30 * time.Minute)
	if got, _ := rows(models.HuntingFilter{OrgID: org.ID, From: &from}, 0); !reflect.DeepEqual(got, all[:1]) {
		t.Fatalf("from: %v", got)
	}
	if got, _ := rows(models.HuntingFilter{OrgID: org.ID, To: &from}, 0); !reflect.DeepEqual(got, all[1:]) {
		t.Fatalf("to: %v", got)
	}
	p1, next := rows(models.HuntingFilter{OrgID: org.ID}, 2)
	p2, last := rows(models.HuntingFilter{OrgID: org.ID, Page: models.Page{Cursor: next}}, 2)
	if !reflect.DeepEqual(append(p1, p2...), all) || last != "" {
		t.Fatalf("pages: %v %v %q", p1, p2, last)
	}
}

// A forged cursor carrying a NUL is refused as a bad cursor, never sent to
// the database (PostgreSQL refuses NUL with an error: a 500).
func TestForgedCursorWithNULIsRefused(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	bad := "eyJpIjoieFx1MDAwMCJ9" // {"i":"x\u0000"}
	if _, err := db.Audit(ctx, models.AuditFilter{Page: models.Page{Cursor: bad}}); models.ErrorCode(err) != models.EINVALID {
		t.Fatalf("keyset cursor: %v", err)
	}
	if _, _, err := db.Alerts(ctx, "", store.AlertFilter{Query: odata.Query{Top: 10}, Cursor: "eyJ2IjpbIjIwMjYtMTEtMDFUMDA6MDA6MDBaIl0sImkiOiJ4XHUwMDAwIn0"}); models.ErrorCode(err) != models.EINVALID {
		t.Fatalf("odata cursor: %v", err)
	}
}
