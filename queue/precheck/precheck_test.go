package precheck

import (
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
)

// fixedCheck returns the same hits for every comment.
type fixedCheck []Hit

func (f fixedCheck) Check(*Input) []Hit { return f }

type panicCheck struct{}

func (panicCheck) Check(*Input) []Hit { panic("boom") }

func TestEngineRun(t *testing.T) {
	// The engine logs what it drops; keep that out of the test output.
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.DiscardHandler))

	body := "héllo world"
	e := New(
		fixedCheck{
			{Rule: 12, Title: "b", Severity: Note, Start: 7, End: 12, Explanation: "x"},
			{Rule: 3, Title: "a", Severity: Flag, Start: 7, End: 9, Evidence: "stale", Explanation: "x"},
		},
		panicCheck{},
		fixedCheck{
			{Rule: 1, Title: "c", Severity: Hold, Start: 0, End: 1, Explanation: "x"},
			{Rule: 2, Title: "inside a rune", Severity: Flag, Start: 2, End: 4, Explanation: "x"},
			{Rule: 2, Title: "past the end", Severity: Flag, Start: 5, End: 99, Explanation: "x"},
			{Rule: 2, Title: "backwards", Severity: Flag, Start: 5, End: 4, Explanation: "x"},
			{Rule: 15, Title: "not in the body", Severity: Flag, Start: 0, End: 0, Evidence: "name: Bob", Explanation: "x"},
		},
	)
	hits := e.Run(&Input{Body: body})
	type key struct {
		rule     int
		evidence string
	}
	var got []key
	for _, h := range hits {
		got = append(got, key{h.Rule, h.Evidence})
	}
	want := []key{{1, "h"}, {15, "name: Bob"}, {3, "wo"}, {12, "world"}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if e.Run(nil) != nil {
		t.Error("Run(nil) returned hits")
	}
}

func TestHitJSON(t *testing.T) {
	b, err := json.Marshal(Hit{Rule: 11, Title: "t", Severity: Flag, Start: 1, End: 2, Evidence: "e", Explanation: "x"})
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"rule":11,"title":"t","severity":"flag","start":1,"end":2,"evidence":"e","explanation":"x"}`
	if string(b) != want {
		t.Fatalf("got %s\nwant %s", b, want)
	}
}

func TestDefaultRules(t *testing.T) {
	body := "THIS IS SHOUTING ABOUT THE FUCKING LAW, SEE BIT.LY/ABC"
	hits := Default().Run(&Input{Body: body})
	checkSpans(t, body, hits)
	rules := map[int]string{}
	for _, h := range hits {
		rules[h.Rule] = h.Title
	}
	want := map[int]string{
		3:  "Swear words should be starred out",
		11: "Please do not post in all Caps",
	}
	for r, title := range want {
		if rules[r] != title {
			t.Errorf("rule %d: title %q, want %q (hits %+v)", r, rules[r], title, hits)
		}
	}
	hits = Default().Run(&Input{Body: "see https://bit.ly/x"})
	if len(hits) != 1 || hits[0].Rule != 12 || hits[0].Title != TitleLinks {
		t.Errorf("links: %+v", hits)
	}
}

// TestSeed runs the default checks over the seed site's own text: its
// reader comments are fine, and so are the article and the rules, even
// though rule 3 quotes starred words and rule 20 an obfuscated address.
func TestSeed(t *testing.T) {
	texts := seedComments(t)
	texts["article.txt"] = readSeed(t, "article.txt")
	texts["rules.txt"] = readSeed(t, "rules.txt")
	for name, body := range texts {
		t.Run(name, func(t *testing.T) {
			hits := Default().Run(&Input{Body: body})
			checkSpans(t, body, hits)
			if len(hits) > 0 {
				t.Errorf("hits on a fine text: %+v", hits)
			}
		})
	}
	if c := texts["comment5.txt"]; !strings.Contains(c, "NSA") || !strings.Contains(c, "KGB") {
		t.Fatalf("comment5.txt is not the NSA/KGB comment: %q", c)
	}
}
