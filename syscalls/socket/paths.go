package socket

import (
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/sentry/socket"
	"github.com/runsc-lite/runsc-lite/vfs"
)

// taskPaths resolves pathname AF_UNIX addresses from the task's root and
// working directory. A bound socket is a S_IFSOCK inode in the VFS (it
// shows in ls, unlink removes it); unixsock finds the listener by the
// inode's device and number.
type taskPaths struct{ t *kernel.Task }

func statKey(st vfs.Statx) socket.PathKey {
	return socket.PathKey{Dev: unix.Mkdev(st.Dev_major, st.Dev_minor), Ino: st.Ino}
}

// MknodSocket implements socket.PathResolver.
func (p taskPaths) MknodSocket(path string) (socket.PathKey, error) {
	if path == "" {
		return socket.PathKey{}, unix.ENOENT
	}
	t := p.t
	v := t.Kernel().VFS()
	root, cwd := t.FS.Root(), t.FS.Cwd()
	defer root.DecRef()
	defer cwd.DecRef()
	mode := unix.S_IFSOCK | 0o777&^t.FS.Umask()
	if err := v.Mknod(ctx(t), root, cwd, path, mode, 0); err != nil {
		if err == unix.EEXIST {
			return socket.PathKey{}, unix.EADDRINUSE
		}
		return socket.PathKey{}, err
	}
	st, err := v.Stat(ctx(t), root, cwd, path, unix.AT_SYMLINK_NOFOLLOW)
	if err != nil {
		return socket.PathKey{}, err
	}
	return statKey(st), nil
}

// LookupSocket implements socket.PathResolver.
func (p taskPaths) LookupSocket(path string) (socket.PathKey, error) {
	if path == "" {
		return socket.PathKey{}, unix.ENOENT
	}
	t := p.t
	v := t.Kernel().VFS()
	root, cwd := t.FS.Root(), t.FS.Cwd()
	defer root.DecRef()
	defer cwd.DecRef()
	st, err := v.Stat(ctx(t), root, cwd, path, 0)
	if err != nil {
		return socket.PathKey{}, err
	}
	if uint32(st.Mode)&unix.S_IFMT != unix.S_IFSOCK {
		return socket.PathKey{}, unix.ECONNREFUSED
	}
	if err := v.Access(ctx(t), root, cwd, path, unix.W_OK, unix.AT_EACCESS); err != nil {
		return socket.PathKey{}, err
	}
	return statKey(st), nil
}
