package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/models"
)

type demoOrg struct {
	name    string
	kind    models.OrgKind
	devices int
	sub     models.Subscription
	users   []demoUser
}

type demoUser struct {
	email, name string
	role        models.Role
}

func demoOrgs(now time.Time) []demoOrg {
	trialEnd := now.AddDate(0, 3, 0).Truncate(24 * time.Hour)
	allowance := 5
	return []demoOrg{
		{name: "huntdesk", kind: models.OrgProvider, sub: models.Subscription{Plan: models.PlanNone}, users: []demoUser{
			{"manager@huntdesk.example", "Morgan Manager", models.RoleManager},
			{"expert@huntdesk.example", "Emery Expert", models.RoleExpert},
		}},
		{name: "Contoso", kind: models.OrgCustomer, devices: 250, sub: models.Subscription{Plan: models.PlanTrial, TrialEndsAt: &trialEnd, TrialAllowance: &allowance}, users: []demoUser{
			{"admin@contoso.example", "Casey Contoso", models.RoleCustomerAdmin},
			{"analyst@contoso.example", "Avery Analyst", models.RoleCustomerViewer},
		}},
		{name: "Fabrikam", kind: models.OrgCustomer, devices: 1200, sub: models.Subscription{Plan: models.PlanFull}, users: []demoUser{
			{"admin@fabrikam.example", "Frankie Fabrikam", models.RoleCustomerAdmin},
		}},
		{name: "Northwind", kind: models.OrgCustomer, devices: 0, sub: models.Subscription{Plan: models.PlanNone}, users: []demoUser{
			{"admin@northwind.example", "Nico Northwind", models.RoleCustomerAdmin},
		}},
	}
}

// Seed creates the demo orgs, users and tokens that are missing and returns a
// token per demo user. Tokens are stored hashed, so the secrets live in
// tokensFile ({"<email>": "<token>"}); a user whose token is not there (or no
// longer authenticates) gets a new one. Running it again changes nothing.
func Seed(ctx context.Context, db *store.DB, tokensFile string) (map[string]string, error) {
	tokens := map[string]string{}
	if b, err := os.ReadFile(tokensFile); err == nil {
		if err := json.Unmarshal(b, &tokens); err != nil {
			return nil, errors.New("read " + tokensFile + ": " + err.Error())
		}
	}
	for _, d := range demoOrgs(db.Now()) {
		org, err := db.OrgByName(ctx, d.name)
		if models.ErrorCode(err) == models.ENOTFOUND {
			name, devices, sub := d.name, d.devices, d.sub
			org, err = db.CreateOrg(ctx, models.System, d.kind, models.OrgInput{Name: &name, DevicesEnrolled: &devices, Subscription: &sub})
		}
		if err != nil {
			return nil, err
		}
		for _, du := range d.users {
			u, err := db.UserByEmail(ctx, du.email)
			if models.ErrorCode(err) == models.ENOTFOUND {
				u, err = db.CreateUser(ctx, models.System, models.UserInput{OrgID: org.ID, Email: du.email, Name: du.name, Role: du.role})
			}
			if err != nil {
				return nil, err
			}
			if t, ok := tokens[du.email]; ok {
				if p, err := db.Authenticate(ctx, t); err == nil && p.UserID == u.ID {
					continue
				}
			}
			secret, _, err := db.CreateToken(ctx, models.System, u.ID, models.TokenInput{Name: "demo"})
			if err != nil {
				return nil, err
			}
			tokens[du.email] = secret
		}
	}
	b, _ := json.MarshalIndent(tokens, "", "  ")
	if err := os.MkdirAll(filepath.Dir(tokensFile), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(tokensFile, append(b, '\n'), 0o600); err != nil {
		return nil, err
	}
	return tokens, nil
}
