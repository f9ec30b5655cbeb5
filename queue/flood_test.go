package queue

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"modbot/mail"
	"modbot/queue/precheck"
)

// sizeLimitedMTA is an in-process go-smtp server that keeps what it
// accepts and refuses, as a real MTA does, any message over
// MaxMessageBytes with 552.
type sizeLimitedMTA struct {
	mu   sync.Mutex
	got  map[string][][]byte // by recipient
	addr string
}

func startSizeLimitedMTA(t *testing.T, limit int64) *sizeLimitedMTA {
	t.Helper()
	m := &sizeLimitedMTA{got: map[string][][]byte{}}
	srv := smtp.NewServer(m)
	srv.Domain = "mta.example"
	srv.AllowInsecureAuth = true
	srv.MaxMessageBytes = limit
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return m
}

func (m *sizeLimitedMTA) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &mtaSession{m: m}, nil
}

func (m *sizeLimitedMTA) received(rcpt string) [][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.got[rcpt]
}

type mtaSession struct {
	m    *sizeLimitedMTA
	rcpt []string
}

func (s *mtaSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mtaSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.rcpt = append(s.rcpt, to)
	return nil
}
func (s *mtaSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err // go-smtp's 552 when over MaxMessageBytes
	}
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	for _, rc := range s.rcpt {
		s.m.got[rc] = append(s.m.got[rc], b)
	}
	return nil
}
func (s *mtaSession) Reset()        { s.rcpt = nil }
func (s *mtaSession) Logout() error { return nil }

// floodBody is the attack of issue 11 §5: about 1 MB of 48,000 short
// links, 40 to a line.
func floodBody() string {
	var b strings.Builder
	for i := 0; i < 48000; i++ {
		fmt.Fprintf(&b, "bit.ly/%014x", i)
		if i%40 == 39 {
			b.WriteString("\n")
		} else {
			b.WriteString(" ")
		}
	}
	return b.String()
}

// The attack end to end: one 1 MB submission of 48,000 short links and an
// innocent comment in the same window, then a digest the MTA refuses with
// 552. Before the fix: 48,000 hits stored, a notice and a digest of tens
// of megabytes, and the refused digest's items (the innocent comment too)
// counted as shown for reminder_interval. After: the hits, notice and
// digest are bounded, the refused digest's items are back at once, the
// admins are told, and the innocent comment is in a digest that arrives.
func TestFloodCannotHideTheQueue(t *testing.T) {
	mta := startSizeLimitedMTA(t, 40<<10)
	testFlood(t, mail.NewSender(mail.SMTPConfig{Addr: mta.addr, Timeout: 10 * time.Second}),
		func(rcpt string, _ int) [][]byte { return mta.received(rcpt) })
}

