//go:build !linux

package postfixtest

import "syscall"

func procAttr() *syscall.SysProcAttr { return nil }
