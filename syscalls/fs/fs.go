// Package fs implements the file-system system calls of the sentry: I/O
// (read, write and their vector and positional forms), opening and closing
// files, descriptor manipulation (dup, fcntl, close_range), advisory locks
// (fcntl record locks, OFD locks, flock), metadata (stat, statx, chmod,
// chown, utimensat, truncate, xattrs), the namespace (mkdir, unlink, rename,
// link, symlink, readlink), the working directory and root, pipes, ioctls,
// memfd_create and the in-kernel copies (sendfile, splice,
// copy_file_range).
//
// Handlers translate guest registers into calls on the VFS (package vfs);
// every check that depends only on the arguments (flag validation, path
// length, iovec counts) is done here with Linux's errno values, and
// everything about files (permissions, types, existence) is left to the VFS
// so there is one source of truth. A handler never trusts a guest value:
// pointers go through Task.CopyIn/CopyOut (EFAULT), sizes are capped before
// any allocation, and integer arguments are truncated to the width the
// Linux prototype declares.
package fs

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/vfs"
)

// Syscalls returns the handlers of this package by syscall number.
func Syscalls() map[uintptr]kernel.Syscall {
	t := map[uintptr]kernel.Syscall{}
	add := func(nr uintptr, name string, fn kernel.SyscallFn) {
		t[nr] = kernel.Syscall{Name: name, Fn: fn}
	}
	// rw.go
	add(unix.SYS_READ, "read", Read)
	add(unix.SYS_WRITE, "write", Write)
	add(unix.SYS_READV, "readv", Readv)
	add(unix.SYS_WRITEV, "writev", Writev)
	add(unix.SYS_PREAD64, "pread64", Pread64)
	add(unix.SYS_PWRITE64, "pwrite64", Pwrite64)
	add(unix.SYS_PREADV, "preadv", Preadv)
	add(unix.SYS_PWRITEV, "pwritev", Pwritev)
	add(unix.SYS_PREADV2, "preadv2", Preadv2)
	add(unix.SYS_PWRITEV2, "pwritev2", Pwritev2)
	add(unix.SYS_LSEEK, "lseek", Lseek)
	// open.go
	add(unix.SYS_OPEN, "open", Open)
	add(unix.SYS_OPENAT, "openat", Openat)
	add(unix.SYS_OPENAT2, "openat2", Openat2)
	add(unix.SYS_CREAT, "creat", Creat)
	// fd.go
	add(unix.SYS_CLOSE, "close", Close)
	add(unix.SYS_CLOSE_RANGE, "close_range", CloseRange)
	add(unix.SYS_DUP, "dup", Dup)
	add(unix.SYS_DUP2, "dup2", Dup2)
	add(unix.SYS_DUP3, "dup3", Dup3)
	// fcntl.go, locks.go
	add(unix.SYS_FCNTL, "fcntl", Fcntl)
	add(unix.SYS_FLOCK, "flock", Flock)
	// stat.go
	add(unix.SYS_STAT, "stat", Stat)
	add(unix.SYS_LSTAT, "lstat", Lstat)
	add(unix.SYS_FSTAT, "fstat", Fstat)
	add(unix.SYS_NEWFSTATAT, "newfstatat", Newfstatat)
	add(unix.SYS_STATX, "statx", Statx)
	add(unix.SYS_STATFS, "statfs", Statfs)
	add(unix.SYS_FSTATFS, "fstatfs", Fstatfs)
	add(unix.SYS_ACCESS, "access", Access)
	add(unix.SYS_FACCESSAT, "faccessat", Faccessat)
	add(unix.SYS_FACCESSAT2, "faccessat2", Faccessat2)
	// dirs.go
	add(unix.SYS_GETDENTS, "getdents", Getdents)
	add(unix.SYS_GETDENTS64, "getdents64", Getdents64)
	add(unix.SYS_GETCWD, "getcwd", Getcwd)
	add(unix.SYS_CHDIR, "chdir", Chdir)
	add(unix.SYS_FCHDIR, "fchdir", Fchdir)
	add(unix.SYS_CHROOT, "chroot", Chroot)
	add(unix.SYS_MKDIR, "mkdir", Mkdir)
	add(unix.SYS_MKDIRAT, "mkdirat", Mkdirat)
	add(unix.SYS_MKNOD, "mknod", Mknod)
	add(unix.SYS_MKNODAT, "mknodat", Mknodat)
	add(unix.SYS_RMDIR, "rmdir", Rmdir)
	// links.go
	add(unix.SYS_RENAME, "rename", Rename)
	add(unix.SYS_RENAMEAT, "renameat", Renameat)
	add(unix.SYS_RENAMEAT2, "renameat2", Renameat2)
	add(unix.SYS_LINK, "link", Link)
	add(unix.SYS_LINKAT, "linkat", Linkat)
	add(unix.SYS_UNLINK, "unlink", Unlink)
	add(unix.SYS_UNLINKAT, "unlinkat", Unlinkat)
	add(unix.SYS_SYMLINK, "symlink", Symlink)
	add(unix.SYS_SYMLINKAT, "symlinkat", Symlinkat)
	add(unix.SYS_READLINK, "readlink", Readlink)
	add(unix.SYS_READLINKAT, "readlinkat", Readlinkat)
	// attr.go
	add(unix.SYS_CHMOD, "chmod", Chmod)
	add(unix.SYS_FCHMOD, "fchmod", Fchmod)
	add(unix.SYS_FCHMODAT, "fchmodat", Fchmodat)
	add(unix.SYS_FCHMODAT2, "fchmodat2", Fchmodat2)
	add(unix.SYS_CHOWN, "chown", Chown)
	add(unix.SYS_FCHOWN, "fchown", Fchown)
	add(unix.SYS_LCHOWN, "lchown", Lchown)
	add(unix.SYS_FCHOWNAT, "fchownat", Fchownat)
	add(unix.SYS_UMASK, "umask", Umask)
	add(unix.SYS_TRUNCATE, "truncate", Truncate)
	add(unix.SYS_FTRUNCATE, "ftruncate", Ftruncate)
	add(unix.SYS_FALLOCATE, "fallocate", Fallocate)
	add(unix.SYS_FSYNC, "fsync", Fsync)
	add(unix.SYS_FDATASYNC, "fdatasync", Fdatasync)
	add(unix.SYS_SYNC, "sync", Sync)
	add(unix.SYS_SYNCFS, "syncfs", Syncfs)
	add(unix.SYS_SYNC_FILE_RANGE, "sync_file_range", SyncFileRange)
	add(unix.SYS_UTIME, "utime", Utime)
	add(unix.SYS_UTIMES, "utimes", Utimes)
	add(unix.SYS_FUTIMESAT, "futimesat", Futimesat)
	add(unix.SYS_UTIMENSAT, "utimensat", Utimensat)
	// xattr.go
	add(unix.SYS_GETXATTR, "getxattr", Getxattr)
	add(unix.SYS_LGETXATTR, "lgetxattr", Lgetxattr)
	add(unix.SYS_FGETXATTR, "fgetxattr", Fgetxattr)
	add(unix.SYS_SETXATTR, "setxattr", Setxattr)
	add(unix.SYS_LSETXATTR, "lsetxattr", Lsetxattr)
	add(unix.SYS_FSETXATTR, "fsetxattr", Fsetxattr)
	add(unix.SYS_LISTXATTR, "listxattr", Listxattr)
	add(unix.SYS_LLISTXATTR, "llistxattr", Llistxattr)
	add(unix.SYS_FLISTXATTR, "flistxattr", Flistxattr)
	add(unix.SYS_REMOVEXATTR, "removexattr", Removexattr)
	add(unix.SYS_LREMOVEXATTR, "lremovexattr", Lremovexattr)
	add(unix.SYS_FREMOVEXATTR, "fremovexattr", Fremovexattr)
	// pipe.go, ioctl.go
	add(unix.SYS_PIPE, "pipe", Pipe)
	add(unix.SYS_PIPE2, "pipe2", Pipe2)
	add(unix.SYS_IOCTL, "ioctl", Ioctl)
	// splice.go
	add(unix.SYS_SENDFILE, "sendfile", Sendfile)
	add(unix.SYS_COPY_FILE_RANGE, "copy_file_range", CopyFileRange)
	add(unix.SYS_SPLICE, "splice", Splice)
	add(unix.SYS_TEE, "tee", Tee)
	add(unix.SYS_READAHEAD, "readahead", Readahead)
	add(unix.SYS_FADVISE64, "fadvise64", Fadvise64)
	// memfd.go
	add(unix.SYS_MEMFD_CREATE, "memfd_create", MemfdCreate)

	add(unix.SYS_INOTIFY_INIT, "inotify_init", InotifyInit)
	add(unix.SYS_INOTIFY_INIT1, "inotify_init1", InotifyInit1)
	add(unix.SYS_INOTIFY_ADD_WATCH, "inotify_add_watch", InotifyAddWatch)
	add(unix.SYS_INOTIFY_RM_WATCH, "inotify_rm_watch", InotifyRmWatch)

	// What the handlers leave out, for the syscall table.
	partial := func(nr uintptr, missing string) {
		s := t[nr]
		s.Partial = missing
		t[nr] = s
	}
	partial(unix.SYS_PREADV2, "RWF_NOAPPEND, RWF_ATOMIC and RWF_DONTCACHE: EOPNOTSUPP")
	partial(unix.SYS_PWRITEV2, "RWF_NOAPPEND, RWF_ATOMIC and RWF_DONTCACHE: EOPNOTSUPP")
	partial(unix.SYS_IOCTL, "FIOCLEX, FIONCLEX, FIONBIO, FIOASYNC, FIOQSIZE, FIGETBSZ and the requests the file itself defines (terminals, sockets, pipes); anything else ENOTTY")
	return t
}

