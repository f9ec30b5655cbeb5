package mail

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

const (
	imapTestUser = "moderator@forum.example"
	imapTestPass = "s3cret-imap-pass"
)

// imapTestCaps is what a modern server offers; IDLE comes with IMAP4rev1.
var imapTestCaps = imap.CapSet{
	imap.CapIMAP4rev1: {},
	imap.CapMove:      {},
	imap.CapUIDPlus:   {},
	imap.CapNamespace: {},
}

// imapTestServer is go-imap's in-memory server on 127.0.0.1, with hooks
// to make it misbehave the way real servers do.
type imapTestServer struct {
	t    testing.TB
	user *imapmemserver.User
	caps imap.CapSet
	addr string
	tls  *tls.Config // STARTTLS, when set
	// implicitTLS serves TLS from the first byte.
	implicitTLS bool

	mu           sync.Mutex
	srv          *imapserver.Server
	ln           net.Listener
	refuseCreate map[string]bool // mailbox names CREATE fails for
	noKeywords   bool            // PERMANENTFLAGS without \*
	helper       *imapclient.Client
}

type imapTestOptions struct {
	caps        imap.CapSet
	tls         *tls.Config
	implicitTLS bool
}

func newIMAPTestServer(t testing.TB, opts imapTestOptions) *imapTestServer {
	t.Helper()
	if opts.caps == nil {
		opts.caps = imapTestCaps
	}
	s := &imapTestServer{
		t:            t,
		user:         imapmemserver.NewUser(imapTestUser, imapTestPass),
		caps:         opts.caps,
		tls:          opts.tls,
		implicitTLS:  opts.implicitTLS,
		refuseCreate: make(map[string]bool),
	}
	if err := s.user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	s.serve(ln)
	t.Cleanup(func() {
		s.mu.Lock()
		if s.helper != nil {
			s.helper.Close()
		}
		s.mu.Unlock()
		s.stop()
	})
	return s
}

func (s *imapTestServer) serve(ln net.Listener) {
	if s.implicitTLS {
		ln = tls.NewListener(ln, s.tls)
	}
	opts := &imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &imapTestSession{srv: s}, nil, nil
		},
		Caps:         s.caps,
		InsecureAuth: true,
		Logger:       log.New(io.Discard, "", 0),
	}
	if !s.implicitTLS {
		opts.TLSConfig = s.tls
	}
	srv := imapserver.New(opts)
	s.mu.Lock()
	s.srv, s.ln = srv, ln
	s.mu.Unlock()
	go srv.Serve(ln)
}

// stop closes the listener and every connection; the mailboxes remain.
func (s *imapTestServer) stop() {
	s.mu.Lock()
	srv, ln := s.srv, s.ln
	s.srv, s.ln = nil, nil
	if s.helper != nil {
		s.helper.Close()
		s.helper = nil
	}
	s.mu.Unlock()
	// Close the listener too: Server.Close misses one that Serve has not
	// registered yet.
	if ln != nil {
		ln.Close()
	}
	if srv != nil {
		srv.Close()
	}
}

// restart serves the same mailboxes on the same address again.
func (s *imapTestServer) restart() {
	s.t.Helper()
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.t.Fatalf("listen again on %s: %v", s.addr, err)
	}
	s.serve(ln)
}

// imapTestSession is imapmemserver's session with the test hooks.
type imapTestSession struct {
	*imapmemserver.UserSession // nil until login
	srv                        *imapTestServer
}

func (sess *imapTestSession) Login(username, password string) error {
	if err := sess.srv.user.Login(username, password); err != nil {
		return err
	}
	sess.UserSession = imapmemserver.NewUserSession(sess.srv.user)
	return nil
}

func (sess *imapTestSession) Create(name string, options *imap.CreateOptions) error {
	sess.srv.mu.Lock()
	refuse := sess.srv.refuseCreate[name]
	sess.srv.mu.Unlock()
	if refuse {
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeNoPerm, Text: "Not allowed here"}
	}
	return sess.UserSession.Create(name, options)
}

// Idle works around imapmemserver, whose IDLE only reports updates queued
// after it started: one that arrives between the previous command and
// IDLE would wait for the next one. Real servers report it at once, so
// this IDLE looks at the queue every few milliseconds instead.
func (sess *imapTestSession) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	t := time.NewTicker(time.Millisecond)
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

func (sess *imapTestSession) Select(name string, options *imap.SelectOptions) (*imap.SelectData, error) {
	data, err := sess.UserSession.Select(name, options)
	sess.srv.mu.Lock()
	noKeywords := sess.srv.noKeywords
	sess.srv.mu.Unlock()
	if err == nil && noKeywords {
		data.PermanentFlags = slices.DeleteFunc(data.PermanentFlags, func(f imap.Flag) bool { return f == imap.FlagWildcard })
	}
	return data, err
}

