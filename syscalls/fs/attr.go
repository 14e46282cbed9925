package fs

import (
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/vfs"
)

// setStatAt applies opts to (dirfd, path); flags are AT_SYMLINK_NOFOLLOW
// and AT_EMPTY_PATH.
func setStatAt(t *kernel.Task, dirfd int32, addr uint64, flags uint32, opts *vfs.SetStatOptions) error {
	p, path, err := atPath(t, dirfd, addr, flags)
	if err != nil {
		return err
	}
	defer p.release(t)
	return t.Kernel().VFS().SetStat(ctx(t), p.root, p.start, path, int(flags), opts)
}

// setStatFD applies opts to an open file (O_PATH refused with EBADF).
func setStatFD(t *kernel.Task, fd int32, opts *vfs.SetStatOptions) error {
	f, err := getIOFile(t, fd)
	if err != nil {
		return err
	}
	defer f.DecRef(ctx(t))
	return f.SetStat(ctx(t), opts)
}

func modeOpts(mode uint32) *vfs.SetStatOptions {
	return &vfs.SetStatOptions{Mask: unix.STATX_MODE, Mode: mode & 0o7777}
}

// Chmod implements chmod(2).
func Chmod(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return 0, setStatAt(t, atFDCWD, a[0], 0, modeOpts(argUint(a[1])))
}

