package proc

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// Clone implements clone(2) (x86-64 argument order: flags, stack,
// parent_tid, child_tid, tls).
func Clone(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	ca := kernel.CloneArgs{Flags: a[0], Stack: a[1], ParentTID: a[2], ChildTID: a[3], TLS: a[4]}
	if ca.Flags&linux.CLONE_PIDFD != 0 {
		// The pidfd goes where the parent TID would.
		if ca.Flags&linux.CLONE_PARENT_SETTID != 0 {
			return 0, unix.EINVAL
		}
		return cloneWithPidFD(t, ca, ca.ParentTID)
	}
	tid, err := t.Clone(ca)
	return uint64(tid), err
}

// clone3 argument sizes: the first version of struct clone_args, and the
// latest this kernel knows (with set_tid and cgroup).
const (
	cloneArgsSizeVer0 = 64
	cloneArgsSize     = 88
	// clone3Flags are the flags clone3 accepts besides the exit signal,
	// which has a field of its own.
	clone3Flags = ^uint64(0xff) & 0xffffffff
)

// Clone3 implements clone3(2) on top of clone: struct clone_args is read
// (fields past what this kernel knows must be zero) and mapped to clone's
// arguments. set_tid, pidfds and cgroups are not supported.
func Clone3(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	addr, size := a[0], a[1]
	if size < cloneArgsSizeVer0 {
		return 0, unix.EINVAL
	}
	if size > linux.PageSize {
		return 0, unix.E2BIG
	}
	buf := make([]byte, size)
	if _, err := t.CopyIn(addr, buf); err != nil {
		return 0, unix.EFAULT
	}
	for _, b := range buf[min(size, cloneArgsSize):] {
		if b != 0 {
			return 0, unix.E2BIG
		}
	}
	field := func(i int) uint64 {
		if uint64(i*8+8) > size {
			return 0
		}
		return binary.LittleEndian.Uint64(buf[i*8:])
	}
	flags, childTID, parentTID, exitSignal := field(0), field(2), field(3), field(4)
	stack, stackSize, tls, setTIDSize := field(5), field(6), field(7), field(9)
	switch {
	case flags&^clone3Flags != 0, flags&linux.CLONE_DETACHED != 0,
		exitSignal > 64,
		flags&(linux.CLONE_THREAD|linux.CLONE_PARENT) != 0 && exitSignal != 0,
		(stack == 0) != (stackSize == 0):
		return 0, unix.EINVAL
	case setTIDSize != 0:
		return 0, unix.EINVAL
	}
	ca := kernel.CloneArgs{Flags: flags | exitSignal, Stack: stack + stackSize,
		ParentTID: parentTID, ChildTID: childTID, TLS: tls}
	if flags&linux.CLONE_PIDFD != 0 {
		if flags&linux.CLONE_PARENT_SETTID != 0 && field(1) == parentTID {
			return 0, unix.EINVAL
		}
		return cloneWithPidFD(t, ca, field(1))
	}
	tid, err := t.Clone(ca)
	return uint64(tid), err
}

// Fork implements fork(2).
func Fork(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	tid, err := t.Clone(kernel.CloneArgs{Flags: uint64(unix.SIGCHLD)})
	return uint64(tid), err
}

// Vfork implements vfork(2).
func Vfork(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	tid, err := t.Clone(kernel.CloneArgs{Flags: linux.CLONE_VM | linux.CLONE_VFORK | uint64(unix.SIGCHLD)})
	return uint64(tid), err
}

// Exit implements exit(2).
func Exit(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	t.Exit(int(a[0]))
	return 0, nil
}

// ExitGroup implements exit_group(2).
func ExitGroup(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	t.ExitGroup(int(a[0]))
	return 0, nil
}

// Wait4 implements wait4(2).
func Wait4(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	pid, statusAddr, options, rusage := int32(a[0]), a[1], uint32(a[2]), a[3]
	if options&^(linux.WNOHANG|linux.WUNTRACED|linux.WCONTINUED|linux.WNOTHREAD|linux.WALL|linux.WCLONE) != 0 {
		return 0, unix.EINVAL
	}
	o := kernel.WaitOpts{Options: options | linux.WEXITED}
	switch {
	case pid == -1:
		o.IDType = linux.P_ALL
	case pid == 0:
		o.IDType, o.ID = linux.P_PGID, t.ThreadGroup().PGID()
	case pid < -1:
		o.IDType, o.ID = linux.P_PGID, -pid
	default:
		o.IDType, o.ID = linux.P_PID, pid
	}
	r, err := t.Wait(o)
	if err != nil || r == nil {
		return 0, err
	}
	if statusAddr != 0 {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(r.Status))
		if _, err := t.CopyOut(statusAddr, b[:]); err != nil {
			return 0, unix.EFAULT
		}
	}
	if rusage != 0 {
		if err := copyOutRusage(t, rusage, r.Utime, r.Stime, 0); err != nil {
			return 0, err
		}
	}
	return uint64(r.PID), nil
}

