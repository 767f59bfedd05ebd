package mail_test

import (
	"strings"
	"testing"
	"time"

	"cpor/mail"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := mail.Config{Host: "smtp.example", From: "CPOR <noreply@cpor.example>", AppURL: "https://cpor.example"}
	with := func(f func(*mail.Config)) mail.Config {
		c := ok
		f(&c)
		return c
	}
	for _, tc := range []struct {
		name string
		cfg  mail.Config
		// errHas is in the error; "" means valid.
		errHas string
	}{
		{"minimal", ok, ""},
		{"no host logs instead", mail.Config{}, ""},
		{"no host still checks the links", mail.Config{AppURL: "cpor.example"}, "AppURL"},
		{"bare address", with(func(c *mail.Config) { c.From = "noreply@cpor.example" }), ""},
		{"implicit tls", with(func(c *mail.Config) { c.Port, c.Security = 465, "TLS" }), ""},
		{"auth over starttls", with(func(c *mail.Config) { c.Username, c.Password = "u", "p" }), ""},
		{"plain relay", with(func(c *mail.Config) { c.Port, c.Security = 25, "none" }), ""},
		{"unknown security", with(func(c *mail.Config) { c.Security = "ssl" }), `Security "ssl"`},
		{"unknown security without host", mail.Config{Security: "ssl"}, `Security "ssl"`},
		{"from required", with(func(c *mail.Config) { c.From = "" }), "From is required"},
		{"from malformed", with(func(c *mail.Config) { c.From = "CPOR noreply" }), "From"},
		{"port out of range", with(func(c *mail.Config) { c.Port = 70000 }), "Port"},
		{"ipv6 literal", with(func(c *mail.Config) { c.Host = "::1" }), ""},
		{"host with port", with(func(c *mail.Config) { c.Host = "smtp.example:587" }), "Host"},
		{"negative timeout", with(func(c *mail.Config) { c.Timeout = -time.Second }), "Timeout"},
		{"password without user", with(func(c *mail.Config) { c.Password = "p" }), "Password is set without Username"},
		{"user without password", with(func(c *mail.Config) { c.Username = "u" }), "Username is set without Password"},
		{"credentials in the clear", with(func(c *mail.Config) { c.Username, c.Password, c.Security = "u", "p", "none" }), "in the clear"},
		{"relative app url", with(func(c *mail.Config) { c.AppURL = "/app" }), "AppURL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			switch {
			case tc.errHas == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case tc.errHas != "" && (err == nil || !strings.Contains(err.Error(), tc.errHas)):
				t.Errorf("Validate = %v, want an error about %q", err, tc.errHas)
			}
			if _, nerr := mail.NewSender(tc.cfg, quiet); (nerr == nil) != (err == nil) {
				t.Errorf("NewSender = %v, Validate = %v", nerr, err)
			}
		})
	}
	// Secrets stay out of the errors.
	err := with(func(c *mail.Config) { c.Username, c.Password, c.Security = "u", "hunter2", "none" }).Validate()
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Validate = %v", err)
	}
}
