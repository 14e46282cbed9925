package fs

import (
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/vfs"
)

// Generic ioctls that Linux's do_vfs_ioctl serves for every file.
const (
	fioclex  = 0x5451
	fionclex = 0x5450
	fionbio  = 0x5421
	fioasync = 0x5452
	fioqsize = 0x5460
	figetbsz = 0x2
	fionread = 0x541B
)

// Ioctl implements ioctl(2): the generic commands here, the rest by the
// file (with the task as context, so it can reach the argument).
func Ioctl(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	fd, cmd, arg := argFD(a[0]), argUint(a[1]), a[2]
	f, err := getIOFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	switch cmd {
	case fioclex:
		return 0, t.Files.SetCloexec(fd, true)
	case fionclex:
		return 0, t.Files.SetCloexec(fd, false)
	case fionbio:
		return 0, setFlagFromInt(t, f, arg, unix.O_NONBLOCK)
	case fioasync:
		return 0, ioctlAsync(t, f, arg)
	case fioqsize:
		if hasSize(f) {
			return 0, ioctlQsize(t, f, arg)
		}
	case figetbsz:
		return 0, ioctlBlockSize(t, f, arg)
	case fionread:
		if isRegular(f) {
			return 0, ioctlFileNread(t, f, arg)
		}
	}
	r, err := f.Ioctl(ctx(t), cmd, uintptr(arg))
	return uint64(r), err
}

// setFlagFromInt sets or clears a status flag from the int at arg.
func setFlagFromInt(t *kernel.Task, f *vfs.File, arg uint64, flag uint32) error {
	b := make([]byte, 4)
	if err := copyIn(t, arg, b); err != nil {
		return err
	}
	fl := f.StatusFlags()
	if le.Uint32(b) != 0 {
		fl |= flag
	} else {
		fl &^= flag
	}
	return f.SetStatusFlags(ctx(t), fl)
}

// ioctlAsync implements FIOASYNC. Like Linux, turning O_ASYNC on for a
// file without a fasync operation is ENOTTY.
func ioctlAsync(t *kernel.Task, f *vfs.File, arg uint64) error {
	b := make([]byte, 4)
	if err := copyIn(t, arg, b); err != nil {
		return err
	}
	if le.Uint32(b) != 0 && !f.SupportsAsync() {
		return unix.ENOTTY
	}
	return setFlagFromInt(t, f, arg, unix.O_ASYNC)
}

// hasSize reports whether FIOQSIZE is generic for f (a regular file,
// directory or symlink); other files get it from their own ioctl.
func hasSize(f *vfs.File) bool {
	switch f.Location().Dentry.FileType() {
	case unix.S_IFREG, unix.S_IFDIR, unix.S_IFLNK:
		return true
	}
	return false
}

// ioctlQsize implements FIOQSIZE: the size as a loff_t.
func ioctlQsize(t *kernel.Task, f *vfs.File, arg uint64) error {
	st, err := f.Stat(ctx(t))
	if err != nil {
		return err
	}
	// Linux's inode_get_bytes: the bytes allocated, not the size.
	b := make([]byte, 8)
	le.PutUint64(b, st.Blocks*512)
	return copyOut(t, arg, b)
}

// ioctlFileNread implements FIONREAD of a regular file: the bytes from the
// file offset to the end, as an int (negative past the end, as in Linux).
func ioctlFileNread(t *kernel.Task, f *vfs.File, arg uint64) error {
	st, err := f.Stat(ctx(t))
	if err != nil {
		return err
	}
	b := make([]byte, 4)
	le.PutUint32(b, uint32(int64(st.Size)-f.Offset()))
	return copyOut(t, arg, b)
}

// ioctlBlockSize implements FIGETBSZ: the block size as an int.
func ioctlBlockSize(t *kernel.Task, f *vfs.File, arg uint64) error {
	st, err := f.Stat(ctx(t))
	if err != nil {
		return err
	}
	b := make([]byte, 4)
	le.PutUint32(b, st.Blksize)
	return copyOut(t, arg, b)
}
