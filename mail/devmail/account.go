package devmail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// pollInterval is how often Wait asks the server for a mailbox's size.
// Polling keeps Wait independent of IDLE, which is what the code under
// test exercises.
const pollInterval = 20 * time.Millisecond

// Account is one user of an IMAP server that accepts LOGIN without TLS
// (devmail's server, or a test Dovecot on loopback). Each call opens its own
// connection, so an Account is safe for concurrent use and never interferes
// with the mailbox state of the client under test.
type Account struct {
	Addr     string // host:port of the IMAP server
	Username string
	Password string
}

// Stored is one message as a mailbox holds it.
type Stored struct {
	UID   imap.UID
	Flags []imap.Flag // system flags and keywords, as the server reports them
	Raw   []byte
}

// Append stores raw in mailbox, creating the mailbox if it does not exist.
// Bare LF line endings are turned into CRLF, as IMAP requires.
func (a Account) Append(ctx context.Context, mailbox string, raw []byte) error {
	c, done, err := a.login(ctx)
	if err != nil {
		return err
	}
	defer done()

	raw = CRLF(raw)
	err = appendOnce(c, mailbox, raw)
	var imapErr *imap.Error
	if errors.As(err, &imapErr) && imapErr.Code == imap.ResponseCodeTryCreate {
		if err := c.Create(mailbox, nil).Wait(); err != nil {
			return fmt.Errorf("create %s as %s: %w", mailbox, a.Username, err)
		}
		err = appendOnce(c, mailbox, raw)
	}
	if err != nil {
		return fmt.Errorf("append to %s as %s: %w", mailbox, a.Username, err)
	}
	return nil
}

func appendOnce(c *imapclient.Client, mailbox string, raw []byte) error {
	cmd := c.Append(mailbox, int64(len(raw)), nil)
	if _, err := cmd.Write(raw); err != nil {
		cmd.Close()
		return err
	}
	if err := cmd.Close(); err != nil {
		return err
	}
	_, err := cmd.Wait()
	return err
}

// Fetch returns every message in mailbox in UID order, without setting
// \Seen.
func (a Account) Fetch(ctx context.Context, mailbox string) ([]Stored, error) {
	c, done, err := a.login(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	return a.fetch(c, mailbox)
}

// Messages returns the raw bytes of every message in mailbox, in UID order.
func (a Account) Messages(ctx context.Context, mailbox string) ([][]byte, error) {
	msgs, err := a.Fetch(ctx, mailbox)
	if err != nil {
		return nil, err
	}
	return raws(msgs), nil
}

// Wait returns the messages in mailbox as soon as it holds at least n. A
// mailbox that does not exist yet counts as empty. It gives up only when
// ctx ends, so callers pass a context with a deadline.
func (a Account) Wait(ctx context.Context, mailbox string, n int) ([][]byte, error) {
	c, done, err := a.login(ctx)
	if err != nil {
		return nil, err
	}
	defer done()

	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		data, err := c.Status(mailbox, &imap.StatusOptions{NumMessages: true}).Wait()
		var imapErr *imap.Error
		switch {
		case errors.As(err, &imapErr) && imapErr.Type == imap.StatusResponseTypeNo:
			// Not created yet: keep waiting.
		case err != nil:
			return nil, a.ctxErr(ctx, fmt.Errorf("status %s as %s: %w", mailbox, a.Username, err))
		case data.NumMessages != nil && int(*data.NumMessages) >= n:
			msgs, err := a.fetch(c, mailbox)
			if err != nil {
				return nil, a.ctxErr(ctx, err)
			}
			return raws(msgs), nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for %d messages in %s of %s: %w", n, mailbox, a.Username, ctx.Err())
		case <-tick.C:
		}
	}
}

func (a Account) fetch(c *imapclient.Client, mailbox string) ([]Stored, error) {
	sel, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return nil, fmt.Errorf("examine %s as %s: %w", mailbox, a.Username, err)
	}
	defer func() { c.Unselect().Wait() }()
	if sel.NumMessages == 0 {
		return nil, nil
	}
	section := &imap.FetchItemBodySection{Peek: true}
	var all imap.SeqSet
	all.AddRange(1, 0) // 1:*
	bufs, err := c.Fetch(all, &imap.FetchOptions{
		UID:         true,
		Flags:       true,
		BodySection: []*imap.FetchItemBodySection{section},
	}).Collect()
	if err != nil {
		return nil, fmt.Errorf("fetch %s as %s: %w", mailbox, a.Username, err)
	}
	msgs := make([]Stored, 0, len(bufs))
	for _, b := range bufs {
		msgs = append(msgs, Stored{UID: b.UID, Flags: b.Flags, Raw: b.FindBodySection(section)})
	}
	sort.Slice(msgs, func(i, j int) bool { return msgs[i].UID < msgs[j].UID })
	return msgs, nil
}

// login dials and authenticates. done logs out and closes; the connection
// is also closed when ctx ends, since imapclient has no notion of context.
func (a Account) login(ctx context.Context) (c *imapclient.Client, done func(), err error) {
	c, err = imapclient.DialInsecure(a.Addr, &imapclient.Options{
		Dialer: &net.Dialer{Timeout: 10 * time.Second},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("dial imap %s: %w", a.Addr, err)
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	if err := c.Login(a.Username, a.Password).Wait(); err != nil {
		stop()
		c.Close()
		return nil, nil, a.ctxErr(ctx, fmt.Errorf("login %s at %s: %w", a.Username, a.Addr, err))
	}
	return c, func() {
		stop()
		c.Logout().Wait()
		c.Close()
	}, nil
}

// ctxErr reports the context's end rather than the closed connection it
// caused.
func (a Account) ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	return err
}

func raws(msgs []Stored) [][]byte {
	out := make([][]byte, len(msgs))
	for i, m := range msgs {
		out[i] = m.Raw
	}
	return out
}

// CRLF turns bare LF line endings into CRLF and leaves everything else as
// it is, so that messages written in Go source or testdata files are valid
// on the wire.
func CRLF(b []byte) []byte {
	if !bytes.Contains(b, []byte("\n")) {
		return b
	}
	out := make([]byte, 0, len(b)+bytes.Count(b, []byte("\n")))
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}
