package queue

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"modbot/queue/precheck"
	"modbot/templates"
)

// How much of a text a mail to moderators or commenters shows (issue 11
// §5): one submission of a megabyte of short links made a 29 MB notice and
// a 37 MB digest that the MTA refused. Each text a digest item, a feedback
// item or a notice shows is cut to a fixed size; what is cut is named by
// its #id and is whole in the inbox's Modbot/ folders and the database.
// With the precheck caps every item has a bounded size, and
// Digester.MaxBytes bounds the digest.
const (
	// DigestBodyMax is how much of a comment a digest item shows: about
	// 2,500 words, many times a long comment.
	DigestBodyMax = 16 << 10
	// FeedbackTextMax is how much of a feedback message a digest shows.
	FeedbackTextMax = 8 << 10
	// NoticeBodyMax is how much of their own comment a notice quotes
	// back to a commenter.
	NoticeBodyMax = 8 << 10
	// lineMax bounds one-line fields from the mail (display names,
	// subjects, unknown post names) and a hit's evidence and explanation.
	lineMax = 300
	// DefaultDigestMaxBytes is the default byte budget of one digest:
	// far below the usual MTA limits (Postfix's message_size_limit is
	// 10,240,000), and a few dozen items of the largest size.
	DefaultDigestMaxBytes = 2 << 20
)

// cutText returns s, or its first max bytes (cut at the last line break or
// space in the last quarter, else on a rune boundary) and how many bytes
// were left out.
func cutText(s string, max int) (string, int) {
	if len(s) <= max {
		return s, 0
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if i := strings.LastIndexAny(s[:cut], "\n "); i >= max*3/4 {
		cut = i
	}
	return s[:cut], len(s) - cut
}

// cutLine is cutText for a one-line field, marked with "…" when cut.
func cutLine(s string) string {
	if c, n := cutText(s, lineMax); n > 0 {
		return c + "…"
	}
	return s
}

// kib says a byte count in KiB, rounded up: "1,012 KiB".
func kib(n int) string {
	k := (n + 1023) >> 10
	s := fmt.Sprint(k)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s + " KiB"
}

// cutForModerators cuts a comment or feedback text for a digest, ending it
// with a line that says what was left out and where the whole is.
func cutForModerators(s string, max int, what string) string {
	c, n := cutText(s, max)
	if n == 0 {
		return s
	}
	return fmt.Sprintf("%s\n\n[cut: %s more of %s not shown here; the whole message is filed in the inbox's Modbot/ folders]", c, kib(n), what)
}

// cutForCommenter cuts a commenter's comment quoted back in a notice.
func cutForCommenter(s string, id int64) string {
	what := "your comment"
	if id > 0 {
		what = fmt.Sprintf("your comment #%d", id)
	}
	return cutForReader(s, what+" not shown here; the moderators have all of it")
}

// cutForReader cuts a text a notice quotes (a commenter's own comment or
// message, a published comment sent to subscribers) to NoticeBodyMax,
// ending it with a line that says how much of what was left out and
// where the rest is.
func cutForReader(s, rest string) string {
	c, n := cutText(s, NoticeBodyMax)
	if n == 0 {
		return s
	}
	return fmt.Sprintf("%s\n\n[cut: %s more of %s]", c, kib(n), rest)
}

// boundHits caps hits as the prechecks do (hits stored before the caps
// existed may be many) and cuts their texts.
func boundHits(hits []templates.Hit) []templates.Hit {
	if len(hits) == 0 {
		return hits
	}
	ph := make([]precheck.Hit, len(hits))
	for i, h := range hits {
		ph[i] = precheck.Hit{Rule: h.Rule, Title: h.Title, Severity: precheck.Severity(h.Severity),
			Start: h.Start, End: h.End, Evidence: h.Evidence, Explanation: h.Explanation}
	}
	ph = precheck.CapHits(ph)
	out := make([]templates.Hit, len(ph))
	for i, h := range ph {
		out[i] = templates.Hit{Rule: h.Rule, Title: cutLine(h.Title), Severity: string(h.Severity),
			Evidence: cutLine(h.Evidence), Explanation: cutLine(h.Explanation), Start: h.Start, End: h.End}
	}
	return out
}
