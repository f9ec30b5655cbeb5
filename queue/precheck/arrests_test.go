package precheck

import (
	"slices"
	"testing"
)

func TestArrestLinks(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string // evidence, then severity
	}{
		{"in the address", "See https://www.latimes.com/california/story/2023-12-01/man-arrested-in-sting for it.",
			[]string{"https://www.latimes.com/california/story/2023-12-01/man-arrested-in-sting", "hold"}},
		{"scheme-less", "news.example.com/local/teacher-charged-with-abuse", []string{"news.example.com/local/teacher-charged-with-abuse", "hold"}},
		{"lead-in", "He was arrested last week, here is the story:\nhttps://news.example.com/story/123", []string{"https://news.example.com/story/123", "flag"}},
		{"same line after", "https://news.example.com/story/123 (he is accused of fraud)", []string{"https://news.example.com/story/123", "flag"}},
		{"conviction", "https://news.example.com/local/man-sentenced-after-conviction", nil},
		{"host only", "https://arrested-development.example.com/", nil},
		{"no link", "He was arrested and charged.", nil},
		{"far away", "He was arrested.\n\nIn other news, https://news.example.com/story/123", nil},
		{"guardian article", "https://www.theguardian.com/technology/2023/dec/07/uk-accuses-meta-of-empowering-child-sexual-abusers", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits := DefaultRuleset().Engine().Run(&Input{Body: tt.body})
			checkSpans(t, tt.body, hits)
			var got []string
			for _, h := range hits {
				if h.Rule == RuleArrestLinks {
					got = append(got, h.Evidence, string(h.Severity))
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("body %q\ngot  %q\nwant %q", tt.body, got, tt.want)
			}
		})
	}
	// On its own, the zero value has no words and finds nothing.
	if hits := New(&ArrestLinks{}).Run(&Input{Body: tests[0].body}); len(hits) != 0 {
		t.Errorf("zero value: %+v", hits)
	}
	c := &ArrestLinks{Terms: []string{"busted"}}
	if hits := New(c).Run(&Input{Body: "https://x.example.com/busted"}); len(hits) != 1 || hits[0].Title != TitleArrestLinks || hits[0].Severity != Hold {
		t.Errorf("own terms: %+v", hits)
	}
}
