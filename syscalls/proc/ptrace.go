package proc

import (
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// Ptrace implements ptrace(2) as Linux does under Yama's ptrace_scope 3:
// no task may become a tracer or a tracee, so PTRACE_TRACEME and attaching
// fail with EPERM and every other request finds no tracee (ESRCH). Programs
// then report "not permitted" as they do on such hosts, instead of meeting
// an unknown system call.
func Ptrace(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	req, pid := a[0], int32(a[1])
	if req == unix.PTRACE_TRACEME {
		return 0, unix.EPERM
	}
	target := t.Kernel().TaskByTID(pid)
	if pid <= 0 || target == nil {
		return 0, unix.ESRCH
	}
	switch req {
	case unix.PTRACE_ATTACH, unix.PTRACE_SEIZE:
		return 0, unix.EPERM
	}
	return 0, unix.ESRCH
}