// testFlood runs the attack against an MTA that refuses messages over
// 40 KiB; received returns what a recipient got, waiting for at least n
// messages where delivery takes time.
func testFlood(t *testing.T, sender Sender, received func(rcpt string, n int) [][]byte) {
	ctx := context.Background()
	in, s := newIngester(t)
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	attack := floodBody()
	if len(attack) < 1_000_000 {
		t.Fatalf("attack body is %d bytes", len(attack))
	}
	for _, raw := range []string{
		msg("Mallory <mallory@people.example>", "moderator+uk-meta-encryption@forum.example", "links", "flood@x", attack),
		msg("Carol <carol@people.example>", "moderator+uk-meta-encryption@forum.example", "hi", "innocent@x", "A calm and innocent comment."),
	} {
		if _, err := in.Handle(ctx, fetched(raw)); err != nil {
			t.Fatal(err)
		}
	}

	// Bounded hits stored.
	var hits int
	if err := s.pool.Get(&hits, `SELECT COUNT(*) FROM precheck_hits WHERE submission_id = 1001`); err != nil {
		t.Fatal(err)
	}
	if hits > precheck.MaxHitsPerComment+2 || hits == 0 {
		t.Errorf("%d hits stored for the flood, want 1 to %d", hits, precheck.MaxHitsPerComment+2)
	}
	var summary string
	if err := s.pool.Get(&summary, `SELECT explanation FROM precheck_hits WHERE submission_id = 1001 AND explanation LIKE '%more hits%'`); err != nil {
		t.Errorf("no summary hit: %v", err)
	}

	// A bounded "received" notice.
	var notice int
	if err := s.pool.Get(&notice, `SELECT LENGTH(raw) FROM outbox WHERE kind = 'notice' AND rcpt_to = 'mallory@people.example'`); err != nil {
		t.Fatal(err)
	}
	t.Logf("received notice to the attacker: %d bytes; hits stored: %d; summary %q", notice, hits, summary)
	if notice > maxNoticeBytes {
		t.Errorf("received notice of %d bytes, want at most %d", notice, maxNoticeBytes)
	}

	// The MTA takes 40 KiB at most; the flood's digest is bigger.
	d := newDigester(t, s)
	d.Moderators = []string{"alice@mods.example"}
	d.Escalation.Admins = []string{"admin@forum.example"}
	o := NewOutbox(s, sender, nil)
	o.Failed = d.Undeliverable
	if _, _, err := d.SendDue(ctx); err != nil {
		t.Fatal(err)
	}
	first := digestsTo(t, s, "alice@mods.example")
	var size int
	if err := s.pool.Get(&size, `SELECT LENGTH(raw) FROM outbox WHERE kind = 'digest'`); err != nil {
		t.Fatal(err)
	}
	t.Logf("first digest: %d bytes", size)
	if len(first) != 1 || !strings.Contains(first[0].Text, "#1001") || !strings.Contains(first[0].Text, "#1002") {
		t.Fatalf("first digest should list both comments")
	}
	if size > maxFloodDigestBytes {
		t.Errorf("digest of %d bytes, want at most %d", size, maxFloodDigestBytes)
	}
	if _, err := o.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var st, lastErr string
	if err := s.pool.QueryRow(`SELECT state, last_error FROM outbox WHERE kind = 'digest'`).Scan(&st, &lastErr); err != nil {
		t.Fatal(err)
	}
	if st != "failed" || !strings.Contains(lastErr, "552") {
		t.Fatalf("the first digest: %s %q, want failed with 552", st, lastErr)
	}
	// The admins are told, and their mail arrived.
	admin := received("admin@forum.example", 1)
	if len(admin) != 1 || !bytes.Contains(admin[0], []byte("#1001")) || !bytes.Contains(admin[0], []byte("#1002")) ||
		!bytes.Contains(admin[0], []byte("552")) {
		t.Fatalf("admins got %d mails, want one naming #1001, #1002 and the 552:\n%s", len(admin), bytes.Join(admin, nil))
	}

	// Minutes later, not a day: the next digests list both again, and
	// the one with the innocent comment arrives.
	now = now.Add(5 * time.Minute)
	for i := 0; i < 3; i++ {
		if _, _, err := d.SendDue(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := o.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		now = now.Add(10 * time.Second)
	}
	got := received("alice@mods.example", 2)
	if len(got) == 0 {
		t.Fatal("no digest arrived after the refused one")
	}
	var arrived string
	for _, raw := range got {
		m, err := mail.Parse(bytes.NewReader(raw), nil)
		if err != nil {
			t.Fatal(err)
		}
		arrived += m.Text
	}
	if !strings.Contains(arrived, "#1002") || !strings.Contains(arrived, "A calm and innocent comment.") {
		t.Errorf("the innocent comment is in no digest that arrived:\n%s", arrived)
	}
	if !strings.Contains(arrived, "#1001") {
		t.Errorf("the flood, cut to fit, is in no digest that arrived")
	}
	if !strings.Contains(strings.Join(strings.Fields(strings.ReplaceAll(arrived, "   | ", " ")), " "), "the whole message is filed in the inbox's Modbot/ folders") {
		t.Errorf("the cut flood does not say where the rest is")
	}
	if n := len(received("admin@forum.example", 1)); n != 1 {
		t.Errorf("admins got %d mails, want 1", n)
	}
}

// The largest sizes the bounds allow, asserted by the tests below.
const (
	maxNoticeBytes      = 64 << 10
	maxFloodDigestBytes = 128 << 10
)
