package main

import (
	"bufio"
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"modbot/cmd/modbot/internal/config"
	"modbot/cmd/modbot/internal/wxr"
	"modbot/internal/progress"
	"modbot/queue"
)

// importCmd brings the approved comments of a WordPress export (WXR) into
// the published store, threads, authors and dates kept. Running it again
// adds only what is new.
func importCmd(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	path := fs.String("config", "modbot.toml", "configuration `file`")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: modbot import -config FILE export.xml\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return flag.ErrHelp
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	file := fs.Arg(0)
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	exp, err := wxr.Parse(bufio.NewReader(f))
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	plan := wxr.Convert(exp)
	total := len(plan.Comments)
	for _, n := range plan.Skipped {
		total += n
	}
	site := cmp.Or(exp.Title, "a WordPress site")
	if exp.Link != "" {
		site += " (" + exp.Link + ")"
	}
	fmt.Fprintf(stdout, "read %s: %s, %d items, %d comments\n", file, site, len(exp.Items), total)

	store, err := queue.Open(ctx, cfg.Path(cfg.Store.DSN))
	if err != nil {
		return err
	}
	defer store.Close()
	// As the daemon does at its start: configured posts keep their
	// titles, and comments for them join them.
	var posts []queue.Post
	for _, p := range cfg.Posts {
		posts = append(posts, queue.Post{Slug: p.Slug, Title: p.Title, URL: p.URL, Text: p.Text})
	}
	if err := store.SyncPosts(ctx, posts); err != nil {
		return err
	}

	rep := &progress.Reporter{Name: "import", Unit: "comments"}
	if tf, ok := stderr.(*os.File); ok && progress.IsTerminal(tf) {
		rep.Terminal = stderr
	} else {
		rep.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	rep.Update(0, len(plan.Comments))
	res, err := store.ImportComments(ctx, plan.Posts, plan.Comments, rep.Update)
	rep.Finish()
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("import stopped after %d comments; run it again to finish (what is in is recognised): %w", res.Imported+res.Existing, err)
		}
		return err
	}
	writeImportSummary(stdout, plan, res)
	return nil
}

func writeImportSummary(w io.Writer, plan *wxr.Plan, res queue.ImportResult) {
	slugs := map[string]bool{}
	for _, c := range plan.Comments {
		slugs[c.PostSlug] = true
	}
	fmt.Fprintf(w, "imported %s into %s", count(res.Imported, "comment", "comments"), count(len(slugs), "post", "posts"))
	if len(res.NewPosts) > 0 {
		fmt.Fprintf(w, " (new: %s)", strings.Join(res.NewPosts, ", "))
	}
	fmt.Fprintln(w)
	if res.Existing > 0 {
		fmt.Fprintf(w, "already imported before: %d\n", res.Existing)
	}
	if list := plan.SkippedList(); len(list) > 0 {
		n := 0
		for _, c := range plan.Skipped {
			n += c
		}
		fmt.Fprintf(w, "left out %d: %s\n", n, strings.Join(list, ", "))
	}
	if plan.Reattached > 0 {
		fmt.Fprintf(w, "%s answered a comment that was left out: now the nearest imported comment above it\n", count(plan.Reattached, "reply", "replies"))
	}
	if res.Orphans > 0 {
		fmt.Fprintf(w, "%s answered a comment found nowhere: now the post itself\n", count(res.Orphans, "reply", "replies"))
	}
	names := make([]string, 0, len(plan.Renamed))
	for n := range plan.Renamed {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(w, "post %q is %q here (slugs are a-z, 0-9 and '-')\n", n, plan.Renamed[n])
	}
	if plan.LocalDates > 0 {
		fmt.Fprintf(w, "%s had no GMT date: the local time was taken as UTC\n", count(plan.LocalDates, "comment", "comments"))
	}
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
