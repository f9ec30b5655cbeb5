package templates

import (
	"testing"
)

func TestWrap(t *testing.T) {
	tests := []struct {
		width       int
		first, rest string
		in, want    string
	}{
		{20, "", "", "short", "short"},
		{20, "", "  ", "one two three four five six", "one two three four\n  five six"},
		{12, "| ", "| ", "a\n\nb", "| a\n| \n| b"},
		{10, "", "", "https://example.com/a/long/link stays", "https://example.com/a/long/link\nstays"},
		{10, "", "", "äöü äöü äöü", "äöü äöü\näöü"},
		{10, "  ", "  ", "   indented text here", "     indented\n  text\n  here"},
	}
	for _, tc := range tests {
		if got := wrap(tc.width, tc.first, tc.rest, tc.in); got != tc.want {
			t.Errorf("wrap(%d, %q, %q, %q)\ngot  %q\nwant %q", tc.width, tc.first, tc.rest, tc.in, got, tc.want)
		}
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		n        int
		in, want string
	}{
		{10, "short", "short"},
		{10, "line\nbreaks\tand  spaces", "line…paces"},
		{9, "abcdefghijklmnop", "abcd…mnop"},
	}
	for _, tc := range tests {
		if got := clip(tc.n, tc.in); got != tc.want {
			t.Errorf("clip(%d, %q) = %q, want %q", tc.n, tc.in, got, tc.want)
		}
	}
}

func TestMarked(t *testing.T) {
	body := "héllo world, bye"
	hits := []Hit{
		{Rule: 12, Start: 7, End: 12}, // "world"
		{Rule: 3, Start: 9, End: 15},  // overlaps: one mark
		{Rule: 1, Start: 2, End: 3},   // inside "é": dropped
		{Rule: 1, Start: 10, End: 99}, // past the end: dropped
		{Rule: 1, Start: 5, End: 5},   // empty: dropped
	}
	var got []string
	for _, s := range marked(body, hits) {
		if s.Mark {
			got = append(got, "["+s.Text+"|"+s.Rules+"]")
		} else {
			got = append(got, s.Text)
		}
	}
	want := []string{"héllo ", "[world, b|rule 3, rule 12]", "ye"}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}