// Waitid implements waitid(2).
func Waitid(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	idtype, id, infop, options := int(a[0]), int32(a[1]), a[2], uint32(a[3])
	if options&^(linux.WNOHANG|linux.WEXITED|linux.WSTOPPED|linux.WCONTINUED|linux.WNOWAIT|linux.WNOTHREAD|linux.WALL|linux.WCLONE) != 0 ||
		options&(linux.WEXITED|linux.WSTOPPED|linux.WCONTINUED) == 0 {
		return 0, unix.EINVAL
	}
	o := kernel.WaitOpts{IDType: idtype, ID: id, Options: options}
	// eagain: a non-blocking pidfd without WNOHANG waits with WNOHANG and
	// reports EAGAIN (after filling infop) when nothing changed.
	eagain := false
	if options&linux.WSTOPPED != 0 {
		o.Options |= linux.WUNTRACED
	}
	switch idtype {
	case linux.P_ALL:
	case linux.P_PID:
		if id <= 0 {
			return 0, unix.EINVAL
		}
	case linux.P_PGID:
		if id == 0 {
			o.ID = t.ThreadGroup().PGID()
		}
		if o.ID < 0 {
			return 0, unix.EINVAL
		}
	case linux.P_PIDFD:
		if id < 0 {
			return 0, unix.EINVAL
		}
		tg, f, err := pidFDGroup(t, id)
		if err != nil {
			return 0, err
		}
		o.Target = tg
		if f.StatusFlags()&unix.O_NONBLOCK != 0 && o.Options&linux.WNOHANG == 0 {
			o.Options |= linux.WNOHANG
			eagain = true
		}
		f.DecRef(t.VFSContext())
	default:
		return 0, unix.EINVAL
	}
	r, err := t.Wait(o)
	if err != nil {
		return 0, err
	}
	if infop != 0 {
		si := &kernel.SigInfo{}
		if r != nil {
			si = &kernel.SigInfo{Signo: int32(unix.SIGCHLD), Code: r.Code, PID: r.PID, UID: int32(r.UID), Status: r.CStat}
		}
		b := si.Bytes()
		if r == nil {
			clear(b)
		}
		if _, err := t.CopyOut(infop, b); err != nil {
			return 0, unix.EFAULT
		}
	}
	if a[4] != 0 && r != nil {
		if err := copyOutRusage(t, a[4], r.Utime, r.Stime, 0); err != nil {
			return 0, err
		}
	}
	if eagain && r == nil {
		return 0, unix.EAGAIN
	}
	return 0, nil
}

