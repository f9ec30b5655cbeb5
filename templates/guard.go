package templates

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// GuardedExcerpt is how many characters of a sender's text a notice to
// an unproven address quotes (see Notice.Guard).
const GuardedExcerpt = 200

// Guard makes n fit for an address that has not shown it is real (it
// has not answered a notice sent to it nor confirmed a subscription):
// anyone can put a stranger's address in From, and the notice must then
// carry nothing the sender chose as live text. The display names go
// (greeting, To header), the sender's subject is not echoed, and the
// sender's text is cut to a short excerpt with links defanged (see
// Defang), and hits keep their rule and explanation but not the
// evidence they quote. Templates say, with Guarded,
// why the text is short.
func (n *Notice) Guard() {
	n.Guarded = true
	n.AuthorName = ""
	n.CommenterName = ""
	n.Subject = ""
	n.Body = Defang(excerpt(n.Body, GuardedExcerpt))
	n.QuotedText = Defang(excerpt(n.QuotedText, GuardedExcerpt))
	for i := range n.Hits {
		h := &n.Hits[i]
		// The evidence quotes the sender (a display name, a link):
		// the rule and its explanation say enough.
		h.Evidence = ""
		h.Explanation = Defang(clip(160, h.Explanation))
		h.Start, h.End = 0, 0 // the offsets were into the whole text
	}
}

// excerpt is the start of s, at most n runes, cut at a space where one
// is near, with " […]" when something was left out.
func excerpt(s string, n int) string {
	s = strings.TrimSpace(s)
	// Only the first n+1 runes are looked at: the text may be megabytes.
	end, runes := 0, 0
	for end < len(s) && runes <= n {
		_, size := utf8.DecodeRuneInString(s[end:])
		end += size
		runes++
	}
	head := strings.ReplaceAll(s[:end], "\r\n", "\n")
	if end == len(s) && runes <= n {
		return head
	}
	r := []rune(head)
	if len(r) > n {
		r = r[:n]
	}
	cut := len(r)
	for i := len(r) - 1; i > n*3/4; i-- {
		if unicode.IsSpace(r[i]) {
			cut = i
			break
		}
	}
	return strings.TrimRightFunc(string(r[:cut]), unicode.IsSpace) + " […]"
}

var (
	// schemeRE finds a URL scheme: "https://", "ftp://", "mailto:".
	schemeRE = regexp.MustCompile(`(?i)(?:[a-z][a-z0-9+.\-]{0,15}://+|mailto:)`)
	// dottedQuadRE finds an IPv4 address, which has no letter after a dot.
	dottedQuadRE = regexp.MustCompile(`\b\d{1,3}(?:[.．。｡]\d{1,3}){3}\b`)
)

// Defang makes every link in s plain text that no mail client turns
// into a link: schemes are removed and each dot of a host name is
// written "[.]" ("example[.]com/login"), in every script's full stop.
// The text stays readable; nothing in it is clickable.
func Defang(s string) string {
	for schemeRE.MatchString(s) { // "mamailto:ilto:" leaves one behind
		s = schemeRE.ReplaceAllString(s, "")
	}
	for strings.Contains(s, "://") { // "://" with no scheme before it
		s = strings.ReplaceAll(s, "://", " ")
	}
	s = dottedQuadRE.ReplaceAllStringFunc(s, func(q string) string {
		var b strings.Builder
		for _, r := range q {
			if isDot(r) {
				b.WriteString("[.]")
			} else {
				b.WriteRune(r)
			}
		}
		return b.String()
	})
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if isDot(r) && i > 0 && i+1 < len(rs) && isAlnum(rs[i-1]) && unicode.IsLetter(rs[i+1]) {
			b.WriteString("[.]")
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isDot(r rune) bool { return r == '.' || r == '．' || r == '。' || r == '｡' }

func isAlnum(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) || r == '-' || r == '_' }
