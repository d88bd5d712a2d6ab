package models_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/huntdesk/huntdesk/models"
)

// fieldsOf returns the fields an EINVALID error names, or nil.
func fieldsOf(t *testing.T, err error) map[string]string {
	t.Helper()
	if err == nil {
		return nil
	}
	e, ok := err.(*models.Error)
	if !ok || e.Code != models.EINVALID {
		t.Fatalf("want an invalid error, got %v", err)
	}
	return e.Fields
}

// Names end up in email subjects and headers: one line, no control
// characters. Every other text ends up in PostgreSQL, which refuses NUL.
func TestEveryInputRefusesControlCharactersByField(t *testing.T) {
	yes := true
	future := time.Now().Add(time.Hour)
	ctx := "Enough context for an expert to start.\nSecond line,\twith a tab."
	lines := map[string]string{ // refused in one-line fields
		"CR": "a\rb", "LF": "a\nb", "CRLF": "a\r\nBcc: x@y.example", "NUL": "a\x00b", "tab": "a\tb",
		"escape": "a\x1bb", "DEL": "a\x7fb", "C1": "a\u0085b", "line separator": "a\u2028b", "bad UTF-8": "a\xffb",
	}
	texts := map[string]string{"NUL": "Some text of twenty characters\x00 and more.", "bad UTF-8": "Some text of twenty characters\xff and more."}
	type check struct {
		name     string
		validate func(bad string) error
		field    string
	}
	var oneLine, multiLine []check
	oneLine = []check{
		{"org name (create)", func(s string) error { return models.OrgInput{Name: &s}.Validate(true) }, "name"},
		{"org name (update)", func(s string) error { return models.OrgInput{Name: &s}.Validate(false) }, "name"},
		{"user name", func(s string) error {
			in := models.UserInput{OrgID: "org_1", Email: "a@b.example", Name: s, Role: models.RoleCustomerViewer}
			return in.Validate()
		}, "name"},
		{"user org_id", func(s string) error {
			in := models.UserInput{OrgID: s, Email: "a@b.example", Name: "Ann", Role: models.RoleCustomerViewer}
			return in.Validate()
		}, "org_id"},
		{"user email", func(s string) error {
			in := models.UserInput{OrgID: "org_1", Email: "a" + s + "@b.example", Name: "Ann", Role: models.RoleCustomerViewer}
			return in.Validate()
		}, "email"},
		{"user rename", func(s string) error { return (&models.UserPatch{Name: &s}).Validate() }, "name"},
		{"token name", func(s string) error { return (&models.TokenInput{Name: s, ExpiresAt: &future}).Validate() }, "name"},
		{"contact name", func(s string) error {
			in := models.ApplicationInput{ContactName: s, ContactEmail: "a@b.example", AcceptPrivacyStatement: &yes}
			return in.Validate()
		}, "contact_name"},
		{"application contact email", func(s string) error {
			in := models.ApplicationInput{ContactName: "Ann", ContactEmail: "a" + s + "@b.example", AcceptPrivacyStatement: &yes}
			return in.Validate()
		}, "contact_email"},
		{"inquiry contact email", func(s string) error {
			in := models.InquiryInput{TopicURL: "https://portal.example/alerts/1", Context: ctx, ContactEmail: "a" + s + "@b.example"}
			_, err := in.Validate()
			return err
		}, "contact_email"},
		{"inquiry topic link", func(s string) error {
			in := models.InquiryInput{TopicURL: "https://portal.example/alerts/" + s, Context: ctx, ContactEmail: "a@b.example"}
			_, err := in.Validate()
			return err
		}, "topic_url"},
		{"inquiry alert id", func(s string) error {
			in := models.InquiryInput{TopicURL: "https://portal.example/alerts/1", Context: ctx, ContactEmail: "a@b.example", AlertID: &s}
			_, err := in.Validate()
			return err
		}, "alert_id"},
		{"assignee", func(s string) error { return (&models.AssignInput{UserID: "usr_" + s}).Validate() }, "user_id"},
		{"sample file name", func(s string) error { return models.ValidateFilename("file", "run"+s+".ps1") }, "file"},
	}
	multiLine = []check{
		{"inquiry context", func(s string) error {
			in := models.InquiryInput{TopicURL: "https://portal.example/alerts/1", Context: s, ContactEmail: "a@b.example"}
			_, err := in.Validate()
			return err
		}, "context"},
		{"report message", func(s string) error {
			return (&models.ReportInput{Category: models.ReportMoreTime, Message: s}).Validate()
		}, "message"},
		{"response message", func(s string) error { return (&models.ResponseInput{Message: s}).Validate() }, "message"},
		{"approval note", func(s string) error { return (&models.Decision{Note: s}).Validate(models.ApplicationApproved) }, "note"},
		{"rejection reason", func(s string) error { return (&models.Decision{Reason: s}).Validate(models.ApplicationRejected) }, "reason"},
	}
	for _, c := range oneLine {
		if err := c.validate("Plain.name"); fieldsOf(t, err)[c.field] != "" {
			t.Errorf("%s: a plain value is refused: %v", c.name, err)
		}
		for what, bad := range lines {
			if f := fieldsOf(t, c.validate(bad)); f[c.field] == "" {
				t.Errorf("%s with %s (%q): accepted, want %q named (got %v)", c.name, what, bad, c.field, f)
			}
		}
	}
	for _, c := range multiLine {
		if err := c.validate(ctx); err != nil {
			t.Errorf("%s: lines and tabs are fine in a text: %v", c.name, err)
		}
		for what, bad := range texts {
			if f := fieldsOf(t, c.validate(bad)); f[c.field] == "" {
				t.Errorf("%s with %s: accepted, want %q named (got %v)", c.name, what, c.field, f)
			}
		}
	}
}

