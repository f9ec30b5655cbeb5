package doctor

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/textproto"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
)

// pollEvery is how often the inbox is searched for the test message.
const pollEvery = 250 * time.Millisecond

// delivery waits for the test message in the inbox, then deletes it: that
// one message, by UID. A running modbot may have filed it in
// Modbot/Ignored first (it carries Auto-Submitted), so that folder is
// searched too.
func (r *run) delivery(imapOK, sent bool) {
	const check = "delivery"
	if !sent || !imapOK {
		r.skip(check, "no test message was sent")
		return
	}
	if r.opts.Waiting != nil {
		r.opts.Waiting(r.testAddress(), r.opts.DeliveryWait)
	}
	start := time.Now()
	ic, err := r.dialIMAP()
	if err == nil {
		var res Result
		var ok bool
		if res, ok = r.imapLogin(ic); !ok {
			ic.close()
			err = res.Err
		}
	}
	if err != nil {
		r.add(Result{Check: check, Status: Fail, Err: err, Detail: "the second IMAP connection, to look for the test message, failed",
			Fix: fmt.Sprintf("run doctor again; the test message for %s may be in the inbox: delete it by hand", r.testAddress())})
		return
	}
	defer ic.close()

	boxes := []string{r.cfg.IMAP.Mailbox, r.mailboxName("Modbot/Ignored")}
	deadline := start.Add(r.opts.DeliveryWait)
	for {
		for _, mbox := range boxes {
			uids, err := r.findTest(ic, mbox)
			if err != nil {
				r.add(Result{Check: check, Status: Fail, Err: err, Detail: "searching " + mbox + " for the test message failed",
					Fix: fmt.Sprintf("run doctor again; the test message for %s may be in the inbox: delete it by hand", r.testAddress())})
				return
			}
			if len(uids) > 0 {
				r.add(r.deleteTest(ic, mbox, uids, time.Since(start)))
				return
			}
		}
		if !time.Now().Before(deadline) {
			break
		}
		select {
		case <-r.ctx.Done():
			r.add(Result{Check: check, Status: Fail, Err: r.ctx.Err(), Detail: "stopped while waiting for the test message"})
			return
		case <-time.After(pollEvery):
		}
	}

	res := Result{Check: check, Status: Fail,
		Detail: fmt.Sprintf("the server took the test message for %s, but it did not reach %s within %s", r.testAddress(), r.cfg.IMAP.Mailbox, r.opts.DeliveryWait)}
	if box := r.detailMailbox(ic); box != "" {
		res.Detail = fmt.Sprintf("the test message for %s went to a folder of its own, %q, not to %s", r.testAddress(), box, r.cfg.IMAP.Mailbox)
		res.Fix = "the server files plus addresses in folders (Dovecot: lmtp_save_to_detail_mailbox = yes, or a Sieve rule); modbot reads only imap.mailbox: deliver them to the inbox. Delete that folder."
	} else {
		res.Fix = "the server may drop plus addresses, send them elsewhere (a filter, a catch-all, a spam folder), or be slow: " +
			"look for the message in the server's log and the account's other folders, or run doctor again with a longer -wait"
	}
	r.add(res)
}

// findTest returns the UIDs in mbox of the messages whose token header is
// exactly ours; a search matches substrings, so each is checked.
func (r *run) findTest(ic *imapConn, mbox string) ([]imap.UID, error) {
	var found []imap.UID
	err := ic.do(func() error {
		if _, err := ic.c.Select(mbox, nil).Wait(); err != nil {
			if isNo(err) {
				return nil // Modbot/Ignored need not exist
			}
			return err
		}
		data, err := ic.c.UIDSearch(&imap.SearchCriteria{
			Header: []imap.SearchCriteriaHeaderField{{Key: tokenHeader, Value: r.opts.Token}},
		}, nil).Wait()
		if err != nil {
			return err
		}
		uids := data.AllUIDs()
		if len(uids) == 0 {
			return nil
		}
		section := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{tokenHeader}, Peek: true}
		msgs, err := ic.c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		if err != nil {
			return err
		}
		for _, m := range msgs {
			h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(m.FindBodySection(section)))).ReadMIMEHeader()
			if (err == nil || len(h) > 0) && strings.TrimSpace(h.Get(tokenHeader)) == r.opts.Token {
				found = append(found, m.UID)
			}
		}
		return nil
	})
	return found, err
}

// deleteTest removes the test message from mbox: \Deleted on exactly
// its UIDs, then UID EXPUNGE of exactly those where the server has
// UIDPLUS. Without it, a plain EXPUNGE would also remove whatever else is
// flagged \Deleted there, so the message is left flagged.
func (r *run) deleteTest(ic *imapConn, mbox string, uids []imap.UID, took time.Duration) Result {
	res := Result{Check: "delivery", Status: OK}
	res.Detail = fmt.Sprintf("arrived in %s after %s", r.cfg.IMAP.Mailbox, roundTook(took))
	if mbox != r.cfg.IMAP.Mailbox {
		res.Detail += fmt.Sprintf(" (a running modbot filed it in %s)", mbox)
	}
	set := imap.UIDSetNum(uids...)
	err := ic.do(func() error {
		return ic.c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close()
	})
	if err == nil && r.uidPlus {
		err = ic.do(func() error { return ic.c.UIDExpunge(set).Close() })
		if err == nil {
			res.Detail += fmt.Sprintf("; deleted it again (UID %s)", set)
			return res
		}
	}
	if err != nil {
		res.Status, res.Err = Warn, err
		res.Detail += fmt.Sprintf("; deleting it (UID %s in %s) failed", set, mbox)
		res.Fix = "delete the message \"modbot doctor: delivery test " + r.opts.Token + "\" by hand"
		return res
	}
	res.Detail += fmt.Sprintf("; flagged it \\Deleted (UID %s in %s): without UIDPLUS it goes at the next expunge", set, mbox)
	return res
}

// detailMailbox finds a folder named after the test address's detail,
// where some servers deliver plus addresses.
func (r *run) detailMailbox(ic *imapConn) string {
	var name string
	ic.do(func() error {
		list := ic.c.List("", "*doctor-"+r.opts.Token+"*", nil)
		for d := list.Next(); d != nil; d = list.Next() {
			name = d.Mailbox
		}
		return list.Close()
	})
	return name
}

func roundTook(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}

func isNo(err error) bool {
	var imapErr *imap.Error
	return errors.As(err, &imapErr)
}
