package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"modbot/cmd/modbot/internal/config"
	"modbot/queue/precheck"
)

// maxCheckInput bounds what check reads from stdin, as the daemon bounds
// a message.
const maxCheckInput = 10 << 20

// checkCmd runs the prechecks over a comment read from stdin and prints
// every hit, for admins tuning their rules (like "spamassassin -t"). It
// returns the exit status: 1 when a hit is a flag or a hold, 0 when there
// are none or only notes, 2 when the flags, the input, the configuration
// or the ruleset are wrong; then the reason is on stderr.
func checkCmd(stdin io.Reader, stdout, stderr io.Writer, args []string) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "modbot's configuration `file`: its ruleset ([rules] file) and posts")
	rulesPath := fs.String("rules", "", "ruleset `file` laid over the built-in rules (default: the config's, or the built-in rules)")
	slug := fs.String("post", "", "the post the comment is for: its text is the article (needs -config)")
	articlePath := fs.String("article", "", "`file` with the article's text")
	threadPath := fs.String("thread", "", "`file` of earlier comments of the thread, JSON lines with author_name and body")
	name := fs.String("name", "", "the commenter's display `name`")
	email := fs.String("email", "", "the commenter's e-mail `address`")
	asJSON := fs.Bool("json", false, "print one JSON object a hit")
	printRules := fs.Bool("print-rules", false, "print the built-in ruleset (TOML), which a -rules file overrides and extends, and exit")
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: modbot check [flags] < comment.txt

Runs the prechecks over the comment on stdin and prints every hit: rule,
severity, offsets, evidence and why. Exit status 1 when a hit is a flag or
a hold, 0 otherwise, 2 on errors. With -print-rules it prints the
built-in ruleset instead, to read and copy from.

`)
		fs.PrintDefaults()
	}
	fail := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "modbot check: "+format+"\n", args...)
		return 2
	}
	if err := fs.Parse(args); err != nil {
		return 2 // the flag package has said why
	}
	switch {
	case fs.NArg() > 0:
		return fail("unexpected argument %q: the comment is read from stdin", fs.Arg(0))
	case *printRules && fs.NFlag() > 1:
		return fail("-print-rules takes no other flag")
	case *printRules:
		if _, err := stdout.Write(precheck.DefaultRulesTOML()); err != nil {
			return fail("%v", err)
		}
		return 0
	case *slug != "" && *configPath == "":
		return fail("-post needs -config, which lists the posts")
	case *slug != "" && *articlePath != "":
		return fail("-post and -article both give the article; use one")
	}

	in := &precheck.Input{AuthorName: *name, AuthorEmail: *email}
	var rulesFile string
	if *configPath != "" {
		cfg, err := config.Load(*configPath)
		if err != nil {
			return fail("%v", err)
		}
		rulesFile = cfg.Path(cfg.Rules.File)
		if *slug != "" {
			p := cfg.Post(*slug)
			if p == nil {
				return fail("%s has no post %q", *configPath, *slug)
			}
			in.PostTitle, in.PostText = p.Title, p.Text
		}
	}
	if *rulesPath != "" {
		rulesFile = *rulesPath
	}
	rs, err := precheck.LoadRuleset(rulesFile)
	if err != nil {
		return fail("%v", err)
	}
	if *articlePath != "" {
		b, err := os.ReadFile(*articlePath)
		if err != nil {
			return fail("%v", err)
		}
		in.PostText = string(b)
	}
	if *threadPath != "" {
		if in.Thread, err = readThread(*threadPath); err != nil {
			return fail("%v", err)
		}
	}
	body, err := io.ReadAll(io.LimitReader(stdin, maxCheckInput+1))
	if err != nil {
		return fail("read the comment: %v", err)
	}
	if len(body) > maxCheckInput {
		return fail("the comment is larger than %d bytes", maxCheckInput)
	}
	in.Body = string(body)

	hits := rs.Engine().Run(in)
	if *asJSON {
		err = printHitsJSON(stdout, hits)
	} else {
		err = printHits(stdout, hits)
	}
	if err != nil {
		return fail("%v", err)
	}
	for _, h := range hits {
		if h.Severity == precheck.Flag || h.Severity == precheck.Hold {
			return 1
		}
	}
	return 0
}

// threadComment is one line of a -thread file. Other fields, such as
// those of the comments API, are ignored.
type threadComment struct {
	AuthorName string `json:"author_name"`
	Body       string `json:"body"`
}

// readThread reads earlier comments, one JSON object a line.
func readThread(path string) ([]precheck.Comment, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []precheck.Comment
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, maxCheckInput)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var c threadComment
		if err := json.Unmarshal(line, &c); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, n, err)
		}
		out = append(out, precheck.Comment{AuthorName: c.AuthorName, Body: c.Body})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// printHits prints each hit on two lines, then a summary line:
//
//	R3 flag 12-16 "shit" (Swear words should be starred out)
//	   swear word not starred out (starred: s**t)
//	1 hit: R3
func printHits(w io.Writer, hits []precheck.Hit) error {
	bw := bufio.NewWriter(w)
	var rules []int
	for _, h := range hits {
		where := fmt.Sprintf("%d-%d", h.Start, h.End)
		if h.Start == h.End {
			where = "-" // the name or address, not the body
		}
		fmt.Fprintf(bw, "R%d %s %s %s (%s)\n   %s\n", h.Rule, h.Severity, where, quoteEvidence(h.Evidence), h.Title, h.Explanation)
		if !slices.Contains(rules, h.Rule) {
			rules = append(rules, h.Rule)
		}
	}
	slices.Sort(rules)
	switch len(hits) {
	case 0:
		fmt.Fprintln(bw, "no hits")
	default:
		noun := "hits"
		if len(hits) == 1 {
			noun = "hit"
		}
		var b strings.Builder
		for _, r := range rules {
			fmt.Fprintf(&b, " R%d", r)
		}
		fmt.Fprintf(bw, "%d %s:%s\n", len(hits), noun, b.String())
	}
	return bw.Flush()
}

// quoteEvidence quotes evidence on one line, shortening a long one in the
// middle: the offsets say exactly where it is.
func quoteEvidence(s string) string {
	const keep = 50
	if utf8.RuneCountInString(s) <= 2*keep+10 {
		return fmt.Sprintf("%q", s)
	}
	r := []rune(s)
	return fmt.Sprintf("%q…%q", string(r[:keep]), string(r[len(r)-keep:]))
}

// printHitsJSON prints one JSON object a hit.
func printHitsJSON(w io.Writer, hits []precheck.Hit) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, h := range hits {
		if err := enc.Encode(h); err != nil {
			return errors.Join(err, bw.Flush())
		}
	}
	return bw.Flush()
}
