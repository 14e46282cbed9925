package vfs

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Dentry is a cached name -> inode binding in a filesystem's tree. Dentries
// are owned by the VFS; filesystems only see Inodes. Children found by
// lookups stay cached; the namespace operations keep the cache in sync.
type Dentry struct {
	fs     *Filesystem
	inode  Inode
	ftype  uint32 // S_IFMT bits, fixed for the life of the inode
	parent *Dentry
	name   string
	mounts int         // number of mounts on this dentry (vfs.mu)
	dead   atomic.Bool // unlinked
	// opens counts open files (not O_PATH) of this dentry: inotify's
	// IN_DELETE_SELF waits for the last close of an unlinked file.
	opens atomic.Int32

	mu       sync.Mutex
	children map[string]*Dentry
}

func newDentry(fs *Filesystem, parent *Dentry, name string, inode Inode, ftype uint32) *Dentry {
	return &Dentry{fs: fs, inode: inode, parent: parent, name: name, ftype: ftype & unix.S_IFMT}
}

// Inode returns the dentry's inode.
func (d *Dentry) Inode() Inode { return d.inode }

// Filesystem returns the filesystem the dentry belongs to.
func (d *Dentry) Filesystem() *Filesystem { return d.fs }

// Name returns the dentry's last name.
func (d *Dentry) Name() string { return d.name }

// FileType returns the S_IFMT bits of the inode.
func (d *Dentry) FileType() uint32 { return d.ftype }

// IsDir reports whether the inode is a directory.
func (d *Dentry) IsDir() bool { return d.ftype == unix.S_IFDIR }

// IsSymlink reports whether the inode is a symbolic link.
func (d *Dentry) IsSymlink() bool { return d.ftype == unix.S_IFLNK }

// IsDead reports whether the dentry was unlinked (rmdir'd cwd: getcwd gives
// ENOENT).
func (d *Dentry) IsDead() bool { return d.dead.Load() }

func (d *Dentry) isDescendantOf(a *Dentry) bool {
	for x := d; x != nil; x = x.parent {
		if x == a {
			return true
		}
	}
	return false
}

// cachedChild returns the cached child or nil.
func (d *Dentry) cachedChild(name string) *Dentry {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.children[name]
}

func (d *Dentry) insertChild(c *Dentry) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.children == nil {
		d.children = make(map[string]*Dentry)
	}
	d.children[c.name] = c
}

func (d *Dentry) removeChild(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.children, name)
}

// lookup returns the child dentry called name, from the cache or from the
// filesystem. vfs.mu must be held (read or write).
func (d *Dentry) lookup(ctx Context, name string) (*Dentry, error) {
	if c := d.cachedChild(name); c != nil {
		rv, ok := d.inode.(Revalidator)
		if !ok || rv.Revalidate(ctx, name) {
			return c, nil
		}
		d.Invalidate(name)
	}
	di, ok := d.inode.(DirInode)
	if !ok {
		return nil, unix.ENOTDIR
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if c := d.children[name]; c != nil {
		return c, nil
	}
	in, err := di.Lookup(ctx, name)
	if err != nil {
		return nil, err
	}
	c := &Dentry{fs: d.fs, inode: in, parent: d, name: name}
	st, err := in.Stat(ctx)
	if err != nil {
		return nil, err
	}
	c.ftype = uint32(st.Mode) & unix.S_IFMT
	if d.children == nil {
		d.children = make(map[string]*Dentry)
	}
	d.children[name] = c
	return c, nil
}

// Invalidate drops the cached child called name (for filesystems whose
// contents change behind the VFS's back). Mount points are kept.
func (d *Dentry) Invalidate(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c := d.children[name]; c != nil && c.mounts == 0 {
		delete(d.children, name)
	}
}
