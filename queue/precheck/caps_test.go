package precheck

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The attack of issue 11 §5: one submission with tens of thousands of
// short links made as many hits, each stored, mailed to the commenter and
// listed in every moderator's digest. Now a rule lists MaxHitsPerRule and
// counts the rest in one hit, a comment keeps MaxHitsPerComment, and the
// counts add up to what was found.
func TestHitCaps(t *testing.T) {
	var links, mixed strings.Builder
	for i := 0; links.Len() < MaxCheckedBytes-32; i++ {
		fmt.Fprintf(&links, "bit.ly/%x ", i)
	}
	for i := 0; mixed.Len() < 30000; i++ {
		fmt.Fprintf(&mixed, "bit.ly/%x SHOUTING LOUDLY AT EVERYONE HERE shit idiot. @Tim Moor FTR. ", i)
	}
	e := DefaultRuleset().Engine()
	for _, tc := range []struct {
		name string
		body string
	}{
		{"short links", links.String()},
		{"many rules", mixed.String()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := &Input{Body: tc.body, AuthorName: "Reader", AuthorEmail: "reader@gmail.com"}
			hits := e.Run(in)
			checkSpans(t, in.Body, hits)
			if len(hits) > MaxHitsPerComment {
				t.Errorf("%d hits, want at most %d", len(hits), MaxHitsPerComment)
			}
			perRule := map[int]int{}
			more := 0
			moreRe := regexp.MustCompile(`; and (\d+) more hits? of rules? [\d, ]+, not listed$`)
			for _, h := range hits {
				perRule[h.Rule]++
				if m := moreRe.FindStringSubmatch(h.Explanation); m != nil {
					n, _ := strconv.Atoi(m[1])
					more += n
				}
			}
			for r, n := range perRule {
				if n > MaxHitsPerRule+1 {
					t.Errorf("rule %d: %d hits, want at most %d", r, n, MaxHitsPerRule+1)
				}
			}
			if more == 0 {
				t.Fatalf("no summary hit (\"and N more\") in %d hits", len(hits))
			}
			// Nothing found is lost from the count: the uncapped hits
			// are as many as the listed ones and the summarised ones.
			all := dropCovered(uncapped(e, in))
			t.Logf("%d found, %d listed", len(all), len(hits))
			if len(hits)+more != len(all) {
				t.Errorf("%d listed + %d summarised, but %d found", len(hits), more, len(all))
			}
		})
	}
}

// uncapped runs e's checks as Run does, without the caps.
func uncapped(e *Engine, in *Input) []Hit {
	t := newText(in.Body)
	defer t.release()
	e.scanTerms(t)
	var hits []Hit
	for i, c := range e.checks {
		hits = append(hits, e.runCheck(i, c, in, t)...)
	}
	return hits
}

// A comment longer than MaxCheckedBytes is checked up to there, and a
// last hit says where checking stopped, so the moderator reads the rest.
func TestTooLongToCheck(t *testing.T) {
	body := strings.Repeat("A calm sentence about the article. ", (2*MaxCheckedBytes)/35) + "shit"
	hits := DefaultRuleset().Engine().Run(&Input{Body: body})
	checkSpansEngine(t, body, hits)
	last := hits[len(hits)-1]
	if last.Rule != RuleEngine || last.Start > MaxCheckedBytes || last.Start < MaxCheckedBytes*3/4 ||
		!strings.Contains(last.Explanation, "only the first 64 KiB") {
		t.Errorf("last hit %+v, want where checking stopped", last)
	}
	for _, h := range hits {
		if h.Evidence == "shit" {
			t.Errorf("the text after MaxCheckedBytes was checked: %+v", h)
		}
	}
	if h := DefaultRuleset().Engine().Run(&Input{Body: body[:MaxCheckedBytes]}); len(h) > 0 && h[len(h)-1].Rule == RuleEngine {
		t.Errorf("a body of MaxCheckedBytes got %+v", h[len(h)-1])
	}
}

// checkSpansEngine is checkSpans allowing the engine's own hit (rule 0).
func checkSpansEngine(t *testing.T, body string, hits []Hit) {
	t.Helper()
	var rest []Hit
	for _, h := range hits {
		if h.Rule != RuleEngine {
			rest = append(rest, h)
		} else if body[h.Start:h.End] != h.Evidence {
			t.Fatalf("engine hit %+v: evidence is not its span", h)
		}
	}
	checkSpans(t, body, rest)
}

// capHits on made-up hits: the per-rule cap, then the per-comment one
// keeping the most severe, with the counts adding up.
func TestCapHitsCounts(t *testing.T) {
	mk := func(rules, each int, sev func(r int) Severity) []Hit {
		var hs []Hit
		for i := 0; i < each; i++ {
			for r := 1; r <= rules; r++ {
				at := (i*rules + r) * 2
				hs = append(hs, Hit{Rule: r, Title: "t", Severity: sev(r), Start: at, End: at + 1, Explanation: "why."})
			}
		}
		return hs
	}
	note := func(int) Severity { return Note }
	for _, tc := range []struct {
		name      string
		hits      []Hit
		wantLen   int
		wantHolds int
	}{
		{"under the caps", mk(3, 10, note), 30, 0},
		{"one over a rule's cap is listed", mk(1, MaxHitsPerRule+1, note), MaxHitsPerRule + 1, 0},
		{"one rule", mk(1, 48000, note), MaxHitsPerRule + 1, 0},
		{"many rules", mk(8, 10, note), MaxHitsPerComment, 0},
		{"holds first", mk(8, 10, func(r int) Severity {
			if r == 8 {
				return Hold
			}
			return Note
		}), MaxHitsPerComment, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := capHits(tc.hits)
			if len(got) != tc.wantLen {
				t.Fatalf("%d hits, want %d", len(got), tc.wantLen)
			}
			more, holds := 0, 0
			for i, h := range got {
				if i > 0 && got[i-1].Start > h.Start {
					t.Fatalf("not sorted by Start")
				}
				if h.Severity == Hold {
					holds++
				}
				var n int
				if _, err := fmt.Sscanf(h.Explanation[strings.Index(h.Explanation+"; and ", "; and "):], "; and %d more", &n); err == nil {
					more += n
				}
			}
			if holds < tc.wantHolds {
				t.Errorf("%d holds kept, want %d", holds, tc.wantHolds)
			}
			if len(got)+more != len(tc.hits) {
				t.Errorf("%d listed + %d summarised, want %d", len(got), more, len(tc.hits))
			}
		})
	}
}
