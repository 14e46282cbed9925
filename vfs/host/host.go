// Package host wraps host file descriptors (the sandbox's stdin, stdout and
// stderr: pipes, terminals, regular files, /dev/null, sockets) as guest open
// files.
//
// Regular files are read and written with pread/pwrite at the guest file's
// offset. Other files never block: reads and writes use RWF_NOWAIT where the
// host supports it (pipes, sockets) and otherwise poll the FD first
// (terminals), so the host FD's O_NONBLOCK flag is never changed (a terminal
// is usually shared with the host's shell). Readiness comes from an epoll FD
// owned by the package; the waiter queue of the file is notified from it.
//
// Terminals forward the termios and window-size ioctls to the host; the
// foreground process group and session are kept guest-side, per host
// terminal.
package host

import (
	"fmt"
	"os"
	"sync"

	"github.com/runsc-lite/runsc-lite/vfs"
	"golang.org/x/sys/unix"
)

// NewFile wraps the host file descriptor hostFD as a guest open file with
// open flags flags (the access mode and status flags, e.g. unix.O_RDONLY for
// stdin, unix.O_WRONLY for stdout). O_APPEND is added if the host FD has it.
//
// NewFile takes ownership of hostFD: it is closed when the returned File is
// released. Callers wrapping their own stdio should pass a duplicate
// (unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 3)) so that host FDs 0-2 stay
// open.
func NewFile(v *vfs.VFS, hostFD int, flags uint32) (*vfs.File, error) {
	if hostFD < 0 {
		return nil, unix.EBADF
	}
	var st unix.Stat_t
	if err := unix.Fstat(hostFD, &st); err != nil {
		return nil, err
	}
	hostFlags, err := unix.FcntlInt(uintptr(hostFD), unix.F_GETFL, 0)
	if err != nil {
		return nil, err
	}
	flags &^= unix.O_CLOEXEC | unix.O_CREAT | unix.O_EXCL | unix.O_TRUNC | unix.O_NOCTTY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_PATH | unix.O_TMPFILE
	if hostFlags&unix.O_APPEND != 0 {
		flags |= unix.O_APPEND
	}
	ftype := st.Mode & unix.S_IFMT
	if ftype == unix.S_IFDIR || ftype == unix.S_IFLNK {
		return nil, unix.EINVAL
	}
	in := &inode{fd: hostFD}
	isTTY := false
	if ftype == unix.S_IFCHR {
		if _, err := unix.IoctlGetTermios(hostFD, unix.TCGETS); err == nil {
			isTTY = true
		}
	}

	var impl vfs.FileImpl
	var name string
	switch {
	case ftype == unix.S_IFREG || ftype == unix.S_IFBLK:
		impl = &regularFile{fd: hostFD}
		name = hostPath(hostFD, fmt.Sprintf("host:[%d]", st.Ino))
	default:
		s := &streamFile{fd: hostFD, ftype: ftype, tty: isTTY, hostNonblock: hostFlags&unix.O_NONBLOCK != 0}
		s.nowait.Store(ftype == unix.S_IFIFO || ftype == unix.S_IFSOCK || (ftype == unix.S_IFCHR && !isTTY))
		var mask uint32
		acc := flags & unix.O_ACCMODE
		if acc == unix.O_RDONLY || acc == unix.O_RDWR {
			mask |= unix.EPOLLIN | unix.EPOLLRDNORM | unix.EPOLLRDHUP | unix.EPOLLPRI
		}
		if acc == unix.O_WRONLY || acc == unix.O_RDWR {
			mask |= unix.EPOLLOUT | unix.EPOLLWRNORM
		}
		s.notifyID, s.pollable = hostNotifier.add(hostFD, mask, &s.queue)
		switch ftype {
		case unix.S_IFIFO:
			name = fmt.Sprintf("pipe:[%d]", st.Ino)
		case unix.S_IFSOCK:
			name = fmt.Sprintf("socket:[%d]", st.Ino)
		default:
			name = charDevName(st.Rdev, st.Ino)
		}
		if isTTY {
			acc := flags & unix.O_ACCMODE
			t := &ttyFile{streamFile: s, readable: acc == unix.O_RDONLY || acc == unix.O_RDWR}
			if t.state, err = acquireTTYState(v, uint64(st.Dev), st.Ino, st.Rdev); err != nil {
				if s.pollable {
					hostNotifier.remove(hostFD, s.notifyID)
				}
				return nil, err
			}
			impl = t
		} else {
			impl = s
		}
	}
	in.tty = isTTY
	var f *vfs.File
	if t, ok := impl.(*ttyFile); ok && t.state.node.Ok() {
		f = v.NewFile(t.state.node, impl, flags)
	} else {
		f = v.NewFile(v.NewAnonLocation(name, in, ftype), impl, flags)
	}
	if t, ok := impl.(*ttyFile); ok {
		t.state.mu.Lock()
		t.state.files[t] = f
		t.state.mu.Unlock()
	}
	if _, ok := impl.(*regularFile); ok {
		// Start at the host FD's offset, like an inherited descriptor.
		if off, err := unix.Seek(hostFD, 0, unix.SEEK_CUR); err == nil && off > 0 {
			f.Seek(vfs.NewContext(vfs.RootCredentials()), off, unix.SEEK_SET)
		}
	}
	return f, nil
}

// IsTTY reports whether f is a host file wrapping a terminal.
func IsTTY(f *vfs.File) bool {
	_, ok := f.Impl().(*ttyFile)
	return ok
}

