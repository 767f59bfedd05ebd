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
// may not go to: one of the wrong form (checkForm), or naming an internal
// host. A host name is checked again, after DNS resolution, each time a
// delivery connects (see dialControl).
func (p URLPolicy) Check(raw string) error {
	u, err := p.checkForm(raw)
	if err != nil || p.AllowPrivate {
		return err
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if strings.Contains(host, "%") {
		return invalidURL("Give a global address, without an IPv6 zone (%%…).")
	}
	if strings.ContainsFunc(host, func(r rune) bool { return r > 0x7f }) {
		return invalidURL("Write an international host name in its ASCII (xn--) form.")
	}
	if _, err := netip.ParseAddr(host); err != nil && numericName(host) {
		return invalidURL("%s looks like an address in an unusual notation; write it in dotted decimal.", apperr.Quote(host))
	}
	if internalName(host) {
		return invalidURL("%s is an internal host name; use a public one.", apperr.Quote(host))
	}
	if ip, err := netip.ParseAddr(host); err == nil && forbidden(ip) {
		return invalidURL("%s is a loopback, private or link-local address; use a public one.", ip)
	}
	return nil
}

// checkForm refuses a URL of the wrong form: not absolute, not https (or
// http where allowed), with credentials, a fragment, spaces or control
// characters, or too long. Where it points is for Check at registration
// and for the dialer at delivery.
func (p URLPolicy) checkForm(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case len(raw) > MaxURLLength:
		return nil, invalidURL("The URL is longer than %d bytes.", MaxURLLength)
	case err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "":
		return nil, invalidURL("%s is not an absolute URL such as https://hooks.example.com/cpor.", apperr.Quote(raw))
	case u.Scheme != "https" && (p.RequireHTTPS || u.Scheme != "http"):
		return nil, invalidURL("Webhook URLs must use https.")
	case u.User != nil:
		return nil, invalidURL("Put no credentials in the URL; deliveries are signed instead.")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return nil, invalidURL("A webhook URL has no fragment (#…).")
	case strings.ContainsAny(raw, " \t\r\n\x00"):
		return nil, invalidURL("The URL contains spaces or control characters.")
	}
	return u, nil
}

func invalidURL(format string, args ...any) error {
	return apperr.New(apperr.WebhookURLInvalid, "url", format, args...)
}

// numericName reports host names whose last label is a number (127.1,
// 2130706433, 0x7f.0.0.1): resolvers may read them as addresses.
func numericName(host string) bool {
	last := host[strings.LastIndexByte(host, '.')+1:]
	if strings.HasPrefix(last, "0x") {
		return true
	}
	return last != "" && strings.IndexFunc(last, func(r rune) bool { return r < '0' || r > '9' }) < 0
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

// internalRanges are addresses no public receiver has, beyond what netip
// names: carrier-grade NAT (RFC 6598), "this network", the reserved
// 240.0.0.0/4 (broadcast included), and NAT64 and IPv4-compatible IPv6,
// which carry IPv4 addresses (internal ones too) inside IPv6.
var internalRanges = []netip.Prefix{
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("::/96"), // IPv4-compatible IPv6 (::127.0.0.1)
}

// forbidden reports addresses a delivery must not reach: loopback,
// private (RFC 1918, fc00::/7), link-local, unspecified, multicast, the
// internal ranges, and the same written as IPv4-mapped IPv6.
func forbidden(ip netip.Addr) bool {
	ip = ip.Unmap().WithZone("")
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
		ip.IsMulticast() || ip.IsUnspecified() {
		return true
	}
	for _, r := range internalRanges {
		if r.Contains(ip) {
			return true
		}
	}
	return false
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
