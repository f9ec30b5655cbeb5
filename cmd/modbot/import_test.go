package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"modbot/cmd/modbot/internal/config"
	"modbot/queue"
)

// sampleWXR is the hand-written WordPress export the wxr package tests.
var sampleWXR = filepath.Join("internal", "wxr", "testdata", "sample.xml")

// writeConfig writes a configuration with a database in dir; imapAddr
// and smtpAddr may be anything for commands that do not connect.
func writeConfig(t *testing.T, dir, imapAddr, smtpAddr, extra string) string {
	t.Helper()
	src := fmt.Sprintf(`
[site]
name = "Test Forum"
base_url = "http://127.0.0.1:8080"
address = "moderator@forum.example"
[imap]
addr = %q
username = "moderator@forum.example"
password = "secret"
[smtp]
addr = %q
[moderation]
moderators = ["alice@mods.example"]
[store]
dsn = "modbot.db"
[[posts]]
slug = "uk-meta-encryption"
title = "UK accuses Meta"
url = "http://forum.example/posts/uk-meta-encryption"
%s`, imapAddr, smtpAddr, extra)
	path := filepath.Join(dir, "modbot.toml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestImportWordPress(t *testing.T) {
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, "127.0.0.1:1", "127.0.0.1:1", "")
	ctx := context.Background()
	var out, errOut bytes.Buffer
	if err := importCmd(ctx, &out, &errOut, []string{"-config", cfgPath, sampleWXR}); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	want := fmt.Sprintf(`read %s: Example Blog (https://blog.example), 4 items, 10 comments
imported 6 comments into 3 posts (new: hello-world, uber-uns)
left out 4: 1 pending, 1 pingback, 1 spam, 1 trash
1 reply answered a comment that was left out: now the nearest imported comment above it
post "%%c3%%bcber-uns" is "uber-uns" here (slugs are a-z, 0-9 and '-')
1 comment had no GMT date: the local time was taken as UTC
`, sampleWXR)
	if out.String() != want {
		t.Errorf("summary:\n%s\nwant:\n%s", out.String(), want)
	}
	if !strings.Contains(errOut.String(), `msg="import finished" done=6 total=6`) {
		t.Errorf("no progress in the log: %q", errOut.String())
	}

	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	st, err := queue.OpenReadOnly(ctx, cfg.Path(cfg.Store.DSN))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cs, err := st.Comments(ctx, "hello-world")
	if err != nil {
		t.Fatal(err)
	}
	// Oldest first: 10 (top), 11 (reply to 10), 12 (reply to 11), 14
	// (answered pending 13: now answers 10).
	if len(cs) != 4 {
		t.Fatalf("hello-world has %d comments: %+v", len(cs), cs)
	}
	top, reply, deep, moved := cs[0], cs[1], cs[2], cs[3]
	for _, c := range []struct {
		c      queue.Comment
		author string
		at     time.Time
		parent *queue.Comment
	}{
		{top, "Zoë Ångström", time.Date(2019, 3, 4, 10, 15, 0, 0, time.UTC), nil},
		{reply, "Jean-Luc Picard", time.Date(2019, 3, 5, 8, 0, 0, 0, time.UTC), &top},
		{deep, "李小龍", time.Date(2019, 3, 5, 12, 30, 0, 0, time.UTC), &reply},
		{moved, "Ann O'Nymous", time.Date(2019, 3, 6, 11, 0, 0, 0, time.UTC), &top},
	} {
		if c.c.AuthorName != c.author || !c.c.PublishedAt.Equal(c.at) {
			t.Errorf("comment %d: %q at %v, want %q at %v", c.c.ID, c.c.AuthorName, c.c.PublishedAt, c.author, c.at)
		}
		switch {
		case c.parent == nil && c.c.ParentID != nil, c.parent != nil && (c.c.ParentID == nil || *c.c.ParentID != c.parent.ID):
			t.Errorf("comment by %s: parent %v, want %v", c.author, c.c.ParentID, c.parent)
		}
	}
	if top.Body != "First! Fish & chips are on the menu (https://chips.example/menu).\n\nSecond paragraph." {
		t.Errorf("body %q", top.Body)
	}
	if cs, _ := st.Comments(ctx, "uk-meta-encryption"); len(cs) != 1 || cs[0].AuthorName != "Anonymous" {
		t.Errorf("comments of the configured post: %+v", cs)
	}
	if p, _ := st.Post(ctx, "uk-meta-encryption"); p.Title != "UK accuses Meta" {
		t.Errorf("the import renamed a configured post: %q", p.Title)
	}
	if p, _ := st.Post(ctx, "uber-uns"); p == nil || p.Title != "Über uns" || p.URL != "https://blog.example/%c3%bcber-uns/" {
		t.Errorf("new post: %+v", p)
	}
	// The published store never holds an address.
	var leaks int
	st.DB().Get(&leaks, `SELECT COUNT(*) FROM comments WHERE author_name LIKE '%@%' OR body LIKE '%people.example%'`)
	if leaks != 0 {
		t.Errorf("%d comments carry an email address", leaks)
	}

	// Again: nothing new.
	out.Reset()
	if err := importCmd(ctx, &out, &errOut, []string{"-config", cfgPath, sampleWXR}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "imported 0 comments into 3 posts\nalready imported before: 6\n") {
		t.Errorf("second import:\n%s", out.String())
	}
	var n int
	st.DB().Get(&n, `SELECT COUNT(*) FROM comments`)
	if n != 6 {
		t.Errorf("%d comments after importing twice, want 6", n)
	}
}

func TestImportRefusesOtherFiles(t *testing.T) {
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, "127.0.0.1:1", "127.0.0.1:1", "")
	feed := filepath.Join(dir, "feed.xml")
	os.WriteFile(feed, []byte(`<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"></feed>`), 0o644)
	var out bytes.Buffer
	err := importCmd(context.Background(), &out, &out, []string{"-config", cfgPath, feed})
	if err == nil || !strings.Contains(err.Error(), "not a WordPress export") {
		t.Errorf("err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "modbot.db")); err == nil {
		t.Error("a database was created for a file that was not imported")
	}
}