// HostFD returns the host file descriptor wrapped by f, or -1 if f is not a
// host file.
func HostFD(f *vfs.File) int {
	switch i := f.Impl().(type) {
	case *regularFile:
		return i.fd
	case *streamFile:
		return i.fd
	case *ttyFile:
		return i.fd
	}
	return -1
}

// hostPath returns the host's name for fd from /proc/self/fd (which may be
// unavailable once the sentry is confined), or def.
func hostPath(fd int, def string) string {
	p, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
	if err != nil || p == "" {
		return def
	}
	return p
}

// charDevName names a host character device like Linux's /proc/PID/fd
// links would inside a container.
func charDevName(rdev uint64, ino uint64) string {
	maj, min := unix.Major(rdev), unix.Minor(rdev)
	switch {
	case maj >= 136 && maj <= 143: // Unix98 pty slaves
		return fmt.Sprintf("/dev/pts/%d", (maj-136)<<20|min)
	case maj == 1 && min == 3:
		return "/dev/null"
	case maj == 1 && min == 5:
		return "/dev/zero"
	case maj == 5 && min == 0:
		return "/dev/tty"
	case maj == 5 && min == 1:
		return "/dev/console"
	case maj == 4 && min < 64:
		return fmt.Sprintf("/dev/tty%d", min)
	}
	return fmt.Sprintf("host:[%d]", ino)
}

// inode is the inode of a host file: attributes come from the host's fstat.
// Mode, owner and time changes are kept guest-side (nothing done in the
// sandbox changes host metadata); size changes truncate a regular file.
type inode struct {
	fd  int
	tty bool

	mu       sync.Mutex
	setMask  uint32 // STATX_MODE|UID|GID|ATIME|MTIME overridden
	mode     uint32
	uid, gid uint32
	atime    vfs.Timestamp
	mtime    vfs.Timestamp
	ctime    vfs.Timestamp
}

// OwnDevice implements vfs.OwnDevice: st_dev is the host's, so that the
// guest sees stdout and stderr as the same file when they are.
func (in *inode) OwnDevice() {}

// Stat implements vfs.Inode.
func (in *inode) Stat(vfs.Context) (vfs.Statx, error) {
	var st unix.Stat_t
	if err := unix.Fstat(in.fd, &st); err != nil {
		return vfs.Statx{}, err
	}
	sx := vfs.Statx{
		Mask:       unix.STATX_BASIC_STATS,
		Blksize:    uint32(st.Blksize),
		Nlink:      uint32(st.Nlink),
		Uid:        st.Uid,
		Gid:        st.Gid,
		Mode:       uint16(st.Mode),
		Ino:        st.Ino,
		Size:       uint64(st.Size),
		Blocks:     uint64(st.Blocks),
		Atime:      vfs.Timestamp{Sec: st.Atim.Sec, Nsec: uint32(st.Atim.Nsec)},
		Mtime:      vfs.Timestamp{Sec: st.Mtim.Sec, Nsec: uint32(st.Mtim.Nsec)},
		Ctime:      vfs.Timestamp{Sec: st.Ctim.Sec, Nsec: uint32(st.Ctim.Nsec)},
		Rdev_major: unix.Major(st.Rdev),
		Rdev_minor: unix.Minor(st.Rdev),
		Dev_major:  unix.Major(st.Dev),
		Dev_minor:  unix.Minor(st.Dev),
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.setMask&unix.STATX_MODE != 0 {
		sx.Mode = uint16(st.Mode&unix.S_IFMT | in.mode&0o7777)
	}
	if in.setMask&unix.STATX_UID != 0 {
		sx.Uid = in.uid
	}
	if in.setMask&unix.STATX_GID != 0 {
		sx.Gid = in.gid
	}
	if in.setMask&unix.STATX_ATIME != 0 {
		sx.Atime = in.atime
	}
	if in.setMask&unix.STATX_MTIME != 0 {
		sx.Mtime = in.mtime
	}
	if in.setMask != 0 {
		sx.Ctime = in.ctime
	}
	return sx, nil
}

// SetStat implements vfs.Inode.
func (in *inode) SetStat(_ vfs.Context, o *vfs.SetStatOptions) error {
	if o.Mask&unix.STATX_SIZE != 0 {
		var st unix.Stat_t
		if err := unix.Fstat(in.fd, &st); err != nil {
			return err
		}
		if st.Mode&unix.S_IFMT != unix.S_IFREG {
			return unix.EINVAL
		}
		if int64(o.Size) < 0 {
			return unix.EFBIG
		}
		if err := unix.Ftruncate(in.fd, int64(o.Size)); err != nil {
			return err
		}
	}
	m := o.Mask & (unix.STATX_MODE | unix.STATX_UID | unix.STATX_GID | unix.STATX_ATIME | unix.STATX_MTIME)
	if m == 0 {
		return nil
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.setMask |= m
	if m&unix.STATX_MODE != 0 {
		in.mode = o.Mode & 0o7777
	}
	if m&unix.STATX_UID != 0 {
		in.uid = o.UID
	}
	if m&unix.STATX_GID != 0 {
		in.gid = o.GID
	}
	if m&unix.STATX_ATIME != 0 {
		in.atime = o.Atime
	}
	if m&unix.STATX_MTIME != 0 {
		in.mtime = o.Mtime
	}
	in.ctime = vfs.NowTimestamp()
	return nil
}

// Open implements vfs.Inode: host files are not reachable by path.
func (in *inode) Open(vfs.Context, uint32) (vfs.FileImpl, error) { return nil, unix.ENXIO }
