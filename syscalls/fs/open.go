package fs

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/waiter"
)

// validOpenFlags are the flags open(2) knows (VALID_OPEN_FLAGS). open and
// openat silently drop anything else; openat2 rejects it.
const validOpenFlags = unix.O_ACCMODE | unix.O_CREAT | unix.O_EXCL | unix.O_NOCTTY | unix.O_TRUNC |
	unix.O_APPEND | unix.O_NONBLOCK | unix.O_DSYNC | unix.O_ASYNC | unix.O_DIRECT | linux.O_LARGEFILE |
	unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_NOATIME | unix.O_CLOEXEC | unix.O_SYNC | unix.O_PATH |
	unix.O_TMPFILE

// oPathFlags are the flags that survive O_PATH (O_PATH_FLAGS).
const oPathFlags = unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_PATH | unix.O_CLOEXEC

// openFlags is the validated form of open(2) arguments.
type openFlags struct {
	flags   uint32 // for vfs.OpenAt, without O_CLOEXEC
	mode    uint32 // permission bits after the umask, or 0
	cloexec bool
}

// buildOpenFlags does what Linux's build_open_flags does with the flags and
// mode of an open: strict (openat2) rejects unknown flags and a mode without
// O_CREAT/O_TMPFILE; O_TMPFILE must come with O_DIRECTORY and a write mode;
// O_CREAT|O_DIRECTORY is EINVAL (Linux 6.4+); O_PATH keeps only its flags;
// O_LARGEFILE is implied on 64-bit; the mode is masked with the umask only
// when a file may be created.
func buildOpenFlags(flags uint64, mode uint64, umask uint32, strict bool) (openFlags, error) {
	if strict {
		if flags&^uint64(validOpenFlags) != 0 {
			return openFlags{}, unix.EINVAL
		}
		if mode&^0o7777 != 0 {
			return openFlags{}, unix.EINVAL
		}
	}
	fl := uint32(flags) & validOpenFlags
	creating := fl&unix.O_CREAT != 0 || fl&unix.O_TMPFILE == unix.O_TMPFILE
	if strict && !creating && mode != 0 {
		return openFlags{}, unix.EINVAL
	}
	var o openFlags
	if creating {
		o.mode = uint32(mode) & 0o7777 &^ umask
	}
	if fl&unix.O_TMPFILE&^unix.O_DIRECTORY != 0 {
		if fl&unix.O_TMPFILE != unix.O_TMPFILE {
			return openFlags{}, unix.EINVAL
		}
		if acc := fl & unix.O_ACCMODE; acc != unix.O_WRONLY && acc != unix.O_RDWR {
			return openFlags{}, unix.EINVAL
		}
	} else if fl&unix.O_CREAT != 0 && fl&unix.O_DIRECTORY != 0 {
		return openFlags{}, unix.EINVAL
	}
	if fl&unix.O_PATH != 0 {
		if strict && fl&^oPathFlags != 0 {
			return openFlags{}, unix.EINVAL
		}
		fl &= oPathFlags
	}
	if fl&unix.O_SYNC == unix.O_SYNC {
		fl |= unix.O_DSYNC
	}
	o.cloexec = fl&unix.O_CLOEXEC != 0
	o.flags = fl&^unix.O_CLOEXEC | linux.O_LARGEFILE
	if fl&unix.O_PATH != 0 {
		o.flags &^= linux.O_LARGEFILE
	}
	return o, nil
}

// openAt opens (dirfd, path) and installs the result as a new descriptor.
func openAt(t *kernel.Task, dirfd int32, pathAddr uint64, o openFlags, resolve uint64) (uint64, error) {
	path, err := copyInPath(t, pathAddr)
	if err != nil {
		return 0, err
	}
	var f *vfs.File
	if resolve != 0 && path != "" {
		f, err = openResolve(t, dirfd, path, o, resolve)
	} else {
		f, err = openPlain(t, dirfd, path, o)
	}
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	if err := waitOpenReady(t, f); err != nil {
		return 0, err
	}
	fd, err := t.NewFD(f, o.cloexec)
	return uint64(fd), err
}

// openPlain opens (dirfd, path) with the VFS's own path walk.
func openPlain(t *kernel.Task, dirfd int32, path string, o openFlags) (*vfs.File, error) {
	p, err := resolveStart(t, dirfd, path, false)
	if err != nil {
		return nil, err
	}
	defer p.release(t)
	return t.Kernel().VFS().OpenAt(ctx(t), p.root, p.start, path, o.flags, o.mode)
}

