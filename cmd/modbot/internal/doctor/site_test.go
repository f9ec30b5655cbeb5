package doctor

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"modbot/cmd/modbot/internal/config"
)

// resolver answers from a table; a missing name fails with err.
type resolver struct {
	addrs map[string][]string
	err   error
}

func (r resolver) LookupHost(_ context.Context, host string) ([]string, error) {
	if a, ok := r.addrs[host]; ok {
		return a, nil
	}
	return nil, r.err
}

func TestSiteAddress(t *testing.T) {
	notFound := &net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}
	timeout := &net.DNSError{Err: "i/o timeout", Name: "x", IsTimeout: true}
	for _, tc := range []struct {
		baseURL string
		err     error
		want    Status
		says    string
	}{
		{"", nil, Warn, "site.base_url is not set"},
		{"https://comments.forum.org", nil, OK, "comments.forum.org is 203.0.113.7"},
		{"http://127.0.0.1:8080", nil, Warn, "is this machine"},
		{"http://localhost:8080", nil, Warn, "is this machine"},
		{"https://203.0.113.9", nil, OK, "an IP address"},
		{"https://forum.example", nil, Fail, "reserved for examples"},
		{"https://blog.example.com", nil, Fail, "reserved for examples"},
		{"https://typo.forum.org", notFound, Fail, "does not exist in DNS"},
		// Offline: no answer is not "no such name".
		{"https://typo.forum.org", timeout, Warn, "DNS did not answer (offline?)"},
		{"https://typo.forum.org", errors.New("network is unreachable"), Warn, "DNS did not answer"},
	} {
		r := &run{ctx: context.Background(), cfg: &config.Config{Site: config.Site{BaseURL: tc.baseURL}},
			opts: Options{Timeout: time.Second, Resolver: resolver{err: tc.err, addrs: map[string][]string{
				"comments.forum.org": {"203.0.113.7"}, "localhost": {"127.0.0.1", "::1"}}}}}
		r.site()
		if len(r.results) != 1 {
			t.Fatalf("%q: %d results", tc.baseURL, len(r.results))
		}
		got := r.results[0]
		if got.Status != tc.want || !strings.Contains(got.Detail, tc.says) {
			t.Errorf("%q (%v): %s %q, want %s %q", tc.baseURL, tc.err, got.Status, got.Detail, tc.want, tc.says)
		}
		if got.Status != OK && got.Fix == "" {
			t.Errorf("%q: no fix offered", tc.baseURL)
		}
	}
}

// Connection failures in plain words, one per cause.
func TestExplainConnect(t *testing.T) {
	imapSvc := service{name: "IMAP", key: "imap", addr: "imap.forum.org:993", security: "starttls", plainPort: "143", tlsPort: "993"}
	for _, tc := range []struct {
		err  error
		says string
	}{
		{&net.DNSError{Name: "imap.forum.org", IsNotFound: true}, "does not exist in DNS"},
		{&net.OpError{Op: "dial", Err: &timeoutErr{}}, `try imap.security = "tls"`},
		{errNoStartTLS, "does not offer STARTTLS"},
	} {
		d, fix := explainConnect(imapSvc, tc.err)
		if !strings.Contains(d+" "+fix, tc.says) {
			t.Errorf("%v: %q / %q lacks %q", tc.err, d, fix, tc.says)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }
