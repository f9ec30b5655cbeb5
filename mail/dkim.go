package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-msgauth/dkim"
)

// LookupTXT returns the DNS TXT records of a name. VerifyDKIM takes one
// so that tests can answer for a domain they made up.
type LookupTXT func(ctx context.Context, name string) ([]string, error)

// maxDKIMSignatures is how many signatures of one message are checked: each
// costs a DNS lookup, and a sender chooses how many to add.
const maxDKIMSignatures = 5

// VerifyDKIM checks the DKIM signatures of raw itself, for a receiving
// server that adds no Authentication-Results. It passes when one signature
// verifies and its signing domain (d=) is aligned with the From domain as
// AuthPass has it. A signature with a body length limit (l=) never
// verifies (go-msgauth refuses it: text could be added after the signed
// part). why says why it did not pass; err is a temporary failure (DNS)
// when nothing passed, which decides nothing: try again later. lookup nil
// asks the system resolver.
func VerifyDKIM(ctx context.Context, raw []byte, from string, lookup LookupTXT) (pass bool, why string, err error) {
	fromDomain := addrDomain(from)
	if fromDomain == "" {
		return false, "the From address has no domain", nil
	}
	if lookup == nil {
		lookup = net.DefaultResolver.LookupTXT
	}
	opts := &dkim.VerifyOptions{
		MaxVerifications: maxDKIMSignatures,
		LookupTXT: func(name string) ([]string, error) {
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			return lookup(ctx, name)
		},
	}
	verifs, verr := dkim.VerifyWithOptions(bytes.NewReader(raw), opts)
	if verr != nil && !errors.Is(verr, dkim.ErrTooManySignatures) {
		return false, "DKIM: " + verr.Error(), nil
	}
	var seen []string
	var temp error
	for _, v := range verifs {
		d := normDomain(v.Domain)
		switch {
		case v.Err == nil && dkimAligned(d, fromDomain):
			return true, "", nil
		case v.Err == nil:
			seen = append(seen, "pass for "+d)
		case dkim.IsTempFail(v.Err):
			temp = fmt.Errorf("DKIM signature of %s: %w", d, v.Err)
			seen = append(seen, "temperror for "+d)
		default:
			seen = append(seen, fmt.Sprintf("fail for %s (%v)", d, v.Err))
		}
	}
	if temp != nil {
		return false, "", temp
	}
	if len(seen) == 0 {
		return false, "the message has no DKIM signature", nil
	}
	return false, fmt.Sprintf("no DKIM signature vouches for %s: %s", fromDomain, strings.Join(seen, "; ")), nil
}