// client returns a logged-in connection for the test's own use.
func (s *imapTestServer) client() *imapclient.Client {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.helper != nil {
		select {
		case <-s.helper.Closed():
			s.helper = nil
		default:
			return s.helper
		}
	}
	opts := &imapclient.Options{}
	var c *imapclient.Client
	var err error
	switch {
	case s.implicitTLS:
		opts.TLSConfig = s.clientTLS()
		c, err = imapclient.DialTLS(s.addr, opts)
	case s.tls != nil:
		opts.TLSConfig = s.clientTLS()
		c, err = imapclient.DialStartTLS(s.addr, opts)
	default:
		c, err = imapclient.DialInsecure(s.addr, opts)
	}
	if err != nil {
		s.t.Fatalf("dial test server: %v", err)
	}
	if err := c.Login(imapTestUser, imapTestPass).Wait(); err != nil {
		s.t.Fatalf("login to test server: %v", err)
	}
	s.helper = c
	return c
}

func (s *imapTestServer) clientTLS() *tls.Config {
	return &tls.Config{InsecureSkipVerify: true} // the test's own helper only
}

// appendMsg stores raw in mailbox, creating it if needed.
func (s *imapTestServer) appendMsg(mailbox string, raw []byte, flags ...imap.Flag) imap.UID {
	s.t.Helper()
	c := s.client()
	cmd := c.Append(mailbox, int64(len(raw)), &imap.AppendOptions{Flags: flags})
	if _, err := cmd.Write(raw); err != nil {
		s.t.Fatalf("append: %v", err)
	}
	if err := cmd.Close(); err != nil {
		s.t.Fatalf("append: %v", err)
	}
	data, err := cmd.Wait()
	if err != nil {
		s.t.Fatalf("append to %s: %v", mailbox, err)
	}
	return data.UID
}

// storedMsg is a message as the server holds it.
type storedMsg struct {
	UID       imap.UID
	Flags     []imap.Flag
	MessageID string
}

func (m storedMsg) hasFlag(f imap.Flag) bool { return hasFlag(m.Flags, f) }

// messages lists mailbox, or returns ok=false if it does not exist.
func (s *imapTestServer) messages(mailbox string) (msgs []storedMsg, ok bool) {
	s.t.Helper()
	c := s.client()
	data, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if respCode(err) == imap.ResponseCodeNonExistent {
		return nil, false
	}
	if err != nil {
		s.t.Fatalf("select %s: %v", mailbox, err)
	}
	defer func() { c.Unselect().Wait() }()
	if data.NumMessages == 0 {
		return nil, true
	}
	hdr := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}
	fetched, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{
		UID: true, Flags: true, BodySection: []*imap.FetchItemBodySection{hdr},
	}).Collect()
	if err != nil {
		s.t.Fatalf("fetch %s: %v", mailbox, err)
	}
	for _, b := range fetched {
		m := storedMsg{UID: b.UID, Flags: b.Flags}
		if h, err := mail.ReadMessage(bytes.NewReader(b.FindBodySection(hdr))); err == nil {
			m.MessageID = h.Header.Get("Message-ID")
		}
		msgs = append(msgs, m)
	}
	slices.SortFunc(msgs, func(a, b storedMsg) int { return int(a.UID) - int(b.UID) })
	return msgs, true
}

// messageIDs lists the Message-IDs in mailbox, in UID order.
func (s *imapTestServer) messageIDs(mailbox string) []string {
	s.t.Helper()
	msgs, _ := s.messages(mailbox)
	var ids []string
	for _, m := range msgs {
		ids = append(ids, m.MessageID)
	}
	return ids
}

// testMessage is a small message numbered n.
func testMessage(n int) []byte {
	return testMessageSized(n, 0)
}

// testMessageSized is message n with a body of at least bodySize bytes.
func testMessageSized(n, bodySize int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Message-ID: <%d@test.example>\r\n", n)
	b.WriteString("From: Commenter <commenter@example.org>\r\n")
	b.WriteString("To: moderator@forum.example\r\n")
	fmt.Fprintf(&b, "Subject: message %d\r\n", n)
	b.WriteString("Date: Mon, 24 Nov 2025 10:00:00 +0000\r\n")
	b.WriteString("\r\n")
	fmt.Fprintf(&b, "Body of message %d.\r\n", n)
	for b.Len() < bodySize {
		b.WriteString("The quick brown fox jumps over the lazy dog, again and again.\r\n")
	}
	return b.Bytes()
}

func msgID(n int) string { return fmt.Sprintf("<%d@test.example>", n) }

// imapTestState is an in-memory State.
type imapTestState struct {
	mu sync.Mutex
	m  map[string][2]uint32
}

