package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// reply-check prints what the daemon would read from each test reply:
// the same golden files the mail package's extraction is tested against.
func TestReplyCheckMatchesGoldens(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "mail", "testdata", "replies", "*.eml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test replies: %v", err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(strings.TrimSuffix(f, ".eml") + ".golden")
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := replyCheckCmd(bytes.NewReader(raw), &out, nil); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if got := strings.TrimSpace(out.String()); got != strings.TrimSpace(string(want)) {
			t.Errorf("%s:\n got: %s\nwant: %s", filepath.Base(f), got, want)
		}
	}
}

func TestReplyCheckNone(t *testing.T) {
	var out bytes.Buffer
	msg := "From: a@b.example\r\nSubject: Re: digest\r\n\r\nThanks, looks good to me.\r\n\r\n> approve 1 3\r\n"
	if err := replyCheckCmd(strings.NewReader(msg), &out, nil); err != nil {
		t.Fatal(err)
	}
	if out.String() != "none\n" {
		t.Errorf("got %q, want none: a quoted command is not a command", out.String())
	}
}
