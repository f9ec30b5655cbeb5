package mail

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestFailedRecipients(t *testing.T) {
	raw, err := os.ReadFile("testdata/inbound/26-bounce-rfc3464.eml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(strings.NewReader(string(raw)), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := FailedRecipients(m)
	if len(got) == 0 {
		t.Fatalf("no failed recipient in the bounce; delivery status %q", m.DeliveryStatus)
	}
	tests := []struct {
		name, status string
		header       []string
		want         []string
	}{
		{"failed and delayed", "Reporting-MTA: dns; mx.example\n\nFinal-Recipient: rfc822; Carol@People.Example\nAction: failed\nStatus: 5.1.1\n\nFinal-Recipient: rfc822; dave@people.example\nAction: delayed\nStatus: 4.4.1\n", nil, []string{"carol@people.example"}},
		{"original recipient only", "Reporting-MTA: dns; mx\n\nOriginal-Recipient: rfc822;<erin@people.example>\nAction: failed (bad mailbox)\n", nil, []string{"erin@people.example"}},
		{"exim header", "", []string{"frank@people.example, grace@people.example"}, []string{"frank@people.example", "grace@people.example"}},
		{"none", "Reporting-MTA: dns; mx\n\nFinal-Recipient: rfc822; x@y.example\nAction: delivered\n", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &Message{DeliveryStatus: tt.status, Header: map[string][]string{}}
			if tt.header != nil {
				m.Header["X-Failed-Recipients"] = tt.header
			}
			if got := FailedRecipients(m); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
