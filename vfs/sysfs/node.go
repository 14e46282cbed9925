package sysfs

import (
	"hash/fnv"
	"sort"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/vfs"
)

// The node types follow vfs/procfs's: directories list their entries on
// demand, files are generated when read, and inode numbers are hashes of
// the path so that getdents and stat agree without keeping inodes alive.
// sysfs is simpler (no tasks, nothing writable), and its files behave as
// Linux's kernfs attributes: a size of 4096 and EACCES for a write open of
// a file without write permission, even by root.

// attrSize is st_size of every sysfs attribute file (a page, as Linux).
const attrSize = 4096

// inoOf returns a stable inode number for the path of a file.
func inoOf(key string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	ino := h.Sum64() >> 1
	if ino < 2 {
		ino += 2
	}
	return ino
}

// node holds what every sysfs inode has. Every file belongs to root.
type node struct {
	fs   *FS
	ino  uint64
	mode uint32 // including the file type
}

// stat returns the attributes common to every kind of node.
func (n *node) stat() vfs.Statx {
	ts := n.fs.madeTS
	return vfs.Statx{
		Mask:    unix.STATX_BASIC_STATS,
		Blksize: 4096,
		Nlink:   1,
		Mode:    uint16(n.mode),
		Ino:     n.ino,
		Atime:   ts,
		Mtime:   ts,
		Ctime:   ts,
	}
}

// CheckPermissions implements vfs.PermissionChecker. A read-only sysfs
// instance refuses changes with EROFS before the permission check, as
// Linux's inode_permission does on a read-only superblock (a container's
// /sys), so that a user without access gets EROFS too, not EACCES.
func (n *node) CheckPermissions(_ vfs.Context, creds *vfs.Credentials, ats uint32) error {
	if ats&vfs.MayWrite != 0 && n.fs.opts.ReadOnly {
		return unix.EROFS
	}
	return vfs.GenericCheckPermissions(creds, ats, n.mode, 0, 0)
}

// SetStat implements vfs.Inode. The sentry keeps no attributes of its own
// for sysfs files: owner and mode changes are refused, and a truncation (by
// O_TRUNC) changes nothing, as Linux's sysfs ignores a size.
func (n *node) SetStat(_ vfs.Context, o *vfs.SetStatOptions) error {
	if o.Mask&(unix.STATX_MODE|unix.STATX_UID|unix.STATX_GID) != 0 {
		return unix.EPERM
	}
	return nil
}

// child is one directory entry.
type child struct {
	name  string
	inode vfs.Inode
	mode  uint32
	ino   uint64
	// off is the entry's directory offset; entries are sorted by it. 0
	// numbers the entry by its position (2, 3, ...).
	off int64
}

// dirNode is a directory whose entries are computed when it is read or
// searched.
type dirNode struct {
	node
	// The creating operations fail as on Linux's sysfs, whose
	// directories have no such inode operations (a read-only mount fails
	// them with EROFS first, in the VFS).
	vfs.FixedDir
	parentIno uint64
	list      func(ctx vfs.Context) ([]child, error)
	// volatile marks directories whose entries come and go (network
	// interfaces): their cached entries are checked again on each walk.
	volatile bool
}

// entries returns the directory's entries sorted by offset.
func (d *dirNode) entries(ctx vfs.Context) ([]child, error) {
	cs, err := d.list(ctx)
	if err != nil {
		return nil, err
	}
	for i := range cs {
		if cs[i].off == 0 {
			cs[i].off = int64(i) + 2
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].off < cs[j].off })
	return cs, nil
}

// Stat implements vfs.Inode: like Linux's, a directory's link count is 2
// plus its subdirectories.
func (d *dirNode) Stat(ctx vfs.Context) (vfs.Statx, error) {
	st := d.stat()
	cs, err := d.list(ctx)
	if err != nil {
		return vfs.Statx{}, err
	}
	st.Nlink = 2
	for _, c := range cs {
		if c.mode&unix.S_IFMT == unix.S_IFDIR {
			st.Nlink++
		}
	}
	return st, nil
}

// Open implements vfs.Inode.
func (d *dirNode) Open(vfs.Context, uint32) (vfs.FileImpl, error) { return &dirFile{d: d}, nil }

// Lookup implements vfs.DirInode.
func (d *dirNode) Lookup(ctx vfs.Context, name string) (vfs.Inode, error) {
	cs, err := d.list(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.name == name {
			return c.inode, nil
		}
	}
	return nil, unix.ENOENT
}

// Revalidate implements vfs.Revalidator: entries that come and go (network
// interfaces) must not outlive their object in the dentry cache.
func (d *dirNode) Revalidate(ctx vfs.Context, name string) bool {
	if !d.volatile {
		return true
	}
	cs, err := d.list(ctx)
	if err != nil {
		return false
	}
	for _, c := range cs {
		if c.name == name {
			return true
		}
	}
	return false
}

