package precheck

import (
	"fmt"
	"strings"
	"testing"
)

// hostileBodies are 1 MiB comments built to make the checks work hard or
// find as much as possible: the shapes an attacker would send to flood
// the moderators (issue 11 §5).
func hostileBodies() []struct{ name, body string } {
	fill := func(unit func(i int) string) string {
		var b strings.Builder
		for i := 0; b.Len() < 1<<20; i++ {
			b.WriteString(unit(i))
		}
		s := b.String()
		for len(s) > 1<<20 {
			s = s[:len(s)-1]
		}
		return strings.ToValidUTF8(s, "")
	}
	return []struct{ name, body string }{
		{"links", fill(func(i int) string { return fmt.Sprintf("bit.ly/%x ", i) })},
		{"urls", fill(func(i int) string { return fmt.Sprintf("https://x%d.example.com/a ", i) })},
		{"caps", fill(func(i int) string { return "THIS IS SHOUTED AT YOU AGAIN AND AGAIN. " })},
		{"repeated", fill(func(i int) string { return "spam " })},
		{"names", fill(func(i int) string { return fmt.Sprintf("Mark Smith%d and John Brown said. ", i%7) })},
		{"nospace", fill(func(i int) string { return "abcdefghij" })},
		{"emails", fill(func(i int) string { return fmt.Sprintf("u%d@mailinator.com ", i) })},
		{"leet", fill(func(i int) string { return "$h1t ſhít ＳＨＩＴ s\u0301h\u0301i\u0301t f*ck 1d10t " })},
		{"swears", fill(func(i int) string { return "idiot shit moron " })},
		{"abbrev", fill(func(i int) string { return "FTR PFR LEO AG DA " })},
		{"addressing", fill(func(i int) string { return "@Tim Moore you are wrong. " })},
		{"arrests", fill(func(i int) string { return fmt.Sprintf("https://news.example.com/man-arrested-%d ", i) })},
	}
}

// BenchmarkHostile runs the default ruleset over each 1 MiB hostile body:
// ns/op is the cost of one such submission, and B/op what it allocates.
// go test -run '^$' -bench Hostile -benchtime 3x ./queue/precheck/
func BenchmarkHostile(b *testing.B) {
	e := DefaultRuleset().Engine()
	for _, h := range hostileBodies() {
		b.Run(h.name, func(b *testing.B) {
			in := &Input{Body: h.body, AuthorName: "Reader", AuthorEmail: "reader@gmail.com",
				PostText: "An article about the law.", Thread: []Comment{{AuthorName: "Tim Moore", Body: "I agree."}}}
			b.SetBytes(int64(len(in.Body)))
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				n = len(e.Run(in))
			}
			b.ReportMetric(float64(n), "hits")
		})
	}
}
