// Command cpor is the CPOR claims service: a GraphQL API in which Microsoft
// partners claim customer associations and reviewers decide on them.
//
//	cpor [serve]   run the server (the default)
//	cpor migrate   bring the database schema up to date
//	cpor seed      load the demo data
//	cpor token     mint a development token
//	cpor help      print the usage
//
// Configuration comes from the environment; see the README.
package main

//go:generate go run github.com/99designs/gqlgen generate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"github.com/prometheus/client_golang/prometheus"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/auth"
	"cpor/budget"
	"cpor/claims"
	"cpor/demo"
	"cpor/downloads"
	"cpor/httpapi"
	"cpor/httpapi/playground"
	"cpor/live"
	"cpor/mail"
	"cpor/models"
	"cpor/notify"
	"cpor/outbox"
	"cpor/reqlog"
	"cpor/scheduler"
	"cpor/sla"
	"cpor/storage"
	"cpor/tracing"
	"cpor/web"
	"cpor/webhooks"
	"cpor/wiring"
	"cpor/workflow"
)

// config is everything the service reads from its environment.
type config struct {
	// getenv is the environment the configuration was read from; tracing
	// reads its OTEL_* variables from it.
	getenv       func(string) string
	production   bool
	addr         string
	storage      storage.Config
	jwtSecret    []byte
	jwksURL      string
	jwtIssuer    string
	jwtAudience  string
	claimNames   auth.ClaimNames      // CPOR_CLAIM_*
	roleMap      map[string]auth.Role // CPOR_ROLE_MAP
	holidays     string
	http         httpapi.Config
	logLevel     slog.Level
	logJSON      bool
	seedOnStart  bool
	shutdownWait time.Duration
	drainDelay   time.Duration
	adminAddr    string
	pprof        bool
	workflow     workflow.Config
	scheduler    scheduler.Config
	schedulerOn  bool
	notify       notifyConfig
	// proofMaxAgeMonths: CPOR_POE_MAX_AGE_MONTHS (claims.ProofRecency).
	proofMaxAgeMonths int64
	// downloadSecret and linkLifetime: CPOR_DOWNLOAD_SECRET and
	// CPOR_DOWNLOAD_LINK_LIFETIME (see downloadLinks).
	downloadSecret []byte
	linkLifetime   time.Duration
}

