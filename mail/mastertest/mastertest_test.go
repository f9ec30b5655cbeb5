package mastertest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// recordingTB notes how Find ends a test instead of ending it.
type recordingTB struct {
	testing.TB
	skipped, failed string
}

func (r *recordingTB) Helper()                   {}
func (r *recordingTB) Skip(args ...any)          { r.skipped = fmt.Sprint(args...) }
func (r *recordingTB) Fatalf(f string, a ...any) { r.failed = fmt.Sprintf(f, a...) }

func TestFindMissing(t *testing.T) {
	notFound := func(string) (string, error) { return "", errors.New("not found") }
	for _, required := range []bool{false, true} {
		rec := &recordingTB{TB: t}
		Find(rec, "dovecot", notFound, []string{"/nonexistent/dovecot"}, "apt-get install dovecot-imapd", "MODBOT_REQUIRE_DOVECOT", required)
		if required && (rec.failed == "" || rec.skipped != "") || !required && (rec.skipped == "" || rec.failed != "") {
			t.Fatalf("required=%v: skipped %q, failed %q", required, rec.skipped, rec.failed)
		}
		if msg := rec.skipped + rec.failed; !strings.Contains(msg, "apt-get install dovecot-imapd") {
			t.Errorf("message %q does not say how to install it", msg)
		}
	}
	found := func(string) (string, error) { return "/opt/bin/dovecot", nil }
	rec := &recordingTB{TB: t}
	if got := Find(rec, "dovecot", found, nil, "", "", true); got != "/opt/bin/dovecot" || rec.skipped+rec.failed != "" {
		t.Errorf("Find on PATH = %q (skipped %q, failed %q)", got, rec.skipped, rec.failed)
	}
	sbin := filepath.Join(t.TempDir(), "postfix")
	os.WriteFile(sbin, []byte("#!/bin/sh\n"), 0o755)
	if got := Find(&recordingTB{TB: t}, "postfix", notFound, []string{"/nonexistent", sbin}, "", "", true); got != sbin {
		t.Errorf("Find in sbin = %q, want %q", got, sbin)
	}
}

func TestWaitGreeting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprintf(c, "220 ready\r\n")
			c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := WaitGreeting(ctx, nil, ln.Addr().String(), "220 "); err != nil {
		t.Errorf("greeting not seen: %v", err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	if err := WaitGreeting(ctx2, nil, ln.Addr().String(), "* OK"); err == nil {
		t.Errorf("a wrong greeting was taken")
	}
	exited := make(chan struct{})
	close(exited)
	if err := WaitPidFile(context.Background(), exited, "/nonexistent/pid", 1); err == nil || !strings.Contains(err.Error(), "exited") {
		t.Errorf("WaitPidFile after exit: %v", err)
	}
}

func TestReadFrom(t *testing.T) {
	p := filepath.Join(t.TempDir(), "log")
	os.WriteFile(p, []byte("old\nnew\n"), 0o600)
	if FileSize(p) != 8 || ReadFrom(p, 4) != "new\n" || ReadFrom(p, 99) != "" || FileSize(p+"x") != 0 {
		t.Errorf("FileSize/ReadFrom wrong")
	}
}

func TestRetryInUse(t *testing.T) {
	other := errors.New("bad config")
	for _, tc := range []struct {
		name  string
		errs  []error
		want  error
		tries int
	}{
		{"first time", []error{nil}, nil, 1},
		{"port taken twice", []error{ErrAddrInUse, ErrAddrInUse, nil}, nil, 3},
		{"another error is not retried", []error{other}, other, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tries := 0
			err := RetryInUse(func() error { err := tc.errs[tries]; tries++; return err })
			if !errors.Is(err, tc.want) && err != tc.want || tries != tc.tries {
				t.Errorf("err %v after %d tries, want %v after %d", err, tries, tc.want, tc.tries)
			}
		})
	}
}
