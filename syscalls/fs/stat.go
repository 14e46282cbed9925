package fs

import (
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/vfs"
)

// statSize is sizeof(struct stat) on x86-64.
const statSize = 144

// encodeDev packs a device number the way struct stat carries it on
// x86-64 (new_encode_dev, which glibc's makedev matches).
func encodeDev(major, minor uint32) uint64 { return unix.Mkdev(major, minor) }

// encodeStat lays out struct stat (x86-64) from a statx result.
func encodeStat(st *vfs.Statx) []byte {
	b := make([]byte, statSize)
	le.PutUint64(b[0:], encodeDev(st.Dev_major, st.Dev_minor))
	le.PutUint64(b[8:], st.Ino)
	le.PutUint64(b[16:], uint64(st.Nlink))
	le.PutUint32(b[24:], uint32(st.Mode))
	le.PutUint32(b[28:], st.Uid)
	le.PutUint32(b[32:], st.Gid)
	le.PutUint64(b[40:], encodeDev(st.Rdev_major, st.Rdev_minor))
	le.PutUint64(b[48:], st.Size)
	le.PutUint64(b[56:], uint64(st.Blksize))
	le.PutUint64(b[64:], st.Blocks)
	putTimespec(b[72:], st.Atime)
	putTimespec(b[88:], st.Mtime)
	putTimespec(b[104:], st.Ctime)
	return b
}

func putTimespec(b []byte, ts vfs.Timestamp) {
	le.PutUint64(b[0:], uint64(ts.Sec))
	le.PutUint64(b[8:], uint64(ts.Nsec))
}

// statxSize is sizeof(struct statx).
const statxSize = 256

// encodeStatx lays out struct statx.
func encodeStatx(st *vfs.Statx) []byte {
	b := make([]byte, statxSize)
	le.PutUint32(b[0:], st.Mask)
	le.PutUint32(b[4:], st.Blksize)
	le.PutUint64(b[8:], st.Attributes)
	le.PutUint32(b[16:], st.Nlink)
	le.PutUint32(b[20:], st.Uid)
	le.PutUint32(b[24:], st.Gid)
	le.PutUint16(b[28:], st.Mode)
	le.PutUint64(b[32:], st.Ino)
	le.PutUint64(b[40:], st.Size)
	le.PutUint64(b[48:], st.Blocks)
	le.PutUint64(b[56:], st.Attributes_mask)
	putStatxTime(b[64:], st.Atime)
	putStatxTime(b[80:], st.Btime)
	putStatxTime(b[96:], st.Ctime)
	putStatxTime(b[112:], st.Mtime)
	le.PutUint32(b[128:], st.Rdev_major)
	le.PutUint32(b[132:], st.Rdev_minor)
	le.PutUint32(b[136:], st.Dev_major)
	le.PutUint32(b[140:], st.Dev_minor)
	le.PutUint64(b[144:], st.Mnt_id)
	le.PutUint32(b[152:], st.Dio_mem_align)
	le.PutUint32(b[156:], st.Dio_offset_align)
	le.PutUint64(b[160:], st.Subvol)
	le.PutUint32(b[168:], st.Atomic_write_unit_min)
	le.PutUint32(b[172:], st.Atomic_write_unit_max)
	le.PutUint32(b[176:], st.Atomic_write_segments_max)
	le.PutUint32(b[180:], st.Dio_read_offset_align)
	le.PutUint32(b[184:], st.Atomic_write_unit_max_opt)
	return b
}

func putStatxTime(b []byte, ts vfs.Timestamp) {
	le.PutUint64(b[0:], uint64(ts.Sec))
	le.PutUint32(b[8:], ts.Nsec)
}

// statPath stats (dirfd, path) with AT_* flags.
func statPath(t *kernel.Task, dirfd int32, path string, flags uint32) (vfs.Statx, error) {
	p, err := resolveStart(t, dirfd, path, flags&unix.AT_EMPTY_PATH != 0)
	if err != nil {
		return vfs.Statx{}, err
	}
	defer p.release(t)
	return t.Kernel().VFS().Stat(ctx(t), p.root, p.start, path, int(flags&(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH)))
}

// statAt copies in the path (NULL with AT_EMPTY_PATH is "", as since Linux
// 6.11) and stats it.
func statAt(t *kernel.Task, dirfd int32, addr uint64, flags uint32) (vfs.Statx, error) {
	path := ""
	if addr != 0 || flags&unix.AT_EMPTY_PATH == 0 {
		var err error
		if path, err = copyInPath(t, addr); err != nil {
			return vfs.Statx{}, err
		}
	}
	return statPath(t, dirfd, path, flags)
}

func writeStat(t *kernel.Task, addr uint64, st vfs.Statx, err error) (uint64, error) {
	if err != nil {
		return 0, err
	}
	return 0, copyOut(t, addr, encodeStat(&st))
}

// Stat implements stat(2).
func Stat(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	st, err := statAt(t, atFDCWD, a[0], 0)
	return writeStat(t, a[1], st, err)
}

// Lstat implements lstat(2).
func Lstat(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	st, err := statAt(t, atFDCWD, a[0], unix.AT_SYMLINK_NOFOLLOW)
	return writeStat(t, a[1], st, err)
}

