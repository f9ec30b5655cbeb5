package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An operator's mistake in the config stops the start with the key named.
func TestRunRefusesBadConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "modbot.toml")
	src := `[site]
address = "moderator@forum.example"
[imap]
addr = "127.0.0.1:1143"
username = "moderator@forum.example"
password = "secret"
pasword = "typo"
[smtp]
addr = "127.0.0.1:1025"
[moderation]
moderators = ["alice@mods.example"]
`
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	err := runCmd(context.Background(), []string{"-config", path})
	if err == nil || !strings.Contains(err.Error(), `unknown key "imap.pasword"`) || !strings.Contains(err.Error(), "line 7") {
		t.Errorf("err = %v; want the unknown key and its line", err)
	}
	err = runCmd(context.Background(), []string{"-config", filepath.Join(dir, "missing.toml")})
	if err == nil || !strings.Contains(err.Error(), "missing.toml") {
		t.Errorf("missing file: %v", err)
	}
}