func loadConfig(getenv func(string) string) (config, error) {
	env := func(key, def string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v
		}
		return def
	}
	c := config{
		getenv:      getenv,
		production:  env("CPOR_ENV", "development") == "production",
		addr:        env("CPOR_ADDR", ":8080"),
		jwksURL:     env("CPOR_JWKS_URL", ""),
		jwtIssuer:   env("CPOR_JWT_ISSUER", "cpor"),
		jwtAudience: env("CPOR_JWT_AUDIENCE", ""),
		holidays:    env("CPOR_HOLIDAYS", ""),
		http:        httpapi.DefaultConfig(),
		logJSON:     env("CPOR_LOG_FORMAT", "text") == "json",
		adminAddr:   env("CPOR_ADMIN_ADDR", "127.0.0.1:9090"),
		storage: storage.Config{
			DatabaseURL: env("DATABASE_URL", ""),
			DataDir:     env("CPOR_DATA_DIR", "data"),
		},
	}
	if mode := env("CPOR_ENV", "development"); mode != "production" && mode != "development" {
		return c, fmt.Errorf("CPOR_ENV must be development or production, not %q", mode)
	}
	c.jwtSecret = []byte(getenv("CPOR_JWT_SECRET"))
	c.downloadSecret = []byte(getenv("CPOR_DOWNLOAD_SECRET"))
	if len(c.downloadSecret) > 0 && len(c.downloadSecret) < downloads.MinSecretBytes {
		return c, fmt.Errorf("CPOR_DOWNLOAD_SECRET must be at least %d bytes", downloads.MinSecretBytes)
	}
	c.seedOnStart = !c.production && c.storage.DatabaseURL == ""
	c.http.Playground = env("CPOR_PLAYGROUND", strconv.FormatBool(!c.production)) == "true"
	c.http.App = env("CPOR_APP", "true") == "true"
	c.http.Introspection = env("CPOR_INTROSPECTION", strconv.FormatBool(!c.production)) == "true"
	c.pprof = env("CPOR_PPROF", "false") == "true"
	if c.adminAddr == "off" {
		c.adminAddr = ""
	}
	var err error
	if err := loadClaimNames(getenv, &c); err != nil {
		return c, err
	}
	if c.http.AllowedOrigins, err = parseOrigins(env("CPOR_ALLOWED_ORIGINS", "")); err != nil {
		return c, err
	}
	if c.http.TrustedProxies, err = parsePrefixes(env("CPOR_TRUSTED_PROXIES", "")); err != nil {
		return c, err
	}
	for _, b := range []struct {
		key  string
		dest *budget.Config
	}{{"CPOR_BUDGET", &c.http.Budget}, {"CPOR_ANONYMOUS_BUDGET", &c.http.AnonymousBudget}} {
		if *b.dest, err = parseBudget(b.key, env(b.key, ""), *b.dest); err != nil {
			return c, err
		}
	}
	for _, d := range []struct {
		key  string
		dest *time.Duration
		def  time.Duration
	}{{"CPOR_OPERATION_TIMEOUT", &c.http.OperationTimeout, c.http.OperationTimeout}, {"CPOR_SHUTDOWN_GRACE", &c.shutdownWait, 25 * time.Second}, {"CPOR_DOWNLOAD_LINK_LIFETIME", &c.linkLifetime, downloads.DefaultLifetime}} {
		if *d.dest, err = envDuration(env, d.key, d.def); err != nil {
			return c, err
		}
	}
	if v := env("CPOR_DRAIN_DELAY", "0s"); v != "0s" && v != "0" {
		if c.drainDelay, err = envDuration(env, "CPOR_DRAIN_DELAY", 0); err != nil {
			return c, err
		}
	}
	if c.http.MaxUploadBytes, err = envInt(env, "CPOR_MAX_UPLOAD_BYTES", c.http.MaxUploadBytes); err != nil {
		return c, err
	}
	maxResponse, err := envInt(env, "CPOR_MAX_RESPONSE_BYTES", int64(c.http.MaxResponseBytes))
	if err != nil {
		return c, err
	}
	c.http.MaxResponseBytes = int(maxResponse)
	conns, err := envInt(env, "CPOR_DB_MAX_CONNS", 20)
	if err != nil {
		return c, err
	}
	c.storage.MaxOpenConns = int(conns)
	if c.proofMaxAgeMonths, err = envInt(env, "CPOR_POE_MAX_AGE_MONTHS", int64(claims.DefaultDocumentLimits.ProofMaxAgeMonths)); err != nil {
		return c, err
	}
	if err := c.logLevel.UnmarshalText([]byte(env("CPOR_LOG_LEVEL", "info"))); err != nil {
		return c, fmt.Errorf("CPOR_LOG_LEVEL: %w", err)
	}
	if err := loadDeadlines(env, &c); err != nil {
		return c, err
	}
	if err := loadNotifications(env, &c); err != nil {
		return c, err
	}
	return c, nil
}

// loadClaimNames reads which token claims carry the identity
// (CPOR_CLAIM_*) and how the token's role values map to the service's roles
// (CPOR_ROLE_MAP). Unset, the service's own names are read and role values
// taken as they are.
func loadClaimNames(getenv func(string) string, c *config) error {
	for _, f := range []struct {
		key  string
		dest *string
	}{
		{"CPOR_CLAIM_SUBJECT", &c.claimNames.Subject}, {"CPOR_CLAIM_NAME", &c.claimNames.Name},
		{"CPOR_CLAIM_EMAIL", &c.claimNames.Email}, {"CPOR_CLAIM_ORG", &c.claimNames.Organization},
		{"CPOR_CLAIM_TENANT", &c.claimNames.Tenant}, {"CPOR_CLAIM_ROLES", &c.claimNames.Roles},
	} {
		*f.dest = strings.TrimSpace(getenv(f.key))
	}
	if err := c.claimNames.Validate(); err != nil {
		return fmt.Errorf("CPOR_CLAIM_*: %w", err)
	}
	var err error
	if c.roleMap, err = auth.ParseRoleMap(getenv("CPOR_ROLE_MAP")); err != nil {
		return fmt.Errorf("CPOR_ROLE_MAP: %w", err)
	}
	// Entra ID's tid is the directory that issued the token, the same for
	// every user of it: read as the customer tenant it would make each
	// CUSTOMER_ADMIN the admin of that directory's tenant. It must be said.
	if c.claimNames.Tenant == "" && isEntraIssuer(c.jwtIssuer) {
		return fmt.Errorf("CPOR_JWT_ISSUER %s is Microsoft Entra ID, whose tid claim names the directory that issued the token, not a customer tenant: set CPOR_CLAIM_TENANT to the claim that carries the customer tenant (e.g. extension_<appid>_customerTenant), to - for none, or to tid if the signing-in directory is the customer tenant", c.jwtIssuer)
	}
	return nil
}

