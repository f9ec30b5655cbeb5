package mail

import (
	"bytes"
	"context"
	"errors"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

// handledMsg is what a Handler was given.
type handledMsg struct {
	UID         uint32
	UIDValidity uint32
	MessageID   string
	Size        int64
	Raw         []byte
	Oversize    bool
	Err         error // what the Handler returned
}

// recordingHandler records every call and files as decide says. decide
// gets the message and how many times that Message-ID was offered before.
type recordingHandler struct {
	mu     sync.Mutex
	calls  []handledMsg
	seen   map[string]int
	decide func(msg *Fetched, id string, before int) (Filing, error)
}

func newRecordingHandler(decide func(msg *Fetched, id string, before int) (Filing, error)) *recordingHandler {
	return &recordingHandler{seen: make(map[string]int), decide: decide}
}

func (h *recordingHandler) Handle(ctx context.Context, msg *Fetched) (Filing, error) {
	var id string
	if m, err := mail.ReadMessage(bytes.NewReader(msg.Raw)); err == nil {
		id = m.Header.Get("Message-ID")
	}
	h.mu.Lock()
	before := h.seen[id]
	h.seen[id]++
	h.mu.Unlock()

	call := handledMsg{
		UID: msg.UID, UIDValidity: msg.UIDValidity, MessageID: id, Size: msg.Size,
		Raw: slices.Clone(msg.Raw), Oversize: msg.Oversize,
	}
	// Record even when decide panics.
	defer func() {
		h.mu.Lock()
		h.calls = append(h.calls, call)
		h.mu.Unlock()
	}()
	f, err := h.decide(msg, id, before)
	call.Err = err
	return f, err
}

func (h *recordingHandler) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.calls)
}

func (h *recordingHandler) snapshot() []handledMsg {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.calls)
}

// ids lists the Message-IDs offered, in call order.
func (h *recordingHandler) ids() []string {
	var ids []string
	for _, c := range h.snapshot() {
		ids = append(ids, c.MessageID)
	}
	return ids
}

// handlerFunc adapts a function to Handler.
type handlerFunc func(ctx context.Context, msg *Fetched) (Filing, error)

func (f handlerFunc) Handle(ctx context.Context, msg *Fetched) (Filing, error) { return f(ctx, msg) }

func fileAll(folder, keyword string) func(*Fetched, string, int) (Filing, error) {
	return func(*Fetched, string, int) (Filing, error) {
		return Filing{Folder: folder, Keyword: keyword}, nil
	}
}

func testIMAPConfig(t testing.TB, srv *imapTestServer) IMAPConfig {
	return IMAPConfig{
		Addr:     srv.addr,
		Username: imapTestUser,
		Password: imapTestPass,
		Mailbox:  "INBOX",
		Security: SecurityNone,
		IDLE:     true,
		// Long, so that in IDLE tests only EXISTS can wake the watcher.
		PollInterval: time.Hour,
		Logger:       newTestLog(t).logger(),
	}
}

