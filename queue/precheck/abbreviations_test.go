package precheck

import (
	"slices"
	"testing"
)

func TestAbbreviations(t *testing.T) {
	thread := []Comment{{AuthorName: "a", Body: "Failure To Register (FTR) is a crime."}}
	article := "the police and NCA [National Crime Agency] and the RSC (Regional Safety Council)"
	tests := []struct {
		name, body string
		want       []string
	}{
		{"unexpanded", "The PFR rules and PFRs.", []string{"PFR"}},
		{"expanded before", "A Person Forced to Register (PFR) knows. PFRs do.", nil},
		{"expanded after", "PFR (person forced to register) is the term.", nil},
		{"expanded with dash", "RC - Registered Citizen - is better.", nil},
		{"small words", "The Sex Offender Registration and Notification Act (SORNA) and SORNA.", nil},
		{"in the thread", "FTR is common.", nil},
		{"in the article", "The RSC said so.", nil},
		{"common", "The UK, USA, FBI, NSA, KGB, CSAM, NCA, OK, TV, PDF and URL.", nil},
		{"each once", "FCI here and FCI there, and the FCI’s.", []string{"FCI"}},
		{"possessive", "The FCI’s continue to fill.", []string{"FCI"}},
		{"shouting", "THIS IS WHAT THEY DO TO ALL OF US.", nil},
		{"mixed case", "An iPhone, a PhD, eBay.", nil},
		{"digits", "AB 1234 and SB1 and PC290 and 2A.", nil},
		{"single letters", "I said A and B.", nil},
		{"in a link", "see https://example.com/FTR/PFR", nil},
		{"two unexpanded", "The RSO and the SOMB met.", []string{"RSO", "SOMB"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits := New(&Abbreviations{}).Run(&Input{Body: tt.body, Thread: thread, PostText: article})
			checkSpans(t, tt.body, hits)
			if got := evidence(hits); !slices.Equal(got, tt.want) {
				t.Errorf("body %q\ngot  %q\nwant %q", tt.body, got, tt.want)
			}
			for _, h := range hits {
				if h.Rule != RuleAbbreviations || h.Severity != Note {
					t.Errorf("hit %+v", h)
				}
			}
		})
	}
}
