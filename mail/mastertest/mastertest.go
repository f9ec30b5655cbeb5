// Package mastertest holds what the test harnesses that run a real mail
// server's master process (Dovecot, Postfix) share: finding the binary,
// waiting for the master to be ready, reading its log, and checking ports.
// Only tests use it.
package mastertest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ErrAddrInUse says the port the harness picked was taken before the
// server could listen on it: pick another and start again.
var ErrAddrInUse = errors.New("address already in use")

// ErrMasterExited says the master process ended while the harness
// waited for it to be ready.
var ErrMasterExited = errors.New("master exited")

// ErrSilentExit says the master exited before it held its listeners and
// before its logging was up, so it could not say why. With Postfix that
// is what a port taken between picking and binding looks like when the
// log daemon has not started yet: the harnesses pick again and retry, as
// for ErrAddrInUse, a bounded number of times.
var ErrSilentExit = errors.New("the master exited without saying why")

// Retryable reports whether a start failed in a way another start (on
// another port) may not.
func Retryable(err error) bool {
	return errors.Is(err, ErrAddrInUse) || errors.Is(err, ErrSilentExit)
}

// Find returns the binary called name, from lookPath or else from the
// first executable of sbin (daemons live in sbin, often not on PATH). When
// there is none it skips the test with how to install it, or fails it when
// required (the env variable requireEnv is named in the message).
func Find(t testing.TB, name string, lookPath func(string) (string, error), sbin []string, install, requireEnv string, required bool) string {
	t.Helper()
	if bin, err := lookPath(name); err == nil {
		return bin
	}
	for _, p := range sbin {
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	msg := name + " not installed: " + install
	if required {
		t.Fatalf("%s (%s=1)", msg, requireEnv)
	} else {
		t.Skip(msg)
	}
	return ""
}

// WaitPidFile waits until path holds pid: the master writes it once it
// holds its listeners, so a greeting before then may be someone else's.
func WaitPidFile(ctx context.Context, exited <-chan struct{}, path string, pid int) error {
	for {
		if b, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(b)) == strconv.Itoa(pid) {
			return nil
		}
		select {
		case <-exited:
			return ErrMasterExited
		case <-ctx.Done():
			return fmt.Errorf("no %s: %w", path, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// WaitGreeting dials addr until the server there greets with prefix.
func WaitGreeting(ctx context.Context, exited <-chan struct{}, addr, prefix string) error {
	for {
		if greeted(addr, prefix) {
			return nil
		}
		select {
		case <-exited:
			return ErrMasterExited
		case <-ctx.Done():
			return fmt.Errorf("no greeting on %s: %w", addr, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func greeted(addr, prefix string) bool {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err == nil {
		// Polite to SMTP and LMTP; IMAP ignores what follows its greeting.
		fmt.Fprintf(conn, "QUIT\r\n")
	}
	return err == nil && strings.HasPrefix(line, prefix)
}

// PortFree reports whether nothing listens on 127.0.0.1:port.
func PortFree(port int) bool {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// FileSize is the file's size, 0 when it does not exist.
func FileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// ReadFrom returns the file's contents after offset: the log lines of the
// current start only.
func ReadFrom(path string, offset int64) string {
	b, err := os.ReadFile(path)
	if err != nil || int64(len(b)) < offset {
		return ""
	}
	return string(b[offset:])
}
