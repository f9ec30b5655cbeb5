package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"modbot/mail/devmail"
)

// The command's exit status follows the checks: nil when all pass, an
// error naming how many failed otherwise (main exits 1 on it).
func TestDoctorCmd(t *testing.T) {
	ms, err := devmail.Start(devmail.Options{Users: map[string]string{"moderator@forum.example": "secret"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()
	ctx := context.Background()

	var out bytes.Buffer
	cfg := writeConfig(t, t.TempDir(), ms.IMAPAddr, ms.SMTPAddr, "")
	if err := doctorCmd(ctx, &out, []string{"-config", cfg, "-wait", "10s"}); err != nil {
		t.Errorf("working set-up: %v\n%s", err, out.String())
	}
	for _, want := range []string{"modbot doctor: checking ", "waiting up to 10s for the test message", "ok    delivery", "10 checks: 9 ok, 1 with a warning"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}

	out.Reset()
	badCfg := writeConfig(t, t.TempDir(), ms.IMAPAddr, "127.0.0.1:1", "")
	err = doctorCmd(ctx, &out, []string{"-config", badCfg, "-wait", "1s"})
	if err == nil || err.Error() != "1 check failed" {
		t.Errorf("SMTP down: err = %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "FAIL  SMTP connection nothing accepts connections on 127.0.0.1:1") {
		t.Errorf("output:\n%s", out.String())
	}
}
