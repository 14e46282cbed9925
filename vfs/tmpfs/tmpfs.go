// Package tmpfs is an in-memory filesystem for the VFS: metadata in Go
// memory, regular file data in pages of the sentry's memory file (sparse:
// holes read as zeroes and are skipped by SEEK_DATA/SEEK_HOLE), with an
// optional size limit that gives ENOSPC. Regular files implement
// vfs.Mappable so the memory manager can map their pages shared. It also
// serves as the upper layer of the overlay root filesystem.
package tmpfs

import (
	"sync"
	"sync/atomic"

	"github.com/runsc-lite/runsc-lite/sentry/memfile"
	"github.com/runsc-lite/runsc-lite/vfs"
	"golang.org/x/sys/unix"
)

// Magic is TMPFS_MAGIC (statfs f_type).
const Magic = 0x01021994

const pageSize = memfile.PageSize

// Options configure a tmpfs instance.
type Options struct {
	// MaxBytes limits the data stored (0: only the memory file's size).
	MaxBytes int64
	// MaxInodes limits the number of files (0: unlimited).
	MaxInodes int64
	// RootMode is the root directory's permission bits (0 means 01777).
	RootMode uint32
	// RootUID and RootGID own the root directory.
	RootUID, RootGID uint32
	// Sealable makes regular files start without F_SEAL_SEAL, so that
	// seals can be added (memfd_create's instance); otherwise they start
	// and stay with it, as Linux's tmpfs files do.
	Sealable bool
}

// FS is a tmpfs instance.
type FS struct {
	mf    *memfile.File
	vfsfs *vfs.Filesystem

	// mu protects all directory contents, parents and link counts.
	mu sync.Mutex

	nextIno   atomic.Uint64
	usedPages atomic.Int64
	maxPages  int64
	inodes    atomic.Int64
	maxInodes int64
	sealable  bool
}

// New makes a tmpfs instance with data in mf and returns its vfs
// Filesystem.
func New(v *vfs.VFS, mf *memfile.File, opts Options) (*vfs.Filesystem, error) {
	fs := &FS{mf: mf, maxInodes: opts.MaxInodes, sealable: opts.Sealable}
	if opts.MaxBytes > 0 {
		fs.maxPages = (opts.MaxBytes + pageSize - 1) / pageSize
	} else {
		fs.maxPages = mf.Size() / pageSize
	}
	mode := opts.RootMode
	if mode == 0 {
		mode = 0o1777
	}
	root := fs.newDir(vfs.CreateOptions{Mode: unix.S_IFDIR | mode&0o7777, UID: opts.RootUID, GID: opts.RootGID}, nil)
	fs.vfsfs = v.NewFilesystem(fs, root)
	return fs.vfsfs, nil
}

// Name implements vfs.FilesystemImpl.
func (fs *FS) Name() string { return "tmpfs" }

// Release implements vfs.FilesystemImpl.
func (fs *FS) Release() {}

// StatFS implements vfs.FilesystemImpl.
func (fs *FS) StatFS(vfs.Context) (vfs.Statfs, error) {
	used := fs.usedPages.Load()
	st := vfs.Statfs{
		Type:    Magic,
		Bsize:   pageSize,
		Frsize:  pageSize,
		Blocks:  uint64(fs.maxPages),
		Bfree:   uint64(max(fs.maxPages-used, 0)),
		Bavail:  uint64(max(fs.maxPages-used, 0)),
		Namelen: vfs.NameMax,
	}
	if fs.maxInodes > 0 {
		st.Files = uint64(fs.maxInodes)
		st.Ffree = uint64(max(fs.maxInodes-fs.inodes.Load(), 0))
	} else {
		st.Files = 1 << 20
		st.Ffree = st.Files - uint64(min(fs.inodes.Load(), 1<<20))
	}
	return st, nil
}

// allocPage allocates one page against the size limit.
func (fs *FS) allocPage() (int64, error) {
	if fs.usedPages.Add(1) > fs.maxPages {
		fs.usedPages.Add(-1)
		return 0, unix.ENOSPC
	}
	off, err := fs.mf.Allocate()
	if err != nil {
		fs.usedPages.Add(-1)
		return 0, unix.ENOSPC
	}
	return off, nil
}

func (fs *FS) freePage(off int64) {
	fs.mf.DecRef(off)
	fs.usedPages.Add(-1)
}

// inode holds the attributes common to every tmpfs file.
type inode struct {
	fs  *FS
	ino uint64

	mu     sync.Mutex // attributes and data
	mode   uint32
	uid    uint32
	gid    uint32
	nlink  uint32 // fs.mu
	rdev   uint64
	atime  vfs.Timestamp
	mtime  vfs.Timestamp
	ctime  vfs.Timestamp
	btime  vfs.Timestamp
	xattrs map[string][]byte
}

