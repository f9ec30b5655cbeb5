package doctor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// reservedSuffixes are names that never resolve on the internet (RFC
// 2606, 6761): an example configuration copied unchanged.
var reservedNames = []string{"example", "invalid", "test", "example.com", "example.net", "example.org"}

// site checks that readers can find the site: base_url's host resolves.
func (r *run) site() {
	const check = "site address"
	raw := r.cfg.Site.BaseURL
	if raw == "" {
		r.add(Result{Check: check, Status: Warn, Detail: "site.base_url is not set: notices to commenters carry no link to their published comment",
			Fix: "set site.base_url to the address readers open, e.g. \"https://forum.example.org\""})
		return
	}
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		r.add(Result{Check: check, Status: Fail, Detail: fmt.Sprintf("site.base_url %q has no host name", raw),
			Fix: "write it as \"https://host\"", Err: err})
		return
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); ip != nil {
		r.add(siteAddresses(raw, host, []string{host}))
		return
	}
	lower := strings.ToLower(strings.TrimSuffix(host, "."))
	for _, name := range reservedNames {
		if lower == name || strings.HasSuffix(lower, "."+name) {
			r.add(Result{Check: check, Status: Fail,
				Detail: fmt.Sprintf("%s in site.base_url is a name reserved for examples: it never resolves for readers", host),
				Fix:    "set site.base_url to the site's real address"})
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.ctx, r.opts.Timeout)
	defer cancel()
	addrs, err := r.opts.Resolver.LookupHost(ctx, host)
	var dnsErr *net.DNSError
	switch {
	case err == nil:
		r.add(siteAddresses(raw, host, addrs))
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		r.add(Result{Check: check, Status: Fail, Err: err,
			Detail: fmt.Sprintf("%s (site.base_url) does not exist in DNS: links in notices would lead nowhere", host),
			Fix:    "check the spelling in site.base_url, or create the DNS record. If this machine is offline or its DNS is private, check from another machine with `dig " + host + "`."})
	default:
		// No answer is not "no such name": this machine may be offline.
		r.add(Result{Check: check, Status: Warn, Err: err,
			Detail: fmt.Sprintf("could not look up %s: this machine's DNS did not answer (offline?)", host),
			Fix:    "check this machine's network and /etc/resolv.conf; modbot works without it, but cannot vouch for the links it mails"})
	}
}

func siteAddresses(raw, host string, addrs []string) Result {
	res := Result{Check: "site address", Status: OK, Detail: fmt.Sprintf("%s is %s", host, strings.Join(addrs, ", "))}
	if net.ParseIP(host) != nil {
		res.Detail = fmt.Sprintf("%s is an IP address: nothing to look up", host)
	}
	for _, a := range addrs {
		if ip := net.ParseIP(a); ip != nil && !ip.IsLoopback() {
			return res
		}
	}
	res.Status = Warn
	res.Detail = fmt.Sprintf("%s is this machine: links in notices work only here", host)
	res.Fix = fmt.Sprintf("fine for a test; for readers, set site.base_url (now %q) to the public address", raw)
	return res
}
