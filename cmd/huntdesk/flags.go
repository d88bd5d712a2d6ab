package main

import (
	"time"

	"github.com/urfave/cli/v2"

	"github.com/huntdesk/huntdesk/api"
	"github.com/huntdesk/huntdesk/mail"
)

// Flags shared by several commands. Defaults let the admin commands work on
// the dev stack's database with no configuration.
var (
	databaseFlag = &cli.StringFlag{Name: "database-url", Value: "sqlite:.huntdesk/huntdesk.db", EnvVars: []string{"DATABASE_URL"},
		Usage: "postgres://… for PostgreSQL, or sqlite:PATH"}
	temporalAddrFlag      = &cli.StringFlag{Name: "temporal-address", Value: "127.0.0.1:7233", EnvVars: []string{"TEMPORAL_ADDRESS"}, Usage: "Temporal frontend host:port"}
	temporalNamespaceFlag = &cli.StringFlag{Name: "temporal-namespace", Value: "default", EnvVars: []string{"TEMPORAL_NAMESPACE"}, Usage: "Temporal namespace"}
	httpAddrFlag          = &cli.StringFlag{Name: "http-addr", Value: ":8080", EnvVars: []string{"HUNTDESK_HTTP_ADDR"}, Usage: "API listen address"}
	publicURLFlag         = &cli.StringFlag{Name: "public-url", EnvVars: []string{"HUNTDESK_PUBLIC_URL"}, Usage: "base URL of links in emails (default: http://<http-addr>)"}
	reviewSLAFlag         = &cli.DurationFlag{Name: "review-sla", Value: 5 * 24 * time.Hour, EnvVars: []string{"HUNTDESK_REVIEW_SLA"}, Usage: "time managers have to decide an application"}
	maxBodyFlag           = &cli.Int64Flag{Name: "max-body-bytes", Value: 1 << 20, EnvVars: []string{"HUNTDESK_MAX_BODY_BYTES"}, Usage: "largest JSON request body"}
	rateLimitFlag         = &cli.Float64Flag{Name: "rate-limit", Value: 50, EnvVars: []string{"HUNTDESK_RATE_LIMIT"}, Usage: "requests per second per caller (negative: off)"}
	rateBurstFlag         = &cli.IntFlag{Name: "rate-burst", Value: 100, EnvVars: []string{"HUNTDESK_RATE_BURST"}, Usage: "burst above the rate limit"}
	mailFromFlag          = &cli.StringFlag{Name: "mail-from", Value: "huntdesk@huntdesk.example", EnvVars: []string{"HUNTDESK_MAIL_FROM"}, Usage: "From address of every email"}
)

func smtpFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "smtp-host", Value: "localhost", EnvVars: []string{"HUNTDESK_SMTP_HOST"}, Usage: "SMTP relay host"},
		&cli.IntFlag{Name: "smtp-port", Value: 587, EnvVars: []string{"HUNTDESK_SMTP_PORT"}, Usage: "SMTP relay port"},
		&cli.StringFlag{Name: "smtp-username", EnvVars: []string{"HUNTDESK_SMTP_USERNAME"}, Usage: "SMTP user (empty: no auth)"},
		&cli.StringFlag{Name: "smtp-password", EnvVars: []string{"HUNTDESK_SMTP_PASSWORD"}, Usage: "SMTP password"},
		&cli.StringFlag{Name: "smtp-tls", Value: "mandatory", EnvVars: []string{"HUNTDESK_SMTP_TLS"}, Usage: "none, opportunistic, mandatory (STARTTLS) or implicit (SMTPS)"},
		mailFromFlag,
	}
}

func mailConfig(c *cli.Context) mail.Config {
	return mail.Config{Host: c.String("smtp-host"), Port: c.Int("smtp-port"), Username: c.String("smtp-username"),
		Password: c.String("smtp-password"), TLSPolicy: c.String("smtp-tls"), From: c.String("mail-from"), Timeout: 30 * time.Second}
}

func apiFlags() []cli.Flag {
	return []cli.Flag{httpAddrFlag, maxBodyFlag, rateLimitFlag, rateBurstFlag, reviewSLAFlag}
}

func apiConfig(c *cli.Context) api.Config {
	return api.Config{MaxBodyBytes: c.Int64("max-body-bytes"), RateLimit: c.Float64("rate-limit"), RateBurst: c.Int("rate-burst")}
}
