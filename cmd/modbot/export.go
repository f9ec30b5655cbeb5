package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// exportCmd writes the published comments, the decisions' audit log and
// every version of every comment as JSON lines, read from the database
// without changing it.
func exportCmd(ctx context.Context, stdout, stderr io.Writer, args []string) (err error) {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	path := fs.String("config", "modbot.toml", "configuration `file`")
	outPath := fs.String("o", "", "write to `file` (mode 0600: the audit log names moderators) instead of standard output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	store, err := openStoreReadOnly(ctx, *path)
	if err != nil {
		return err
	}
	defer store.Close()

	w := stdout
	if *outPath != "" {
		f, err := os.OpenFile(*outPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		defer func() {
			err = errors.Join(err, f.Close())
			if err != nil {
				os.Remove(*outPath) // half an export is worse than none
			}
		}()
		w = f
	}
	bw := bufio.NewWriter(w)
	res, err := store.Export(ctx, bw)
	if err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	fmt.Fprintf(stderr, "exported %d published comments, %d decisions and %d comment versions\n", res.Comments, res.Decisions, res.Versions)
	return nil
}