// Limits shared by the handlers.
const (
	// pathMax is PATH_MAX: a path argument with no NUL in its first
	// pathMax bytes is ENAMETOOLONG.
	pathMax = vfs.PathMax
	// maxRWCount is MAX_RW_COUNT: Linux silently caps one read or write
	// at INT_MAX rounded down to a page.
	maxRWCount = 0x7ffff000
	// chunkSize bounds the sentry-side buffer of one I/O step, so a huge
	// read or write never allocates more than this.
	chunkSize = 1 << 20
	// atFDCWD is AT_FDCWD as the int the guest passes.
	atFDCWD = -100
)

// Argument decoding. Linux truncates each register to the declared C type,
// so do we: an "int fd" with garbage in the upper half is still that fd.

func argFD(v uint64) int32     { return int32(uint32(v)) }
func argInt(v uint64) int32    { return int32(uint32(v)) }
func argUint(v uint64) uint32  { return uint32(v) }
func argOff(v uint64) int64    { return int64(v) }
func argFlags(v uint64) uint32 { return uint32(v) }

// ctx returns the context every VFS call receives.
func ctx(t *kernel.Task) vfs.Context { return t.VFSContext() }

// copyIn reads exactly len(b) bytes of guest memory or fails with EFAULT.
func copyIn(t *kernel.Task, addr uint64, b []byte) error {
	n, err := t.CopyIn(addr, b)
	if err != nil || n != len(b) {
		return unix.EFAULT
	}
	return nil
}

