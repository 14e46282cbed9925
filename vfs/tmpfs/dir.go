package tmpfs

import (
	"github.com/google/btree"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/pipe"
	"golang.org/x/sys/unix"
)

// bogoDirentSize is the size tmpfs reports per directory entry.
const bogoDirentSize = 20

type dirent struct {
	name string
	in   tmpfsInode
	seq  int64 // getdents offset of this entry; stable while it exists
}

func direntLess(a, b *dirent) bool { return a.seq < b.seq }

// dirInode is a tmpfs directory. Its contents are protected by fs.mu.
type dirInode struct {
	inode
	parent   *dirInode // nil for the root
	children map[string]*dirent
	order    *btree.BTreeG[*dirent]
	nextSeq  int64
}

func (fs *FS) newDir(opts vfs.CreateOptions, parent *dirInode) *dirInode {
	d := &dirInode{parent: parent, children: make(map[string]*dirent), order: btree.NewG(8, direntLess), nextSeq: 2}
	fs.initInode(&d.inode, opts)
	d.nlink = 2
	return d
}

func (d *dirInode) dropped() { d.fs.inodes.Add(-1) }

// addLocked inserts a child; fs.mu is held.
func (d *dirInode) addLocked(name string, c tmpfsInode) {
	e := &dirent{name: name, in: c, seq: d.nextSeq}
	d.nextSeq++
	d.children[name] = e
	d.order.ReplaceOrInsert(e)
}

func (d *dirInode) removeLocked(name string) *dirent {
	e := d.children[name]
	if e != nil {
		delete(d.children, name)
		d.order.Delete(e)
	}
	return e
}

// Stat implements vfs.Inode.
func (d *dirInode) Stat(ctx vfs.Context) (vfs.Statx, error) {
	d.fs.mu.Lock()
	nlink, n := d.nlink, len(d.children)
	d.fs.mu.Unlock()
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.statLocked()
	st.Nlink = nlink
	st.Size = uint64(n+2) * bogoDirentSize
	return st, nil
}

// Open implements vfs.Inode.
func (d *dirInode) Open(vfs.Context, uint32) (vfs.FileImpl, error) {
	return &dirFile{d: d}, nil
}

// Lookup implements vfs.DirInode.
func (d *dirInode) Lookup(_ vfs.Context, name string) (vfs.Inode, error) {
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	if e := d.children[name]; e != nil {
		return e.in, nil
	}
	return nil, unix.ENOENT
}

func (d *dirInode) checkNewLocked(name string) error {
	if d.nlink == 0 {
		return unix.ENOENT
	}
	if _, ok := d.children[name]; ok {
		return unix.EEXIST
	}
	return nil
}

// newFile makes a non-directory inode for opts.Mode's type.
func (fs *FS) newFile(opts vfs.CreateOptions, target string) (tmpfsInode, error) {
	switch opts.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		r, err := fs.newReg(opts, false)
		if err != nil {
			return nil, err
		}
		return r, nil
	case unix.S_IFLNK:
		s := &symlinkInode{target: target}
		if err := fs.initInode(&s.inode, opts); err != nil {
			return nil, err
		}
		return s, nil
	case unix.S_IFIFO:
		f := &fifoInode{pipe: pipe.New()}
		if err := fs.initInode(&f.inode, opts); err != nil {
			return nil, err
		}
		return f, nil
	case unix.S_IFCHR, unix.S_IFBLK, unix.S_IFSOCK:
		o := &otherInode{}
		if err := fs.initInode(&o.inode, opts); err != nil {
			return nil, err
		}
		return o, nil
	}
	return nil, unix.EINVAL
}

func (d *dirInode) create(name string, opts vfs.CreateOptions, target string) (vfs.Inode, error) {
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	if err := d.checkNewLocked(name); err != nil {
		return nil, err
	}
	c, err := d.fs.newFile(opts, target)
	if err != nil {
		return nil, err
	}
	d.addLocked(name, c)
	d.touchCMTime()
	return c, nil
}

