package devmail

import (
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
