package precheck

import (
	"slices"
	"strings"
	"testing"
)

func TestNames(t *testing.T) {
	article := readSeed(t, "article.txt")
	thread := []Comment{{AuthorName: "Janice B", Body: "I wrote to Senator Wiener about it."}}
	tests := []struct {
		name, body string
		want       []string
	}{
		{"first and last", "I spoke to Mary Johnson yesterday.", []string{"Mary Johnson"}},
		{"at the start", "Robert Smith agrees.", []string{"Robert Smith"}},
		{"middle initial", "Like John F. Kennedy said.", []string{"John F. Kennedy"}},
		{"hyphen and apostrophe", "Ask Sarah O'Brien-Smith.", []string{"Sarah O'Brien-Smith"}},
		{"title", "Judge Hernandez ruled on it, and Governor Newsom signed.", []string{"Judge Hernandez", "Governor Newsom"}},
		{"first name alone", "Ask Kevin about it.", []string{"Kevin"}},
		{"two names", "Both Linda Park and Peter Wu agree.", []string{"Linda Park", "Peter Wu"}},

		// In the article, the thread or the allow list.
		{"in the article", "Mark Zuckerberg and James Cleverly again.", nil},
		{"surname from the article", "Zuckerberg and Cleverly, and Home Secretary Cleverly.", nil},
		{"first name from the article", "Even James knows it.", nil},
		{"in the thread", "Senator Wiener, as Janice B said.", nil},
		{"law named after a person", "Megan’s Law and the Adam Walsh Act and an Amber Alert.", nil},
		{"Jesus", "Jesus Christ, not again.", nil},

		// Not names.
		{"first name at a sentence start", "Will this ever end? May it end soon. Grace is needed.", nil},
		{"ambiguous names", "In May and June, I will hope. Ask Frank questions.", nil},
		{"words after a name that are not surnames", "Will Congress act? Mark Twain is a name, but Mark Act is not.", []string{"Mark Twain"}},
		{"place", "We drove to Virginia and then Dallas.", nil},
		{"title alone", "The Judge said no. The President spoke.", nil},
		{"acronyms", "The NCA and the UK and Meta.", nil},
		{"lower case", "john smith wrote that.", nil},
		{"in a link", "See https://example.com/Mary-Johnson-story for it.", nil},
		{"at-mention", "@Mary Johnson is a commenter.", nil},
		{"god", "God knows CSAM is beyond awful.", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The default ruleset's names check, with its allow list.
			in := &Input{Body: tt.body, PostText: article, Thread: thread}
			var hits []Hit
			for _, h := range DefaultRuleset().Engine().Run(in) {
				if h.Rule == RuleNames {
					hits = append(hits, h)
				}
			}
			checkSpans(t, tt.body, hits)
			if got := evidence(hits); !slices.Equal(got, tt.want) {
				t.Errorf("body %q\ngot  %q\nwant %q", tt.body, got, tt.want)
			}
			for _, h := range hits {
				if h.Rule != RuleNames || h.Severity != Flag || !strings.Contains(h.Explanation, h.Evidence) {
					t.Errorf("hit %+v", h)
				}
			}
		})
	}
}

func TestNamesOptions(t *testing.T) {
	c := &Names{FirstNames: []string{"Zebulon"}, Titles: []string{"Lord"}, NotNames: []string{"Street"}, Allow: []string{"Lord Vader"}}
	body := "Zebulon Pike met Lord Vader and Lord Nelson on Zebulon Street."
	got := evidence(New(c).Run(&Input{Body: body}))
	if want := []string{"Zebulon Pike", "Lord Nelson"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestDisplayName(t *testing.T) {
	tests := []struct {
		name string
		want []string // explanations start with these
	}{
		{"", nil},
		{"Facts Not Fear", nil},
		{"Tired Registrant", nil},
		{"Mark", nil},
		{"Commenter 1", nil},
		{"AJ", nil},
		{"Mary Johnson", []string{"display name looks like a real person's full name"}},
		{"John Q. Public", []string{"display name looks like a real person's full name"}},
		{"  Robert Smith ", []string{"display name looks like a real person's full name"}},
		{"mary johnson", nil},
		{"Will Power", []string{"display name looks like a real person's full name"}}, // a pun, but reads as a name
		{"Registrants For Fairness In California", []string{"display name is 38 characters long"}},
		{"see www.example.com", []string{"display name contains a link"}},
		{"bob@example.org", []string{"display name contains an e-mail address"}},
	}
	for _, tt := range tests {
		hits := New(&DisplayName{}).Run(&Input{Body: "Fine.", AuthorName: tt.name})
		checkSpans(t, "Fine.", hits)
		var got []string
		for i, h := range hits {
			if h.Start != 0 || h.End != 0 || h.Evidence != strings.TrimSpace(tt.name) || h.Rule != RuleDisplayName {
				t.Errorf("%q: hit %+v", tt.name, h)
			}
			if i < len(tt.want) && strings.HasPrefix(h.Explanation, tt.want[i]) {
				got = append(got, tt.want[i])
			} else {
				got = append(got, h.Explanation)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%q: got %q, want %q", tt.name, got, tt.want)
		}
	}
}
