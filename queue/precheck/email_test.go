package precheck

import (
	"strings"
	"testing"
)

func TestEmail(t *testing.T) {
	tests := []struct {
		addr, want string // want: the start of the explanation; "" for no hit
	}{
		{"", ""},
		{"reader@gmail.com", ""},
		{"first.last+tag@mail.example.co.uk", ""},
		{"carol@people.example", ""}, // demos use .example
		{"ana@xn--80ak6aa92e.xn--p1ai", ""},
		{"josé@correo.es", ""},
		{"not an address", "not a valid e-mail address"},
		{"@gmail.com", "not a valid e-mail address"},
		{"bob@", "not a valid e-mail address"},
		{"bob@localhost", "not a valid e-mail address"},
		{"bob@gmail", "not a valid e-mail address"},
		{"bob@gmail.c0m", "not a valid e-mail address"},
		{"bob..x@gmail.com", "not a valid e-mail address"},
		{"Bob <bob@gmail.com>", "not a valid e-mail address"},
		{"bob@-gmail.com", "not a valid e-mail address"},
		{"bob@example.com", "placeholder domain (example.com)"},
		{"bob@EXAMPLE.ORG", "placeholder domain (example.org)"},
		{"bob@mail.invalid", "placeholder domain (mail.invalid)"},
		{"bob@x.test", "placeholder domain"},
		{"noreply@gmail.com", "placeholder address (noreply@…)"},
		{"No-Reply@company.com", "placeholder address (No-Reply@…)"},
		{"bob@mailinator.com", "disposable address (mailinator.com)"},
		{"bob@eu.mailinator.com", "disposable address (eu.mailinator.com)"},
		{"bob@notmailinator.com", ""},
	}
	for _, tt := range tests {
		hits := New(&Email{}).Run(&Input{Body: "hi", AuthorEmail: tt.addr})
		switch {
		case tt.want == "" && len(hits) > 0:
			t.Errorf("%q: hits %+v", tt.addr, hits)
		case tt.want == "":
		case len(hits) != 1 || !strings.HasPrefix(hits[0].Explanation, tt.want):
			t.Errorf("%q: hits %+v, want %q", tt.addr, hits, tt.want)
		case hits[0].Evidence != tt.addr || hits[0].Start != 0 || hits[0].End != 0 || hits[0].Rule != RuleEmail || hits[0].Severity != Flag:
			t.Errorf("%q: hit %+v", tt.addr, hits[0])
		}
	}
}

func TestEmailCustomLists(t *testing.T) {
	c := &Email{PlaceholderDomains: []string{".example"}, DisposableDomains: []string{"burner.test"}, PlaceholderLocals: []string{"nope"}}
	for addr, want := range map[string]bool{
		"carol@people.example": true, "bob@example.com": false, "x@burner.test": true, "nope@gmail.com": true, "noreply@gmail.com": false,
	} {
		if got := len(New(c).Run(&Input{AuthorEmail: addr})) == 1; got != want {
			t.Errorf("%q: hit %v, want %v", addr, got, want)
		}
	}
}
