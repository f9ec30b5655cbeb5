package mail

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"golang.org/x/sync/semaphore"
)

// State stores how far the watcher has got in each mailbox. The store
// implements it; a crash between handling and SetMailboxState only makes
// the watcher offer the same messages again, which Handler tolerates.
type State interface {
	// MailboxState returns the stored UIDVALIDITY and the highest UID
	// handled, or zeros for a mailbox never seen.
	MailboxState(ctx context.Context, mailbox string) (uidValidity, lastUID uint32, err error)
	SetMailboxState(ctx context.Context, mailbox string, uidValidity, lastUID uint32) error
}

// WatcherStats is a snapshot of what a Watcher has done.
type WatcherStats struct {
	Reconnects    uint64    // connections lost or refused, and retried
	Fetched       uint64    // messages handed to the Handler and handled
	LastSync      time.Time // end of the last complete pass over the mailbox
	Connected     bool
	IdleSupported bool // of the current or last connection
	MoveSupported bool
}

// Watcher follows one IMAP mailbox over one connection at a time: it hands
// every new message to a Handler, in UID order, files it where the Handler
// says once the Handler has recorded it (after EndBatch, for a Batcher),
// and stores how far it got in its State. After each pass it makes the
// flag changes IMAPConfig.Flags holds, then waits with IDLE or by polling.
type Watcher struct {
	cfg   IMAPConfig
	state State
	h     Handler
	log   *slog.Logger

	// Timings that tests shorten.
	retryMin, retryMax time.Duration // reconnect and handler-retry schedule
	cmdTimeout         time.Duration // longest silence from a server we wait on
	shutdownGrace      time.Duration // time a command gets to finish after ctx ends
	readAheadBytes     int64         // bytes of messages read ahead of the Handler

	mu    sync.Mutex
	stats WatcherStats

	noKeywordsLogged atomic.Bool
	noUIDPlusLogged  atomic.Bool
}

// NewWatcher returns a Watcher for cfg's mailbox. Nothing happens until Run.
func NewWatcher(cfg IMAPConfig, state State, h Handler) *Watcher {
	cfg.setDefaults()
	return &Watcher{
		cfg:            cfg,
		state:          state,
		h:              h,
		log:            cfg.Logger,
		retryMin:       defaultRetryMin,
		retryMax:       defaultRetryMax,
		cmdTimeout:     2 * time.Minute,
		shutdownGrace:  5 * time.Second,
		readAheadBytes: readAheadBytes,
	}
}

// Stats returns a snapshot of the watcher's counters.
func (w *Watcher) Stats() WatcherStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

func (w *Watcher) updateStats(f func(*WatcherStats)) {
	w.mu.Lock()
	f(&w.stats)
	w.mu.Unlock()
}

// Run watches the mailbox until ctx ends, then returns nil. It reconnects
// after any network or protocol error, with a capped exponential back-off.
// It returns an error only for a configuration no retry can fix.
func (w *Watcher) Run(ctx context.Context) error {
	if err := w.cfg.validate(); err != nil {
		return err
	}
	bo := newBackoff(w.retryMin, w.retryMax)
	for {
		err := w.session(ctx, bo)
		w.updateStats(func(st *WatcherStats) { st.Connected = false })
		if ctx.Err() != nil {
			return nil
		}
		delay := bo.next()
		w.updateStats(func(st *WatcherStats) { st.Reconnects++ })
		if errors.Is(err, errLogin) {
			w.log.Error("imap login refused; check the username and password",
				"addr", w.cfg.Addr, "username", w.cfg.Username, "err", err,
				"attempt", bo.attempts(), "delay", delay)
		} else {
			w.log.Warn("imap connection failed; reconnecting",
				"addr", w.cfg.Addr, "err", err, "attempt", bo.attempts(), "delay", delay)
		}
		if !sleepCtx(ctx, delay) {
			return nil
		}
	}
}

