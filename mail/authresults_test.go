package mail

import (
	"strings"
	"testing"
)

func TestAuthFailure(t *testing.T) {
	tests := []struct {
		name, trusted string
		values        []string
		want          string
	}{
		{"none", "", nil, ""},
		{"pass", "", []string{"mx.forum.example; dkim=pass header.d=mods.example; spf=pass smtp.mailfrom=mods.example; dmarc=pass"}, ""},
		{"dkim fail", "", []string{"mx.forum.example; dkim=fail (bad signature) header.d=mods.example; spf=pass"}, "dkim=fail"},
		{"dmarc fail", "", []string{"mx.forum.example;\r\n dmarc=fail (p=reject) header.from=mods.example"}, "dmarc=fail"},
		{"spf softfail is a hint", "", []string{"mx.forum.example; spf=softfail smtp.mailfrom=mods.example"}, ""},
		{"untrusted server ignored", "mx.forum.example", []string{"evil.example; dkim=fail", "mx.forum.example; dkim=pass"}, ""},
		{"trusted server fails", "mx.forum.example", []string{"mx.forum.example 1; spf=fail smtp.mailfrom=x"}, "spf=fail"},
		{"a forged pass does not hide a fail", "", []string{"attacker.example; dkim=pass", "mx.forum.example; dkim=fail"}, "dkim=fail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &Message{Header: map[string][]string{}}
			if tt.values != nil {
				m.Header["Authentication-Results"] = tt.values
			}
			got := AuthFailure(m, tt.trusted)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("AuthFailure = %q, want %q", got, tt.want)
			}
		})
	}
}
