package dovecottest

import "syscall"

// procAttr puts Dovecot's master and every process it forks into a new
// process group, so Stop can signal them all at once, and makes the kernel
// stop the master if the test binary dies without running its cleanups.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// signalGroup sends sig to every process in the group led by pid.
func signalGroup(pid int, sig syscall.Signal) error {
	return syscall.Kill(-pid, sig)
}
