package vfs

import (
	"time"

	"golang.org/x/sys/unix"
)

// The path operations below are the entry points of the syscall layer. root
// is the caller's root directory (chroot), start the directory relative
// paths begin from (cwd or the dirfd's Location; for AT_EMPTY_PATH the
// file's Location). Modes passed in already have the umask applied.

// oTmpfileOnly is __O_TMPFILE without O_DIRECTORY.
const oTmpfileOnly = unix.O_TMPFILE &^ unix.O_DIRECTORY

// OpenAt implements open(2)/openat(2). O_CLOEXEC is for the caller. For a
// FIFO opened without O_NONBLOCK see File.OpenReady.
func (v *VFS) OpenAt(ctx Context, root, start Location, path string, flags uint32, mode uint32) (*File, error) {
	if flags&oTmpfileOnly != 0 {
		return v.openTmpfile(ctx, root, start, path, flags, mode)
	}
	if flags&unix.O_CREAT != 0 && flags&unix.O_DIRECTORY != 0 {
		// Linux 6.4 and later.
		return nil, unix.EINVAL
	}
	if flags&unix.O_PATH != 0 {
		flags &= unix.O_PATH | unix.O_NOFOLLOW | unix.O_DIRECTORY | unix.O_CLOEXEC
	}
	if flags&unix.O_CREAT == 0 {
		v.mu.RLock()
		defer v.mu.RUnlock()
		r := v.newResolver(ctx, root)
		loc, err := r.walk(start, path, flags&unix.O_NOFOLLOW == 0)
		if err != nil {
			return nil, err
		}
		return v.openLoc(ctx, loc, flags, false)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	r := v.newResolver(ctx, root)
	parent, last, trailing, err := r.walkParent(start, path)
	if err != nil {
		return nil, err
	}
	for {
		if last == "" || last == "." || last == ".." {
			// Linux resolves the dots and then finds an existing
			// directory: EEXIST with O_EXCL, else EISDIR.
			if _, err := r.walkLast(parent, last, trailing, true); err != nil {
				return nil, err
			}
			if flags&unix.O_EXCL != 0 {
				return nil, unix.EEXIST
			}
			return nil, unix.EISDIR
		}
		if err := r.checkSearch(parent); err != nil {
			return nil, err
		}
		// O_CREAT of a name with a trailing slash is EISDIR whatever the
		// name is, before it is even looked up.
		if trailing {
			return nil, unix.EISDIR
		}
		if len(last) > NameMax {
			return nil, unix.ENAMETOOLONG
		}
		c, err := parent.Dentry.lookup(ctx, last)
		if _, ok := parent.Dentry.inode.(NoCreateDir); ok && err == unix.ENOENT {
			return nil, unix.ENOENT
		}
		if err == unix.ENOENT {
			if flags&unix.O_PATH == 0 {
				if co, ok := parent.Dentry.inode.(CreateOpener); ok {
					return v.createOpenLocked(ctx, parent, last, unix.S_IFREG|mode&0o7777, flags, co)
				}
			}
			loc, err := v.createLocked(ctx, parent, last, unix.S_IFREG|mode&0o7777, 0)
			if err != nil {
				return nil, err
			}
			return v.openLoc(ctx, loc, flags, true)
		}
		if err != nil {
			return nil, err
		}
		if flags&unix.O_EXCL != 0 {
			return nil, unix.EEXIST
		}
		next := r.followMounts(Location{parent.Mount, c})
		if !next.Dentry.IsSymlink() {
			return v.openLoc(ctx, next, flags, false)
		}
		if flags&unix.O_NOFOLLOW != 0 {
			return nil, unix.ELOOP
		}
		r.symlinks++
		if r.symlinks > MaxSymlinks {
			return nil, unix.ELOOP
		}
		if ml, ok := next.Dentry.inode.(MagicLinkInode); ok {
			l, err := ml.Getlink(ctx)
			if err != nil {
				return nil, err
			}
			l.DecRef()
			return v.openLoc(ctx, l, flags, false)
		}
		target, err := next.Dentry.inode.(SymlinkInode).Readlink(ctx)
		if err != nil {
			return nil, err
		}
		if target == "" {
			return nil, unix.ENOENT
		}
		var t2 bool
		parent, last, t2, err = r.walkParent(parent, target)
		if err != nil {
			return nil, err
		}
		trailing = trailing || t2
	}
}

// openLoc opens the resolved location. vfs.mu is held.
func (v *VFS) openLoc(ctx Context, loc Location, flags uint32, created bool) (*File, error) {
	d := loc.Dentry
	if flags&unix.O_PATH != 0 {
		if flags&unix.O_DIRECTORY != 0 && !d.IsDir() {
			return nil, unix.ENOTDIR
		}
		return v.NewFile(loc, nil, flags), nil
	}
	if d.IsSymlink() {
		return nil, unix.ELOOP
	}
	if flags&unix.O_DIRECTORY != 0 && !d.IsDir() {
		return nil, unix.ENOTDIR
	}
	if flags&unix.O_CREAT != 0 && d.IsDir() {
		return nil, unix.EISDIR
	}
	var ats uint32
	switch flags & unix.O_ACCMODE {
	case unix.O_RDONLY:
		ats = MayRead
	case unix.O_WRONLY:
		ats = MayWrite
	default:
		ats = MayRead | MayWrite
	}
	if flags&unix.O_TRUNC != 0 {
		ats |= MayWrite
	}
	if d.IsDir() && ats&MayWrite != 0 {
		return nil, unix.EISDIR
	}
	creds := ctx.Credentials()
	if !created {
		if err := v.checkPerm(ctx, creds, d, ats); err != nil {
			return nil, err
		}
	}
	if ats&MayWrite != 0 && d.ftype == unix.S_IFREG {
		// Hold write access (ETXTBSY if the file is running) through
		// the open; the new File takes its own.
		if err := v.writers.get(d.inode); err != nil {
			return nil, err
		}
		defer v.writers.add(d.inode, -1)
	}
	if flags&unix.O_NOATIME != 0 {
		st, err := d.inode.Stat(ctx)
		if err != nil {
			return nil, err
		}
		if !isOwner(creds, st.Uid) {
			return nil, unix.EPERM
		}
	}
	var impl FileImpl
	var err error
	switch d.ftype {
	case unix.S_IFSOCK:
		return nil, unix.ENXIO
	case unix.S_IFREG, unix.S_IFDIR:
		if ats&MayWrite != 0 && loc.Mount.ReadOnly() {
			return nil, unix.EROFS
		}
		impl, err = d.inode.Open(ctx, flags)
	case unix.S_IFCHR, unix.S_IFBLK:
		if loc.Mount.Flags()&MountNoDev != 0 {
			return nil, unix.EACCES
		}
		st, err := d.inode.Stat(ctx)
		if err != nil {
			return nil, err
		}
		dev := v.lookupDevice(d.ftype, unix.Mkdev(st.Rdev_major, st.Rdev_minor))
		if dev == nil {
			return nil, unix.ENXIO
		}
		impl, err = dev.Open(ctx, loc, flags)
		if err != nil {
			return nil, err
		}
	default:
		impl, err = d.inode.Open(ctx, flags)
	}
	if err != nil {
		return nil, err
	}
	truncated := flags&unix.O_TRUNC != 0 && d.ftype == unix.S_IFREG && !created
	if truncated {
		now := nowTimestamp()
		if err := d.inode.SetStat(ctx, &SetStatOptions{Mask: unix.STATX_SIZE | unix.STATX_MTIME, Size: 0, Mtime: now}); err != nil {
			impl.Release(ctx)
			return nil, err
		}
	}
	f := v.NewFile(loc, impl, flags)
	v.notifyDentry(d, unix.IN_OPEN)
	if truncated {
		v.notifyDentry(d, unix.IN_MODIFY)
	}
	return f, nil
}

func (v *VFS) openTmpfile(ctx Context, root, start Location, path string, flags uint32, mode uint32) (*File, error) {
	if flags&unix.O_TMPFILE != unix.O_TMPFILE {
		return nil, unix.EINVAL
	}
	acc := flags & unix.O_ACCMODE
	if acc != unix.O_WRONLY && acc != unix.O_RDWR {
		return nil, unix.EINVAL
	}
	if flags&unix.O_CREAT != 0 {
		return nil, unix.EINVAL
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	r := v.newResolver(ctx, root)
	dir, err := r.walk(start, path, true)
	if err != nil {
		return nil, err
	}
	if !dir.Dentry.IsDir() {
		return nil, unix.ENOTDIR
	}
	if err := v.mayCreate(ctx, dir); err != nil {
		return nil, err
	}
	ti, ok := dir.Dentry.inode.(TmpfileInode)
	if !ok {
		return nil, unix.EOPNOTSUPP
	}
	opts, err := v.createOptions(ctx, dir.Dentry, unix.S_IFREG|mode&0o7777)
	if err != nil {
		return nil, err
	}
	in, err := ti.CreateTmpfile(ctx, opts, flags&unix.O_EXCL == 0)
	if err != nil {
		return nil, err
	}
	d := newDentry(dir.Dentry.fs, dir.Dentry, "#tmpfile", in, unix.S_IFREG)
	d.dead.Store(true)
	impl, err := in.Open(ctx, flags&^(unix.O_TMPFILE|unix.O_DIRECTORY))
	if err != nil {
		return nil, err
	}
	return v.NewFile(Location{dir.Mount, d}, impl, flags&^(unix.O_TMPFILE|unix.O_DIRECTORY)), nil
}

// NameTmpfile names the unlinked file at loc, made by O_TMPFILE and not yet
// seen by anyone else, for PathOf (memfd_create's "memfd:NAME").
func (v *VFS) NameTmpfile(loc Location, name string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if loc.Dentry.IsDead() && loc.Dentry.parent != nil && loc.Dentry.name == "#tmpfile" {
		loc.Dentry.name = name
	}
}

func nowTimestamp() Timestamp {
	t := time.Now()
	return Timestamp{Sec: t.Unix(), Nsec: uint32(t.Nanosecond())}
}

// NowTimestamp returns the current time as a Timestamp.
func NowTimestamp() Timestamp { return nowTimestamp() }

// mayCreate checks that a file may be created in dir.
func (v *VFS) mayCreate(ctx Context, dir Location) error {
	if dir.Dentry.IsDead() {
		return unix.ENOENT
	}
	// A read-only mount refuses before permissions are looked at, as
	// Linux's mnt_want_write comes before may_create.
	if dir.Mount.ReadOnly() {
		return unix.EROFS
	}
	return v.checkPerm(ctx, ctx.Credentials(), dir.Dentry, MayWrite|MayExec)
}

// mayDelete checks that child may be removed from dir (sticky bit
// included).
func (v *VFS) mayDelete(ctx Context, dir Location, child *Dentry) error {
	if dir.Mount.ReadOnly() {
		return unix.EROFS // mnt_want_write, before may_delete
	}
	creds := ctx.Credentials()
	if err := v.checkPerm(ctx, creds, dir.Dentry, MayWrite|MayExec); err != nil {
		return err
	}
	dst, err := dir.Dentry.inode.Stat(ctx)
	if err != nil {
		return err
	}
	if dst.Mode&unix.S_ISVTX != 0 && !creds.HasCap(unix.CAP_FOWNER) {
		cst, err := child.inode.Stat(ctx)
		if err != nil {
			return err
		}
		if creds.UID != cst.Uid && creds.UID != dst.Uid {
			return unix.EPERM
		}
	}
	if child.mounts > 0 {
		return unix.EBUSY
	}
	return nil
}

// createOptions computes the owner of a new file in dir.
func (v *VFS) createOptions(ctx Context, dir *Dentry, mode uint32) (CreateOptions, error) {
	creds := ctx.Credentials()
	opts := CreateOptions{Mode: mode, UID: creds.UID, GID: creds.GID}
	st, err := dir.inode.Stat(ctx)
	if err != nil {
		return opts, err
	}
	if st.Mode&unix.S_ISGID != 0 {
		opts.GID = st.Gid
		if mode&unix.S_IFMT == unix.S_IFDIR {
			opts.Mode |= unix.S_ISGID
		} else if opts.Mode&unix.S_ISGID != 0 && opts.Mode&unix.S_IXGRP != 0 && !creds.InGroup(opts.GID) && !creds.HasCap(unix.CAP_FSETID) {
			opts.Mode &^= unix.S_ISGID
		}
	}
	return opts, nil
}

// createOpenLocked creates the regular file name in parent and opens it in
// one step through the filesystem's CreateOpener. vfs.mu is held for
// writing.
func (v *VFS) createOpenLocked(ctx Context, parent Location, name string, mode, flags uint32, co CreateOpener) (*File, error) {
	if flags&unix.O_DIRECTORY != 0 {
		return nil, unix.ENOTDIR
	}
	if err := v.mayCreate(ctx, parent); err != nil {
		return nil, err
	}
	opts, err := v.createOptions(ctx, parent.Dentry, mode)
	if err != nil {
		return nil, err
	}
	in, impl, err := co.CreateOpen(ctx, name, opts, flags)
	if err != nil {
		return nil, err
	}
	c := newDentry(parent.Dentry.fs, parent.Dentry, name, in, mode)
	parent.Dentry.insertChild(c)
	v.notifyEntry(parent.Dentry, c, name, unix.IN_CREATE, 0)
	f := v.NewFile(Location{parent.Mount, c}, impl, flags)
	v.notifyDentry(c, unix.IN_OPEN)
	return f, nil
}

// createLocked makes a non-directory file called name in parent (which was
// looked up and does not contain name). vfs.mu is held for writing.
func (v *VFS) createLocked(ctx Context, parent Location, name string, mode uint32, rdev uint64) (Location, error) {
	if err := v.mayCreate(ctx, parent); err != nil {
		return Location{}, err
	}
	di, ok := parent.Dentry.inode.(DirInode)
	if !ok {
		return Location{}, unix.ENOTDIR
	}
	opts, err := v.createOptions(ctx, parent.Dentry, mode)
	if err != nil {
		return Location{}, err
	}
	opts.Rdev = rdev
	in, err := di.Create(ctx, name, opts)
	if err != nil {
		return Location{}, err
	}
	c := newDentry(parent.Dentry.fs, parent.Dentry, name, in, mode)
	parent.Dentry.insertChild(c)
	v.notifyEntry(parent.Dentry, c, name, unix.IN_CREATE, 0)
	return Location{parent.Mount, c}, nil
}

// prepareCreate resolves the parent of a path that must not exist yet
// (mkdir, mknod, symlink, link). vfs.mu is held for writing.
func (v *VFS) prepareCreate(ctx Context, r *resolver, start Location, path string, isDir bool) (Location, string, error) {
	parent, last, trailing, err := r.walkParent(start, path)
	if err != nil {
		return Location{}, "", err
	}
	if last == "" || last == "." || last == ".." {
		return Location{}, "", unix.EEXIST
	}
	if err := r.checkSearch(parent); err != nil {
		return Location{}, "", err
	}
	if len(last) > NameMax {
		return Location{}, "", unix.ENAMETOOLONG
	}
	_, err = parent.Dentry.lookup(ctx, last)
	if err == nil {
		return Location{}, "", unix.EEXIST
	}
	if err != unix.ENOENT {
		return Location{}, "", err
	}
	if _, ok := parent.Dentry.inode.(NoCreateDir); ok {
		return Location{}, "", unix.ENOENT
	}
	if trailing && !isDir {
		return Location{}, "", unix.ENOENT
	}
	if err := v.mayCreate(ctx, parent); err != nil {
		return Location{}, "", err
	}
	return parent, last, nil
}

// Mkdir implements mkdirat(2).
func (v *VFS) Mkdir(ctx Context, root, start Location, path string, mode uint32) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	r := v.newResolver(ctx, root)
	parent, name, err := v.prepareCreate(ctx, r, start, path, true)
	if err != nil {
		return err
	}
	di, ok := parent.Dentry.inode.(DirInode)
	if !ok {
		return unix.ENOTDIR
	}
	opts, err := v.createOptions(ctx, parent.Dentry, unix.S_IFDIR|mode&0o1777)
	if err != nil {
		return err
	}
	in, err := di.Mkdir(ctx, name, opts)
	if err != nil {
		return err
	}
	c := newDentry(parent.Dentry.fs, parent.Dentry, name, in, unix.S_IFDIR)
	parent.Dentry.insertChild(c)
	v.notifyEntry(parent.Dentry, c, name, unix.IN_CREATE, 0)
	return nil
}

// Mknod implements mknodat(2): mode's type is S_IFREG (or 0), S_IFIFO,
// S_IFSOCK, S_IFCHR or S_IFBLK (the last two need CAP_MKNOD); dev is the
// device number (unix.Mkdev).
func (v *VFS) Mknod(ctx Context, root, start Location, path string, mode uint32, dev uint64) error {
	switch mode & unix.S_IFMT {
	case 0:
		mode |= unix.S_IFREG
	case unix.S_IFREG, unix.S_IFIFO, unix.S_IFSOCK:
	case unix.S_IFCHR, unix.S_IFBLK:
		if !ctx.Credentials().HasCap(unix.CAP_MKNOD) {
			return unix.EPERM
		}
	case unix.S_IFDIR:
		return unix.EPERM
	default:
		return unix.EINVAL
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	r := v.newResolver(ctx, root)
	parent, name, err := v.prepareCreate(ctx, r, start, path, false)
	if err != nil {
		return err
	}
	_, err = v.createLocked(ctx, parent, name, mode&(unix.S_IFMT|0o7777), dev)
	return err
}

// Symlink implements symlinkat(2).
func (v *VFS) Symlink(ctx Context, root Location, target string, start Location, path string) error {
	if target == "" {
		return unix.ENOENT
	}
	if len(target) >= PathMax {
		return unix.ENAMETOOLONG
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	r := v.newResolver(ctx, root)
	parent, name, err := v.prepareCreate(ctx, r, start, path, false)
	if err != nil {
		return err
	}
	di, ok := parent.Dentry.inode.(DirInode)
	if !ok {
		return unix.ENOTDIR
	}
	opts, err := v.createOptions(ctx, parent.Dentry, unix.S_IFLNK|0o777)
	if err != nil {
		return err
	}
	in, err := di.Symlink(ctx, name, target, opts)
	if err != nil {
		return err
	}
	c := newDentry(parent.Dentry.fs, parent.Dentry, name, in, unix.S_IFLNK)
	parent.Dentry.insertChild(c)
	v.notifyEntry(parent.Dentry, c, name, unix.IN_CREATE, 0)
	return nil
}

// Link implements linkat(2); flags may hold AT_SYMLINK_FOLLOW and
// AT_EMPTY_PATH (the latter needs CAP_DAC_READ_SEARCH, like Linux).
func (v *VFS) Link(ctx Context, root, oldStart Location, oldPath string, newStart Location, newPath string, flags int) error {
	if flags&^(unix.AT_SYMLINK_FOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return unix.EINVAL
	}
	if flags&unix.AT_EMPTY_PATH != 0 && oldPath == "" && !ctx.Credentials().HasCap(unix.CAP_DAC_READ_SEARCH) {
		return unix.ENOENT
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	r := v.newResolver(ctx, root)
	var old Location
	var err error
	if oldPath == "" && flags&unix.AT_EMPTY_PATH != 0 {
		old = oldStart
	} else {
		old, err = r.walk(oldStart, oldPath, flags&unix.AT_SYMLINK_FOLLOW != 0)
		if err != nil {
			return err
		}
	}
	r.symlinks = 0
	parent, name, err := v.prepareCreate(ctx, r, newStart, newPath, false)
	if err != nil {
		return err
	}
	if old.Dentry.IsDir() {
		return unix.EPERM
	}
	if old.Mount != parent.Mount {
		return unix.EXDEV
	}
	di, ok := parent.Dentry.inode.(DirInode)
	if !ok {
		return unix.ENOTDIR
	}
	in, err := di.Link(ctx, name, old.Dentry.inode)
	if err != nil {
		return err
	}
	c := newDentry(parent.Dentry.fs, parent.Dentry, name, in, old.Dentry.ftype)
	parent.Dentry.insertChild(c)
	v.notifyInode(old.Dentry, unix.IN_ATTRIB)
	v.notifyEntry(parent.Dentry, c, name, unix.IN_CREATE, 0)
	return nil
}

// Unlink implements unlinkat(2) without AT_REMOVEDIR.
func (v *VFS) Unlink(ctx Context, root, start Location, path string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	r := v.newResolver(ctx, root)
	parent, last, trailing, err := r.walkParent(start, path)
	if err != nil {
		return err
	}
	if last == "" || last == "." || last == ".." {
		return unix.EISDIR
	}
	if err := r.checkSearch(parent); err != nil {
		return err
	}
	if len(last) > NameMax {
		return unix.ENAMETOOLONG
	}
	c, err := parent.Dentry.lookup(ctx, last)
	if err != nil {
		return err
	}
	if c.IsDir() {
		return unix.EISDIR
	}
	if trailing {
		return unix.ENOTDIR
	}
	if err := v.mayDelete(ctx, parent, c); err != nil {
		return err
	}
	if err := parent.Dentry.inode.(DirInode).Unlink(ctx, last, c.inode); err != nil {
		return err
	}
	parent.Dentry.removeChild(last)
	c.dead.Store(true)
	v.notifyRemoved(ctx, parent.Dentry, c, last)
	return nil
}

// Rmdir implements rmdir(2) / unlinkat(AT_REMOVEDIR).
func (v *VFS) Rmdir(ctx Context, root, start Location, path string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	r := v.newResolver(ctx, root)
	parent, last, _, err := r.walkParent(start, path)
	if err != nil {
		return err
	}
	switch last {
	case "":
		return unix.EBUSY
	case ".":
		return unix.EINVAL
	case "..":
		return unix.ENOTEMPTY
	}
	if err := r.checkSearch(parent); err != nil {
		return err
	}
	if len(last) > NameMax {
		return unix.ENAMETOOLONG
	}
	c, err := parent.Dentry.lookup(ctx, last)
	if err != nil {
		return err
	}
	if !c.IsDir() {
		return unix.ENOTDIR
	}
	if c.mounts > 0 || (Location{parent.Mount, c}) == root {
		return unix.EBUSY
	}
	if err := v.mayDelete(ctx, parent, c); err != nil {
		return err
	}
	if err := parent.Dentry.inode.(DirInode).Rmdir(ctx, last, c.inode); err != nil {
		return err
	}
	parent.Dentry.removeChild(last)
	c.dead.Store(true)
	v.notifyRemoved(ctx, parent.Dentry, c, last)
	return nil
}

// Rename implements renameat2(2) with flags 0, RENAME_NOREPLACE or
// RENAME_EXCHANGE.
func (v *VFS) Rename(ctx Context, root, oldStart Location, oldPath string, newStart Location, newPath string, flags uint32) error {
	if flags&^(unix.RENAME_NOREPLACE|unix.RENAME_EXCHANGE) != 0 {
		return unix.EINVAL
	}
	if flags&unix.RENAME_NOREPLACE != 0 && flags&unix.RENAME_EXCHANGE != 0 {
		return unix.EINVAL
	}
	exchange := flags&unix.RENAME_EXCHANGE != 0
	v.mu.Lock()
	defer v.mu.Unlock()
	r := v.newResolver(ctx, root)
	oldParent, oldName, oldTrailing, err := r.walkParent(oldStart, oldPath)
	if err != nil {
		return err
	}
	newParent, newName, newTrailing, err := r.walkParent(newStart, newPath)
	if err != nil {
		return err
	}
	if oldParent.Mount != newParent.Mount {
		return unix.EXDEV
	}
	isSpecial := func(s string) bool { return s == "" || s == "." || s == ".." }
	if isSpecial(oldName) || isSpecial(newName) {
		return unix.EBUSY
	}
	if err := r.checkSearch(oldParent); err != nil {
		return err
	}
	if err := r.checkSearch(newParent); err != nil {
		return err
	}
	if len(oldName) > NameMax || len(newName) > NameMax {
		return unix.ENAMETOOLONG
	}
	oc, err := oldParent.Dentry.lookup(ctx, oldName)
	if err != nil {
		return err
	}
	nc, err := newParent.Dentry.lookup(ctx, newName)
	if err != nil && err != unix.ENOENT {
		return err
	}
	if nc == nil && exchange {
		return unix.ENOENT
	}
	if (oldTrailing || (newTrailing && nc == nil && !exchange)) && !oc.IsDir() {
		return unix.ENOTDIR
	}
	if exchange && newTrailing && !nc.IsDir() {
		return unix.ENOTDIR
	}
	if nc != nil && flags&unix.RENAME_NOREPLACE != 0 {
		return unix.EEXIST
	}
	// Source and target are the same file: nothing to do.
	if nc != nil && nc.inode == oc.inode {
		return nil
	}
	if nc != nil && !exchange {
		if oc.IsDir() && !nc.IsDir() {
			return unix.ENOTDIR
		}
		if !oc.IsDir() && nc.IsDir() {
			return unix.EISDIR
		}
	}
	// A directory cannot move below itself.
	if oc.IsDir() && newParent.Dentry.isDescendantOf(oc) {
		return unix.EINVAL
	}
	if nc != nil && nc.IsDir() && oldParent.Dentry.isDescendantOf(nc) {
		if exchange {
			return unix.EINVAL
		}
		return unix.ENOTEMPTY
	}
	if oc.mounts > 0 || (nc != nil && nc.mounts > 0) {
		return unix.EBUSY
	}
	if (Location{oldParent.Mount, oc}) == root || (nc != nil && (Location{newParent.Mount, nc}) == root) {
		return unix.EBUSY
	}
	if err := v.mayDelete(ctx, oldParent, oc); err != nil {
		return err
	}
	if nc != nil {
		if err := v.mayDelete(ctx, newParent, nc); err != nil {
			return err
		}
	} else if err := v.mayCreate(ctx, newParent); err != nil {
		return err
	}
	creds := ctx.Credentials()
	if oldParent.Dentry != newParent.Dentry {
		if oc.IsDir() {
			if err := v.checkPerm(ctx, creds, oc, MayWrite); err != nil {
				return err
			}
		}
		if exchange && nc.IsDir() {
			if err := v.checkPerm(ctx, creds, nc, MayWrite); err != nil {
				return err
			}
		}
	}
	odi, ok1 := oldParent.Dentry.inode.(DirInode)
	ndi, ok2 := newParent.Dentry.inode.(DirInode)
	if !ok1 || !ok2 {
		return unix.ENOTDIR
	}
	var replaced Inode
	if nc != nil {
		replaced = nc.inode
	}
	if err := odi.Rename(ctx, oldName, oc.inode, ndi, newName, replaced, flags&unix.RENAME_EXCHANGE); err != nil {
		return err
	}
	// Update the dentry cache.
	oldParent.Dentry.removeChild(oldName)
	if nc != nil {
		newParent.Dentry.removeChild(newName)
	}
	v.nameMu.Lock()
	oc.parent, oc.name = newParent.Dentry, newName
	if nc != nil {
		if exchange {
			nc.parent, nc.name = oldParent.Dentry, oldName
		} else {
			nc.dead.Store(true)
		}
	}
	v.nameMu.Unlock()
	newParent.Dentry.insertChild(oc)
	if exchange {
		oldParent.Dentry.insertChild(nc)
		v.notifyRenamed(ctx, oldParent.Dentry, newParent.Dentry, oc, oldName, newName, nil)
		v.notifyRenamed(ctx, newParent.Dentry, oldParent.Dentry, nc, newName, oldName, nil)
	} else {
		v.notifyRenamed(ctx, oldParent.Dentry, newParent.Dentry, oc, oldName, newName, nc)
	}
	return nil
}

// GetLocation resolves a path for chdir, chroot, execve, mount sources...
// flags may hold AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH. The Location is
// returned with a reference (Location.DecRef).
func (v *VFS) GetLocation(ctx Context, root, start Location, path string, flags int) (Location, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	l, err := v.newResolver(ctx, root).resolveAt(start, path, flags)
	if err != nil {
		return Location{}, err
	}
	l.IncRef()
	return l, nil
}

// CheckPermission checks access ats (MayRead|MayWrite|MayExec) to loc, e.g.
// MayExec on a directory for chdir or on a file for execve.
func (v *VFS) CheckPermission(ctx Context, loc Location, ats uint32) error {
	if ats&MayWrite != 0 && loc.Mount.ReadOnly() {
		switch loc.Dentry.ftype {
		case unix.S_IFREG, unix.S_IFDIR, unix.S_IFLNK:
			return unix.EROFS
		}
	}
	if ats&MayExec != 0 && !loc.Dentry.IsDir() && loc.Mount.Flags()&MountNoExec != 0 {
		return unix.EACCES
	}
	return v.checkPerm(ctx, ctx.Credentials(), loc.Dentry, ats)
}

// Stat implements fstatat/statx; flags may hold AT_SYMLINK_NOFOLLOW and
// AT_EMPTY_PATH.
func (v *VFS) Stat(ctx Context, root, start Location, path string, flags int) (Statx, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	l, err := v.newResolver(ctx, root).resolveAt(start, path, flags)
	if err != nil {
		return Statx{}, err
	}
	return v.statLoc(ctx, l)
}

func (v *VFS) statLoc(ctx Context, l Location) (Statx, error) {
	st, err := l.Dentry.inode.Stat(ctx)
	if err != nil {
		return st, err
	}
	if _, own := l.Dentry.inode.(OwnDevice); !own {
		st.Dev_major = 0
		st.Dev_minor = l.Dentry.fs.dev
	}
	st.Mnt_id = l.Mount.id
	st.Mask |= unix.STATX_MNT_ID
	// The attributes every file system reports (vfs_getattr_nosec,
	// vfs_statx_path): whether the file is the root of its mount.
	st.Attributes_mask |= unix.STATX_ATTR_AUTOMOUNT | unix.STATX_ATTR_DAX | unix.STATX_ATTR_MOUNT_ROOT
	if l.Dentry == l.Mount.root {
		st.Attributes |= unix.STATX_ATTR_MOUNT_ROOT
	}
	return st, nil
}

// OwnDevice is implemented by inodes that report their own st_dev rather
// than their filesystem's.
type OwnDevice interface{ OwnDevice() }

// Access implements faccessat2(2): mode is F_OK or a mask of R_OK, W_OK,
// X_OK; flags may hold AT_EACCESS, AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH.
// Without AT_EACCESS the check uses the real UID/GID.
func (v *VFS) Access(ctx Context, root, start Location, path string, mode uint32, flags int) error {
	if mode&^7 != 0 {
		return unix.EINVAL
	}
	if flags&^(unix.AT_EACCESS|unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return unix.EINVAL
	}
	if flags&unix.AT_EACCESS == 0 {
		// Linux's access_override_creds: the real IDs, and the
		// capabilities a real root may have (the permitted set) or none.
		c := *ctx.Credentials()
		c.UID, c.GID = c.RealUID, c.RealGID
		c.Caps = 0
		if c.RealUID == 0 {
			c.Caps = c.PermittedCaps
		}
		ctx = accessContext{ctx, &c}
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	l, err := v.newResolver(ctx, root).resolveAt(start, path, flags)
	if err != nil {
		return err
	}
	if mode == 0 {
		return nil
	}
	var ats uint32
	if mode&unix.R_OK != 0 {
		ats |= MayRead
	}
	if mode&unix.W_OK != 0 {
		ats |= MayWrite
	}
	if mode&unix.X_OK != 0 {
		ats |= MayExec
	}
	return v.CheckPermission(ctx, l, ats)
}

type accessContext struct {
	Context
	c *Credentials
}

func (a accessContext) Credentials() *Credentials { return a.c }

// Readlink implements readlinkat(2). An empty path reads the link at start
// (an O_PATH|O_NOFOLLOW file).
func (v *VFS) Readlink(ctx Context, root, start Location, path string) (string, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	l, err := v.newResolver(ctx, root).resolveAt(start, path, unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH)
	if err != nil {
		return "", err
	}
	sl, ok := l.Dentry.inode.(SymlinkInode)
	if !ok || !l.Dentry.IsSymlink() {
		if path == "" {
			return "", unix.ENOENT
		}
		return "", unix.EINVAL
	}
	return sl.Readlink(ctx)
}

// SetStat implements chmod, chown, truncate and utimensat on a path (flags:
// AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH). opts.Mask selects the attributes;
// Atime/Mtime may be UTIME_NOW or UTIME_OMIT.
func (v *VFS) SetStat(ctx Context, root, start Location, path string, flags int, opts *SetStatOptions) error {
	v.mu.RLock()
	defer v.mu.RUnlock()
	l, err := v.newResolver(ctx, root).resolveAt(start, path, flags)
	if err != nil {
		return err
	}
	return v.setStatLoc(ctx, l, opts, false)
}

func (v *VFS) setStatLoc(ctx Context, l Location, in *SetStatOptions, fdWritable bool) error {
	opts := *in
	creds := ctx.Credentials()
	d := l.Dentry
	st, err := d.inode.Stat(ctx)
	if err != nil {
		return err
	}
	mask := opts.Mask & (unix.STATX_MODE | unix.STATX_UID | unix.STATX_GID | unix.STATX_SIZE | unix.STATX_ATIME | unix.STATX_MTIME)
	if mask == 0 {
		return nil
	}
	if mask&unix.STATX_SIZE != 0 {
		if d.IsDir() {
			return unix.EISDIR
		}
		if d.ftype != unix.S_IFREG {
			return unix.EINVAL
		}
		if int64(opts.Size) < 0 {
			return unix.EINVAL
		}
		if !fdWritable {
			if err := v.checkPerm(ctx, creds, d, MayWrite); err != nil {
				return err
			}
		}
	}
	if l.Mount.ReadOnly() {
		return unix.EROFS
	}
	if mask&unix.STATX_SIZE != 0 && !fdWritable && v.writers.denied(d.inode) {
		return unix.ETXTBSY // truncate(2) of a running program
	}
	if mask&unix.STATX_MODE != 0 {
		if d.IsSymlink() {
			return unix.EOPNOTSUPP
		}
		if !isOwner(creds, st.Uid) {
			return unix.EPERM
		}
		opts.Mode &= 0o7777
		gid := st.Gid
		if mask&unix.STATX_GID != 0 {
			gid = opts.GID
		}
		if !creds.InGroup(gid) && !creds.HasCap(unix.CAP_FSETID) {
			opts.Mode &^= unix.S_ISGID
		}
	}
	if mask&unix.STATX_UID != 0 {
		if !((creds.UID == st.Uid && opts.UID == st.Uid) || creds.HasCap(unix.CAP_CHOWN)) {
			return unix.EPERM
		}
	}
	if mask&unix.STATX_GID != 0 {
		if !((creds.UID == st.Uid && (opts.GID == st.Gid || creds.InGroup(opts.GID))) || creds.HasCap(unix.CAP_CHOWN)) {
			return unix.EPERM
		}
	}
	if mask&(unix.STATX_UID|unix.STATX_GID) != 0 && !d.IsDir() {
		mode := uint32(st.Mode) & 0o7777
		if mask&unix.STATX_MODE != 0 {
			mode = opts.Mode
		}
		nm := mode &^ unix.S_ISUID
		if mode&unix.S_IXGRP != 0 {
			nm &^= unix.S_ISGID
		}
		if nm != mode {
			mask |= unix.STATX_MODE
			opts.Mode = nm
		}
	}
	if mask&(unix.STATX_ATIME|unix.STATX_MTIME) != 0 {
		// Like Linux's do_utimes, setting both times to now is a plain
		// "touch" (write access suffices); any other request sets times
		// explicitly (owner only), UTIME_OMIT and UTIME_NOW mixed
		// included. Truncation's own mtime update is checked as a
		// truncation.
		touch := mask&(unix.STATX_ATIME|unix.STATX_MTIME) == unix.STATX_ATIME|unix.STATX_MTIME &&
			opts.Atime.Nsec == unix.UTIME_NOW && opts.Mtime.Nsec == unix.UTIME_NOW
		truncation := mask&unix.STATX_SIZE != 0
		now := nowTimestamp()
		if mask&unix.STATX_ATIME != 0 {
			switch opts.Atime.Nsec {
			case unix.UTIME_OMIT:
				mask &^= unix.STATX_ATIME
			case unix.UTIME_NOW:
				opts.Atime = now
			}
		}
		if mask&unix.STATX_MTIME != 0 {
			switch opts.Mtime.Nsec {
			case unix.UTIME_OMIT:
				mask &^= unix.STATX_MTIME
			case unix.UTIME_NOW:
				opts.Mtime = now
			}
		}
		if mask&(unix.STATX_ATIME|unix.STATX_MTIME) != 0 && !truncation && !isOwner(creds, st.Uid) {
			if !touch {
				return unix.EPERM
			}
			if err := v.checkPerm(ctx, creds, d, MayWrite); err != nil {
				return err
			}
		}
	}
	if mask == 0 {
		return nil
	}
	if mask&(unix.STATX_SIZE|unix.STATX_MODE) == unix.STATX_SIZE && d.ftype == unix.S_IFREG {
		// do_truncate's file_remove_privs: no ownership check.
		if kill := privsToKill(creds, uint32(st.Mode)); kill != 0 {
			mask |= unix.STATX_MODE
			opts.Mode = uint32(st.Mode) &^ kill & 0o7777
		}
	}
	opts.Mask = mask
	if err := d.inode.SetStat(ctx, &opts); err != nil {
		return err
	}
	v.notifyDentry(d, setStatEvents(mask))
	return nil
}

// privsToKill returns the set-ID bits a change of the file's data by
// creds must clear (Linux's should_remove_suid): set-user-ID, and
// set-group-ID if the group may execute; none for callers with
// CAP_FSETID.
func privsToKill(creds *Credentials, mode uint32) uint32 {
	var kill uint32
	if mode&unix.S_ISUID != 0 {
		kill |= unix.S_ISUID
	}
	if mode&(unix.S_ISGID|unix.S_IXGRP) == unix.S_ISGID|unix.S_IXGRP {
		kill |= unix.S_ISGID
	}
	if kill == 0 || creds.HasCap(unix.CAP_FSETID) {
		return 0
	}
	return kill
}

// RemovePrivs clears the set-ID bits that a write to the file by the
// caller clears (Linux's file_remove_privs), before the write.
func (f *File) RemovePrivs(ctx Context) error {
	d := f.loc.Dentry
	if d.ftype != unix.S_IFREG || ctx.Credentials().HasCap(unix.CAP_FSETID) {
		return nil
	}
	st, err := d.inode.Stat(ctx)
	if err != nil {
		return err
	}
	kill := privsToKill(ctx.Credentials(), uint32(st.Mode))
	if kill == 0 {
		return nil
	}
	if err := d.inode.SetStat(ctx, &SetStatOptions{Mask: unix.STATX_MODE, Mode: uint32(st.Mode) &^ kill & 0o7777}); err != nil {
		return err
	}
	f.vfs.notifyDentry(d, unix.IN_ATTRIB)
	return nil
}

// setStatEvents returns the inotify events of an attribute change, as
// Linux's fsnotify_change: a size change modifies; both times together
// (utimes) are an attribute change, one alone an access or a modify.
func setStatEvents(mask uint32) uint32 {
	var ev uint32
	if mask&(unix.STATX_MODE|unix.STATX_UID|unix.STATX_GID) != 0 {
		ev |= unix.IN_ATTRIB
	}
	if mask&unix.STATX_SIZE != 0 {
		ev |= unix.IN_MODIFY
	}
	switch times := mask & (unix.STATX_ATIME | unix.STATX_MTIME); times {
	case unix.STATX_ATIME | unix.STATX_MTIME:
		ev |= unix.IN_ATTRIB
	case unix.STATX_ATIME:
		ev |= unix.IN_ACCESS
	case unix.STATX_MTIME:
		ev |= unix.IN_MODIFY
	}
	return ev
}

// StatFS implements statfs(2).
func (v *VFS) StatFS(ctx Context, root, start Location, path string) (Statfs, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	l, err := v.newResolver(ctx, root).walk(start, path, true)
	if err != nil {
		return Statfs{}, err
	}
	return l.Dentry.fs.impl.StatFS(ctx)
}
