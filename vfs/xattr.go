package vfs

import (
	"strings"

	"golang.org/x/sys/unix"
)

// XattrSizeMax is the largest extended attribute value.
const XattrSizeMax = 65536

func checkXattrName(name string) error {
	if name == "" || len(name) > 255 {
		return unix.ERANGE
	}
	switch {
	case strings.HasPrefix(name, "user."), strings.HasPrefix(name, "trusted."), strings.HasPrefix(name, "security."):
		return nil
	}
	return unix.EOPNOTSUPP
}

// xattrPerm checks access ats to the attribute name of l.
func (v *VFS) xattrPerm(ctx Context, l Location, name string, ats uint32) error {
	creds := ctx.Credentials()
	switch {
	case strings.HasPrefix(name, "trusted."):
		if !creds.HasCap(unix.CAP_SYS_ADMIN) {
			if ats&MayWrite != 0 {
				return unix.EPERM
			}
			return unix.ENODATA
		}
		return nil
	case strings.HasPrefix(name, "user."):
		if l.Dentry.ftype != unix.S_IFREG && l.Dentry.ftype != unix.S_IFDIR {
			if ats&MayWrite != 0 {
				return unix.EPERM
			}
			return unix.ENODATA
		}
		if ats&MayWrite != 0 {
			st, err := l.Dentry.inode.Stat(ctx)
			if err != nil {
				return err
			}
			if l.Dentry.IsDir() && st.Mode&unix.S_ISVTX != 0 && !isOwner(creds, st.Uid) {
				return unix.EPERM
			}
		}
		return v.checkPerm(ctx, creds, l.Dentry, ats)
	}
	if ats&MayWrite != 0 {
		st, err := l.Dentry.inode.Stat(ctx)
		if err != nil {
			return err
		}
		if !isOwner(creds, st.Uid) {
			return unix.EPERM
		}
	}
	return nil
}

func (v *VFS) getXattrLoc(ctx Context, l Location, name string) ([]byte, error) {
	if err := checkXattrName(name); err != nil {
		return nil, err
	}
	if err := v.xattrPerm(ctx, l, name, MayRead); err != nil {
		return nil, err
	}
	xi, ok := l.Dentry.inode.(XattrInode)
	if !ok {
		return nil, unix.EOPNOTSUPP
	}
	return xi.GetXattr(ctx, name)
}

func (v *VFS) setXattrLoc(ctx Context, l Location, name string, value []byte, flags int) error {
	if flags&^(unix.XATTR_CREATE|unix.XATTR_REPLACE) != 0 || flags == unix.XATTR_CREATE|unix.XATTR_REPLACE {
		return unix.EINVAL
	}
	if err := checkXattrName(name); err != nil {
		return err
	}
	if len(value) > XattrSizeMax {
		return unix.E2BIG
	}
	if l.Mount.ReadOnly() {
		return unix.EROFS
	}
	if err := v.xattrPerm(ctx, l, name, MayWrite); err != nil {
		return err
	}
	xi, ok := l.Dentry.inode.(XattrInode)
	if !ok {
		return unix.EOPNOTSUPP
	}
	if err := xi.SetXattr(ctx, name, value, flags); err != nil {
		return err
	}
	v.notifyDentry(l.Dentry, unix.IN_ATTRIB)
	return nil
}

func (v *VFS) listXattrLoc(ctx Context, l Location) ([]string, error) {
	xi, ok := l.Dentry.inode.(XattrInode)
	if !ok {
		return nil, nil
	}
	names, err := xi.ListXattr(ctx)
	if err != nil {
		return nil, err
	}
	if ctx.Credentials().HasCap(unix.CAP_SYS_ADMIN) {
		return names, nil
	}
	out := names[:0:0]
	for _, n := range names {
		if !strings.HasPrefix(n, "trusted.") {
			out = append(out, n)
		}
	}
	return out, nil
}

func (v *VFS) removeXattrLoc(ctx Context, l Location, name string) error {
	if err := checkXattrName(name); err != nil {
		return err
	}
	if l.Mount.ReadOnly() {
		return unix.EROFS
	}
	if err := v.xattrPerm(ctx, l, name, MayWrite); err != nil {
		return err
	}
	xi, ok := l.Dentry.inode.(XattrInode)
	if !ok {
		return unix.EOPNOTSUPP
	}
	if err := xi.RemoveXattr(ctx, name); err != nil {
		return err
	}
	v.notifyDentry(l.Dentry, unix.IN_ATTRIB)
	return nil
}

// GetXattr implements getxattr(2)/lgetxattr(2) (flags: AT_SYMLINK_NOFOLLOW).
func (v *VFS) GetXattr(ctx Context, root, start Location, path string, flags int, name string) ([]byte, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	l, err := v.newResolver(ctx, root).resolveAt(start, path, flags)
	if err != nil {
		return nil, err
	}
	return v.getXattrLoc(ctx, l, name)
}

// SetXattr implements setxattr(2)/lsetxattr(2); xflags are XATTR_CREATE /
// XATTR_REPLACE.
func (v *VFS) SetXattr(ctx Context, root, start Location, path string, flags int, name string, value []byte, xflags int) error {
	v.mu.RLock()
	defer v.mu.RUnlock()
	l, err := v.newResolver(ctx, root).resolveAt(start, path, flags)
	if err != nil {
		return err
	}
	return v.setXattrLoc(ctx, l, name, value, xflags)
}

// ListXattr implements listxattr(2)/llistxattr(2).
func (v *VFS) ListXattr(ctx Context, root, start Location, path string, flags int) ([]string, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	l, err := v.newResolver(ctx, root).resolveAt(start, path, flags)
	if err != nil {
		return nil, err
	}
	return v.listXattrLoc(ctx, l)
}

// RemoveXattr implements removexattr(2)/lremovexattr(2).
func (v *VFS) RemoveXattr(ctx Context, root, start Location, path string, flags int, name string) error {
	v.mu.RLock()
	defer v.mu.RUnlock()
	l, err := v.newResolver(ctx, root).resolveAt(start, path, flags)
	if err != nil {
		return err
	}
	return v.removeXattrLoc(ctx, l, name)
}
