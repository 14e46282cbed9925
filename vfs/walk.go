package vfs

import (
	"strings"

	"golang.org/x/sys/unix"
)

// Limits of path resolution.
const (
	MaxSymlinks = 40
	PathMax     = 4096
	NameMax     = 255
)

// resolver walks paths. vfs.mu must be held for the whole operation.
type resolver struct {
	v        *VFS
	ctx      Context
	creds    *Credentials
	root     Location
	symlinks int
}

func (v *VFS) newResolver(ctx Context, root Location) *resolver {
	return &resolver{v: v, ctx: ctx, creds: ctx.Credentials(), root: root}
}

// followMounts returns the root of the top-most mount on l, or l.
func (r *resolver) followMounts(l Location) Location {
	for l.Dentry.mounts > 0 {
		m := r.v.mounts[mountKey{l.Mount, l.Dentry}]
		if m == nil {
			break
		}
		l = Location{m, m.root}
	}
	return l
}

func (r *resolver) checkSearch(l Location) error {
	if !l.Dentry.IsDir() {
		return unix.ENOTDIR
	}
	return r.v.checkPerm(r.ctx, r.creds, l.Dentry, MayExec)
}

// stepDotDot moves to the parent, never above r.root, crossing mounts.
func (r *resolver) stepDotDot(l Location) Location {
	for {
		if l == r.root {
			return l
		}
		if l.Dentry != l.Mount.root {
			break
		}
		if l.Mount.parent == nil {
			return l
		}
		l = Location{l.Mount.parent, l.Mount.point}
	}
	if l.Dentry.parent == nil {
		return l
	}
	return r.followMounts(Location{l.Mount, l.Dentry.parent})
}

// step resolves one component name from the directory l. It follows a
// symlink at the result if follow.
func (r *resolver) step(l Location, name string, follow bool) (Location, error) {
	if err := r.checkSearch(l); err != nil {
		return Location{}, err
	}
	switch name {
	case ".":
		return l, nil
	case "..":
		return r.stepDotDot(l), nil
	}
	if len(name) > NameMax {
		return Location{}, unix.ENAMETOOLONG
	}
	c, err := l.Dentry.lookup(r.ctx, name)
	if err != nil {
		return Location{}, err
	}
	next := r.followMounts(Location{l.Mount, c})
	if follow && next.Dentry.IsSymlink() {
		return r.followSymlink(l, next)
	}
	return next, nil
}

// followSymlink resolves the symlink at link, found in directory dir.
func (r *resolver) followSymlink(dir, link Location) (Location, error) {
	r.symlinks++
	if r.symlinks > MaxSymlinks {
		return Location{}, unix.ELOOP
	}
	if ml, ok := link.Dentry.inode.(MagicLinkInode); ok {
		l, err := ml.Getlink(r.ctx)
		if err == nil {
			l.DecRef()
		}
		return l, err
	}
	sl, ok := link.Dentry.inode.(SymlinkInode)
	if !ok {
		return Location{}, unix.EINVAL
	}
	target, err := sl.Readlink(r.ctx)
	if err != nil {
		return Location{}, err
	}
	if target == "" {
		return Location{}, unix.ENOENT
	}
	return r.walk(dir, target, true)
}

// walkParent resolves every component of path but the last, following
// symlinks. It returns the directory, the last component ("" when the path
// is "/" or only slashes, possibly "." or "..") and whether the path ended
// with a slash.
func (r *resolver) walkParent(start Location, path string) (Location, string, bool, error) {
	if path == "" {
		return Location{}, "", false, unix.ENOENT
	}
	if len(path) >= PathMax {
		return Location{}, "", false, unix.ENAMETOOLONG
	}
	l := start
	if path[0] == '/' {
		l = r.root
	}
	trailing := strings.HasSuffix(path, "/")
	path = strings.TrimRight(path, "/")
	for path != "" {
		path = strings.TrimLeft(path, "/")
		i := strings.IndexByte(path, '/')
		if i < 0 {
			return l, path, trailing, nil
		}
		var err error
		l, err = r.step(l, path[:i], true)
		if err != nil {
			return Location{}, "", false, err
		}
		path = path[i:]
	}
	return l, "", trailing, nil
}

// walkLast resolves the last component returned by walkParent.
func (r *resolver) walkLast(parent Location, last string, trailing, follow bool) (Location, error) {
	if last == "" {
		return parent, nil
	}
	l, err := r.step(parent, last, follow || trailing)
	if err != nil {
		return Location{}, err
	}
	if trailing && !l.Dentry.IsDir() {
		return Location{}, unix.ENOTDIR
	}
	return l, nil
}

// walk resolves a whole path.
func (r *resolver) walk(start Location, path string, follow bool) (Location, error) {
	parent, last, trailing, err := r.walkParent(start, path)
	if err != nil {
		return Location{}, err
	}
	return r.walkLast(parent, last, trailing, follow)
}

// checkPerm checks access ats to d for creds.
func (v *VFS) checkPerm(ctx Context, creds *Credentials, d *Dentry, ats uint32) error {
	if pc, ok := d.inode.(PermissionChecker); ok {
		return pc.CheckPermissions(ctx, creds, ats)
	}
	st, err := d.inode.Stat(ctx)
	if err != nil {
		return err
	}
	return GenericCheckPermissions(creds, ats, uint32(st.Mode), st.Uid, st.Gid)
}

// PermissionChecker may be implemented by inodes with their own access
// rules (or a faster path than Stat); the default uses Stat and
// GenericCheckPermissions.
type PermissionChecker interface {
	CheckPermissions(ctx Context, creds *Credentials, ats uint32) error
}

// resolveAt resolves (start, path) honouring AT_EMPTY_PATH and
// AT_SYMLINK_NOFOLLOW in flags.
func (r *resolver) resolveAt(start Location, path string, flags int) (Location, error) {
	if path == "" && flags&unix.AT_EMPTY_PATH != 0 {
		return start, nil
	}
	return r.walk(start, path, flags&unix.AT_SYMLINK_NOFOLLOW == 0)
}
