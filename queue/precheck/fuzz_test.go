package precheck

import (
	"strings"
	"testing"
)

// FuzzEngine checks that no check panics and that every hit's span is in
// the body, on rune boundaries, with the span as its evidence. It calls the
// checks directly too, because the engine would hide their panics.
func FuzzEngine(f *testing.F) {
	for _, body := range seedComments(f) {
		f.Add(body)
	}
	f.Add("THIS IS ALL CAPS AND SHOULD BE CAUGHT BY THE CHECK")
	f.Add("s h i t, f*k, a**, @ss, hxxp://x[.]com bit.ly/a www.x.org")
	f.Add("\xff\xfe caps \xc3 TEXT \x80\x80 http://é.com/\xe2\x80")
	e := Default()
	f.Fuzz(func(t *testing.T, body string) {
		in := &Input{Body: body}
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

// BenchmarkEngine runs the default checks over a 4 KB comment with a
// shouted paragraph, a swear word and links in it.
func BenchmarkEngine(b *testing.B) {
	var sb strings.Builder
	for _, c := range seedComments(b) {
		sb.WriteString(c)
		sb.WriteString("\n")
	}
	sb.WriteString("THIS PARAGRAPH IS SHOUTED AT THE READER FOR NO GOOD REASON.\n\n")
	sb.WriteString("What a load of shit, see https://example.com/a and bit.ly/x.\n\n")
	for sb.Len() < 4096 {
		sb.WriteString("Law enforcement can and does have ways of enforcing the law, e.g. warrants. ")
	}
	body := sb.String()[:4096]
	in := &Input{Body: body}
	e := Default()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		e.Run(in)
	}
}
