package proc

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// futex_waitv limits and flags (FUTEX2_*).
const (
	futexWaitvMax  = 128
	futex2SizeU32  = 0x02
	futex2SizeMask = 0x03
	futex2Private  = 128
	futexWaitvSize = 24 // struct futex_waitv
)

// FutexWaitv implements futex_waitv(2).
func FutexWaitv(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	addr, n, flags, timeout, clock := a[0], a[1], a[2], a[3], int32(a[4])
	if flags != 0 || addr == 0 || n == 0 || n > futexWaitvMax {
		return 0, unix.EINVAL
	}
	var deadline kernel.Deadline
	if timeout != 0 {
		if clock != unix.CLOCK_MONOTONIC && clock != unix.CLOCK_REALTIME {
			return 0, unix.EINVAL
		}
		var err error
		if deadline, err = absDeadline(t, timeout, clock == unix.CLOCK_REALTIME); err != nil {
			return 0, err
		}
	}
	raw := make([]byte, n*futexWaitvSize)
	if _, err := t.CopyIn(addr, raw); err != nil {
		return 0, unix.EFAULT
	}
	entries := make([]kernel.FutexWaitvEntry, n)
	le := binary.LittleEndian
	for i := range entries {
		b := raw[i*futexWaitvSize:]
		val, uaddr, fl, reserved := le.Uint64(b), le.Uint64(b[8:]), le.Uint32(b[16:]), le.Uint32(b[20:])
		// Only 32-bit words exist; the value must fit in one.
		if fl&^(futex2SizeMask|futex2Private) != 0 || fl&futex2SizeMask != futex2SizeU32 || reserved != 0 || val > 0xffffffff {
			return 0, unix.EINVAL
		}
		entries[i] = kernel.FutexWaitvEntry{Addr: uaddr, Val: uint32(val), Private: fl&futex2Private != 0}
	}
	idx, err := t.Kernel().FutexWaitv(t, entries, deadline)
	return uint64(idx), err
}

// absDeadline reads an absolute timespec on the guest's CLOCK_REALTIME or
// CLOCK_MONOTONIC.
func absDeadline(t *kernel.Task, addr uint64, realtime bool) (kernel.Deadline, error) {
	sec, nsec, err := readTimespec(t, addr)
	if err != nil {
		return kernel.Deadline{}, err
	}
	clock := int32(unix.CLOCK_MONOTONIC)
	if realtime {
		clock = unix.CLOCK_REALTIME
	}
	return t.Kernel().Clock.At(clock, int64(kernel.SpecDuration(sec, nsec)))
}

// readTimespec reads a struct timespec: EFAULT, or EINVAL if negative or
// not normalized.
func readTimespec(t *kernel.Task, addr uint64) (sec, nsec int64, err error) {
	var b [16]byte
	if _, err := t.CopyIn(addr, b[:]); err != nil {
		return 0, 0, unix.EFAULT
	}
	sec, nsec = int64(binary.LittleEndian.Uint64(b[0:])), int64(binary.LittleEndian.Uint64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return 0, 0, unix.EINVAL
	}
	return sec, nsec, nil
}