// mountPointNode is a permanently empty directory made to be mounted on
// (Linux's sysfs_create_mount_point: /sys/fs/cgroup). Lookups in it fail,
// so making a name there is ENOENT before any other check.
type mountPointNode struct {
	dirNode
}

// NoCreate implements vfs.NoCreateDir.
func (*mountPointNode) NoCreate() {}

// dirFile is an open sysfs directory. Offsets 0 and 1 are "." and "..";
// entries use their own offsets.
type dirFile struct {
	vfs.FileImplBase
	d *dirNode
}

// IterDirents implements vfs.DirFile.
func (f *dirFile) IterDirents(ctx vfs.Context, off int64, cb func(vfs.Dirent) bool) error {
	d := f.d
	off, more := vfs.EmitDots(off, d.ino, d.parentIno, cb)
	if !more {
		return nil
	}
	cs, err := d.entries(ctx)
	if err != nil {
		return err
	}
	i := sort.Search(len(cs), func(i int) bool { return cs[i].off >= off })
	for ; i < len(cs); i++ {
		c := cs[i]
		if !cb(vfs.Dirent{Name: c.name, Ino: c.ino, Type: vfs.DirentType(c.mode), NextOff: c.off + 1}) {
			return nil
		}
	}
	return nil
}

// Seek implements vfs.FileImpl: Linux's kernfs seeks a directory as a
// file of size 0.
func (f *dirFile) Seek(_ vfs.Context, off int64, whence int, cur int64) (int64, error) {
	return vfs.GenericSeek(off, whence, cur, 0)
}

// attrNode is an attribute file whose text is generated when read.
type attrNode struct {
	node
	gen func() ([]byte, error)
	// writeErr is what a write of a writable attribute gives: the sandbox
	// changes no attribute (a network interface's mtu or flags need
	// CAP_NET_ADMIN over the host's network).
	writeErr error
}

// Stat implements vfs.Inode.
func (a *attrNode) Stat(vfs.Context) (vfs.Statx, error) {
	st := a.stat()
	st.Size = attrSize
	return st, nil
}

// Open implements vfs.Inode: like kernfs, a write open of a file without
// write permission is EACCES even for root (whom the permission check
// lets through).
func (a *attrNode) Open(_ vfs.Context, flags uint32) (vfs.FileImpl, error) {
	if flags&unix.O_ACCMODE != unix.O_RDONLY && a.mode&0o222 == 0 {
		return nil, unix.EACCES
	}
	return &attrFile{a: a}, nil
}

// attrFile is an open attribute. As with Linux's seq_file, a read at
// offset 0 (or the first read) generates the text and reads at other
// offsets continue in that snapshot.
type attrFile struct {
	vfs.FileImplBase
	a *attrNode

	mu   sync.Mutex
	data []byte
	have bool
}

// RefusesNowait implements vfs.NowaitRefuser: kernfs files have no
// FMODE_NOWAIT.
func (f *attrFile) RefusesNowait() {}

// PRead implements vfs.FileImpl.
func (f *attrFile) PRead(_ vfs.Context, dst []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if off == 0 || !f.have {
		data, err := f.a.gen()
		if err != nil {
			return 0, err
		}
		f.data, f.have = data, true
	}
	if off >= int64(len(f.data)) {
		return 0, nil
	}
	return copy(dst, f.data[off:]), nil
}

// PWrite implements vfs.FileImpl.
func (f *attrFile) PWrite(vfs.Context, []byte, int64) (int, error) {
	if f.a.writeErr != nil {
		return 0, f.a.writeErr
	}
	return 0, unix.EINVAL
}

// Seek implements vfs.FileImpl: as Linux's kernfs, relative to the size
// stat shows (SEEK_END is 4096).
func (f *attrFile) Seek(_ vfs.Context, off int64, whence int, cur int64) (int64, error) {
	return vfs.GenericSeek(off, whence, cur, attrSize)
}

// linkNode is a symbolic link with a fixed target.
type linkNode struct {
	node
	target string
}

// Stat implements vfs.Inode.
func (l *linkNode) Stat(vfs.Context) (vfs.Statx, error) { return l.stat(), nil }

// Open implements vfs.Inode.
func (l *linkNode) Open(vfs.Context, uint32) (vfs.FileImpl, error) { return nil, unix.ELOOP }

// Readlink implements vfs.SymlinkInode.
func (l *linkNode) Readlink(vfs.Context) (string, error) { return l.target, nil }

// The VFS finds directory and link operations by type assertion; fail the
// build, not the lookups, if the interfaces change.
var (
	_ vfs.DirInode     = (*dirNode)(nil)
	_ vfs.Revalidator  = (*dirNode)(nil)
	_ vfs.NoCreateDir  = (*mountPointNode)(nil)
	_ vfs.SymlinkInode = (*linkNode)(nil)
	_ vfs.DirFile      = (*dirFile)(nil)
)
