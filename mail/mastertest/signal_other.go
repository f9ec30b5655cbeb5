//go:build !linux

package mastertest

import (
	"os"
	"syscall"
)

// signalGroup signals the master only: other systems get no process group
// from the harnesses' process attributes.
func signalGroup(pid int, sig syscall.Signal) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Signal(sig)
}
