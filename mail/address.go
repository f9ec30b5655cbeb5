package mail

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"mime"
	netmail "net/mail"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message"
)

// This file holds what addresses and message identifiers need on both
// sides: reading them from untrusted headers and checking them before
// they go into a header modbot writes.

// headerDecoder decodes RFC 2047 encoded-words. An encoded-word in a
// charset nobody knows keeps its bytes undecoded; the charset is
// remembered so that Parse can warn about it.
type headerDecoder struct {
	unknown []string
}

func (d *headerDecoder) wordDecoder() *mime.WordDecoder {
	return &mime.WordDecoder{CharsetReader: d.charsetReader}
}

func (d *headerDecoder) charsetReader(charset string, in io.Reader) (io.Reader, error) {
	charset = strings.ToLower(charset)
	switch charset {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return in, nil
	}
	if message.CharsetReader != nil {
		if r, err := message.CharsetReader(charset, in); err == nil && r != nil {
			return r, nil
		}
	}
	for _, c := range d.unknown {
		if c == charset {
			return in, nil
		}
	}
	d.unknown = append(d.unknown, charset)
	return in, nil
}

// decode returns s with its encoded-words decoded. The result is valid
// UTF-8 (bytes that are not are read as Latin-1) and holds no control
// characters.
func (d *headerDecoder) decode(s string) string {
	if strings.Contains(s, "=?") {
		if dec, err := d.wordDecoder().DecodeHeader(s); err == nil {
			s = dec
		}
	}
	s, _ = toUTF8(s)
	return cleanText(s)
}

// toUTF8 returns s unchanged if it is valid UTF-8, else s read as
// Latin-1; latin1 reports the second case.
func toUTF8(s string) (out string, latin1 bool) {
	if utf8.ValidString(s) {
		return s, false
	}
	var b strings.Builder
	b.Grow(len(s) * 2)
	for i := 0; i < len(s); i++ {
		b.WriteRune(rune(s[i]))
	}
	return b.String(), true
}

// cleanText replaces control characters, including CR, LF and Unicode
// line separators, with spaces and trims the result. Everything modbot
// reads from a header goes through it, so that no value read from one
// message can start a new header line in another.
func cleanText(s string) string {
	if strings.IndexFunc(s, isBreaking) < 0 {
		return strings.TrimSpace(s)
	}
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if isBreaking(r) {
			return ' '
		}
		return r
	}, s))
}

func isBreaking(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
}

// parseAddressList reads an address list leniently: when the whole list
// does not parse, each comma-separated element is tried on its own, and
// an element that still fails is dropped. The error describes the first
// element that was dropped.
func parseAddressList(v string, d *headerDecoder) ([]Address, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	p := netmail.AddressParser{WordDecoder: d.wordDecoder()}
	if list, err := p.ParseList(v); err == nil {
		return convertAddresses(list, d)
	}
	var (
		out      []Address
		firstErr error
	)
	for _, elem := range splitList(v) {
		if strings.TrimSpace(elem) == "" {
			continue
		}
		a, err := p.Parse(elem)
		if err != nil {
			// net/mail refuses comments in some places where they occur.
			if b, err2 := p.Parse(stripComments(elem)); err2 == nil {
				a, err = b, nil
			}
		}
		if err != nil {
			if addr, name, ok := angleAddr(elem); ok {
				a, err = &netmail.Address{Name: name, Address: addr}, nil
			}
		}
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("%q: %w", clip(elem, 60), err)
			}
			continue
		}
		conv, err := convertAddresses([]*netmail.Address{a}, d)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		out = append(out, conv...)
	}
	return out, firstErr
}

func convertAddresses(list []*netmail.Address, d *headerDecoder) ([]Address, error) {
	var (
		out      []Address
		firstErr error
	)
	for _, a := range list {
		local, domain, ok := splitAddr(a.Address)
		if !ok || strings.IndexFunc(a.Address, isBreaking) >= 0 {
			if firstErr == nil {
				firstErr = fmt.Errorf("invalid address %q", clip(a.Address, 60))
			}
			continue
		}
		name := a.Name
		// Many clients put encoded-words inside quotes, which RFC 2047
		// forbids and net/mail leaves undecoded; readers decode them anyway.
		if strings.Contains(name, "=?") {
			name = d.decode(name)
		}
		name, _ = toUTF8(name)
		out = append(out, Address{
			Name: cleanText(name),
			Addr: local + "@" + strings.ToLower(domain),
		})
	}
	return out, firstErr
}

// splitList splits an address list at commas that are outside quotes,
// comments and angle brackets.
func splitList(v string) []string {
	var (
		out          []string
		start        int
		inQuote      bool
		depth, angle int
	)
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && (inQuote || depth > 0):
			i++
		case c == '"' && depth == 0:
			inQuote = !inQuote
		case inQuote:
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0:
		case c == '<':
			angle++
		case c == '>' && angle > 0:
			angle--
		case c == ',' && angle == 0:
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	return append(out, v[start:])
}

