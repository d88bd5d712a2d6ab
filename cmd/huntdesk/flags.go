package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/huntdesk/huntdesk/api"
	"github.com/huntdesk/huntdesk/internal/cases"
	"github.com/huntdesk/huntdesk/internal/mail"
)

// Flags shared by several commands. Defaults let the admin commands work on
// the dev stack's database with no configuration.
var (
	databaseFlag = &cli.StringFlag{Name: "database-url", Value: "sqlite:.huntdesk/huntdesk.db", EnvVars: []string{"DATABASE_URL"},
		Usage: "postgres://… for PostgreSQL, or sqlite:PATH"}
	temporalAddrFlag      = &cli.StringFlag{Name: "temporal-address", Value: "127.0.0.1:7233", EnvVars: []string{"TEMPORAL_ADDRESS"}, Usage: "Temporal frontend host:port"}
	temporalNamespaceFlag = &cli.StringFlag{Name: "temporal-namespace", Value: "default", EnvVars: []string{"TEMPORAL_NAMESPACE"}, Usage: "Temporal namespace"}
	publicURLFlag         = &cli.StringFlag{Name: "public-url", EnvVars: []string{"HUNTDESK_PUBLIC_URL"}, Usage: "base URL of links in emails (default: http://<http-addr>)"}
	reviewSLAFlag         = &cli.DurationFlag{Name: "review-sla", Value: 5 * 24 * time.Hour, EnvVars: []string{"HUNTDESK_REVIEW_SLA"}, Usage: "time managers have to decide an application"}
	maxBodyFlag           = &cli.Int64Flag{Name: "max-body-bytes", Value: 1 << 20, EnvVars: []string{"HUNTDESK_MAX_BODY_BYTES"}, Usage: "largest JSON request body"}
	rateLimitFlag         = &cli.Float64Flag{Name: "rate-limit", Value: 50, EnvVars: []string{"HUNTDESK_RATE_LIMIT"}, Usage: "requests per second per caller (negative: off)"}
	rateBurstFlag         = &cli.IntFlag{Name: "rate-burst", Value: 100, EnvVars: []string{"HUNTDESK_RATE_BURST"}, Usage: "burst above the rate limit"}
	slaFlag               = &cli.DurationFlag{Name: "progress-report-sla", Value: 48 * time.Hour, EnvVars: []string{"HUNTDESK_PROGRESS_REPORT_SLA"}, Usage: "a progress report is due this long after an inquiry is submitted or answered"}
	remindersFlag         = &cli.StringFlag{Name: "customer-reminders", Value: "48h,120h", EnvVars: []string{"HUNTDESK_CUSTOMER_REMINDERS"}, Usage: "remind the customer this long after experts asked for information or samples (comma-separated)"}
	customerTimeoutFlag   = &cli.DurationFlag{Name: "customer-timeout", Value: 336 * time.Hour, EnvVars: []string{"HUNTDESK_CUSTOMER_TIMEOUT"}, Usage: "close an inquiry as closed_no_response when the customer has not answered by then"}
	sampleMaxFlag         = &cli.Int64Flag{Name: "sample-max-bytes", Value: 32 << 20, EnvVars: []string{"HUNTDESK_SAMPLE_MAX_BYTES"}, Usage: "largest sample upload (413 above)"}
	sampleMaxCountFlag    = &cli.IntFlag{Name: "sample-max-count", Value: cases.DefaultSampleMaxCount, EnvVars: []string{"HUNTDESK_SAMPLE_MAX_COUNT"}, Usage: "samples per inquiry (409 sample_quota_exceeded above)"}
	sampleQuotaFlag       = &cli.Int64Flag{Name: "sample-quota-bytes", Value: cases.DefaultSampleQuotaBytes, EnvVars: []string{"HUNTDESK_SAMPLE_QUOTA_BYTES"}, Usage: "total bytes of samples per inquiry (413 sample_quota_exceeded above)"}
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

// The HTTP server's limits (api.Config documents each).
var (
	readHeaderTimeoutFlag = &cli.DurationFlag{Name: "http-read-header-timeout", Value: 10 * time.Second, EnvVars: []string{"HUNTDESK_HTTP_READ_HEADER_TIMEOUT"}, Usage: "time a client has to send the request line and headers"}
	readTimeoutFlag       = &cli.DurationFlag{Name: "http-read-timeout", Value: 30 * time.Second, EnvVars: []string{"HUNTDESK_HTTP_READ_TIMEOUT"}, Usage: "time a client has to send a whole request, body included (sample uploads: --http-upload-timeout)"}
	uploadTimeoutFlag     = &cli.DurationFlag{Name: "http-upload-timeout", Value: 10 * time.Minute, EnvVars: []string{"HUNTDESK_HTTP_UPLOAD_TIMEOUT"}, Usage: "time a client has to send a sample upload"}
	writeTimeoutFlag      = &cli.DurationFlag{Name: "http-write-timeout", Value: 60 * time.Second, EnvVars: []string{"HUNTDESK_HTTP_WRITE_TIMEOUT"}, Usage: "time to answer once the request is read (handlers are cancelled, 503, at 90 % of it)"}
	idleTimeoutFlag       = &cli.DurationFlag{Name: "http-idle-timeout", Value: 120 * time.Second, EnvVars: []string{"HUNTDESK_HTTP_IDLE_TIMEOUT"}, Usage: "keep-alive connections idle longer are closed"}
	maxHeaderBytesFlag    = &cli.IntFlag{Name: "http-max-header-bytes", Value: 64 << 10, EnvVars: []string{"HUNTDESK_HTTP_MAX_HEADER_BYTES"}, Usage: "largest request headers (431 above)"}
	maxConnsFlag          = &cli.IntFlag{Name: "http-max-conns", Value: 4096, EnvVars: []string{"HUNTDESK_HTTP_MAX_CONNS"}, Usage: "open connections at once (negative: no cap)"}
	authFailureRateFlag   = &cli.Float64Flag{Name: "auth-failure-rate", Value: 0.1, EnvVars: []string{"HUNTDESK_AUTH_FAILURE_RATE"}, Usage: "failed authentications per second per client address, after the burst (429 above; negative: off)"}
	authFailureBurstFlag  = &cli.IntFlag{Name: "auth-failure-burst", Value: 10, EnvVars: []string{"HUNTDESK_AUTH_FAILURE_BURST"}, Usage: "failed authentications in a row per client address"}
	trustedProxiesFlag    = &cli.StringFlag{Name: "trusted-proxies", EnvVars: []string{"HUNTDESK_TRUSTED_PROXIES"}, Usage: "comma-separated addresses/CIDRs of proxies whose X-Forwarded-For names the client (default: none)"}
)

// apiFlags are the API's flags; httpAddr is the default listen address
// (all interfaces for `huntdesk api`, loopback for the dev stack).
func apiFlags(httpAddr string) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "http-addr", Value: httpAddr, EnvVars: []string{"HUNTDESK_HTTP_ADDR"}, Usage: "API listen address"},
		maxBodyFlag, rateLimitFlag, rateBurstFlag, reviewSLAFlag, slaFlag, remindersFlag, customerTimeoutFlag, sampleMaxFlag, sampleMaxCountFlag, sampleQuotaFlag,
		readHeaderTimeoutFlag, readTimeoutFlag, uploadTimeoutFlag, writeTimeoutFlag, idleTimeoutFlag, maxHeaderBytesFlag, maxConnsFlag,
		authFailureRateFlag, authFailureBurstFlag, trustedProxiesFlag,
	}
}

