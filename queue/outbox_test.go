package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"modbot/mail"
)

type fakeSender struct {
	mu   sync.Mutex
	errs []error // returned in order; nil when exhausted
	sent [][]byte
}

func (f *fakeSender) Send(ctx context.Context, from string, to []string, raw []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		if err != nil {
			return err
		}
	}
	f.sent = append(f.sent, raw)
	return nil
}

func enqueueOne(t *testing.T, s *Store, id string) {
	t.Helper()
	err := s.tx(context.Background(), func(tx *sqlx.Tx) error {
		return s.enqueue(context.Background(), tx, outMessage{Kind: "notice", MessageID: id, From: "moderator@forum.example", To: "carol@people.example", Raw: []byte("Subject: x\r\n\r\nhi\r\n")})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func outboxState(t *testing.T, s *Store, id string) (state string, attempts int, lastErr string) {
	t.Helper()
	if err := s.pool.QueryRow(`SELECT state, attempts, last_error FROM outbox WHERE message_id = ?`, id).Scan(&state, &attempts, &lastErr); err != nil {
		t.Fatal(err)
	}
	return
}

func TestOutboxRetriesTemporaryFailures(t *testing.T) {
	s := openTestStore(t)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	temp := &mail.SendError{Code: 451, Message: "try later", Temporary: true}
	fs := &fakeSender{errs: []error{temp, temp}}
	o := NewOutbox(s, fs, nil)
	enqueueOne(t, s, "m1@x")
	ctx := context.Background()
	if _, err := o.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if st, n, e := outboxState(t, s, "m1@x"); st != "pending" || n != 1 || !strings.Contains(e, "try later") {
		t.Fatalf("after a 451: %s %d %q", st, n, e)
	}
	// Not due yet: nothing is sent.
	o.Flush(ctx)
	if _, n, _ := outboxState(t, s, "m1@x"); n != 1 {
		t.Fatalf("retried before its time: attempts %d", n)
	}
	now = now.Add(31 * time.Second)
	o.Flush(ctx)
	if _, n, _ := outboxState(t, s, "m1@x"); n != 2 {
		t.Fatalf("attempts %d after the first back-off, want 2", n)
	}
	now = now.Add(61 * time.Second) // the delay doubled
	o.Flush(ctx)
	if st, n, _ := outboxState(t, s, "m1@x"); st != "sent" || n != 3 {
		t.Fatalf("state %s attempts %d, want sent after 3", st, n)
	}
	if len(fs.sent) != 1 {
		t.Errorf("delivered %d times, want once", len(fs.sent))
	}
}

func TestOutboxRecordsPermanentFailure(t *testing.T) {
	s := openTestStore(t)
	fs := &fakeSender{errs: []error{&mail.SendError{Code: 550, Message: "no such user", Temporary: false}}}
	o := NewOutbox(s, fs, nil)
	enqueueOne(t, s, "m2@x")
	o.Flush(context.Background())
	if st, n, e := outboxState(t, s, "m2@x"); st != "failed" || n != 1 || !strings.Contains(e, "no such user") {
		t.Errorf("after a 550: %s %d %q", st, n, e)
	}
	o.Flush(context.Background())
	if len(fs.sent) != 0 {
		t.Errorf("a failed message was sent")
	}
	st, err := s.Stats(context.Background())
	if err != nil || st.OutboxFailed != 1 {
		t.Errorf("stats %+v %v", st, err)
	}
}

func TestOutboxNetworkErrorIsTemporary(t *testing.T) {
	s := openTestStore(t)
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	fs := &fakeSender{errs: []error{fmt.Errorf("send: %w", refused)}}
	o := NewOutbox(s, fs, nil)
	enqueueOne(t, s, "m3@x")
	o.Flush(context.Background())
	if st, _, _ := outboxState(t, s, "m3@x"); st != "pending" {
		t.Errorf("a plain network error made the message %s, want pending", st)
	}
}

// cancelAfterSend is a server that accepts the message and then the
// process stops before the outbox can record it (ctx ends).
type cancelAfterSend struct {
	fakeSender
	cancel context.CancelFunc
}

func (c *cancelAfterSend) Send(ctx context.Context, from string, to []string, raw []byte) error {
	err := c.fakeSender.Send(ctx, from, to, raw)
	c.cancel()
	return err
}

// A stop (or a crash) between the server's 250 and the database update
// must not send the message again after the restart.
func TestOutboxDoesNotResendWhatTheServerAcceptedBeforeAStop(t *testing.T) {
	s := openTestStore(t)
	enqueueOne(t, s, "m9@x")
	ctx, cancel := context.WithCancel(context.Background())
	first := &cancelAfterSend{cancel: cancel}
	o := NewOutbox(s, first, nil)
	o.Flush(ctx)
	if len(first.sent) != 1 {
		t.Fatalf("first run delivered %d messages, want 1", len(first.sent))
	}
	if st, _, _ := outboxState(t, s, "m9@x"); st != "pending" {
		t.Fatalf("state %s: the stop came too late to test anything", st)
	}

	// The restarted daemon: a new Outbox on the same database.
	second := &fakeSender{}
	o2 := NewOutbox(s, second, nil)
	if _, err := o2.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(second.sent) != 0 {
		t.Errorf("the restarted outbox sent the message again")
	}
	if st, n, _ := outboxState(t, s, "m9@x"); st != "sent" || n != 1 {
		t.Errorf("state %s attempts %d, want sent after 1", st, n)
	}
	// What the log held is recorded: it is emptied, and new mail flows.
	enqueueOne(t, s, "m10@x")
	if _, err := o2.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(second.sent) != 1 {
		t.Errorf("new mail after the restart: %d sent, want 1", len(second.sent))
	}
}

func TestSentLogIgnoresATornLastLine(t *testing.T) {
	path := t.TempDir() + "/modbot.db-sent"
	if err := os.WriteFile(path, []byte("12\n7\n13"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := openSentLog(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	if err := l.add(42); err != nil {
		t.Fatal(err)
	}
	if err := l.handingOver(43); err != nil {
		t.Fatal(err)
	}
	if err := l.handingOver(42); err != nil {
		t.Fatal(err)
	}
	accepted, inDoubt, err := l.ids()
	if err != nil {
		t.Fatal(err)
	}
	// "13" was cut short: it is dropped, not joined to the next id. 42
	// was handed over again after it was accepted (a retry): accepted.
	if fmt.Sprint(accepted) != "[12 7 42]" || fmt.Sprint(inDoubt) != "[43]" {
		t.Errorf("accepted %v, in doubt %v", accepted, inDoubt)
	}
}

// markingFake hands the message over (calls handingOver) and then, when
// crash is set, the process stops before any answer arrives.
type markingFake struct {
	fakeSender
	cancel context.CancelFunc
	crash  bool
}

func (m *markingFake) SendMarked(ctx context.Context, from string, to []string, raw []byte, handingOver func()) error {
	if handingOver != nil {
		handingOver()
	}
	if m.crash {
		m.cancel()
		return &mail.SendError{Op: "data", Temporary: true, Err: context.Canceled}
	}
	return m.fakeSender.Send(ctx, from, to, raw)
}

// stopMidHandover enqueues a message and runs an outbox whose process
// stops after the final dot, before the server's answer; then it starts a
// new outbox on the same database, as a restart does, and flushes it.
func stopMidHandover(t *testing.T, s *Store, id string, resend bool) (second *markingFake, logs string) {
	t.Helper()
	enqueueOne(t, s, id)
	ctx, cancel := context.WithCancel(context.Background())
	NewOutbox(s, &markingFake{cancel: cancel, crash: true}, nil).Flush(ctx)

	var buf strings.Builder
	second = &markingFake{}
	o := NewOutbox(s, second, slog.New(slog.NewTextHandler(&buf, nil)))
	o.ResendInDoubt = resend
	if _, err := o.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	return second, buf.String()
}

// A stop after the final dot and before the server's answer leaves the
// message in doubt: it is sent again (at least once), marked, and logged.
func TestOutboxResendsAMessageLeftInDoubtAndSaysSo(t *testing.T) {
	s := openTestStore(t)
	second, logs := stopMidHandover(t, s, "m11@x", true)
	if len(second.sent) != 1 {
		t.Fatalf("sent %d times after the restart, want once (at least once)", len(second.sent))
	}
	var inDoubt sql.NullTime
	var state string
	if err := s.pool.QueryRow(`SELECT state, in_doubt_at FROM outbox WHERE message_id = 'm11@x'`).Scan(&state, &inDoubt); err != nil {
		t.Fatal(err)
	}
	if state != "sent" || !inDoubt.Valid {
		t.Errorf("state %s, in doubt %v; want sent and marked in doubt", state, inDoubt)
	}
	if !strings.Contains(logs, "may arrive twice") || !strings.Contains(logs, "m11@x") {
		t.Errorf("the doubt was not logged:\n%s", logs)
	}
}

// With resend_in_doubt off, a message left in doubt is recorded as sent:
// at most once, and the log says it may be missing.
func TestOutboxTrustsTheServerWhenToldTo(t *testing.T) {
	s := openTestStore(t)
	second, logs := stopMidHandover(t, s, "m13@x", false)
	if len(second.sent) != 0 {
		t.Errorf("sent again although resend_in_doubt is off")
	}
	var inDoubt, sentAt sql.NullTime
	var state, lastErr string
	if err := s.pool.QueryRow(`SELECT state, in_doubt_at, sent_at, last_error FROM outbox WHERE message_id = 'm13@x'`).Scan(&state, &inDoubt, &sentAt, &lastErr); err != nil {
		t.Fatal(err)
	}
	if state != "sent" || !inDoubt.Valid || !sentAt.Valid || !strings.Contains(lastErr, "not sent again") {
		t.Errorf("state %s, in doubt %v, sent %v, last error %q", state, inDoubt, sentAt, lastErr)
	}
	if !strings.Contains(logs, "may be missing") {
		t.Errorf("the doubt was not logged:\n%s", logs)
	}
}

// A message the server answered (even with a refusal) is not in doubt.
func TestOutboxAnsweredMessageIsNotInDoubt(t *testing.T) {
	s := openTestStore(t)
	enqueueOne(t, s, "m12@x")
	fs := &markingFake{fakeSender: fakeSender{errs: []error{&mail.SendError{Op: "data", Code: 451, Temporary: true, Message: "try later"}}}}
	o := NewOutbox(s, fs, nil)
	o.Flush(context.Background())
	var inDoubt sql.NullTime
	if err := s.pool.QueryRow(`SELECT in_doubt_at FROM outbox WHERE message_id = 'm12@x'`).Scan(&inDoubt); err != nil {
		t.Fatal(err)
	}
	if inDoubt.Valid {
		t.Errorf("a 451 to the final dot marked the message in doubt")
	}
}