// readsOwnTokens reports whether the verifier reads the service's own claim
// names and role values, those Mint writes: the development tokens are of
// use only then.
func (c *config) readsOwnTokens() bool {
	return c.claimNames == (auth.ClaimNames{}) && len(c.roleMap) == 0
}

// isEntraIssuer reports whether iss is a Microsoft Entra ID issuer (v2.0
// or v1.0 tokens).
func isEntraIssuer(iss string) bool {
	for _, prefix := range []string{"https://login.microsoftonline.com/", "https://sts.windows.net/", "https://login.microsoftonline.us/", "https://login.partner.microsoftonline.cn/"} {
		if strings.HasPrefix(strings.ToLower(iss), prefix) {
			return true
		}
	}
	return false
}

// notifyConfig is how notifications leave the service: the outbox
// dispatcher, SMTP, the daily digest and webhooks.
type notifyConfig struct {
	outboxOn    bool
	outbox      outbox.Config
	mail        mail.Config
	digestHour  int
	retryWindow time.Duration
	webhookURLs webhooks.URLPolicy
	webhook     webhooks.SenderConfig
}

func loadNotifications(env func(string, string) string, c *config) error {
	n := &c.notify
	n.outboxOn = env("CPOR_OUTBOX", "on") == "on"
	// Deliveries go only to public HTTPS hosts in production; development
	// allows plain http to public hosts too. Internal hosts need the
	// operator's word either way.
	n.webhookURLs = webhooks.URLPolicy{
		RequireHTTPS: c.production,
		AllowPrivate: env("CPOR_WEBHOOK_ALLOW_PRIVATE", "false") == "true",
	}
	n.mail = mail.Config{
		Host: env("CPOR_SMTP_HOST", ""), Security: env("CPOR_SMTP_SECURITY", ""),
		Username: env("CPOR_SMTP_USERNAME", ""), Password: env("CPOR_SMTP_PASSWORD", ""),
		From: env("CPOR_MAIL_FROM", "CPOR claims <cpor@localhost>"), AppURL: env("CPOR_APP_URL", "http://localhost:8080/app"),
	}
	if v := env("CPOR_SMTP_PORT", ""); v != "" {
		port, err := strconv.Atoi(v)
		if err != nil || port < 1 || port > 65535 {
			return fmt.Errorf("CPOR_SMTP_PORT must be a port number, not %q", v)
		}
		n.mail.Port = port
	}
	hour, err := strconv.Atoi(env("CPOR_DIGEST_HOUR", "7"))
	if err != nil || hour < 0 || hour > 23 {
		return fmt.Errorf("CPOR_DIGEST_HOUR must be an hour of the day (UTC) from 0 to 23")
	}
	n.digestHour = hour
	concurrency, err := envInt(env, "CPOR_OUTBOX_CONCURRENCY", outbox.DefaultConcurrency)
	if err != nil {
		return err
	}
	n.outbox.Concurrency = int(concurrency)
	for _, d := range []struct {
		key  string
		dest *time.Duration
		def  time.Duration
	}{
		{"CPOR_OUTBOX_INTERVAL", &n.outbox.Interval, outbox.DefaultInterval},
		{"CPOR_OUTBOX_BACKOFF_BASE", &n.outbox.BackoffBase, outbox.DefaultBackoffBase},
		{"CPOR_OUTBOX_BACKOFF_MAX", &n.outbox.BackoffMax, outbox.DefaultBackoffMax},
		{"CPOR_NOTIFY_RETRY_WINDOW", &n.retryWindow, 24 * time.Hour},
		{"CPOR_WEBHOOK_TIMEOUT", &n.webhook.Timeout, 10 * time.Second},
		{"CPOR_WEBHOOK_DISABLE_AFTER", &n.webhook.DisableAfter, 5 * 24 * time.Hour},
	} {
		if *d.dest, err = envDuration(env, d.key, d.def); err != nil {
			return err
		}
	}
	// An attempt outlasts the webhook's own timeout a little (an e-mail
	// gets as long), and a lease outlasts an attempt: an instance that dies
	// mid-send leaves its deliveries to the others when the lease ends.
	n.outbox.AttemptTimeout = n.webhook.Timeout + 5*time.Second
	if n.outbox.Lease, err = envDuration(env, "CPOR_OUTBOX_LEASE", max(outbox.DefaultLease, 2*n.outbox.AttemptTimeout)); err != nil {
		return err
	}
	if n.outbox.Lease <= n.outbox.AttemptTimeout {
		return fmt.Errorf("CPOR_OUTBOX_LEASE must be longer than an attempt (CPOR_WEBHOOK_TIMEOUT + 5s = %s)", n.outbox.AttemptTimeout)
	}
	return n.mail.Validate()
}

