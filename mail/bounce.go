package mail

import (
	"net/textproto"
	"strings"
)

// FailedRecipients returns the addresses a bounce says could not be
// delivered to: per-recipient blocks of an RFC 3464 delivery-status part
// whose Action is "failed", and X-Failed-Recipients (Exim). Lower-cased,
// without duplicates. Delayed or relayed recipients are not failures.
func FailedRecipients(m *Message) []string {
	seen := map[string]bool{}
	var out []string
	add := func(a string) {
		a = strings.ToLower(strings.Trim(strings.TrimSpace(a), "<>"))
		if a != "" && strings.Contains(a, "@") && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	// The status is a header block for the message, then one per
	// recipient, separated by blank lines.
	blocks := strings.Split(strings.ReplaceAll(m.DeliveryStatus, "\r\n", "\n"), "\n\n")
	for _, b := range blocks {
		fields := map[string]string{}
		var key string
		for _, line := range strings.Split(b, "\n") {
			if line == "" {
				continue
			}
			if (line[0] == ' ' || line[0] == '\t') && key != "" {
				fields[key] += " " + strings.TrimSpace(line)
				continue
			}
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			key = textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(k))
			fields[key] = strings.TrimSpace(v)
		}
		if !strings.EqualFold(strings.Fields(fields["Action"] + " x")[0], "failed") {
			continue
		}
		rcpt := fields["Final-Recipient"]
		if rcpt == "" {
			rcpt = fields["Original-Recipient"]
		}
		// "rfc822; user@example.com"
		if _, addr, ok := strings.Cut(rcpt, ";"); ok {
			add(addr)
		}
	}
	for _, v := range m.Header["X-Failed-Recipients"] {
		for _, a := range strings.Split(v, ",") {
			add(a)
		}
	}
	return out
}
