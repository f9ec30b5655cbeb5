package mail

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// failedRecipients is the addresses of m's DeliveryFailures.
func failedRecipients(m *Message) []string {
	var out []string
	for _, f := range DeliveryFailures(m) {
		out = append(out, f.Recipient)
	}
	return out
}

func TestDeliveryFailures(t *testing.T) {
	raw, err := os.ReadFile("testdata/inbound/26-bounce-rfc3464.eml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(strings.NewReader(string(raw)), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := failedRecipients(m)
	if len(got) == 0 {
		t.Fatalf("no failed recipient in the bounce; delivery status %q", m.DeliveryStatus)
	}
	// The returned header names the message the report is about.
	if m.ReturnedMessageID != "notice.1043.x7y8z9@modbot.forum.example" {
		t.Errorf("returned Message-ID %q", m.ReturnedMessageID)
	}
	tests := []struct {
		name, status string
		header       []string
		want         []string
	}{
		{"failed and delayed", "Reporting-MTA: dns; mx.example\n\nFinal-Recipient: rfc822; Carol@People.Example\nAction: failed\nStatus: 5.1.1\n\nFinal-Recipient: rfc822; dave@people.example\nAction: delayed\nStatus: 4.4.1\n", nil, []string{"carol@people.example"}},
		{"original recipient only", "Reporting-MTA: dns; mx\n\nOriginal-Recipient: rfc822;<erin@people.example>\nAction: failed (bad mailbox)\n", nil, []string{"erin@people.example"}},
		// Anyone can write a header: it alone names no failure.
		{"exim header alone", "", []string{"frank@people.example, grace@people.example"}, nil},
		{"exim header beside a report", "Reporting-MTA: dns; mx\n\nFinal-Recipient: rfc822; x@y.example\nAction: failed\n", []string{"frank@people.example"}, []string{"x@y.example"}},
		{"none", "Reporting-MTA: dns; mx\n\nFinal-Recipient: rfc822; x@y.example\nAction: delivered\n", nil, nil},
		{"delayed with a 5.x.x status", "Reporting-MTA: dns; mx\n\nFinal-Recipient: rfc822; x@y.example\nAction: delayed\nStatus: 5.0.0\n", nil, nil},
		{"no action, permanent status", "Reporting-MTA: dns; mx\n\nFinal-Recipient: rfc822; x@y.example\nStatus: 5.2.2\n", nil, []string{"x@y.example"}},
		{"no action, temporary status", "Reporting-MTA: dns; mx\n\nFinal-Recipient: rfc822; x@y.example\nStatus: 4.2.2\n", nil, nil},
		{"given up after retries", "Reporting-MTA: dns; mx\n\nFinal-Recipient: rfc822; x@y.example\nAction: failed\nStatus: 4.4.1\n", nil, []string{"x@y.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &Message{DeliveryStatus: tt.status, Header: map[string][]string{}}
			if tt.header != nil {
				m.Header["X-Failed-Recipients"] = tt.header
			}
			if got := failedRecipients(m); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestReturnedMessageID reads which message a report returns, from its
// headers part or its attached message, and never from a message that is
// not a report.
func TestReturnedMessageID(t *testing.T) {
	report := func(part string) string {
		return "From: MAILER-DAEMON@mx.example\nTo: moderator@forum.example\nMessage-ID: <own@mx.example>\nMIME-Version: 1.0\n" +
			"Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: text/plain\n\nfailed\n" +
			"--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\nFinal-Recipient: rfc822; c@p.example\nAction: failed\n" + part + "--b--\n"
	}
	tests := []struct{ name, raw, want string }{
		{"rfc822-headers", report("--b\nContent-Type: text/rfc822-headers\n\nFrom: x@forum.example\nMessage-ID: <n.1@modbot.forum.example>\n"), "n.1@modbot.forum.example"},
		{"rfc822-headers without a blank line", report("--b\nContent-Type: text/rfc822-headers\n\nMessage-ID: <n.2@modbot.forum.example>"), "n.2@modbot.forum.example"},
		{"attached message", report("--b\nContent-Type: message/rfc822\n\nFrom: x@forum.example\nMessage-ID: <n.3@modbot.forum.example>\n\nbody\n"), "n.3@modbot.forum.example"},
		{"nothing returned", report(""), ""},
		{"not a report", "From: a@b.example\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhi\n" +
			"--b\nContent-Type: message/rfc822\n\nMessage-ID: <n.4@modbot.forum.example>\n\nbody\n--b--\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(strings.NewReader(tt.raw), nil)
			if err != nil {
				t.Fatal(err)
			}
			if m.ReturnedMessageID != tt.want {
				t.Errorf("returned Message-ID %q, want %q", m.ReturnedMessageID, tt.want)
			}
		})
	}
}
