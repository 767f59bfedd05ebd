// Command cpor is the CPOR claims service: a GraphQL API in which Microsoft
// partners claim customer associations and reviewers decide on them.
//
//	cpor [serve]   run the server (the default)
//	cpor migrate   bring the database schema up to date
//	cpor seed      load the demo data
//	cpor token     mint a development token
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
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
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
	"cpor/claims"
	"cpor/demo"
	"cpor/graph"
	"cpor/httpapi"
	"cpor/live"
	"cpor/sla"
	"cpor/storage"
)

// config is everything the service reads from its environment.
type config struct {
	production   bool
	addr         string
	storage      storage.Config
	jwtSecret    []byte
	jwksURL      string
	jwtIssuer    string
	jwtAudience  string
	holidays     string
	http         httpapi.Config
	logLevel     slog.Level
	logJSON      bool
	seedOnStart  bool
	shutdownWait time.Duration
	pprofAddr    string
}

func loadConfig(getenv func(string) string) (config, error) {
	env := func(key, def string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v
		}
		return def
	}
	c := config{
		production:   env("CPOR_ENV", "development") == "production",
		addr:         env("CPOR_ADDR", ":8080"),
		jwksURL:      env("CPOR_JWKS_URL", ""),
		jwtIssuer:    env("CPOR_JWT_ISSUER", "cpor"),
		jwtAudience:  env("CPOR_JWT_AUDIENCE", ""),
		holidays:     env("CPOR_HOLIDAYS", ""),
		http:         httpapi.DefaultConfig(),
		logJSON:      env("CPOR_LOG_FORMAT", "text") == "json",
		pprofAddr:    env("CPOR_PPROF_ADDR", ""),
		shutdownWait: 20 * time.Second,
		storage: storage.Config{
			DatabaseURL: env("DATABASE_URL", ""),
			DataDir:     env("CPOR_DATA_DIR", "data"),
		},
	}
	if mode := env("CPOR_ENV", "development"); mode != "production" && mode != "development" {
		return c, fmt.Errorf("CPOR_ENV must be development or production, not %q", mode)
	}
	c.jwtSecret = []byte(getenv("CPOR_JWT_SECRET"))
	c.seedOnStart = !c.production && c.storage.DatabaseURL == ""
	c.http.Playground = env("CPOR_PLAYGROUND", strconv.FormatBool(!c.production)) == "true"
	if origins := env("CPOR_ALLOWED_ORIGINS", ""); origins != "" {
		c.http.AllowedOrigins = strings.Split(origins, ",")
	}
	var err error
	if c.http.MaxUploadBytes, err = envInt(env, "CPOR_MAX_UPLOAD_BYTES", c.http.MaxUploadBytes); err != nil {
		return c, err
	}
	conns, err := envInt(env, "CPOR_DB_MAX_CONNS", 20)
	if err != nil {
		return c, err
	}
	c.storage.MaxOpenConns = int(conns)
	if err := c.logLevel.UnmarshalText([]byte(env("CPOR_LOG_LEVEL", "info"))); err != nil {
		return c, fmt.Errorf("CPOR_LOG_LEVEL: %w", err)
	}
	return c, nil
}

func envInt(env func(string, string) string, key string, def int64) (int64, error) {
	v := env(key, strconv.FormatInt(def, 10))
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s must be a positive integer, not %q", key, v)
	}
	return n, nil
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
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
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
	return fmt.Errorf("unknown command %q (serve, migrate, seed, token)", cmd)
}

func newLogger(cfg config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.logLevel}
	if cfg.logJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
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
	services graph.Services
}

func wire(db *gorm.DB, cfg config, log *slog.Logger) (*app, error) {
	calendar, err := sla.ParseHolidays(cfg.holidays)
	if err != nil {
		return nil, fmt.Errorf("CPOR_HOLIDAYS: %w", err)
	}
	limits := claims.DefaultDocumentLimits
	limits.MaxBytes = cfg.http.MaxUploadBytes
	hub := live.NewHub(db, live.DefaultConfig, log)
	return &app{db: db, services: graph.NewServices(db, hub, calendar, limits)}, nil
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
	return demo.Services{Catalog: a.services.Catalog, Claims: a.services.Claims, Workflow: a.services.Workflow}
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
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	secret, err := cfg.signingSecret()
	if err != nil {
		return err
	}
	verifier, err := auth.NewVerifier(ctx, auth.VerifierConfig{
		HS256Secret: secret, JWKSURL: cfg.jwksURL, Issuer: cfg.jwtIssuer, Audience: cfg.jwtAudience,
	})
	if err != nil {
		return err
	}
	db, err := openMigrated(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer storage.Close(db)
	a, err := wire(db, cfg, log)
	if err != nil {
		return err
	}
	a.startLive(ctx, cfg, log)
	if cfg.seedOnStart {
		if err := demo.Seed(ctx, db, a.demoServices()); err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	srv := &http.Server{
		Handler:           httpapi.New(cfg.http, httpapi.Deps{DB: db, Verifier: verifier, Services: a.services, Log: log, Stopping: ctx}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	log.InfoContext(ctx, "listening", "addr", ln.Addr().String(), "database", storage.DialectOf(db), "production", cfg.production)
	if !cfg.production && len(cfg.jwtSecret) == 0 && cfg.jwksURL == "" {
		printBanner(stdout, ln.Addr(), secret, cfg)
	}

	if cfg.pprofAddr != "" {
		go servePprof(ctx, cfg.pprofAddr, log)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", cfg.shutdownWait)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.shutdownWait)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	return nil
}

// printBanner shows, in development only, where the playground is and
// ready-to-paste tokens for the demo users.
func printBanner(w io.Writer, addr net.Addr, secret []byte, cfg config) {
	host := addr.String()
	if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		host = net.JoinHostPort("localhost", strconv.Itoa(tcp.Port))
	}
	fmt.Fprintf(w, "\nCPOR claims service (development)\n  playground: http://%s/\n  graphql:    http://%s/graphql\n\n", host, host)
	fmt.Fprintln(w, "Demo tokens (valid 24 h); in the playground set the header Authorization: Bearer <token>")
	for _, u := range demo.Users {
		tok, err := auth.Mint(secret, u.Identity, cfg.jwtIssuer, cfg.jwtAudience, 24*time.Hour)
		if err != nil {
			continue
		}
		fmt.Fprintf(w, "  %-6s %-45s %s\n", u.Handle, u.About, tok)
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

// servePprof serves the runtime profiles on their own (loopback) address,
// never on the API's.
func servePprof(ctx context.Context, addr string, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	context.AfterFunc(ctx, func() { _ = srv.Close() })
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("pprof server stopped", "err", err)
	}
}