// loadDeadlines reads the workflow's deadlines and the scheduler that
// keeps them.
func loadDeadlines(env func(string, string) string, c *config) error {
	c.schedulerOn = env("CPOR_SCHEDULER", "on") == "on"
	ints := []struct {
		key  string
		dest *int
		def  int
	}{
		{"CPOR_RESPONSE_BUSINESS_DAYS", &c.workflow.ResponseBusinessDays, sla.ResponseBusinessDays},
		{"CPOR_SCHEDULER_BATCH", &c.scheduler.Batch, scheduler.DefaultBatch},
		{"CPOR_SCHEDULER_MAX_ATTEMPTS", &c.scheduler.MaxAttempts, scheduler.DefaultMaxAttempts},
	}
	for _, i := range ints {
		n, err := envInt(env, i.key, int64(i.def))
		if err != nil {
			return err
		}
		*i.dest = int(n)
	}
	durations := []struct {
		key  string
		dest *time.Duration
		def  time.Duration
	}{
		{"CPOR_DRAFT_LIFETIME", &c.workflow.DraftLifetime, workflow.DefaultDraftLifetime},
		{"CPOR_SCHEDULER_INTERVAL", &c.scheduler.Interval, scheduler.DefaultInterval},
		{"CPOR_SCHEDULER_BACKOFF_BASE", &c.scheduler.BackoffBase, scheduler.DefaultBackoffBase},
		{"CPOR_SCHEDULER_BACKOFF_MAX", &c.scheduler.BackoffMax, scheduler.DefaultBackoffMax},
		{"CPOR_SCHEDULER_JOB_TIMEOUT", &c.scheduler.JobTimeout, scheduler.DefaultJobTimeout},
	}
	for _, d := range durations {
		var err error
		if *d.dest, err = envDuration(env, d.key, d.def); err != nil {
			return err
		}
	}
	return nil
}

func envInt(env func(string, string) string, key string, def int64) (int64, error) {
	v := env(key, strconv.FormatInt(def, 10))
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s must be a positive integer, not %q", key, v)
	}
	return n, nil
}

func envDuration(env func(string, string) string, key string, def time.Duration) (time.Duration, error) {
	v := env(key, def.String())
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s must be a positive duration such as 15s, not %q", key, v)
	}
	return d, nil
}

// parseOrigins reads CPOR_ALLOWED_ORIGINS: "*", or comma-separated origins
// written as browsers send them (scheme://host[:port], no path).
func parseOrigins(v string) ([]string, error) {
	var out []string
	for _, o := range strings.Split(v, ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		if o != "*" {
			u, err := url.Parse(o)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
				return nil, fmt.Errorf("CPOR_ALLOWED_ORIGINS: %q is not an origin such as https://app.example.com", o)
			}
			o = u.Scheme + "://" + u.Host
		}
		out = append(out, o)
	}
	return out, nil
}

