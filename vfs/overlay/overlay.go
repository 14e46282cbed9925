// Package overlay implements the sandbox's root filesystem: a read-only
// lower filesystem (any vfs filesystem; in production the host root through
// goferfs) under a writable upper tmpfs. Lookups merge the layers,
// directories list their union minus whiteouts, and the first modification
// of a lower file (open for writing, truncate, chmod/chown/utimes, xattr
// changes, link, rename) copies it and its parent directories up. Unlinking
// a lower entry leaves a whiteout (a 0:0 character device in the upper
// layer); a directory created over a whiteout, and any renamed directory,
// is opaque (xattr trusted.overlay.opaque=y). Renaming a directory that has
// lower contents copies its whole tree up, so mv works. Nothing is ever
// written to the lower layer.
package overlay

import (
	"strings"
	"sync"

	"github.com/runsc-lite/runsc-lite/vfs"
	"golang.org/x/sys/unix"
)

// Magic is OVERLAYFS_SUPER_MAGIC.
const Magic = 0x794c7630

const (
	opaqueXattr   = "trusted.overlay.opaque"
	privatePrefix = "trusted.overlay."
	// upperInoBase is added to the inode numbers of upper-only files so
	// they do not collide with lower ones.
	upperInoBase = 1 << 56
)

// FS is an overlay instance.
type FS struct {
	// mu serializes all namespace changes and copy-ups.
	mu    sync.Mutex
	upper *vfs.Filesystem
	lower *vfs.Filesystem
}

// New makes an overlay of upper (a writable filesystem supporting
// whiteouts as 0:0 character devices and trusted.* xattrs: tmpfs) over
// lower (never modified) and returns its Filesystem. Only the roots of the
// two filesystems are used.
func New(v *vfs.VFS, upper, lower *vfs.Filesystem) (*vfs.Filesystem, error) {
	fs := &FS{upper: upper, lower: lower}
	ctx := vfs.NewContext(vfs.RootCredentials())
	root := &node{fs: fs, upper: upper.Root().Inode(), lower: lower.Root().Inode(), ftype: unix.S_IFDIR}
	st, err := root.lower.Stat(ctx)
	if err != nil {
		return nil, err
	}
	root.ino = st.Ino
	// The root directory looks like the lower one.
	if err := root.upper.SetStat(ctx, &vfs.SetStatOptions{Mask: unix.STATX_MODE | unix.STATX_UID | unix.STATX_GID | unix.STATX_ATIME | unix.STATX_MTIME,
		Mode: uint32(st.Mode) & 0o7777, UID: st.Uid, GID: st.Gid, Atime: st.Atime, Mtime: st.Mtime}); err != nil {
		return nil, err
	}
	return v.NewFilesystem(fs, root), nil
}

// Name implements vfs.FilesystemImpl.
func (fs *FS) Name() string { return "overlay" }

// Release implements vfs.FilesystemImpl.
func (fs *FS) Release() {}

// StatFS implements vfs.FilesystemImpl: the upper layer's numbers.
func (fs *FS) StatFS(ctx vfs.Context) (vfs.Statfs, error) {
	st, err := fs.upper.Impl().StatFS(ctx)
	st.Type = Magic
	return st, err
}

// node is an overlay file: the upper and/or lower inode at one path.
type node struct {
	fs *FS
	// Protected by fs.mu.
	parent *node
	name   string
	upper  vfs.Inode
	lower  vfs.Inode // copy-up source, and merge source of directories
	opaque bool      // the upper directory hides the lower one
	ftype  uint32
	ino    uint64
}

func (n *node) layers() (upper, lower vfs.Inode) {
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	return n.upper, n.lower
}

func (n *node) top() vfs.Inode {
	u, l := n.layers()
	if u != nil {
		return u
	}
	return l
}

// lowerDir returns the lower directory to merge with, or nil.
func (n *node) lowerDir() vfs.DirInode {
	if n.opaque || n.lower == nil || n.ftype != unix.S_IFDIR {
		return nil
	}
	d, _ := n.lower.(vfs.DirInode)
	return d
}

