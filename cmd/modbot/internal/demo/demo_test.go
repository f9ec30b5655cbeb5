package demo

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// The demo a new user runs: mail servers, daemon and seed comments come
// up, and every moderator receives a digest.
func TestDemoOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var out bytes.Buffer
	err := Run(ctx, Options{
		IMAPListen: "127.0.0.1:0", SMTPListen: "127.0.0.1:0", WebListen: "127.0.0.1:0",
		Dir: t.TempDir(), Once: true, Out: &out,
	})
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"7 comments were submitted to moderator@forum.example",
		"IMAP server  127.0.0.1  port ",
		"alice@mods.example received: [ACSOL Forum (demo)] 7 comments to moderate",
		"bob@mods.example received: [ACSOL Forum (demo)] 7 comments to moderate",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
