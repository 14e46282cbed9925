package kernel

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/mm"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/waiter"
)

// VFS returns the sandbox's virtual file system (set by boot).
func (k *Kernel) VFS() *vfs.VFS { return k.vfs }

// SetVFS installs the sandbox's virtual file system.
func (k *Kernel) SetVFS(v *vfs.VFS) {
	k.vfs = v
	v.SetMappingInvalidator(k.invalidateMappings)
}

// invalidateMappings is the VFS's MappingInvalidator: every live address
// space drops its pages of the file data key in [start, end).
func (k *Kernel) invalidateMappings(key any, start, end int64) {
	k.mu.Lock()
	mms := make([]*mm.MM, 0, len(k.mmUsers))
	for m := range k.mmUsers {
		mms = append(mms, m)
	}
	k.mu.Unlock()
	for _, m := range mms {
		m.InvalidateFile(key, start, end)
	}
}

// GetFile returns the open file at fd with a new reference; the caller
// drops it with f.DecRef(t.VFSContext()).
func (t *Task) GetFile(fd int32) (*vfs.File, error) {
	f, _, err := t.Files.Get(fd)
	return f, err
}

// NoFileLimit returns RLIMIT_NOFILE's soft value.
func (t *Task) NoFileLimit() uint64 { return t.tg.GetLimit(unix.RLIMIT_NOFILE).Cur }

// NewFD installs f at the lowest free descriptor (taking its own reference).
func (t *Task) NewFD(f *vfs.File, cloexec bool) (int32, error) {
	return t.Files.NewFD(f, 0, cloexec, t.NoFileLimit())
}

// BlockOnFile waits until w is ready for any event in mask, the deadline
// passes (zero: none) or the task is interrupted. It returns nil,
// unix.ETIMEDOUT or ErrInterrupted.
func (t *Task) BlockOnFile(w vfs.Waitable, mask waiter.EventMask, deadline Deadline) error {
	e, ch := waiter.NewChannelEntry(mask)
	w.EventRegister(e)
	defer w.EventUnregister(e)
	if w.Readiness(mask) != 0 {
		return nil
	}
	return t.Block(ch, deadline)
}

// fileTimeouts is implemented by files with their own limits on blocking:
// sockets' SO_RCVTIMEO and SO_SNDTIMEO (0: none).
type fileTimeouts interface {
	Timeouts() (rcv, snd time.Duration)
}

// blockDeadline returns when a blocking operation on f waiting for mask
// must give up (zero: never).
func (t *Task) blockDeadline(f *vfs.File, mask waiter.EventMask) Deadline {
	ft, ok := f.Impl().(fileTimeouts)
	if !ok {
		return Deadline{}
	}
	rcv, snd := ft.Timeouts()
	d := snd
	if mask&waiter.ReadableEvents != 0 {
		d = rcv
	}
	if d <= 0 {
		return Deadline{}
	}
	return t.k.Clock.After(d)
}

// DoBlocking retries op while it returns EAGAIN on a blocking file, waiting
// for mask in between. A signal makes it return ErrRestartSys, or EINTR
// when the file has a timeout (as Linux's sock_intr_errno); the timeout
// running out gives EAGAIN.
func (t *Task) DoBlocking(f *vfs.File, mask waiter.EventMask, op func() (int, error)) (int, error) {
	n, err := op()
	if err != unix.EAGAIN || f.StatusFlags()&unix.O_NONBLOCK != 0 {
		return n, err
	}
	deadline := t.blockDeadline(f, mask)
	e, ch := waiter.NewChannelEntry(mask)
	f.EventRegister(e)
	defer f.EventUnregister(e)
	for {
		n, err = op()
		if err != unix.EAGAIN {
			return n, err
		}
		if berr := t.Block(ch, deadline); berr != nil {
			if berr == unix.ETIMEDOUT {
				return 0, unix.EAGAIN
			}
			if !deadline.IsZero() {
				return 0, unix.EINTR
			}
			return 0, ErrRestartSys
		}
	}
}
