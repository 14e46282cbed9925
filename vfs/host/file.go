package host

import (
	"sync/atomic"

	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/waiter"
	"golang.org/x/sys/unix"
)

// regularFile is a host regular file (or block device): pread/pwrite at the
// guest file's offset. It is always ready.
type regularFile struct {
	fd       int
	released atomic.Bool
}

// Release implements vfs.FileImpl.
func (r *regularFile) Release(vfs.Context) {
	if r.released.CompareAndSwap(false, true) {
		unix.Close(r.fd)
	}
}

// PRead implements vfs.FileImpl.
func (r *regularFile) PRead(_ vfs.Context, dst []byte, off int64) (int, error) {
	n, err := retry(func() (int, error) { return unix.Pread(r.fd, dst, off) })
	return clampN(n, err)
}

// PWrite implements vfs.FileImpl. (If the host FD is O_APPEND the host
// appends, like Linux's pwrite.)
func (r *regularFile) PWrite(_ vfs.Context, src []byte, off int64) (int, error) {
	n, err := retry(func() (int, error) { return unix.Pwrite(r.fd, src, off) })
	return clampN(n, err)
}

// Append implements vfs.Appender: an atomic append on the host
// (RWF_APPEND, whatever the host FD's flags), returning the new end.
func (r *regularFile) Append(_ vfs.Context, src []byte) (int, int64, error) {
	n, err := retry(func() (int, error) { return unix.Pwritev2(r.fd, [][]byte{src}, 0, unix.RWF_APPEND) })
	if err == unix.EOPNOTSUPP || err == unix.EINVAL {
		// Old host kernel: fall back to the host FD's own O_APPEND (or
		// writing at the current end).
		var st unix.Stat_t
		if err := unix.Fstat(r.fd, &st); err != nil {
			return 0, 0, err
		}
		n, err = retry(func() (int, error) { return unix.Pwrite(r.fd, src, st.Size) })
	}
	n, err = clampN(n, err)
	var st unix.Stat_t
	if serr := unix.Fstat(r.fd, &st); serr != nil {
		return n, 0, serr
	}
	return n, st.Size, err
}

// Read implements vfs.StreamFile: sequential I/O uses the host file
// description's own offset, which the host process that passed the FD
// shares (a shell's `> out` redirection sees the guest's writes advance it).
func (r *regularFile) Read(_ vfs.Context, dst []byte) (int, error) {
	n, err := retry(func() (int, error) { return unix.Read(r.fd, dst) })
	return clampN(n, err)
}

// Write implements vfs.StreamFile (see Read); a host FD opened O_APPEND
// appends.
func (r *regularFile) Write(_ vfs.Context, src []byte) (int, error) {
	n, err := retry(func() (int, error) { return unix.Write(r.fd, src) })
	return clampN(n, err)
}

// Seek implements vfs.FileImpl on the host file description's offset.
func (r *regularFile) Seek(_ vfs.Context, off int64, whence int, cur int64) (int64, error) {
	switch whence {
	case unix.SEEK_SET, unix.SEEK_CUR, unix.SEEK_END, unix.SEEK_DATA, unix.SEEK_HOLE:
		return unix.Seek(r.fd, off, whence)
	}
	return 0, unix.EINVAL
}

// Sync implements vfs.Syncer.
func (r *regularFile) Sync(vfs.Context) error {
	err := unix.Fsync(r.fd)
	if err == unix.EINVAL || err == unix.EROFS {
		// Files that cannot be synced (like Linux's special files).
		return nil
	}
	return err
}

// Allocate implements vfs.Allocator.
func (r *regularFile) Allocate(_ vfs.Context, mode uint32, off, length int64) error {
	return unix.Fallocate(r.fd, mode, off, length)
}

// streamFile is a host pipe, socket, terminal or other character device:
// no offsets, never blocks, readiness from the package's epoll FD.
type streamFile struct {
	vfs.StreamFileBase
	fd    int
	ftype uint32
	tty   bool
	// hostNonblock is set if the host FD was already non-blocking.
	hostNonblock bool
	// nowait is true while RWF_NOWAIT is believed to work for this FD.
	nowait atomic.Bool
	// pollable is false for FDs epoll refuses (/dev/null): always ready.
	pollable bool
	notifyID uint64
	queue    waiter.Queue
	released atomic.Bool
}

// Release implements vfs.FileImpl.
func (s *streamFile) Release(vfs.Context) {
	if !s.released.CompareAndSwap(false, true) {
		return
	}
	if s.pollable {
		hostNotifier.remove(s.fd, s.notifyID)
	}
	unix.Close(s.fd)
}

