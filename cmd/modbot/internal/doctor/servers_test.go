package doctor

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-smtp"

	"modbot/cmd/modbot/internal/daemon"
	"modbot/mail/dovecottest"
	"modbot/queue"
)

func byCheck(rs []Result) map[string]Result {
	m := map[string]Result{}
	for _, r := range rs {
		m[r.Check] = r
	}
	return m
}

// A server with nothing but IMAP4rev1 (and IDLE): no MOVE, no UIDPLUS. The test
// message is flagged \Deleted, never expunged: a plain EXPUNGE would take
// whatever else is flagged with it.
func TestDoctorWithoutUIDPlus(t *testing.T) {
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(inbox, password)
	if err := user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(user)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}},
		InsecureAuth: true,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	deliver := func(b []byte) error {
		_, err := user.Append("INBOX", bytes.NewReader(b), &imap.AppendOptions{})
		return err
	}
	deliver([]byte("From: a@people.example\r\nSubject: someone else's\r\n\r\nkeep me\r\n"))
	smtpAddr := smtpServer(t, smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{deliver: deliver}, nil }))

	cfg := setup{imapAddr: ln.Addr().String(), smtpAddr: smtpAddr}.config(t)
	// Someone flagged the first message \Deleted and has not expunged yet.
	c, err := imapclient.DialInsecure(cfg.IMAP.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Login(inbox, password).Wait()
	c.Select("INBOX", nil).Wait()
	c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close()

	rs := Run(context.Background(), cfg, Options{Token: token, DeliveryWait: 10 * time.Second, Timeout: 5 * time.Second})
	got := byCheck(rs)
	if f := got["IMAP features"]; f.Status != Warn || !strings.Contains(f.Detail, "no MOVE") ||
		!strings.Contains(f.Detail, "no UIDPLUS") || !strings.Contains(f.Fix, "expunge") {
		t.Errorf("features: %+v", f)
	}
	if d := got["delivery"]; d.Status != OK || !strings.Contains(d.Detail, `flagged it \Deleted (UID 2 in INBOX)`) {
		t.Errorf("delivery: %+v", d)
	}
	if n := Failed(rs); n != 0 {
		t.Errorf("%d checks failed: %+v", n, rs)
	}
	msgs, err := c.Fetch(imap.SeqSetNum(1, 2), &imap.FetchOptions{UID: true, Flags: true}).Collect()
	if err != nil || len(msgs) != 2 {
		t.Fatalf("both messages must still be there: %d, %v", len(msgs), err)
	}
	for _, m := range msgs {
		if !hasFlagDeleted(m.Flags) {
			t.Errorf("UID %d flags %v", m.UID, m.Flags)
		}
	}
}

func hasFlagDeleted(fs []imap.Flag) bool {
	for _, f := range fs {
		if f == imap.FlagDeleted {
			return true
		}
	}
	return false
}

// A real Dovecot: namespaces, MOVE, UIDPLUS, IDLE, delivery by LMTP.
func TestDoctorDovecot(t *testing.T) {
	dc := dovecottest.Start(t)
	cfg := setup{imapAddr: dc.IMAPAddr, smtpAddr: dc.SMTPAddr}.config(t)
	rs := Run(context.Background(), cfg, Options{Token: token, DeliveryWait: 20 * time.Second, Timeout: 10 * time.Second})
	for _, r := range rs {
		if r.Status == Fail || r.Status == Skip {
			t.Errorf("%s: %s %s (%v)", r.Check, r.Status, r.Detail, r.Err)
		}
	}
	if d := byCheck(rs)["delivery"]; !strings.Contains(d.Detail, "deleted it again") {
		t.Errorf("delivery: %+v", d)
	}
	if msgs, _ := dc.Messages(inbox, "INBOX"); len(msgs) != 0 {
		t.Errorf("the test message is still in the inbox")
	}
	for _, f := range Folders {
		if _, err := dc.Messages(inbox, f); err != nil {
			t.Errorf("folder %s: %v", f, err)
		}
	}
}

// Beside a running modbot the test message is ignored (Auto-Submitted),
// never queued or answered, and the doctor still finds and deletes it,
// in the inbox or in Modbot/Ignored.
func TestDoctorBesideRunningDaemon(t *testing.T) {
	ms := startDevmail(t)
	cfg := setup{imapAddr: ms.IMAPAddr, smtpAddr: ms.SMTPAddr}.config(t)
	cfg.Store.DSN = "modbot.db"
	ctx, cancel := context.WithCancel(context.Background())
	d, err := daemon.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("daemon: %v", err)
			}
		})
	}
	defer stop()
	for deadline := time.Now().Add(10 * time.Second); d.Watcher.Stats().LastSync.IsZero(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the daemon did not finish its first pass over the inbox")
		}
	}
	rs := Run(context.Background(), cfg, Options{Token: token, DeliveryWait: 10 * time.Second, Timeout: 5 * time.Second})
	if n := Failed(rs); n != 0 {
		t.Fatalf("%d failed: %+v", n, rs)
	}
	if r := byCheck(rs)["delivery"]; !strings.Contains(r.Detail, "deleted it again") {
		t.Errorf("delivery: %+v", r)
	}
	for _, box := range []string{"INBOX", "Modbot/Ignored", "Modbot/Submissions"} {
		msgs, _ := ms.Messages(inbox, box)
		for _, m := range msgs {
			if bytes.Contains(m, []byte(token)) {
				t.Errorf("the test message is left in %s", box)
			}
		}
	}
	stop()
	st, err := queue.OpenReadOnly(context.Background(), cfg.Path(cfg.Store.DSN))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := st.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Pending != 0 || s.Outbox.Waiting != 0 || s.Outbox.Sent != 0 {
		t.Errorf("the test message made work for modbot: %+v", s)
	}
	// The daemon records its passes over the inbox for `modbot status`.
	if len(s.Mailboxes) != 1 || s.Mailboxes[0].SyncedAt == nil {
		t.Errorf("no sync time recorded: %+v", s.Mailboxes)
	}
}

// selfSigned is a certificate for 127.0.0.1 that no authority signed.
func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "imap.test"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// IMAP over TLS: a certificate nobody vouches for is explained, and
// accepted only with insecure_skip_verify.
func TestDoctorIMAPTLS(t *testing.T) {
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(inbox, password)
	user.Create("INBOX", nil)
	mem.AddUser(user)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:   imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		Logger: log.New(io.Discard, "", 0), // the refused handshake is expected
	})
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	for _, tc := range []struct {
		insecure string
		want     Status
		says     string
	}{
		{"false", Fail, "signed by an authority this machine does not trust"},
		{"true", OK, ", TLS 1.3"},
	} {
		cfg := setup{imapAddr: ln.Addr().String(), smtpAddr: closedPort(t),
			imap: "security = \"tls\"\ninsecure_skip_verify = " + tc.insecure}.config(t)
		got := byCheck(Run(context.Background(), cfg, Options{Token: token, Timeout: 5 * time.Second}))
		if c := got["IMAP connection"]; c.Status != tc.want || !strings.Contains(c.Detail, tc.says) {
			t.Errorf("insecure_skip_verify = %s: %+v", tc.insecure, c)
		}
		if tc.want == OK && got["IMAP login"].Status != OK {
			t.Errorf("login over TLS: %+v", got["IMAP login"])
		}
	}
}
