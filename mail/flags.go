package mail

import (
	"context"
	"fmt"

	"github.com/emersion/go-imap/v2"
)

// FlagUpdate asks for the flags of a message already filed in Folder to
// change; the message is found by its Message-ID.
type FlagUpdate struct {
	ID          int64
	Folder      string
	MessageID   string
	Add, Remove []string // keywords ($Approved) or system flags (\Answered)
	// Append, when set, is a whole message to APPEND to Folder with the
	// Add flags, instead of changing a message found by MessageID.
	Append []byte
}

// FlagQueue holds flag changes waiting to be made; the store implements
// it, so a change asked for in a transaction survives a crash.
type FlagQueue interface {
	PendingFlags(ctx context.Context) ([]FlagUpdate, error)
	// FlagsDone records that the update was made, or why it could not
	// be ("" when it was).
	FlagsDone(ctx context.Context, id int64, problem string) error
}

// applyFlags makes the pending flag changes, one folder at a time, then
// selects the watched mailbox again. Only a connection failure is
// returned; a message that is gone or a refused change is recorded.
func (s *imapSession) applyFlags(ctx context.Context) error {
	q := s.w.cfg.Flags
	if q == nil {
		return nil
	}
	ups, err := q.PendingFlags(ctx)
	if err != nil {
		s.log.Error("pending flag changes", "err", err)
		return nil
	}
	if len(ups) == 0 {
		return nil
	}
	selected := ""
	for _, u := range ups {
		mbox := MailboxName(u.Folder, s.delim, s.prefix)
		if mbox != selected {
			if err := s.await("select "+mbox, func() error { _, err := s.c.Select(mbox, nil).Wait(); return err }); err != nil {
				if !isNo(err) {
					return err
				}
				s.done(ctx, u.ID, fmt.Sprintf("select %s: %v", mbox, err))
				continue
			}
			selected = mbox
		}
		var problem string
		var err error
		if u.Append != nil {
			problem, err = s.appendOne(mbox, u)
		} else {
			problem, err = s.flagOne(u)
		}
		if err != nil {
			return err
		}
		s.done(ctx, u.ID, problem)
	}
	return s.await("select "+s.w.cfg.Mailbox, func() error { _, err := s.c.Select(s.w.cfg.Mailbox, nil).Wait(); return err })
}

func (s *imapSession) done(ctx context.Context, id int64, problem string) {
	if problem != "" {
		s.log.Warn("flag change not made", "update", id, "problem", problem)
	}
	if err := s.w.cfg.Flags.FlagsDone(ctx, id, problem); err != nil {
		s.log.Error("record flag change", "update", id, "err", err)
	}
}

// flagOne changes the flags of the message u names in the selected
// folder. It returns a problem for the record, or a connection error.
func (s *imapSession) flagOne(u FlagUpdate) (string, error) {
	if u.MessageID == "" {
		return "no Message-ID to find the message by", nil
	}
	var uids []imap.UID
	err := s.await("search", func() error {
		data, err := s.c.UIDSearch(&imap.SearchCriteria{
			Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: "<" + u.MessageID + ">"}},
		}, nil).Wait()
		if err == nil {
			uids = data.AllUIDs()
		}
		return err
	})
	if err != nil {
		if isNo(err) {
			return "search: " + err.Error(), nil
		}
		return "", err
	}
	if len(uids) == 0 {
		return "message not found in " + u.Folder, nil
	}
	set := imap.UIDSetNum(uids...)
	for _, step := range []struct {
		op    imap.StoreFlagsOp
		flags []string
	}{{imap.StoreFlagsDel, u.Remove}, {imap.StoreFlagsAdd, u.Add}} {
		var flags []imap.Flag
		for _, f := range step.flags {
			system := len(f) > 0 && f[0] == '\\'
			if !system && (!s.keywords || !validKeyword(f)) {
				continue
			}
			flags = append(flags, imap.Flag(f))
		}
		if len(flags) == 0 {
			continue
		}
		err := s.await("store", func() error {
			return s.c.Store(set, &imap.StoreFlags{Op: step.op, Silent: true, Flags: flags}, nil).Close()
		})
		if err != nil {
			if isNo(err) {
				return "store: " + err.Error(), nil
			}
			return "", err
		}
	}
	return "", nil
}

// appendOne appends u.Append to mbox with u.Add's flags.
func (s *imapSession) appendOne(mbox string, u FlagUpdate) (string, error) {
	var flags []imap.Flag
	for _, f := range u.Add {
		if f != "" && (f[0] == '\\' || s.keywords && validKeyword(f)) {
			flags = append(flags, imap.Flag(f))
		}
	}
	err := s.await("append", func() error {
		cmd := s.c.Append(mbox, int64(len(u.Append)), &imap.AppendOptions{Flags: flags})
		if _, err := cmd.Write(u.Append); err != nil {
			cmd.Close()
			return err
		}
		if err := cmd.Close(); err != nil {
			return err
		}
		_, err := cmd.Wait()
		return err
	})
	if err != nil {
		if isNo(err) {
			return "append: " + err.Error(), nil
		}
		return "", err
	}
	return "", nil
}