func newIMAPTestState() *imapTestState { return &imapTestState{m: make(map[string][2]uint32)} }

func (st *imapTestState) MailboxState(ctx context.Context, mailbox string) (uint32, uint32, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	v := st.m[mailbox]
	return v[0], v[1], nil
}

func (st *imapTestState) SetMailboxState(ctx context.Context, mailbox string, validity, last uint32) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.m[mailbox] = [2]uint32{validity, last}
	return nil
}

func (st *imapTestState) get(mailbox string) (validity, last uint32) {
	v, l, _ := st.MailboxState(context.Background(), mailbox)
	return v, l
}

// testLog is a slog destination that goes to the test log while the test
// runs and is silent after, and that keeps every line for assertions.
type testLog struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
	buf  bytes.Buffer
}

func newTestLog(t testing.TB) *testLog {
	l := &testLog{t: t}
	t.Cleanup(func() {
		l.mu.Lock()
		l.done = true
		l.mu.Unlock()
	})
	return l
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if !l.done && testing.Verbose() {
		l.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

func (l *testLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *testLog) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// waitFor polls cond until it holds; the deadline only turns a hang into a
// failure, it asserts nothing about speed.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// testCert returns a server TLS config with a fresh self-signed
// certificate for 127.0.0.1, and a client config that trusts only it.
func testCert(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "modbot test"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool}
}

func TestWatcherSecurityModes(t *testing.T) {
	serverTLS, clientTLS := testCert(t)
	tests := []struct {
		name     string
		security Security
		opts     imapTestOptions
	}{
		{"none", SecurityNone, imapTestOptions{}},
		{"starttls", SecurityStartTLS, imapTestOptions{tls: serverTLS}},
		{"tls", SecurityTLS, imapTestOptions{tls: serverTLS, implicitTLS: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newIMAPTestServer(t, tt.opts)
			srv.appendMsg("INBOX", testMessage(1))
			h := newRecordingHandler(fileAll(FolderSubmissions, "$Submission"))
			cfg := testIMAPConfig(t, srv)
			cfg.Security = tt.security
			cfg.TLSConfig = clientTLS
			startWatcher(t, cfg, newIMAPTestState(), h)
			waitFor(t, "the message to be handled", func() bool { return h.count() == 1 })
			waitFor(t, "the message to be filed", func() bool {
				return len(srv.messageIDs(FolderSubmissions)) == 1
			})
		})
	}
}

func TestWatcherRejectsUntrustedCertificate(t *testing.T) {
	serverTLS, _ := testCert(t)
	srv := newIMAPTestServer(t, imapTestOptions{tls: serverTLS, implicitTLS: true})
	h := newRecordingHandler(fileAll(FolderSubmissions, ""))
	logs := newTestLog(t)
	cfg := testIMAPConfig(t, srv)
	cfg.Security = SecurityTLS
	cfg.TLSConfig = nil // system roots: the test certificate is not among them
	cfg.Logger = logs.logger()
	w, _ := startWatcher(t, cfg, newIMAPTestState(), h)
	waitFor(t, "a failed attempt", func() bool { return w.Stats().Reconnects >= 1 })
	if !strings.Contains(logs.String(), "certificate") {
		t.Errorf("log does not mention the certificate:\n%s", logs)
	}
	if w.Stats().Connected {
		t.Error("connected despite an untrusted certificate")
	}
}

func TestIMAPConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     IMAPConfig
		wantErr string
	}{
		{"loopback plain", IMAPConfig{Addr: "127.0.0.1:143", Password: "x", Security: SecurityNone}, ""},
		{"localhost plain", IMAPConfig{Addr: "localhost:143", Password: "x", Security: SecurityNone}, ""},
		{"ipv6 loopback", IMAPConfig{Addr: "[::1]:143", Password: "x", Security: SecurityNone}, ""},
		{"remote tls", IMAPConfig{Addr: "imap.example.org:993", Password: "x", Security: SecurityTLS}, ""},
		{"remote plain", IMAPConfig{Addr: "imap.example.org:143", Password: "x", Security: SecurityNone}, "clear text"},
		{"unknown security", IMAPConfig{Addr: "127.0.0.1:143", Security: "ssl"}, "want none, starttls or tls"},
		{"no port", IMAPConfig{Addr: "127.0.0.1", Security: SecurityNone}, "missing port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("validate = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestWatcherRunReturnsConfigError(t *testing.T) {
	w := NewWatcher(IMAPConfig{Addr: "imap.example.org:143", Password: "x"}, newIMAPTestState(), newRecordingHandler(fileAll("", "")))
	if err := w.Run(context.Background()); err == nil {
		t.Fatal("Run with a clear-text password to a remote host returned nil")
	}
}
