package poll

import (
	"encoding/binary"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/waiter"
)

// signalfdSiginfoSize is sizeof(struct signalfd_siginfo).
const signalfdSiginfoSize = 128

// signalSource is what a signalfd needs from a task.
type signalSource interface {
	PendingSignals() kernel.SigSet
	DequeueSignal(mask kernel.SigSet) *kernel.SigInfo
}

// signalWaiters notifies registered entries when a signal is queued (a
// *kernel.ThreadGroup).
type signalWaiters interface {
	RegisterSignalWaiter(e *waiter.Entry)
	UnregisterSignalWaiter(e *waiter.Entry)
}

// SignalFD is the implementation of a signalfd(2) file. Reads dequeue the
// reading task's pending signals that are in the mask; readiness reflects
// the signals pending for the task that created the file (Linux uses the
// polling task; in the sandbox the two only differ when a signalfd is
// shared between processes).
type SignalFD struct {
	noSeek
	src signalSource
	sw  signalWaiters

	mu       sync.Mutex
	mask     kernel.SigSet
	released bool
	hook     *waiter.Entry

	queue waiter.Queue
}

func newSignalFD(src signalSource, sw signalWaiters, mask kernel.SigSet) *SignalFD {
	s := &SignalFD{src: src, sw: sw, mask: sanitizeSigMask(mask)}
	// Runs with the kernel lock held: only notify.
	s.hook = waiter.NewFunctionEntry(waiter.EventIn, func(waiter.EventMask) {
		s.queue.Notify(waiter.EventIn | waiter.EventRdNorm)
	})
	sw.RegisterSignalWaiter(s.hook)
	return s
}

// sanitizeSigMask removes the signals signalfd can never receive.
func sanitizeSigMask(m kernel.SigSet) kernel.SigSet {
	return m &^ (kernel.SigBit(int32(unix.SIGKILL)) | kernel.SigBit(int32(unix.SIGSTOP)))
}

// Mask returns the signal mask.
func (s *SignalFD) Mask() kernel.SigSet {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mask
}

// SetMask changes the signal mask and wakes the waiters.
func (s *SignalFD) SetMask(m kernel.SigSet) {
	s.mu.Lock()
	s.mask = sanitizeSigMask(m)
	s.mu.Unlock()
	s.queue.Notify(waiter.EventIn | waiter.EventRdNorm)
}

// Release implements vfs.FileImpl.
func (s *SignalFD) Release(vfs.Context) {
	s.mu.Lock()
	s.released = true
	s.mu.Unlock()
	s.sw.UnregisterSignalWaiter(s.hook)
}

// Read implements vfs.StreamFile: it dequeues as many pending signals in
// the mask as fit (128 bytes each), or returns EAGAIN.
func (s *SignalFD) Read(ctx vfs.Context, dst []byte) (int, error) {
	if len(dst) < signalfdSiginfoSize {
		return 0, unix.EINVAL
	}
	var src signalSource = s.src
	if t := kernel.TaskFromContext(ctx); t != nil {
		src = t
	}
	mask := s.Mask()
	n := 0
	for n+signalfdSiginfoSize <= len(dst) {
		si := src.DequeueSignal(mask)
		if si == nil {
			break
		}
		copy(dst[n:], EncodeSignalfdSiginfo(si))
		n += signalfdSiginfoSize
	}
	if n == 0 {
		return 0, unix.EAGAIN
	}
	return n, nil
}

// Write implements vfs.StreamFile.
func (s *SignalFD) Write(vfs.Context, []byte) (int, error) { return 0, unix.EINVAL }

// Readiness implements vfs.Waitable.
func (s *SignalFD) Readiness(mask waiter.EventMask) waiter.EventMask {
	if mask&(waiter.EventIn|waiter.EventRdNorm) == 0 {
		return 0
	}
	if s.src.PendingSignals()&s.Mask() != 0 {
		return mask & (waiter.EventIn | waiter.EventRdNorm)
	}
	return 0
}

// EventRegister implements vfs.Waitable. The thread group's signal queue
// notifies the file (see newSignalFD), and the file its waiters.
func (s *SignalFD) EventRegister(e *waiter.Entry) { s.queue.Register(e) }

