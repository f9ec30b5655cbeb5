package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"modbot/cmd/modbot/internal/config"
	"modbot/cmd/modbot/internal/doctor"
)

// doctorCmd checks the configuration against the mail servers and DNS
// and explains each failure; it fails when any check does.
func doctorCmd(ctx context.Context, out io.Writer, args []string) error {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	path := fs.String("config", "modbot.toml", "configuration `file`")
	wait := fs.Duration("wait", 60*time.Second, "how long the test message may take to arrive")
	timeout := fs.Duration("timeout", 20*time.Second, "longest wait for a server's answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "modbot doctor: checking %s\n\n", *path)
	rs := doctor.Run(ctx, cfg, doctor.Options{
		DeliveryWait: *wait,
		Timeout:      *timeout,
		Report:       func(r doctor.Result) { doctor.Format(out, r) },
		Waiting: func(addr string, d time.Duration) {
			fmt.Fprintf(out, "      waiting up to %s for the test message to arrive …\n", d)
		},
	})
	fmt.Fprintf(out, "\n%s\n", doctor.Summary(rs))
	switch n := doctor.Failed(rs); n {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("1 check failed")
	default:
		return fmt.Errorf("%d checks failed", n)
	}
}
