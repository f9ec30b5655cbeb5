//go:build linux

package mastertest

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestMasterKillsWhatItStarted(t *testing.T) {
	var m Master
	// A shell that forks a child, as a master forks its services.
	pid, exited, err := m.Start(filepath.Join(t.TempDir(), "out"), &syscall.SysProcAttr{Setpgid: true},
		"/bin/sh", "-c", "sleep 60 & wait")
	if err != nil {
		t.Fatal(err)
	}
	if !m.Running() {
		t.Fatal("not running after Start")
	}
	if got := m.Kill(); got != pid {
		t.Errorf("Kill = %d, want the pid %d", got, pid)
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatal("exited not closed after Kill")
	}
	if m.Running() || m.Kill() != 0 {
		t.Error("a killed master still counts as running")
	}
	// Its child went with it: the group empties once the killed child
	// has been reaped by whoever inherited it.
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(-pid, 0) == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process group %d still has members (%v)", pid, err)
	}
}
