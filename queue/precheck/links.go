package precheck

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Links finds every link in a comment. A full http(s) link is a note
// (links take longer to approve); a link through a URL shortener, an
// obfuscated link ("hxxp://", "example[.]com", "example dot com") and a
// link without its scheme ("www.example.com", "example.com/path") are
// flagged, since the rule asks for the full link. Abbreviations ("e.g.",
// "U.S."), decimals and e-mail addresses are not links.
// The zero value uses the defaults.
type Links struct {
	Rule  int    // default RuleLinks
	Title string // default TitleLinks
	// Severity is for shortened, obfuscated and scheme-less links
	// (default Flag); PlainSeverity for full links (default Note).
	Severity      Severity
	PlainSeverity Severity
	// Shorteners are the hosts of URL shorteners (default
	// DefaultShorteners).
	Shorteners []string

	once       sync.Once
	shorteners map[string]bool
}

// DefaultShorteners are well-known URL shortening services.
var DefaultShorteners = []string{
	"bit.ly", "bitly.com", "bit.do", "tinyurl.com", "t.co", "goo.gl",
	"ow.ly", "is.gd", "v.gd", "buff.ly", "rebrand.ly", "cutt.ly",
	"shorturl.at", "tiny.cc", "rb.gy", "t.ly", "lnkd.in", "youtu.be",
	"amzn.to", "j.mp", "s.id", "bl.ink", "shorte.st", "adf.ly", "tr.im",
	"x.co", "db.tt", "fb.me", "qr.ae", "soo.gd", "ift.tt", "dlvr.it",
	"snip.ly", "clck.ru", "wp.me", "tiny.one", "short.io", "shorturl.com",
}

// strongTLDs are top-level domains that are neither English words nor
// common file extensions, so "name.tld" alone is taken for a link.
var strongTLDs = setOf("com", "net", "org", "gov", "edu", "mil", "info",
	"biz", "io", "uk", "ca", "au", "de", "fr", "eu", "nl", "ru", "cn", "jp",
	"nz", "ie", "tv", "ch", "se", "dk", "es", "cz", "ua", "br", "mx", "za", "xyz")

// weakTLDs count only with a path, a "www." or as a shortener's host.
var weakTLDs = setOf("int", "name", "pro", "mobi", "ai", "app", "dev",
	"online", "site", "tech", "blog", "news", "top", "club", "shop", "store",
	"live", "co", "me", "cc", "ly", "gl", "gd", "gy", "at", "to", "be", "is",
	"it", "in", "us", "no", "fi", "pt", "pl", "kr", "ar", "il", "tr", "gr",
	"hu", "ro", "ws", "su", "la", "fm", "am", "sh", "id", "nu", "tk", "gg",
	"link", "click")

// stopWords before a spelled-out " dot " make it prose ("the dot com era").
var stopWords = setOf("the", "a", "an", "of", "to", "and", "or", "is", "was",
	"in", "on", "at", "like", "that", "this", "with", "for", "from")

func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

const urlRunes = `[^\s<>"“”‘’«»]`

var (
	schemeURL = regexp.MustCompile(`(?i)\b(h(?:tt|xx|\*\*|\[tt\])ps?|ftp)(:|\[:\]|\(:\))//` + urlRunes + `+`)

	label = `[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?`
	// obfSep is a dot written so that it does not make a link.
	obfSep      = `(?:\[\.\]|\(\.\)|\{\.\}|\s?[\[({]dot[\])}]\s?|\s+dot\s+)`
	obfuscated  = regexp.MustCompile(`(?i)` + label + `(?:(?:\.|` + obfSep + `)` + label + `)+(?:/` + urlRunes + `*)?`)
	obfSepOnly  = regexp.MustCompile(`(?i)` + obfSep)
	proseDotSep = regexp.MustCompile(`(?i)^\s+dot\s+$`)
	plainHost   = regexp.MustCompile(`(?:` + label + `\.)+\p{L}{2,}(?::\d{1,5})?(?:[/?#]` + urlRunes + `*)?`)
)

// linkKind says how a link is written.
type linkKind uint8

