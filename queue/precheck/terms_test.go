package precheck

import (
	"slices"
	"strings"
	"testing"
)

func TestTerms(t *testing.T) {
	c := &Terms{
		Rule: 17, Title: "Weapons",
		Terms: []string{"gun", "rifle", "concealed carry", "ar-15", "Glock", "NRA", "smith & wesson", "paypal.me"},
		Allow: []string{"smoking gun", "jump the gun"},
	}
	runEvidenceCases(t, c, []evidenceCase{
		{"word", "He has a gun.", []string{"gun"}},
		{"plural", "Guns, rifles.", []string{"Guns", "rifles"}},
		{"phrase", "Concealed  carry permits", []string{"Concealed  carry"}},
		{"phrase with hyphen", "a concealed-carry permit", []string{"concealed-carry"}},
		{"phrase split by a sentence", "It was concealed. Carry on.", nil},
		{"phrase split by a paragraph", "concealed\n\ncarry", nil},
		{"digits", "an AR-15 and an ar 15", []string{"AR-15", "ar 15"}},
		{"leet", "a g0n? no, a r1fle", []string{"r1fle"}},
		{"spaced", "a g u n here", []string{"g u n"}},
		{"stretched", "a guuun", []string{"guuun"}},
		{"accents", "a rífle", []string{"rífle"}},
		{"full width", "ｇｕｎ", []string{"ｇｕｎ"}},
		{"capitalised term", "a Glock, a glock", []string{"Glock"}},
		{"capitals term", "the NRA, the Nra", []string{"NRA"}},
		{"ampersand", "a Smith & Wesson", []string{"Smith & Wesson"}},
		{"dotted", "send it to paypal.me/x", []string{"paypal.me"}},
		{"idiom", "the smoking gun, don't jump the gun", nil},
		{"idiom and term", "the smoking gun was a gun", []string{"gun"}},
		{"starred", "a g*n", nil},
		{"inside words", "begun, gunther, shotgunned, trifle, rifled", nil},
		{"no terms", "", nil},
	})
}

// Only regular plurals are added to a list: other inflections must be
// listed.
func TestTermsNoOtherInflections(t *testing.T) {
	hits := New(&Terms{Rule: 1, Title: "t", Terms: []string{"kill"}}).Run(&Input{Body: "kills killed killing"})
	if got := evidence(hits); !slices.Equal(got, []string{"kills"}) {
		t.Errorf("got %q, want only the plural", got)
	}
}

func TestTermsExplain(t *testing.T) {
	c := &Terms{Rule: 5, Title: "t", Terms: []string{"crap"}, Explain: `"{match}" ({term}) → {starred}`}
	hits := New(c).Run(&Input{Body: "Craaap"})
	if len(hits) != 1 || hits[0].Explanation != `"Craaap" (crap) → C****p` || hits[0].Severity != Flag {
		t.Fatalf("hits = %+v", hits)
	}
}

func TestLabels(t *testing.T) {
	c := &Labels{
		Labels: map[string]string{"sex offender": "person required to register", "registered sex offender": "registrant",
			"RSO": "registrant", "felon": "person with a felony conviction"},
		Allow: []string{"sex offender registry"},
	}
	runEvidenceCases(t, c, []evidenceCase{
		{"label", "He is a sex offender.", []string{"sex offender"}},
		{"plural", "Sex offenders and felons", []string{"Sex offenders", "felons"}},
		{"longest", "a registered sex offender", []string{"registered sex offender"}},
		{"capitals", "RSOs and the rso", []string{"RSOs"}},
		{"the registry", "the sex offender registry", nil},
		{"person-first", "a person required to register", nil},
		{"inside words", "offenders, felony", nil},
	})
	hits := New(c).Run(&Input{Body: "the registered sex offenders"})
	if len(hits) != 1 || hits[0].Rule != RuleLabels || hits[0].Title != TitleLabels ||
		!strings.Contains(hits[0].Explanation, `"registrant"`) {
		t.Errorf("hits = %+v", hits)
	}
}

