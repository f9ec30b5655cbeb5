package templates

import (
	"slices"
	"strings"
)

// Mailto is a mailto: URL (RFC 6068) that opens a reply to the digest's
// reply address with command as its body, for the one-tap links in the
// HTML part. Opening it changes nothing: the moderator still sends the
// mail, and can change it first.
func (d *Digest) Mailto(command string) string {
	return mailto(d.ReplyAddress, reSubject(d.Subject), command)
}

// HitRules lists the rules the item's prechecks hit, in order, once each.
func (it DigestItem) HitRules() []int {
	var rules []int
	for _, h := range it.Hits {
		rules = append(rules, h.Rule)
	}
	slices.Sort(rules)
	return slices.Compact(rules)
}

// mailto builds a mailto: URL. Everything but unreserved characters is
// percent-encoded in the subject and body: a space is %20, never "+",
// which some clients read as a space and others keep; line breaks are
// %0D%0A as RFC 6068 asks. The address keeps "@" and "+" (a plus address
// is the norm here) and encodes anything else outside the unreserved set.
func mailto(addr, subject, body string) string {
	var b strings.Builder
	b.WriteString("mailto:")
	b.WriteString(pctEncode(addr, "@+"))
	sep := "?"
	if subject != "" {
		b.WriteString(sep + "subject=" + pctEncode(subject, ""))
		sep = "&"
	}
	if body != "" {
		body = strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\n", "\r\n")
		b.WriteString(sep + "body=" + pctEncode(body, ""))
	}
	return b.String()
}

// pctEncode percent-encodes the UTF-8 bytes of s except unreserved
// characters (RFC 3986) and those in keep.
func pctEncode(s, keep string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