const (
	linkFull       linkKind = iota // http(s) or ftp, written plainly
	linkObfuscated                 // "hxxp://", "example[.]com", "example dot com"
	linkSchemeless                 // "www.example.com", "example.com/path"
	// linkBare is a host alone whose top-level domain is also a common
	// word or file extension ("goo.gl", "do.it"): a link only if it is a
	// shortener's.
	linkBare
)

// link is a link found in a comment.
type link struct {
	start, end int
	kind       linkKind
	host       string // lower-cased; "" when obfuscated
}

// appendLinks appends the links of body to dst, in order.
func appendLinks(dst []link, body string) []link {
	// Each pass finds spans in increasing order that do not overlap each
	// other; a later pass skips what an earlier one found, so a link with
	// a scheme is not found again without it.
	n0 := len(dst)
	dst = appendSchemeLinks(dst, body)
	n1 := len(dst)
	taken := func(start, end int) bool {
		for _, p := range [][]link{dst[n0:n1], dst[n1:]} {
			k := sort.Search(len(p), func(k int) bool { return p[k].end > start })
			if k < len(p) && p[k].start < end {
				return true
			}
		}
		return false
	}
	dst = appendObfuscatedLinks(dst, body, taken)
	n2 := len(dst)
	taken = func(start, end int) bool {
		for _, p := range [][]link{dst[n0:n1], dst[n1:n2]} {
			k := sort.Search(len(p), func(k int) bool { return p[k].end > start })
			if k < len(p) && p[k].start < end {
				return true
			}
		}
		return false
	}
	dst = appendSchemelessLinks(dst, body, taken)
	slices.SortStableFunc(dst[n0:], func(a, b link) int { return a.start - b.start })
	return dst
}

// Check implements Check.
func (l *Links) Check(in *Input) []Hit {
	t := newText(in.Body)
	defer t.release()
	return l.checkText(in, t)
}

func (l *Links) checkText(in *Input, t *text) []Hit {
	l.once.Do(func() {
		l.shorteners = setOf(orDefaultSlice(l.Shorteners, DefaultShorteners)...)
	})
	body := in.Body
	var hits []Hit
	for _, k := range t.links() {
		const full = "the rule asks for the full link"
		switch {
		case k.kind == linkObfuscated:
			hits = append(hits, l.hit(body, k.start, k.end, false, "obfuscated link; "+full))
		case l.isShortener(k.host):
			hits = append(hits, l.hit(body, k.start, k.end, false, fmt.Sprintf("shortened link (%s) hides where it goes; %s", trimWWW(k.host), full)))
		case k.kind == linkFull:
			hits = append(hits, l.hit(body, k.start, k.end, true, "full link; comments with links take longer to approve"))
		case k.kind == linkSchemeless:
			hits = append(hits, l.hit(body, k.start, k.end, false, "link without http(s)://; "+full))
		}
	}
	return hits
}

// appendSchemeLinks finds links that start with a scheme, plain or
// obfuscated.
func appendSchemeLinks(dst []link, body string) []link {
	for _, m := range findInFields(schemeURL, body, "//") {
		start, end := m[0], trimURL(body, m[0], m[1])
		rest := body[m[5]+2 : end]
		host := hostOf(rest)
		if host == "" {
			continue
		}
		scheme, sep := strings.ToLower(body[m[2]:m[3]]), body[m[4]:m[5]]
		if (scheme != "http" && scheme != "https" && scheme != "ftp") || sep != ":" || obfSepOnly.MatchString(rest) {
			dst = append(dst, link{start: start, end: end, kind: linkObfuscated})
		} else {
			dst = append(dst, link{start: start, end: end, kind: linkFull, host: host})
		}
	}
	return dst
}

