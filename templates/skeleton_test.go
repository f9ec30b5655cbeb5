package templates

import (
	"regexp"
	"strings"
	"testing"
)

// TestSkeletons checks that every message a moderator or an admin may
// reply to has skeletons, text and HTML part, and that no date is left in
// them as fixed text: a reply reader would take it for part of the line.
func TestSkeletons(t *testing.T) {
	sk, err := Skeletons()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	weekday := regexp.MustCompile(`\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d|\d{2}:\d{2}|unknown time`)
	for _, s := range sk {
		msg, _, _ := strings.Cut(s.Name, "/")
		seen[msg] = true
		if !strings.Contains(s.Text, DataMark) {
			t.Errorf("%s: no data marked in the text part", s.Name)
		}
		for _, part := range []string{s.Text, s.HTML} {
			if m := weekday.FindString(part); m != "" {
				t.Errorf("%s: a date left as fixed text: %q", s.Name, m)
			}
		}
	}
	for _, msg := range []string{"digest", "confirmation", "admin_confirmation", "escalation", "undeliverable", "report"} {
		if !seen[msg] {
			t.Errorf("no skeleton of %s", msg)
		}
	}
}