func TestCleanFilenameStripsBidiAndCutsAtRuneBoundary(t *testing.T) {
	// "invoice<RLO>fdp.exe" displays as "invoiceexe.pdf".
	for _, r := range []rune{0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069, 0x200E, 0x200F} {
		in := "invoice" + string(r) + "fdp.exe"
		if got := models.CleanFilename(in); got != "invoicefdp.exe" {
			t.Errorf("CleanFilename(%q) = %q, want the bidi control %U stripped", in, got, r)
		}
	}
	for _, c := range []struct{ in, prefix string }{
		{strings.Repeat("é", 200), "é"}, // 400 bytes of 2-byte runes
		{"a" + strings.Repeat("é", 200), "aé"},
		{strings.Repeat("😈", 100), "😈"}, // 4-byte runes
		{"x" + strings.Repeat("😈", 100), "x😈"},
		{"xy" + strings.Repeat("😈", 100), "xy😈"},
		{"xyz" + strings.Repeat("😈", 100), "xyz😈"},
	} {
		got := models.CleanFilename(c.in)
		if !utf8.ValidString(got) || len(got) > 255 || len(got) < 252 || !strings.HasPrefix(got, c.prefix) || !strings.HasPrefix(c.in, got) {
			t.Errorf("CleanFilename(%d bytes %q…) = %d bytes, valid UTF-8 %v: want the longest prefix of whole characters within 255 bytes",
				len(c.in), c.prefix, len(got), utf8.ValidString(got))
		}
	}
	for in, want := range map[string]string{"a\xffb.txt": "a\uFFFDb.txt", "nul\x00.bin": "nul.bin"} {
		if got := models.CleanFilename(in); got != want {
			t.Errorf("CleanFilename(%q) = %q, want %q", in, got, want)
		}
	}
	if err := models.ValidateFilename("file", "résumé 😈.pdf"); err != nil {
		t.Errorf("a plain Unicode file name is refused: %v", err)
	}
}