// copyOut writes exactly len(b) bytes of guest memory or fails with EFAULT.
func copyOut(t *kernel.Task, addr uint64, b []byte) error {
	n, err := t.CopyOut(addr, b)
	if err != nil || n != len(b) {
		return unix.EFAULT
	}
	return nil
}

// copyInPath reads a path argument. A string that does not end within
// PATH_MAX bytes is ENAMETOOLONG; an unreadable one EFAULT.
func copyInPath(t *kernel.Task, addr uint64) (string, error) {
	s, err := t.CopyInString(addr, pathMax)
	if err == unix.ENAMETOOLONG {
		return "", err
	}
	if err != nil {
		return "", unix.EFAULT
	}
	return s, nil
}

// getFile returns the file at fd with a reference (EBADF otherwise).
func getFile(t *kernel.Task, fd int32) (*vfs.File, error) {
	return t.GetFile(fd)
}

// getIOFile is getFile for calls that O_PATH descriptors do not serve
// (Linux's fdget() refuses them with EBADF).
func getIOFile(t *kernel.Task, fd int32) (*vfs.File, error) {
	f, err := t.GetFile(fd)
	if err != nil {
		return nil, err
	}
	if f.IsPath() {
		f.DecRef(ctx(t))
		return nil, unix.EBADF
	}
	return f, nil
}

