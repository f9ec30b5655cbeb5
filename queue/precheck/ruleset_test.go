package precheck

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestSeedRules(t *testing.T) {
	rules := DefaultRuleset().Rules()
	if len(rules) != 22 {
		t.Fatalf("%d rules, want 22", len(rules))
	}
	if r := rules[11]; r.Text != "Please do not post in all Caps." || r.Title != TitleCapitals || r.Severity != Flag {
		t.Errorf("rule 11 = %+v", r)
	}
	for n, r := range rules {
		if r.Number != n || r.Title == "" || r.Text == "" || len(r.Title) > 64 {
			t.Errorf("rule %d = %+v", n, r)
		}
	}
}

// The default ruleset quotes the site's rules word for word: rejection
// notices show them to commenters.
func TestDefaultRulesMatchSeed(t *testing.T) {
	line := regexp.MustCompile(`^\s*(\d+)\.\s+(.+?)\s*$`)
	rules := DefaultRuleset().Rules()
	seen := 0
	for _, l := range strings.Split(readSeed(t, "rules.txt"), "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		seen++
		// The site's page has non-breaking and double spaces; the
		// ruleset has plain single ones.
		if got, want := rules[n].Text, strings.Join(strings.Fields(m[2]), " "); got != want {
			t.Errorf("rule %d text\ngot  %q\nwant %q", n, got, want)
		}
	}
	if seen != 22 {
		t.Fatalf("read %d rules from the seed", seen)
	}
}

// The Go checks' default rule numbers and titles agree with the default
// ruleset, so a check used on its own reports what the ruleset would.
func TestDefaultTitles(t *testing.T) {
	rules := DefaultRuleset().Rules()
	for n, title := range map[int]string{
		RuleLabels: TitleLabels, RuleRepetition: TitleRepetition,
		RuleCapitals: TitleCapitals, RuleLinks: TitleLinks, RuleNames: TitleNames,
		RuleDisplayName: TitleDisplayName, RuleAbbreviations: TitleAbbreviations,
		RuleEmail: TitleEmail, RuleArrestLinks: TitleArrestLinks, RuleAddressing: TitleAddressing,
	} {
		if rules[n].Title != title {
			t.Errorf("rule %d: ruleset title %q, Go title %q", n, rules[n].Title, title)
		}
	}
}

// Every rule with a check can produce a hit through the default engine,
// and the hit carries the rule's number, title and a severity.
func TestDefaultRulesetCoversRules(t *testing.T) {
	thread := []Comment{{AuthorName: "Tim Moore", Body: "An earlier comment."}}
	copied := strings.Repeat("The registry does nothing to keep anyone safe and everyone knows it. ", 5)
	cases := map[int]Input{
		2:  {Body: "You idiot."},
		3:  {Body: "What shit."},
		4:  {Body: "Every sex offender is a person."},
		5:  {Body: "Off topic, but buy now."},
		6:  {Body: "The Republicans did this."},
		7:  {Body: "Happy birthday, old friend!"},
		8:  {Body: "We should burn it down."},
		9:  {Body: "Please put me in touch with him."},
		10: {Body: copied + copied},
		11: {Body: "THIS IS A COMMENT WRITTEN ENTIRELY IN CAPITALS."},
		12: {Body: "See bit.ly/abc."},
		14: {Body: "I spoke to Mary Johnson about it."},
		15: {Body: "Fine.", AuthorName: "Mary Johnson"},
		16: {Body: "Help me on gofundme."},
		17: {Body: "He owns a rifle."},
		18: {Body: "The PFR rules are harsh."},
		19: {Body: "Fine.", AuthorEmail: "nobody@example.com"},
		20: {Body: "Why was my comment not approved, moderators?"},
		21: {Body: "https://news.example.com/local/man-arrested-in-sting"},
		22: {Body: "@Tim Moor I agree.", Thread: thread},
	}
	rules := DefaultRuleset().Rules()
	for n, r := range rules {
		in, ok := cases[n]
		if !ok {
			if n != 1 && n != 13 {
				t.Errorf("rule %d has no case", n)
			}
			continue
		}
		found := false
		for _, h := range DefaultRuleset().Engine().Run(&in) {
			if h.Rule == n {
				found = true
				if h.Title != r.Title || h.Severity == "" || h.Explanation == "" {
					t.Errorf("rule %d hit %+v", n, h)
				}
			}
		}
		if !found {
			t.Errorf("rule %d: no hit for %q", n, in.Body)
		}
	}
}

