package dovecottest

import "syscall"

// procAttr puts Dovecot's master and every process it forks into a new
// process group, so Stop can signal them all at once, and makes the kernel
// stop the master if the test binary dies without running its cleanups.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