// pathAt is the resolved starting point of a *at() path: the caller's root
// and the directory the path is relative to. It owns references that
// release drops.
type pathAt struct {
	root  vfs.Location
	start vfs.Location
	// Exactly one of these owns start's reference: a location from the
	// FSContext (cwd or root) or the dirfd's file.
	startLoc bool
	file     *vfs.File
}

func (p *pathAt) release(t *kernel.Task) {
	p.root.DecRef()
	if p.startLoc {
		p.start.DecRef()
	}
	if p.file != nil {
		p.file.DecRef(ctx(t))
	}
}

// resolveStart computes where path starts, following Linux's path_init: an
// absolute path ignores dirfd entirely; AT_FDCWD is the working directory;
// otherwise dirfd must be open (EBADF) and, unless the path is empty with
// emptyOK (AT_EMPTY_PATH), a directory (ENOTDIR). An empty path without
// emptyOK is ENOENT before dirfd is even looked at.
func resolveStart(t *kernel.Task, dirfd int32, path string, emptyOK bool) (*pathAt, error) {
	if path == "" && !emptyOK {
		return nil, unix.ENOENT
	}
	p := &pathAt{root: t.FS.Root()}
	switch {
	case path != "" && path[0] == '/':
		p.start = t.FS.Root()
		p.startLoc = true
	case dirfd == atFDCWD:
		p.start = t.FS.Cwd()
		p.startLoc = true
	default:
		f, err := t.GetFile(dirfd)
		if err != nil {
			p.root.DecRef()
			return nil, err
		}
		if path != "" && !f.IsDir() {
			f.DecRef(ctx(t))
			p.root.DecRef()
			return nil, unix.ENOTDIR
		}
		p.file = f
		p.start = f.Location()
	}
	return p, nil
}

// atPath copies in a path argument and resolves its start. flags are the
// call's AT_* flags: AT_EMPTY_PATH permits an empty path.
func atPath(t *kernel.Task, dirfd int32, addr uint64, flags uint32) (*pathAt, string, error) {
	path, err := copyInPath(t, addr)
	if err != nil {
		return nil, "", err
	}
	p, err := resolveStart(t, dirfd, path, flags&unix.AT_EMPTY_PATH != 0)
	if err != nil {
		return nil, "", err
	}
	return p, path, nil
}

// rlimitFSize returns RLIMIT_FSIZE's soft limit, or -1 if unlimited.
func rlimitFSize(t *kernel.Task) int64 {
	lim := t.ThreadGroup().GetLimit(unix.RLIMIT_FSIZE).Cur
	if lim >= 1<<63 {
		return -1
	}
	return int64(lim)
}

// sendSignal raises sig on the calling thread the way Linux's
// send_sig(sig, current, 0) does: SI_USER from the caller itself.
func sendSignal(t *kernel.Task, sig unix.Signal) {
	t.SendSignal(&kernel.SigInfo{Signo: int32(sig), Code: 0, PID: t.ThreadGroup().ID(), UID: int32(t.Creds().RealUID)})
}

// errFBig raises SIGXFSZ, as Linux does whenever a size limit refuses a
// write, and returns EFBIG.
func errFBig(t *kernel.Task) error {
	sendSignal(t, unix.SIGXFSZ)
	return unix.EFBIG
}

// le is the guest's byte order.
var le = binary.LittleEndian
