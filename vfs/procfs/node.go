package procfs

import (
	"hash/fnv"
	"sort"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/vfs"
)

// inoOf returns a stable inode number for a key naming a procfs file, so
// that getdents and stat agree without keeping inode objects alive.
func inoOf(key string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	ino := h.Sum64() >> 1
	if ino < 2 {
		ino += 2
	}
	return ino
}

// node holds what every procfs inode has: an inode number, a mode and an
// owner (the process's effective IDs for per-process files, root
// otherwise).
type node struct {
	fs   *FS
	ino  uint64
	mode uint32 // including the file type
	// owner resolves the task the file belongs to; nil for global files.
	owner *taskRef
	// valid, if set, reports whether the file still exists (fd entries).
	valid func(ctx vfs.Context) bool
	// statWhenGone keeps a task directory's attributes readable after its
	// task is gone (fstat of an open /proc/PID), as Linux's inode does.
	statWhenGone bool
}

func (n *node) check(ctx vfs.Context) error {
	if n.owner != nil && n.owner.task() == nil {
		return unix.ENOENT
	}
	if n.valid != nil && !n.valid(ctx) {
		return unix.ENOENT
	}
	return nil
}

// Stat implements vfs.Inode.
func (n *node) Stat(ctx vfs.Context) (vfs.Statx, error) {
	if err := n.check(ctx); err != nil && !n.statWhenGone {
		return vfs.Statx{}, err
	}
	var uid, gid uint32
	if n.owner != nil {
		uid, gid = n.owner.ids()
	}
	ts := n.fs.bootTS
	if n.owner != nil {
		ts = n.owner.startTS()
	}
	nlink := uint32(1)
	if n.mode&unix.S_IFMT == unix.S_IFDIR {
		nlink = 2
	}
	return vfs.Statx{
		Mask:    unix.STATX_BASIC_STATS,
		Blksize: 1024,
		Nlink:   nlink,
		Uid:     uid,
		Gid:     gid,
		Mode:    uint16(n.mode),
		Ino:     n.ino,
		Atime:   ts,
		Mtime:   ts,
		Ctime:   ts,
	}, nil
}

// SetStat implements vfs.Inode: like Linux, mode changes are refused and
// the rest (O_TRUNC on a writable file) is accepted and ignored.
func (n *node) SetStat(ctx vfs.Context, o *vfs.SetStatOptions) error {
	if err := n.check(ctx); err != nil {
		return err
	}
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
	// off is the entry's directory offset; entries are sorted by it.
	off int64
}

// dirNode is a directory whose entries are computed on demand.
type dirNode struct {
	node
	vfs.FixedDir // no creation, removal or rename
	parentIno    uint64
	// list returns the entries, sorted by off (0 offsets are numbered
	// 2, 3, ... by position).
	list func(ctx vfs.Context) ([]child, error)
	// lookup, if set, finds one entry without listing them all.
	lookup func(ctx vfs.Context, name string) (vfs.Inode, error)
	// process marks /proc/PID.
	process bool
	// exists, if set, reports whether a cached entry is still there.
	exists func(name string) bool
}

// Revalidate implements vfs.Revalidator.
func (d *dirNode) Revalidate(_ vfs.Context, name string) bool {
	return d.exists == nil || d.exists(name)
}

