package webhooks

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"

	"cpor/apperr"
)

// URLPolicy says where deliveries may go. In production only HTTPS; never
// to loopback, private, link-local or otherwise internal addresses unless
// an operator allows them (for a receiver on the same network, or tests).
type URLPolicy struct {
	RequireHTTPS bool
	AllowPrivate bool
}

// MaxURLLength bounds an endpoint's URL.
const MaxURLLength = 2048

// Check refuses, with WEBHOOK_URL_INVALID on field "url", a URL deliveries
// may not go to. A host name is checked again, after DNS resolution, each
// time a delivery connects (see dialControl).
func (p URLPolicy) Check(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case len(raw) > MaxURLLength:
		return invalidURL("The URL is longer than %d bytes.", MaxURLLength)
	case err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "":
		return invalidURL("%s is not an absolute URL such as https://hooks.example.com/cpor.", apperr.Quote(raw))
	case u.Scheme != "https" && (p.RequireHTTPS || u.Scheme != "http"):
		return invalidURL("Webhook URLs must use https.")
	case u.User != nil:
		return invalidURL("Put no credentials in the URL; deliveries are signed instead.")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return invalidURL("A webhook URL has no fragment (#…).")
	case strings.ContainsAny(raw, " \t\r\n\x00"):
		return invalidURL("The URL contains spaces or control characters.")
	}
	if p.AllowPrivate {
		return nil
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if internalName(host) {
		return invalidURL("%s is an internal host name; use a public one.", apperr.Quote(host))
	}
	if ip, err := netip.ParseAddr(host); err == nil && forbidden(ip) {
		return invalidURL("%s is a loopback, private or link-local address; use a public one.", ip)
	}
	return nil
}

func invalidURL(format string, args ...any) error {
	return apperr.New(apperr.WebhookURLInvalid, "url", format, args...)
}

// internalName reports names that point inside by convention.
func internalName(host string) bool {
	if host == "localhost" {
		return true
	}
	for _, suffix := range []string{".localhost", ".local", ".internal", ".home.arpa", ".lan"} {
		if strings.HasSuffix(host, suffix) {
			return true
		}
	}
	return false
}

// cgnat is the shared address space of carrier-grade NAT (RFC 6598).
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// forbidden reports addresses a delivery must not reach: loopback,
// private (RFC 1918, fc00::/7), link-local, unspecified, multicast, CGNAT,
// and the same written as IPv4-mapped IPv6.
func forbidden(ip netip.Addr) bool {
	ip = ip.Unmap()
	return !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsMulticast() ||
		ip.IsUnspecified() || cgnat.Contains(ip) || ip == netip.IPv4Unspecified() ||
		(ip.Is4() && ip.As4()[0] == 0) || ip == netip.MustParseAddr("255.255.255.255")
}

// errForbiddenAddress is a connection refused because the name resolved
// to an address deliveries may not reach.
type errForbiddenAddress struct{ addr string }

func (e errForbiddenAddress) Error() string {
	return fmt.Sprintf("refused to connect to %s: a loopback, private or link-local address (WEBHOOK_URL_INVALID)", e.addr)
}

// dialControl checks each address a delivery connects to, after DNS
// resolution: a name that resolves inward (now, or only later) is
// refused at the socket, whatever it resolved to when registered.
func (p URLPolicy) dialControl(_, address string, _ syscall.RawConn) error {
	if p.AllowPrivate {
		return nil
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return errForbiddenAddress{address}
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || forbidden(ip) {
		return errForbiddenAddress{address}
	}
	return nil
}
