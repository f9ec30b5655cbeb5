package mail

import (
	"net/textproto"
	"strings"
)

// Failure is one recipient that a delivery report (RFC 3464) says could
// not be delivered to, for good.
type Failure struct {
	Recipient string // lower-cased, without angle brackets
	Action    string // "failed", or "" when the block has no Action
	Status    string // e.g. "5.1.1"; may be empty
}

// DeliveryFailures returns the per-recipient blocks of m's
// delivery-status part that report a permanent failure: Action "failed",
// or, in a block without an Action, a 5.x.x Status. Delayed, delivered,
// relayed and expanded recipients are not failures. Header fields such
// as X-Failed-Recipients (Exim) are not read: anyone can write them, so
// they say nothing about mail modbot sent. Which message a report is
// about (its return path, its returned Message-ID) is for the caller to
// check. Each recipient appears once.
func DeliveryFailures(m *Message) []Failure {
	seen := map[string]bool{}
	var out []Failure
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
		action := strings.ToLower(strings.Fields(fields["Action"] + " x")[0])
		status := strings.Fields(fields["Status"] + " x")[0]
		switch {
		case action == "failed":
		case action == "x" && strings.HasPrefix(status, "5."):
			action = ""
		default:
			continue
		}
		if status == "x" {
			status = ""
		}
		rcpt := fields["Final-Recipient"]
		if rcpt == "" {
			rcpt = fields["Original-Recipient"]
		}
		// "rfc822; user@example.com"
		_, addr, ok := strings.Cut(rcpt, ";")
		if !ok {
			continue
		}
		addr = strings.ToLower(strings.Trim(strings.TrimSpace(addr), "<>"))
		if addr == "" || !strings.Contains(addr, "@") || seen[addr] {
			continue
		}
		seen[addr] = true
		out = append(out, Failure{Recipient: addr, Action: action, Status: status})
	}
	return out
}
