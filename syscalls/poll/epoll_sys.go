package poll

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/waiter"
)

// epMaxEvents is EP_MAX_EVENTS.
const epMaxEvents = 0x7fffffff / epollEventSize

// installFile installs f at a new descriptor and drops the creation
// reference.
func installFile(t *kernel.Task, f *vfs.File, cloexec bool) (uint64, error) {
	fd, err := t.NewFD(f, cloexec)
	f.DecRef(t.VFSContext())
	if err != nil {
		return 0, err
	}
	return uint64(fd), nil
}

// EpollCreate implements epoll_create(2).
func EpollCreate(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	if int32(a[0]) <= 0 {
		return 0, unix.EINVAL
	}
	return installFile(t, NewEpollFile(t.Kernel().VFS(), t.VFSContext()), false)
}

// EpollCreate1 implements epoll_create1(2).
func EpollCreate1(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	flags := uint32(a[0])
	if flags&^unix.EPOLL_CLOEXEC != 0 {
		return 0, unix.EINVAL
	}
	return installFile(t, NewEpollFile(t.Kernel().VFS(), t.VFSContext()), flags&unix.EPOLL_CLOEXEC != 0)
}

// canPoll reports whether f supports polling (Linux's file_can_poll):
// regular files and directories do not, and epoll_ctl refuses them.
func canPoll(f *vfs.File) bool {
	_, ok := f.Impl().(vfs.Waitable)
	return ok
}

// EpollCtl implements epoll_ctl(2).
func EpollCtl(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	epfd, op, fd, evAddr := int32(a[0]), int32(a[1]), int32(a[2]), a[3]
	var ev EpollEvent
	if op != unix.EPOLL_CTL_DEL {
		var b [epollEventSize]byte
		if _, err := t.CopyIn(evAddr, b[:]); err != nil {
			return 0, unix.EFAULT
		}
		ev.Events = binary.LittleEndian.Uint32(b[0:])
		ev.Data = binary.LittleEndian.Uint64(b[4:])
	}
	ctx := t.VFSContext()
	ef := getPollFile(t, epfd)
	if ef == nil {
		return 0, unix.EBADF
	}
	defer ef.DecRef(ctx)
	tf := getPollFile(t, fd)
	if tf == nil {
		return 0, unix.EBADF
	}
	defer tf.DecRef(ctx)
	if !canPoll(tf) {
		return 0, unix.EPERM
	}
	ep := epollOf(ef)
	if ef == tf || ep == nil {
		return 0, unix.EINVAL
	}
	return 0, ep.Ctl(ctx, int(op), tf, fd, ev)
}

// EpollWait implements epoll_wait(2).
func EpollWait(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return doEpollWait(t, int32(a[0]), a[1], int32(a[2]), msTimeout(t.Kernel().Clock, int32(a[3])))
}

// EpollPwait implements epoll_pwait(2).
func EpollPwait(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return doEpollPwait(t, a, msTimeout(t.Kernel().Clock, int32(a[3])))
}

// EpollPwait2 implements epoll_pwait2(2): the timeout is a timespec.
func EpollPwait2(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	to, err := copyInTimeout(t, a[3])
	if err != nil {
		return 0, err
	}
	return doEpollPwait(t, a, to)
}

func doEpollPwait(t *kernel.Task, a *kernel.SyscallArgs, to timeout) (uint64, error) {
	masked, err := setUserSigmask(t, a[4], a[5])
	if err != nil {
		return 0, err
	}
	ret, err := doEpollWait(t, int32(a[0]), a[1], int32(a[2]), to)
	if masked && err != unix.EINTR {
		t.RestoreSavedSigMask()
	}
	return ret, err
}

// doEpollWait is Linux's do_epoll_wait. Like Linux, it fails with EINTR
// (never restarts) when a signal interrupts it.
func doEpollWait(t *kernel.Task, epfd int32, evAddr uint64, maxevents int32, to timeout) (uint64, error) {
	if maxevents <= 0 || maxevents > epMaxEvents {
		return 0, unix.EINVAL
	}
	if !accessOK(evAddr, uint64(maxevents)*epollEventSize) {
		return 0, unix.EFAULT
	}
	ctx := t.VFSContext()
	f := getPollFile(t, epfd)
	if f == nil {
		return 0, unix.EBADF
	}
	defer f.DecRef(ctx)
	ep := epollOf(f)
	if ep == nil {
		return 0, unix.EINVAL
	}
	var evs []EpollEvent
	scan := func() int {
		evs = ep.Harvest(ctx, int(maxevents))
		return len(evs)
	}
	register := func(w *wakeSet) { w.add(f, waiter.EventIn) }
	n, err := waitLoop(t, to, scan, register)
	if err != nil {
		return 0, unix.EINTR
	}
	if n == 0 {
		return 0, nil
	}
	if _, err := t.CopyOut(evAddr, EncodeEpollEvents(evs)); err != nil {
		return 0, unix.EFAULT
	}
	return uint64(n), nil
}

// EncodeEpollEvents encodes events as packed 12-byte struct epoll_event.
func EncodeEpollEvents(evs []EpollEvent) []byte {
	b := make([]byte, len(evs)*epollEventSize)
	for i, e := range evs {
		binary.LittleEndian.PutUint32(b[i*epollEventSize:], e.Events)
		binary.LittleEndian.PutUint64(b[i*epollEventSize+4:], e.Data)
	}
	return b
}

// --- eventfd ---

// Eventfd implements eventfd(2).
func Eventfd(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return doEventfd(t, uint32(a[0]), 0)
}

// Eventfd2 implements eventfd2(2).
func Eventfd2(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return doEventfd(t, uint32(a[0]), uint32(a[1]))
}

func doEventfd(t *kernel.Task, initval, flags uint32) (uint64, error) {
	f, err := NewEventFDFile(t.Kernel().VFS(), t.VFSContext(), uint64(initval), flags)
	if err != nil {
		return 0, err
	}
	return installFile(t, f, flags&efdCloexec != 0)
}
