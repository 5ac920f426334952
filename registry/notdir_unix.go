//go:build unix

package registry

import "syscall"

func notDirErr() error { return syscall.ENOTDIR }
