package precheck

import (
	"slices"
	"strings"
	"testing"
)

func TestAddressing(t *testing.T) {
	thread := []Comment{
		{AuthorName: "Tim Moore", Body: "First."},
		{AuthorName: "Facts Not Fear", Body: "Second."},
		{AuthorName: "AJ", Body: "Third."},
		{AuthorName: "Tim Moore", Body: "Fourth."},
	}
	tests := []struct {
		name, body string
		want       []string // evidence, then the reason in the explanation
	}{
		{"exact", "@Tim Moore, you are right. @Facts Not Fear too. @AJ also.", nil},
		{"exact mid-sentence", "As @Tim Moore said, it is so.", nil},
		{"case", "@tim moore you are right.", []string{"@tim moore", "differs in case"}},
		{"spacing", "@TimMoore you are right.", []string{"@TimMoore", "differs in spacing or punctuation"}},
		{"misspelt", "@Tim Moor you are right.", []string{"@Tim Moor", "is misspelt"}},
		{"shortened", "@Tim, you are right.", []string{"@Tim", "is shortened"}},
		{"possessive", "I agree with @Tim Moore's point.", nil},
		{"leading", "Tim Moor, you are right.", []string{"Tim Moor", "is misspelt"}},
		{"leading greeting", "Dear facts not fear: no.", []string{"facts not fear", "differs in case"}},
		{"leading exact", "Tim Moore, you are right.", nil},
		{"leading word", "So, what now? Well, nothing.", nil},
		{"nobody near", "@Zorro and Bob, hello.", nil},
		{"e-mail address", "write to tim.moore@gmail.com", nil},
		{"short name exact only", "@Aj hi", []string{"@Aj", "differs in case"}},
		{"short name no distance", "@AK hi", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits := New(&Addressing{}).Run(&Input{Body: tt.body, Thread: thread})
			checkSpans(t, tt.body, hits)
			var got []string
			for _, h := range hits {
				got = append(got, h.Evidence)
				if i := strings.Index(h.Explanation, `" `); i > 0 {
					got = append(got, strings.SplitN(h.Explanation[i+2:], ":", 2)[0])
				}
				if h.Rule != RuleAddressing || h.Severity != Flag {
					t.Errorf("hit %+v", h)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("body %q\ngot  %q\nwant %q", tt.body, got, tt.want)
			}
		})
	}
	if hits := New(&Addressing{}).Run(&Input{Body: "@tim moore hi"}); len(hits) != 0 {
		t.Errorf("no thread: %+v", hits)
	}
}

func TestDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"tim", "tim", 0}, {"tim", "tom", 1}, {"moore", "moor", 1}, {"ab", "ba", 1}, {"kitten", "sitting", 3}, {"é", "e", 1}} {
		if d := distance(tt.a, tt.b); d != tt.d {
			t.Errorf("distance(%q, %q) = %d, want %d", tt.a, tt.b, d, tt.d)
		}
	}
}
