package mail

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
)

// dkimKey is a signing key and the TXT record that publishes it.
type dkimKey struct {
	priv crypto.Signer
	txt  string
}

func newDKIMKey(t testing.TB) dkimKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{7}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	return dkimKey{priv: priv, txt: "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)}
}

// signDKIM signs raw for domain with selector "s1".
func signDKIM(t testing.TB, k dkimKey, domain string, raw []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := dkim.Sign(&out, bytes.NewReader(raw), &dkim.SignOptions{Domain: domain, Selector: "s1", Signer: k.priv}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// zone answers TXT lookups from a map; a name mapped to nil is a
// temporary DNS failure.
func zone(records map[string][]string) LookupTXT {
	return func(_ context.Context, name string) ([]string, error) {
		recs, ok := records[name]
		if !ok {
			return nil, errors.New("no such name")
		}
		if recs == nil {
			return nil, &tempDNSError{}
		}
		return recs, nil
	}
}

type tempDNSError struct{}

func (*tempDNSError) Error() string   { return "timeout" }
func (*tempDNSError) Temporary() bool { return true }
func (*tempDNSError) Timeout() bool   { return true }

func TestVerifyDKIM(t *testing.T) {
	k := newDKIMKey(t)
	raw := []byte("From: Alice <alice@mods.example>\r\nTo: moderator+d-x@forum.example\r\nSubject: Re: digest\r\nMessage-ID: <a1@mods.example>\r\n\r\napprove 1\r\n")
	dns := zone(map[string][]string{"s1._domainkey.mods.example": {k.txt}, "s1._domainkey.evil.example": {k.txt}, "s1._domainkey.slow.example": nil})
	signed := signDKIM(t, k, "mods.example", raw)
	tests := []struct {
		name string
		raw  []byte
		pass bool
		temp bool
		why  string
	}{
		{"signed by the From domain", signed, true, false, ""},
		{"signed by the parent of the From domain", signDKIM(t, k, "mods.example", bytes.Replace(raw, []byte("@mods.example>\r\nTo"), []byte("@eu.mods.example>\r\nTo"), 1)), true, false, ""},
		{"signed by another domain", signDKIM(t, k, "evil.example", raw), false, false, "pass for evil.example"},
		{"body changed after signing", bytes.Replace(signed, []byte("approve 1"), []byte("approve all"), 1), false, false, "fail for mods.example"},
		{"From changed after signing", bytes.Replace(signed, []byte("From: Alice <alice@"), []byte("From: Alice <ALICE@"), 1), false, false, "fail"},
		{"not signed", raw, false, false, "no DKIM signature"},
		{"key not published", signDKIM(t, newDKIMKey(t), "other.example", raw), false, false, "fail"},
		{"DNS temporarily down", signDKIM(t, k, "slow.example", raw), false, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from := "alice@mods.example"
			if bytes.Contains(tt.raw, []byte("@eu.mods.example")) {
				from = "alice@eu.mods.example"
			}
			pass, why, err := VerifyDKIM(context.Background(), tt.raw, from, dns)
			if pass != tt.pass || (err != nil) != tt.temp || !strings.Contains(why, tt.why) {
				t.Errorf("VerifyDKIM = %v %q %v, want %v, temporary %v, %q", pass, why, err, tt.pass, tt.temp, tt.why)
			}
		})
	}
}