// Create implements vfs.DirInode.
func (d *dirInode) Create(_ vfs.Context, name string, opts vfs.CreateOptions) (vfs.Inode, error) {
	if opts.Mode&unix.S_IFMT == unix.S_IFDIR || opts.Mode&unix.S_IFMT == unix.S_IFLNK {
		return nil, unix.EINVAL
	}
	return d.create(name, opts, "")
}

// Symlink implements vfs.DirInode.
func (d *dirInode) Symlink(_ vfs.Context, name, target string, opts vfs.CreateOptions) (vfs.Inode, error) {
	opts.Mode = unix.S_IFLNK | 0o777
	return d.create(name, opts, target)
}

// Mkdir implements vfs.DirInode.
func (d *dirInode) Mkdir(_ vfs.Context, name string, opts vfs.CreateOptions) (vfs.Inode, error) {
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	if err := d.checkNewLocked(name); err != nil {
		return nil, err
	}
	if d.fs.maxInodes > 0 && d.fs.inodes.Load() >= d.fs.maxInodes {
		return nil, unix.ENOSPC
	}
	c := d.fs.newDir(opts, d)
	d.addLocked(name, c)
	d.nlink++
	d.touchCMTime()
	return c, nil
}

// CreateTmpfile implements vfs.TmpfileInode.
func (d *dirInode) CreateTmpfile(_ vfs.Context, opts vfs.CreateOptions, linkable bool) (vfs.Inode, error) {
	r, err := d.fs.newReg(opts, linkable)
	if err != nil {
		return nil, err
	}
	r.nlink = 0
	return r, nil
}

// Link implements vfs.DirInode.
func (d *dirInode) Link(_ vfs.Context, name string, target vfs.Inode) (vfs.Inode, error) {
	t, ok := target.(tmpfsInode)
	if !ok || t.base().fs != d.fs {
		return nil, unix.EXDEV
	}
	if _, ok := t.(*dirInode); ok {
		return nil, unix.EPERM
	}
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	if err := d.checkNewLocked(name); err != nil {
		return nil, err
	}
	b := t.base()
	if b.nlink == 0 {
		r, ok := t.(*regInode)
		if !ok || !r.linkable {
			return nil, unix.ENOENT
		}
	}
	if b.nlink >= 65000 {
		return nil, unix.EMLINK
	}
	b.nlink++
	b.touchCTime()
	d.addLocked(name, t)
	d.touchCMTime()
	return target, nil
}

// unlinkedLocked drops one link of c; fs.mu is held.
func (fs *FS) unlinkedLocked(c tmpfsInode) {
	b := c.base()
	if b.nlink > 0 {
		b.nlink--
	}
	b.touchCTime()
	if b.nlink == 0 {
		if r, ok := c.(*regInode); ok {
			r.maybeFree()
			return
		}
		c.dropped()
	}
}

// Unlink implements vfs.DirInode.
func (d *dirInode) Unlink(_ vfs.Context, name string, child vfs.Inode) error {
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	e := d.children[name]
	if e == nil {
		return unix.ENOENT
	}
	if _, ok := e.in.(*dirInode); ok {
		return unix.EISDIR
	}
	d.removeLocked(name)
	d.fs.unlinkedLocked(e.in)
	d.touchCMTime()
	return nil
}

// Rmdir implements vfs.DirInode.
func (d *dirInode) Rmdir(_ vfs.Context, name string, child vfs.Inode) error {
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	e := d.children[name]
	if e == nil {
		return unix.ENOENT
	}
	c, ok := e.in.(*dirInode)
	if !ok {
		return unix.ENOTDIR
	}
	if len(c.children) != 0 {
		return unix.ENOTEMPTY
	}
	d.removeLocked(name)
	c.nlink = 0
	c.touchCTime()
	c.dropped()
	d.nlink--
	d.touchCMTime()
	return nil
}