// termCase is a comment and the evidence the default ruleset should find
// for one rule in it.
type termCase struct {
	body string
	want []string // nil: no hit of the rule
}

// The term-list rules of the default ruleset, each with comments that
// break it and near misses that a naive filter would flag.
func TestDefaultTermRules(t *testing.T) {
	tests := map[int][]termCase{
		2: {
			{"You idiot, read the law.", []string{"You idiot"}},
			{"Oh shut up already.", []string{"shut up"}},
			{"That law is idiotic.", []string{"idiotic"}},
			{"It would be foolish to think so.", nil},
			{"They shut up shop and left.", []string{"shut up"}}, // a known false positive of the list
		},
		3: {
			{"This is bullshit.", []string{"bullshit"}},
			{"A f*k and s*t and a** are fine.", nil},
			{"Scunthorpe, assessment, class, passion.", nil},
			{"Dick Cheney said it.", nil},
		},
		4: {
			{"All sex offenders are people.", []string{"sex offenders"}},
			{"Not every pedophile is a predator.", []string{"pedophile", "predator"}},
			{"The sex offender registry keeps growing.", nil},
			{"People forced to register (PFR) and their families.", nil},
			{"Offenders must be brought to justice.", nil},
		},
		5: {
			{"Off topic, but has anyone tried this?", []string{"Off topic"}},
			{"Earn money fast with bitcoin!", []string{"Earn money", "bitcoin"}},
			{"The topic of encryption is on point.", nil},
			{"Cryptography protects everyone.", nil},
		},
		6: {
			{"The Republicans and Biden both failed us.", []string{"Republicans", "Biden"}},
			{"Typical libtard nonsense.", []string{"libtard"}},
			{"That was a trump card, a democratic process and a republican form of government.", nil},
		},
		7: {
			{"Happy birthday, Sam!", []string{"Happy birthday"}},
			{"DM me for details.", []string{"DM me"}},
			{"This, my friends, is the fox guarding the henhouse.", nil},
		},
		8: {
			{"They should all be shot.", []string{"should all be shot"}},
			{"Just don't register, they can't catch everyone.", []string{"don't register"}},
			{"Kill them with kindness.", []string{"Kill them"}}, // a known false positive of the list
			{"Terrorists plan a deadly attack; they shoot photos.", nil},
			{"Remember to register on time.", nil},
		},
		9: {
			{"Could someone put me in touch with the author?", []string{"put me in touch"}},
			{"My address is free@mail.com if anyone wants to talk.", nil},
		},
		16: {
			{"Please donate to my legal defense fund on GoFundMe.", []string{"Please donate", "legal defense fund", "GoFundMe"}},
			{"Venmo me or use Cash App.", []string{"Venmo", "Cash App"}},
			{"The state funds the registry with our money.", nil},
		},
		17: {
			{"I own a gun and two rifles.", []string{"gun", "rifles"}},
			{"That email is the smoking gun; we must bite the bullet and stick to our guns.", nil},
			{"Don't jump the gun. He dodged a bullet. Three bullet points.", nil},
			{"Begun, shotgunned, bulletin, gunther.", nil},
			{"They weaponized the registry.", nil},
		},
		20: {
			{"Why was my comment not approved?", []string{"Why was my"}},
			{"The moderators should explain.", []string{"moderators"}},
			{"My commentary on the law follows.", nil},
		},
	}
	for rule, cases := range tests {
		for _, tc := range cases {
			hits := DefaultRuleset().Engine().Run(&Input{Body: tc.body})
			checkSpans(t, tc.body, hits)
			var got []string
			for _, h := range hits {
				if h.Rule == rule {
					got = append(got, h.Evidence)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("rule %d: %q\ngot  %q\nwant %q", rule, tc.body, got, tc.want)
			}
		}
	}
}
