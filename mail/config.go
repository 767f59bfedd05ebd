package mail

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"time"
)

// Security is how the connection to the relay is protected.
const (
	// SecurityStartTLS upgrades a plain connection with STARTTLS and fails
	// when the relay does not offer it (the default, except on port 465).
	SecurityStartTLS = "starttls"
	// SecurityTLS is implicit TLS from the first byte (port 465's default).
	SecurityTLS = "tls"
	// SecurityNone sends in the clear: for a relay on the same host or
	// network only, and never with credentials.
	SecurityNone = "none"
)

// DefaultTimeout bounds each exchange with the relay when Config.Timeout is
// zero.
const DefaultTimeout = 15 * time.Second

// Config is how the sender reaches its SMTP relay. A zero Host means no
// relay: the sender logs messages instead of sending them.
type Config struct {
	Host string
	// Port defaults to 465 with implicit TLS, otherwise 587.
	Port int
	// Security is "starttls", "tls" or "none"; empty means "tls" on port
	// 465 and "starttls" otherwise.
	Security string
	// Username turns on SMTP AUTH; Password goes with it.
	Username string
	Password string
	// From is the sender, "addr" or "Name <addr>"; required with Host.
	From string
	// AppURL is the web app's base URL; a claim's link is
	// AppURL + "/claims/" + its ID. Without it mails carry no links.
	AppURL string
	// Timeout bounds each exchange with the relay (and never outlasts the
	// attempt's context); DefaultTimeout when zero.
	Timeout time.Duration
	// RootCAs, when set, replaces the system's roots in verifying the
	// relay's certificate (for tests, or a private CA).
	RootCAs *x509.CertPool
}

// withDefaults fills the fields a zero value leaves to the defaults.
func (c Config) withDefaults() Config {
	c.Security = strings.ToLower(strings.TrimSpace(c.Security))
	if c.Security == "" {
		if c.Port == 465 {
			c.Security = SecurityTLS
		} else {
			c.Security = SecurityStartTLS
		}
	}
	if c.Port == 0 {
		if c.Security == SecurityTLS {
			c.Port = 465
		} else {
			c.Port = 587
		}
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	c.AppURL = strings.TrimRight(c.AppURL, "/")
	return c
}

// Validate reports every problem of the configuration at once. Without a
// Host only the settings that would still matter (the links) are checked.
func (c Config) Validate() error {
	d := c.withDefaults()
	var errs []error
	if d.AppURL != "" {
		u, err := url.Parse(d.AppURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("mail: AppURL %q is not an absolute http(s) URL", c.AppURL))
		}
	}
	if d.Timeout < 0 {
		errs = append(errs, errors.New("mail: Timeout is negative"))
	}
	switch d.Security {
	case SecurityStartTLS, SecurityTLS, SecurityNone:
	default:
		errs = append(errs, fmt.Errorf("mail: Security %q is none of starttls, tls, none", c.Security))
	}
	if d.Host == "" {
		return errors.Join(errs...)
	}
	if strings.ContainsAny(d.Host, " /[]") || (strings.Contains(d.Host, ":") && net.ParseIP(d.Host) == nil) {
		errs = append(errs, fmt.Errorf("mail: Host %q is not a host name (give the port in Port)", d.Host))
	}
	if d.Port < 1 || d.Port > 65535 {
		errs = append(errs, fmt.Errorf("mail: Port %d is out of range", c.Port))
	}
	if d.From == "" {
		errs = append(errs, errors.New("mail: From is required with an SMTP host"))
	} else if _, err := mail.ParseAddress(d.From); err != nil {
		errs = append(errs, fmt.Errorf("mail: From %q is not an address: %v", d.From, err))
	}
	switch {
	case d.Username == "" && d.Password != "":
		errs = append(errs, errors.New("mail: Password is set without Username"))
	case d.Username != "" && d.Password == "":
		errs = append(errs, errors.New("mail: Username is set without Password"))
	case d.Username != "" && d.Security == SecurityNone:
		errs = append(errs, errors.New(`mail: Security "none" would send the credentials in the clear`))
	}
	return errors.Join(errs...)
}
