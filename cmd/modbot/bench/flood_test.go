package bench

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"modbot/cmd/modbot/internal/config"
	"modbot/cmd/modbot/internal/daemon"
	"modbot/mail/dovecottest"
)

// BenchmarkFlood: 10,000 submissions from one address are already in the
// inbox when one other sender's comment arrives. Reported: how long that
// comment waits for its outcome (goal: under a minute), and how many of
// the flood were held by the per-sender rate limit (none dropped).
func BenchmarkFlood(b *testing.B) {
	dc := dovecottest.Start(b, inbox, "alice@mods.example")
	n := *ingestN
	fillMaildirFrom(b, dc, inbox, n, func(raw []byte, i int) []byte {
		// Every message from the same sender.
		return bytes.Replace(raw, []byte("From: Commenter"), []byte("From: Flood <flood@people.example>\r\nX-Old-From: Commenter"), 1)
	})
	dir := b.TempDir()
	cfg, err := config.Load(writeConfig(b, dir, dc.IMAPAddr, dc.SMTPAddr))
	if err != nil {
		b.Fatal(err)
	}
	cfg.Log.Level = "error"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d, err := daemon.New(ctx, cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	other := make(chan time.Time, 1)
	notify := d.Ingester.Arrived
	var handled int
	d.Ingester.Arrived = func(o string) {
		handled++
		if handled == n+1 {
			other <- time.Now()
		}
		notify(o)
	}
	b.ResetTimer()
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	time.Sleep(100 * time.Millisecond) // the flood is being read
	start := time.Now()
	if err := dc.Append(inbox, "INBOX", []byte("From: Other <other@people.example>\r\nTo: moderator+uk-meta-encryption@forum.example\r\n"+
		"Subject: mine\r\nMessage-ID: <other-1@people.example>\r\n\r\nNot part of the flood.\r\n")); err != nil {
		b.Fatal(err)
	}
	var at time.Time
	select {
	case at = <-other:
	case <-time.After(10 * time.Minute):
		b.Fatal("the other sender's comment was not handled in 10 minutes")
	}
	b.StopTimer()
	cancel()
	<-done
	s, err := openRO(filepath.Join(dir, "modbot.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var held, total int
	s.DB().Get(&held, `SELECT COUNT(*) FROM submissions WHERE author_email = 'flood@people.example' AND state = 'held'`)
	s.DB().Get(&total, `SELECT COUNT(*) FROM submissions WHERE author_email = 'flood@people.example'`)
	b.ReportMetric(at.Sub(start).Seconds(), "other_wait_s")
	b.ReportMetric(float64(held), "flood_held")
	b.Logf("flood of %d from one address: the other sender's comment waited %.1f s; %d of %d flood submissions held, none dropped",
		n, at.Sub(start).Seconds(), held, total)
}