// TestEveryStringFieldOfEveryInputIsChecked guards the rule for inputs to
// come: every struct the API decodes (the models types named *Input, *Patch
// and Decision) has a valid example here, and a NUL in any of its string
// fields, found by reflection, must fail Validate naming that field.
func TestEveryStringFieldOfEveryInputIsChecked(t *testing.T) {
	five, yes := 5, true
	name, note := "Alpha", "Welcome aboard."
	role, group := models.RoleCustomerViewer, models.GroupAlertInformation
	alert := "da42"
	statusNew, tp, malware, assignee := "new", "true_positive", "malware", "soc@b.example"
	future := time.Now().Add(time.Hour)
	examples := map[string][]struct {
		value    any // a pointer to a valid input
		validate func(v any) error
	}{
		"OrgInput": {{&models.OrgInput{Name: &name, DevicesEnrolled: &five, Subscription: &models.Subscription{Plan: models.PlanFull}},
			func(v any) error { return v.(*models.OrgInput).Validate(true) }}},
		"UserInput": {{&models.UserInput{OrgID: "org_1", Email: "a@b.example", Name: "Ann", Role: models.RoleCustomerAdmin},
			func(v any) error { return v.(*models.UserInput).Validate() }}},
		"UserPatch":  {{&models.UserPatch{Name: &name, Role: &role}, func(v any) error { return v.(*models.UserPatch).Validate() }}},
		"TokenInput": {{&models.TokenInput{Name: "laptop", ExpiresAt: &future}, func(v any) error { return v.(*models.TokenInput).Validate() }}},
		"ApplicationInput": {{&models.ApplicationInput{ContactName: "Ann", ContactEmail: "a@b.example", AcceptPrivacyStatement: &yes},
			func(v any) error { return v.(*models.ApplicationInput).Validate() }}},
		"Decision": {
			{&models.Decision{Note: note}, func(v any) error { return v.(*models.Decision).Validate(models.ApplicationApproved) }},
			{&models.Decision{Reason: "Sensor health below threshold."}, func(v any) error { return v.(*models.Decision).Validate(models.ApplicationRejected) }},
		},
		"InquiryInput": {{&models.InquiryInput{TopicURL: "https://portal.example/alerts/da42", TopicGroup: &group, Context: "Enough context for an expert to start.", ContactEmail: "a@b.example", AlertID: &alert, IncidentID: &alert},
			func(v any) error { _, err := v.(*models.InquiryInput).Validate(); return err }}},
		"AssignInput":   {{&models.AssignInput{UserID: "usr_1"}, func(v any) error { return v.(*models.AssignInput).Validate() }}},
		"ReportInput":   {{&models.ReportInput{Category: models.ReportMoreTime, Message: "Still digging."}, func(v any) error { return v.(*models.ReportInput).Validate() }}},
		"ResponseInput": {{&models.ResponseInput{Message: "Here it is."}, func(v any) error { return v.(*models.ResponseInput).Validate() }}},
		"AlertInput": {{&models.AlertInput{OrgID: "org_1", Title: "Credential theft", Description: "LSASS read.", Severity: models.SeverityHigh,
			Category: "CredentialAccess", Devices: []models.AlertDevice{{ID: "dev-1", Name: "FIN-LAPTOP-7"}}, RecommendedActions: "Isolate it.", IncidentID: &alert},
			func(v any) error { return v.(*models.AlertInput).Validate() }}},
		"AlertPatch": {{&models.AlertPatch{Status: &statusNew, Classification: &tp, Determination: &malware, AssignedTo: &assignee},
			func(v any) error { return v.(*models.AlertPatch).Validate(models.AlertStatuses) }}},
		"MePatch":        {{&models.MePatch{Notifications: &models.NotificationPrefs{}}, func(v any) error { return v.(*models.MePatch).Validate() }}},
		"ConnectorInput": {{&models.ConnectorInput{Name: "EDR export", OrgID: "org_1"}, func(v any) error { return v.(*models.ConnectorInput).Validate() }}},
		"RuleInput": {{&models.RuleInput{Name: "SOC", Recipients: []string{"soc@b.example"}, MinSeverity: models.SeverityHigh, ServiceSources: []string{"EDR"}},
			func(v any) error { return v.(*models.RuleInput).Validate() }}},
	}

	// Every input type of the package has examples.
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			for _, d := range f.Decls {
				g, ok := d.(*ast.GenDecl)
				if !ok || g.Tok != token.TYPE {
					continue
				}
				for _, sp := range g.Specs {
					ts := sp.(*ast.TypeSpec)
					if _, isStruct := ts.Type.(*ast.StructType); !isStruct {
						continue
					}
					n := ts.Name.Name
					if (strings.HasSuffix(n, "Input") || strings.HasSuffix(n, "Patch") || n == "Decision") && examples[n] == nil {
						t.Errorf("input type %s has no example here: add one, and check its text fields in its Validate", n)
					}
				}
			}
		}
	}

	for typ, exs := range examples {
		for _, ex := range exs {
			if err := ex.validate(ex.value); err != nil {
				t.Fatalf("%s: the example is invalid: %v", typ, err)
			}
			forEachString(reflect.ValueOf(ex.value).Elem(), "", func(field string, set func(string), get func() string) {
				orig := get()
				defer set(orig)
				bad := "a\x00b"
				if orig != "" {
					bad = orig[:len(orig)/2] + "\x00" + orig[len(orig)/2:]
				}
				set(bad)
				if f := fieldsOf(t, ex.validate(ex.value)); f[field] == "" {
					t.Errorf("%s.%s with a NUL: accepted, want %q named (got %v)", typ, field, field, f)
				}
			})
		}
	}
}

// forEachString calls fn for every string field (also behind pointers and in
// nested structs) of the struct v, named by its JSON path.
func forEachString(v reflect.Value, prefix string, fn func(field string, set func(string), get func() string)) {
	for i := 0; i < v.NumField(); i++ {
		sf := v.Type().Field(i)
		tag, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		name := prefix + tag
		fv := v.Field(i)
		if fv.Kind() == reflect.Pointer {
			if fv.Type().Elem().Kind() == reflect.Struct && fv.Type().Elem() != reflect.TypeOf(time.Time{}) {
				if !fv.IsNil() {
					forEachString(fv.Elem(), name+".", fn)
				}
				continue
			}
			if fv.Type().Elem().Kind() != reflect.String {
				continue
			}
			p := fv
			wasNil := p.IsNil()
			fn(name, func(s string) {
				if wasNil && s == "" {
					p.Set(reflect.Zero(p.Type()))
					return
				}
				if p.IsNil() {
					p.Set(reflect.New(p.Type().Elem()))
				}
				p.Elem().SetString(s)
			}, func() string {
				if p.IsNil() {
					return ""
				}
				return p.Elem().String()
			})
			continue
		}
		if fv.Kind() == reflect.Struct && fv.Type() != reflect.TypeOf(time.Time{}) {
			forEachString(fv, name+".", fn)
			continue
		}
		if fv.Kind() == reflect.String {
			fn(name, fv.SetString, fv.String)
		}
	}
}
