package mail

import (
	"strings"
	"unicode"
)

// AddressKey is the one identity of a mail address: two addresses with
// the same key reach the same person, and every per-address limit,
// duplicate check, subscription, bounce mark and comparison of modbot
// uses it (SECURITY.md, the "Backscatter" threat). Without one notion, a
// commenter writing as cArol@, CAROL@ and carol+x@ counts as three
// senders and gets three answers.
//
// The key is the address trimmed and lower-cased (no mail system in use
// treats the local part's case as significant), with a "+tag" detail
// removed from the local part, and for Gmail, whose servers ignore dots
// in the local part, the dots removed too. A string that is not
// local@domain is only trimmed and lower-cased.
func AddressKey(addr string) string {
	addr = strings.ToLower(strings.TrimSpace(addr))
	local, domain, ok := splitAddr(addr)
	if !ok {
		return addr
	}
	// A trailing root dot, and any space a sloppy header left before it,
	// name the same domain.
	domain = strings.TrimRightFunc(domain, func(r rune) bool { return r == '.' || unicode.IsSpace(r) })
	local = strings.TrimSpace(local)
	if base, _, found := strings.Cut(local, "+"); found {
		if base = strings.TrimSpace(base); base != "" {
			local = base
		}
	}
	if domain == "gmail.com" || domain == "googlemail.com" {
		domain = "gmail.com"
		if l := strings.TrimSpace(strings.ReplaceAll(local, ".", "")); l != "" {
			local = l
		}
	}
	return local + "@" + domain
}

// SameAddress reports whether a and b are one identity (see AddressKey).
// Empty addresses are never the same as anything.
func SameAddress(a, b string) bool {
	if strings.TrimSpace(a) == "" || strings.TrimSpace(b) == "" {
		return false
	}
	return AddressKey(a) == AddressKey(b)
}
