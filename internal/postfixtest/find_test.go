package postfixtest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// recordingTB notes how findPostfix ends a test instead of ending it.
type recordingTB struct {
	testing.TB
	skipped, failed string
}

func (r *recordingTB) Helper()                   {}
func (r *recordingTB) Skip(args ...any)          { r.skipped = fmt.Sprint(args...) }
func (r *recordingTB) Fatalf(f string, a ...any) { r.failed = fmt.Sprintf(f, a...) }

func TestFindPostfixMissing(t *testing.T) {
	old := sbinPaths
	sbinPaths = []string{"/nonexistent/postfix"}
	t.Cleanup(func() { sbinPaths = old })
	notFound := func(string) (string, error) { return "", errors.New("not found") }
	for _, required := range []bool{false, true} {
		rec := &recordingTB{TB: t}
		findPostfix(rec, notFound, required)
		if required && rec.failed == "" || !required && rec.skipped == "" {
			t.Errorf("required=%v: skipped %q, failed %q", required, rec.skipped, rec.failed)
		}
		if msg := rec.skipped + rec.failed; !strings.Contains(msg, "apt-get install postfix") {
			t.Errorf("message %q does not say how to install postfix", msg)
		}
	}
}
