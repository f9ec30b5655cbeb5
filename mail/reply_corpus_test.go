package mail

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// corporaDir finds the public reply corpora beside the repository: the
// directory ../shared/corpora next to the one holding go.mod.
func corporaDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no go.mod above the test's directory")
		}
		dir = parent
	}
	c := filepath.Join(dir, "..", "shared", "corpora")
	if _, err := os.Stat(c); err != nil {
		t.Skipf("reply corpora not found at %s: %v", c, err)
	}
	return c
}

// normalizeKept makes two texts comparable: line ends, trailing white
// space, and runs of blank lines.
func normalizeKept(s string) string {
	s = normalizeText(s)
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := false
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\u00a0")
		if l == "" {
			if blank {
				continue
			}
			blank = true
		} else {
			blank = false
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

var quotedLineRE = regexp.MustCompile(`^\s*>`)

// withoutQuotes drops ">" lines: discourse's trimmer keeps quotes the
// sender answered between, ExtractReply drops every quote.
func withoutQuotes(s string) string {
	lines := strings.Split(normalizeText(s), "\n")
	out := lines[:0]
	for _, l := range lines {
		if !quotedLineRE.MatchString(l) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

type corpusScore struct {
	name        string
	right, all  int
	wrong       []string
	wantPercent float64
}

func (s *corpusScore) add(t *testing.T, name, got, want string) {
	s.all++
	if got == want {
		s.right++
		return
	}
	s.wrong = append(s.wrong, name)
	t.Logf("%s %s:\n--- got:\n%s\n--- want:\n%s", s.name, name, got, want)
}

func (s *corpusScore) report(t *testing.T) {
	t.Helper()
	if s.all == 0 {
		t.Errorf("%s: no cases found", s.name)
		return
	}
	pct := 100 * float64(s.right) / float64(s.all)
	t.Logf("%s: %d/%d (%.1f%%)", s.name, s.right, s.all, pct)
	if pct < s.wantPercent {
		sort.Strings(s.wrong)
		t.Errorf("%s: %d/%d right (%.1f%%), want at least %.0f%%; wrong: %s",
			s.name, s.right, s.all, pct, s.wantPercent, strings.Join(s.wrong, ", "))
	}
}

// TestReplyCorpusDiscourse measures ExtractReply against the 64 plain
// text replies of discourse's email_reply_trimmer. Three cases are missed
// on purpose: embedded_email_17, embedded_email_18 and forwarded_message
// keep text that follows an attribution or a forward header with nothing
// typed above it; ExtractReply reads such text as quoted (an unmarked
// quote of modbot's own mail must never yield commands).
func TestReplyCorpusDiscourse(t *testing.T) {
	base := filepath.Join(corporaDir(t), "discourse_email_reply_trimmer", "test")
	names, err := filepath.Glob(filepath.Join(base, "emails", "*.txt"))
	if err != nil || len(names) == 0 {
		t.Skipf("no discourse cases in %s", base)
	}
	score := &corpusScore{name: "discourse", wantPercent: 95}
	for _, name := range names {
		email, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		trimmed, err := os.ReadFile(filepath.Join(base, "trimmed", filepath.Base(name)))
		if err != nil {
			t.Fatal(err)
		}
		r := ExtractReply(&Message{Text: normalizeText(string(email))})
		score.add(t, filepath.Base(name), normalizeKept(r.Text), normalizeKept(withoutQuotes(string(trimmed))))
	}
	score.report(t)
}

// TestReplyCorpusTalon measures ExtractReply against mailgun's talon
// fixtures: whole replies from many clients, and HTML replies.
func TestReplyCorpusTalon(t *testing.T) {
	base := filepath.Join(corporaDir(t), "mailgun_talon", "tests", "fixtures")
	if _, err := os.Stat(base); err != nil {
		t.Skipf("no talon fixtures: %v", err)
	}
	score := &corpusScore{name: "talon", wantPercent: 100}

	// Whole messages, read from their plain part as talon does. Talon
	// removes quotations only, so its expected texts keep signatures.
	emls, _ := filepath.Glob(filepath.Join(base, "standard_replies", "*.eml"))
	for _, name := range emls {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Parse(bytes.NewReader(raw), nil)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		want := "Hello"
		if b, err := os.ReadFile(strings.TrimSuffix(name, ".eml") + "_reply_text"); err == nil {
			want = string(b)
		}
		r := extractReply(m, extractOptions{keepSignature: true})
		score.add(t, "standard_replies/"+filepath.Base(name), normalizeKept(r.Text), normalizeKept(want))
	}

	// HTML replies from Gmail, Hotmail, mail.ru, Outlook, Thunderbird,
	// Windows Mail and Yandex, all answering "Hello! How are you?".
	htmls, _ := filepath.Glob(filepath.Join(base, "html_replies", "*.html"))
	collapse := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	for _, name := range htmls {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		h := string(raw)
		r := ExtractReply(&Message{HTML: h, Text: htmlToText(h), HTMLOnly: true})
		score.add(t, "html_replies/"+filepath.Base(name), collapse(r.Text), "Hi. I am fine. Thanks, Alex")
	}

	// Outlook for Mac's OLK_SRC_BODY_SECTION.
	if raw, err := os.ReadFile(filepath.Join(base, "OLK_SRC_BODY_SECTION.html")); err == nil {
		h := string(raw)
		r := ExtractReply(&Message{HTML: h, Text: htmlToText(h), HTMLOnly: true})
		score.add(t, "OLK_SRC_BODY_SECTION.html", collapse(r.Text), "Reply")
	}

	// A Yahoo reply whose quote shares a block with the reply: talon
	// asks only that the reply is kept and the quoted header is not.
	if raw, err := os.ReadFile(filepath.Join(base, "reply-quotations-share-block.eml")); err == nil {
		m, err := Parse(bytes.NewReader(raw), nil)
		if err != nil {
			t.Fatal(err)
		}
		r := ExtractReply(m)
		got := "ok"
		if r.Text == "" || strings.Contains(r.Text, "From") {
			got = r.Text
		}
		score.add(t, "reply-quotations-share-block.eml", got, "ok")
	}
	score.report(t)
}