// appendObfuscatedLinks finds host names with their dots written as "[.]"
// or "dot".
func appendObfuscatedLinks(dst []link, body string, taken func(start, end int) bool) []link {
	for _, m := range findObfuscated(body) {
		start, end := m[0], trimURL(body, m[0], m[1])
		text := body[start:end]
		hostPart, _, _ := strings.Cut(text, "/")
		seps := obfSepOnly.FindAllStringIndex(hostPart, -1)
		if len(seps) == 0 || taken(start, end) || afterAt(body, start) {
			continue
		}
		host := strings.ToLower(obfSepOnly.ReplaceAllString(hostPart, "."))
		first, _, _ := strings.Cut(host, ".")
		tld := topLevel(host)
		prose := false
		for _, s := range seps {
			if proseDotSep.MatchString(hostPart[s[0]:s[1]]) {
				prose = true
			}
		}
		if !strongTLDs[tld] && (prose || !weakTLDs[tld]) || prose && stopWords[first] {
			continue
		}
		dst = append(dst, link{start: start, end: end, kind: linkObfuscated})
	}
	return dst
}

// appendSchemelessLinks finds host names written without a scheme.
func appendSchemelessLinks(dst []link, body string, taken func(start, end int) bool) []link {
	for _, m := range findInFields(plainHost, body, ".") {
		start, end := m[0], trimURL(body, m[0], m[1])
		if taken(start, end) || !wordStart(body, start) {
			continue
		}
		text := body[start:end]
		hostEnd := strings.IndexAny(text, ":/?#")
		if hostEnd < 0 {
			hostEnd = len(text)
		}
		host := text[:hostEnd]
		tld := host[strings.LastIndexByte(host, '.')+1:]
		if tld != strings.ToLower(tld) || !wordEnd(body, start+hostEnd) {
			continue // "agree.The" is a missing space, not a link
		}
		lower := strings.ToLower(host)
		hasPath := hostEnd < len(text)
		www := strings.HasPrefix(lower, "www.")
		kind := linkBare
		if strongTLDs[tld] || weakTLDs[tld] && (hasPath || www) {
			kind = linkSchemeless
		}
		dst = append(dst, link{start: start, end: end, kind: kind, host: lower})
	}
	return dst
}

func (l *Links) hit(body string, start, end int, plain bool, why string) Hit {
	sev := orDefault(l.Severity, Flag)
	if plain {
		sev = orDefault(l.PlainSeverity, Note)
	}
	return Hit{
		Rule:        orDefault(l.Rule, RuleLinks),
		Title:       orDefault(l.Title, TitleLinks),
		Severity:    sev,
		Start:       start,
		End:         end,
		Evidence:    body[start:end],
		Explanation: why,
	}
}

func (l *Links) isShortener(host string) bool {
	return l.shorteners[trimWWW(strings.ToLower(host))]
}

func trimWWW(host string) string {
	return strings.TrimPrefix(host, "www.")
}

// hostOf returns the lower-cased host of what follows "scheme://", with
// user info and port removed and obfuscated dots made plain.
func hostOf(rest string) string {
	if i := strings.IndexAny(rest, "/?#\\"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	rest = obfSepOnly.ReplaceAllString(rest, ".")
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.HasSuffix(rest, "]") {
		rest = rest[:i]
	}
	return strings.ToLower(strings.Trim(rest, "."))
}

// topLevel returns the last label of host, lower-cased.
func topLevel(host string) string {
	host = strings.ToLower(host)
	i := strings.LastIndexByte(host, '.')
	if i < 0 {
		return host
	}
	return host[i+1:]
}

// trimURL moves end back over punctuation that ends the sentence rather
// than the link, keeping closing brackets the link opened itself.
func trimURL(s string, start, end int) int {
	for end > start {
		r, w := utf8.DecodeLastRuneInString(s[start:end])
		switch {
		case strings.ContainsRune(".,;:!?'*", r), unicode.In(r, unicode.Pi, unicode.Pf):
		case r == ')' && strings.Count(s[start:end], "(") < strings.Count(s[start:end], ")"),
			r == ']' && strings.Count(s[start:end], "[") < strings.Count(s[start:end], "]"),
			r == '}' && strings.Count(s[start:end], "{") < strings.Count(s[start:end], "}"):
		default:
			return end
		}
		end -= w
	}
	return end
}

// findInFields returns the submatch indexes of re in s, running it only
// over the white-space separated fields of s that contain needle. re must
// not match white space. Expressions without a literal prefix try every
// offset, so this is much cheaper than running them over all of s.
func findInFields(re *regexp.Regexp, s, needle string) [][]int {
	var out [][]int
	done := 0 // where the last field searched ended
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], needle)
		if j < 0 {
			break
		}
		at := i + j
		// A dot that ends a sentence or sits before a space starts no
		// host name: most dots in prose are these.
		if needle == "." && (at+1 == len(s) || s[at+1] < utf8.RuneSelf && !asciiAlnum[s[at+1]]) {
			i = at + 1
			continue
		}
		start := strings.LastIndexFunc(s[:at], unicode.IsSpace) + 1
		if start < done {
			start = done
		}
		end := len(s)
		if k := strings.IndexFunc(s[at:], unicode.IsSpace); k >= 0 {
			end = at + k
		}
		done = end
		for _, m := range re.FindAllStringSubmatchIndex(s[start:end], -1) {
			for k := range m {
				if m[k] >= 0 {
					m[k] += start
				}
			}
			out = append(out, m)
		}
		i = end
	}
	return out
}

