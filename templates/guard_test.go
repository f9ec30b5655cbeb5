package templates

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDefang(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"see https://examp1e-bank.example/login?id=1 now", "see examp1e-bank[.]example/login?id=1 now"},
		{"www.evil.example", "www[.]evil[.]example"},
		{"HTTP://Evil.Example/x", "Evil[.]Example/x"},
		{"mailto:bob@evil.example", "bob@evil[.]example"},
		{"ftp://files.example", "files[.]example"},
		{"http://192.168.1.10/admin", "192[.]168[.]1[.]10/admin"},
		{"evil。example／x", "evil[.]example／x"},
		{"It costs 3.50. Then. Done.", "It costs 3.50. Then. Done."},
		{"e.g. this", "e[.]g. this"},
	} {
		if got := Defang(tc.in); got != tc.want {
			t.Errorf("Defang(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// A guarded notice quotes a short excerpt with no live link and no
// display name, in every part, for every kind that quotes a sender.
func TestGuardedNotices(t *testing.T) {
	s := mustLoad(t, "")
	long := "Your account is locked: verify at https://examp1e-bank.example/login now. " + strings.Repeat("More text here. ", 30) + "TAIL https://tail.example/"
	link := regexp.MustCompile(`(?i)https?://examp1e|examp1e-bank\.example|tail|www\.`)
	for _, kind := range []string{NoticeReceived, NoticeApproved, NoticeRejected, NoticeReply, NoticeNewComment, NoticeNewReply} {
		n := testNotice(kind)
		n.AuthorName, n.CommenterName, n.Subject = "Example Bank Security Team", "Example Bank Security Team", "Urgent: account locked"
		n.Body, n.QuotedText = long, long
		n.Hits = append(n.Hits, Hit{Rule: 12, Title: "Full links only", Evidence: "https://examp1e-bank.example/login", Explanation: "full link", Start: 35, End: 72})
		n.Guard()
		if utf8.RuneCountInString(n.Body) > GuardedExcerpt+10 {
			t.Errorf("%s: excerpt of %d characters", kind, utf8.RuneCountInString(n.Body))
		}
		r, err := s.Notice(n)
		if err != nil {
			t.Fatal(err)
		}
		for part, text := range map[string]string{"subject": r.Subject, "text": r.Text, "html": r.HTML} {
			if strings.Contains(text, "Example Bank") || strings.Contains(text, "Urgent") {
				t.Errorf("%s %s: carries the sender's name or subject:\n%s", kind, part, text)
			}
			if l := link.FindString(text); l != "" {
				t.Errorf("%s %s: live link %q:\n%s", kind, part, l, text)
			}
		}
		if kind != NoticeReply && !strings.Contains(r.Text, "cannot be opened") {
			t.Errorf("%s: does not say why the text is short:\n%s", kind, r.Text)
		}
	}
}

// The guarded "received" notice as an unproven address gets it.
func TestNoticeGuardedGolden(t *testing.T) {
	s := mustLoad(t, "")
	n := testNotice(NoticeReceived)
	n.Guard()
	r, err := s.Notice(n)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "notice_received_guarded.subject.golden", r.Subject+"\n")
	golden(t, "notice_received_guarded.txt.golden", r.Text)
	golden(t, "notice_received_guarded.html.golden", r.HTML)
}

// FuzzDefang: whatever the text, nothing in the result has a scheme or a
// host name a mail client would link.
func FuzzDefang(f *testing.F) {
	for _, s := range []string{"https://examp1e-bank.example/login", "www.evil.example", "1http://1.2.3.4/", "a:///b", "evil。example", "mailto:x@y.example", "mamailto:ilto:x", "hthttps://tps://x"} {
		f.Add(s)
	}
	host := regexp.MustCompile(`[\p{L}\p{N}_-][.．。｡]\p{L}`)
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		got := Defang(s)
		if strings.Contains(got, "://") || strings.Contains(strings.ToLower(got), "mailto:") {
			t.Errorf("Defang(%q) = %q keeps a scheme", s, got)
		}
		if l := host.FindString(got); l != "" {
			t.Errorf("Defang(%q) = %q keeps a host name (%q)", s, got, l)
		}
	})
}

func TestExcerpt(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"  short  ", 10, "short"},
		{"ten runes!", 10, "ten runes!"},
		{"eleven runes", 11, "eleven runes"[:11] + " […]"},
		{"Шшш шшш шшш", 7, "Шшш шшш […]"},
		{"a\r\nb", 5, "a\nb"},
		{strings.Repeat("word ", 1<<20), 12, "word word wo […]"},
	} {
		if got := excerpt(tt.in, tt.n); got != tt.want {
			t.Errorf("excerpt(%.20q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