func fileType(ctx vfs.Context, in vfs.Inode) (uint32, vfs.Statx, error) {
	st, err := in.Stat(ctx)
	return uint32(st.Mode) & unix.S_IFMT, st, err
}

func isWhiteout(ctx vfs.Context, in vfs.Inode) bool {
	st, err := in.Stat(ctx)
	return err == nil && uint32(st.Mode)&unix.S_IFMT == unix.S_IFCHR && st.Rdev_major == 0 && st.Rdev_minor == 0
}

func isOpaque(ctx vfs.Context, in vfs.Inode) bool {
	x, ok := in.(vfs.XattrInode)
	if !ok {
		return false
	}
	v, err := x.GetXattr(ctx, opaqueXattr)
	return err == nil && string(v) == "y"
}

func setOpaque(ctx vfs.Context, in vfs.Inode) error {
	x, ok := in.(vfs.XattrInode)
	if !ok {
		return unix.EOPNOTSUPP
	}
	return x.SetXattr(ctx, opaqueXattr, []byte("y"), 0)
}

// Stat implements vfs.Inode. Like Linux, a merged directory (upper and
// lower) reports st_nlink 1 rather than counting subdirectories.
func (n *node) Stat(ctx vfs.Context) (vfs.Statx, error) {
	n.fs.mu.Lock()
	up, low, merged := n.upper, n.lower, n.lowerDir() != nil && n.upper != nil
	n.fs.mu.Unlock()
	top := up
	if top == nil {
		top = low
	}
	st, err := top.Stat(ctx)
	st.Ino = n.ino
	if merged {
		st.Nlink = 1
	}
	return st, err
}

// SetStat implements vfs.Inode: it copies the file up first.
func (n *node) SetStat(ctx vfs.Context, opts *vfs.SetStatOptions) error {
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	skipData := opts.Mask&unix.STATX_SIZE != 0 && opts.Size == 0
	if err := n.copyUpLocked(ctx, skipData); err != nil {
		return err
	}
	return n.upper.SetStat(ctx, opts)
}

// Open implements vfs.Inode.
func (n *node) Open(ctx vfs.Context, flags uint32) (vfs.FileImpl, error) {
	if n.ftype == unix.S_IFDIR {
		return &dirFile{n: n}, nil
	}
	if n.ftype == unix.S_IFREG && (flags&unix.O_ACCMODE != unix.O_RDONLY || flags&unix.O_TRUNC != 0) {
		n.fs.mu.Lock()
		err := n.copyUpLocked(ctx, flags&unix.O_TRUNC != 0)
		n.fs.mu.Unlock()
		if err != nil {
			return nil, err
		}
	}
	return n.top().Open(ctx, flags)
}

// Readlink implements vfs.SymlinkInode.
func (n *node) Readlink(ctx vfs.Context) (string, error) {
	s, ok := n.top().(vfs.SymlinkInode)
	if !ok {
		return "", unix.EINVAL
	}
	return s.Readlink(ctx)
}

// GetXattr implements vfs.XattrInode.
func (n *node) GetXattr(ctx vfs.Context, name string) ([]byte, error) {
	if strings.HasPrefix(name, privatePrefix) {
		return nil, unix.ENODATA
	}
	x, ok := n.top().(vfs.XattrInode)
	if !ok {
		return nil, unix.ENODATA
	}
	return x.GetXattr(ctx, name)
}

// ListXattr implements vfs.XattrInode.
func (n *node) ListXattr(ctx vfs.Context) ([]string, error) {
	x, ok := n.top().(vfs.XattrInode)
	if !ok {
		return nil, nil
	}
	names, err := x.ListXattr(ctx)
	out := names[:0]
	for _, s := range names {
		if !strings.HasPrefix(s, privatePrefix) {
			out = append(out, s)
		}
	}
	return out, err
}

// SetXattr implements vfs.XattrInode.
func (n *node) SetXattr(ctx vfs.Context, name string, value []byte, flags int) error {
	if strings.HasPrefix(name, privatePrefix) {
		return unix.EPERM
	}
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	if err := n.copyUpLocked(ctx, false); err != nil {
		return err
	}
	x, ok := n.upper.(vfs.XattrInode)
	if !ok {
		return unix.EOPNOTSUPP
	}
	return x.SetXattr(ctx, name, value, flags)
}

