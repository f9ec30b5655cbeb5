package editdist

import "testing"

func TestOSA(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"approve", "approve", 0}, {"aprove", "approve", 1}, {"approev", "approve", 1},
		{"reject", "rejcet", 1}, {"hold", "spam", 4}, {"Zoë", "Zoe", 1}, {"", "abc", 3},
	} {
		if got := OSA(tt.a, tt.b); got != tt.want {
			t.Errorf("OSA(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
