package fs

import (
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// renameAt implements the rename family.
func renameAt(t *kernel.Task, olddirfd int32, oldAddr uint64, newdirfd int32, newAddr uint64, flags uint32) (uint64, error) {
	if flags&^(unix.RENAME_NOREPLACE|unix.RENAME_EXCHANGE|unix.RENAME_WHITEOUT) != 0 {
		return 0, unix.EINVAL
	}
	if flags&unix.RENAME_EXCHANGE != 0 && flags&(unix.RENAME_NOREPLACE|unix.RENAME_WHITEOUT) != 0 {
		return 0, unix.EINVAL
	}
	if flags&unix.RENAME_WHITEOUT != 0 {
		// Whiteouts are an overlay-internal notion the VFS does not offer.
		if !t.Creds().HasCap(unix.CAP_MKNOD) {
			return 0, unix.EPERM
		}
		return 0, unix.EINVAL
	}
	op, oldPath, err := atPath(t, olddirfd, oldAddr, 0)
	if err != nil {
		return 0, err
	}
	defer op.release(t)
	np, newPath, err := atPath(t, newdirfd, newAddr, 0)
	if err != nil {
		return 0, err
	}
	defer np.release(t)
	return 0, t.Kernel().VFS().Rename(ctx(t), op.root, op.start, oldPath, np.start, newPath, flags)
}

// Rename implements rename(2).
func Rename(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return renameAt(t, atFDCWD, a[0], atFDCWD, a[1], 0)
}

// Renameat implements renameat(2).
func Renameat(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return renameAt(t, argFD(a[0]), a[1], argFD(a[2]), a[3], 0)
}

// Renameat2 implements renameat2(2).
func Renameat2(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return renameAt(t, argFD(a[0]), a[1], argFD(a[2]), a[3], argFlags(a[4]))
}

// linkAt implements link and linkat. With AT_EMPTY_PATH the old path may
// be empty and name the file olddirfd refers to (any type); the VFS checks
// CAP_DAC_READ_SEARCH for that, like Linux.
func linkAt(t *kernel.Task, olddirfd int32, oldAddr uint64, newdirfd int32, newAddr uint64, flags uint32) (uint64, error) {
	if flags&^(unix.AT_SYMLINK_FOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	op, oldPath, err := atPath(t, olddirfd, oldAddr, flags)
	if err != nil {
		return 0, err
	}
	defer op.release(t)
	np, newPath, err := atPath(t, newdirfd, newAddr, 0)
	if err != nil {
		return 0, err
	}
	defer np.release(t)
	return 0, t.Kernel().VFS().Link(ctx(t), op.root, op.start, oldPath, np.start, newPath, int(flags))
}

// Link implements link(2) (which does not follow a symlink at oldpath).
func Link(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return linkAt(t, atFDCWD, a[0], atFDCWD, a[1], 0)
}

// Linkat implements linkat(2).
func Linkat(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return linkAt(t, argFD(a[0]), a[1], argFD(a[2]), a[3], argFlags(a[4]))
}

// unlinkAt implements unlink, unlinkat and rmdir through unlinkat.
func unlinkAt(t *kernel.Task, dirfd int32, addr uint64, flags uint32) (uint64, error) {
	if flags&^unix.AT_REMOVEDIR != 0 {
		return 0, unix.EINVAL
	}
	if flags&unix.AT_REMOVEDIR != 0 {
		return rmdirAt(t, dirfd, addr)
	}
	p, path, err := atPath(t, dirfd, addr, 0)
	if err != nil {
		return 0, err
	}
	defer p.release(t)
	return 0, t.Kernel().VFS().Unlink(ctx(t), p.root, p.start, path)
}

// Unlink implements unlink(2).
func Unlink(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return unlinkAt(t, atFDCWD, a[0], 0)
}

// Unlinkat implements unlinkat(2).
func Unlinkat(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return unlinkAt(t, argFD(a[0]), a[1], argFlags(a[2]))
}

// symlinkAt implements symlink and symlinkat.
func symlinkAt(t *kernel.Task, targetAddr uint64, dirfd int32, addr uint64) (uint64, error) {
	target, err := copyInPath(t, targetAddr)
	if err != nil {
		return 0, err
	}
	p, path, err := atPath(t, dirfd, addr, 0)
	if err != nil {
		return 0, err
	}
	defer p.release(t)
	return 0, t.Kernel().VFS().Symlink(ctx(t), p.root, target, p.start, path)
}

// Symlink implements symlink(2).
func Symlink(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return symlinkAt(t, a[0], atFDCWD, a[1])
}

// Symlinkat implements symlinkat(2).
func Symlinkat(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return symlinkAt(t, a[0], argFD(a[1]), a[2])
}

// readlinkAt implements readlink and readlinkat: the target truncated to
// bufsiz bytes, without a NUL. An empty path reads the symlink dirfd was
// opened on (O_PATH|O_NOFOLLOW), as Linux allows.
func readlinkAt(t *kernel.Task, dirfd int32, addr, buf uint64, size int32) (uint64, error) {
	if size <= 0 {
		return 0, unix.EINVAL
	}
	p, path, err := atPath(t, dirfd, addr, unix.AT_EMPTY_PATH)
	if err != nil {
		return 0, err
	}
	defer p.release(t)
	if path == "" && p.file == nil {
		return 0, unix.ENOENT
	}
	target, err := t.Kernel().VFS().Readlink(ctx(t), p.root, p.start, path)
	if err != nil {
		return 0, err
	}
	b := []byte(target)
	if len(b) > int(size) {
		b = b[:size]
	}
	return uint64(len(b)), copyOut(t, buf, b)
}

// Readlink implements readlink(2).
func Readlink(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return readlinkAt(t, atFDCWD, a[0], a[1], argInt(a[2]))
}

// Readlinkat implements readlinkat(2).
func Readlinkat(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return readlinkAt(t, argFD(a[0]), a[1], a[2], argInt(a[3]))
}