// parsePrefixes reads CPOR_TRUSTED_PROXIES: comma-separated addresses or
// CIDR prefixes.
func parsePrefixes(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("CPOR_TRUSTED_PROXIES: %q is not an address or prefix", s)
			}
			s = netip.PrefixFrom(a, a.BitLen()).String()
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("CPOR_TRUSTED_PROXIES: %q is not an address or prefix", s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// parseBudget reads a budget written capacity/points-per-second
// ("200000/5000"), or "off"; empty keeps def.
func parseBudget(key, v string, def budget.Config) (budget.Config, error) {
	switch v {
	case "":
		return def, nil
	case "off":
		return budget.Config{}, nil
	}
	capacity, rate, ok := strings.Cut(v, "/")
	c, err1 := strconv.Atoi(capacity)
	r, err2 := strconv.ParseFloat(rate, 64)
	if !ok || err1 != nil || err2 != nil || c <= 0 || r <= 0 {
		return def, fmt.Errorf("%s must be capacity/points-per-second such as 200000/5000, or off; not %q", key, v)
	}
	def.Capacity, def.PerSecond = c, r
	return def, nil
}

// signingSecret returns the HS256 secret: the configured one, or in
// development a random one kept in the data directory so tokens survive a
// restart. Production refuses to run without real key configuration.
func (c *config) signingSecret() ([]byte, error) {
	if len(c.jwtSecret) > 0 || c.jwksURL != "" {
		if len(c.jwtSecret) > 0 && len(c.jwtSecret) < auth.MinSecretBytes {
			return nil, fmt.Errorf("CPOR_JWT_SECRET must be at least %d bytes", auth.MinSecretBytes)
		}
		return c.jwtSecret, nil
	}
	if c.production {
		return nil, errors.New("production needs CPOR_JWT_SECRET (HS256, 32+ bytes) or CPOR_JWKS_URL (RS256); refusing to start")
	}
	path := filepath.Join(c.storage.DataDir, "dev-jwt-secret")
	if b, err := os.ReadFile(path); err == nil && len(b) >= auth.MinSecretBytes {
		return b, nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	secret := []byte(hex.EncodeToString(b))
	if err := os.MkdirAll(c.storage.DataDir, 0o700); err != nil {
		return nil, err
	}
	return secret, os.WriteFile(path, secret, 0o600)
}

// downloadLinks returns the signer of the documents' download links. Its
// secret is CPOR_DOWNLOAD_SECRET; unset, it is derived from the HS256 token
// secret (HKDF-SHA256 with the info label "cpor download links", so the two
// keys differ); with no HS256 secret either (JWKS tokens) it is random per
// process in development, where links then die on restart, and production
// refuses to start, since other instances would refuse this one's links.
func (c *config) downloadLinks(tokenSecret []byte, log *slog.Logger) (*downloads.Signer, error) {
	opts := downloads.Options{Lifetime: c.linkLifetime}
	switch {
	case len(c.downloadSecret) > 0:
		return downloads.New(c.downloadSecret, opts)
	case len(tokenSecret) > 0:
		secret, err := downloads.DeriveSecret(tokenSecret)
		if err != nil {
			return nil, err
		}
		return downloads.New(secret, opts)
	case c.production:
		return nil, errors.New("production with CPOR_JWKS_URL needs CPOR_DOWNLOAD_SECRET (32+ bytes) to sign download links; refusing to start")
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	log.Warn("download links are signed with a random key: they stop working when the process restarts; set CPOR_DOWNLOAD_SECRET to keep them")
	return downloads.New(secret, opts)
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "cpor:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	case "serve":
		if len(args) > 0 {
			return fmt.Errorf("serve takes no arguments (configuration is in the environment; see cpor help)")
		}
		return serve(ctx, cfg, log, stdout)
	case "migrate":
		db, err := openMigrated(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer storage.Close(db)
		fmt.Fprintln(stdout, "schema is up to date")
		return nil
	case "seed":
		return seed(ctx, cfg, log, stdout)
	case "token":
		return mintToken(cfg, args, stdout)
	}
	return fmt.Errorf("unknown command %q; run cpor help", cmd)
}

const usage = `cpor: the CPOR claims service, a GraphQL API for Claimed Partner of Record associations.

Usage:
  cpor [serve]   run the server (the default)
  cpor migrate   bring the database schema up to date
  cpor seed      load the demo data
  cpor token     mint a development token (cpor token -h for its flags)
  cpor help      print this

Configuration is in environment variables (CPOR_ENV, CPOR_ADDR, DATABASE_URL,
CPOR_ADMIN_ADDR, CPOR_JWT_SECRET, ...); the README lists them all.
`

// newLogger writes text or JSON lines; every line logged with a request's
// context carries the request's ID (reqlog).
func newLogger(cfg config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.logLevel}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if cfg.logJSON {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(reqlog.Handler(h))
}

func openMigrated(ctx context.Context, cfg config, log *slog.Logger) (*gorm.DB, error) {
	db, err := storage.Open(ctx, cfg.storage, log)
	if err != nil {
		return nil, err
	}
	if err := storage.Migrate(ctx, db, log); err != nil {
		_ = storage.Close(db)
		return nil, err
	}
	return db, nil
}

// app is the wired service.
type app struct {
	db       *gorm.DB
	services wiring.Services
}

func wire(db *gorm.DB, cfg config, log *slog.Logger) (*app, error) {
	calendar, err := sla.ParseHolidays(cfg.holidays)
	if err != nil {
		return nil, fmt.Errorf("CPOR_HOLIDAYS: %w", err)
	}
	limits := claims.DefaultDocumentLimits
	limits.MaxBytes = cfg.http.MaxUploadBytes
	limits.ProofMaxAgeMonths = int(cfg.proofMaxAgeMonths)
	hub := live.NewHub(db, live.DefaultConfig, log)
	notes := wiring.Notifications{
		RetryWindows: notify.RetryWindows{Email: cfg.notify.retryWindow, Webhook: cfg.notify.retryWindow}, Log: log,
		Webhooks: cfg.notify.webhookURLs,
	}
	return &app{db: db, services: wiring.New(db, hub, calendar, limits, cfg.workflow, notes)}, nil
}

// startScheduler runs the deadlines that come due (lapses, expiries and
// their warnings) on every instance until ctx ends; the database gives each
// due item to exactly one of them.
func (a *app) startScheduler(ctx context.Context, cfg config, reg prometheus.Registerer, log *slog.Logger) error {
	if !cfg.schedulerOn {
		return nil
	}
	digests, err := notify.NewDigests(cfg.notify.digestHour, cfg.notify.retryWindow)
	if err != nil {
		return err
	}
	if err := digests.Ensure(ctx, a.db, storage.Now()); err != nil {
		return fmt.Errorf("schedule the daily digest: %w", err)
	}
	work := a.services.Workflow.DueWork()
	maps.Copy(work, digests.Handlers())
	s, err := scheduler.New(a.db, cfg.scheduler, work, log, reg)
	if err != nil {
		return fmt.Errorf("scheduler: %w", err)
	}
	go func() {
		if err := s.Run(ctx); err != nil {
			log.ErrorContext(ctx, "scheduler stopped", "err", err)
		}
	}()
	return nil
}

// startNotifications runs what makes notifications leave the service:
// the directory learning people, on PostgreSQL the live feed's listener,
// and the outbox dispatcher with its e-mail and webhook senders. The
// returned wait blocks until the dispatcher, once ctx ends, has recorded
// the attempts in flight.
func (a *app) startNotifications(ctx context.Context, cfg config, reg prometheus.Registerer, log *slog.Logger) (wait func(), err error) {
	go a.services.People.Run(ctx)
	if cfg.storage.DatabaseURL != "" {
		go a.services.Feed.Listen(ctx, cfg.storage.DatabaseURL)
	}
	if !cfg.notify.outboxOn {
		return func() {}, nil
	}
	mailer, err := mail.NewSender(cfg.notify.mail, log)
	if err != nil {
		return nil, fmt.Errorf("e-mail: %w", err)
	}
	hooks := webhooks.NewSender(a.db, cfg.notify.webhookURLs, cfg.notify.webhook, nil, a.services.Notices, log)
	senders := map[models.Channel]outbox.Sender{models.ChannelEmail: mailer, models.ChannelWebhook: hooks}
	d, err := outbox.New(a.db, cfg.notify.outbox, senders, log, reg)
	if err != nil {
		return nil, err
	}
	a.services.Notices.OnCommit(d.Wake)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = d.Run(ctx)
	}()
	return func() { <-done }, nil
}

// startLive runs the event hub and, on PostgreSQL, the listener that hears
// of commits on every instance. Both stop with ctx.
func (a *app) startLive(ctx context.Context, cfg config, log *slog.Logger) {
	go func() {
		if err := a.services.Live.Run(ctx); err != nil {
			log.ErrorContext(ctx, "live events stopped", "err", err)
		}
	}()
	if cfg.storage.DatabaseURL != "" {
		go live.Listen(ctx, cfg.storage.DatabaseURL, a.services.Live, log)
	}
}

func (a *app) demoServices() demo.Services {
	return demo.Services{Catalog: a.services.Catalog, Claims: a.services.Claims, Workflow: a.services.Workflow, People: a.services.People, Notices: a.services.Notices}
}

func seed(ctx context.Context, cfg config, log *slog.Logger, stdout io.Writer) error {
	db, err := openMigrated(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer storage.Close(db)
	a, err := wire(db, cfg, log)
	if err != nil {
		return err
	}
	if err := demo.Seed(ctx, db, a.demoServices()); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "demo data loaded")
	return nil
}

func serve(ctx context.Context, cfg config, log *slog.Logger, stdout io.Writer) error {
	secret, err := cfg.signingSecret()
	if err != nil {
		return err
	}
	links, err := cfg.downloadLinks(secret, log)
	if err != nil {
		return err
	}
	// The process's work runs on its own context: a signal starts the drain
	// below, it does not cancel what is in flight.
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	verifier, err := auth.NewVerifier(work, auth.VerifierConfig{
		HS256Secret: secret, JWKSURL: cfg.jwksURL, Issuer: cfg.jwtIssuer, Audience: cfg.jwtAudience,
		ClaimNames: cfg.claimNames, RoleMap: cfg.roleMap,
	})
	if err != nil {
		return err
	}
	// Traces are off unless OTEL_* asks for them; when on, the last thing
	// the drain does (this deferral runs after every other) is flush the
	// spans still buffered.
	tracer, stopTracing, err := tracing.Setup(work, cfg.getenv)
	if err != nil {
		return err
	}
	defer func() {
		flush, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := stopTracing(flush); err != nil {
			log.Warn("flushing traces", "err", err)
		}
	}()
	cfg.storage.TracerProvider = tracer
	db, err := openMigrated(work, cfg, log)
	if err != nil {
		return err
	}
	defer storage.Close(db)
	a, err := wire(db, cfg, log)
	if err != nil {
		return err
	}
	a.startLive(work, cfg, log)
	if cfg.seedOnStart {
		if err := demo.Seed(work, db, a.demoServices()); err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	// With the development secret, the playground offers the demo users.
	// Tokens in this service's own claim names only: with a mapping
	// configured they would be misread.
	devSecret := !cfg.production && len(cfg.jwtSecret) == 0 && cfg.jwksURL == ""
	var demoUsers []playground.User
	if devSecret && cfg.readsOwnTokens() {
		demoUsers = demoTokens(secret, cfg)
		cfg.http.DemoUsers = demoUsers
	}
	api := httpapi.New(cfg.http, httpapi.Deps{DB: db, Verifier: verifier, Services: a.services, Log: log, Links: links, TracerProvider: tracer})
	if err := a.startScheduler(work, cfg, api.Metrics(), log); err != nil {
		_ = ln.Close()
		return err
	}
	waitDispatcher, err := a.startNotifications(work, cfg, api.Metrics(), log)
	if err != nil {
		_ = ln.Close()
		return err
	}
	// Before the database closes: stop the dispatcher and let it record
	// the sends in flight.
	defer func() { stopWork(); waitDispatcher() }()
	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return work },
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	admin, err := startAdmin(cfg, api, log)
	if err != nil {
		_ = ln.Close()
		return err
	}
	log.InfoContext(ctx, "listening", "addr", ln.Addr().String(), "admin", cfg.adminAddr, "database", storage.DialectOf(db), "production", cfg.production)
	if devSecret {
		printBanner(stdout, ln.Addr(), cfg.http, demoUsers)
	}

	signals, stopSignals := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-signals.Done():
	}
	stopSignals() // a second signal ends the process at once
	return drain(cfg, log, api, srv, admin, stopWork)
}

// drain stops the server without losing work: readiness fails so load
// balancers move on (for CPOR_DRAIN_DELAY the server still takes the
// requests they send meanwhile); the listener closes and in-flight requests
// (uploads included) finish within the grace period; then websockets are told and
// closed with 1001; then the live hub and, by serve's deferral, the
// database. Requests still running when the grace period ends are
// cancelled: their clients get an error, and a mutation's transaction
// rolls back.
func drain(cfg config, log *slog.Logger, api *httpapi.API, srv, admin *http.Server, stopWork func()) error {
	log.Info("draining", "delay", cfg.drainDelay, "grace", cfg.shutdownWait)
	api.Drain()
	time.Sleep(cfg.drainDelay)
	grace, cancel := context.WithTimeout(context.Background(), cfg.shutdownWait)
	defer cancel()
	err := srv.Shutdown(grace)
	if err != nil {
		log.Warn("grace period over; cancelling what still runs", "err", err)
		stopWork()
		_ = srv.Close()
	}
	// Subscribers are told and closed even when the grace period is spent.
	wsCtx, cancelWS := context.WithTimeout(context.Background(), max(time.Until(deadlineOf(grace)), 5*time.Second))
	defer cancelWS()
	if wsErr := api.CloseWebsockets(wsCtx); wsErr != nil {
		log.Warn("websockets did not drain in time", "err", wsErr)
	}
	if admin != nil {
		_ = admin.Close()
	}
	stopWork()
	log.Info("stopped")
	if err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	return nil
}

func deadlineOf(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

// startAdmin serves metrics (and, when asked, the runtime profiles) on
// the admin address, apart from the API: loopback by default.
func startAdmin(cfg config, api *httpapi.API, log *slog.Logger) (*http.Server, error) {
	if cfg.adminAddr == "" {
		return nil, nil
	}
	mux := http.NewServeMux()
	mux.Handle("/", api.Admin())
	if cfg.pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	ln, err := net.Listen("tcp", cfg.adminAddr)
	if err != nil {
		return nil, fmt.Errorf("admin listener on %s (CPOR_ADMIN_ADDR; off turns it off): %w", cfg.adminAddr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("admin server stopped", "err", err)
		}
	}()
	return srv, nil
}

// printBanner shows, in development only, where the playground is and
// ready-to-paste tokens for the demo users.
// demoTokens mints a 24-hour token for each demo user.
func demoTokens(secret []byte, cfg config) []playground.User {
	var out []playground.User
	for _, u := range demo.Users {
		tok, err := auth.Mint(secret, u.Identity, cfg.jwtIssuer, cfg.jwtAudience, 24*time.Hour)
		if err == nil {
			out = append(out, playground.User{Handle: u.Handle, About: u.About, Token: tok})
		}
	}
	return out
}

func printBanner(w io.Writer, addr net.Addr, http httpapi.Config, users []playground.User) {
	host := addr.String()
	if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		host = net.JoinHostPort("localhost", strconv.Itoa(tcp.Port))
	}
	fmt.Fprintf(w, "\nCPOR claims service (development)\n")
	if http.App {
		fmt.Fprintf(w, "  app:        http://%s%s (sign in as a demo user)\n", host, web.Path)
	}
	if http.Playground {
		fmt.Fprintf(w, "  playground: http://%s/ (pick a demo user at the top)\n", host)
	}
	fmt.Fprintf(w, "  graphql:    http://%s/graphql\n\n", host)
	if len(users) == 0 {
		fmt.Fprintln(w, "No demo tokens: CPOR_CLAIM_* or CPOR_ROLE_MAP says tokens come from an identity provider.")
		return
	}
	fmt.Fprintln(w, "Demo tokens (valid 24 h), for clients other than the playground: Authorization: Bearer <token>")
	for _, u := range users {
		fmt.Fprintf(w, "  %-6s %-45s %s\n", u.Handle, u.About, u.Token)
	}
	fmt.Fprintln(w)
}

func mintToken(cfg config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	user := fs.String("demo", "", "demo user handle (ada, ben, carl, fiona, rita, oscar, chloe)")
	sub := fs.String("sub", "", "user ID (sub) when not a demo user")
	name := fs.String("name", "", "display name")
	org := fs.String("org", "", "partner organisation ID")
	tenant := fs.String("tenant", "", "customer tenant ID (customer admins)")
	roles := fs.String("roles", "", "comma-separated roles")
	ttl := fs.Duration("ttl", 24*time.Hour, "lifetime")
	if err := fs.Parse(args); err != nil {
		return err
	}
	secret, err := cfg.signingSecret()
	if err != nil {
		return err
	}
	if len(secret) == 0 {
		return errors.New("the token subcommand signs with CPOR_JWT_SECRET; tokens for a JWKS provider come from that provider")
	}
	if !cfg.readsOwnTokens() {
		return errors.New("the token subcommand writes the service's own claim names and roles, which CPOR_CLAIM_* or CPOR_ROLE_MAP says are not read; tokens come from the identity provider")
	}
	var id auth.Identity
	if *user != "" {
		u, ok := demo.FindUser(*user)
		if !ok {
			return fmt.Errorf("no demo user %q", *user)
		}
		id = u.Identity
	} else {
		if *sub == "" {
			return errors.New("give -demo <handle> or -sub <user ID>")
		}
		id = auth.Identity{UserID: *sub, Name: *name}
		for _, r := range strings.Split(*roles, ",") {
			if r = strings.TrimSpace(r); r != "" {
				id.Roles = append(id.Roles, auth.Role(strings.ToUpper(r)))
			}
		}
		for _, p := range []struct {
			raw  string
			dest *uuid.UUID
		}{{*org, &id.OrganizationID}, {*tenant, &id.TenantID}} {
			if p.raw == "" {
				continue
			}
			if *p.dest, err = uuid.Parse(p.raw); err != nil {
				return fmt.Errorf("%q is not a GUID", p.raw)
			}
		}
	}
	tok, err := auth.Mint(secret, id, cfg.jwtIssuer, cfg.jwtAudience, *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}