// startWatcher runs a watcher with test timings until the test ends or
// stop is called; stop fails the test if Run does not return nil.
func startWatcher(t testing.TB, cfg IMAPConfig, st State, h Handler, tune ...func(*Watcher)) (w *Watcher, stop func()) {
	t.Helper()
	w = NewWatcher(cfg, st, h)
	w.retryMin, w.retryMax = 5*time.Millisecond, 50*time.Millisecond
	w.shutdownGrace = time.Second
	for _, f := range tune {
		f(w)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run = %v, want nil after cancel", err)
				}
			case <-time.After(15 * time.Second):
				t.Errorf("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return w, stop
}

func TestWatcherHandlesBacklogInOrderAndFiles(t *testing.T) {
	srv := newIMAPTestServer(t, imapTestOptions{})
	filings := map[string]Filing{
		msgID(1): {FolderSubmissions, "$Submission"},
		msgID(2): {FolderFeedback, "$Feedback"},
		msgID(3): {FolderSubmissions, "$Submission"},
		msgID(4): {FolderIgnored, ""},
		msgID(5): {FolderReplies, "$Reply"},
	}
	for n := 1; n <= 5; n++ {
		srv.appendMsg("INBOX", testMessage(n))
	}
	h := newRecordingHandler(func(_ *Fetched, id string, _ int) (Filing, error) { return filings[id], nil })
	st := newIMAPTestState()
	w, _ := startWatcher(t, testIMAPConfig(t, srv), st, h)

	// Progress is stored only after filing, so this waits for the moves
	// too. (A look at the inbox alone can race with them.)
	waitFor(t, "progress to be stored", func() bool { _, last := st.get("INBOX"); return last == 5 })
	if msgs, _ := srv.messages("INBOX"); len(msgs) != 0 {
		t.Errorf("inbox still holds %+v", msgs)
	}

	calls := h.snapshot()
	for i, c := range calls {
		if c.UID != uint32(i+1) || c.MessageID != msgID(i+1) {
			t.Errorf("call %d: uid %d %s, want uid %d %s", i, c.UID, c.MessageID, i+1, msgID(i+1))
		}
		if c.Oversize {
			t.Errorf("uid %d: Oversize set for a small message", c.UID)
		}
		if want := testMessage(i + 1); !bytes.Equal(c.Raw, want) || c.Size != int64(len(want)) {
			t.Errorf("uid %d: got %d bytes (Size %d), want the %d-byte message", c.UID, len(c.Raw), c.Size, len(want))
		}
	}

	want := map[string][]string{
		FolderSubmissions: {msgID(1), msgID(3)},
		FolderFeedback:    {msgID(2)},
		FolderIgnored:     {msgID(4)},
		FolderReplies:     {msgID(5)},
	}
	for folder, ids := range want {
		msgs, ok := srv.messages(folder)
		if !ok {
			t.Errorf("folder %s was not created", folder)
			continue
		}
		var got []string
		for _, m := range msgs {
			got = append(got, m.MessageID)
			kw := filings[m.MessageID].Keyword
			if kw != "" && !m.hasFlag(imap.Flag(kw)) {
				t.Errorf("%s in %s: flags %v, want keyword %s", m.MessageID, folder, m.Flags, kw)
			}
			if m.hasFlag(imap.FlagSeen) {
				t.Errorf("%s in %s: marked \\Seen; the watcher must only peek", m.MessageID, folder)
			}
		}
		if !slices.Equal(got, ids) {
			t.Errorf("folder %s holds %v, want %v", folder, got, ids)
		}
	}

	validity, last := st.get("INBOX")
	if validity == 0 || last != 5 {
		t.Errorf("stored state = (%d, %d), want (uidvalidity, 5)", validity, last)
	}
	waitFor(t, "the sync to end", func() bool { return !w.Stats().LastSync.IsZero() })
	if s := w.Stats(); s.Fetched != 5 || !s.Connected || !s.IdleSupported || !s.MoveSupported || s.LastSync.IsZero() {
		t.Errorf("stats = %+v", s)
	}
}

func TestWatcherHandlesNewMail(t *testing.T) {
	for _, mode := range []string{"idle", "poll"} {
		t.Run(mode, func(t *testing.T) {
			srv := newIMAPTestServer(t, imapTestOptions{})
			h := newRecordingHandler(fileAll(FolderSubmissions, "$Submission"))
			cfg := testIMAPConfig(t, srv)
			if mode == "poll" {
				cfg.IDLE = false
				cfg.PollInterval = 10 * time.Millisecond
			}
			w, _ := startWatcher(t, cfg, newIMAPTestState(), h)
			waitFor(t, "the first sync", func() bool { return !w.Stats().LastSync.IsZero() })

			for n := 1; n <= 3; n++ {
				srv.appendMsg("INBOX", testMessage(n))
				waitFor(t, "the new message to be handled", func() bool { return h.count() == n })
			}
			if got, want := h.ids(), []string{msgID(1), msgID(2), msgID(3)}; !slices.Equal(got, want) {
				t.Errorf("handled %v, want %v", got, want)
			}
			waitFor(t, "all three to be filed", func() bool {
				return len(srv.messageIDs(FolderSubmissions)) == 3
			})
			if !w.Stats().IdleSupported {
				t.Errorf("IdleSupported = false; the server has IDLE")
			}
		})
	}
}

func TestWatcherOversizeFetchesHeaderOnly(t *testing.T) {
	srv := newIMAPTestServer(t, imapTestOptions{})
	small, big := testMessage(1), testMessageSized(2, 4000)
	srv.appendMsg("INBOX", small)
	srv.appendMsg("INBOX", big)
	srv.appendMsg("INBOX", testMessage(3))
	h := newRecordingHandler(fileAll(FolderQuarantine, ""))
	cfg := testIMAPConfig(t, srv)
	cfg.MaxMessageSize = 1000
	startWatcher(t, cfg, newIMAPTestState(), h)
	waitFor(t, "three messages", func() bool { return h.count() == 3 })

	calls := h.snapshot()
	if got := h.ids(); !slices.Equal(got, []string{msgID(1), msgID(2), msgID(3)}) {
		t.Fatalf("handled %v, want messages 1, 2, 3 in order", got)
	}
	c := calls[1]
	if !c.Oversize {
		t.Errorf("big message: Oversize not set")
	}
	if c.Size != int64(len(big)) {
		t.Errorf("big message: Size = %d, want %d", c.Size, len(big))
	}
	header, _, _ := bytes.Cut(big, []byte("\r\n\r\n"))
	if want := append(header, "\r\n\r\n"...); !bytes.Equal(c.Raw, want) {
		t.Errorf("big message: Raw = %q, want only the header %q", c.Raw, want)
	}
	if calls[0].Oversize || calls[2].Oversize {
		t.Errorf("small messages marked oversize")
	}
}

func TestWatcherHandlerFailureStopsBatchAndRetries(t *testing.T) {
	for _, how := range []string{"error", "panic"} {
		t.Run(how, func(t *testing.T) {
			srv := newIMAPTestServer(t, imapTestOptions{})
			for n := 1; n <= 5; n++ {
				srv.appendMsg("INBOX", testMessage(n))
			}
			h := newRecordingHandler(func(_ *Fetched, id string, before int) (Filing, error) {
				if id == msgID(3) && before == 0 {
					if how == "panic" {
						panic("handler bug")
					}
					return Filing{}, errors.New("database is locked")
				}
				return Filing{Folder: FolderSubmissions, Keyword: "$Submission"}, nil
			})
			logs := newTestLog(t)
			cfg := testIMAPConfig(t, srv)
			cfg.Logger = logs.logger()
			st := newIMAPTestState()
			startWatcher(t, cfg, st, h)

			waitFor(t, "progress to be stored", func() bool { _, last := st.get("INBOX"); return last == 5 })
			if got := srv.messageIDs(FolderSubmissions); len(got) != 5 {
				t.Errorf("filed %v, want all five", got)
			}
			want := []string{msgID(1), msgID(2), msgID(3), msgID(3), msgID(4), msgID(5)}
			if got := h.ids(); !slices.Equal(got, want) {
				t.Errorf("handled %v, want %v (stop at the failure, retry from it)", got, want)
			}
			if how == "panic" && !strings.Contains(logs.String(), "handler panicked") {
				t.Errorf("panic not logged:\n%s", logs)
			}
		})
	}
}

func TestWatcherStoresProgressPerBatch(t *testing.T) {
	srv := newIMAPTestServer(t, imapTestOptions{})
	for n := 1; n <= 5; n++ {
		srv.appendMsg("INBOX", testMessage(n))
	}
	var mu sync.Mutex
	broken := true // message 4 fails until repaired
	h := newRecordingHandler(func(_ *Fetched, id string, _ int) (Filing, error) {
		mu.Lock()
		defer mu.Unlock()
		if id == msgID(4) && broken {
			return Filing{}, errors.New("storage unavailable")
		}
		return Filing{Folder: FolderSubmissions}, nil
	})
	cfg := testIMAPConfig(t, srv)
	cfg.BatchSize = 2
	st := newIMAPTestState()
	startWatcher(t, cfg, st, h)

	// Batch [1 2] is done; of [3 4], 3 is handled and filed before 4 fails.
	waitFor(t, "progress up to message 3", func() bool { _, last := st.get("INBOX"); return last == 3 })
	waitFor(t, "a retry of message 4", func() bool {
		ids := h.ids()
		return slices.Equal(ids[:min(len(ids), 5)], []string{msgID(1), msgID(2), msgID(3), msgID(4), msgID(4)})
	})
	if slices.Contains(h.ids(), msgID(5)) {
		t.Errorf("message 5 handled while message 4 still fails: %v", h.ids())
	}
	if got := srv.messageIDs(FolderSubmissions); !slices.Equal(got, []string{msgID(1), msgID(2), msgID(3)}) {
		t.Errorf("filed %v before the failure, want 1, 2, 3", got)
	}

	mu.Lock()
	broken = false
	mu.Unlock()
	waitFor(t, "the rest", func() bool { _, last := st.get("INBOX"); return last == 5 })
	for _, id := range []string{msgID(1), msgID(2), msgID(3), msgID(5)} {
		n := 0
		for _, got := range h.ids() {
			if got == id {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s handled %d times, want once", id, n)
		}
	}
}

func TestWatcherResumesFromStoredState(t *testing.T) {
	srv := newIMAPTestServer(t, imapTestOptions{})
	for n := 1; n <= 3; n++ {
		srv.appendMsg("INBOX", testMessage(n))
	}
	// Folder "" leaves messages in the inbox, so only the stored state
	// keeps them from being offered again.
	st := newIMAPTestState()
	h1 := newRecordingHandler(fileAll("", "$Seen-By-Modbot"))
	_, stop := startWatcher(t, testIMAPConfig(t, srv), st, h1)
	waitFor(t, "the first run", func() bool { return h1.count() == 3 })
	waitFor(t, "progress to be stored", func() bool { _, last := st.get("INBOX"); return last == 3 })
	stop()

	srv.appendMsg("INBOX", testMessage(4))
	srv.appendMsg("INBOX", testMessage(5))
	h2 := newRecordingHandler(fileAll("", "$Seen-By-Modbot"))
	startWatcher(t, testIMAPConfig(t, srv), st, h2)
	waitFor(t, "the second run", func() bool { return h2.count() == 2 })
	if got := h2.ids(); !slices.Equal(got, []string{msgID(4), msgID(5)}) {
		t.Errorf("second run handled %v, want only messages 4 and 5", got)
	}
	msgs, _ := srv.messages("INBOX")
	for _, m := range msgs {
		if !m.hasFlag("$Seen-By-Modbot") {
			t.Errorf("%s: flags %v, want the keyword", m.MessageID, m.Flags)
		}
	}
}

func TestWatcherUIDValidityChangeReprocesses(t *testing.T) {
	srv := newIMAPTestServer(t, imapTestOptions{})
	for n := 1; n <= 3; n++ {
		srv.appendMsg("INBOX", testMessage(n))
	}
	st := newIMAPTestState()
	h1 := newRecordingHandler(fileAll("", ""))
	_, stop := startWatcher(t, testIMAPConfig(t, srv), st, h1)
	waitFor(t, "progress to be stored", func() bool { _, last := st.get("INBOX"); return last == 3 })
	stop()
	oldValidity, _ := st.get("INBOX")

	// Recreating the mailbox gives it a new UIDVALIDITY and restarts UIDs
	// at 1, below the stored last UID.
	c := srv.client()
	if err := c.Delete("INBOX").Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Create("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	srv.appendMsg("INBOX", testMessage(10))
	srv.appendMsg("INBOX", testMessage(11))

	h2 := newRecordingHandler(fileAll("", ""))
	startWatcher(t, testIMAPConfig(t, srv), st, h2)
	waitFor(t, "the recreated mailbox to be read", func() bool { return h2.count() == 2 })
	calls := h2.snapshot()
	if calls[0].UID != 1 || calls[1].UID != 2 || calls[0].MessageID != msgID(10) {
		t.Errorf("handled uids %d, %d (%s), want 1, 2 from the new mailbox", calls[0].UID, calls[1].UID, calls[0].MessageID)
	}
	if calls[0].UIDValidity == oldValidity {
		t.Errorf("Fetched.UIDValidity still the old %d", oldValidity)
	}
	waitFor(t, "the new state to be stored", func() bool {
		v, last := st.get("INBOX")
		return v == calls[0].UIDValidity && last == 2
	})
}

func TestWatcherReconnectsAfterServerRestart(t *testing.T) {
	srv := newIMAPTestServer(t, imapTestOptions{})
	srv.appendMsg("INBOX", testMessage(1))
	h := newRecordingHandler(fileAll(FolderSubmissions, "$Submission"))
	w, _ := startWatcher(t, testIMAPConfig(t, srv), newIMAPTestState(), h)
	waitFor(t, "the first message", func() bool { return h.count() == 1 })

	srv.stop()
	waitFor(t, "the watcher to notice", func() bool { return w.Stats().Reconnects >= 1 })
	srv.restart()
	srv.appendMsg("INBOX", testMessage(2))
	waitFor(t, "the message sent after the restart", func() bool { return slices.Contains(h.ids(), msgID(2)) })
	// Message 1 is offered again if the server went away before it was
	// filed: that is the design (Handle is idempotent), so allow it.
	for _, id := range h.ids() {
		if id != msgID(1) && id != msgID(2) {
			t.Errorf("handled unexpected %s", id)
		}
	}
	waitFor(t, "both to be filed, once each", func() bool {
		return slices.Equal(srv.messageIDs(FolderSubmissions), []string{msgID(1), msgID(2)})
	})
	waitFor(t, "connected again", func() bool { return w.Stats().Connected })
}

func TestWatcherCancelReturns(t *testing.T) {
	t.Run("idle", func(t *testing.T) {
		srv := newIMAPTestServer(t, imapTestOptions{})
		w, stop := startWatcher(t, testIMAPConfig(t, srv), newIMAPTestState(), newRecordingHandler(fileAll("", "")))
		waitFor(t, "the first sync", func() bool { return !w.Stats().LastSync.IsZero() })
		stop() // fails the test if Run does not return nil
		if w.Stats().Connected {
			t.Error("still marked connected after Run returned")
		}
	})
	t.Run("in handler", func(t *testing.T) {
		srv := newIMAPTestServer(t, imapTestOptions{})
		// More messages behind the one being handled: their bodies are
		// on the wire, unread, when ctx ends.
		for n := 1; n <= 4; n++ {
			srv.appendMsg("INBOX", testMessageSized(n, 20000))
		}
		entered := make(chan struct{})
		h := handlerFunc(func(ctx context.Context, msg *Fetched) (Filing, error) {
			if msg.UID == 1 {
				close(entered)
			}
			<-ctx.Done()
			return Filing{}, ctx.Err()
		})
		st := newIMAPTestState()
		_, stop := startWatcher(t, testIMAPConfig(t, srv), st, h)
		<-entered
		stop()
		if _, last := st.get("INBOX"); last != 0 {
			t.Errorf("progress stored past a message whose handling was cancelled: last=%d", last)
		}
		if ids := srv.messageIDs("INBOX"); len(ids) != 4 {
			t.Errorf("inbox holds %v, want the unhandled messages still there", ids)
		}
	})
	t.Run("handler ignores ctx", func(t *testing.T) {
		srv := newIMAPTestServer(t, imapTestOptions{})
		for n := 1; n <= 4; n++ {
			srv.appendMsg("INBOX", testMessageSized(n, 20000))
		}
		entered, release := make(chan struct{}), make(chan struct{})
		h := handlerFunc(func(ctx context.Context, msg *Fetched) (Filing, error) {
			if msg.UID == 1 {
				close(entered)
				<-release // finishes its work whatever ctx says
			}
			return Filing{Folder: FolderSubmissions}, nil
		})
		// The grace period passes while the handler works.
		_, stop := startWatcher(t, testIMAPConfig(t, srv), newIMAPTestState(), h,
			func(w *Watcher) { w.shutdownGrace = time.Millisecond })
		<-entered
		go func() { time.Sleep(20 * time.Millisecond); close(release) }()
		stop()
	})
	t.Run("unreachable", func(t *testing.T) {
		srv := newIMAPTestServer(t, imapTestOptions{})
		cfg := testIMAPConfig(t, srv)
		srv.stop()
		w, stop := startWatcher(t, cfg, newIMAPTestState(), newRecordingHandler(fileAll("", "")))
		waitFor(t, "a failed attempt", func() bool { return w.Stats().Reconnects >= 1 })
		stop()
	})
}

func TestWatcherLoginRefused(t *testing.T) {
	srv := newIMAPTestServer(t, imapTestOptions{})
	logs := newTestLog(t)
	cfg := testIMAPConfig(t, srv)
	cfg.Password = "wrong-password-do-not-log"
	cfg.Logger = logs.logger()
	h := newRecordingHandler(fileAll("", ""))
	w, stop := startWatcher(t, cfg, newIMAPTestState(), h)
	waitFor(t, "two refused attempts", func() bool { return w.Stats().Reconnects >= 2 })
	stop()

	out := logs.String()
	if !strings.Contains(out, "imap login refused") || !strings.Contains(out, imapTestUser) {
		t.Errorf("log does not say the login was refused for the user:\n%s", out)
	}
	if !strings.Contains(out, "attempt=2") {
		t.Errorf("log does not count attempts:\n%s", out)
	}
	if strings.Contains(out, cfg.Password) {
		t.Errorf("log contains the password:\n%s", out)
	}
	if h.count() != 0 {
		t.Errorf("handler called without a login")
	}
}

func TestWatcherWithoutKeywordSupportStillFiles(t *testing.T) {
	srv := newIMAPTestServer(t, imapTestOptions{})
	srv.noKeywords = true
	srv.appendMsg("INBOX", testMessage(1))
	srv.appendMsg("INBOX", testMessage(2))
	logs := newTestLog(t)
	cfg := testIMAPConfig(t, srv)
	cfg.Logger = logs.logger()
	h := newRecordingHandler(fileAll(FolderSubmissions, "$Submission"))
	startWatcher(t, cfg, newIMAPTestState(), h)
	waitFor(t, "both to be filed", func() bool { return len(srv.messageIDs(FolderSubmissions)) == 2 })
	msgs, _ := srv.messages(FolderSubmissions)
	for _, m := range msgs {
		if m.hasFlag("$Submission") {
			t.Errorf("%s: keyword set although PERMANENTFLAGS lacks \\*", m.MessageID)
		}
	}
	if n := strings.Count(logs.String(), "does not keep custom keywords"); n != 1 {
		t.Errorf("missing keyword support logged %d times, want once", n)
	}
}

// BenchmarkWatcherIngest measures a catch-up over a backlog of small
// messages with a handler that does nothing, all filed to one folder.
func BenchmarkWatcherIngest(b *testing.B) {
	const n = 2000
	var total time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		srv := newIMAPTestServer(b, imapTestOptions{})
		for j := 1; j <= n; j++ {
			srv.appendMsg("INBOX", testMessage(j))
		}
		var count int
		var mu sync.Mutex
		h := handlerFunc(func(ctx context.Context, msg *Fetched) (Filing, error) {
			mu.Lock()
			count++
			mu.Unlock()
			return Filing{Folder: FolderSubmissions, Keyword: "$Submission"}, nil
		})
		st := newIMAPTestState()
		cfg := testIMAPConfig(b, srv)
		cfg.Logger = newTestLog(b).logger()
		b.StartTimer()
		start := time.Now()
		_, stop := startWatcher(b, cfg, st, h)
		waitFor(b, "the backlog", func() bool { _, last := st.get("INBOX"); return last == n })
		total += time.Since(start)
		b.StopTimer()
		stop()
		srv.stop()
		if count != n {
			b.Fatalf("handled %d, want %d", count, n)
		}
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "msgs/s")
}

// BenchmarkWatcherNewMailLatency measures the time from another client's
// APPEND to the Handler being called, with the watcher idling. The test
// server adds up to 1ms: its IDLE looks for news every millisecond.
func BenchmarkWatcherNewMailLatency(b *testing.B) {
	srv := newIMAPTestServer(b, imapTestOptions{})
	got := make(chan struct{}, 1)
	h := handlerFunc(func(ctx context.Context, msg *Fetched) (Filing, error) {
		got <- struct{}{}
		return Filing{Folder: FolderSubmissions}, nil
	})
	st := newIMAPTestState()
	w, _ := startWatcher(b, testIMAPConfig(b, srv), st, h)
	waitFor(b, "the first sync", func() bool { return !w.Stats().LastSync.IsZero() })
	msg := testMessage(1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		srv.appendMsg("INBOX", msg)
		<-got
		// Let the watcher file the message and go back to IDLE, so the
		// next round measures a wake-up from IDLE.
		b.StopTimer()
		waitFor(b, "the message to be filed", func() bool { _, last := st.get("INBOX"); return last == uint32(i+1) })
		time.Sleep(2 * time.Millisecond)
		b.StartTimer()
	}
}

// batchingHandler is a recordingHandler that is also a Batcher whose
// EndBatch fails as often as failEnds says.
type batchingHandler struct {
	*recordingHandler
	mu           sync.Mutex
	begun, ended int
	open         bool
	failEnds     int
}

func (h *batchingHandler) BeginBatch(context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.open {
		return errors.New("BeginBatch twice")
	}
	h.begun++
	h.open = true
	return nil
}

func (h *batchingHandler) EndBatch(context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ended++
	h.open = false
	if h.failEnds > 0 {
		h.failEnds--
		return errors.New("commit: disk I/O error")
	}
	return nil
}

func TestWatcherBatchCommitFailureFilesNothing(t *testing.T) {
	srv := newIMAPTestServer(t, imapTestOptions{})
	for n := 1; n <= 5; n++ {
		srv.appendMsg("INBOX", testMessage(n))
	}
	h := &batchingHandler{recordingHandler: newRecordingHandler(fileAll(FolderSubmissions, "$Submission")), failEnds: 1}
	st := newIMAPTestState()
	startWatcher(t, testIMAPConfig(t, srv), st, h)

	waitFor(t, "progress to be stored", func() bool { _, last := st.get("INBOX"); return last == 5 })
	if got := srv.messageIDs(FolderSubmissions); len(got) != 5 {
		t.Errorf("filed %v, want all five", got)
	}
	// The first batch's outcomes were not committed: none may be filed,
	// so all five come round again.
	var want []string
	for range 2 {
		for n := 1; n <= 5; n++ {
			want = append(want, msgID(n))
		}
	}
	if got := h.ids(); !slices.Equal(got, want) {
		t.Errorf("handled %v, want every message twice", got)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.begun != h.ended || h.begun < 2 {
		t.Errorf("BeginBatch %d times, EndBatch %d times", h.begun, h.ended)
	}
}

// preparingHandler records what Prepare made of each message and which
// Handle then handled it: the one of what Prepare returned, or its own.
type preparingHandler struct {
	*recordingHandler
	mu       sync.Mutex
	prepared map[uint32]bool
	got      map[uint32]string // UID → what Prepare made of it, as its turn saw it; "" for Handler.Handle
}

func (h *preparingHandler) Prepare(_ context.Context, msg *Fetched) Prepared {
	h.mu.Lock()
	h.prepared[msg.UID] = true
	h.mu.Unlock()
	if msg.UID == 3 {
		panic("prepare bug")
	}
	return &preparedMsg{h: h, msg: msg, made: "prepared " + string(msg.Raw[:20])}
}

func (h *preparingHandler) Handle(ctx context.Context, msg *Fetched) (Filing, error) {
	return h.handle(ctx, msg, "")
}

func (h *preparingHandler) handle(ctx context.Context, msg *Fetched, made string) (Filing, error) {
	h.mu.Lock()
	if _, twice := h.got[msg.UID]; twice {
		h.got[msg.UID] = "handled twice"
	} else {
		h.got[msg.UID] = made
	}
	h.mu.Unlock()
	return h.recordingHandler.Handle(ctx, msg)
}

// preparedMsg is what preparingHandler's Prepare returns.
type preparedMsg struct {
	h    *preparingHandler
	msg  *Fetched
	made string
}

func (p *preparedMsg) Handle(ctx context.Context) (Filing, error) {
	return p.h.handle(ctx, p.msg, p.made)
}

func TestWatcherPassesPreparedWorkToHandle(t *testing.T) {
	srv := newIMAPTestServer(t, imapTestOptions{})
	for n := 1; n <= 20; n++ {
		srv.appendMsg("INBOX", testMessage(n))
	}
	h := &preparingHandler{recordingHandler: newRecordingHandler(fileAll(FolderSubmissions, "$Submission")),
		prepared: map[uint32]bool{}, got: map[uint32]string{}}
	st := newIMAPTestState()
	startWatcher(t, testIMAPConfig(t, srv), st, h)
	waitFor(t, "progress to be stored", func() bool { _, last := st.get("INBOX"); return last == 20 })

	var want []string
	for n := 1; n <= 20; n++ {
		want = append(want, msgID(n))
	}
	if got := h.ids(); !slices.Equal(got, want) {
		t.Errorf("handled %v, want each once in order", got)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.snapshot() {
		p := h.got[c.UID]
		switch {
		case c.UID == 3:
			if p != "" {
				t.Errorf("uid 3: Prepare panicked, yet its turn got %q", p)
			}
		case p != "prepared "+string(c.Raw[:20]):
			t.Errorf("uid %d: its turn got %q, not what Prepare made of it", c.UID, p)
		}
	}
	if len(h.prepared) != 20 {
		t.Errorf("Prepare saw %d messages, want 20", len(h.prepared))
	}
}

// With a read-ahead budget smaller than any message, each message waits
// until the one before it was taken: slower, but nothing stalls and the
// order holds.
func TestWatcherReadAheadBudgetSmallerThanAMessage(t *testing.T) {
	srv := newIMAPTestServer(t, imapTestOptions{})
	for n := 1; n <= 12; n++ {
		srv.appendMsg("INBOX", testMessage(n))
	}
	h := &preparingHandler{recordingHandler: newRecordingHandler(fileAll(FolderSubmissions, "$Submission")),
		prepared: map[uint32]bool{}, got: map[uint32]string{}}
	st := newIMAPTestState()
	startWatcher(t, testIMAPConfig(t, srv), st, h, func(w *Watcher) { w.readAheadBytes = 1 })
	waitFor(t, "progress to be stored", func() bool { _, last := st.get("INBOX"); return last == 12 })
	var want []string
	for n := 1; n <= 12; n++ {
		want = append(want, msgID(n))
	}
	if got := h.ids(); !slices.Equal(got, want) {
		t.Errorf("handled %v, want each once in order", got)
	}
	if got := srv.messageIDs(FolderSubmissions); len(got) != 12 {
		t.Errorf("filed %d, want 12", len(got))
	}
}