// waitOpenReady blocks a FIFO open until its peer arrives, as
// vfs.File.OpenReady asks. A signal restarts the open.
func waitOpenReady(t *kernel.Task, f *vfs.File) error {
	if f.OpenReady() {
		return nil
	}
	e, ch := waiter.NewChannelEntry(waiter.AllEvents)
	f.EventRegister(e)
	defer f.EventUnregister(e)
	for !f.OpenReady() {
		if err := t.Block(ch, kernel.Deadline{}); err != nil {
			return kernel.ErrRestartSys
		}
	}
	return nil
}

// Open implements open(2).
func Open(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	o, err := buildOpenFlags(uint64(argFlags(a[1])), uint64(argUint(a[2])), t.FS.Umask(), false)
	if err != nil {
		return 0, err
	}
	return openAt(t, atFDCWD, a[0], o, 0)
}

// Openat implements openat(2).
func Openat(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	o, err := buildOpenFlags(uint64(argFlags(a[2])), uint64(argUint(a[3])), t.FS.Umask(), false)
	if err != nil {
		return 0, err
	}
	return openAt(t, argFD(a[0]), a[1], o, 0)
}

// Creat implements creat(2): open(path, O_CREAT|O_WRONLY|O_TRUNC, mode).
func Creat(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	o, err := buildOpenFlags(unix.O_CREAT|unix.O_WRONLY|unix.O_TRUNC, uint64(argUint(a[1])), t.FS.Umask(), false)
	if err != nil {
		return 0, err
	}
	return openAt(t, atFDCWD, a[0], o, 0)
}

// struct open_how sizes and limits.
const (
	openHowSizeVer0 = 24
	pageSize        = 4096
)

// RESOLVE_* flags of openat2.
const (
	resolveNoXdev       = 0x01
	resolveNoMagiclinks = 0x02
	resolveNoSymlinks   = 0x04
	resolveBeneath      = 0x08
	resolveInRoot       = 0x10
	resolveCached       = 0x20
	resolveAll          = 0x3f
)

// openHow is struct open_how.
type openHow struct {
	flags, mode, resolve uint64
}

// parseOpenHow decodes struct open_how like copy_struct_from_user: a size
// below version 0 is EINVAL, above a page E2BIG, and bytes beyond what we
// know must be zero (E2BIG).
func parseOpenHow(b []byte) (openHow, error) {
	if len(b) < openHowSizeVer0 {
		return openHow{}, unix.EINVAL
	}
	if len(b) > pageSize {
		return openHow{}, unix.E2BIG
	}
	for _, c := range b[openHowSizeVer0:] {
		if c != 0 {
			return openHow{}, unix.E2BIG
		}
	}
	h := openHow{
		flags:   binary.LittleEndian.Uint64(b[0:]),
		mode:    binary.LittleEndian.Uint64(b[8:]),
		resolve: binary.LittleEndian.Uint64(b[16:]),
	}
	if h.resolve&^resolveAll != 0 {
		return openHow{}, unix.EINVAL
	}
	if h.resolve&resolveBeneath != 0 && h.resolve&resolveInRoot != 0 {
		return openHow{}, unix.EINVAL
	}
	return h, nil
}

// Openat2 implements openat2(2).
func Openat2(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	size := a[3]
	if size < openHowSizeVer0 {
		return 0, unix.EINVAL
	}
	if size > pageSize {
		return 0, unix.E2BIG
	}
	b := make([]byte, size)
	if err := copyIn(t, a[2], b); err != nil {
		return 0, err
	}
	how, err := parseOpenHow(b)
	if err != nil {
		return 0, err
	}
	o, err := buildOpenFlags(how.flags, how.mode, t.FS.Umask(), true)
	if err != nil {
		return 0, err
	}
	if how.resolve&resolveCached != 0 {
		// Everything we resolve is in the dentry cache or may need a
		// gofer round trip; Linux refuses cached lookups that would
		// create or truncate with EAGAIN, and so do we. Other lookups are
		// simply done.
		if o.flags&(unix.O_CREAT|unix.O_TRUNC) != 0 || o.flags&unix.O_TMPFILE == unix.O_TMPFILE {
			return 0, unix.EAGAIN
		}
	}
	return openAt(t, argFD(a[0]), a[1], o, how.resolve&^resolveCached)
}
