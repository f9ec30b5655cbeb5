package precheck

import (
	"strings"
	"testing"
)

func TestRepetition(t *testing.T) {
	earlier := "The registry punishes people long after they have served their sentences, and it does nothing to keep children safe. " +
		"Study after study shows that recidivism is low, yet the laws keep getting harsher every single year in every state."
	article := readSeed(t, "article.txt")
	unique := uniqueText(700)
	earlierLong := earlier + " Courts have said so again and again, and still the politicians add new rules: " +
		"residency limits, internet identifiers, passport marks, and whatever else makes a good headline."
	repeated := "This point bears repeating because nobody in the legislature seems to listen to the facts about recidivism at all, ever. "
	tests := []struct {
		name, body string
		want       []string // explanations start with these
	}{
		{"short", "I agree.", nil},
		{"own words", "I think the registry should be abolished, because it does not work and it hurts families who did nothing wrong at all. " + unique, nil},
		{"near duplicate", earlier + " Right?", []string{"97% the same as an earlier comment by \"Tim Moore\""}},
		{"copied passage", unique + " " + earlierLong + " And more.", []string{"a passage of 406 characters copied from an earlier comment by \"Long\""}},
		{"repeated within", repeated + repeated + repeated + repeated + unique, []string{"a passage of 361 characters is repeated within the comment"}},
		{"short quote of the article", "“" + article[strings.Index(article, "Law enforcement"):strings.Index(article, "The new features")] + "” Nonsense.", nil},
		{"article pasted", "I found this: " + article[strings.Index(article, "Mark Zuckerberg"):] + " That's it.", []string{"a passage of 1336 characters copied from the article"}},
	}
	thread := []Comment{{AuthorName: "Tim Moore", Body: earlier}, {AuthorName: "Other", Body: "Something else entirely, and short."},
		{AuthorName: "Long", Body: "Before that: " + earlierLong}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits := New(&Repetition{}).Run(&Input{Body: tt.body, Thread: thread, PostText: article})
			checkSpans(t, tt.body, hits)
			if len(hits) != len(tt.want) {
				t.Fatalf("%d hits, want %d: %+v", len(hits), len(tt.want), hits)
			}
			for i, h := range hits {
				if !strings.HasPrefix(h.Explanation, tt.want[i]) || h.Rule != RuleRepetition {
					t.Errorf("hit %+v, want explanation %q", h, tt.want[i])
				}
			}
		})
	}
}

// uniqueText returns about n bytes of words that never repeat five in a
// row.
func uniqueText(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		b.WriteString(strings.Repeat("x", i%7+1) + " word" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + " ")
	}
	return b.String()
}

func TestRepetitionSeverities(t *testing.T) {
	article := uniqueText(800)
	hits := New(&Repetition{}).Run(&Input{Body: "Look: " + article, PostText: "An introduction. " + article})
	if len(hits) != 1 || hits[0].Severity != Note || !strings.Contains(hits[0].Explanation, "copied from the article") {
		t.Fatalf("article copy: %+v", hits)
	}
	c := &Repetition{Severity: Hold, ArticleSeverity: Flag, ArticleChars: 100}
	hits = New(c).Run(&Input{Body: article[:200], PostText: article})
	if len(hits) != 1 || hits[0].Severity != Flag {
		t.Fatalf("custom article severity: %+v", hits)
	}
}

// A comment that repeats one word thousands of times against a thread that
// does too stays linear.
func TestRepetitionDegenerate(t *testing.T) {
	body := strings.Repeat("ha ", 20000)
	hits := New(&Repetition{}).Run(&Input{Body: body, Thread: []Comment{{Body: body}, {Body: body}}, PostText: body})
	checkSpans(t, body, hits)
	if len(hits) == 0 {
		t.Fatal("no hits")
	}
}
