package dovecottest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// recordingTB notes how findDovecot ends a test instead of ending it.
type recordingTB struct {
	testing.TB
	skipped, failed string
}

func (r *recordingTB) Helper()                   {}
func (r *recordingTB) Skip(args ...any)          { r.skipped = fmt.Sprint(args...) }
func (r *recordingTB) Fatalf(f string, a ...any) { r.failed = fmt.Sprintf(f, a...) }

func TestFindDovecotMissing(t *testing.T) {
	old := sbinPaths
	sbinPaths = []string{"/nonexistent/dovecot"}
	t.Cleanup(func() { sbinPaths = old })
	notFound := func(string) (string, error) { return "", errors.New("not found") }

	tests := []struct {
		name         string
		required     bool
		skip, failed bool
	}{
		{"optional: skip", false, true, false},
		{"required: fail", true, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recordingTB{TB: t}
			findDovecot(rec, notFound, tt.required)
			if (rec.skipped != "") != tt.skip || (rec.failed != "") != tt.failed {
				t.Fatalf("skipped %q, failed %q; want skip=%v fail=%v", rec.skipped, rec.failed, tt.skip, tt.failed)
			}
			msg := rec.skipped + rec.failed
			if !strings.Contains(msg, "apt-get install dovecot-imapd dovecot-lmtpd") {
				t.Errorf("message %q does not say how to install dovecot", msg)
			}
		})
	}

	found := func(string) (string, error) { return "/opt/bin/dovecot", nil }
	rec := &recordingTB{TB: t}
	if got := findDovecot(rec, found, true); got != "/opt/bin/dovecot" || rec.skipped+rec.failed != "" {
		t.Errorf("findDovecot with dovecot on PATH = %q (skipped %q, failed %q)", got, rec.skipped, rec.failed)
	}
}
