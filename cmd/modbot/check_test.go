package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"modbot/queue/precheck"
)

func init() {
	// Other test files of this package may register -update as well.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
}

func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// runCheck runs "modbot check args" with the file stdin (under
// testdata/check) on its standard input.
func runCheck(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var in []byte
	if stdin != "" {
		var err error
		if in, err = os.ReadFile(filepath.Join("testdata", "check", stdin)); err != nil {
			t.Fatal(err)
		}
	}
	var out, errOut bytes.Buffer
	code = checkCmd(bytes.NewReader(in), &out, &errOut, args)
	return code, out.String(), errOut.String()
}

// The output for a few comments, in text and JSON, against golden files:
// what an admin sees.
func TestCheckGolden(t *testing.T) {
	dir := filepath.Join("testdata", "check")
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
	}{
		{"seed-comment", "seed-comment.txt", []string{"-article", filepath.Join(dir, "article.txt")}, 0},
		{"rules", "rules.txt", nil, 1},
		{"rules-json", "rules.txt", []string{"-json"}, 1},
		{"context", "context.txt", []string{"-article", filepath.Join(dir, "article.txt"), "-thread", filepath.Join(dir, "thread.jsonl"),
			"-name", "Mary Johnson", "-email", "noreply@mailinator.com"}, 1},
		{"context-json", "context.txt", []string{"-json", "-article", filepath.Join(dir, "article.txt"), "-thread", filepath.Join(dir, "thread.jsonl"),
			"-name", "Mary Johnson", "-email", "noreply@mailinator.com"}, 1},
		{"notes", "notes.txt", nil, 0},
		{"empty", "", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCheck(t, tt.stdin, tt.args...)
			if code != tt.code || stderr != "" {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.code, stderr)
			}
			golden := filepath.Join(dir, tt.name+".golden")
			if updating() {
				if err := os.WriteFile(golden, []byte(stdout), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if stdout != string(want) {
				t.Errorf("output differs from %s (rerun with -update to accept):\n%s", golden, stdout)
			}
		})
	}
}

// The JSON form is one object a hit with the offsets into the comment.
func TestCheckJSON(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "check", "rules.txt"))
	if err != nil {
		t.Fatal(err)
	}
	_, stdout, _ := runCheck(t, "rules.txt", "-json")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) < 4 {
		t.Fatalf("%d lines: %s", len(lines), stdout)
	}
	for _, l := range lines {
		var h map[string]any
		if err := json.Unmarshal([]byte(l), &h); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		for _, k := range []string{"rule", "title", "severity", "start", "end", "evidence", "explanation"} {
			if _, ok := h[k]; !ok {
				t.Errorf("line %q has no %q", l, k)
			}
		}
		start, end := int(h["start"].(float64)), int(h["end"].(float64))
		if string(body[start:end]) != h["evidence"] {
			t.Errorf("evidence %q is not body[%d:%d] = %q", h["evidence"], start, end, body[start:end])
		}
	}
}

// With -config, check uses the site's ruleset and the post's text.
func TestCheckConfig(t *testing.T) {
	t.Setenv("MODBOT_IMAP_PASSWORD", "")
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("article.txt", "Governor Newsom signed the bill.\n")
	write("site-rules.toml", "[[rule]]\nnumber = 17\nseverity = \"note\"\n[[rule.check]]\nkind = \"terms\"\nterms = [\"slingshot\"]\n")
	cfg := write("modbot.toml", `[site]
address = "moderator@forum.example"
[imap]
addr = "127.0.0.1:1143"
username = "moderator@forum.example"
password = "secret"
[smtp]
addr = "127.0.0.1:1025"
[moderation]
moderators = ["alice@mods.example"]
[rules]
file = "site-rules.toml"
[[posts]]
slug = "newsom"
title = "Newsom signs"
text_file = "article.txt"
`)
	comment := write("comment.txt", "A slingshot is no gun.\n")
	in, err := os.ReadFile(comment)
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := checkCmd(bytes.NewReader(in), &out, &errOut, []string{"-config", cfg, "-post", "newsom"})
	want := `R17 note 2-11 "slingshot" (No discussions about weapons)
   "slingshot" is about weapons
R17 note 18-21 "gun" (No discussions about weapons)
   "gun" is about weapons
2 hits: R17
`
	if code != 0 || out.String() != want || errOut.Len() > 0 {
		t.Errorf("exit %d, stderr %q, output:\n%s\nwant:\n%s", code, errOut.String(), out.String(), want)
	}

	// -rules wins over the config's ruleset.
	other := write("other.toml", "[[rule]]\nnumber = 17\nseverity = \"hold\"\n")
	out.Reset()
	code = checkCmd(bytes.NewReader(in), &out, &errOut, []string{"-config", cfg, "-rules", other, "-post", "newsom"})
	if code != 1 || !strings.Contains(out.String(), `R17 hold 18-21 "gun"`) || strings.Contains(out.String(), "slingshot") {
		t.Errorf("-rules: exit %d, output:\n%s", code, out.String())
	}

	// Without the post's text, the governor is a name not in the article.
	out.Reset()
	checkCmd(bytes.NewReader([]byte("Governor Newsom again.")), &out, &errOut, []string{"-config", cfg})
	if !strings.Contains(out.String(), `R14 flag 0-15 "Governor Newsom"`) {
		t.Errorf("without -post:\n%s", out.String())
	}
}