// Rename implements vfs.DirInode.
func (d *dirInode) Rename(_ vfs.Context, oldName string, child vfs.Inode, newDir vfs.DirInode, newName string, replaced vfs.Inode, flags uint32) error {
	nd, ok := newDir.(*dirInode)
	if !ok || nd.fs != d.fs {
		return unix.EXDEV
	}
	fs := d.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	oe := d.children[oldName]
	if oe == nil {
		return unix.ENOENT
	}
	ne := nd.children[newName]
	cdir, _ := oe.in.(*dirInode)
	if flags&unix.RENAME_EXCHANGE != 0 {
		if ne == nil {
			return unix.ENOENT
		}
		rdir, _ := ne.in.(*dirInode)
		d.removeLocked(oldName)
		nd.removeLocked(newName)
		d.addLocked(oldName, ne.in)
		nd.addLocked(newName, oe.in)
		if d != nd {
			if cdir != nil {
				cdir.parent = nd
				d.nlink--
				nd.nlink++
			}
			if rdir != nil {
				rdir.parent = d
				nd.nlink--
				d.nlink++
			}
		}
		oe.in.base().touchCTime()
		ne.in.base().touchCTime()
		d.touchCMTime()
		nd.touchCMTime()
		return nil
	}
	if ne != nil {
		if ne.in == oe.in {
			return nil
		}
		if rdir, ok := ne.in.(*dirInode); ok {
			if cdir == nil {
				return unix.EISDIR
			}
			if len(rdir.children) != 0 {
				return unix.ENOTEMPTY
			}
			nd.removeLocked(newName)
			rdir.nlink = 0
			rdir.touchCTime()
			rdir.dropped()
			nd.nlink--
		} else {
			if cdir != nil {
				return unix.ENOTDIR
			}
			nd.removeLocked(newName)
			fs.unlinkedLocked(ne.in)
		}
	}
	d.removeLocked(oldName)
	nd.addLocked(newName, oe.in)
	if cdir != nil && d != nd {
		cdir.parent = nd
		d.nlink--
		nd.nlink++
	}
	oe.in.base().touchCTime()
	d.touchCMTime()
	if nd != d {
		nd.touchCMTime()
	}
	return nil
}

// dirFile is an open tmpfs directory. Offsets: 0 is ".", 1 is "..", and
// each child has the sequence number it got when it was added.
type dirFile struct {
	vfs.FileImplBase
	d *dirInode
}

// IterDirents implements vfs.DirFile.
func (f *dirFile) IterDirents(_ vfs.Context, off int64, cb func(vfs.Dirent) bool) error {
	d := f.d
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	pino := d.ino
	if d.parent != nil {
		pino = d.parent.ino
	}
	off, more := vfs.EmitDots(off, d.ino, pino, cb)
	if !more {
		return nil
	}
	d.order.AscendGreaterOrEqual(&dirent{seq: off}, func(e *dirent) bool {
		b := e.in.base()
		return cb(vfs.Dirent{Name: e.name, Ino: b.ino, Type: vfs.DirentType(b.mode), NextOff: e.seq + 1})
	})
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

// symlinkInode is a symbolic link.
type symlinkInode struct {
	inode
	target string
}

// Stat implements vfs.Inode.
func (s *symlinkInode) Stat(ctx vfs.Context) (vfs.Statx, error) {
	st, err := s.inode.Stat(ctx)
	st.Size = uint64(len(s.target))
	return st, err
}

// Readlink implements vfs.SymlinkInode.
func (s *symlinkInode) Readlink(vfs.Context) (string, error) { return s.target, nil }

// Open implements vfs.Inode.
func (s *symlinkInode) Open(vfs.Context, uint32) (vfs.FileImpl, error) { return nil, unix.ELOOP }

// fifoInode is a named pipe.
type fifoInode struct {
	inode
	pipe *pipe.Pipe
}

// Open implements vfs.Inode.
func (f *fifoInode) Open(ctx vfs.Context, flags uint32) (vfs.FileImpl, error) {
	return f.pipe.Open(ctx, flags)
}

// otherInode is a device node or socket (opened through the VFS).
type otherInode struct {
	inode
}

// Open implements vfs.Inode.
func (o *otherInode) Open(vfs.Context, uint32) (vfs.FileImpl, error) { return nil, unix.ENXIO }

// The VFS finds directory operations by type assertion; fail the build,
// not the lookups, if the interface changes.
var _ vfs.DirInode = (*dirInode)(nil)