// stripComments removes (comments) outside quoted strings.
func stripComments(v string) string {
	var (
		b       strings.Builder
		depth   int
		inQuote bool
	)
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' && i+1 < len(v) && (inQuote || depth > 0):
			if depth == 0 {
				b.WriteByte(c)
				b.WriteByte(v[i+1])
			}
			i++
			continue
		case c == '"' && depth == 0:
			inQuote = !inQuote
		case inQuote:
		case c == '(':
			depth++
			continue
		case c == ')' && depth > 0:
			if depth--; depth == 0 {
				b.WriteByte(' ')
			}
			continue
		}
		if depth == 0 {
			b.WriteByte(c)
		}
	}
	return b.String()
}

var angleAddrRE = regexp.MustCompile(`<([^<>\s@]+@[^<>\s@]+)>\s*$`)

// angleAddr finds "<local@domain>" at the end of an element net/mail
// rejected, e.g. because of an unquoted special in the display name.
func angleAddr(elem string) (addr, name string, ok bool) {
	m := angleAddrRE.FindStringSubmatchIndex(elem)
	if m == nil {
		return "", "", false
	}
	name = strings.Trim(strings.TrimSpace(elem[:m[0]]), `"`)
	return elem[m[2]:m[3]], name, true
}

// splitAddr splits an addr-spec at its last "@".
func splitAddr(addr string) (local, domain string, ok bool) {
	i := strings.LastIndexByte(addr, '@')
	if i <= 0 || i == len(addr)-1 {
		return "", "", false
	}
	return addr[:i], addr[i+1:], true
}

// errBadAddress is wrapped by the errors checkAddr returns.
var errBadAddress = errors.New("invalid address")

// checkAddr reports whether addr is safe and plain enough to write into a
// header: local@domain with no whitespace, control characters, quotes or
// the specials that would end or split an address.
func checkAddr(addr string) error {
	local, domain, ok := splitAddr(addr)
	if !ok || strings.Count(addr, "@") != 1 {
		return fmt.Errorf("%w %q: want local@domain", errBadAddress, clip(addr, 80))
	}
	for _, r := range addr {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.IsSpace(r) || strings.ContainsRune(`"(),:;<>[\]`, r) {
			return fmt.Errorf("%w %q: contains %q", errBadAddress, clip(addr, 80), r)
		}
	}
	if strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") ||
		strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return fmt.Errorf("%w %q: misplaced dot", errBadAddress, clip(addr, 80))
	}
	return nil
}

// validFrom reports whether a parsed address can be answered at all.
func validFrom(a *Address) bool {
	if a == nil {
		return false
	}
	_, _, ok := splitAddr(a.Addr)
	return ok
}

var msgIDRE = regexp.MustCompile(`<([^<>\s]+)>`)

// parseMsgIDs reads the message identifiers of a Message-ID, In-Reply-To
// or References field without angle brackets. It is lenient: identifiers
// without brackets, without "@" or with comments around them are kept
// as long as they are one word.
func parseMsgIDs(v string) []string {
	var ids []string
	if strings.ContainsAny(v, "<>") {
		for _, s := range msgIDRE.FindAllStringSubmatch(v, -1) {
			ids = append(ids, s[1])
		}
	} else {
		for _, f := range strings.FieldsFunc(v, func(r rune) bool { return unicode.IsSpace(r) || r == ',' }) {
			if strings.ContainsAny(f, "()") {
				continue
			}
			ids = append(ids, f)
		}
	}
	out := ids[:0]
	for _, id := range ids {
		id, _ = toUTF8(id)
		if id = cleanText(id); id != "" && !strings.ContainsRune(id, ' ') {
			out = append(out, id)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// ownIDHost is the left-most label of the host part of every Message-ID
// modbot writes.
const ownIDHost = "modbot."

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewMessageID returns a new message identifier for mail modbot sends,
// without angle brackets: kind.<random>@modbot.<domain>. kind says what
// the message is ("digest", "notice.1042"); characters other than
// letters, digits, dots and hyphens become hyphens.
func NewMessageID(kind, domain string) string {
	var b [15]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms.
		panic(fmt.Sprintf("mail: read random bytes: %v", err))
	}
	clean := func(s, fallback string) string {
		s = strings.Map(func(r rune) rune {
			if r < utf8.RuneSelf && (r == '.' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return r
			}
			return '-'
		}, s)
		s = strings.Trim(s, ".")
		if s == "" {
			return fallback
		}
		return s
	}
	return clean(kind, "msg") + "." + idEncoding.EncodeToString(b[:]) + "@" + ownIDHost + strings.ToLower(clean(domain, "invalid"))
}

// IsOwnMessageID reports whether id (with or without angle brackets) has
// the shape of an identifier NewMessageID made for domain. An empty
// domain accepts any domain. Anyone can write such an identifier into
// In-Reply-To: it says where a message claims to belong, not who sent it.
func IsOwnMessageID(id, domain string) bool {
	id = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(id), "<"), ">")
	left, host, ok := splitAddr(id)
	if !ok || left == "" {
		return false
	}
	host = strings.ToLower(host)
	if !strings.HasPrefix(host, ownIDHost) || len(host) == len(ownIDHost) {
		return false
	}
	return domain == "" || host[len(ownIDHost):] == strings.ToLower(domain)
}

// clip shortens s for an error message or warning, with control
// characters replaced.
func clip(s string, n int) string {
	s, _ = toUTF8(s)
	s = cleanText(s)
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