// EventUnregister implements vfs.Waitable.
func (s *SignalFD) EventUnregister(e *waiter.Entry) { s.queue.Unregister(e) }

// EncodeSignalfdSiginfo encodes si as a struct signalfd_siginfo.
func EncodeSignalfdSiginfo(si *kernel.SigInfo) []byte {
	b := make([]byte, signalfdSiginfoSize)
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(si.Signo))
	le.PutUint32(b[4:], uint32(si.Errno))
	le.PutUint32(b[8:], uint32(si.Code))
	const siSigio = -5
	sig := unix.Signal(si.Signo)
	specific := si.Code > linux.SI_USER && si.Code < linux.SI_KERNEL
	switch {
	case specific && (sig == unix.SIGSEGV || sig == unix.SIGBUS || sig == unix.SIGILL || sig == unix.SIGFPE || sig == unix.SIGTRAP):
		le.PutUint64(b[72:], si.Addr) // ssi_addr
	case specific && sig == unix.SIGCHLD:
		le.PutUint32(b[12:], uint32(si.PID))
		le.PutUint32(b[16:], uint32(si.UID))
		le.PutUint32(b[40:], uint32(si.Status))
		le.PutUint64(b[56:], uint64(si.Utime))
		le.PutUint64(b[64:], uint64(si.Stime))
	case specific && sig == unix.SIGSYS:
		le.PutUint32(b[84:], uint32(si.SyscallNr))
		le.PutUint64(b[88:], si.SyscallAddr)
		le.PutUint32(b[96:], unix.AUDIT_ARCH_X86_64)
	case (specific && sig == unix.SIGIO) || si.Code == siSigio:
		le.PutUint32(b[20:], uint32(si.FD))
		le.PutUint32(b[28:], uint32(si.Band))
	case si.Code == linux.SI_TIMER:
		le.PutUint32(b[24:], uint32(si.TimerID))
		le.PutUint32(b[32:], uint32(si.Overrun))
		le.PutUint32(b[44:], uint32(si.Value))
		le.PutUint64(b[48:], si.Value)
	case si.Code < 0:
		le.PutUint32(b[12:], uint32(si.PID))
		le.PutUint32(b[16:], uint32(si.UID))
		le.PutUint32(b[44:], uint32(si.Value))
		le.PutUint64(b[48:], si.Value)
	default:
		le.PutUint32(b[12:], uint32(si.PID))
		le.PutUint32(b[16:], uint32(si.UID))
	}
	return b
}

// Signalfd implements signalfd(2).
func Signalfd(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return doSignalfd4(t, int32(a[0]), a[1], a[2], 0)
}

// Signalfd4 implements signalfd4(2).
func Signalfd4(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return doSignalfd4(t, int32(a[0]), a[1], a[2], uint32(a[3]))
}

func doSignalfd4(t *kernel.Task, fd int32, maskAddr, size uint64, flags uint32) (uint64, error) {
	if size != 8 {
		return 0, unix.EINVAL
	}
	var b [8]byte
	if _, err := t.CopyIn(maskAddr, b[:]); err != nil {
		return 0, unix.EFAULT
	}
	mask := kernel.SigSet(binary.LittleEndian.Uint64(b[:]))
	if flags&^uint32(unix.SFD_CLOEXEC|unix.SFD_NONBLOCK) != 0 {
		return 0, unix.EINVAL
	}
	if fd == -1 {
		impl := newSignalFD(t, t.ThreadGroup(), mask)
		f := newAnonFile(t.Kernel().VFS(), t.VFSContext(), "signalfd", impl, unix.O_RDWR|flags&unix.SFD_NONBLOCK)
		return installFile(t, f, flags&unix.SFD_CLOEXEC != 0)
	}
	f := getPollFile(t, fd)
	if f == nil {
		return 0, unix.EBADF
	}
	defer f.DecRef(t.VFSContext())
	s, ok := f.Impl().(*SignalFD)
	if !ok {
		return 0, unix.EINVAL
	}
	s.SetMask(mask)
	return uint64(fd), nil
}
