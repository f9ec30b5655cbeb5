package mastertest

import (
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Master is a mail server's master process run in the foreground as the
// test's child, so that the harness knows when it exits and can kill it
// and every process it forked at once, as a crash would.
type Master struct {
	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
}

// Start runs the master, its stdout and stderr appended to outPath: a
// file, not a pipe, because the master's children could hold a pipe open
// after it exits and exec's Wait would wait for them. attr should put it
// in a process group of its own (or have it make a session) so that Kill
// reaches its children. exited is closed when it exits.
func (m *Master) Start(outPath string, attr *syscall.SysProcAttr, name string, args ...string) (pid int, exited <-chan struct{}, err error) {
	out, err := os.OpenFile(outPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return 0, nil, fmt.Errorf("open output file: %w", err)
	}
	defer out.Close()
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = attr
	if err := cmd.Start(); err != nil {
		return 0, nil, fmt.Errorf("start %s: %w", name, err)
	}
	ch := make(chan struct{})
	go func() {
		cmd.Wait()
		close(ch)
	}()
	m.mu.Lock()
	m.cmd, m.exited = cmd, ch
	m.mu.Unlock()
	return cmd.Process.Pid, ch, nil
}

// Running reports whether a master started and not yet killed.
func (m *Master) Running() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cmd != nil
}

// Kill sends SIGKILL to the master's process group (to the master alone
// where there are none) and waits for the master to exit. It returns the
// pid it killed, or 0 when none was running.
func (m *Master) Kill() int {
	m.mu.Lock()
	cmd, exited := m.cmd, m.exited
	m.cmd = nil
	m.mu.Unlock()
	if cmd == nil {
		return 0
	}
	if err := signalGroup(cmd.Process.Pid, syscall.SIGKILL); err != nil {
		cmd.Process.Kill()
	}
	<-exited
	return cmd.Process.Pid
}

// WaitPortsFree waits up to timeout for the ports a killed master held:
// its sockets close at once, but other processes of the group may exit a
// moment after it.
func WaitPortsFree(timeout time.Duration, ports ...int) {
	deadline := time.Now().Add(timeout)
	for _, port := range ports {
		for !PortFree(port) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// RetryInUse runs start until it succeeds or fails for a reason other
// than ErrAddrInUse (a port a moment ago freed, briefly taken again), at
// most ten times.
func RetryInUse(start func() error) error {
	var err error
	for attempt := 1; attempt <= 10; attempt++ {
		if err = start(); err == nil || !Retryable(err) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
	return err
}

// MakeDir makes a directory for a server instance, named prefix plus a
// random suffix. It is not t.TempDir: that path grows with the test's
// name while Unix socket paths under it must stay under about 100 bytes,
// and its parents are private to the current user while the servers'
// unprivileged processes (Dovecot's, the postfix user's) must reach it.
func MakeDir(prefix string) (string, error) {
	parent := os.TempDir()
	if len(parent) > 40 {
		parent = "/tmp"
	}
	dir, err := os.MkdirTemp(parent, prefix)
	if err != nil {
		return "", fmt.Errorf("make dir: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", fmt.Errorf("make dir: %w", err)
	}
	return dir, nil
}
