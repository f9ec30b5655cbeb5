package precheck

import (
	"encoding/json"
	"fmt"
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
	hits := DefaultRuleset().Engine().Run(&Input{Body: body})
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
	hits = DefaultRuleset().Engine().Run(&Input{Body: "see https://bit.ly/x"})
	if len(hits) != 1 || hits[0].Rule != 12 || hits[0].Title != TitleLinks {
		t.Errorf("links: %+v", hits)
	}
}

// TestSeed runs the default ruleset over the seed site's own discussion,
// each comment with the article and the comments before it as context,
// as the daemon would. The readers' comments were published, so no check
// may flag or hold them. The one note expected is rule 18 on "FCI's"
// (comment2): the commenter did not expand it, and a note is what an
// unexpanded abbreviation deserves.
func TestSeed(t *testing.T) {
	article := readSeed(t, "article.txt")
	names := []string{"comment1.txt", "comment2.txt", "comment3.txt", "comment4.txt", "comment5.txt", "comment6.txt"}
	wantNotes := map[string][]string{"comment2.txt": {"FCI"}}
	var thread []Comment
	for i, name := range names {
		body := readSeed(t, name)
		in := &Input{Body: body, AuthorName: fmt.Sprintf("Reader %d", i+1), AuthorEmail: fmt.Sprintf("reader%d@gmail.com", i+1),
			PostTitle: strings.SplitN(article, "\n", 2)[0], PostText: article, Thread: thread}
		t.Run(name, func(t *testing.T) {
			hits := DefaultRuleset().Engine().Run(in)
			checkSpans(t, body, hits)
			var notes []string
			for _, h := range hits {
				if h.Severity != Note {
					t.Errorf("%s hit on a published comment: %+v", h.Severity, h)
				} else {
					notes = append(notes, h.Evidence)
				}
			}
			if !slices.Equal(notes, wantNotes[name]) {
				t.Errorf("notes %q, want %q", notes, wantNotes[name])
			}
		})
		thread = append(thread, Comment{AuthorName: in.AuthorName, Body: body})
	}
	if c := readSeed(t, "comment5.txt"); !strings.Contains(c, "NSA") || !strings.Contains(c, "KGB") {
		t.Fatalf("comment5.txt is not the NSA/KGB comment: %q", c)
	}

	// The article pasted as a comment: without the article as context,
	// the names in it are flagged; with it, it is a note for copying the
	// article whole.
	hits := DefaultRuleset().Engine().Run(&Input{Body: article})
	if got := evidence(hits); !slices.Equal(got, []string{"Mark Zuckerberg", "James Cleverly"}) {
		t.Errorf("article without context: %q", got)
	}
	hits = DefaultRuleset().Engine().Run(&Input{Body: article, PostText: article})
	if len(hits) != 1 || hits[0].Rule != 10 || hits[0].Severity != Note || !strings.Contains(hits[0].Explanation, "copied from the article") {
		t.Errorf("article with itself as context: %+v", hits)
	}

	// The rules quote starred words and an obfuscated address; neither is
	// a hit of rule 3 or 12.
	rules := readSeed(t, "rules.txt")
	if hits := append(ruleHits(rules, 3), ruleHits(rules, RuleLinks)...); len(hits) > 0 {
		t.Errorf("rules text: %+v", hits)
	}
}

// The engine is shared by the daemon's goroutines: runs at the same time
// give what runs one after another give.
func TestEngineConcurrent(t *testing.T) {
	e := DefaultRuleset().Engine()
	var inputs []*Input
	for _, body := range seedComments(t) {
		inputs = append(inputs, &Input{Body: body + " What shit, see bit.ly/x, @Tim Moor. Mary Smith said FTR.",
			AuthorName: "John Smith", AuthorEmail: "noreply@example.com",
			Thread: []Comment{{AuthorName: "Tim Moore", Body: body}}})
	}
	want := make([][]Hit, len(inputs))
	for i, in := range inputs {
		want[i] = e.Run(in)
	}
	errs := make(chan string, 8*len(inputs))
	done := make(chan bool)
	for range 8 {
		go func() {
			for i, in := range inputs {
				if got := e.Run(in); !slices.Equal(got, want[i]) {
					errs <- fmt.Sprintf("input %d: got %+v, want %+v", i, got, want[i])
				}
			}
			done <- true
		}()
	}
	for range 8 {
		<-done
	}
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