// Fstat implements fstat(2) (O_PATH descriptors included).
func Fstat(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	f, err := getFile(t, argFD(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	st, err := f.Stat(ctx(t))
	return writeStat(t, a[1], st, err)
}

// Newfstatat implements newfstatat(2) (fstatat).
func Newfstatat(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	flags := argFlags(a[3])
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH|unix.AT_NO_AUTOMOUNT) != 0 {
		return 0, unix.EINVAL
	}
	st, err := statAt(t, argFD(a[0]), a[1], flags)
	return writeStat(t, a[2], st, err)
}

// statx sync flags.
const (
	atStatxForceSync = 0x2000
	atStatxDontSync  = 0x4000
	statxReserved    = 0x80000000
)

// checkStatxArgs validates statx's flags and mask.
func checkStatxArgs(flags, mask uint32) error {
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH|unix.AT_NO_AUTOMOUNT|atStatxForceSync|atStatxDontSync) != 0 {
		return unix.EINVAL
	}
	if flags&(atStatxForceSync|atStatxDontSync) == atStatxForceSync|atStatxDontSync {
		return unix.EINVAL
	}
	if mask&statxReserved != 0 {
		return unix.EINVAL
	}
	return nil
}

// Statx implements statx(2). Like Linux, it may return more fields than
// asked for; stx_mask says which are valid.
func Statx(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	flags, mask := argFlags(a[2]), argUint(a[3])
	if err := checkStatxArgs(flags, mask); err != nil {
		return 0, err
	}
	st, err := statAt(t, argFD(a[0]), a[1], flags)
	if err != nil {
		return 0, err
	}
	adjustStatxMask(&st, mask)
	return 0, copyOut(t, a[4], encodeStatx(&st))
}

// statxMntIDUnique is STATX_MNT_ID_UNIQUE: the 64-bit mount ID that is
// never reused (ours are never reused, so it is the same number).
const statxMntIDUnique = 0x4000

// adjustStatxMask reports what Linux reports for the request mask: the
// birth time only when asked for (file systems fill it only then), and the
// unique mount ID instead of the old one when asked for.
func adjustStatxMask(st *vfs.Statx, mask uint32) {
	if mask&unix.STATX_BTIME == 0 {
		st.Mask &^= unix.STATX_BTIME
		st.Btime = unix.StatxTimestamp{}
	}
	if mask&statxMntIDUnique != 0 && st.Mask&unix.STATX_MNT_ID != 0 {
		st.Mask = st.Mask&^unix.STATX_MNT_ID | statxMntIDUnique
	}
}

// statfsSize is sizeof(struct statfs) on x86-64.
const statfsSize = 120

// ST_* flags of f_flags.
const (
	stRdonly = 0x1
	stNosuid = 0x2
	stNodev  = 0x4
	stNoexec = 0x8
	stValid  = 0x20
)

// encodeStatfs lays out struct statfs, with f_flags from the mount as
// Linux computes them.
func encodeStatfs(s *vfs.Statfs, mountFlags uint32) []byte {
	b := make([]byte, statfsSize)
	le.PutUint64(b[0:], uint64(s.Type))
	le.PutUint64(b[8:], uint64(s.Bsize))
	le.PutUint64(b[16:], s.Blocks)
	le.PutUint64(b[24:], s.Bfree)
	le.PutUint64(b[32:], s.Bavail)
	le.PutUint64(b[40:], s.Files)
	le.PutUint64(b[48:], s.Ffree)
	le.PutUint32(b[56:], uint32(s.Fsid.Val[0]))
	le.PutUint32(b[60:], uint32(s.Fsid.Val[1]))
	le.PutUint64(b[64:], uint64(s.Namelen))
	frsize := s.Frsize
	if frsize == 0 {
		frsize = s.Bsize
	}
	le.PutUint64(b[72:], uint64(frsize))
	flags := uint64(stValid)
	if mountFlags&vfs.MountReadOnly != 0 {
		flags |= stRdonly
	}
	if mountFlags&vfs.MountNoSuid != 0 {
		flags |= stNosuid
	}
	if mountFlags&vfs.MountNoDev != 0 {
		flags |= stNodev
	}
	if mountFlags&vfs.MountNoExec != 0 {
		flags |= stNoexec
	}
	le.PutUint64(b[80:], flags)
	return b
}

// Statfs implements statfs(2).
func Statfs(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	path, err := copyInPath(t, a[0])
	if err != nil {
		return 0, err
	}
	p, err := resolveStart(t, atFDCWD, path, false)
	if err != nil {
		return 0, err
	}
	defer p.release(t)
	v := t.Kernel().VFS()
	loc, err := v.GetLocation(ctx(t), p.root, p.start, path, 0)
	if err != nil {
		return 0, err
	}
	defer loc.DecRef()
	s, err := loc.Mount.Filesystem().Impl().StatFS(ctx(t))
	if err != nil {
		return 0, err
	}
	return 0, copyOut(t, a[1], encodeStatfs(&s, loc.Mount.Flags()))
}

// Fstatfs implements fstatfs(2).
func Fstatfs(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	f, err := getFile(t, argFD(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	s, err := f.StatFS(ctx(t))
	if err != nil {
		return 0, err
	}
	return 0, copyOut(t, a[1], encodeStatfs(&s, f.Location().Mount.Flags()))
}

// accessAt implements the access family.
func accessAt(t *kernel.Task, dirfd int32, addr uint64, mode, flags uint32) (uint64, error) {
	if mode&^7 != 0 {
		return 0, unix.EINVAL
	}
	if flags&^(unix.AT_EACCESS|unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	p, path, err := atPath(t, dirfd, addr, flags)
	if err != nil {
		return 0, err
	}
	defer p.release(t)
	return 0, t.Kernel().VFS().Access(ctx(t), p.root, p.start, path, mode, int(flags))
}

// Access implements access(2).
func Access(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return accessAt(t, atFDCWD, a[0], argUint(a[1]), 0)
}

// Faccessat implements faccessat(2) (no flags argument).
func Faccessat(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return accessAt(t, argFD(a[0]), a[1], argUint(a[2]), 0)
}

// Faccessat2 implements faccessat2(2).
func Faccessat2(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return accessAt(t, argFD(a[0]), a[1], argUint(a[2]), argFlags(a[3]))
}
