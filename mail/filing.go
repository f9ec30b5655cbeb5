package mail

import (
	"fmt"
	"strings"

	"github.com/emersion/go-imap/v2"
)

// file tags and moves handled messages, one group per distinct Filing.
// A server refusing a step (NO) is logged and the messages stay where they
// are, tagged if that worked; only a connection failure is returned, since
// then nothing more can be done on this connection.
//
// Nothing is ever deleted unless a copy was made first.
func (s *imapSession) file(done []filed) error {
	type group struct {
		f    Filing
		uids imap.UIDSet
	}
	var groups []*group
	index := make(map[Filing]*group)
	for _, d := range done {
		g := index[d.filing]
		if g == nil {
			g = &group{f: d.filing}
			index[d.filing] = g
			groups = append(groups, g)
		}
		g.uids.AddNum(d.uid)
	}

	for _, g := range groups {
		if err := s.fileGroup(g.f, g.uids); err != nil {
			if !isNo(err) {
				return err
			}
			s.log.Error("filing refused by the server; messages stay in the mailbox",
				"folder", g.f.Folder, "keyword", g.f.Keyword, "uids", g.uids.String(), "err", err)
		}
	}
	return nil
}

func (s *imapSession) fileGroup(f Filing, uids imap.UIDSet) error {
	if f.Keyword != "" && s.keywords {
		if err := s.setKeyword(f.Keyword, uids); err != nil {
			if !isNo(err) {
				return err
			}
			// Filed without the keyword is better than not filed.
			s.log.Warn("keyword refused by the server", "keyword", f.Keyword,
				"uids", uids.String(), "err", err)
		}
	}
	if f.Folder == "" {
		return nil
	}
	mbox := MailboxName(f.Folder, s.delim, s.prefix)
	if mbox == s.w.cfg.Mailbox {
		return nil
	}
	return s.moveTo(uids, mbox)
}

func (s *imapSession) setKeyword(kw string, uids imap.UIDSet) error {
	if !validKeyword(kw) {
		return &imap.Error{Type: imap.StatusResponseTypeNo, Text: fmt.Sprintf("invalid keyword %q", kw)}
	}
	return s.await("store "+kw, func() error {
		return s.c.Store(uids, &imap.StoreFlags{
			Op:     imap.StoreFlagsAdd,
			Silent: true,
			Flags:  []imap.Flag{imap.Flag(kw)},
		}, nil).Close()
	})
}

// moveTo moves uids to mbox, creating it on first use and once more when
// the server answers [TRYCREATE].
func (s *imapSession) moveTo(uids imap.UIDSet, mbox string) error {
	if !s.created[mbox] {
		if err := s.create(mbox); err != nil {
			if !isNo(err) {
				return err
			}
			// Some servers refuse CREATE of an existing mailbox without
			// saying [ALREADYEXISTS]: let the move find out.
			s.log.Debug("create mailbox refused", "folder", mbox, "err", err)
		}
	}
	err := s.moveOnce(uids, mbox)
	if respCode(err) == imap.ResponseCodeTryCreate {
		delete(s.created, mbox)
		if err := s.create(mbox); err != nil {
			return err
		}
		err = s.moveOnce(uids, mbox)
	}
	return err
}

func (s *imapSession) create(mbox string) error {
	err := s.await("create "+mbox, func() error { return s.c.Create(mbox, nil).Wait() })
	if err != nil && respCode(err) != imap.ResponseCodeAlreadyExists {
		return err
	}
	if err == nil {
		// Many mail clients show only subscribed folders; admins read
		// these ones. A refusal changes nothing for modbot.
		if err := s.await("subscribe "+mbox, func() error { return s.c.Subscribe(mbox).Wait() }); err != nil && !isNo(err) {
			return err
		}
	}
	s.created[mbox] = true
	return nil
}

// moveOnce moves with UID MOVE, or does the fallback itself:
// imapclient's own fallback expunges even when the COPY failed, and
// without UIDPLUS expunges every \Deleted message in the mailbox.
func (s *imapSession) moveOnce(uids imap.UIDSet, mbox string) error {
	if s.move {
		return s.await("move to "+mbox, func() error {
			_, err := s.c.Move(uids, mbox).Wait()
			return err
		})
	}

	if err := s.await("copy to "+mbox, func() error {
		_, err := s.c.Copy(uids, mbox).Wait()
		return err
	}); err != nil {
		return err
	}
	// Only now, with the copy safe, mark the originals.
	if err := s.await("flag copied as deleted", func() error {
		return s.c.Store(uids, &imap.StoreFlags{
			Op:     imap.StoreFlagsAdd,
			Silent: true,
			Flags:  []imap.Flag{imap.FlagDeleted},
		}, nil).Close()
	}); err != nil {
		return err
	}
	if !s.uidPlus {
		// A plain EXPUNGE would also remove whatever else someone flagged
		// \Deleted in this mailbox. Leave ours for a person to expunge.
		if s.w.noUIDPlusLogged.CompareAndSwap(false, true) {
			s.log.Warn("imap server lacks UIDPLUS: filed messages are copied and left flagged \\Deleted in the mailbox, not expunged")
		}
		return nil
	}
	return s.await("uid expunge", func() error { return s.c.UIDExpunge(uids).Close() })
}

// MailboxName turns a Folder ("Modbot/Replies") into the server's name for
// it, with its hierarchy delimiter and personal namespace prefix.
func MailboxName(folder string, delim rune, prefix string) string {
	name := folder
	if delim != 0 && delim != '/' {
		name = strings.ReplaceAll(folder, "/", string(delim))
	}
	if strings.EqualFold(name, "INBOX") || prefix == "" {
		return name
	}
	if len(name) >= len(prefix) && strings.EqualFold(name[:len(prefix)], prefix) {
		return name
	}
	return prefix + name
}

// validKeyword reports whether kw can be sent as an IMAP flag keyword: an
// atom (RFC 3501), not a system flag.
func validKeyword(kw string) bool {
	if kw == "" || kw[0] == '\\' {
		return false
	}
	for i := 0; i < len(kw); i++ {
		c := kw[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`(){%*"\]`, c) >= 0 {
			return false
		}
	}
	return true
}