func (d *dirNode) entries(ctx vfs.Context) ([]child, error) {
	if err := d.check(ctx); err != nil {
		return nil, err
	}
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

// Open implements vfs.Inode.
func (d *dirNode) Open(ctx vfs.Context, flags uint32) (vfs.FileImpl, error) {
	if err := d.check(ctx); err != nil {
		return nil, err
	}
	return &dirFile{d: d}, nil
}

// Lookup implements vfs.DirInode.
func (d *dirNode) Lookup(ctx vfs.Context, name string) (vfs.Inode, error) {
	if err := d.check(ctx); err != nil {
		// Linux: a lookup in the directory of a task that is gone.
		if d.statWhenGone && err == unix.ENOENT {
			return nil, unix.ESRCH
		}
		return nil, err
	}
	if d.lookup != nil {
		return d.lookup(ctx, name)
	}
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

// NoCreate implements vfs.NoCreateDir.
func (d *dirNode) NoCreate() {}

// dirFile is an open procfs directory. Offsets 0 and 1 are "." and "..";
// entries use their own stable offsets.
type dirFile struct {
	vfs.FileImplBase
	d *dirNode
}

// Sync implements vfs.Syncer: proc directories have no fsync (EINVAL).
func (f *dirFile) Sync(vfs.Context) error { return unix.EINVAL }

// IterDirents implements vfs.DirFile.
func (f *dirFile) IterDirents(ctx vfs.Context, off int64, cb func(vfs.Dirent) bool) error {
	d := f.d
	if d.fs.onReaddir != nil && d.ino == d.fs.rootIno {
		d.fs.onReaddir()
	}
	// A directory whose task is gone lists nothing, not even "." (ENOENT).
	if err := d.check(ctx); err != nil {
		return err
	}
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

// Seek implements vfs.FileImpl.
func (f *dirFile) Seek(_ vfs.Context, off int64, whence int, cur int64) (int64, error) {
	switch whence {
	case unix.SEEK_SET, unix.SEEK_CUR:
		return vfs.GenericSeek(off, whence, cur, -1)
	}
	return 0, unix.EINVAL
}

// regNode is a file whose contents are generated when read.
type regNode struct {
	node
	gen func(ctx vfs.Context) ([]byte, error)
	// write, if set, makes the file writable: it gets the data of one
	// write(2) and its offset.
	write func(ctx vfs.Context, src []byte, off int64) (int, error)
}

// Open implements vfs.Inode.
func (r *regNode) Open(ctx vfs.Context, flags uint32) (vfs.FileImpl, error) {
	if err := r.check(ctx); err != nil {
		return nil, err
	}
	return &seqFile{r: r}, nil
}

// seqFile is an open generated file. Like Linux's seq_file, the text is
// generated by a read at offset 0 (or the first read) and later reads at
// other offsets continue in that snapshot, so partial reads are consistent.
type seqFile struct {
	vfs.FileImplBase
	r *regNode

	mu   sync.Mutex
	data []byte
	have bool
	pos  atomic.Int64 // offset after the last read or write (fdinfo of this file)
}

// RefusesNowait implements vfs.NowaitRefuser: proc files have no
// FMODE_NOWAIT.
func (f *seqFile) RefusesNowait() {}

// Sync implements vfs.Syncer: proc files have no fsync (EINVAL).
func (f *seqFile) Sync(vfs.Context) error { return unix.EINVAL }

// PRead implements vfs.FileImpl.
func (f *seqFile) PRead(ctx vfs.Context, dst []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.r.gen == nil {
		return 0, unix.EINVAL
	}
	if off == 0 || !f.have {
		f.pos.Store(off)
		data, err := f.r.gen(withSelf(ctx, f, off))
		if err != nil {
			return 0, err
		}
		f.data, f.have = data, true
	}
	if off >= int64(len(f.data)) {
		f.pos.Store(off)
		return 0, nil
	}
	n := copy(dst, f.data[off:])
	f.pos.Store(off + int64(n))
	return n, nil
}

// PWrite implements vfs.FileImpl.
func (f *seqFile) PWrite(ctx vfs.Context, src []byte, off int64) (int, error) {
	if f.r.write == nil {
		return 0, unix.EINVAL
	}
	if err := f.r.check(ctx); err != nil {
		return 0, unix.ESRCH
	}
	n, err := f.r.write(ctx, src, off)
	f.mu.Lock()
	f.have = false
	f.pos.Store(off + int64(n))
	f.mu.Unlock()
	return n, err
}

// Seek implements vfs.FileImpl: SEEK_END is not supported (the size is 0).
func (f *seqFile) Seek(_ vfs.Context, off int64, whence int, cur int64) (int64, error) {
	return vfs.GenericSeek(off, whence, cur, -1)
}

// selfCtx is passed to generators so fdinfo can report the position of the
// very file being read without taking its offset lock (File.Read holds it).
type selfCtx struct {
	vfs.Context
	f   *seqFile
	off int64
}

func withSelf(ctx vfs.Context, f *seqFile, off int64) vfs.Context {
	return selfCtx{ctx, f, off}
}

// linkNode is a symbolic link whose target is computed.
type linkNode struct {
	node
	target func(ctx vfs.Context) (string, error)
}

// Open implements vfs.Inode.
func (l *linkNode) Open(vfs.Context, uint32) (vfs.FileImpl, error) { return nil, unix.ELOOP }

// Readlink implements vfs.SymlinkInode.
func (l *linkNode) Readlink(ctx vfs.Context) (string, error) {
	if err := l.check(ctx); err != nil {
		return "", err
	}
	return l.target(ctx)
}

// magicLinkNode is a link that resolves to a Location directly (fd/N, cwd,
// root, exe), like Linux's proc "magic" links.
type magicLinkNode struct {
	linkNode
	getlink func(ctx vfs.Context) (vfs.Location, error)
}

// Getlink implements vfs.MagicLinkInode.
func (m *magicLinkNode) Getlink(ctx vfs.Context) (vfs.Location, error) {
	if err := m.check(ctx); err != nil {
		return vfs.Location{}, err
	}
	return m.getlink(ctx)
}

// Helpers to build nodes.

func (fs *FS) newDir(key string, parentIno uint64, mode uint32, owner *taskRef,
	list func(vfs.Context) ([]child, error)) *dirNode {
	return &dirNode{node: node{fs: fs, ino: inoOf(key), mode: unix.S_IFDIR | mode, owner: owner},
		parentIno: parentIno, list: list}
}

func (fs *FS) newReg(key string, mode uint32, owner *taskRef, gen func(vfs.Context) ([]byte, error)) *regNode {
	return &regNode{node: node{fs: fs, ino: inoOf(key), mode: unix.S_IFREG | mode, owner: owner}, gen: gen}
}

func (fs *FS) newLink(key string, owner *taskRef, target func(vfs.Context) (string, error)) *linkNode {
	return &linkNode{node: node{fs: fs, ino: inoOf(key), mode: unix.S_IFLNK | 0o777, owner: owner}, target: target}
}

func (fs *FS) newMagicLink(key string, mode uint32, owner *taskRef, target func(vfs.Context) (string, error),
	getlink func(vfs.Context) (vfs.Location, error)) *magicLinkNode {
	return &magicLinkNode{linkNode: linkNode{node: node{fs: fs, ino: inoOf(key), mode: unix.S_IFLNK | mode, owner: owner},
		target: target}, getlink: getlink}
}

// childOf makes a directory entry for an inode built by the helpers above.
func childOf(name string, in vfs.Inode) child {
	var n *node
	switch x := in.(type) {
	case *dirNode:
		n = &x.node
	case *regNode:
		n = &x.node
	case *linkNode:
		n = &x.node
	case *magicLinkNode:
		n = &x.node
	}
	return child{name: name, inode: in, mode: n.mode, ino: n.ino}
}

// static returns a generator of fixed text.
func static(s string) func(vfs.Context) ([]byte, error) {
	return func(vfs.Context) ([]byte, error) { return []byte(s), nil }
}

// The VFS finds directory operations by type assertion; fail the build,
// not the lookups, if the interface changes.
var _ vfs.DirInode = (*dirNode)(nil)