// RemoveXattr implements vfs.XattrInode.
func (n *node) RemoveXattr(ctx vfs.Context, name string) error {
	if strings.HasPrefix(name, privatePrefix) {
		return unix.EPERM
	}
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	if err := n.copyUpLocked(ctx, false); err != nil {
		return err
	}
	x, ok := n.upper.(vfs.XattrInode)
	if !ok {
		return unix.EOPNOTSUPP
	}
	return x.RemoveXattr(ctx, name)
}

// Lookup implements vfs.DirInode.
func (n *node) Lookup(ctx vfs.Context, name string) (vfs.Inode, error) {
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	return n.lookupLocked(ctx, name)
}

func (n *node) lookupLocked(ctx vfs.Context, name string) (*node, error) {
	var up, low vfs.Inode
	var upType, lowType uint32
	var upSt, lowSt vfs.Statx
	if n.upper != nil {
		ud, ok := n.upper.(vfs.DirInode)
		if !ok {
			return nil, unix.ENOTDIR
		}
		c, err := ud.Lookup(ctx, name)
		switch {
		case err == nil:
			if isWhiteout(ctx, c) {
				return nil, unix.ENOENT
			}
			up = c
			upType, upSt, err = fileType(ctx, c)
			if err != nil {
				return nil, err
			}
		case err != unix.ENOENT:
			return nil, err
		}
	}
	opaque := up != nil && upType == unix.S_IFDIR && isOpaque(ctx, up)
	if ld := n.lowerDir(); ld != nil && !opaque {
		c, err := ld.Lookup(ctx, name)
		switch {
		case err == nil:
			lowType, lowSt, err = fileType(ctx, c)
			if err != nil {
				return nil, err
			}
			if up == nil || lowType == upType {
				low = c
			}
		case err != unix.ENOENT:
			return nil, err
		}
	}
	c := &node{fs: n.fs, parent: n, name: name, upper: up, lower: low, opaque: opaque}
	switch {
	case low != nil:
		c.ftype, c.ino = lowType, lowSt.Ino
	case up != nil:
		c.ftype, c.ino = upType, upSt.Ino+upperInoBase
	default:
		return nil, unix.ENOENT
	}
	return c, nil
}

// lowerHas reports whether the lower layer shows name in directory n.
func (n *node) lowerHas(ctx vfs.Context, name string) bool {
	ld := n.lowerDir()
	if ld == nil {
		return false
	}
	_, err := ld.Lookup(ctx, name)
	return err == nil
}

// clearWhiteoutLocked removes a whiteout at name in n's upper directory and
// reports whether there was one.
func (n *node) clearWhiteoutLocked(ctx vfs.Context, name string) (bool, error) {
	ud := n.upper.(vfs.DirInode)
	c, err := ud.Lookup(ctx, name)
	if err != nil {
		return false, nil
	}
	if !isWhiteout(ctx, c) {
		return false, unix.EEXIST
	}
	return true, ud.Unlink(ctx, name, c)
}

func (n *node) whiteoutLocked(ctx vfs.Context, name string) error {
	_, err := n.upper.(vfs.DirInode).Create(ctx, name, vfs.CreateOptions{Mode: unix.S_IFCHR})
	return err
}

// newChild prepares creation of name in n: copies n up and removes a
// whiteout. It returns the upper directory and whether a whiteout was
// there.
func (n *node) newChildLocked(ctx vfs.Context, name string) (vfs.DirInode, bool, error) {
	if err := n.copyUpLocked(ctx, false); err != nil {
		return nil, false, err
	}
	wh, err := n.clearWhiteoutLocked(ctx, name)
	if err != nil {
		return nil, false, err
	}
	return n.upper.(vfs.DirInode), wh, nil
}

func (n *node) newNode(ctx vfs.Context, name string, up vfs.Inode, ftype uint32) (*node, error) {
	st, err := up.Stat(ctx)
	if err != nil {
		return nil, err
	}
	return &node{fs: n.fs, parent: n, name: name, upper: up, ftype: ftype, ino: st.Ino + upperInoBase}, nil
}