// Mistakes in flags, files and rulesets exit 2 and say what is wrong.
func TestCheckErrors(t *testing.T) {
	dir := t.TempDir()
	badRules := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(badRules, []byte("[[rule]]\nnumber = 3\n\n[[rule.check]]\nkind = \"regex\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badThread := filepath.Join(dir, "thread.jsonl")
	if err := os.WriteFile(badThread, []byte("{\"author_name\": \"a\", \"body\": \"b\"}\n{oops}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-nope"}, "flag provided but not defined: -nope"},
		{[]string{"comment.txt"}, `unexpected argument "comment.txt"`},
		{[]string{"-post", "x"}, "-post needs -config"},
		{[]string{"-config", "x.toml", "-post", "x", "-article", "a.txt"}, "-post and -article both"},
		{[]string{"-config", filepath.Join(dir, "missing.toml")}, "missing.toml"},
		{[]string{"-rules", badRules}, badRules + `:5: rule 3: unknown check kind "regex"`},
		{[]string{"-thread", badThread}, badThread + ":2: "},
		{[]string{"-article", filepath.Join(dir, "missing.txt")}, "missing.txt"},
		{[]string{"-h"}, "usage: modbot check"},
		{[]string{"-print-rules", "-json"}, "-print-rules takes no other flag"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := checkCmd(strings.NewReader("shit"), &out, &errOut, tt.args)
			if code != 2 || !strings.Contains(errOut.String(), tt.want) || out.Len() > 0 {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and %q", code, out.String(), errOut.String(), tt.want)
			}
		})
	}
}

// -print-rules prints the built-in ruleset, a file that -rules accepts,
// and reads no comment.
func TestCheckPrintRules(t *testing.T) {
	code, out, errOut := runCheck(t, "", "-print-rules")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	path := filepath.Join(t.TempDir(), "rules.toml")
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	rs, err := precheck.LoadRuleset(path)
	if err != nil {
		t.Fatalf("the printed ruleset does not load: %v", err)
	}
	if got, want := rs.Rules(), precheck.DefaultRuleset().Rules(); !maps.Equal(got, want) {
		t.Errorf("the printed ruleset's rules differ from the built-in ones:\n%v\n%v", got, want)
	}
	if !strings.Contains(out, "[[rule]]") {
		t.Errorf("stdout is not the ruleset:\n%s", out)
	}
}

// Evidence longer than a line is shortened in the middle in the text
// form only.
func TestQuoteEvidence(t *testing.T) {
	long := strings.Repeat("é", 200)
	got := quoteEvidence(long)
	if want := fmt.Sprintf("%q…%q", strings.Repeat("é", 50), strings.Repeat("é", 50)); got != want {
		t.Errorf("got %s", got)
	}
	if got := quoteEvidence("a\nb"); got != `"a\nb"` {
		t.Errorf("got %s", got)
	}
	var b bytes.Buffer
	if err := printHitsJSON(&b, []precheck.Hit{{Rule: 1, Evidence: long}}); err != nil || !strings.Contains(b.String(), long) {
		t.Errorf("JSON evidence shortened: %v %s", err, b.String())
	}
}
