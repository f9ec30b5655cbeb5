package bench

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"modbot/cmd/modbot/internal/config"
	"modbot/cmd/modbot/internal/daemon"
	"modbot/mail"
	"modbot/mail/dovecottest"
)

// BenchmarkIdleLatency appends 100 submissions one at a time to a Dovecot
// INBOX and measures, for each, APPEND done → outcome committed by modbot
// (IDLE, in-process), beside APPEND done → EXISTS seen by a bare IDLE
// client on the same mailbox in the same run: the server's own
// notification delay, which no client can beat.
func BenchmarkIdleLatency(b *testing.B) {
	idleLatency(b, "submission", nil)
}

// BenchmarkReplyLatency: the same for moderator replies. 100 comments
// wait in one digest; each reply ("approve N", typed above the quoted
// digest) is appended alone, and the clock stops when the decision, the
// published comment and the commenter's notice have committed.
func BenchmarkReplyLatency(b *testing.B) {
	idleLatency(b, "reply", prepareReplies)
}

// idleLatency appends 100 messages made by next one at a time and times
// APPEND → outcome committed (kind) against APPEND → EXISTS.
func idleLatency(b *testing.B, kind string, prepare func(*testing.B, *dovecottest.Server, *daemon.Daemon) func(i int) []byte) {
	const n = 100
	dc := dovecottest.Start(b, inbox, "alice@mods.example")
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
	recorded := make(chan time.Time, n)
	notify := d.Ingester.Arrived
	d.Ingester.Arrived = func(o string) {
		if kind == "submission" && o == "queued" || kind == "reply" && o == "reply" {
			recorded <- time.Now()
		}
		notify(o)
	}
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()

	exists := make(chan time.Time, 10*n)
	idler, err := imapclient.DialInsecure(dc.IMAPAddr, &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(data *imapclient.UnilateralDataMailbox) {
				if data.NumMessages != nil {
					select {
					case exists <- time.Now():
					default:
					}
				}
			},
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer idler.Close()
	if err := idler.Login(inbox, password).Wait(); err != nil {
		b.Fatal(err)
	}
	if _, err := idler.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		b.Fatal(err)
	}
	idle, err := idler.Idle()
	if err != nil {
		b.Fatal(err)
	}
	defer idle.Close()

	appender := login(b, dc.IMAPAddr, inbox)
	defer appender.Close()
	r := rand.New(rand.NewPCG(3, 4))
	next := func(i int) []byte { return submission(r, 100000+i) }
	if prepare != nil {
		next = prepare(b, dc, d)
		for len(exists) > 0 {
			<-exists
		}
	}
	time.Sleep(time.Second) // let modbot reach IDLE
	var floor, modbot []time.Duration
	b.ResetTimer()
	for i := 0; i < n; i++ {
		raw := next(i)
		cmd := appender.Append("INBOX", int64(len(raw)), nil)
		cmd.Write(raw)
		cmd.Close()
		if _, err := cmd.Wait(); err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		var te, tr time.Time
		timeout := time.After(10 * time.Second)
		for te.IsZero() || tr.IsZero() {
			select {
			case t := <-exists:
				if te.IsZero() {
					te = t
				}
			case t := <-recorded:
				tr = t
			case <-timeout:
				b.Fatalf("message %d: no EXISTS or no outcome within 10s", i)
			}
		}
		// EXISTS for modbot's MOVE out of INBOX arrives too; drain it.
		time.Sleep(50 * time.Millisecond)
		for len(exists) > 0 {
			<-exists
		}
		floor = append(floor, te.Sub(t0))
		modbot = append(modbot, tr.Sub(t0))
	}
	b.StopTimer()
	cancel()
	<-done
	fm, fp := pct(floor, 50), pct(floor, 95)
	mm, mp := pct(modbot, 50), pct(modbot, 95)
	b.ReportMetric(ms(fm), "floor_p50_ms")
	b.ReportMetric(ms(fp), "floor_p95_ms")
	b.ReportMetric(ms(mm), "modbot_p50_ms")
	b.ReportMetric(ms(mp), "modbot_p95_ms")
	b.Logf("%s: APPEND → EXISTS (bare IDLE client): median %v, p95 %v; APPEND → outcome recorded (modbot): median %v, p95 %v; p95 above floor: %v",
		kind, fm, fp, mm, mp, mp-fp)
	_ = os.Remove(filepath.Join(dir, "modbot.db"))
}

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	if i > 0 {
		i--
	}
	return s[i]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// prepareReplies queues 100 comments, waits for alice's digest of them,
// and returns replies approving them one by one.
func prepareReplies(b *testing.B, dc *dovecottest.Server, d *daemon.Daemon) func(i int) []byte {
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 100; i++ {
		if err := dc.Append(inbox, "INBOX", submission(r, 200000+i)); err != nil {
			b.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	msgs, err := dc.Wait(ctx, "alice@mods.example", "INBOX", 1)
	if err != nil {
		b.Fatal(err)
	}
	digest, err := mail.Parse(bytes.NewReader(msgs[0]), nil)
	if err != nil {
		b.Fatal(err)
	}
	quoted := "> " + strings.ReplaceAll(digest.Text, "\n", "\r\n> ")
	return func(i int) []byte {
		return []byte(fmt.Sprintf("From: Alice <alice@mods.example>\r\nTo: %s\r\nSubject: Re: %s\r\n"+
			"Message-ID: <bench-reply-%d@mods.example>\r\nIn-Reply-To: <%s>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"+
			"approve %d\r\n\r\nOn Mon, 2 Jan 2026, Bench Forum moderation wrote:\r\n%s\r\n",
			digest.ReplyTo[0].Addr, digest.Subject, i, digest.MessageID, i+1, quoted))
	}
}
