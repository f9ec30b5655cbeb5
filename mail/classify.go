package mail

import (
	"regexp"
	"strings"
)

// SiteAddress is the address of the moderation inbox, e.g.
// "moderator@forum.example". Its local part and domain are the base of
// the plus addresses that name a post (moderator+<slug>@) or a digest
// (moderator+d-<token>@).
type SiteAddress struct {
	Address string
}

func (s SiteAddress) parts() (local, domain string) {
	local, domain, ok := splitAddr(strings.TrimSpace(s.Address))
	if !ok {
		return "", ""
	}
	return strings.ToLower(local), strings.ToLower(domain)
}

var (
	slugRE        = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
	digestTokenRE = regexp.MustCompile(`^[A-Za-z0-9]{8,64}$`)
	subjectSlugRE = regexp.MustCompile(`^\[([A-Za-z0-9][A-Za-z0-9-]{0,63})\]`)
	replyPrefixRE = regexp.MustCompile(`^(?i:(?:re|aw|sv|vs)\s*(?:\[\d+\])?:\s*)+`)
)

// Classify decides what an inbound message is to modbot. It only reads
// m: whether a reply's token is genuine, or a named post exists, is for
// the store to decide. The order matters: automatic mail is never
// answered, whatever it claims to be; a digest reply may lack a usable
// From (the store then treats it as feedback); without a From nobody can
// be answered and nothing trusted.
func Classify(m *Message, site SiteAddress) Classification {
	if m == nil {
		return Classification{Kind: KindMalformed, Reason: "no message"}
	}
	local, domain := site.parts()
	// Mail to a return path (moderator+b-<token>@) is a delivery report
	// or an auto-reply about one message modbot sent: never answered.
	bounce := bounceToken(m, local, domain)
	if reason, ok := autoReason(m); ok || bounce != "" {
		if !ok {
			reason = "mail to a return path"
		}
		return Classification{Kind: KindAuto, Reason: reason, BounceToken: bounce}
	}
	if token := digestToken(m, local, domain); token != "" {
		return Classification{Kind: KindReply, Reason: "digest reply", DigestToken: token}
	}
	if token := unsubscribeToken(m, local, domain); token != "" {
		return Classification{Kind: KindUnsubscribe, Reason: "unsubscribe by mail (List-Unsubscribe)", UnsubscribeToken: token}
	}
	if token := revisionToken(m, local, domain); token != "" {
		return Classification{Kind: KindRevision, Reason: "mail to a comment's revision address", RevisionToken: token}
	}
	if !validFrom(m.From) {
		return Classification{Kind: KindMalformed, Reason: "no From address"}
	}

	c := Classification{
		Kind:       KindSubmission,
		AuthorName: authorName(m),
		ParentID:   m.Get("X-Comment-Parent"),
	}
	plus, header, subject := plusSlug(m, local, domain), headerSlug(m), subjectSlug(m.Subject)
	switch {
	case plus != "":
		c.PostSlug, c.PostVia, c.Reason = plus, ViaPlus, "post named by plus address"
	case header != "":
		c.PostSlug, c.PostVia, c.Reason = header, ViaHeader, "post named by X-Comment-Post"
	case subject != "":
		c.PostSlug, c.PostVia, c.Reason = subject, ViaSubject, "post named in subject"
	case repliesToModbot(m):
		return Classification{Kind: KindFeedback, Reason: "reply to a modbot message"}
	default:
		c.Reason = "no post named"
	}
	return c
}

// autoReason reports whether m was sent by a program, and why. Strong
// signals decide alone; weak ones (headers and subjects that also occur
// in mail a person wrote) need a second.
func autoReason(m *Message) (string, bool) {
	if v := fieldToken(m.Get("Auto-Submitted")); v != "" && v != "no" {
		return "Auto-Submitted: " + clip(v, 40), true
	}
	switch v := fieldToken(m.Get("Precedence")); v {
	case "bulk", "junk", "list", "auto_reply":
		return "Precedence: " + v, true
	}
	for _, k := range []string{"List-Id", "List-Unsubscribe"} {
		if _, ok := m.Header[k]; ok {
			return "list mail (" + k + ")", true
		}
	}
	if m.ContentType == "multipart/report" {
		switch m.ReportType {
		case "delivery-status":
			return "delivery status report", true
		case "disposition-notification":
			return "disposition notification (read receipt)", true
		case "":
			return "report", true
		default:
			return "report (" + clip(m.ReportType, 40) + ")", true
		}
	}
	nullPath := strings.ReplaceAll(m.Get("Return-Path"), " ", "") == "<>"
	if m.From != nil {
		local, _, _ := splitAddr(m.From.Addr)
		switch l := strings.ToLower(local); l {
		case "mailer-daemon", "postmaster":
			return "mail from " + l, true
		}
	} else if nullPath {
		return "no From and null Return-Path", true
	}
	if _, ok := m.Header["X-Failed-Recipients"]; ok {
		return "delivery failure (X-Failed-Recipients)", true
	}
	for _, k := range []string{"X-Autoreply", "X-Autorespond"} {
		if v := fieldToken(m.Get(k)); v != "" && v != "no" {
			return k + ": " + clip(v, 40), true
		}
	}

	var weak []string
	for _, v := range strings.Split(m.Get("X-Auto-Response-Suppress"), ",") {
		if v = strings.ToLower(strings.TrimSpace(v)); v == "all" || v == "oof" {
			weak = append(weak, "X-Auto-Response-Suppress")
			break
		}
	}
	if p := autoSubjectPrefix(m.Subject); p != "" {
		weak = append(weak, "subject "+p)
	}
	if nullPath {
		weak = append(weak, "null Return-Path")
	}
	if len(weak) >= 2 {
		return "auto-reply (" + strings.Join(weak, ", ") + ")", true
	}
	return "", false
}

