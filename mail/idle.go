package mail

import (
	"context"
	"errors"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

var errConnClosed = errors.New("imap connection closed")

// wait returns when there may be new mail: the server said so, the poll
// interval passed, or ctx ended (then with nil, the connection idle and
// ready for LOGOUT).
func (s *imapSession) wait(ctx context.Context) error {
	if len(s.newMail) > 0 {
		return nil // EXISTS arrived during the last sync
	}
	if s.useIdle {
		return s.idleWait(ctx)
	}
	return s.pollWait(ctx)
}

// idleWait runs IDLE until the server reports EXISTS, the poll interval
// passes or ctx ends. Stopping and restarting IDLE every poll interval is
// also the watchdog: DONE must be answered within the command timeout, or
// the connection is taken for dead.
func (s *imapSession) idleWait(ctx context.Context) error {
	var cmd *imapclient.IdleCommand
	if err := s.await("idle", func() (err error) {
		cmd, err = s.c.Idle()
		return err
	}); err != nil {
		return err
	}

	t := time.NewTimer(s.w.cfg.PollInterval)
	defer t.Stop()
	select {
	case <-s.newMail:
		// The next sync looks whether or not the token is still there.
	case <-t.C:
	case <-ctx.Done():
	case <-s.c.Closed():
		cmd.Close()
		return errConnClosed
	}
	return s.await("stop idle", func() error {
		if err := cmd.Close(); err != nil {
			return err
		}
		return cmd.Wait()
	})
}

// pollWait waits for the poll interval, then asks with NOOP: some servers
// announce new messages only in answer to a command.
func (s *imapSession) pollWait(ctx context.Context) error {
	t := time.NewTimer(s.w.cfg.PollInterval)
	defer t.Stop()
	select {
	case <-s.newMail:
		return nil
	case <-t.C:
	case <-ctx.Done():
		return nil
	case <-s.c.Closed():
		return errConnClosed
	}
	return s.await("noop", func() error { return s.c.Noop().Wait() })
}

// pause waits d before a retry on the same connection. It returns nil when
// ctx ends.
func (s *imapSession) pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return nil
	case <-s.c.Closed():
		return errConnClosed
	}
}
