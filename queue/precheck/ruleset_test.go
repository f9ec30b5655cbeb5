package precheck

import "testing"

func TestSeedRules(t *testing.T) {
	rules := SeedRules()
	if len(rules) != 22 {
		t.Fatalf("%d rules, want 22", len(rules))
	}
	if r := rules[11]; r.Text != "Please do not post in all Caps." || r.Title != TitleCapitals {
		t.Errorf("rule 11 = %+v", r)
	}
	if r := rules[20]; r.Text == "" || r.Title == "" || len(r.Title) > 64 {
		t.Errorf("rule 20 = %+v", r)
	}
}
