package mail

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/emersion/go-msgauth/authres"
)

// AuthFailure reads the Authentication-Results header fields (RFC 8601)
// and returns why the message failed DKIM, SPF or DMARC according to the
// server named authservID, or "" when no such server says it failed. With
// authservID "" every such field is read: a forger can add a field that
// says "pass" but cannot remove the receiving server's "fail", so only a
// refusal can come of believing them all.
func AuthFailure(m *Message, authservID string) string {
	for _, v := range m.Header["Authentication-Results"] {
		id, results := readAuthResults(v)
		if authservID != "" && !strings.EqualFold(id, authservID) {
			continue
		}
		for _, r := range results {
			switch r.method {
			case "dkim", "spf", "dmarc":
			default:
				continue
			}
			// "softfail" (SPF's ~all) is a hint, not a verdict.
			if r.value == authres.ResultFail {
				return fmt.Sprintf("Authentication-Results from %s: %s=%s", id, r.method, r.value)
			}
		}
	}
	return ""
}

// AuthPass reports whether the server named authservID (which must not be
// "") vouches for the author's domain: one of its Authentication-Results
// fields says dkim=pass with a signing domain (header.d) aligned with the
// From domain, or dmarc=pass for the From domain (header.from). Any other
// result (fail, none, neutral, policy, temperror, permerror) vouches for
// nothing. When it does not pass, the reason says what was found.
//
// Alignment is DMARC's relaxed alignment simplified: the signing domain
// is the From domain, or a parent of it with at least two labels (a
// signature by example.com vouches for mods.example.com; one by
// mods.example.com does not vouch for example.com, nor does one by a
// sibling). Without the public suffix list this may refuse a relaxed
// alignment that DMARC accepts, and accepts a signature by a public
// suffix of two labels (co.uk for mods.example.co.uk), which only that
// suffix's registry could make.
func AuthPass(m *Message, authservID string) (bool, string) {
	if authservID == "" || m.From == nil {
		return false, "no trusted Authentication-Results server is configured"
	}
	fromDomain := addrDomain(m.From.Addr)
	if fromDomain == "" {
		return false, "the From address has no domain"
	}
	// The receiving server writes its field above what the message
	// already had: only the topmost field of the trusted id is its own,
	// and a sender can write more below it. A fail in any of them still
	// refuses, as it does without a trusted id.
	var (
		seen   []string
		more   int
		passed bool
		first  = true
	)
	for _, v := range m.Header["Authentication-Results"] {
		id, results := readAuthResults(v)
		if !strings.EqualFold(id, authservID) {
			continue
		}
		for _, r := range results {
			switch r.method {
			case "dkim", "dmarc":
			default:
				continue
			}
			if r.value == authres.ResultFail {
				return false, fmt.Sprintf("Authentication-Results from %s: %s", authservID, r)
			}
			if !first {
				continue
			}
			if len(seen) < maxResultsShown {
				seen = append(seen, r.String())
			} else {
				more++
			}
			if r.value != authres.ResultPass {
				continue
			}
			switch {
			case r.method == "dkim" && dkimAligned(normDomain(r.domain), fromDomain):
				passed = true
			case r.method == "dmarc" && normDomain(r.domain) == fromDomain:
				passed = true
			}
		}
		first = false
	}
	if passed {
		return true, ""
	}
	if len(seen) == 0 {
		return false, fmt.Sprintf("no Authentication-Results from %s says dkim or dmarc passed for %s", authservID, fromDomain)
	}
	if more > 0 {
		seen = append(seen, fmt.Sprintf("and %d more", more))
	}
	return false, fmt.Sprintf("Authentication-Results from %s vouch for no sender of %s (%s)", authservID, fromDomain, strings.Join(seen, ", "))
}

// maxResultsShown bounds the results a refusal quotes: a sender can write
// any number.
const maxResultsShown = 5

// authResult is one method's result in an Authentication-Results field.
type authResult struct {
	method string              // "dkim", "spf", "dmarc", …, lower case
	value  authres.ResultValue // lower case
	domain string              // dkim's header.d, dmarc's header.from, spf's smtp.mailfrom
}

func (r authResult) String() string {
	s := r.method + "=" + string(r.value)
	if r.domain != "" {
		s += " " + r.domain
	}
	return s
}

// readAuthResults parses one Authentication-Results field with go-msgauth's
// RFC 8601 parser, after removing comments (a ";" inside a comment, as in
// "dkim=pass (2048-bit key; secure)", would otherwise split a result).
// When the field as a whole does not parse, each result is parsed on its
// own and the unreadable ones are left out, so that one odd result does
// not hide the others.
func readAuthResults(v string) (id string, out []authResult) {
	v = spacedEquals.ReplaceAllString(stripComments(v), "=")
	id, results, err := authres.Parse(v)
	if err != nil {
		head, rest, _ := strings.Cut(v, ";")
		id = ""
		if f := strings.Fields(head); len(f) > 0 {
			id = f[0]
		}
		results = nil
		for _, part := range strings.Split(rest, ";") {
			if _, rs, err := authres.Parse(id + ";" + part); err == nil {
				results = append(results, rs...)
			}
		}
	}
	for _, r := range results {
		switch r := r.(type) {
		case *authres.DKIMResult:
			out = append(out, authResult{method: "dkim", value: r.Value, domain: r.Domain})
		case *authres.DMARCResult:
			out = append(out, authResult{method: "dmarc", value: r.Value, domain: r.From})
		case *authres.SPFResult:
			out = append(out, authResult{method: "spf", value: r.Value, domain: r.From})
		case *authres.GenericResult:
			out = append(out, authResult{method: strings.ToLower(r.Method), value: r.Value})
		}
	}
	for i := range out {
		out[i].value = authres.ResultValue(strings.ToLower(string(out[i].value)))
	}
	return id, out
}

// spacedEquals is "=" with the folding white space RFC 8601 allows
// around it, which go-msgauth's parser does not.
var spacedEquals = regexp.MustCompile(`[ \t\r\n]*=[ \t\r\n]*`)

// normDomain lower-cases a domain, without quotes, a trailing dot, or a
// local part ("header.from" and "smtp.mailfrom" may name an address).
func normDomain(d string) string {
	d = strings.Trim(strings.TrimSpace(d), `"`)
	if i := strings.LastIndexByte(d, '@'); i >= 0 {
		d = d[i+1:]
	}
	return strings.TrimSuffix(strings.ToLower(d), ".")
}

func addrDomain(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return ""
	}
	return normDomain(addr[i+1:])
}

// dkimAligned: the signing domain d is the From domain, or a parent of it
// that has at least two labels.
func dkimAligned(d, from string) bool {
	if d == "" || from == "" {
		return false
	}
	if d == from {
		return true
	}
	return strings.Contains(d, ".") && strings.HasSuffix(from, "."+d)
}