// Fchmod implements fchmod(2). A memfd sealed with F_SEAL_EXEC keeps its
// exec bits.
func Fchmod(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	f, err := getIOFile(t, argFD(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	mode := argUint(a[1])
	if sealsOf(f)&unix.F_SEAL_EXEC != 0 {
		st, err := f.Stat(ctx(t))
		if err != nil {
			return 0, err
		}
		if (uint32(st.Mode)^mode)&0o111 != 0 {
			return 0, unix.EPERM
		}
	}
	return 0, f.SetStat(ctx(t), modeOpts(mode))
}

// Fchmodat implements fchmodat(2), which has no flags argument.
func Fchmodat(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return 0, setStatAt(t, argFD(a[0]), a[1], 0, modeOpts(argUint(a[2])))
}

// Fchmodat2 implements fchmodat2(2): AT_SYMLINK_NOFOLLOW (a symlink's
// mode cannot change: EOPNOTSUPP from the VFS) and AT_EMPTY_PATH.
func Fchmodat2(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	flags := argFlags(a[3])
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	return 0, setStatAt(t, argFD(a[0]), a[1], flags, modeOpts(argUint(a[2])))
}

// chownOpts builds the options of a chown: -1 leaves an ID unchanged.
func chownOpts(uid, gid uint32) *vfs.SetStatOptions {
	o := &vfs.SetStatOptions{}
	if uid != ^uint32(0) {
		o.Mask |= unix.STATX_UID
		o.UID = uid
	}
	if gid != ^uint32(0) {
		o.Mask |= unix.STATX_GID
		o.GID = gid
	}
	return o
}

// chownAt implements the path forms of chown.
func chownAt(t *kernel.Task, dirfd int32, addr uint64, uid, gid, flags uint32) (uint64, error) {
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	return 0, setStatAt(t, dirfd, addr, flags, chownOpts(uid, gid))
}

// Chown implements chown(2).
func Chown(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return chownAt(t, atFDCWD, a[0], argUint(a[1]), argUint(a[2]), 0)
}

// Lchown implements lchown(2).
func Lchown(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return chownAt(t, atFDCWD, a[0], argUint(a[1]), argUint(a[2]), unix.AT_SYMLINK_NOFOLLOW)
}

// Fchownat implements fchownat(2).
func Fchownat(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return chownAt(t, argFD(a[0]), a[1], argUint(a[2]), argUint(a[3]), argFlags(a[4]))
}

// Fchown implements fchown(2).
func Fchown(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return 0, setStatFD(t, argFD(a[0]), chownOpts(argUint(a[1]), argUint(a[2])))
}

// Umask implements umask(2).
func Umask(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return uint64(t.FS.SwapUmask(argUint(a[0]) & 0o777)), nil
}

// truncOpts sets the size and, as Linux's do_truncate does, the
// modification time.
func truncOpts(size int64) *vfs.SetStatOptions {
	return &vfs.SetStatOptions{Mask: unix.STATX_SIZE | unix.STATX_MTIME, Size: uint64(size),
		Mtime: vfs.Timestamp{Nsec: unix.UTIME_NOW}}
}

// checkFSize applies RLIMIT_FSIZE to a file growing to end.
func checkFSize(t *kernel.Task, end int64) error {
	if lim := rlimitFSize(t); lim >= 0 && end > lim {
		return errFBig(t)
	}
	return nil
}

// Truncate implements truncate(2).
func Truncate(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	size := argOff(a[1])
	if size < 0 {
		return 0, unix.EINVAL
	}
	if err := checkFSize(t, size); err != nil {
		return 0, err
	}
	return 0, setStatAt(t, atFDCWD, a[0], 0, truncOpts(size))
}

// Ftruncate implements ftruncate(2): the file must be a regular file open
// for writing (EINVAL otherwise).
func Ftruncate(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	size := argOff(a[1])
	if size < 0 {
		return 0, unix.EINVAL
	}
	f, err := getIOFile(t, argFD(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	if !f.Writable() || !isRegular(f) {
		return 0, unix.EINVAL
	}
	if err := checkFSize(t, size); err != nil {
		return 0, err
	}
	if err := checkSealsResize(t, f, size); err != nil {
		return 0, err
	}
	return 0, f.SetStat(ctx(t), truncOpts(size))
}

// fallocate modes.
const (
	fallocKeepSize  = 0x01
	fallocPunchHole = 0x02
	fallocZeroRange = 0x10
)

// Fallocate implements fallocate(2); the file implements the modes.
func Fallocate(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	mode, off, length := argUint(a[1]), argOff(a[2]), argOff(a[3])
	if off < 0 || length <= 0 {
		return 0, unix.EINVAL
	}
	if off+length < 0 {
		return 0, unix.EFBIG
	}
	f, err := getIOFile(t, argFD(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	if mode&fallocKeepSize == 0 {
		if err := checkFSize(t, off+length); err != nil {
			return 0, err
		}
		if sealsOf(f)&unix.F_SEAL_GROW != 0 {
			st, err := f.Stat(ctx(t))
			if err != nil {
				return 0, err
			}
			if off+length > int64(st.Size) {
				return 0, unix.EPERM
			}
		}
	}
	if mode&(fallocPunchHole|fallocZeroRange) != 0 && sealsOf(f)&(unix.F_SEAL_WRITE|unix.F_SEAL_FUTURE_WRITE) != 0 {
		return 0, unix.EPERM
	}
	if err := f.Allocate(ctx(t), mode, off, length); err != nil {
		return 0, err
	}
	// Linux's file_modified after a successful fallocate.
	return 0, f.RemovePrivs(ctx(t))
}

// fsyncFD syncs an open file.
func fsyncFD(t *kernel.Task, fd int32) (uint64, error) {
	f, err := getIOFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	return 0, f.Sync(ctx(t))
}

// Fsync implements fsync(2).
func Fsync(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return fsyncFD(t, argFD(a[0]))
}

// Fdatasync implements fdatasync(2).
func Fdatasync(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return fsyncFD(t, argFD(a[0]))
}

// Sync implements sync(2). Nothing written in the sandbox is bound for the
// host's disks (the root is an in-memory overlay), so there is nothing to
// flush.
func Sync(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) { return 0, nil }

// Syncfs implements syncfs(2): it only validates the descriptor, for the
// reason Sync gives.
func Syncfs(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	f, err := getIOFile(t, argFD(a[0]))
	if err != nil {
		return 0, err
	}
	f.DecRef(ctx(t))
	return 0, nil
}

// sync_file_range flags.
const syncFileRangeAll = 0x7

// SyncFileRange implements sync_file_range(2).
func SyncFileRange(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	off, n, flags := argOff(a[1]), argOff(a[2]), argUint(a[3])
	// Linux looks the descriptor up before it checks the arguments.
	f, err := getIOFile(t, argFD(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	if flags&^syncFileRangeAll != 0 || off < 0 || n < 0 || off+n < 0 {
		return 0, unix.EINVAL
	}
	switch f.Location().Dentry.FileType() {
	case unix.S_IFREG, unix.S_IFDIR, unix.S_IFBLK, unix.S_IFLNK:
	default:
		return 0, unix.ESPIPE
	}
	if flags&0x4 != 0 { // SYNC_FILE_RANGE_WAIT_AFTER
		return 0, f.Sync(ctx(t))
	}
	return 0, nil
}

// nsecValid is Linux's nsec_valid for utimensat.
func nsecValid(ns int64) bool {
	return (ns >= 0 && ns < 1e9) || ns == unix.UTIME_NOW || ns == unix.UTIME_OMIT
}

// parseTimespecPair decodes the struct timespec[2] of utimensat.
func parseTimespecPair(b []byte) ([2]vfs.Timestamp, error) {
	var ts [2]vfs.Timestamp
	for i := range ts {
		sec, nsec := int64(le.Uint64(b[16*i:])), int64(le.Uint64(b[16*i+8:]))
		if !nsecValid(nsec) {
			return ts, unix.EINVAL
		}
		ts[i] = vfs.Timestamp{Sec: sec, Nsec: uint32(nsec)}
	}
	return ts, nil
}

// parseTimevalPair decodes the struct timeval[2] of utimes/futimesat.
func parseTimevalPair(b []byte) ([2]vfs.Timestamp, error) {
	var ts [2]vfs.Timestamp
	for i := range ts {
		sec, usec := int64(le.Uint64(b[16*i:])), int64(le.Uint64(b[16*i+8:]))
		if usec < 0 || usec >= 1e6 {
			return ts, unix.EINVAL
		}
		ts[i] = vfs.Timestamp{Sec: sec, Nsec: uint32(usec * 1000)}
	}
	return ts, nil
}

var nowTimes = [2]vfs.Timestamp{{Nsec: unix.UTIME_NOW}, {Nsec: unix.UTIME_NOW}}

func timesOpts(ts [2]vfs.Timestamp) *vfs.SetStatOptions {
	return &vfs.SetStatOptions{Mask: unix.STATX_ATIME | unix.STATX_MTIME, Atime: ts[0], Mtime: ts[1]}
}

// Utimensat implements utimensat(2). A NULL path changes dirfd itself.
func Utimensat(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	dirfd, pathAddr, timesAddr, flags := argFD(a[0]), a[1], a[2], argFlags(a[3])
	ts := nowTimes
	if timesAddr != 0 {
		b := make([]byte, 32)
		if err := copyIn(t, timesAddr, b); err != nil {
			return 0, err
		}
		var err error
		if ts, err = parseTimespecPair(b); err != nil {
			return 0, err
		}
		// Nothing to do: Linux does not even look at the path.
		if ts[0].Nsec == unix.UTIME_OMIT && ts[1].Nsec == unix.UTIME_OMIT {
			return 0, nil
		}
	}
	if pathAddr == 0 && dirfd != atFDCWD {
		if flags != 0 {
			return 0, unix.EINVAL
		}
		return 0, setStatFD(t, dirfd, timesOpts(ts))
	}
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	return 0, setStatAt(t, dirfd, pathAddr, flags, timesOpts(ts))
}

// utimesAt implements utimes and futimesat (struct timeval[2], NULL: now).
func utimesAt(t *kernel.Task, dirfd int32, pathAddr, timesAddr uint64) (uint64, error) {
	ts := nowTimes
	if timesAddr != 0 {
		b := make([]byte, 32)
		if err := copyIn(t, timesAddr, b); err != nil {
			return 0, err
		}
		var err error
		if ts, err = parseTimevalPair(b); err != nil {
			return 0, err
		}
	}
	if pathAddr == 0 && dirfd != atFDCWD {
		return 0, setStatFD(t, dirfd, timesOpts(ts))
	}
	return 0, setStatAt(t, dirfd, pathAddr, 0, timesOpts(ts))
}

// Utimes implements utimes(2).
func Utimes(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return utimesAt(t, atFDCWD, a[0], a[1])
}

// Futimesat implements futimesat(2).
func Futimesat(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return utimesAt(t, argFD(a[0]), a[1], a[2])
}

// Utime implements utime(2): struct utimbuf {actime, modtime}, NULL: now.
func Utime(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	ts := nowTimes
	if a[1] != 0 {
		b := make([]byte, 16)
		if err := copyIn(t, a[1], b); err != nil {
			return 0, err
		}
		ts = [2]vfs.Timestamp{{Sec: int64(le.Uint64(b[0:]))}, {Sec: int64(le.Uint64(b[8:]))}}
	}
	return 0, setStatAt(t, atFDCWD, a[0], 0, timesOpts(ts))
}
