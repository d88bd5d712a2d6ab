package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/models"
)

// The admin commands act as the system principal and are audited as such.

func withDB(fn func(c *cli.Context, db *store.DB) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		db, err := openDB(c)
		if err != nil {
			return err
		}
		defer db.Close()
		return fn(c, db)
	}
}

func printJSON(v any) error {
	e := json.NewEncoder(os.Stdout)
	e.SetIndent("", "  ")
	return e.Encode(v)
}

func orgsCommand() *cli.Command {
	return &cli.Command{
		Name:  "orgs",
		Usage: "administer orgs",
		Subcommands: []*cli.Command{
			{
				Name:  "create",
				Usage: "create an org",
				Flags: []cli.Flag{databaseFlag,
					&cli.StringFlag{Name: "name", Required: true},
					&cli.BoolFlag{Name: "provider", Usage: "the provider org (experts and managers)"},
					&cli.IntFlag{Name: "devices", Usage: "devices enrolled in the endpoint product"},
					&cli.StringFlag{Name: "plan", Value: "none", Usage: "Experts on Demand: none, trial or full"},
					&cli.TimestampFlag{Name: "trial-ends", Layout: "2006-01-02", Usage: "trial end date (YYYY-MM-DD)"},
					&cli.IntFlag{Name: "trial-allowance", Usage: "inquiries a trial allows"},
				},
				Action: withDB(func(c *cli.Context, db *store.DB) error {
					name, devices := c.String("name"), c.Int("devices")
					sub := models.Subscription{Plan: models.Plan(c.String("plan"))}
					if sub.Plan == models.PlanTrial {
						sub.TrialEndsAt = c.Timestamp("trial-ends")
						n := c.Int("trial-allowance")
						sub.TrialAllowance = &n
					}
					kind := models.OrgCustomer
					if c.Bool("provider") {
						kind = models.OrgProvider
					}
					o, err := db.CreateOrg(c.Context, models.System, kind, models.OrgInput{Name: &name, DevicesEnrolled: &devices, Subscription: &sub})
					if err != nil {
						return err
					}
					return printJSON(o)
				}),
			},
			{
				Name:  "list",
				Usage: "list orgs",
				Flags: []cli.Flag{databaseFlag},
				Action: withDB(func(c *cli.Context, db *store.DB) error {
					return eachPage(func(p models.Page) (string, error) {
						l, err := db.Orgs(c.Context, p)
						for _, o := range l.Items {
							fmt.Printf("%s  %-9s %-24s devices=%-6d plan=%s ean=%s\n", o.ID, o.Kind, o.Name, o.DevicesEnrolled, o.Plan, o.EANState)
						}
						return l.NextCursor, err
					})
				}),
			},
		},
	}
}

func eachPage(fn func(models.Page) (string, error)) error {
	p := models.Page{Limit: 200}
	for {
		next, err := fn(p)
		if err != nil || next == "" {
			return err
		}
		p.Cursor = next
	}
}

// orgRef resolves an org by id or name.
func orgRef(c *cli.Context, db *store.DB, ref string) (*models.Org, error) {
	if strings.HasPrefix(ref, "org_") {
		return db.Org(c.Context, "", ref)
	}
	return db.OrgByName(c.Context, ref)
}

// userRef resolves a user by id or email.
func userRef(c *cli.Context, db *store.DB, ref string) (*models.User, error) {
	if strings.Contains(ref, "@") {
		return db.UserByEmail(c.Context, ref)
	}
	return db.User(c.Context, "", ref)
}

func usersCommand() *cli.Command {
	return &cli.Command{
		Name:  "users",
		Usage: "administer users",
		Subcommands: []*cli.Command{
			{
				Name:  "create",
				Usage: "create a user",
				Flags: []cli.Flag{databaseFlag,
					&cli.StringFlag{Name: "org", Required: true, Usage: "org id or name"},
					&cli.StringFlag{Name: "email", Required: true},
					&cli.StringFlag{Name: "name", Required: true},
					&cli.StringFlag{Name: "role", Required: true, Usage: "customer_viewer, customer_admin, expert or manager"},
				},
				Action: withDB(func(c *cli.Context, db *store.DB) error {
					o, err := orgRef(c, db, c.String("org"))
					if err != nil {
						return err
					}
					u, err := db.CreateUser(c.Context, models.System, models.UserInput{OrgID: o.ID, Email: c.String("email"), Name: c.String("name"), Role: models.Role(c.String("role"))})
					if err != nil {
						return err
					}
					return printJSON(u)
				}),
			},
			{
				Name:  "list",
				Usage: "list users",
				Flags: []cli.Flag{databaseFlag, &cli.StringFlag{Name: "org", Usage: "only this org (id or name)"}},
				Action: withDB(func(c *cli.Context, db *store.DB) error {
					orgID := ""
					if ref := c.String("org"); ref != "" {
						o, err := orgRef(c, db, ref)
						if err != nil {
							return err
						}
						orgID = o.ID
					}
					return eachPage(func(p models.Page) (string, error) {
						l, err := db.Users(c.Context, orgID, p)
						for _, u := range l.Items {
							fmt.Printf("%s  %-16s %-32s %s\n", u.ID, u.Role, u.Email, u.Name)
						}
						return l.NextCursor, err
					})
				}),
			},
		},
	}
}

func tokensCommand() *cli.Command {
	return &cli.Command{
		Name:  "tokens",
		Usage: "administer API tokens",
		Subcommands: []*cli.Command{
			{
				Name:  "create",
				Usage: "issue a token for a user; the secret is printed once",
				Flags: []cli.Flag{databaseFlag,
					&cli.StringFlag{Name: "user", Required: true, Usage: "user id or email"},
					&cli.StringFlag{Name: "name", Value: "cli", Usage: "what the token is for"},
					&cli.DurationFlag{Name: "ttl", Usage: "expire after this long (default: never)"},
				},
				Action: withDB(func(c *cli.Context, db *store.DB) error {
					u, err := userRef(c, db, c.String("user"))
					if err != nil {
						return err
					}
					in := models.TokenInput{Name: c.String("name")}
					if ttl := c.Duration("ttl"); ttl > 0 {
						t := time.Now().Add(ttl)
						in.ExpiresAt = &t
					}
					secret, t, err := db.CreateToken(c.Context, models.System, u.ID, in)
					if err != nil {
						return err
					}
					fmt.Fprintf(os.Stderr, "token %s for %s (shown once):\n", t.ID, u.Email)
					fmt.Println(secret)
					return nil
				}),
			},
			{
				Name:      "revoke",
				Usage:     "revoke a token",
				ArgsUsage: "TOKEN_ID",
				Flags:     []cli.Flag{databaseFlag},
				Action: withDB(func(c *cli.Context, db *store.DB) error {
					if c.NArg() != 1 {
						return fmt.Errorf("usage: huntdesk tokens revoke TOKEN_ID")
					}
					t, err := db.RevokeToken(c.Context, models.System, c.Args().First())
					if err != nil {
						return err
					}
					return printJSON(t)
				}),
			},
		},
	}
}