// Create implements vfs.DirInode.
func (n *node) Create(ctx vfs.Context, name string, opts vfs.CreateOptions) (vfs.Inode, error) {
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	ud, _, err := n.newChildLocked(ctx, name)
	if err != nil {
		return nil, err
	}
	c, err := ud.Create(ctx, name, opts)
	if err != nil {
		return nil, err
	}
	return n.newNode(ctx, name, c, opts.Mode&unix.S_IFMT)
}

// Mkdir implements vfs.DirInode.
func (n *node) Mkdir(ctx vfs.Context, name string, opts vfs.CreateOptions) (vfs.Inode, error) {
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	ud, wh, err := n.newChildLocked(ctx, name)
	if err != nil {
		return nil, err
	}
	c, err := ud.Mkdir(ctx, name, opts)
	if err != nil {
		return nil, err
	}
	nn, err := n.newNode(ctx, name, c, unix.S_IFDIR)
	if err != nil {
		return nil, err
	}
	if wh {
		if err := setOpaque(ctx, c); err != nil {
			return nil, err
		}
		nn.opaque = true
	}
	return nn, nil
}

// Symlink implements vfs.DirInode.
func (n *node) Symlink(ctx vfs.Context, name, target string, opts vfs.CreateOptions) (vfs.Inode, error) {
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	ud, _, err := n.newChildLocked(ctx, name)
	if err != nil {
		return nil, err
	}
	c, err := ud.Symlink(ctx, name, target, opts)
	if err != nil {
		return nil, err
	}
	return n.newNode(ctx, name, c, unix.S_IFLNK)
}

// CreateTmpfile implements vfs.TmpfileInode.
func (n *node) CreateTmpfile(ctx vfs.Context, opts vfs.CreateOptions, linkable bool) (vfs.Inode, error) {
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	if err := n.copyUpLocked(ctx, false); err != nil {
		return nil, err
	}
	ti, ok := n.upper.(vfs.TmpfileInode)
	if !ok {
		return nil, unix.EOPNOTSUPP
	}
	c, err := ti.CreateTmpfile(ctx, opts, linkable)
	if err != nil {
		return nil, err
	}
	return n.newNode(ctx, "", c, unix.S_IFREG)
}

// Link implements vfs.DirInode.
func (n *node) Link(ctx vfs.Context, name string, target vfs.Inode) (vfs.Inode, error) {
	t, ok := target.(*node)
	if !ok || t.fs != n.fs {
		return nil, unix.EXDEV
	}
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	if err := t.copyUpLocked(ctx, false); err != nil {
		return nil, err
	}
	ud, _, err := n.newChildLocked(ctx, name)
	if err != nil {
		return nil, err
	}
	// The upper layer is a tmpfs, whose links share the inode: so do ours.
	if _, err := ud.Link(ctx, name, t.upper); err != nil {
		return nil, err
	}
	return t, nil
}

// Unlink implements vfs.DirInode.
func (n *node) Unlink(ctx vfs.Context, name string, child vfs.Inode) error {
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	c := child.(*node)
	if err := n.copyUpLocked(ctx, false); err != nil {
		return err
	}
	ud := n.upper.(vfs.DirInode)
	if uc, err := ud.Lookup(ctx, name); err == nil && !isWhiteout(ctx, uc) {
		if err := ud.Unlink(ctx, name, uc); err != nil {
			return err
		}
	}
	_ = c
	if n.lowerHas(ctx, name) {
		return n.whiteoutLocked(ctx, name)
	}
	return nil
}

// Rmdir implements vfs.DirInode.
func (n *node) Rmdir(ctx vfs.Context, name string, child vfs.Inode) error {
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	c := child.(*node)
	if err := c.checkEmptyLocked(ctx); err != nil {
		return err
	}
	if err := n.copyUpLocked(ctx, false); err != nil {
		return err
	}
	ud := n.upper.(vfs.DirInode)
	if uc, err := ud.Lookup(ctx, name); err == nil && !isWhiteout(ctx, uc) {
		if err := clearWhiteouts(ctx, uc); err != nil {
			return err
		}
		if err := ud.Rmdir(ctx, name, uc); err != nil {
			return err
		}
	}
	if n.lowerHas(ctx, name) {
		return n.whiteoutLocked(ctx, name)
	}
	return nil
}

