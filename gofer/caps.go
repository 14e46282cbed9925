//go:build linux

package gofer

import (
	"fmt"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// keptCaps are what the server needs to read and write files as any user
// (the sentry, not the host, checks the guest's permissions), to set the
// owner and set-ID bits the sentry asks for, and to link an O_PATH FD
// (linkat AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH).
var keptCaps = []uint{
	unix.CAP_CHOWN,
	unix.CAP_DAC_OVERRIDE,
	unix.CAP_DAC_READ_SEARCH,
	unix.CAP_FOWNER,
	unix.CAP_FSETID,
}

// KeptCapabilities is the capability mask a gofer has after Setup (its
// effective, permitted and bounding sets).
func KeptCapabilities() uint64 {
	var m uint64
	for _, c := range keptCaps {
		m |= 1 << c
	}
	return m
}

// dropCapabilities reduces the bounding, ambient, inheritable, permitted
// and effective sets of every thread to keptCaps. Capabilities are per
// thread, hence AllThreadsSyscall.
func dropCapabilities() error {
	keep := KeptCapabilities()
	for c := uintptr(0); c < 64; c++ {
		in, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, c, 0, 0, 0)
		if err == unix.EINVAL {
			break // past the last capability this kernel knows
		}
		if keep&(1<<c) != 0 || (err == nil && in == 0) {
			// Kept, or not in the set to begin with (the launcher
			// starts us with a small one): every thread is alike.
			continue
		}
		// Dropping from the bounding set needs CAP_SETPCAP, so this
		// comes before capset.
		if _, _, errno := syscall.AllThreadsSyscall(unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, c, 0); errno != 0 {
			return fmt.Errorf("drop capability %d from bounding set: %w", c, allThreadsErr(errno))
		}
	}
	// An empty inheritable set empties the ambient set too (capset keeps
	// ambient within permitted and inheritable).
	hdr := &unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := &[2]unix.CapUserData{
		{Effective: uint32(keep), Permitted: uint32(keep)},
		{Effective: uint32(keep >> 32), Permitted: uint32(keep >> 32)},
	}
	if _, _, errno := syscall.AllThreadsSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(hdr)), uintptr(unsafe.Pointer(data)), 0); errno != 0 {
		return fmt.Errorf("capset: %w", allThreadsErr(errno))
	}
	return nil
}

// allThreadsErr explains the error of syscall.AllThreadsSyscall that cgo
// causes.
func allThreadsErr(errno syscall.Errno) error {
	if errno == syscall.ENOTSUP {
		return fmt.Errorf("changing all threads is not possible (built with cgo?): %w", errno)
	}
	return errno
}
