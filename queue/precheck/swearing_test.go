package precheck

import (
	"slices"
	"strings"
	"testing"
)

// ruleHits runs the default ruleset over body and returns the hits of
// rule.
func ruleHits(body string, rule int) []Hit {
	var out []Hit
	for _, h := range DefaultRuleset().Engine().Run(&Input{Body: body}) {
		if h.Rule == rule {
			out = append(out, h)
		}
	}
	return out
}

// Rule 3 of the default ruleset finds swear words that are not starred
// out: whole words, case-folded, with leetspeak, spaced and stretched
// letters folded first, and not words that only contain one.
func TestSwearing(t *testing.T) {
	for _, tc := range []evidenceCase{
		{"clean", "Law enforcement can and does have ways of enforcing the law.", nil},
		{"plain", "This is shit.", []string{"shit"}},
		{"capitals", "WHAT THE FUCK", []string{"FUCK"}},
		{"inflection", "They fucked it up, the fucking idiots.", []string{"fucked", "fucking"}},
		{"compound by stem", "Total bullshit from a motherfucker.", []string{"bullshit", "motherfucker"}},
		{"shitty", "A shitty law.", []string{"shitty"}},
		{"several words", "You bastard, you asshole, damn you, bitch.", []string{"bastard", "asshole", "damn", "bitch"}},
		{"crap and piss", "What crap. I'm pissed.", []string{"crap", "pissed"}},
		{"possessive", "That shit's wild.", []string{"shit"}},
		{"hyphenated", "A half-assed bull-shit plan.", []string{"assed", "shit"}},
		{"leet digits", "sh1t and f4ck and a55", []string{"sh1t", "a55"}},
		{"leet symbols", "@ss, $hit and sh!t", []string{"@ss", "$hit", "sh!t"}},
		{"stretched", "shiiiit and fuuuuck and asssss", []string{"shiiiit", "fuuuuck", "asssss"}},
		{"spaced", "what a s h i t show", []string{"s h i t"}},
		{"dotted", "f.u.c.k this", []string{"f.u.c.k"}},
		{"emphasis stars", "this is *shit*", []string{"shit"}},
		{"accents", "shít happens", []string{"shít"}},
		{"combining accents", "s\u0301h\u0301i\u0301t\u0301 happens", []string{"s\u0301h\u0301i\u0301t\u0301"}},
		{"full width", "ｓｈｉｔ", []string{"ｓｈｉｔ"}},
		{"trailing bang", "shit!", []string{"shit"}},
		{"name mid-sentence is a name", "I voted against Dick Cheney.", nil},
		{"name word at sentence start", "Dick. That is what he is.", []string{"Dick"}},
		{"lower-case dick", "what a dick", []string{"dick"}},

		// Starred out, as rule 3 asks.
		{"rule 3 examples", "Swear words should be starred out such as f*k and s*t and a**", nil},
		{"starred", "f**k, sh*t, b*tch, a**hole, c**t", nil},

		// Innocent words.
		{"scunthorpe", "I grew up in Scunthorpe.", nil},
		{"assessment", "An assessment of the class and its passion.", nil},
		{"assess", "We must assess the assets; he assesses it.", nil},
		{"bass", "Bass, grass, mass, pass, Massachusetts.", nil},
		{"assassin", "The assassin's assistant.", nil},
		{"dickens", "Charles Dickens wrote about it.", nil},
		{"as", "as as as", nil},
		{"cocktail", "Cockburn, Hancock and a cocktail.", nil},
		{"shiitake", "Shiitake mushrooms.", nil},
		{"therapist", "A therapist in Essex.", nil},
		{"numbers", "Case 455 and 5h0", nil},
		{"spaced innocent letters", "the U S A and a b c", nil},
		{"e-mail", "write to bob@example.org", nil},
		{"hashtag", "#crapshoot", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hits := ruleHits(tc.body, 3)
			checkSpans(t, tc.body, hits)
			if got := evidence(hits); !slices.Equal(got, tc.want) {
				t.Errorf("body %q\ngot  %q\nwant %q", tc.body, got, tc.want)
			}
		})
	}
}

func TestSwearingExplanation(t *testing.T) {
	hits := ruleHits("oh shit", 3)
	if len(hits) != 1 || !strings.Contains(hits[0].Explanation, "s**t") {
		t.Fatalf("hits = %+v, want one explaining the starred form s**t", hits)
	}
}

func TestSwearingSpacedLonger(t *testing.T) {
	hits := ruleHits("you f u c k e r", 3)
	if got := evidence(hits); len(got) != 1 || got[0] != "f u c k e r" {
		t.Fatalf("evidence %q", got)
	}
}
