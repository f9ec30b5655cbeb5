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
		{"only dkim, spf and dmarc are read", "", []string{"mx.forum.example; iprev=fail policy.iprev=192.0.2.1; arc=fail; auth=fail"}, ""},
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

// A moderator's reply is believed only when the trusted server says an
// aligned dkim or dmarc passed; a pass for another domain, or any result
// short of pass, vouches for nothing.
func TestAuthPass(t *testing.T) {
	const mx = "mx.forum.example"
	tests := []struct {
		name, from string
		values     []string
		want       bool
	}{
		{"dkim pass aligned", "alice@mods.example", []string{"mx.forum.example; dkim=pass header.d=mods.example"}, true},
		{"dkim pass, domain case and trailing dot", "alice@Mods.Example", []string{"MX.forum.example; DKIM=Pass header.d=MODS.example."}, true},
		{"dkim pass of the parent domain", "alice@eu.mods.example", []string{"mx.forum.example; dkim=pass header.d=mods.example"}, true},
		{"dmarc pass aligned", "alice@mods.example", []string{"mx.forum.example; spf=none; dkim=none; dmarc=pass (p=none) header.from=mods.example"}, true},
		{"comment with a semicolon", "alice@mods.example", []string{"mx.forum.example 1; dkim=pass (2048-bit key; secure) header.d=mods.example header.s=s1"}, true},
		{"spaces around =", "alice@mods.example", []string{"mx.forum.example;\r\n\tdkim = pass header.d = mods.example"}, true},
		{"dkim pass of another domain", "alice@mods.example", []string{"mx.forum.example; dkim=pass header.d=evil.example"}, false},
		{"dkim pass of a look-alike suffix", "alice@mods.example", []string{"mx.forum.example; dkim=pass header.d=ods.example"}, false},
		{"dkim pass of a subdomain does not vouch for the parent", "alice@mods.example", []string{"mx.forum.example; dkim=pass header.d=evil.mods.example"}, false},
		{"dkim pass of a bare TLD", "alice@mods.example", []string{"mx.forum.example; dkim=pass header.d=example"}, false},
		{"dkim pass without header.d", "alice@mods.example", []string{"mx.forum.example; dkim=pass"}, false},
		{"dmarc pass of another domain", "alice@mods.example", []string{"mx.forum.example; dmarc=pass header.from=evil.example"}, false},
		{"dkim permerror", "alice@mods.example", []string{"mx.forum.example; dkim=permerror header.d=mods.example"}, false},
		{"dkim temperror", "alice@mods.example", []string{"mx.forum.example; dkim=temperror header.d=mods.example"}, false},
		{"dkim none", "alice@mods.example", []string{"mx.forum.example; dkim=none"}, false},
		{"dkim neutral", "alice@mods.example", []string{"mx.forum.example; dkim=neutral header.d=mods.example"}, false},
		{"dkim policy", "alice@mods.example", []string{"mx.forum.example; dkim=policy header.d=mods.example"}, false},
		{"dkim pass hidden in a comment", "alice@mods.example", []string{"mx.forum.example; dkim=none (dkim=pass header.d=mods.example)"}, false},
		{"spf pass alone", "alice@mods.example", []string{"mx.forum.example; spf=pass smtp.mailfrom=mods.example"}, false},
		{"pass from an untrusted server", "alice@mods.example", []string{"evil.example; dkim=pass header.d=mods.example; dmarc=pass header.from=mods.example"}, false},
		{"trusted name inside another's field", "alice@mods.example", []string{"evil.example; x=mx.forum.example; dkim=pass header.d=mods.example"}, false},
		// A sender can write fields with the trusted id below the one
		// the receiving server adds on top.
		{"forged pass below the server's fail", "alice@mods.example", []string{
			"mx.forum.example; dkim=fail header.d=mods.example; dmarc=fail header.from=mods.example",
			"mx.forum.example; dkim=pass header.d=mods.example"}, false},
		{"forged pass below the server's none", "alice@mods.example", []string{
			"mx.forum.example; dkim=none; dmarc=none header.from=mods.example",
			"mx.forum.example; dkim=pass header.d=mods.example"}, false},
		{"server's pass above other fields", "alice@mods.example", []string{
			"mx.forum.example; dkim=pass header.d=mods.example",
			"mx.forum.example; dkim=none"}, true},
		{"no field", "alice@mods.example", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &Message{From: &Address{Addr: tt.from}, Header: map[string][]string{}}
			if tt.values != nil {
				m.Header["Authentication-Results"] = tt.values
			}
			got, why := AuthPass(m, mx)
			if got != tt.want || (!got && why == "") {
				t.Errorf("AuthPass = %v %q, want %v", got, why, tt.want)
			}
		})
	}
}

// A fail the receiving server wrote is found whatever else the field
// holds: a comment with a semicolon, or a result the parser cannot read.
func TestAuthFailureReadsEveryResult(t *testing.T) {
	for _, v := range []string{
		"mx.forum.example; dkim=pass (a; b) header.d=x.example; dmarc=fail header.from=mods.example",
		"mx.forum.example; ??? ; dmarc=fail header.from=mods.example",
		"mx.forum.example; dmarc = fail header.from=mods.example",
	} {
		m := &Message{Header: map[string][]string{"Authentication-Results": {v}}}
		if got := AuthFailure(m, "mx.forum.example"); !strings.Contains(got, "dmarc=fail") {
			t.Errorf("%q: AuthFailure = %q", v, got)
		}
	}
}

// The Authentication-Results reader never panics, and a pass it reports
// is always one the field's text names.
func FuzzAuthResults(f *testing.F) {
	for _, s := range []string{
		"mx.forum.example; dkim=pass header.d=mods.example",
		"mx.forum.example 1; dkim=pass (2048-bit key; \"secure\") header.d=mods.example; dmarc=fail header.from=x",
		"mx; none",
		"(c) mx.forum.example (d\\)e) ; spf = pass smtp.mailfrom=\"a;b\"@x.example",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		m := &Message{From: &Address{Addr: "alice@mods.example"}, Header: map[string][]string{"Authentication-Results": {v}}}
		AuthFailure(m, "")
		id, _ := readAuthResults(v)
		if ok, _ := AuthPass(m, id); ok && !strings.Contains(strings.ToLower(v), "pass") {
			t.Errorf("%q passes without saying pass", v)
		}
	})
}