// session runs one connection from dial to its end.
func (w *Watcher) session(ctx context.Context, bo *backoff) error {
	s, err := w.dialIMAP(ctx)
	if err != nil {
		return err
	}
	w.updateStats(func(st *WatcherStats) {
		st.Connected = true
		st.IdleSupported = s.idle
		st.MoveSupported = s.move
	})
	s.log.Info("imap connected", "addr", w.cfg.Addr, "idle", s.useIdle, "move", s.move,
		"uidplus", s.uidPlus, "keywords", s.keywords, "uidvalidity", s.uidValidity)

	// When ctx ends the loop notices at its next wait; a command in flight
	// gets a grace period, then the connection is cut under it.
	stop := context.AfterFunc(ctx, func() {
		time.AfterFunc(w.shutdownGrace, func() { s.conn.Close() })
	})
	err = s.loop(ctx, bo)
	stop()
	s.close(err == nil)
	return err
}

// retryError is a failure of the Handler or the State: the connection is
// fine, so the watcher backs off and tries the same messages again on it.
type retryError struct{ err error }

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

// loop syncs, waits for news and syncs again. It returns nil when ctx ended
// at a point where the connection can be logged out politely.
func (s *imapSession) loop(ctx context.Context, bo *backoff) error {
	w := s.w
	retry := newBackoff(w.retryMin, w.retryMax)
	for {
		if ctx.Err() != nil {
			return nil
		}
		err := s.sync(ctx)
		if ctx.Err() != nil {
			if err == nil {
				return nil
			}
			return ctx.Err() // stopped mid-sync: the connection may be cut
		}
		var rerr *retryError
		if errors.As(err, &rerr) {
			delay := retry.next()
			s.log.Error("handling mail failed; will retry", "err", err,
				"attempt", retry.attempts(), "delay", delay)
			if err := s.pause(ctx, delay); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		retry.reset()
		bo.reset()
		w.updateStats(func(st *WatcherStats) { st.LastSync = time.Now() })
		if err := s.applyFlags(ctx); err != nil {
			return err
		}
		if err := s.wait(ctx); err != nil {
			return err
		}
	}
}

// sync hands every message above the stored last UID to the Handler and
// files it, one batch at a time.
func (s *imapSession) sync(ctx context.Context) error {
	// Drain first: an EXISTS that arrives from now on means look again.
	select {
	case <-s.newMail:
	default:
	}

	cfg := &s.w.cfg
	validity, last, err := s.w.state.MailboxState(ctx, cfg.Mailbox)
	if err != nil {
		return &retryError{fmt.Errorf("read state of %s: %w", cfg.Mailbox, err)}
	}
	if validity != s.uidValidity {
		if validity != 0 {
			s.log.Warn("mailbox UIDVALIDITY changed; offering every message again",
				"old_uidvalidity", validity, "uidvalidity", s.uidValidity)
		}
		last = 0
		if err := s.w.state.SetMailboxState(ctx, cfg.Mailbox, s.uidValidity, 0); err != nil {
			return &retryError{fmt.Errorf("store state of %s: %w", cfg.Mailbox, err)}
		}
	}

	uids, err := s.searchNew(last)
	if err != nil {
		return err
	}
	s.passDone, s.passTotal = 0, len(uids)
	if cfg.Progress != nil && len(uids) > 0 {
		cfg.Progress(0, len(uids))
	}
	for len(uids) > 0 {
		n := min(len(uids), cfg.BatchSize)
		last, err = s.batch(ctx, uids[:n], last)
		if err != nil {
			return err
		}
		uids = uids[n:]
	}
	if cfg.Progress != nil {
		cfg.Progress(s.passTotal, s.passTotal)
	}
	return nil
}

// searchNew returns the UIDs above last, ascending.
func (s *imapSession) searchNew(last uint32) ([]imap.UID, error) {
	criteria := &imap.SearchCriteria{
		UID: []imap.UIDSet{{imap.UIDRange{Start: imap.UID(last + 1), Stop: 0}}},
	}
	var data *imap.SearchData
	err := s.await("uid search", func() (err error) {
		data, err = s.c.UIDSearch(criteria, nil).Wait()
		return err
	})
	if err != nil {
		return nil, err
	}
	// "last+1:*" includes the highest UID even when it is not above last.
	uids := slices.DeleteFunc(data.AllUIDs(), func(uid imap.UID) bool { return uint32(uid) <= last })
	slices.Sort(uids)
	return slices.Compact(uids), nil
}

type msgMeta struct {
	uid  imap.UID
	size int64
	date time.Time
}

// filed is a handled message and where it goes.
type filed struct {
	uid    imap.UID
	filing Filing
}

// batch handles and files the messages among uids, then stores progress.
// It returns the new last UID.
func (s *imapSession) batch(ctx context.Context, uids []imap.UID, last uint32) (uint32, error) {
	metas, err := s.fetchMeta(uids, last)
	if err != nil {
		return last, err
	}

	batcher, _ := s.w.h.(Batcher)
	if batcher != nil {
		if err := batcher.BeginBatch(ctx); err != nil {
			return last, &retryError{fmt.Errorf("begin batch: %w", err)}
		}
	}
	var done []filed
	var herr error
	limit := s.w.cfg.MaxMessageSize
	for len(metas) > 0 && herr == nil {
		// A run of messages that are all small or all oversize is one
		// FETCH, so the Handler still sees UIDs in order.
		over := metas[0].size > limit
		n := 1
		for n < len(metas) && (metas[n].size > limit) == over {
			n++
		}
		herr = s.fetchRun(ctx, metas[:n], over, &done)
		metas = metas[n:]
	}
	if batcher != nil {
		// Even when shutting down or cut off: what was handled is kept,
		// and filed on the next pass.
		if err := batcher.EndBatch(context.WithoutCancel(ctx)); err != nil {
			s.log.Error("outcomes of a batch not committed; offering it again", "messages", len(done), "err", err)
			if herr == nil || errors.As(herr, new(*retryError)) {
				herr = &retryError{fmt.Errorf("end batch: %w", err)}
			}
			done = nil
		}
	}
	if ctx.Err() != nil {
		return last, ctx.Err()
	}
	var rerr *retryError
	if herr != nil && !errors.As(herr, &rerr) {
		return last, herr // the connection failed: nothing can be filed on it
	}
	if len(done) == 0 {
		return last, herr
	}

	if err := s.file(done); err != nil {
		return last, err
	}
	high := uint32(done[len(done)-1].uid)
	if err := s.w.state.SetMailboxState(ctx, s.w.cfg.Mailbox, s.uidValidity, high); err != nil {
		return last, &retryError{fmt.Errorf("store state of %s: %w", s.w.cfg.Mailbox, err)}
	}
	return high, herr
}

// fetchMeta learns the size and date of the messages among uids above last.
func (s *imapSession) fetchMeta(uids []imap.UID, last uint32) ([]msgMeta, error) {
	set := imap.UIDSetNum(uids...)
	opts := &imap.FetchOptions{UID: true, RFC822Size: true, InternalDate: true}
	var metas []msgMeta
	err := s.await("fetch sizes", func() error {
		cmd := s.c.Fetch(set, opts)
		for {
			msg := cmd.Next()
			if msg == nil {
				break
			}
			var m msgMeta
			for {
				item := msg.Next()
				if item == nil {
					break
				}
				switch item := item.(type) {
				case imapclient.FetchItemDataUID:
					m.uid = item.UID
				case imapclient.FetchItemDataRFC822Size:
					m.size = item.Size
				case imapclient.FetchItemDataInternalDate:
					m.date = item.Time
				}
			}
			if uint32(m.uid) > last && set.Contains(m.uid) {
				metas = append(metas, m)
			}
		}
		return cmd.Close()
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(metas, func(a, b msgMeta) int { return cmp.Compare(a.uid, b.uid) })
	metas = slices.CompactFunc(metas, func(a, b msgMeta) bool { return a.uid == b.uid })
	return metas, nil
}

// fetchRun downloads the messages in metas (whole, or only the header
// when oversize) and hands each to the Handler in UID order, appending the
// handled ones to done. A reader goroutine stays a few messages ahead:
// it takes them off the connection and, when the Handler is a Preparer,
// prepares them, so that work runs beside the Handler's; each message's
// turn then finishes what was prepared for it. After a Handler
// error it stops handling and drains the rest of the FETCH so the
// connection stays usable for filing.
func (s *imapSession) fetchRun(ctx context.Context, metas []msgMeta, oversize bool, done *[]filed) error {
	byUID := make(map[imap.UID]msgMeta, len(metas))
	var set imap.UIDSet
	for _, m := range metas {
		byUID[m.uid] = m
		set.AddNum(m.uid)
	}
	section := &imap.FetchItemBodySection{Peek: true}
	if oversize {
		section.Specifier = imap.PartSpecifierHeader
	}
	opts := &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}

	wd := s.newWatchdog()
	rd := &fetchReader{s: s, cmd: s.c.Fetch(set, opts), wd: wd, byUID: byUID, oversize: oversize,
		budget: semaphore.NewWeighted(s.w.readAheadBytes), out: make(chan readAhead, readAheadMessages)}
	go rd.run(ctx)

	var herr error
	missing, abandoned := false, false
	stop := func() { rd.stopped.Store(true) }
	for it := range rd.out {
		rd.budget.Release(it.weight)
		if herr != nil || missing || abandoned {
			continue // draining
		}
		if !it.ok {
			// The server answered for this UID without its body (a flag
			// update can look like that): stop here and look again soon,
			// rather than skip a message.
			missing = true
			stop()
			s.signalNewMail()
			continue
		}
		if ctx.Err() != nil {
			// Shutting down. Messages handled in this batch are not
			// filed; they are offered again on the next start and filed
			// then. The connection is cut so the drain takes no time.
			abandoned = true
			stop()
			s.conn.Close()
			continue
		}
		filing, err := s.w.callHandler(ctx, it.msg, it.prepared)
		if ctx.Err() != nil {
			abandoned = true
			stop()
			s.conn.Close()
			continue
		}
		if err != nil {
			herr = &retryError{fmt.Errorf("handle uid %d: %w", it.msg.UID, err)}
			stop()
			continue
		}
		s.w.updateStats(func(st *WatcherStats) { st.Fetched++ })
		*done = append(*done, filed{uid: imap.UID(it.msg.UID), filing: filing})
		if s.passDone++; s.w.cfg.Progress != nil && s.passDone < s.passTotal {
			s.w.cfg.Progress(s.passDone, s.passTotal)
		}
	}
	fired := wd.stop()
	if abandoned {
		return ctx.Err()
	}
	if fired {
		return fmt.Errorf("fetch bodies: no answer within %v: connection closed", s.w.cmdTimeout)
	}
	if rd.err != nil {
		return fmt.Errorf("fetch bodies: %w", rd.err)
	}
	if missing && herr == nil {
		return errIncomplete
	}
	return herr
}

// How far the reader may run ahead of the Handler: enough to keep both
// busy, little enough that memory stays bounded whatever the messages'
// sizes. A message larger than the byte budget waits until nothing else
// is queued.
const (
	readAheadMessages = 8
	readAheadBytes    = 16 << 20 // Watcher.readAheadBytes, which tests shrink
)

// readAhead is one message taken off the connection.
type readAhead struct {
	msg      *Fetched
	prepared Prepared // what the Preparer made of msg; nil: Handler.Handle does it all
	ok       bool     // false: the server sent no body
	weight   int64    // its share of the read-ahead byte budget
}

// fetchReader takes one FETCH's messages off the connection for
// fetchRun, on its own goroutine: the only one that touches cmd.
type fetchReader struct {
	s        *imapSession
	cmd      *imapclient.FetchCommand
	wd       *watchdog
	byUID    map[imap.UID]msgMeta
	oversize bool
	budget   *semaphore.Weighted // bytes queued in out
	out      chan readAhead
	stopped  atomic.Bool // the consumer wants no more: only drain
	err      error       // how the FETCH ended; read once out is closed
}

func (r *fetchReader) run(ctx context.Context) {
	defer close(r.out)
	r.err = r.read(ctx)
}

// read reads the FETCH to its end, sending the wanted messages to out,
// prepared when the Handler can be, until stopped; after that it only
// drains. The watchdog counts only time spent waiting on the server, not
// time spent preparing or waiting for the Handler to take a message.
func (r *fetchReader) read(ctx context.Context) error {
	s := r.s
	prep, _ := s.w.h.(Preparer)
	for {
		msg := r.cmd.Next()
		if msg == nil {
			// The server has said all it will; what remains is the
			// Handler's time, not the server's.
			r.wd.pause()
			return r.cmd.Close()
		}
		r.wd.kick()
		if r.stopped.Load() {
			continue // Next discards what is left unread
		}
		uid, raw, ok, err := readFetchedMessage(msg)
		if err != nil {
			// Past a failed read, imapclient's own reader goes on with
			// the connection while a further read of this message (which
			// Next and Close would do, to discard it) touches the same
			// buffer: a data race. So the command is left as it is and
			// the connection cut; the session ends and starts afresh.
			s.conn.Close()
			return err
		}
		m, want := r.byUID[uid]
		if !want {
			continue
		}
		f := &Fetched{
			Mailbox:      s.w.cfg.Mailbox,
			UIDValidity:  s.uidValidity,
			UID:          uint32(uid),
			Size:         m.size,
			InternalDate: m.date,
			Raw:          raw,
			Oversize:     r.oversize,
		}
		r.wd.pause()
		weight := min(int64(len(raw))+1, s.w.readAheadBytes)
		if r.budget.Acquire(ctx, weight) != nil {
			weight = 0 // shutting down: the consumer only drains now
		}
		it := readAhead{msg: f, ok: ok, weight: weight}
		if ok && prep != nil {
			it.prepared = s.w.callPrepare(ctx, prep, f)
		}
		r.out <- it
		r.wd.kick()
	}
}

// errIncomplete stops a batch early without blaming anyone; the next sync
// picks up where it stopped.
var errIncomplete = &retryError{errors.New("server answered a fetch without the message body")}

// readFetchedMessage reads one message's UID and body literal. ok is false
// when no body came with it; err is set when the connection broke inside
// the literal.
func readFetchedMessage(msg *imapclient.FetchMessageData) (uid imap.UID, raw []byte, ok bool, err error) {
	for {
		item := msg.Next()
		if item == nil {
			return uid, raw, ok, nil
		}
		switch item := item.(type) {
		case imapclient.FetchItemDataUID:
			uid = item.UID
		case imapclient.FetchItemDataBodySection:
			if item.Literal == nil {
				continue
			}
			// The literal's size is known: one allocation, but capped so a
			// lying server cannot make us reserve gigabytes up front.
			var buf bytes.Buffer
			buf.Grow(int(min(item.Literal.Size(), 64<<20)))
			// A connection that ends mid-literal reads as the literal's
			// end (a plain EOF): only the full size is the message.
			n, err := buf.ReadFrom(item.Literal)
			if err == nil && n != item.Literal.Size() {
				err = io.ErrUnexpectedEOF
			}
			if err != nil {
				return uid, nil, false, fmt.Errorf("uid %d: body cut off after %d of %d bytes: %w", uid, n, item.Literal.Size(), err)
			}
			raw, ok = buf.Bytes(), true
		}
	}
}

// callPrepare runs the Preparer; a panic there only means the Handler
// does the work itself (and meets the panic where it is handled).
func (w *Watcher) callPrepare(ctx context.Context, p Preparer, msg *Fetched) (v Prepared) {
	defer func() {
		if r := recover(); r != nil {
			v = nil
		}
	}()
	return p.Prepare(ctx, msg)
}

// callHandler has msg handled: by what was prepared for it when there is
// that, else by the Handler. It turns a panic into an error for that
// message so one bad message cannot take the watcher down.
func (w *Watcher) callHandler(ctx context.Context, msg *Fetched, p Prepared) (f Filing, err error) {
	defer func() {
		if v := recover(); v != nil {
			w.log.Error("handler panicked", "uid", msg.UID, "mailbox", msg.Mailbox,
				"panic", v, "stack", string(debug.Stack()))
			err = fmt.Errorf("handler panic: %v", v)
		}
	}()
	if p != nil {
		return p.Handle(ctx)
	}
	return w.h.Handle(ctx, msg)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
