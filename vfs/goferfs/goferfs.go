// Package goferfs gives the sandbox access to host files served by the
// gofer. In directfs mode (the default) it starts from a host directory FD
// (from gofer.Client.Attach) and does everything itself on host FDs: one
// openat(O_PATH|O_NOFOLLOW) per path component, fstatat/statx with
// AT_EMPTY_PATH, readlinkat, getdents64, pread/pwrite. Symlinks are never
// followed on the host: the VFS resolves them. Without directfs every
// operation is an RPC to the gofer (see NewRPC).
//
// Host FIFOs are not opened on the host: a FIFO node gets a sandbox-internal
// pipe. Extended attributes are not supported (EOPNOTSUPP).
package goferfs

import (
	"container/list"
	"sync"

	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/pipe"
	"golang.org/x/sys/unix"
)

// Options configure a goferfs instance.
type Options struct {
	// ReadOnly makes every modifying operation fail with EROFS even if the
	// mount is not read-only (a defence for the overlay's lower layer).
	ReadOnly bool
}

// FS is a goferfs instance.
type FS struct {
	opts   Options
	rootFD int
	rpc    *rpcBackend // nil in directfs mode

	// mu protects the parent/name of inodes (renames) and the host
	// namespace operations.
	mu sync.RWMutex

	fifoMu sync.Mutex
	fifos  map[devIno]*pipe.Pipe

	// fdMu protects the directory inodes' host FDs (dirfds.go).
	fdMu sync.Mutex
	dirs dirFDs
}

type devIno struct{ dev, ino uint64 }

// NewDirect makes a directfs goferfs rooted at the host directory dirFD,
// which the filesystem then owns.
func NewDirect(v *vfs.VFS, dirFD int, opts Options) (*vfs.Filesystem, error) {
	fs := &FS{opts: opts, rootFD: dirFD, fifos: make(map[devIno]*pipe.Pipe),
		dirs: dirFDs{lru: list.New(), max: maxOpenDirs}}
	var st unix.Stat_t
	if err := unix.Fstat(dirFD, &st); err != nil {
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil, unix.ENOTDIR
	}
	root := &inode{fs: fs, fd: dirFD, ftype: unix.S_IFDIR}
	return v.NewFilesystem(fs, root), nil
}

// Name implements vfs.FilesystemImpl.
func (fs *FS) Name() string { return "9p" }

// Release implements vfs.FilesystemImpl.
func (fs *FS) Release() {}

// StatFS implements vfs.FilesystemImpl.
func (fs *FS) StatFS(vfs.Context) (vfs.Statfs, error) {
	if fs.rpc != nil {
		return fs.rpc.statFS()
	}
	var st unix.Statfs_t
	err := unix.Fstatfs(fs.rootFD, &st)
	return st, err
}

func (fs *FS) fifo(st *vfs.Statx) *pipe.Pipe {
	fs.fifoMu.Lock()
	defer fs.fifoMu.Unlock()
	k := devIno{unix.Mkdev(st.Dev_major, st.Dev_minor), st.Ino}
	p := fs.fifos[k]
	if p == nil {
		p = pipe.New()
		fs.fifos[k] = p
	}
	return p
}

// inode is a host file. In directfs mode a directory's fd is an
// O_PATH|O_NOFOLLOW FD (the root's is the O_RDONLY directory FD) and other
// files have fd -1 and are reached as (parent.fd, name); in RPC mode fid is
// the gofer fid.
type inode struct {
	fs    *FS
	fd    int
	fid   uint64
	ftype uint32
	// parent and name locate the file for operations that cannot use an
	// O_PATH FD (open, chmod, utimes, link, truncate). fs.mu.
	parent *inode
	name   string

	// Directories: the host identity checked when the FD is reopened, and
	// the FD's pins and LRU place (fs.fdMu).
	id      devIno
	pins    int
	lruElem *list.Element
	// removed: the directory was removed (rmdir, or replaced by a
	// rename); its FD is closed and never reopened (fs.fdMu).
	removed bool
}

func retryEINTR(f func() error) error {
	for {
		err := f()
		if err != unix.EINTR {
			return err
		}
	}
}

func statxToVFS(s *unix.Statx_t) vfs.Statx { return *s }

// Stat implements vfs.Inode.
func (in *inode) Stat(vfs.Context) (vfs.Statx, error) {
	if in.fs.rpc != nil {
		return in.fs.rpc.stat(in)
	}
	var st unix.Statx_t
	fd, name, done, err := in.at()
	if err != nil {
		return st, err
	}
	defer done()
	err = retryEINTR(func() error {
		return unix.Statx(fd, name, unix.AT_SYMLINK_NOFOLLOW|unix.AT_STATX_SYNC_AS_STAT, unix.STATX_BASIC_STATS|unix.STATX_BTIME, &st)
	})
	return statxToVFS(&st), err
}

