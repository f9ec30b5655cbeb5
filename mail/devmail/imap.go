package devmail

import (
	"time"

	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// imapSession is imapmemserver's session with our own user lookup, so that
// login names are case-insensitive and users added after Start can log in.
type imapSession struct {
	*imapmemserver.UserSession // nil until Login succeeds
	srv                        *Server
}

var _ imapserver.SessionIMAP4rev2 = (*imapSession)(nil)

func (s *Server) newIMAPSession(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
	return &imapSession{srv: s}, nil, nil
}

func (sess *imapSession) Login(username, password string) error {
	u := sess.srv.lookup(username)
	if u == nil {
		return imapserver.ErrAuthFailed
	}
	if err := u.mem.Login(u.address, password); err != nil {
		return err
	}
	sess.UserSession = imapmemserver.NewUserSession(u.mem)
	return nil
}

func (sess *imapSession) Close() error {
	if sess.UserSession == nil {
		return nil
	}
	return sess.UserSession.Close()
}

// Idle works around imapmemserver, whose IDLE reports only updates queued
// after it started: mail delivered between a client's last command and its
// IDLE would wait for the next change. Real servers report it at once, so
// this IDLE looks at the queue every few milliseconds instead.
func (sess *imapSession) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		if err := sess.UserSession.Poll(w, true); err != nil {
			return err
		}
		select {
		case <-stop:
			return nil
		case <-t.C:
		}
	}
}
