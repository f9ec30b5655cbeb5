package precheck

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// boundaries returns the offsets at which ranging over s starts a rune,
// and len(s).
func boundaries(s string) map[int]bool {
	b := map[int]bool{len(s): true}
	for i := range s {
		b[i] = true
	}
	return b
}

// checkSpans fails t unless every hit's span is inside body, on rune
// boundaries, and its evidence is exactly the span.
func checkSpans(t testing.TB, body string, hits []Hit) {
	t.Helper()
	b := boundaries(body)
	for _, h := range hits {
		if h.Start < 0 || h.Start > h.End || h.End > len(body) {
			t.Fatalf("hit %+v: span outside body of %d bytes", h, len(body))
		}
		if !b[h.Start] || !b[h.End] {
			t.Fatalf("hit %+v: span not on rune boundaries", h)
		}
		if h.Start < h.End && body[h.Start:h.End] != h.Evidence {
			t.Fatalf("hit %+v: evidence %q, body has %q", h, h.Evidence, body[h.Start:h.End])
		}
		if h.Explanation == "" || h.Title == "" || h.Rule == 0 || h.Severity == "" {
			t.Fatalf("hit %+v: missing rule, title, severity or explanation", h)
		}
	}
}

func evidence(hits []Hit) []string {
	var ev []string
	for _, h := range hits {
		ev = append(ev, h.Evidence)
	}
	return ev
}

type evidenceCase struct {
	name string
	body string
	want []string // evidence, in order; nil for no hits
}

func runEvidenceCases(t *testing.T, c Check, cases []evidenceCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hits := New(c).Run(&Input{Body: tc.body})
			checkSpans(t, tc.body, hits)
			if got := evidence(hits); !slices.Equal(got, tc.want) {
				t.Errorf("body %q\ngot  %q\nwant %q", tc.body, got, tc.want)
			}
		})
	}
}

// seedComments are the reader comments under the seed article.
func seedComments(t testing.TB) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "seed", "comment*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("seed comments: %v (%d files)", err, len(files))
	}
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = string(b)
	}
	return out
}

func readSeed(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "seed", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