func apiConfig(c *cli.Context) api.Config {
	var proxies []string
	for _, p := range strings.Split(c.String("trusted-proxies"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			proxies = append(proxies, p)
		}
	}
	return api.Config{MaxBodyBytes: c.Int64("max-body-bytes"), RateLimit: c.Float64("rate-limit"), RateBurst: c.Int("rate-burst"), SampleMaxBytes: c.Int64("sample-max-bytes"),
		AuthFailureRate: c.Float64("auth-failure-rate"), AuthFailureBurst: c.Int("auth-failure-burst"), TrustedProxies: proxies,
		ReadHeaderTimeout: c.Duration("http-read-header-timeout"), ReadTimeout: c.Duration("http-read-timeout"), UploadTimeout: c.Duration("http-upload-timeout"),
		WriteTimeout: c.Duration("http-write-timeout"), IdleTimeout: c.Duration("http-idle-timeout"),
		MaxHeaderBytes: c.Int("http-max-header-bytes"), MaxConns: c.Int("http-max-conns")}
}

// inquiryConfig reads Process B's durations; they are passed into each
// inquiry's workflow when it starts.
func inquiryConfig(c *cli.Context) (cases.Inquiries, error) {
	var rem []time.Duration
	for _, s := range strings.Split(c.String("customer-reminders"), ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return cases.Inquiries{}, fmt.Errorf("HUNTDESK_CUSTOMER_REMINDERS: %q is not a positive duration", s)
		}
		rem = append(rem, d)
	}
	if rem == nil {
		rem = []time.Duration{}
	}
	sla, timeout := c.Duration("progress-report-sla"), c.Duration("customer-timeout")
	if sla <= 0 || timeout <= 0 {
		return cases.Inquiries{}, fmt.Errorf("HUNTDESK_PROGRESS_REPORT_SLA and HUNTDESK_CUSTOMER_TIMEOUT must be positive")
	}
	if c.Int("sample-max-count") <= 0 || c.Int64("sample-quota-bytes") <= 0 {
		return cases.Inquiries{}, fmt.Errorf("HUNTDESK_SAMPLE_MAX_COUNT and HUNTDESK_SAMPLE_QUOTA_BYTES must be positive")
	}
	return cases.Inquiries{SLA: sla, Reminders: rem, CustomerTimeout: timeout,
		SampleMaxCount: c.Int("sample-max-count"), SampleQuotaBytes: c.Int64("sample-quota-bytes")}, nil
}
