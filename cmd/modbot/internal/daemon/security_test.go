package daemon

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Secrets never reach the log: not the IMAP password when the login is
// refused, not a digest's reply token, at debug level.
func TestSecretsNeverLogged(t *testing.T) {
	ms, imapAddr, smtpAddr := startDevmail(t)
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	// A wrong password: a clear error, retried, the password nowhere.
	cfg := testConfig(t, t.TempDir(), imapAddr, smtpAddr)
	cfg.IMAP.Password = "Wr0ng-S3cret-Passw0rd"
	ctx, cancel := context.WithCancel(context.Background())
	d, err := New(ctx, cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && !strings.Contains(strings.ToLower(logs.String()), "login") {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-done
	if !strings.Contains(strings.ToLower(logs.String()), "login") {
		t.Errorf("a refused login is not explained in the log:\n%s", logs.String())
	}

	// The right password, a digest with its token, at debug level.
	cfg = testConfig(t, t.TempDir(), imapAddr, smtpAddr)
	ctx, cancel = context.WithCancel(context.Background())
	d, err = New(ctx, cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	go func() { done <- d.Run(ctx) }()
	if err := ms.Append(inbox, "INBOX", submission(1, "Hello.")); err != nil {
		t.Fatal(err)
	}
	digest := waitFor(t, ms, alice, "moderate")
	cancel()
	<-done
	token := strings.TrimSuffix(strings.TrimPrefix(digest.ReplyTo[0].Addr, "moderator+d-"), "@forum.example")
	for _, secret := range []string{"Wr0ng-S3cret-Passw0rd", password, token} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log contains the secret %q", secret)
		}
	}
}
