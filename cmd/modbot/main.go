// Command modbot runs a website's comment moderation through email.
//
// Usage:
//
//	modbot run -config modbot.toml   the daemon
//	modbot demo                      everything in one process, on loopback
//	modbot check                     the prechecks over a comment on stdin
//	modbot reply-check               the commands modbot reads in a reply on stdin
//	modbot status                    the state of a store, beside a running daemon
//	modbot doctor                    the configuration tried against the servers
//	modbot export                    published comments and the audit log
//	modbot import FILE.xml           a WordPress export's approved comments
//	modbot version
//
// main calls one function per subcommand, each in its own file: it parses
// the flags, calls into the packages and prints (docs/ARCHITECTURE.md,
// "Command line").
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"modbot/cmd/modbot/internal/config"
	"modbot/cmd/modbot/internal/daemon"
	"modbot/cmd/modbot/internal/demo"
)

const usage = `usage: modbot <command> [flags]

commands:
  run -config FILE   run the daemon
  demo               run a complete demo on loopback (mail servers, daemon, web)
  reply-check        read a moderator's reply (.eml) on stdin, print the commands modbot reads
  check              run the prechecks over a comment on stdin, print each hit
  status             queue, outbox, inbox sync and digests, from the database (-json)
  doctor             check the mail servers, plus addressing and DNS; explain each failure
  export             published comments and the audit log as JSON lines (-o FILE)
  import FILE.xml    bring in the approved comments of a WordPress export (WXR)
  version            print the version

Run "modbot <command> -h" for a command's flags.
`

var version = "dev"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "run":
		err = runCmd(ctx, args)
	case "demo":
		err = demoCmd(ctx, args)
	case "check":
		os.Exit(checkCmd(os.Stdin, os.Stdout, os.Stderr, args))
	case "reply-check":
		err = replyCheckCmd(os.Stdin, os.Stdout, args)
	case "status":
		err = statusCmd(ctx, os.Stdout, args)
	case "doctor":
		err = doctorCmd(ctx, os.Stdout, args)
	case "export":
		err = exportCmd(ctx, os.Stdout, os.Stderr, args)
	case "import":
		err = importCmd(ctx, os.Stdout, os.Stderr, args)
	case "version":
		fmt.Println("modbot", version)
	case "-h", "-help", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "modbot: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "modbot:", err)
		os.Exit(1)
	}
}

func runCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	path := fs.String("config", "modbot.toml", "configuration `file`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	logger := newLogger(os.Stderr, cfg.Log.Level, cfg.Log.Format)
	d, err := daemon.New(ctx, cfg, logger)
	if err != nil {
		return err
	}
	return d.Run(ctx)
}

func demoCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	var o demo.Options
	fs.StringVar(&o.IMAPListen, "imap", "", "IMAP listen `address` (default 127.0.0.1:1143, or a free port)")
	fs.StringVar(&o.SMTPListen, "smtp", "", "SMTP listen `address` (default 127.0.0.1:1025, or a free port)")
	fs.StringVar(&o.WebListen, "web", "", "web listen `address` (default 127.0.0.1:8080, or a free port)")
	fs.StringVar(&o.Dir, "dir", "", "keep the demo's database and config in `dir` (default: a temporary directory)")
	fs.BoolVar(&o.Once, "once", false, "exit once every moderator has received a digest")
	level := fs.String("log", "info", "log `level`: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.Logger = newLogger(os.Stderr, *level, "text")
	return demo.Run(ctx, o)
}

func newLogger(w io.Writer, level, format string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: l}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
