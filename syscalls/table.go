// Package syscalls assembles the sentry's system call table from the
// per-area handler packages (fs, mem, proc, signal, time, poll, ...).
package syscalls

import (
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/syscalls/fs"
	"github.com/runsc-lite/runsc-lite/syscalls/ipc"
	"github.com/runsc-lite/runsc-lite/syscalls/mem"
	"github.com/runsc-lite/runsc-lite/syscalls/poll"
	"github.com/runsc-lite/runsc-lite/syscalls/proc"
	"github.com/runsc-lite/runsc-lite/syscalls/signal"
	"github.com/runsc-lite/runsc-lite/syscalls/socket"
	stime "github.com/runsc-lite/runsc-lite/syscalls/time"
)

// tableSize covers every x86-64 syscall number Linux defines.
const tableSize = 512

// Table returns the syscall table indexed by number. Numbers without a
// handler keep their name (for logging) and return ENOSYS.
func Table() []kernel.Syscall {
	t := make([]kernel.Syscall, tableSize)
	for nr, name := range names {
		if nr < tableSize {
			t[nr].Name = name
		}
	}
	for _, area := range []map[uintptr]kernel.Syscall{
		fs.Syscalls(), mem.Syscalls(), proc.Syscalls(), signal.Syscalls(), stime.Syscalls(), poll.Syscalls(), socket.Syscalls(), ipc.Syscalls(),
	} {
		for nr, s := range area {
			if nr < tableSize {
				t[nr] = s
			}
		}
	}
	return t
}
