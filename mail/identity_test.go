package mail

import "testing"

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