func (fs *FS) initInode(in *inode, opts vfs.CreateOptions) error {
	if fs.maxInodes > 0 && fs.inodes.Load() >= fs.maxInodes {
		return unix.ENOSPC
	}
	fs.inodes.Add(1)
	now := vfs.NowTimestamp()
	*in = inode{fs: fs, ino: fs.nextIno.Add(1), mode: opts.Mode, uid: opts.UID, gid: opts.GID, rdev: opts.Rdev,
		atime: now, mtime: now, ctime: now, btime: now, nlink: 1}
	return nil
}

// tmpfsInode is implemented by every tmpfs inode type.
type tmpfsInode interface {
	vfs.Inode
	base() *inode
	// dropped is called when the inode has no link and no open file.
	dropped()
}

func (in *inode) base() *inode { return in }

func (in *inode) dropped() { in.fs.inodes.Add(-1) }

// statLocked fills the common attributes; in.mu is held.
func (in *inode) statLocked() vfs.Statx {
	return vfs.Statx{
		Mask:       unix.STATX_BASIC_STATS | unix.STATX_BTIME,
		Blksize:    pageSize,
		Nlink:      in.nlink,
		Uid:        in.uid,
		Gid:        in.gid,
		Mode:       uint16(in.mode),
		Ino:        in.ino,
		Atime:      in.atime,
		Btime:      in.btime,
		Ctime:      in.ctime,
		Mtime:      in.mtime,
		Rdev_major: unix.Major(in.rdev),
		Rdev_minor: unix.Minor(in.rdev),
		// The file attributes tmpfs supports (shmem_getattr).
		Attributes_mask: unix.STATX_ATTR_APPEND | unix.STATX_ATTR_IMMUTABLE | unix.STATX_ATTR_NODUMP,
	}
}

// setStatLocked applies everything but the size; in.mu is held.
func (in *inode) setStatLocked(o *vfs.SetStatOptions) {
	if o.Mask&unix.STATX_MODE != 0 {
		in.mode = in.mode&unix.S_IFMT | o.Mode&0o7777
	}
	if o.Mask&unix.STATX_UID != 0 {
		in.uid = o.UID
	}
	if o.Mask&unix.STATX_GID != 0 {
		in.gid = o.GID
	}
	if o.Mask&unix.STATX_ATIME != 0 {
		in.atime = o.Atime
	}
	if o.Mask&unix.STATX_MTIME != 0 {
		in.mtime = o.Mtime
	}
	in.ctime = vfs.NowTimestamp()
}

// Stat implements vfs.Inode for inodes without a size.
func (in *inode) Stat(vfs.Context) (vfs.Statx, error) {
	in.fs.mu.Lock()
	nlink := in.nlink
	in.fs.mu.Unlock()
	in.mu.Lock()
	defer in.mu.Unlock()
	st := in.statLocked()
	st.Nlink = nlink
	return st, nil
}

// SetStat implements vfs.Inode for inodes without a size.
func (in *inode) SetStat(_ vfs.Context, o *vfs.SetStatOptions) error {
	if o.Mask&unix.STATX_SIZE != 0 {
		if in.mode&unix.S_IFMT == unix.S_IFDIR {
			return unix.EISDIR
		}
		return unix.EINVAL
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.setStatLocked(o)
	return nil
}

func (in *inode) touchCMTime() {
	now := vfs.NowTimestamp()
	in.mu.Lock()
	in.mtime, in.ctime = now, now
	in.mu.Unlock()
}

func (in *inode) touchCTime() {
	now := vfs.NowTimestamp()
	in.mu.Lock()
	in.ctime = now
	in.mu.Unlock()
}

// GetXattr implements vfs.XattrInode.
func (in *inode) GetXattr(_ vfs.Context, name string) ([]byte, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	v, ok := in.xattrs[name]
	if !ok {
		return nil, unix.ENODATA
	}
	return append([]byte(nil), v...), nil
}

// SetXattr implements vfs.XattrInode.
func (in *inode) SetXattr(_ vfs.Context, name string, value []byte, flags int) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	_, ok := in.xattrs[name]
	if ok && flags&unix.XATTR_CREATE != 0 {
		return unix.EEXIST
	}
	if !ok && flags&unix.XATTR_REPLACE != 0 {
		return unix.ENODATA
	}
	if in.xattrs == nil {
		in.xattrs = make(map[string][]byte)
	}
	in.xattrs[name] = append([]byte(nil), value...)
	in.ctime = vfs.NowTimestamp()
	return nil
}

// ListXattr implements vfs.XattrInode.
func (in *inode) ListXattr(vfs.Context) ([]string, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	names := make([]string, 0, len(in.xattrs))
	for n := range in.xattrs {
		names = append(names, n)
	}
	return names, nil
}

// RemoveXattr implements vfs.XattrInode.
func (in *inode) RemoveXattr(_ vfs.Context, name string) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if _, ok := in.xattrs[name]; !ok {
		return unix.ENODATA
	}
	delete(in.xattrs, name)
	in.ctime = vfs.NowTimestamp()
	return nil
}

// Ino returns the inode number (for tests and the overlay).
func Ino(i vfs.Inode) uint64 {
	if t, ok := i.(tmpfsInode); ok {
		return t.base().ino
	}
	return 0
}
