package precheck

import (
	"strings"
	"sync"
)

// Email checks the commenter's e-mail address: its syntax, placeholder
// addresses ("noreply@…", "…@example.com") and disposable mail services.
// Its hits have no span in the body: Start and End are 0 and Evidence is
// the address. An empty address is not checked. The zero value uses the
// defaults.
type Email struct {
	Rule     int      // default RuleEmail
	Title    string   // default TitleEmail
	Severity Severity // default Flag

	// PlaceholderDomains are domains no one reads mail at; an entry
	// starting with "." matches every domain ending in it (".invalid").
	// Default DefaultPlaceholderDomains.
	PlaceholderDomains []string
	// PlaceholderLocals are local parts that say "no address" (default
	// DefaultPlaceholderLocals).
	PlaceholderLocals []string
	// DisposableDomains are throw-away mail services; their subdomains
	// count too (default DefaultDisposableDomains).
	DisposableDomains []string

	once                              sync.Once
	placeholders, locals, disposables map[string]bool
}

// DefaultPlaceholderDomains are the domains reserved for examples and
// tests (RFC 2606, RFC 6761) and a few that people type for "none". The
// ".example" top-level domain is left out: demos use it.
var DefaultPlaceholderDomains = []string{
	"example.com", "example.net", "example.org", ".invalid", ".test",
	".localhost", ".local", "localhost", "test.com", "domain.com",
	"none.com", "nomail.com", "noemail.com", "fake.com", "fakeemail.com", "asdf.com",
}

// DefaultPlaceholderLocals are local parts that say there is no address.
var DefaultPlaceholderLocals = []string{
	"noreply", "no-reply", "no_reply", "donotreply", "do-not-reply", "do_not_reply",
	"none", "nobody", "noone", "no-one", "noemail", "no-email", "nomail", "no-mail",
	"fake", "fakeemail", "null", "void", "anonymous", "anon", "asdf", "qwerty",
	"xxx", "xxxx", "test", "your-email", "youremail",
}

// DefaultDisposableDomains are well-known throw-away mail services.
var DefaultDisposableDomains = []string{
	"mailinator.com", "guerrillamail.com", "guerrillamail.net", "guerrillamail.org",
	"guerrillamail.biz", "guerrillamail.de", "guerrillamailblock.com", "sharklasers.com",
	"grr.la", "spam4.me", "10minutemail.com", "10minutemail.net", "temp-mail.org",
	"temp-mail.io", "tempmail.com", "tempmail.net", "tempmailo.com", "tempail.com",
	"tempr.email", "discard.email", "yopmail.com", "yopmail.net", "yopmail.fr",
	"trashmail.com", "trashmail.de", "trashmail.net", "getnada.com", "nada.email",
	"dispostable.com", "throwawaymail.com", "maildrop.cc", "fakeinbox.com",
	"mintemail.com", "mohmal.com", "emailondeck.com", "burnermail.io",
	"mailnesia.com", "mytemp.email", "moakt.com", "jetable.org",
	"wegwerfmail.de", "spamgourmet.com", "mailcatch.com", "getairmail.com",
	"inboxkitten.com", "mail.tm", "1secmail.com", "emailfake.com",
	"fakemail.net", "throwam.com", "mailpoof.com", "dropmail.me",
}

// Check implements Check.
func (c *Email) Check(in *Input) []Hit {
	c.once.Do(func() {
		c.placeholders = lowerSet(orDefaultSlice(c.PlaceholderDomains, DefaultPlaceholderDomains))
		c.locals = lowerSet(orDefaultSlice(c.PlaceholderLocals, DefaultPlaceholderLocals))
		c.disposables = lowerSet(orDefaultSlice(c.DisposableDomains, DefaultDisposableDomains))
	})
	addr := strings.TrimSpace(in.AuthorEmail)
	if addr == "" {
		return nil
	}
	why := c.problem(addr)
	if why == "" {
		return nil
	}
	return []Hit{{
		Rule:        orDefault(c.Rule, RuleEmail),
		Title:       orDefault(c.Title, TitleEmail),
		Severity:    orDefault(c.Severity, Flag),
		Evidence:    addr,
		Explanation: why,
	}}
}

func (c *Email) problem(addr string) string {
	local, domain, ok := splitAddress(addr)
	if !ok {
		return "not a valid e-mail address; the rule asks for a real one"
	}
	domain = strings.ToLower(domain)
	if c.placeholders[domain] || matchesSuffix(c.placeholders, domain, true) {
		return "placeholder domain (" + domain + "); mail to it reaches no one"
	}
	if c.locals[strings.ToLower(local)] {
		return "placeholder address (" + local + "@…); the rule asks for a real one"
	}
	if c.disposables[domain] || matchesSuffix(c.disposables, domain, false) {
		return "disposable address (" + domain + "); the rule asks for a real one"
	}
	return ""
}

// splitAddress splits a plain address and checks its syntax: a local
// part of at most 64 characters without spaces or brackets, and a domain
// of dotted labels of letters, digits and hyphens ending in a top-level
// domain of letters.
func splitAddress(addr string) (local, domain string, ok bool) {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 || len(addr) > 254 {
		return "", "", false
	}
	local, domain = addr[:at], addr[at+1:]
	if len(local) > 64 || strings.ContainsAny(local, " \t\r\n<>()[]\\,;:\"@") ||
		strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return "", "", false
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return "", "", false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", "", false
		}
		for _, r := range l {
			if r < 0x80 && !isAlnum(r) && r != '-' {
				return "", "", false
			}
		}
	}
	tld := labels[len(labels)-1]
	if !strings.HasPrefix(strings.ToLower(tld), "xn--") {
		for _, r := range tld {
			if !isAlnum(r) || r >= '0' && r <= '9' {
				return "", "", false
			}
		}
	}
	return local, domain, true
}

// matchesSuffix reports whether a parent domain of domain is in set; with
// dotted, only entries written with a leading dot count.
func matchesSuffix(set map[string]bool, domain string, dotted bool) bool {
	for i := 0; i < len(domain); i++ {
		if domain[i] != '.' {
			continue
		}
		if dotted && set[domain[i:]] || !dotted && set[domain[i+1:]] {
			return true
		}
	}
	return false
}

func lowerSet(words []string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[strings.ToLower(w)] = true
	}
	return m
}
