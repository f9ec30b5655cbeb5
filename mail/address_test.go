package mail

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestParseAddressList(t *testing.T) {
	tests := []struct {
		in      string
		want    []Address
		wantErr bool
	}{
		{"Jane Doe <Jane@Example.ORG>", []Address{{Name: "Jane Doe", Addr: "Jane@example.org"}}, false},
		{`"Doe, Jane" <j@x.example>, b@y.example`, []Address{{Name: "Doe, Jane", Addr: "j@x.example"}, {Addr: "b@y.example"}}, false},
		{"undisclosed-recipients:;", nil, false},
		{"=?utf-8?q?Ren=C3=A9e?= <r@x.example>", []Address{{Name: "Renée", Addr: "r@x.example"}}, false},
		{`"=?utf-8?q?Ren=C3=A9e?=" <r@x.example>`, []Address{{Name: "Renée", Addr: "r@x.example"}}, false},
		{"=?utf-8?q?Eve=0D=0ABcc=3A_x=40y?= <e@x.example>", []Address{{Name: "Eve  Bcc: x@y", Addr: "e@x.example"}}, false},
		{"(comment) a@x.example (another)", []Address{{Addr: "a@x.example"}}, false},
		{"John Doe [work] <j@x.example>", []Address{{Name: "John Doe [work]", Addr: "j@x.example"}}, false},
		{"good@x.example, Eve, other@y.example", []Address{{Addr: "good@x.example"}, {Addr: "other@y.example"}}, true},
		{"Eve", nil, true},
		{"", nil, false},
	}
	for _, tt := range tests {
		got, err := parseAddressList(tt.in, &headerDecoder{})
		if !slices.Equal(got, tt.want) || (err != nil) != tt.wantErr {
			t.Errorf("parseAddressList(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseMsgIDs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"<a@b>", []string{"a@b"}},
		{" <a@b>\t<c@d> ", []string{"a@b", "c@d"}},
		{"<a@b> (comment) <c@d>", []string{"a@b", "c@d"}},
		{"a@b", []string{"a@b"}},
		{"a@b, c@d", []string{"a@b", "c@d"}},
		{"<>", nil},
		{"<no-at>", []string{"no-at"}},
		{"", nil},
	}
	for _, tt := range tests {
		if got := parseMsgIDs(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("parseMsgIDs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCheckAddr(t *testing.T) {
	for _, ok := range []string{"a@b.example", "moderator+d-Ab3dEf9h@forum.example", "o'neil@x.example", "jörg@x.example"} {
		if err := checkAddr(ok); err != nil {
			t.Errorf("checkAddr(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a", "@b", "a@", "a@b@c", "a b@c", "a@b\r\n", "a@b\x00", "<a@b>", "a,b@c", "a@b;c", `"a"@b`, ".a@b", "a..b@c", "a@b.", "a@\xff"} {
		if err := checkAddr(bad); err == nil {
			t.Errorf("checkAddr(%q) = nil, want an error", bad)
		}
	}
}

func TestCleanText(t *testing.T) {
	for in, want := range map[string]string{
		"  a\r\nb\tc\x00d\u2028e\u0085f ": "a  b c d e f",
		"plain":                           "plain",
		"ünïcode\u00a0space":              "ünïcode\u00a0space",
	} {
		if got := cleanText(in); got != want {
			t.Errorf("cleanText(%q) = %q, want %q", in, got, want)
		}
	}
	if got, latin1 := toUTF8("caf\xe9"); got != "café" || !latin1 {
		t.Errorf("toUTF8 = %q, %v", got, latin1)
	}
	if got := clip(strings.Repeat("é", 10), 5); got != "éé…" {
		t.Errorf("clip = %q", got)
	}
	if got := fmt.Sprint(truncateUTF8("aéb", 2)); got != "a" {
		t.Errorf("truncateUTF8 = %q", got)
	}
}
