//go:build linux

package gofer

import (
	"strconv"

	"golang.org/x/sys/unix"
)

// Thin wrappers over the host syscalls the handlers use. They exist so that
// every file is reached the same confined way: O_PATH|O_NOFOLLOW per name,
// and "real" opens only through /proc/self/fd of an FD we already hold.

func openPath(dirFD int, name string, extra int) (int, error) {
	var fd int
	err := ignoringEINTR(func() (err error) {
		fd, err = unix.Openat(dirFD, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC|extra, 0)
		return err
	})
	return fd, err
}

// reopen opens the file an FD we hold refers to with new flags. Going
// through the /proc/self/fd magic link reaches exactly that inode whatever
// happened to its name since, so there is no path race; it must not carry
// O_NOFOLLOW, which would stop at the magic link itself.
func (s *Server) reopen(fd int, flags int) (int, error) {
	var nfd int
	err := ignoringEINTR(func() (err error) {
		nfd, err = unix.Openat(s.procSelfFD, strconv.Itoa(fd), flags|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
		return err
	})
	return nfd, err
}

func statFD(fd int) (unix.Statx_t, error) {
	var st unix.Statx_t
	err := ignoringEINTR(func() error {
		return unix.Statx(fd, "", unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW|unix.AT_STATX_SYNC_AS_STAT,
			unix.STATX_BASIC_STATS|unix.STATX_BTIME, &st)
	})
	return st, err
}

// chmodFD changes the mode of the file an O_PATH FD refers to. fchmod does
// not accept O_PATH FDs; fchmodat2(AT_EMPTY_PATH) (Linux 6.6) does, and
// older kernels go through the magic link (never used for symlinks, whose
// mode cannot be changed on Linux anyway).
func (s *Server) chmodFD(fd int, mode uint32) error {
	err := unix.Fchmodat(fd, "", mode, unix.AT_EMPTY_PATH)
	if err == unix.EOPNOTSUPP || err == unix.ENOSYS {
		err = unix.Fchmodat(s.procSelfFD, strconv.Itoa(fd), mode, 0)
	}
	return err
}

func chownFD(fd int, uid, gid int) error {
	return unix.Fchownat(fd, "", uid, gid, unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW)
}

// fixOwnerMode gives a file the owner and permission bits the client asked
// for: the gofer creates files as its own user and under its umask.
// keepSGID keeps a set-group-ID bit the new directory inherited from its
// parent, as Linux does. It reports whether anything changed.
func (s *Server) fixOwnerMode(fd int, st *unix.Statx_t, uid, gid, mode uint32, keepSGID bool) (bool, error) {
	changed := false
	if st.Uid != uid || st.Gid != gid {
		if err := chownFD(fd, int(uid), int(gid)); err != nil {
			return false, err
		}
		changed = true
	}
	if (st.Mode & unix.S_IFMT) == unix.S_IFLNK {
		return changed, nil
	}
	if keepSGID {
		mode |= uint32(st.Mode) & unix.S_ISGID
	}
	// chown may have cleared set-ID bits, so compare against the old
	// mode only when nothing changed.
	if changed || uint32(st.Mode)&07777 != mode {
		if err := s.chmodFD(fd, mode); err != nil {
			return false, err
		}
		changed = true
	}
	return changed, nil
}