// at returns (dirfd, name) naming in for *at syscalls; dirfd is pinned
// until done is called.
func (in *inode) at() (dirfd int, name string, done func(), err error) {
	in.fs.mu.RLock()
	parent, name := in.parent, in.name
	in.fs.mu.RUnlock()
	if parent == nil {
		fd, done, err := in.dir()
		return fd, ".", done, err
	}
	fd, done, err := parent.dir()
	return fd, name, done, err
}

func (in *inode) writable() error {
	if in.fs.opts.ReadOnly {
		return unix.EROFS
	}
	return nil
}

// SetStat implements vfs.Inode.
func (in *inode) SetStat(ctx vfs.Context, o *vfs.SetStatOptions) error {
	if err := in.writable(); err != nil {
		return err
	}
	if in.fs.rpc != nil {
		return in.fs.rpc.setStat(in, o)
	}
	dirfd, name, done, err := in.at()
	if err != nil {
		return err
	}
	defer done()
	if o.Mask&unix.STATX_SIZE != 0 {
		if in.ftype != unix.S_IFREG {
			return unix.EINVAL
		}
		fd, err := unix.Openat(dirfd, name, unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		err = retryEINTR(func() error { return unix.Ftruncate(fd, int64(o.Size)) })
		unix.Close(fd)
		if err != nil {
			return err
		}
	}
	if o.Mask&unix.STATX_MODE != 0 {
		if err := unix.Fchmodat(dirfd, name, o.Mode&0o7777, 0); err != nil {
			return err
		}
	}
	if o.Mask&(unix.STATX_UID|unix.STATX_GID) != 0 {
		uid, gid := -1, -1
		if o.Mask&unix.STATX_UID != 0 {
			uid = int(o.UID)
		}
		if o.Mask&unix.STATX_GID != 0 {
			gid = int(o.GID)
		}
		if err := unix.Fchownat(dirfd, name, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
	}
	if o.Mask&(unix.STATX_ATIME|unix.STATX_MTIME) != 0 {
		ts := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, {Nsec: unix.UTIME_OMIT}}
		if o.Mask&unix.STATX_ATIME != 0 {
			ts[0] = unix.Timespec{Sec: o.Atime.Sec, Nsec: int64(o.Atime.Nsec)}
		}
		if o.Mask&unix.STATX_MTIME != 0 {
			ts[1] = unix.Timespec{Sec: o.Mtime.Sec, Nsec: int64(o.Mtime.Nsec)}
		}
		if err := unix.UtimesNanoAt(dirfd, name, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
	}
	return nil
}

// hostOpen opens the file for I/O with open(2) access flags.
func (in *inode) hostOpen(flags uint32) (int, error) {
	if in.fs.rpc != nil {
		return in.fs.rpc.open(in, flags)
	}
	dirfd, name, done, err := in.at()
	if err != nil {
		return -1, err
	}
	defer done()
	fl := int(flags&(unix.O_ACCMODE|unix.O_DIRECTORY|unix.O_DSYNC|unix.O_SYNC|unix.O_DIRECT)) | unix.O_NOFOLLOW | unix.O_CLOEXEC | unix.O_LARGEFILE
	var fd int
	err = retryEINTR(func() error {
		var err error
		fd, err = unix.Openat(dirfd, name, fl, 0)
		return err
	})
	return fd, err
}

// Open implements vfs.Inode.
func (in *inode) Open(ctx vfs.Context, flags uint32) (vfs.FileImpl, error) {
	switch in.ftype {
	case unix.S_IFREG:
		if flags&unix.O_ACCMODE != unix.O_RDONLY {
			if err := in.writable(); err != nil {
				return nil, err
			}
		}
		fd, err := in.hostOpen(flags)
		if err != nil {
			return nil, err
		}
		return &regFile{fd: fd}, nil
	case unix.S_IFDIR:
		fd, err := in.hostOpen(unix.O_RDONLY | unix.O_DIRECTORY)
		if err != nil {
			return nil, err
		}
		return &dirFile{in: in, fd: fd}, nil
	case unix.S_IFIFO:
		st, err := in.Stat(ctx)
		if err != nil {
			return nil, err
		}
		return in.fs.fifo(&st).Open(ctx, flags)
	case unix.S_IFLNK:
		return nil, unix.ELOOP
	}
	return nil, unix.ENXIO
}

// Readlink implements vfs.SymlinkInode.
func (in *inode) Readlink(vfs.Context) (string, error) {
	if in.ftype != unix.S_IFLNK {
		return "", unix.EINVAL
	}
	if in.fs.rpc != nil {
		return in.fs.rpc.readlink(in)
	}
	buf := make([]byte, vfs.PathMax)
	dirfd, name, done, err := in.at()
	if err != nil {
		return "", err
	}
	defer done()
	n, err := unix.Readlinkat(dirfd, name, buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

func (fs *FS) newInode(parent *inode, name string, fd int) (*inode, error) {
	c := &inode{fs: fs, fd: fd, parent: parent, name: name}
	var st unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW, unix.STATX_TYPE|unix.STATX_INO, &st); err != nil {
		unix.Close(fd)
		return nil, err
	}
	c.ftype = uint32(st.Mode) & unix.S_IFMT
	c.id = devIno{unix.Mkdev(st.Dev_major, st.Dev_minor), st.Ino}
	if c.ftype == unix.S_IFDIR {
		fs.addDir(c)
	} else {
		// Only directories keep a host FD (as the base of *at calls);
		// other files are reached through their parent, so host FD use
		// stays proportional to the number of cached directories.
		unix.Close(fd)
		c.fd = -1
	}
	return c, nil
}

// Lookup implements vfs.DirInode.
func (in *inode) Lookup(_ vfs.Context, name string) (vfs.Inode, error) {
	if in.fs.rpc != nil {
		return in.fs.rpc.lookup(in, name)
	}
	dfd, dfdDone, err := in.dir()
	if err != nil {
		return nil, err
	}
	defer dfdDone()
	var fd int
	err = retryEINTR(func() error {
		var err error
		fd, err = unix.Openat(dfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	return in.fs.newInode(in, name, fd)
}

// lookupNew finishes a creation: it opens the new file and fixes its owner
// (best effort: the sentry may lack CAP_CHOWN on the host).
func (in *inode) lookupNew(name string, opts vfs.CreateOptions) (vfs.Inode, error) {
	dfd, dfdDone, err := in.dir()
	if err != nil {
		return nil, err
	}
	defer dfdDone()
	fd, err := unix.Openat(dfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	unix.Fchownat(fd, "", int(opts.UID), int(opts.GID), unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW)
	return in.fs.newInode(in, name, fd)
}

// Create implements vfs.DirInode.
func (in *inode) Create(_ vfs.Context, name string, opts vfs.CreateOptions) (vfs.Inode, error) {
	if err := in.writable(); err != nil {
		return nil, err
	}
	if in.fs.rpc != nil {
		return in.fs.rpc.create(in, name, opts)
	}
	dfd, dfdDone, err := in.dir()
	if err != nil {
		return nil, err
	}
	defer dfdDone()
	perm := opts.Mode & 0o7777
	switch opts.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		fd, err := unix.Openat(dfd, name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, perm)
		if err != nil {
			return nil, err
		}
		unix.Fchmod(fd, perm) // exact mode, no host umask
		unix.Close(fd)
	default:
		if err := unix.Mknodat(dfd, name, opts.Mode, int(opts.Rdev)); err != nil {
			return nil, err
		}
	}
	return in.lookupNew(name, opts)
}

// CreateOpen implements vfs.CreateOpener: with directfs the host file is
// created and opened by one openat, so a read-only mode does not stop the
// creator from writing it.
func (in *inode) CreateOpen(ctx vfs.Context, name string, opts vfs.CreateOptions, flags uint32) (vfs.Inode, vfs.FileImpl, error) {
	if in.fs.rpc != nil {
		// The gofer's Create returns the FD of its creating open.
		child, err := in.Create(ctx, name, opts)
		if err != nil {
			return nil, nil, err
		}
		impl, err := child.Open(ctx, flags)
		return child, impl, err
	}
	dfd, dfdDone, err := in.dir()
	if err != nil {
		return nil, nil, err
	}
	defer dfdDone()
	if err := in.writable(); err != nil {
		return nil, nil, err
	}
	perm := opts.Mode & 0o7777
	hostFlags := int(flags&(unix.O_ACCMODE|unix.O_APPEND|unix.O_NONBLOCK|unix.O_SYNC|unix.O_DSYNC)) |
		unix.O_CREAT | unix.O_EXCL | unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err := unix.Openat(dfd, name, hostFlags, perm)
	if err != nil {
		return nil, nil, err
	}
	unix.Fchmod(fd, perm) // exact mode, no host umask
	child, err := in.lookupNew(name, opts)
	if err != nil {
		unix.Close(fd)
		return nil, nil, err
	}
	return child, &regFile{fd: fd}, nil
}

// Mkdir implements vfs.DirInode.
func (in *inode) Mkdir(_ vfs.Context, name string, opts vfs.CreateOptions) (vfs.Inode, error) {
	if err := in.writable(); err != nil {
		return nil, err
	}
	if in.fs.rpc != nil {
		return in.fs.rpc.mkdir(in, name, opts)
	}
	dfd, dfdDone, err := in.dir()
	if err != nil {
		return nil, err
	}
	defer dfdDone()
	if err := unix.Mkdirat(dfd, name, opts.Mode&0o7777); err != nil {
		return nil, err
	}
	unix.Fchmodat(dfd, name, opts.Mode&0o7777, 0)
	return in.lookupNew(name, opts)
}

// Symlink implements vfs.DirInode.
func (in *inode) Symlink(_ vfs.Context, name, target string, opts vfs.CreateOptions) (vfs.Inode, error) {
	if err := in.writable(); err != nil {
		return nil, err
	}
	if in.fs.rpc != nil {
		return in.fs.rpc.symlink(in, name, target, opts)
	}
	dfd, dfdDone, err := in.dir()
	if err != nil {
		return nil, err
	}
	defer dfdDone()
	if err := unix.Symlinkat(target, dfd, name); err != nil {
		return nil, err
	}
	return in.lookupNew(name, opts)
}

// Link implements vfs.DirInode.
//
// A goferfs inode is reached through its parent and name, so the new name
// gets its own inode: after the old name is removed it still works.
func (in *inode) Link(_ vfs.Context, name string, target vfs.Inode) (vfs.Inode, error) {
	if err := in.writable(); err != nil {
		return nil, err
	}
	t, ok := target.(*inode)
	if !ok || t.fs != in.fs {
		return nil, unix.EXDEV
	}
	if in.fs.rpc != nil {
		return in.fs.rpc.link(in, name, t)
	}
	dirfd, tname, tdone, err := t.at()
	if err != nil {
		return nil, err
	}
	defer tdone()
	dfd, done, err := in.dir()
	if err != nil {
		return nil, err
	}
	defer done()
	if err := unix.Linkat(dirfd, tname, dfd, name, 0); err != nil {
		return nil, err
	}
	fd, err := unix.Openat(dfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return in.fs.newInode(in, name, fd)
}

// Unlink implements vfs.DirInode.
func (in *inode) Unlink(_ vfs.Context, name string, _ vfs.Inode) error {
	if err := in.writable(); err != nil {
		return err
	}
	if in.fs.rpc != nil {
		return in.fs.rpc.unlink(in, name, 0)
	}
	dfd, dfdDone, err := in.dir()
	if err != nil {
		return err
	}
	defer dfdDone()
	return unix.Unlinkat(dfd, name, 0)
}

// Rmdir implements vfs.DirInode.
func (in *inode) Rmdir(_ vfs.Context, name string, child vfs.Inode) error {
	if err := in.writable(); err != nil {
		return err
	}
	if in.fs.rpc != nil {
		return in.fs.rpc.unlink(in, name, unix.AT_REMOVEDIR)
	}
	dfd, dfdDone, err := in.dir()
	if err != nil {
		return err
	}
	defer dfdDone()
	if err := unix.Unlinkat(dfd, name, unix.AT_REMOVEDIR); err != nil {
		return err
	}
	if c, ok := child.(*inode); ok {
		in.fs.removedDir(c)
	}
	return nil
}

// renameHost renames on the host, with both directories' FDs pinned.
func (in *inode) renameHost(oldName string, nd *inode, newName string, flags uint32) error {
	dfd, done, err := in.dir()
	if err != nil {
		return err
	}
	defer done()
	ndfd, ndone, err := nd.dir()
	if err != nil {
		return err
	}
	defer ndone()
	return unix.Renameat2(dfd, oldName, ndfd, newName, uint(flags))
}

// Rename implements vfs.DirInode.
func (in *inode) Rename(_ vfs.Context, oldName string, child vfs.Inode, newDir vfs.DirInode, newName string, replaced vfs.Inode, flags uint32) error {
	if err := in.writable(); err != nil {
		return err
	}
	nd, ok := newDir.(*inode)
	if !ok || nd.fs != in.fs {
		return unix.EXDEV
	}
	var err error
	if in.fs.rpc != nil {
		err = in.fs.rpc.rename(in, oldName, nd, newName, flags)
	} else {
		err = in.renameHost(oldName, nd, newName, flags)
	}
	if err != nil {
		return err
	}
	in.fs.mu.Lock()
	defer in.fs.mu.Unlock()
	if c, ok := child.(*inode); ok {
		c.parent, c.name = nd, newName
	}
	r, ok := replaced.(*inode)
	switch {
	case ok && flags&unix.RENAME_EXCHANGE != 0:
		r.parent, r.name = in, oldName
	case ok && in.fs.rpc == nil:
		in.fs.removedDir(r)
	}
	return nil
}

// The VFS finds directory operations by type assertion; fail the build,
// not the lookups, if the interface changes.
var _ vfs.DirInode = (*inode)(nil)