// Futex implements futex(2).
func Futex(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	addr, op, val, timeout, addr2, val3 := a[0], int(a[1]), uint32(a[2]), a[3], a[4], uint32(a[5])
	private := op&linux.FUTEX_PRIVATE_FLAG != 0
	realtime := op&linux.FUTEX_CLOCK_REALTIME != 0
	cmd := op & linux.FUTEX_CMD_MASK
	if realtime && cmd != linux.FUTEX_WAIT_BITSET && cmd != linux.FUTEX_WAIT_REQUEUE_PI && cmd != linux.FUTEX_LOCK_PI2 {
		return 0, unix.ENOSYS
	}
	k := t.Kernel()
	readDeadline := func(abs, realtime bool) (kernel.Deadline, error) {
		switch {
		case timeout == 0:
			return kernel.Deadline{}, nil
		case abs:
			return absDeadline(t, timeout, realtime)
		}
		sec, nsec, err := readTimespec(t, timeout)
		if err != nil {
			return kernel.Deadline{}, err
		}
		return k.Clock.After(kernel.SpecDuration(sec, nsec)), nil
	}
	switch cmd {
	case linux.FUTEX_WAIT, linux.FUTEX_WAIT_BITSET:
		bitset := uint32(linux.FUTEX_BITSET_MATCH_ANY)
		if cmd == linux.FUTEX_WAIT_BITSET {
			bitset = val3
		}
		deadline, err := readDeadline(cmd == linux.FUTEX_WAIT_BITSET, realtime)
		if err != nil {
			return 0, err
		}
		return 0, k.FutexWait(t, addr, private, val, bitset, deadline)
	case linux.FUTEX_WAKE, linux.FUTEX_WAKE_BITSET:
		bitset := uint32(linux.FUTEX_BITSET_MATCH_ANY)
		if cmd == linux.FUTEX_WAKE_BITSET {
			bitset = val3
		}
		n, err := k.FutexWake(t, addr, private, int(val), bitset)
		return uint64(n), err
	case linux.FUTEX_REQUEUE, linux.FUTEX_CMP_REQUEUE:
		if int32(val) < 0 || int32(timeout) < 0 {
			return 0, unix.EINVAL
		}
		n, err := k.FutexRequeue(t, addr, addr2, private, int(val), int(uint32(timeout)), cmd == linux.FUTEX_CMP_REQUEUE, val3)
		return uint64(n), err
	case linux.FUTEX_WAKE_OP:
		n, err := k.FutexWakeOp(t, addr, addr2, private, int(val), int(uint32(timeout)), val3)
		return uint64(n), err
	case linux.FUTEX_LOCK_PI, linux.FUTEX_LOCK_PI2, linux.FUTEX_TRYLOCK_PI:
		try := cmd == linux.FUTEX_TRYLOCK_PI
		var deadline kernel.Deadline
		if !try {
			// LOCK_PI's absolute timeout is on CLOCK_REALTIME; LOCK_PI2's
			// on CLOCK_MONOTONIC unless FUTEX_CLOCK_REALTIME says so.
			var err error
			if deadline, err = readDeadline(true, realtime || cmd == linux.FUTEX_LOCK_PI); err != nil {
				return 0, err
			}
		}
		return 0, k.FutexLockPI(t, addr, private, try, deadline)
	case linux.FUTEX_UNLOCK_PI:
		return 0, k.FutexUnlockPI(t, addr, private)
	}
	return 0, unix.ENOSYS
}

// SetTidAddress implements set_tid_address(2).
func SetTidAddress(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	t.SetClearChildTID(a[0])
	return uint64(t.TID()), nil
}

// SetRobustList implements set_robust_list(2).
func SetRobustList(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	if a[1] != 24 {
		return 0, unix.EINVAL
	}
	t.SetRobustList(a[0])
	return 0, nil
}

// GetRobustList implements get_robust_list(2).
func GetRobustList(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	target := t
	if a[0] != 0 {
		target = t.Kernel().TaskByTID(int32(a[0]))
		if target == nil {
			return 0, unix.ESRCH
		}
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], target.RobustList())
	if _, err := t.CopyOut(a[1], b[:]); err != nil {
		return 0, unix.EFAULT
	}
	binary.LittleEndian.PutUint64(b[:], 24)
	if _, err := t.CopyOut(a[2], b[:]); err != nil {
		return 0, unix.EFAULT
	}
	return 0, nil
}

// ArchPrctl implements arch_prctl(2).
func ArchPrctl(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	const (
		archSetGS    = 0x1001
		archSetFS    = 0x1002
		archGetFS    = 0x1003
		archGetGS    = 0x1004
		archGetCPUID = 0x1011
		archSetCPUID = 0x1012
	)
	r := &t.State.Regs
	put := func(v uint64) (uint64, error) {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], v)
		if _, err := t.CopyOut(a[1], b[:]); err != nil {
			return 0, unix.EFAULT
		}
		return 0, nil
	}
	switch a[0] {
	case archSetFS:
		if a[1] >= t.MM().MaxAddress() {
			return 0, unix.EPERM
		}
		r.FsBase = a[1]
		return 0, nil
	case archGetFS:
		return put(r.FsBase)
	case archSetGS:
		if a[1] >= t.MM().MaxAddress() {
			return 0, unix.EPERM
		}
		r.GsBase = a[1]
		return 0, nil
	case archGetGS:
		return put(r.GsBase)
	case archGetCPUID:
		return 1, nil
	case archSetCPUID:
		return 0, unix.ENODEV
	}
	return 0, unix.EINVAL
}
