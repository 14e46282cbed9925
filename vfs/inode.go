package vfs

import (
	"golang.org/x/sys/unix"
)

// Statx is the result of Stat: the statx(2) structure. The VFS fills
// Dev_major/Dev_minor and Mnt_id; filesystems fill the rest.
type Statx = unix.Statx_t

// Statfs is the result of StatFS.
type Statfs = unix.Statfs_t

// Timestamp is a statx timestamp. In SetStatOptions, Nsec may be
// unix.UTIME_NOW or unix.UTIME_OMIT.
type Timestamp = unix.StatxTimestamp

// FilesystemImpl is implemented by each filesystem type.
type FilesystemImpl interface {
	// Name is the filesystem type name ("tmpfs", "overlay", ...).
	Name() string
	// StatFS implements statfs(2).
	StatFS(ctx Context) (Statfs, error)
	// Release is called when the filesystem is no longer mounted anywhere
	// and no file of it is open (best effort; may never be called).
	Release()
}

// Inode is a file of a filesystem, as seen by the VFS. The VFS walks paths,
// caches dentries, checks permissions (from Stat's mode/uid/gid) and
// read-only mounts; filesystems only implement the operations. Directory,
// symlink, xattr and O_TMPFILE support are the optional interfaces DirInode,
// SymlinkInode, XattrInode and TmpfileInode.
type Inode interface {
	// Stat returns the file's attributes (the VFS overrides the device
	// numbers and mount ID).
	Stat(ctx Context) (Statx, error)
	// SetStat changes the attributes in opts.Mask (STATX_MODE, STATX_UID,
	// STATX_GID, STATX_SIZE, STATX_ATIME, STATX_MTIME). Permission checks
	// are already done, UTIME_NOW/UTIME_OMIT resolved, and ctime must be
	// updated by the filesystem. A size change on a non-regular file is
	// EINVAL (directories: EISDIR).
	SetStat(ctx Context, opts *SetStatOptions) error
	// Open returns the implementation of a new open file description.
	// flags are the open(2) flags. Permission checks are already done. It
	// is not called for O_PATH opens nor for character devices (which are
	// opened through the VFS device registry).
	Open(ctx Context, flags uint32) (FileImpl, error)
}

// CreateOptions describe a new file. Mode includes the file type. UID and
// GID are the owner the VFS computed (fsuid, and fsgid or the parent's group
// for set-group-ID directories).
type CreateOptions struct {
	Mode     uint32
	UID, GID uint32
	// Rdev is the device number of character and block devices
	// (unix.Mkdev).
	Rdev uint64
}

// Revalidator is implemented by directories whose entries can vanish
// behind the VFS's back (procfs: /proc/PID of a process that exited). A
// cached child is used only while Revalidate reports that name still
// exists; otherwise it is dropped and looked up again.
type Revalidator interface {
	Revalidate(ctx Context, name string) bool
}

// NoCreateDir is implemented by directories whose missing names are not
// there to be created: Linux's procfs fails the lookup itself with ENOENT,
// so mkdir, mknod, symlink, link and O_CREAT of a new name in them are
// ENOENT, before any permission check.
type NoCreateDir interface {
	NoCreate()
}

// DirInode is implemented by directory inodes. The VFS guarantees that the
// name is a valid single component (not "", "." or ".."), that it does not
// already exist for creations (it looked it up first), that the child passed
// to Unlink/Rmdir/Rename is the inode Lookup returned for that name, that
// types match for rmdir/unlink, and it did all permission checks; the
// filesystem reports ENOTEMPTY, ENOSPC, EMLINK and the like.
type DirInode interface {
	Inode
	// Lookup returns the child called name or ENOENT.
	Lookup(ctx Context, name string) (Inode, error)
	// Create makes a regular file, FIFO, socket or device node.
	Create(ctx Context, name string, opts CreateOptions) (Inode, error)
	// Mkdir makes a directory.
	Mkdir(ctx Context, name string, opts CreateOptions) (Inode, error)
	// Symlink makes a symbolic link to target.
	Symlink(ctx Context, name, target string, opts CreateOptions) (Inode, error)
	// Link makes name a new hard link to target (never a directory; EXDEV
	// if target belongs to another filesystem). It returns the inode the
	// new name refers to: target itself where inodes are independent of
	// names (tmpfs), or a new inode bound to the new name (host files,
	// reached through their parent and name).
	Link(ctx Context, name string, target Inode) (Inode, error)
	// Unlink removes the non-directory child called name.
	Unlink(ctx Context, name string, child Inode) error
	// Rmdir removes the directory child called name (ENOTEMPTY if not empty).
	Rmdir(ctx Context, name string, child Inode) error
	// Rename moves child from oldName in this directory to newName in
	// newDir (a DirInode of the same filesystem). replaced is the inode
	// currently at newName or nil. flags may hold unix.RENAME_EXCHANGE, in
	// which case replaced is non-nil and the two are swapped. When replacing
	// a directory the filesystem checks it is empty (ENOTEMPTY).
	Rename(ctx Context, oldName string, child Inode, newDir DirInode, newName string, replaced Inode, flags uint32) error
}

