package postfixtest

import "syscall"

// procAttr makes the kernel stop Postfix's master if the test binary dies
// without running its cleanups; the master's children exit when it does.
// No Setpgid: the master makes its own session, which a process group
// leader cannot.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// signalGroup sends sig to every process in the group led by pid.
func signalGroup(pid int, sig syscall.Signal) error {
	return syscall.Kill(-pid, sig)
}
