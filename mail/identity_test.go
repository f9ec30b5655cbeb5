package mail

import (
	"strings"
	"testing"
)

func TestAddressKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"carol@example.net", "carol@example.net"},
		{"cArol@Example.NET", "carol@example.net"},
		{"CAROL@EXAMPLE.NET", "carol@example.net"},
		{"carol+x@example.net", "carol@example.net"},
		{"Carol+Comments+2@example.net", "carol@example.net"},
		{"  carol@example.net. ", "carol@example.net"},
		{"c.a.r.o.l@gmail.com", "carol@gmail.com"},
		{"Carol.Smith+news@GoogleMail.com", "carolsmith@gmail.com"},
		{"c.arol@example.net", "c.arol@example.net"}, // dots matter elsewhere
		{"+x@example.net", "+x@example.net"},         // no base: kept whole
		{"not-an-address", "not-an-address"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := AddressKey(tt.in); got != tt.want {
			t.Errorf("AddressKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSameAddress(t *testing.T) {
	for _, v := range []string{"cArol@example.net", "CAROL@example.net", "carol+x@example.net", "carol+@EXAMPLE.net"} {
		if !SameAddress("carol@example.net", v) {
			t.Errorf("SameAddress(carol@example.net, %s) = false", v)
		}
	}
	for _, v := range []string{"carol@example.org", "caro1@example.net", "", "carolx@example.net"} {
		if SameAddress("carol@example.net", v) {
			t.Errorf("SameAddress(carol@example.net, %q) = true", v)
		}
	}
	if SameAddress("", "") {
		t.Error(`SameAddress("", "") = true`)
	}
}

// AddressKey is a fixed point (a key's key is itself) and SameAddress
// agrees with it, whatever the input: an identity that drifted on a
// second pass would let variants of one address count as two.
func FuzzAddressKey(f *testing.F) {
	for _, s := range []string{"cArol+x@Example.NET", "c.a.r.o.l@GoogleMail.com", "+@x", "a@b@c", "@", "", " x+y+z@d. "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := AddressKey(s)
		if AddressKey(k) != k {
			t.Errorf("AddressKey(%q) = %q, but AddressKey(%q) = %q", s, k, k, AddressKey(k))
		}
		if strings.TrimSpace(s) != "" && !SameAddress(s, k) {
			t.Errorf("SameAddress(%q, its key %q) = false", s, k)
		}
	})
}