// FixedDir is embedded by synthetic directories whose entries the file
// system alone decides (procfs, sysfs, devpts). Its operations fail as
// Linux's VFS fails them on a directory without the inode operation:
// EACCES for a regular file (no create), EPERM for the rest (no mknod,
// mkdir, ...).
type FixedDir struct{}

// Create implements DirInode.
func (FixedDir) Create(_ Context, _ string, o CreateOptions) (Inode, error) {
	if t := o.Mode & unix.S_IFMT; t == 0 || t == unix.S_IFREG {
		return nil, unix.EACCES
	}
	return nil, unix.EPERM
}

// Mkdir implements DirInode.
func (FixedDir) Mkdir(Context, string, CreateOptions) (Inode, error) { return nil, unix.EPERM }

// Symlink implements DirInode.
func (FixedDir) Symlink(Context, string, string, CreateOptions) (Inode, error) {
	return nil, unix.EPERM
}

// Link implements DirInode.
func (FixedDir) Link(Context, string, Inode) (Inode, error) { return nil, unix.EPERM }

// Unlink implements DirInode.
func (FixedDir) Unlink(Context, string, Inode) error { return unix.EPERM }

// Rmdir implements DirInode.
func (FixedDir) Rmdir(Context, string, Inode) error { return unix.EPERM }

// Rename implements DirInode.
func (FixedDir) Rename(Context, string, Inode, DirInode, string, Inode, uint32) error {
	return unix.EPERM
}

// CreateOpener is implemented by directories whose regular files must be
// opened by the same operation that creates them: on a host file system the
// creator may write a new file whose mode denies it writing, but only
// through the creating open (open(2) with O_CREAT|O_RDWR and mode 0444).
type CreateOpener interface {
	CreateOpen(ctx Context, name string, opts CreateOptions, flags uint32) (Inode, FileImpl, error)
}

// SymlinkInode is implemented by symbolic links.
type SymlinkInode interface {
	Inode
	Readlink(ctx Context) (string, error)
}

// MagicLinkInode is implemented by symlink-like inodes (procfs fd links)
// that resolve directly to a Location rather than to a path. The returned
// Location carries a reference for the caller.
type MagicLinkInode interface {
	SymlinkInode
	Getlink(ctx Context) (Location, error)
}

// XattrInode is implemented by inodes supporting extended attributes.
// Without it, xattr operations fail with EOPNOTSUPP (get/list: ENODATA,
// empty list).
type XattrInode interface {
	GetXattr(ctx Context, name string) ([]byte, error)
	// SetXattr honours flags unix.XATTR_CREATE / unix.XATTR_REPLACE.
	SetXattr(ctx Context, name string, value []byte, flags int) error
	ListXattr(ctx Context) ([]string, error)
	RemoveXattr(ctx Context, name string) error
}

// TmpfileInode is implemented by directories supporting O_TMPFILE. The new
// inode has no name (nlink 0); linkable says whether a later linkat may give
// it one (false for O_EXCL).
type TmpfileInode interface {
	CreateTmpfile(ctx Context, opts CreateOptions, linkable bool) (Inode, error)
}

// SetStatOptions are the arguments of SetStat. Mask is a set of STATX_MODE,
// STATX_UID, STATX_GID, STATX_SIZE, STATX_ATIME, STATX_MTIME.
type SetStatOptions struct {
	Mask         uint32
	Mode         uint32 // permission bits only (07777)
	UID, GID     uint32
	Size         uint64
	Atime, Mtime Timestamp
}

// Dirent is one directory entry returned by IterDirents.
type Dirent struct {
	Name string
	Ino  uint64
	// Type is a DT_* value.
	Type uint8
	// NextOff is the offset of the entry after this one (d_off).
	NextOff int64
}

// EmitDots gives cb the entries "." (offset 0) and ".." (offset 1) that
// come before offset off's, for directories whose own entries start at
// offset 2. It returns the offset to go on from, and false if cb stopped.
func EmitDots(off int64, ino, parentIno uint64, cb func(Dirent) bool) (int64, bool) {
	if off == 0 {
		if !cb(Dirent{Name: ".", Ino: ino, Type: unix.DT_DIR, NextOff: 1}) {
			return off, false
		}
		off = 1
	}
	if off == 1 {
		if !cb(Dirent{Name: "..", Ino: parentIno, Type: unix.DT_DIR, NextOff: 2}) {
			return off, false
		}
		off = 2
	}
	return off, true
}

// DirentType returns the DT_* type for a st_mode.
func DirentType(mode uint32) uint8 {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return unix.DT_REG
	case unix.S_IFDIR:
		return unix.DT_DIR
	case unix.S_IFLNK:
		return unix.DT_LNK
	case unix.S_IFCHR:
		return unix.DT_CHR
	case unix.S_IFBLK:
		return unix.DT_BLK
	case unix.S_IFIFO:
		return unix.DT_FIFO
	case unix.S_IFSOCK:
		return unix.DT_SOCK
	}
	return unix.DT_UNKNOWN
}
