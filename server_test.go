package main

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"cpor/auth"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestProductionRefusesToStartWithoutKeys(t *testing.T) {
	dir := t.TempDir()
	for _, env := range []map[string]string{
		{"CPOR_ENV": "production", "CPOR_DATA_DIR": dir},
		{"CPOR_ENV": "production", "CPOR_DATA_DIR": dir, "CPOR_JWT_SECRET": "too-short"},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{"serve"}, envOf(env), &out, &errOut)
		if err == nil {
			t.Fatalf("production started with %v", env)
		}
	}
}

func TestConfigRejectsBadValues(t *testing.T) {
	for _, env := range []map[string]string{
		{"CPOR_ENV": "staging"},
		{"CPOR_MAX_UPLOAD_BYTES": "-1"},
		{"CPOR_LOG_LEVEL": "loud"},
		{"CPOR_DIGEST_HOUR": "24"},
		{"CPOR_SMTP_PORT": "0"},
		{"CPOR_SMTP_HOST": "smtp.example.com", "CPOR_SMTP_SECURITY": "sometimes"},
		{"CPOR_SMTP_HOST": "smtp.example.com", "CPOR_SMTP_SECURITY": "none", "CPOR_SMTP_USERNAME": "u", "CPOR_SMTP_PASSWORD": "p"},
		{"CPOR_OUTBOX_LEASE": "5s"},
		{"CPOR_WEBHOOK_TIMEOUT": "soon"},
	} {
		if _, err := loadConfig(envOf(env)); err == nil {
			t.Errorf("loadConfig accepted %v", env)
		}
	}
	cfg, err := loadConfig(envOf(map[string]string{"CPOR_ENV": "production"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.http.Playground || cfg.seedOnStart {
		t.Error("production serves the playground or seeds demo data")
	}
	if !cfg.notify.webhookURLs.RequireHTTPS || cfg.notify.webhookURLs.AllowPrivate {
		t.Errorf("production webhook URLs: %+v, want https only and no internal hosts", cfg.notify.webhookURLs)
	}
}

func TestConfigRejectsBadClaimSettings(t *testing.T) {
	entra := "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"CPOR_ROLE_MAP": "Cpor.Reviewer=SUPERUSER"}, `CPOR_ROLE_MAP: "SUPERUSER" is not a role of this service`},
		{map[string]string{"CPOR_ROLE_MAP": "Cpor.Reviewer"}, "CPOR_ROLE_MAP: \"Cpor.Reviewer\" is not tokenValue=ROLE"},
		{map[string]string{"CPOR_ROLE_MAP": "Cpor.Reviewer=REVIEWER,,"}, "CPOR_ROLE_MAP"},
		{map[string]string{"CPOR_ROLE_MAP": "a=REVIEWER,a=OPERATOR"}, "mapped twice"},
		{map[string]string{"CPOR_CLAIM_SUBJECT": "-"}, "CPOR_CLAIM_*: the subject claim is required"},
		{map[string]string{"CPOR_CLAIM_EMAIL": "preferred username"}, "CPOR_CLAIM_*"},
		{map[string]string{"CPOR_CLAIM_ORG": "exp"}, "not the user"},
		{map[string]string{"CPOR_JWT_ISSUER": entra}, "set CPOR_CLAIM_TENANT"},
		{map[string]string{"CPOR_JWT_ISSUER": "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/"}, "set CPOR_CLAIM_TENANT"},
	} {
		_, err := loadConfig(envOf(tc.env))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("loadConfig(%v) error = %v; want %q", tc.env, err, tc.want)
		}
	}

	// The README's Entra ID example loads.
	cfg, err := loadConfig(envOf(map[string]string{
		"CPOR_JWT_ISSUER": entra, "CPOR_CLAIM_SUBJECT": "oid", "CPOR_CLAIM_EMAIL": "preferred_username",
		"CPOR_CLAIM_ORG": "extension_6731de7614a649ae97bc6eba6914391e_partnerOrg", "CPOR_CLAIM_TENANT": "-",
		"CPOR_ROLE_MAP": "Cpor.Reviewer=REVIEWER, Cpor.PartnerAdmin=GLOBAL_ADMIN",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.claimNames != (auth.ClaimNames{Subject: "oid", Email: "preferred_username", Organization: "extension_6731de7614a649ae97bc6eba6914391e_partnerOrg", Tenant: auth.NoClaim}) {
		t.Errorf("claim names = %+v", cfg.claimNames)
	}
	if len(cfg.roleMap) != 2 || cfg.roleMap["Cpor.Reviewer"] != auth.Reviewer || cfg.roleMap["Cpor.PartnerAdmin"] != auth.GlobalAdmin {
		t.Errorf("role map = %v", cfg.roleMap)
	}
	// The development tokens have the service's own names: with others
	// configured the token subcommand refuses rather than print a token
	// that would not be read as meant.
	for _, env := range []map[string]string{{"CPOR_CLAIM_SUBJECT": "oid"}, {"CPOR_ROLE_MAP": "Cpor.Reviewer=REVIEWER"}} {
		env["CPOR_DATA_DIR"] = t.TempDir()
		err := run(context.Background(), []string{"token", "-demo", "rita"}, envOf(env), &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "identity provider") {
			t.Errorf("token subcommand with %v: %v", env, err)
		}
	}
	// Unset, the service's own names and no role map.
	if cfg, err := loadConfig(envOf(nil)); err != nil || cfg.claimNames != (auth.ClaimNames{}) || len(cfg.roleMap) != 0 {
		t.Errorf("defaults = %+v, %v, %v", cfg.claimNames, cfg.roleMap, err)
	}
}

func TestTokenAndMigrateSubcommands(t *testing.T) {
	env := envOf(map[string]string{"CPOR_DATA_DIR": t.TempDir()})
	var out bytes.Buffer
	if err := run(context.Background(), []string{"token", "-demo", "rita"}, env, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if strings.Count(strings.TrimSpace(out.String()), ".") != 2 {
		t.Fatalf("token subcommand printed %q", out.String())
	}
	if err := run(context.Background(), []string{"token", "-demo", "nobody"}, env, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
		t.Error("token for an unknown demo user")
	}
	out.Reset()
	if err := run(context.Background(), []string{"migrate"}, env, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"bogus"}, env, &out, &bytes.Buffer{}); err == nil {
		t.Error("unknown subcommand accepted")
	}
}

// TestServeDemoAndGracefulStop runs the README's first command in-process:
// the embedded database, demo data, the banner with tokens, a query with a
// printed token, and a clean stop.
func TestServeDemoAndGracefulStop(t *testing.T) {
	dir := t.TempDir()
	env := envOf(map[string]string{"CPOR_DATA_DIR": dir, "CPOR_ADDR": "127.0.0.1:0", "CPOR_ADMIN_ADDR": "127.0.0.1:0"})
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, env, &out, &bytes.Buffer{}) }()

	addr := regexp.MustCompile(`graphql:\s+(http://\S+)`)
	rita := regexp.MustCompile(`(?m)^\s+rita\s.*\s(\S+\.\S+\.\S+)$`)
	deadline := time.Now().Add(30 * time.Second)
	for !addr.MatchString(out.String()) || !rita.MatchString(out.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no banner; output: %s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	url := addr.FindStringSubmatch(out.String())[1]
	token := rita.FindStringSubmatch(out.String())[1]

	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"query":"{ claims { totalCount } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	resp.Body.Close()
	if !regexp.MustCompile(`"totalCount":([7-9]|\d\d)`).MatchString(body.String()) {
		t.Fatalf("demo claims not served: %s", body.String())
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop")
	}
	if _, err := filepath.Glob(filepath.Join(dir, "cpor.db")); err != nil {
		t.Fatal(err)
	}
}

func TestHelpPrintsUsageAndStartsNothing(t *testing.T) {
	env := envOf(map[string]string{"CPOR_DATA_DIR": t.TempDir(), "CPOR_ADDR": "127.0.0.1:1"})
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}, {"-help"}} {
		var out bytes.Buffer
		if err := run(context.Background(), args, env, &out, &bytes.Buffer{}); err != nil {
			t.Errorf("%v: %v", args, err)
		}
		if !strings.Contains(out.String(), "Usage:") || !strings.Contains(out.String(), "cpor migrate") {
			t.Errorf("%v printed %q", args, out.String())
		}
	}
	for _, args := range [][]string{{"--port", "80"}, {"serve", "extra"}, {"-x"}} {
		if err := run(context.Background(), args, env, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
			t.Errorf("%v was accepted", args)
		}
	}
}

func TestProductionIsClosedByDefault(t *testing.T) {
	cfg, err := loadConfig(envOf(map[string]string{"CPOR_ENV": "production"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.http.Introspection || cfg.http.Playground || len(cfg.http.AllowedOrigins) > 0 || cfg.pprof {
		t.Errorf("production opens introspection %v, playground %v, origins %v, pprof %v",
			cfg.http.Introspection, cfg.http.Playground, cfg.http.AllowedOrigins, cfg.pprof)
	}
	if !strings.HasPrefix(cfg.adminAddr, "127.0.0.1:") {
		t.Errorf("admin listener on %q", cfg.adminAddr)
	}
	cfg, err = loadConfig(envOf(map[string]string{"CPOR_ENV": "production", "CPOR_INTROSPECTION": "true",
		"CPOR_ALLOWED_ORIGINS": "https://app.example.com, https://admin.example.com:8443/", "CPOR_ADMIN_ADDR": "off"}))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.http.Introspection || cfg.adminAddr != "" ||
		strings.Join(cfg.http.AllowedOrigins, " ") != "https://app.example.com https://admin.example.com:8443" {
		t.Errorf("switches not read: %+v %q %v", cfg.http.Introspection, cfg.adminAddr, cfg.http.AllowedOrigins)
	}
}

func TestConfigRejectsBadLimits(t *testing.T) {
	for _, env := range []map[string]string{
		{"CPOR_ALLOWED_ORIGINS": "app.example.com"},
		{"CPOR_ALLOWED_ORIGINS": "https://app.example.com/path"},
		{"CPOR_TRUSTED_PROXIES": "10.0.0.0/99"},
		{"CPOR_BUDGET": "lots"},
		{"CPOR_ANONYMOUS_BUDGET": "100/0"},
		{"CPOR_OPERATION_TIMEOUT": "soon"},
		{"CPOR_SHUTDOWN_GRACE": "-5s"},
		{"CPOR_DRAIN_DELAY": "later"},
		{"CPOR_MAX_RESPONSE_BYTES": "0"},
	} {
		if _, err := loadConfig(envOf(env)); err == nil {
			t.Errorf("loadConfig accepted %v", env)
		}
	}
	cfg, err := loadConfig(envOf(map[string]string{"CPOR_BUDGET": "1000/10", "CPOR_ANONYMOUS_BUDGET": "off",
		"CPOR_TRUSTED_PROXIES": "10.0.0.1, 192.168.0.0/16", "CPOR_OPERATION_TIMEOUT": "3s"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.http.Budget.Capacity != 1000 || cfg.http.Budget.PerSecond != 10 || !cfg.http.AnonymousBudget.Off() ||
		len(cfg.http.TrustedProxies) != 2 || cfg.http.OperationTimeout != 3*time.Second {
		t.Errorf("read %+v %+v %v %v", cfg.http.Budget, cfg.http.AnonymousBudget, cfg.http.TrustedProxies, cfg.http.OperationTimeout)
	}
}
