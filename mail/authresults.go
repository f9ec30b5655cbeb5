package mail

import (
	"fmt"
	"strings"
)

// AuthFailure reads the Authentication-Results header fields (RFC 8601)
// and returns why the message failed DKIM, SPF or DMARC according to the
// server named authservID, or "" when no such server says it failed. With
// authservID "" every such field is read: a forger can add a field that
// says "pass" but cannot remove the receiving server's "fail", so only a
// refusal can come of believing them all.
func AuthFailure(m *Message, authservID string) string {
	for _, v := range m.Header["Authentication-Results"] {
		id, results, _ := strings.Cut(v, ";")
		if authservID != "" {
			host := strings.Fields(id)
			if len(host) == 0 || !strings.EqualFold(host[0], authservID) {
				continue
			}
		}
		for _, res := range strings.Split(results, ";") {
			method, rest, ok := strings.Cut(strings.TrimSpace(res), "=")
			if !ok {
				continue
			}
			method = strings.ToLower(strings.TrimSpace(method))
			result := strings.ToLower(strings.Fields(rest + " ")[0])
			switch method {
			case "dkim", "spf", "dmarc":
				// "softfail" (SPF's ~all) is a hint, not a verdict.
				if result == "fail" {
					return fmt.Sprintf("Authentication-Results from %s: %s=%s", strings.TrimSpace(id), method, result)
				}
			}
		}
	}
	return ""
}