func writeRules(t *testing.T, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "site-rules.toml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// A site overrides a rule's severity, adds a term to one of its lists,
// adds a rule of its own and turns one off.
func TestSiteRuleset(t *testing.T) {
	path := writeRules(t, `
[[rule]]
number = 17
severity = "hold"

  [[rule.check]]
  kind = "terms"
  terms = ["slingshot"]
  allow = ["rifle through"]

[[rule]]
number = 3
enabled = false

[[rule]]
number = 23
title = "No spoilers"
severity = "note"

  [[rule.check]]
  kind = "terms"
  terms = ["spoiler alert", "the butler did it"]
`)
	rs, err := LoadRuleset(path)
	if err != nil {
		t.Fatal(err)
	}
	rules := rs.Rules()
	if rules[17].Severity != Hold || rules[17].Text != "No discussions about weapons" {
		t.Errorf("rule 17 = %+v", rules[17])
	}
	if r := rules[23]; r.Title != "No spoilers" || r.Text != "No spoilers" || r.Severity != Note {
		t.Errorf("rule 23 = %+v", r)
	}
	if len(rules) != 23 || rules[3].Text == "" {
		t.Errorf("%d rules; rule 3 = %+v", len(rules), rules[3])
	}
	body := "A slingshot and a rifle, and I will rifle through the papers. Shit. Spoiler alert: the butler did it."
	got := map[string]Hit{}
	for _, h := range rs.Engine().Run(&Input{Body: body}) {
		got[h.Evidence] = h
	}
	for ev, want := range map[string]struct {
		rule int
		sev  Severity
	}{"slingshot": {17, Hold}, "rifle": {17, Hold}, "Spoiler alert": {23, Note}, "the butler did it": {23, Note}} {
		if h, ok := got[ev]; !ok || h.Rule != want.rule || h.Severity != want.sev {
			t.Errorf("%q: hit %+v, want rule %d %s", ev, h, want.rule, want.sev)
		}
	}
	if len(got) != 4 {
		t.Errorf("hits %v, want 4 (rule 3 is off, \"rifle through\" allowed)", got)
	}
	// The default is not changed by a site's file.
	if DefaultRuleset().Rules()[17].Severity != Flag {
		t.Error("the site's file changed the default ruleset")
	}
	if hits := DefaultRuleset().Engine().Run(&Input{Body: "slingshot"}); len(hits) != 0 {
		t.Errorf("default engine found the site's term: %+v", hits)
	}
}

func TestRulesetReplaceAndBase(t *testing.T) {
	rs, err := ParseRuleset("site.toml", []byte(`
[[rule]]
number = 17
  [[rule.check]]
  kind = "terms"
  replace = true
  terms = ["trebuchet"]
`))
	if err != nil {
		t.Fatal(err)
	}
	hits := rs.Engine().Run(&Input{Body: "a gun and a trebuchet"})
	if got := evidence(hits); len(got) != 1 || got[0] != "trebuchet" {
		t.Errorf("replaced list: %q", got)
	}

	rs, err = ParseRuleset("own.toml", []byte(`
base = "none"
[[rule]]
number = 1
title = "Be kind"
text = "Be kind to each other."
  [[rule.check]]
  kind = "capitals"
`))
	if err != nil {
		t.Fatal(err)
	}
	if rules := rs.Rules(); len(rules) != 1 || rules[1].Title != "Be kind" || rules[1].Severity != Flag {
		t.Errorf("own rules: %+v", rules)
	}
	hits = rs.Engine().Run(&Input{Body: "THIS IS SHOUTING AT EVERYONE ABOUT SHIT"})
	if len(hits) != 1 || hits[0].Rule != 1 || hits[0].Title != "Be kind" {
		t.Errorf("own rules hits: %+v", hits)
	}

	// Two checks of one kind: the site names the one it extends by id.
	rs, err = ParseRuleset("site.toml", []byte(`
[[rule]]
number = 2
  [[rule.check]]
  kind = "terms"
  id = "insults"
  terms = ["you muppet"]
`))
	if err != nil {
		t.Fatal(err)
	}
	hits = rs.Engine().Run(&Input{Body: "Shut up, you muppet."})
	if got := evidence(hits); len(got) != 2 || got[1] != "you muppet" || hits[1].Severity != Flag {
		t.Errorf("extended by id: %+v", hits)
	}
}

func TestLoadRulesetDefault(t *testing.T) {
	rs, err := LoadRuleset("")
	if err != nil || rs != DefaultRuleset() {
		t.Fatalf("LoadRuleset(\"\") = %p, %v", rs, err)
	}
	if _, err := LoadRuleset(filepath.Join(t.TempDir(), "missing.toml")); err == nil || !strings.Contains(err.Error(), "missing.toml") {
		t.Errorf("missing file: %v", err)
	}
	if rs, err := ParseRuleset(DefaultRulesFile, DefaultRulesTOML()); err != nil || !maps.Equal(rs.Rules(), DefaultRuleset().Rules()) {
		t.Errorf("DefaultRulesTOML is not the default ruleset: %v", err)
	}
}

// A bad ruleset fails with the file, the line and the reason.
func TestRulesetErrors(t *testing.T) {
	tests := []struct {
		name, src string
		line      int
		reason    string
	}{
		{"syntax", "[[rule]]\nnumber = 3\ntitle = \"x\n", 3, "string"},
		{"unknown key", "[[rule]]\nnumber = 3\nseverty = \"hold\"\n", 3, `unknown key "rule.severty"`},
		{"unknown check key", "[[rule]]\nnumber = 3\n[[rule.check]]\nkind = \"terms\"\nterm = [\"x\"]\n", 5, `unknown key "rule.check.term"`},
		{"wrong type", "[[rule]]\nnumber = \"three\"\n", 2, "rule.number: cannot decode TOML string into int"},
		{"no number", "[[rule]]\ntitle = \"x\"\n", 1, "rule without a number"},
		{"number range", "[[rule]]\nnumber = 0\n", 2, "not between 1 and 999"},
		{"twice", "[[rule]]\nnumber = 3\n[[rule]]\nnumber = 3\n", 4, "rule 3 is defined twice"},
		{"bad severity", "[[rule]]\nnumber = 3\nseverity = \"block\"\n", 3, `severity "block" is not one of note, flag, hold`},
		{"bad check severity", "[[rule]]\nnumber = 3\n[[rule.check]]\nkind = \"terms\"\nterms = [\"x\"]\nseverity = \"high\"\n", 6, `severity "high"`},
		{"unknown kind", "[[rule]]\nnumber = 3\n[[rule.check]]\nkind = \"regexp\"\n", 4, `unknown check kind "regexp"`},
		{"no kind", "[[rule]]\nnumber = 3\n[[rule.check]]\nterms = [\"x\"]\n", 3, "a check needs a kind"},
		{"key of another kind", "[[rule]]\nnumber = 11\n[[rule.check]]\nkind = \"capitals\"\nterms = [\"x\"]\n", 5, `a capitals check has no key "terms"`},
		{"starred term", "[[rule]]\nnumber = 3\n[[rule.check]]\nkind = \"terms\"\n\nterms = [\"f*k\"]\n", 6, `"f*k" contains '*'`},
		{"empty term", "[[rule]]\nnumber = 30\ntitle = \"t\"\n[[rule.check]]\nkind = \"terms\"\nterms = [\"--\"]\n", 6, `"--" has no letters`},
		{"no terms", "[[rule]]\nnumber = 30\ntitle = \"t\"\n[[rule.check]]\nkind = \"terms\"\n", 4, "no terms"},
		{"new rule without title", "[[rule]]\nnumber = 30\n", 1, "a new rule needs a title"},
		{"share", "[[rule]]\nnumber = 11\n[[rule.check]]\nkind = \"capitals\"\nmin_share = 70\n", 5, "70 is not between 0 and 1"},
		{"ambiguous", "[[rule]]\nnumber = 2\n[[rule.check]]\nkind = \"terms\"\nterms = [\"x\"]\n", 4, "several checks of kind \"terms\""},
		{"label without alternative", "[[rule]]\nnumber = 4\n[[rule.check]]\nkind = \"labels\"\n[rule.check.labels]\n\"thug\" = \"\"\n", 5, `"thug" has no person-first alternative`},
		{"base", "base = \"seed\"\n", 1, `base "seed"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeRules(t, tt.src)
			_, err := LoadRuleset(path)
			if err == nil {
				t.Fatal("no error")
			}
			want := path + ":" + strconv.Itoa(tt.line) + ": "
			if !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q\nwant %q…%q", err, want, tt.reason)
			}
			var re *RulesetError
			if !errors.As(err, &re) || re.File != path || re.Line != tt.line {
				t.Errorf("error %#v is not a RulesetError at line %d", err, tt.line)
			}
		})
	}
}

// FuzzRuleset feeds the loader arbitrary files: it must return a ruleset
// or an error, never panic, and a ruleset it returns must run.
func FuzzRuleset(f *testing.F) {
	f.Add(string(defaultRulesTOML))
	f.Add("[[rule]]\nnumber = 3\nseverity = \"hold\"\n[[rule.check]]\nkind = \"terms\"\nterms = [\"heck\"]\n")
	f.Add("base = \"none\"\n[[rule]]\nnumber = 1\ntitle = \"t\"\n[[rule.check]]\nkind = \"labels\"\nlabels = { thug = \"person\" }\n")
	f.Add("[[rule]]\nnumber = 2\n[[rule.check]]\nkind = \"terms\"\nid = \"rude\"\nreplace = true\nterms = [\"a b c\"]\n")
	f.Add("[[rule]]\nnumber = 10\n[[rule.check]]\nkind = \"repetition\"\nsimilarity = 0.5\nmin_chars = 1\n")
	f.Add("[[rule]]\nnumber = 1\ncheck = [{kind = \"capitals\", min_letters = 1}]\n")
	f.Fuzz(func(t *testing.T, src string) {
		rs, err := ParseRuleset("fuzz.toml", []byte(src))
		if err != nil {
			var re *RulesetError
			if !errors.As(err, &re) {
				t.Fatalf("error %v is not a RulesetError", err)
			}
			return
		}
		body := "Some text, SOME SHOUTING, a gun, sh1t, FTR, https://bit.ly/x and @Tim."
		checkSpans(t, body, rs.Engine().Run(&Input{Body: body, AuthorName: "Mary Smith", AuthorEmail: "x@example.com",
			Thread: []Comment{{AuthorName: "Tim Moore", Body: body}}}))
	})
}