// findObfuscated runs the obfuscated-link expression only around the
// places where an obfuscated dot could be: a bracket or the word "dot",
// with the field before and the field after it.
func findObfuscated(s string) [][]int {
	var windows [][2]int
	for i := 0; i < len(s); {
		at := indexMarker(s[i:])
		if at < 0 {
			break
		}
		at += i
		start, fieldEnd := fieldAround(s, at)
		start, _ = fieldAround(s, prevNonSpace(s, start))
		_, end := fieldAround(s, nextNonSpace(s, fieldEnd))
		if n := len(windows); n > 0 && start <= windows[n-1][1] {
			windows[n-1][1] = max(windows[n-1][1], end)
		} else {
			windows = append(windows, [2]int{start, end})
		}
		// Every other marker in this field has the same window.
		i = max(at+1, fieldEnd)
	}
	var out [][]int
	for _, w := range windows {
		for _, m := range obfuscated.FindAllStringIndex(s[w[0]:w[1]], -1) {
			out = append(out, []int{m[0] + w[0], m[1] + w[0]})
		}
	}
	return out
}

// indexMarker returns the offset of the first bracket or "dot" in any
// case in s, or -1.
func indexMarker(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[', '(', '{':
			return i
		case 'd', 'D':
			if i+3 <= len(s) && (s[i+1]|0x20) == 'o' && (s[i+2]|0x20) == 't' {
				return i
			}
		}
	}
	return -1
}

// fieldAround returns the white-space separated field of s around i.
func fieldAround(s string, i int) (int, int) {
	if i < 0 || i >= len(s) {
		return max(0, min(i, len(s))), max(0, min(i, len(s)))
	}
	start := strings.LastIndexFunc(s[:i], unicode.IsSpace) + 1
	end := len(s)
	if k := strings.IndexFunc(s[i:], unicode.IsSpace); k >= 0 {
		end = i + k
	}
	if end < start {
		end = start
	}
	return start, end
}

// prevNonSpace returns the offset of the last non-space byte before i,
// or -1.
func prevNonSpace(s string, i int) int {
	t := strings.TrimRightFunc(s[:i], unicode.IsSpace)
	return len(t) - 1
}

// nextNonSpace returns the offset of the first non-space rune at or after
// i, or len(s).
func nextNonSpace(s string, i int) int {
	k := strings.IndexFunc(s[i:], func(r rune) bool { return !unicode.IsSpace(r) })
	if k < 0 {
		return len(s)
	}
	return i + k
}

// afterAt reports whether the text before start ends in "@" or a spelled
// "[at]", making what follows the domain of an e-mail address.
func afterAt(s string, start int) bool {
	before := strings.TrimRightFunc(s[:start], unicode.IsSpace)
	before = strings.ToLower(before[max(0, len(before)-len("<at>")):])
	for _, at := range []string{"@", "[at]", "(at)", "{at}", "<at>"} {
		if strings.HasSuffix(before, at) {
			return true
		}
	}
	return false
}

// wordStart reports whether a host may start at i: not inside a word, an
// e-mail address, a path or a longer dotted name.
func wordStart(s string, i int) bool {
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("@._-/\\:", r)
}

// wordEnd reports whether a host may end at i.
func wordEnd(s string, i int) bool {
	if i >= len(s) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' && r != '-'
}
