package fs

import (
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/vfs"
)

// closeFile drops a descriptor's reference to f after it left the table,
// with the lock side effects of Linux's filp_close: the process's POSIX
// record locks on the file go with any descriptor of it, and flock/OFD
// locks go with the open file description once its last reference is gone.
func closeFile(t *kernel.Task, f *vfs.File) {
	releasePOSIXLocks(t, f)
	f.DecRef(ctx(t))
	if !f.TryIncRef() {
		// That was the last reference.
		releaseFileLocks(f)
		return
	}
	f.DecRef(ctx(t))
}

// Close implements close(2).
func Close(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	f, err := t.Files.Remove(argFD(a[0]))
	if err != nil {
		return 0, err
	}
	closeFile(t, f)
	return 0, nil
}

// close_range flags.
const (
	closeRangeUnshare = 0x2
	closeRangeCloexec = 0x4
)

// CloseRange implements close_range(2). Descriptors are closed one by one
// (rather than with FDTable.CloseRange) so each gets closeFile's lock
// handling.
func CloseRange(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	first, last, flags := argUint(a[0]), argUint(a[1]), argUint(a[2])
	if flags&^(closeRangeUnshare|closeRangeCloexec) != 0 || first > last {
		return 0, unix.EINVAL
	}
	if flags&closeRangeUnshare != 0 {
		// Work on a private copy of a shared table.
		t.UnshareFiles()
	}
	for _, fd := range t.Files.FDs() {
		if uint32(fd) < first || uint32(fd) > last {
			continue
		}
		if flags&closeRangeCloexec != 0 {
			t.Files.SetCloexec(fd, true)
			continue
		}
		if f, err := t.Files.Remove(fd); err == nil {
			closeFile(t, f)
		}
	}
	return 0, nil
}

// Dup implements dup(2).
func Dup(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	f, err := getFile(t, argFD(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	fd, err := t.NewFD(f, false)
	return uint64(fd), err
}

// dupTo installs oldfd's file at newfd, closing what was there.
func dupTo(t *kernel.Task, oldfd, newfd int32, cloexec bool) (uint64, error) {
	f, err := getFile(t, oldfd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	old, err := t.Files.SetFD(newfd, f, cloexec, t.NoFileLimit())
	if err != nil {
		return 0, err
	}
	if old != nil {
		closeFile(t, old)
	}
	return uint64(newfd), nil
}

// Dup2 implements dup2(2): dup2(fd, fd) only checks fd.
func Dup2(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	oldfd, newfd := argFD(a[0]), argFD(a[1])
	if oldfd == newfd {
		f, err := getFile(t, oldfd)
		if err != nil {
			return 0, err
		}
		f.DecRef(ctx(t))
		return uint64(newfd), nil
	}
	return dupTo(t, oldfd, newfd, false)
}

// Dup3 implements dup3(2).
func Dup3(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	oldfd, newfd, flags := argFD(a[0]), argFD(a[1]), argFlags(a[2])
	if flags&^unix.O_CLOEXEC != 0 || oldfd == newfd {
		return 0, unix.EINVAL
	}
	return dupTo(t, oldfd, newfd, flags&unix.O_CLOEXEC != 0)
}
