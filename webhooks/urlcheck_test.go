package webhooks_test

import (
	"net/url"
	"strings"
	"testing"

	"cpor/apperr"
	"cpor/webhooks"
)

// internalURLs are refused unless the policy allows private hosts.
var internalURLs = []struct{ name, url string }{
	{"localhost", "https://localhost/hook"},
	{"localhost upper case with a trailing dot", "https://LOCALHOST./hook"},
	{"sub.localhost", "https://x.localhost/hook"},
	{".internal", "https://svc.internal/hook"},
	{".local", "https://printer.local/hook"},
	{"loopback v4", "https://127.0.0.1/hook"},
	{"loopback v4 with a port", "https://127.0.0.1:8443/hook"},
	{"loopback v6", "https://[::1]/hook"},
	{"RFC 1918 10/8", "https://10.1.2.3/hook"},
	{"RFC 1918 172.16/12", "https://172.16.0.1/hook"},
	{"RFC 1918 192.168/16", "https://192.168.1.1/hook"},
	{"cloud metadata (link-local)", "https://169.254.169.254/latest/meta-data"},
	{"link-local v6", "https://[fe80::1]/hook"},
	{"unique local v6", "https://[fd00::1]/hook"},
	{"CGNAT", "https://100.64.0.1/hook"},
	{"unspecified v4", "https://0.0.0.0/hook"},
	{"unspecified v6", "https://[::]/hook"},
	{"v4-mapped loopback", "https://[::ffff:127.0.0.1]/hook"},
	{"v4-mapped private", "https://[::ffff:10.0.0.1]/hook"},
	{"v4-mapped CGNAT", "https://[::ffff:100.64.0.1]/hook"},
	{"v4-mapped this network", "https://[::ffff:0.1.2.3]/hook"},
	{"v4-mapped broadcast", "https://[::ffff:255.255.255.255]/hook"},
	{"this network 0/8", "https://0.1.2.3/hook"},
	{"multicast", "https://224.0.0.1/hook"},
	{"broadcast", "https://255.255.255.255/hook"},
}

func TestCheckURL(t *testing.T) {
	strict := webhooks.URLPolicy{RequireHTTPS: true}
	lax := webhooks.URLPolicy{}
	tests := []struct {
		name   string
		policy webhooks.URLPolicy
		url    string
		ok     bool
	}{
		{"public https", strict, "https://hooks.example.com/cpor?x=1", true},
		{"public https with a port", strict, "https://hooks.example.com:8443/cpor", true},
		{"public v4 literal", strict, "https://8.8.8.8/hook", true},
		{"public v6 literal", strict, "https://[2001:4860::8888]/hook", true},
		{"http refused when https is required", strict, "http://hooks.example.com/cpor", false},
		{"http allowed otherwise", lax, "http://hooks.example.com/cpor", true},
		{"other scheme", lax, "ftp://hooks.example.com/cpor", false},
		{"relative", lax, "/cpor/hook", false},
		{"no scheme", lax, "hooks.example.com/cpor", false},
		{"empty", lax, "", false},
		{"opaque", lax, "mailto:ops@example.com", false},
		{"no host", lax, "https:///cpor", false},
		{"userinfo", lax, "https://user:pw@hooks.example.com/cpor", false},
		{"user only", lax, "https://user@hooks.example.com/cpor", false},
		{"fragment", lax, "https://hooks.example.com/cpor#frag", false},
		{"empty fragment", lax, "https://hooks.example.com/cpor#", false},
		{"2048 bytes", lax, longURL(webhooks.MaxURLLength), true},
		{"2049 bytes", lax, longURL(webhooks.MaxURLLength + 1), false},
		{"space in the path", lax, "https://hooks.example.com/a b", false},
		{"space in the host", lax, "https://hooks example.com/", false},
		{"tab", lax, "https://hooks.example.com/a\tb", false},
		{"newline", lax, "https://hooks.example.com/a\nb", false},
		{"NUL", lax, "https://hooks.example.com/a\x00b", false},
	}
	for _, u := range internalURLs {
		tests = append(tests, struct {
			name   string
			policy webhooks.URLPolicy
			url    string
			ok     bool
		}{"internal: " + u.name, strict, u.url, false})
		tests = append(tests, struct {
			name   string
			policy webhooks.URLPolicy
			url    string
			ok     bool
		}{"internal allowed: " + u.name, webhooks.URLPolicy{RequireHTTPS: true, AllowPrivate: true}, u.url, true})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.policy.Check(tc.url)
			if tc.ok {
				if err != nil {
					t.Fatalf("Check(%q) = %v, want accepted", tc.url, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Check(%q) accepted, want WEBHOOK_URL_INVALID", tc.url)
			}
			list, ok := apperr.All(err)
			if !ok || len(list) != 1 || list[0].Code != apperr.WebhookURLInvalid || list[0].Field != "url" {
				t.Fatalf("Check(%q) = %v, want one WEBHOOK_URL_INVALID on field url", tc.url, err)
			}
			if len(list[0].Message) > 400 {
				t.Errorf("message repeats too much of the URL: %d bytes", len(list[0].Message))
			}
		})
	}
}

func longURL(n int) string {
	const prefix = "https://hooks.example.com/"
	return prefix + strings.Repeat("a", n-len(prefix))
}

func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{
		"https://hooks.example.com/cpor", "http://hooks.example.com", "https://[::ffff:127.0.0.1]/",
		"https://user@h/", "https://h/#x", "//h/p", "https:h", "https://[fe80::1%25eth0]/", "https://h:99999/",
		"https://%zz/", "https://h/\x7f", "HTTPS://H.LOCAL./",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	for _, u := range internalURLs {
		f.Add(u.url, false)
	}
	f.Fuzz(func(t *testing.T, raw string, allowPrivate bool) {
		err := webhooks.URLPolicy{RequireHTTPS: true, AllowPrivate: allowPrivate}.Check(raw)
		if err != nil {
			if !apperr.Is(err, apperr.WebhookURLInvalid) {
				t.Fatalf("Check(%q) = %v, not WEBHOOK_URL_INVALID", raw, err)
			}
			return
		}
		u, perr := url.Parse(raw)
		if perr != nil || !u.IsAbs() || u.Host == "" || u.Scheme != "https" || u.User != nil || u.Fragment != "" {
			t.Fatalf("Check accepted %q, which is not an absolute https URL with a host (parse: %v)", raw, perr)
		}
		if len(raw) > webhooks.MaxURLLength {
			t.Fatalf("Check accepted %d bytes", len(raw))
		}
	})
}
