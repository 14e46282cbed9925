package proc

import (
	"encoding/binary"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/procfs"
	"github.com/runsc-lite/runsc-lite/vfs/waiter"
)

// pidFD is the file of a pidfd ("anon_inode:[pidfd]"): a handle on a
// thread group that polls readable once the group has exited.
type pidFD struct {
	vfs.StreamFileBase
	mu sync.Mutex
	tg *kernel.ThreadGroup // nil until clone(CLONE_PIDFD) has made the child
}

func (p *pidFD) group() *kernel.ThreadGroup {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tg
}

func (p *pidFD) setGroup(tg *kernel.ThreadGroup) {
	p.mu.Lock()
	p.tg = tg
	p.mu.Unlock()
}

// Read implements vfs.StreamFile: pidfds cannot be read (EINVAL, as on
// Linux, where the file has no read operation).
func (p *pidFD) Read(vfs.Context, []byte) (int, error) { return 0, unix.EINVAL }

// Write implements vfs.StreamFile.
func (p *pidFD) Write(vfs.Context, []byte) (int, error) { return 0, unix.EINVAL }

// Readiness implements vfs.Waitable: readable once the group has exited,
// hung up once it has been reaped.
func (p *pidFD) Readiness(mask waiter.EventMask) waiter.EventMask {
	tg := p.group()
	if tg == nil {
		return 0
	}
	var r waiter.EventMask
	exited, reaped := tg.Exited()
	if exited || reaped {
		r |= waiter.EventIn | waiter.EventRdNorm
	}
	if reaped {
		r |= waiter.EventHUp
	}
	return r & (mask | waiter.EventHUp)
}

// EventRegister implements vfs.Waitable.
func (p *pidFD) EventRegister(e *waiter.Entry) {
	if tg := p.group(); tg != nil {
		tg.RegisterExitWaiter(e)
	}
}

// EventUnregister implements vfs.Waitable.
func (p *pidFD) EventUnregister(e *waiter.Entry) {
	if tg := p.group(); tg != nil {
		tg.UnregisterExitWaiter(e)
	}
}

// newPidFD installs a close-on-exec pidfd for tg (nil: set later).
func newPidFD(t *kernel.Task, tg *kernel.ThreadGroup, flags uint32) (int32, *pidFD, error) {
	impl := &pidFD{tg: tg}
	v := t.Kernel().VFS()
	ctx := t.VFSContext()
	in := v.NewAnonInode(ctx, 0o600)
	f := v.NewFile(v.NewAnonLocation("anon_inode:[pidfd]", in, 0), impl, unix.O_RDWR|flags)
	fd, err := t.NewFD(f, true)
	f.DecRef(ctx)
	return fd, impl, err
}

// pidFDGroup returns the thread group of pidfd fd: EBADF for no file or a
// file that is not a pidfd (as Linux), ESRCH while it has no group.
func pidFDGroup(t *kernel.Task, fd int32) (*kernel.ThreadGroup, *vfs.File, error) {
	f, err := t.GetFile(fd)
	if err != nil {
		return nil, nil, err
	}
	p, ok := f.Impl().(*pidFD)
	if !ok {
		f.DecRef(t.VFSContext())
		return nil, nil, unix.EBADF
	}
	tg := p.group()
	if tg == nil {
		f.DecRef(t.VFSContext())
		return nil, nil, unix.ESRCH
	}
	return tg, f, nil
}

// signalTarget returns the process pidfd_send_signal's fd names: a pidfd
// or, as on Linux, an open /proc/PID directory.
func signalTarget(t *kernel.Task, fd int32) (*kernel.ThreadGroup, error) {
	f, err := t.GetFile(fd)
	if err != nil {
		return nil, err
	}
	defer f.DecRef(t.VFSContext())
	if p, ok := f.Impl().(*pidFD); ok {
		if tg := p.group(); tg != nil {
			return tg, nil
		}
		return nil, unix.ESRCH
	}
	pt, ok := procfs.ProcessDirTask(f)
	switch {
	case !ok:
		return nil, unix.EBADF
	case pt == nil:
		return nil, unix.ESRCH
	}
	return pt.ThreadGroup(), nil
}

// cloneWithPidFD is clone(2) or clone3(2) with CLONE_PIDFD: the pidfd is
// installed and its number stored at addr before the child exists, as
// Linux does, so that neither can fail once the child runs.
func cloneWithPidFD(t *kernel.Task, a kernel.CloneArgs, addr uint64) (uint64, error) {
	if a.Flags&(linux.CLONE_THREAD|linux.CLONE_DETACHED) != 0 {
		return 0, unix.EINVAL
	}
	fd, impl, err := newPidFD(t, nil, 0)
	if err != nil {
		return 0, err
	}
	undo := func() {
		if f, err := t.Files.Remove(fd); err == nil {
			f.DecRef(t.VFSContext())
		}
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(fd))
	if _, err := t.CopyOut(addr, b[:]); err != nil {
		undo()
		return 0, unix.EFAULT
	}
	a.NewThreadGroup = impl.setGroup
	tid, err := t.Clone(a)
	if err != nil {
		undo()
		return 0, err
	}
	return uint64(tid), nil
}

// PidfdOpen implements pidfd_open(2).
func PidfdOpen(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	pid, flags := int32(a[0]), uint32(a[1])
	if flags&^unix.PIDFD_NONBLOCK != 0 || pid <= 0 {
		return 0, unix.EINVAL
	}
	tg, err := t.Kernel().ThreadGroupOf(pid)
	if err != nil {
		return 0, err
	}
	fd, _, err := newPidFD(t, tg, flags)
	return uint64(fd), err
}

// PidfdSendSignal implements pidfd_send_signal(2).
func PidfdSendSignal(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	fd, sig, infoAddr, flags := int32(a[0]), int32(a[1]), a[2], uint32(a[3])
	if flags != 0 {
		return 0, unix.EINVAL
	}
	tg, err := signalTarget(t, fd)
	if err != nil {
		return 0, err
	}
	if sig < 0 || sig > linux.NSIG {
		return 0, unix.EINVAL
	}
	si := &kernel.SigInfo{Signo: sig, Code: linux.SI_USER, PID: t.ThreadGroup().ID(), UID: int32(t.Creds().RealUID)}
	if infoAddr != 0 {
		b := make([]byte, 128)
		if _, err := t.CopyIn(infoAddr, b); err != nil {
			return 0, unix.EFAULT
		}
		si = kernel.DecodeSigInfo(b)
		if si.Signo != sig {
			return 0, unix.EINVAL
		}
		// Only the kernel may claim kernel or positive si_codes to others.
		if tg != t.ThreadGroup() && (si.Code >= 0 || si.Code == linux.SI_TKILL) {
			return 0, unix.EPERM
		}
	}
	return 0, t.Kernel().SignalThreadGroup(tg, si)
}
