package postfixtest

import "syscall"

// procAttr makes the kernel stop Postfix's master if the test binary dies
// without running its cleanups; the master's children exit when it does.
// No Setpgid: the master makes its own session, which a process group
// leader cannot.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