// Seek implements vfs.FileImpl: ESPIPE for pipes, sockets and terminals;
// other character devices (/dev/null) accept any seek and stay at 0, like
// Linux's.
func (s *streamFile) Seek(context vfs.Context, off int64, whence int, cur int64) (int64, error) {
	if s.ftype == unix.S_IFCHR && !s.tty {
		return 0, nil
	}
	return 0, unix.ESPIPE
}

// pollNow returns the host's readiness of the FD for events (POLL* bits, the
// same values as EPOLL*).
func (s *streamFile) pollNow(events int16) int16 {
	if !s.pollable {
		return events & (unix.POLLIN | unix.POLLOUT | pollRdNorm | pollWrNorm)
	}
	fds := []unix.PollFd{{Fd: int32(s.fd), Events: events}}
	for {
		n, err := unix.Poll(fds, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n == 0 {
			return 0
		}
		return fds[0].Revents
	}
}

// Read implements vfs.StreamFile.
func (s *streamFile) Read(_ vfs.Context, dst []byte) (int, error) {
	if s.hostNonblock {
		return clampN(retry(func() (int, error) { return unix.Read(s.fd, dst) }))
	}
	if s.nowait.Load() {
		n, err := retry(func() (int, error) { return unix.Preadv2(s.fd, [][]byte{dst}, -1, unix.RWF_NOWAIT) })
		if err != unix.EOPNOTSUPP {
			return clampN(n, err)
		}
		s.nowait.Store(false)
	}
	// Blocking host FD without RWF_NOWAIT (terminals): read only what is
	// there, so that the read cannot block.
	rev := s.pollNow(unix.POLLIN)
	if rev == 0 {
		return 0, unix.EAGAIN
	}
	if rev&unix.POLLIN != 0 && len(dst) > 0 {
		if avail, err := unix.IoctlGetInt(s.fd, fionread); err == nil && avail > 0 && avail < len(dst) {
			dst = dst[:avail]
		}
	}
	return clampN(retry(func() (int, error) { return unix.Read(s.fd, dst) }))
}

// Write implements vfs.StreamFile.
func (s *streamFile) Write(_ vfs.Context, src []byte) (int, error) {
	if s.hostNonblock {
		return clampN(retry(func() (int, error) { return unix.Write(s.fd, src) }))
	}
	if s.nowait.Load() {
		n, err := retry(func() (int, error) { return unix.Pwritev2(s.fd, [][]byte{src}, -1, unix.RWF_NOWAIT) })
		if err != unix.EOPNOTSUPP {
			return clampN(n, err)
		}
		s.nowait.Store(false)
	}
	if s.pollNow(unix.POLLOUT)&(unix.POLLOUT|unix.POLLERR|unix.POLLHUP) == 0 {
		return 0, unix.EAGAIN
	}
	// A terminal with room: the host write may still wait for the
	// terminal to drain if src is large, so write in bounded chunks.
	if len(src) > maxTTYChunk {
		src = src[:maxTTYChunk]
	}
	return clampN(retry(func() (int, error) { return unix.Write(s.fd, src) }))
}

// maxTTYChunk bounds one write to a blocking host terminal.
const maxTTYChunk = 4096

// Readiness implements vfs.Waitable.
func (s *streamFile) Readiness(mask waiter.EventMask) waiter.EventMask {
	rev := s.pollNow(int16(mask & waiter.AllEvents))
	return waiter.EventMask(uint16(rev)) & (mask | waiter.EventErr | waiter.EventHUp)
}

// EventRegister implements vfs.Waitable.
func (s *streamFile) EventRegister(e *waiter.Entry) { s.queue.Register(e) }

// EventUnregister implements vfs.Waitable.
func (s *streamFile) EventUnregister(e *waiter.Entry) { s.queue.Unregister(e) }

// Ioctl implements vfs.Ioctler for pipes, sockets and non-terminal devices:
// only FIONREAD (terminals have their own, see ttyFile).
func (s *streamFile) Ioctl(ctx vfs.Context, cmd uint32, arg uintptr) (uintptr, error) {
	switch cmd {
	case fionread:
		if s.ftype == unix.S_IFCHR {
			return 0, unix.ENOTTY
		}
		return ioctlGetInt(ctx, s.fd, cmd, arg)
	}
	return 0, unix.ENOTTY
}

// retry calls op until it does not fail with EINTR.
func retry(op func() (int, error)) (int, error) {
	for {
		n, err := op()
		if err != unix.EINTR {
			return n, err
		}
	}
}

// clampN turns the host's -1 into 0 on errors.
func clampN(n int, err error) (int, error) {
	if n < 0 {
		n = 0
	}
	return n, err
}

// Constants missing from x/sys/unix.
const (
	pollRdNorm = 0x40
	pollWrNorm = 0x100
	fionread   = unix.TIOCINQ // FIONREAD
)
