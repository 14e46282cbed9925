package poll

import (
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

func TimerfdCreate(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error)  { return 0, unix.ENOSYS }
func TimerfdSettime(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) { return 0, unix.ENOSYS }
func TimerfdGettime(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) { return 0, unix.ENOSYS }
func Signalfd(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error)       { return 0, unix.ENOSYS }
func Signalfd4(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error)      { return 0, unix.ENOSYS }