// checkEmptyLocked returns ENOTEMPTY unless the merged directory is empty.
func (n *node) checkEmptyLocked(ctx vfs.Context) error {
	ents, err := n.mergedLocked(ctx)
	if err != nil {
		return err
	}
	if len(ents) != 0 {
		return unix.ENOTEMPTY
	}
	return nil
}

// clearWhiteouts removes the whiteouts of an upper directory before it is
// removed or replaced.
func clearWhiteouts(ctx vfs.Context, dir vfs.Inode) error {
	ents, err := listDir(ctx, dir)
	if err != nil {
		return err
	}
	d := dir.(vfs.DirInode)
	for _, e := range ents {
		c, err := d.Lookup(ctx, e.Name)
		if err != nil {
			continue
		}
		if !isWhiteout(ctx, c) {
			return unix.ENOTEMPTY
		}
		if err := d.Unlink(ctx, e.Name, c); err != nil {
			return err
		}
	}
	return nil
}

// Rename implements vfs.DirInode.
func (n *node) Rename(ctx vfs.Context, oldName string, child vfs.Inode, newDir vfs.DirInode, newName string, replaced vfs.Inode, flags uint32) error {
	nd, ok := newDir.(*node)
	if !ok || nd.fs != n.fs {
		return unix.EXDEV
	}
	c := child.(*node)
	var r *node
	if replaced != nil {
		r = replaced.(*node)
	}
	exchange := flags&unix.RENAME_EXCHANGE != 0
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	if r != nil && !exchange && r.ftype == unix.S_IFDIR {
		if err := r.checkEmptyLocked(ctx); err != nil {
			return err
		}
	}
	for _, t := range []*node{c, r} {
		// A file is copied up whatever its size, as on Linux.
		if t == nil || (t == r && !exchange) || t.ftype != unix.S_IFDIR {
			continue
		}
		if ok, err := t.treeFitsLocked(ctx); err != nil {
			return err
		} else if !ok {
			return unix.EXDEV
		}
	}
	if err := n.copyUpLocked(ctx, false); err != nil {
		return err
	}
	if err := nd.copyUpLocked(ctx, false); err != nil {
		return err
	}
	if err := c.copyUpTreeLocked(ctx); err != nil {
		return err
	}
	if exchange {
		if err := r.copyUpTreeLocked(ctx); err != nil {
			return err
		}
	}
	nud := nd.upper.(vfs.DirInode)
	var upReplaced vfs.Inode
	if uc, err := nud.Lookup(ctx, newName); err == nil {
		if isWhiteout(ctx, uc) {
			if err := nud.Unlink(ctx, newName, uc); err != nil {
				return err
			}
		} else {
			upReplaced = uc
			if r != nil && r.ftype == unix.S_IFDIR && !exchange {
				if err := clearWhiteouts(ctx, uc); err != nil {
					return err
				}
			}
		}
	}
	if err := n.upper.(vfs.DirInode).Rename(ctx, oldName, c.upper, nud, newName, upReplaced, flags); err != nil {
		return err
	}
	if !exchange && n.lowerHas(ctx, oldName) {
		if err := n.whiteoutLocked(ctx, oldName); err != nil {
			return err
		}
	}
	if c.ftype == unix.S_IFDIR {
		setOpaque(ctx, c.upper)
		c.opaque = true
	}
	c.parent, c.name = nd, newName
	if exchange {
		if r.ftype == unix.S_IFDIR {
			setOpaque(ctx, r.upper)
			r.opaque = true
		}
		r.parent, r.name = n, oldName
	}
	return nil
}

// The VFS finds directory operations by type assertion; fail the build,
// not the lookups, if the interface changes.
var _ vfs.DirInode = (*node)(nil)
