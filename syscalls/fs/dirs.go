package fs

import (
	"strings"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/vfs"
)

// direntBufMax caps the sentry buffer of one getdents call; a bigger guest
// buffer just gets fewer entries than it could hold, which is allowed.
const direntBufMax = 1 << 20

// Getdents64 implements getdents64(2).
func Getdents64(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	f, err := getIOFile(t, argFD(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	buf := make([]byte, min(uint64(argUint(a[2])), direntBufMax))
	n, err := f.Getdents64(ctx(t), buf)
	if err != nil {
		return 0, err
	}
	return uint64(n), copyOut(t, a[1], buf[:n])
}

// oldDirentReclen is the record length of an old struct linux_dirent:
// d_ino, d_off (8 bytes each), d_reclen (2), the name and its NUL, and
// d_type in the last byte, aligned to 8.
func oldDirentReclen(name string) int { return (18 + len(name) + 2 + 7) &^ 7 }

// putOldDirent writes one struct linux_dirent into b (len reclen).
func putOldDirent(b []byte, d vfs.Dirent) {
	le.PutUint64(b[0:], d.Ino)
	le.PutUint64(b[8:], uint64(d.NextOff))
	le.PutUint16(b[16:], uint16(len(b)))
	copy(b[18:], d.Name)
	clear(b[18+len(d.Name) : len(b)-1])
	b[len(b)-1] = d.Type
}

// fillOldDirents encodes entries from iter into buf until one does not fit.
// It returns the bytes used, or EINVAL if not even the first entry fits.
func fillOldDirents(buf []byte, iter func(cb func(vfs.Dirent) bool) error) (int, error) {
	n, tooSmall := 0, false
	err := iter(func(d vfs.Dirent) bool {
		rl := oldDirentReclen(d.Name)
		if n+rl > len(buf) {
			tooSmall = n == 0
			return false
		}
		putOldDirent(buf[n:n+rl], d)
		n += rl
		return true
	})
	if n > 0 {
		return n, nil
	}
	if err != nil {
		return 0, err
	}
	if tooSmall {
		return 0, unix.EINVAL
	}
	return 0, nil
}

// Getdents implements the old getdents(2).
func Getdents(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	f, err := getIOFile(t, argFD(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	buf := make([]byte, min(uint64(argUint(a[2])), direntBufMax))
	n, err := fillOldDirents(buf, func(cb func(vfs.Dirent) bool) error {
		return f.IterDirents(ctx(t), cb)
	})
	if err != nil {
		return 0, err
	}
	return uint64(n), copyOut(t, a[1], buf[:n])
}

// Getcwd implements getcwd(2): the length including the NUL, ERANGE if it
// does not fit, ENOENT if the directory was removed.
func Getcwd(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	cwd := t.FS.Cwd()
	defer cwd.DecRef()
	root := t.FS.Root()
	defer root.DecRef()
	if cwd.Dentry.IsDead() {
		return 0, unix.ENOENT
	}
	path, err := t.Kernel().VFS().PathOf(root, cwd)
	if err != nil {
		return 0, err
	}
	path = strings.TrimSuffix(path, " (deleted)")
	b := append([]byte(path), 0)
	if uint64(len(b)) > a[1] {
		return 0, unix.ERANGE
	}
	return uint64(len(b)), copyOut(t, a[0], b)
}

// dirLocation resolves a path that must name a searchable directory, for
// chdir and chroot. The Location carries a reference.
func dirLocation(t *kernel.Task, addr uint64) (vfs.Location, error) {
	p, path, err := atPath(t, atFDCWD, addr, 0)
	if err != nil {
		return vfs.Location{}, err
	}
	defer p.release(t)
	v := t.Kernel().VFS()
	loc, err := v.GetLocation(ctx(t), p.root, p.start, path, 0)
	if err != nil {
		return vfs.Location{}, err
	}
	if err := checkSearchDir(t, loc); err != nil {
		loc.DecRef()
		return vfs.Location{}, err
	}
	return loc, nil
}

// checkSearchDir checks that loc is a directory the caller may enter.
func checkSearchDir(t *kernel.Task, loc vfs.Location) error {
	if !loc.Dentry.IsDir() {
		return unix.ENOTDIR
	}
	return t.Kernel().VFS().CheckPermission(ctx(t), loc, vfs.MayExec)
}

// Chdir implements chdir(2).
func Chdir(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	loc, err := dirLocation(t, a[0])
	if err != nil {
		return 0, err
	}
	defer loc.DecRef()
	t.FS.SetCwd(loc)
	return 0, nil
}

// Fchdir implements fchdir(2) (O_PATH directories included).
func Fchdir(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	f, err := getFile(t, argFD(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	if err := checkSearchDir(t, f.Location()); err != nil {
		return 0, err
	}
	t.FS.SetCwd(f.Location())
	return 0, nil
}

// Chroot implements chroot(2); it needs CAP_SYS_CHROOT.
func Chroot(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	loc, err := dirLocation(t, a[0])
	if err != nil {
		return 0, err
	}
	defer loc.DecRef()
	if !t.Creds().HasCap(unix.CAP_SYS_CHROOT) {
		return 0, unix.EPERM
	}
	t.FS.SetRoot(loc)
	return 0, nil
}

// mkdirAt implements mkdir and mkdirat. Linux keeps the sticky bit and
// drops set-user/group-ID from the mode (the VFS adds S_ISGID from a
// set-group-ID parent), after the umask.
func mkdirAt(t *kernel.Task, dirfd int32, addr uint64, mode uint32) (uint64, error) {
	p, path, err := atPath(t, dirfd, addr, 0)
	if err != nil {
		return 0, err
	}
	defer p.release(t)
	mode = mode & 0o1777 &^ t.FS.Umask()
	return 0, t.Kernel().VFS().Mkdir(ctx(t), p.root, p.start, path, mode)
}

// Mkdir implements mkdir(2).
func Mkdir(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return mkdirAt(t, atFDCWD, a[0], argUint(a[1]))
}

// Mkdirat implements mkdirat(2).
func Mkdirat(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return mkdirAt(t, argFD(a[0]), a[1], argUint(a[2]))
}

// decodeDev unpacks the 32-bit dev_t of mknod (new_decode_dev).
func decodeDev(dev uint32) (major, minor uint32) {
	return (dev & 0xfff00) >> 8, (dev & 0xff) | ((dev >> 12) & 0xfff00)
}

// mknodAt implements mknod and mknodat: the umask applies to the
// permission bits; the VFS checks the type and CAP_MKNOD.
func mknodAt(t *kernel.Task, dirfd int32, addr uint64, mode, dev uint32) (uint64, error) {
	p, path, err := atPath(t, dirfd, addr, 0)
	if err != nil {
		return 0, err
	}
	defer p.release(t)
	mode = mode&unix.S_IFMT | mode&0o7777&^t.FS.Umask()
	major, minor := decodeDev(dev)
	return 0, t.Kernel().VFS().Mknod(ctx(t), p.root, p.start, path, mode, unix.Mkdev(major, minor))
}

// Mknod implements mknod(2).
func Mknod(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return mknodAt(t, atFDCWD, a[0], argUint(a[1]), argUint(a[2]))
}

// Mknodat implements mknodat(2).
func Mknodat(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return mknodAt(t, argFD(a[0]), a[1], argUint(a[2]), argUint(a[3]))
}

// rmdirAt removes a directory.
func rmdirAt(t *kernel.Task, dirfd int32, addr uint64) (uint64, error) {
	p, path, err := atPath(t, dirfd, addr, 0)
	if err != nil {
		return 0, err
	}
	defer p.release(t)
	return 0, t.Kernel().VFS().Rmdir(ctx(t), p.root, p.start, path)
}

// Rmdir implements rmdir(2).
func Rmdir(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return rmdirAt(t, atFDCWD, a[0])
}