// fieldToken is the lower-cased value of a field before any parameters
// or comment.
func fieldToken(v string) string {
	if i := strings.IndexAny(v, ";("); i >= 0 {
		v = v[:i]
	}
	return strings.ToLower(strings.TrimSpace(v))
}

var autoSubjectPrefixes = []string{"auto:", "automatic reply:", "autoreply:", "auto-reply:", "auto reply:", "out of office", "out of the office"}

func autoSubjectPrefix(subject string) string {
	s := strings.TrimSpace(subject)
	for _, p := range autoSubjectPrefixes {
		if len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) {
			return `"` + strings.TrimSuffix(s[:len(p)], ":") + `"`
		}
	}
	return ""
}

// recipientAddrs lists where m was sent: To, Cc, then the delivery headers.
func recipientAddrs(m *Message) []string {
	var out []string
	for _, a := range m.To {
		out = append(out, a.Addr)
	}
	for _, a := range m.Cc {
		out = append(out, a.Addr)
	}
	return append(out, m.DeliveredTo...)
}

// plusDetails returns the part after "+" of a recipient addressed to
// local+detail@domain, for each such recipient in order.
func plusDetails(m *Message, local, domain string) []string {
	if local == "" {
		return nil
	}
	var out []string
	for _, addr := range recipientAddrs(m) {
		l, d, ok := splitAddr(addr)
		if !ok || !strings.EqualFold(d, domain) {
			continue
		}
		base, detail, found := strings.Cut(l, "+")
		if found && strings.EqualFold(base, local) {
			out = append(out, detail)
		}
	}
	return out
}

func digestToken(m *Message, local, domain string) string {
	for _, d := range plusDetails(m, local, domain) {
		if len(d) > 2 && strings.EqualFold(d[:2], "d-") && digestTokenRE.MatchString(d[2:]) {
			return d[2:]
		}
	}
	return ""
}

// unsubscribeToken reads moderator+u-<token>@, the mailto address of
// every notice's List-Unsubscribe.
func unsubscribeToken(m *Message, local, domain string) string {
	for _, d := range plusDetails(m, local, domain) {
		if len(d) > 2 && strings.EqualFold(d[:2], "u-") && digestTokenRE.MatchString(d[2:]) {
			return strings.ToLower(d[2:])
		}
	}
	return ""
}

// revisionToken reads moderator+r-<token>@, the address a "received"
// notice gives for changing the comment.
func revisionToken(m *Message, local, domain string) string {
	return plusToken(m, local, domain, "r-")
}

// bounceToken reads moderator+b-<token>@, the envelope sender (return
// path) of each message modbot sends: delivery reports come back to it.
func bounceToken(m *Message, local, domain string) string {
	return plusToken(m, local, domain, "b-")
}

// plusToken reads the token of the first recipient addressed to
// moderator+<prefix><token>@.
func plusToken(m *Message, local, domain, prefix string) string {
	for _, d := range plusDetails(m, local, domain) {
		if len(d) > 2 && strings.EqualFold(d[:2], prefix) && digestTokenRE.MatchString(d[2:]) {
			return strings.ToLower(d[2:])
		}
	}
	return ""
}

// reservedSlug reports plus details modbot uses itself: d- (digest
// replies), u- (unsubscribe), r- (revisions) and b- (return paths).
func reservedSlug(s string) bool {
	return strings.HasPrefix(s, "d-") || strings.HasPrefix(s, "u-") || strings.HasPrefix(s, "r-") || strings.HasPrefix(s, "b-")
}

func plusSlug(m *Message, local, domain string) string {
	for _, d := range plusDetails(m, local, domain) {
		if s := strings.ToLower(d); slugRE.MatchString(s) && !reservedSlug(s) {
			return s
		}
	}
	return ""
}

func headerSlug(m *Message) string {
	if s := strings.ToLower(strings.TrimSpace(m.Get("X-Comment-Post"))); slugRE.MatchString(s) && !reservedSlug(s) {
		return s
	}
	return ""
}

// subjectSlug reads "[slug] ..." at the start of a subject, after any
// "Re:" a reply to a notification adds.
func subjectSlug(subject string) string {
	s := replyPrefixRE.ReplaceAllString(strings.TrimSpace(subject), "")
	if m := subjectSlugRE.FindStringSubmatch(s); m != nil {
		return strings.ToLower(m[1])
	}
	return ""
}

func authorName(m *Message) string {
	if n := strings.Join(strings.Fields(m.Get("X-Comment-Name")), " "); n != "" {
		return n
	}
	if n := strings.Join(strings.Fields(m.From.Name), " "); n != "" {
		return n
	}
	local, _, _ := splitAddr(m.From.Addr)
	return local
}

func repliesToModbot(m *Message) bool {
	for _, ids := range [][]string{m.InReplyTo, m.References} {
		for _, id := range ids {
			if IsOwnMessageID(id, "") {
				return true
			}
		}
	}
	return false
}
