package precheck

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// FuzzEngine checks that no check of the default ruleset panics and that
// every hit's span is in the body, on rune boundaries, with the span as
// its evidence, whatever the comment, its author's name and address, the
// thread and the article. It calls the checks directly too, because the
// engine would hide their panics.
func FuzzEngine(f *testing.F) {
	article := readSeed(f, "article.txt")
	for _, body := range seedComments(f) {
		f.Add(body, "Reader", "reader@gmail.com", "Tim Moore", body, article)
	}
	f.Add("THIS IS ALL CAPS AND SHOULD BE CAUGHT BY THE CHECK", "MARY SMITH", "x@example.com", "", "", "")
	f.Add("s h i t, f*k, a**, @ss, hxxp://x[.]y.com bit.ly/a www.x.org", "a", "@", "b", "c", "d")
	f.Add("\xff\xfe caps \xc3 TEXT \x80\x80 http://é.com/\xf0\x9f s\xcc\x81hit", "\xff", "\xc3@\x80.com", "\xe2", "\x80", "\xf0")
	f.Add("@Tim Moor, the FTR and PFR rules: see https://n.example.com/man-arrested. Mark Smith agrees.",
		"John Q. Public", "noreply@mailinator.com", "Tim Moore", "Failure To Register (FTR).", "Mark Zuckerberg")
	f.Add(strings.Repeat("ha ha ha ", 200), "", "", "x", strings.Repeat("ha ", 300), strings.Repeat("ha ", 300))
	e := DefaultRuleset().Engine()
	f.Fuzz(func(t *testing.T, body, name, email, threadName, threadBody, article string) {
		in := &Input{Body: body, AuthorName: name, AuthorEmail: email, PostText: article,
			Thread: []Comment{{AuthorName: threadName, Body: threadBody}}}
		for _, c := range e.checks {
			checkSpans(t, body, c.Check(in))
		}
		hits := e.Run(in)
		checkSpans(t, body, hits)
		for i := 1; i < len(hits); i++ {
			a, b := hits[i-1], hits[i]
			if a.Start > b.Start || a.Start == b.Start && a.Rule > b.Rule {
				t.Fatalf("hits not sorted: %+v", hits)
			}
		}
	})
}

// BenchmarkEngine runs the default ruleset, all 22 rules, over a 4 KB
// comment with a shouted paragraph, a swear word and links in it, with the
// article and a short thread as context.
func BenchmarkEngine(b *testing.B) {
	in := benchInput(b, 4096)
	e := DefaultRuleset().Engine()
	b.SetBytes(int64(len(in.Body)))
	b.ReportAllocs()
	for b.Loop() {
		e.Run(in)
	}
}

// BenchmarkEngineSizes runs the default ruleset on comments of 1 KB and
// 20 KB, the sizes the speed targets are given for.
func BenchmarkEngineSizes(b *testing.B) {
	for _, size := range []int{1 << 10, 20 << 10} {
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			in := benchInput(b, size)
			e := DefaultRuleset().Engine()
			b.SetBytes(int64(len(in.Body)))
			b.ReportAllocs()
			for b.Loop() {
				e.Run(in)
			}
		})
	}
}

// benchInput is a comment of size bytes made of the seed comments, a
// shouted paragraph, a swear word and links, with context.
func benchInput(b *testing.B, size int) *Input {
	var sb strings.Builder
	seed := seedComments(b)
	for _, name := range []string{"comment2.txt", "comment3.txt", "comment4.txt", "comment5.txt", "comment6.txt", "comment1.txt"} {
		sb.WriteString(seed[name])
		sb.WriteString("\n")
	}
	sb.WriteString("THIS PARAGRAPH IS SHOUTED AT THE READER FOR NO GOOD REASON.\n\n")
	sb.WriteString("What a load of shit, see https://example.com/a and bit.ly/x.\n\n")
	for i := 0; sb.Len() < size; i++ {
		sb.WriteString("Law enforcement can and does have ways of enforcing the law, e.g. warrant number ")
		sb.WriteString(strconv.Itoa(i))
		sb.WriteString(". ")
	}
	body := sb.String()[:size]
	for !strings.HasSuffix(body, " ") && len(body) > 0 {
		body = body[:len(body)-1] // end on a rune boundary
	}
	return &Input{Body: body, AuthorName: "Reader", AuthorEmail: "reader@gmail.com",
		PostText: readSeed(b, "article.txt"),
		Thread:   []Comment{{AuthorName: "Tim Moore", Body: seed["comment2.txt"]}, {AuthorName: "Facts Not Fear", Body: seed["comment5.txt"]}}}
}
