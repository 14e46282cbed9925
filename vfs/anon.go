package vfs

import (
	"sync"

	"golang.org/x/sys/unix"
)

// anonFS is the pseudo filesystem of anonymous files (pipes, sockets,
// eventfds...): files with no name in any directory.
type anonFS struct{}

func (anonFS) Name() string { return "anon_inodefs" }

func (anonFS) StatFS(Context) (Statfs, error) {
	return Statfs{Type: anonInodeMagic, Bsize: 4096, Namelen: NameMax}, nil
}

func (anonFS) Release() {}

// Magic numbers of the pseudo file systems Linux keeps anonymous files on;
// fstatfs shows which one a file is on.
const (
	anonInodeMagic = 0x09041934
	pipefsMagic    = 0x50495045
	sockfsMagic    = 0x534f434b
)

// anonMagic returns the statfs f_type of an anonymous file of type ftype:
// Linux has pipes on pipefs and sockets on sockfs, the rest on anon_inodefs.
func anonMagic(ftype uint32) int64 {
	switch ftype {
	case unix.S_IFIFO:
		return pipefsMagic
	case unix.S_IFSOCK:
		return sockfsMagic
	}
	return anonInodeMagic
}

func (v *VFS) anonMount() *Mount {
	v.anonOnce.Do(func() {
		root := &AnonInode{Mode: unix.S_IFDIR | 0o700, Ino: 1}
		fs := v.NewFilesystem(anonFS{}, root)
		v.anonMnt = v.newMount(fs, fs.root, 0)
	})
	return v.anonMnt
}

// NewAnonIno returns a fresh inode number for an anonymous inode.
func (v *VFS) NewAnonIno() uint64 { return v.anonIno.Add(1) + 1 }

// NewAnonLocation returns a Location for an anonymous inode (not in any
// directory) called name, e.g. "pipe:[12]" or "anon_inode:[eventfd]", which
// is also what PathOf returns for it.
func (v *VFS) NewAnonLocation(name string, inode Inode, ftype uint32) Location {
	m := v.anonMount()
	return Location{m, newDentry(m.fs, nil, name, inode, ftype)}
}

// AnonInode is a simple in-memory Inode for anonymous files. Its Open
// returns EINVAL (anonymous files are made with VFS.NewFile).
type AnonInode struct {
	mu       sync.Mutex
	Mode     uint32 // including the file type
	Ino      uint64
	UID, GID uint32
	Atime    Timestamp
	Mtime    Timestamp
	Ctime    Timestamp
	Size     int64
}

// NewAnonInode returns an AnonInode owned by the caller with the given mode
// and a fresh inode number.
func (v *VFS) NewAnonInode(ctx Context, mode uint32) *AnonInode {
	now := nowTimestamp()
	c := ctx.Credentials()
	return &AnonInode{Mode: mode, Ino: v.NewAnonIno(), UID: c.UID, GID: c.GID, Atime: now, Mtime: now, Ctime: now}
}

// Stat implements Inode.
func (a *AnonInode) Stat(Context) (Statx, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return Statx{
		Mask:    unix.STATX_BASIC_STATS,
		Blksize: 4096,
		Nlink:   1,
		Uid:     a.UID,
		Gid:     a.GID,
		Mode:    uint16(a.Mode),
		Ino:     a.Ino,
		Size:    uint64(a.Size),
		Atime:   a.Atime,
		Mtime:   a.Mtime,
		Ctime:   a.Ctime,
	}, nil
}

// SetStat implements Inode.
func (a *AnonInode) SetStat(_ Context, o *SetStatOptions) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if o.Mask&unix.STATX_SIZE != 0 {
		return unix.EINVAL
	}
	if o.Mask&unix.STATX_MODE != 0 {
		a.Mode = a.Mode&unix.S_IFMT | o.Mode&0o7777
	}
	if o.Mask&unix.STATX_UID != 0 {
		a.UID = o.UID
	}
	if o.Mask&unix.STATX_GID != 0 {
		a.GID = o.GID
	}
	if o.Mask&unix.STATX_ATIME != 0 {
		a.Atime = o.Atime
	}
	if o.Mask&unix.STATX_MTIME != 0 {
		a.Mtime = o.Mtime
	}
	a.Ctime = nowTimestamp()
	return nil
}

// TouchTimes updates the access and/or modification times to now.
func (a *AnonInode) TouchTimes(atime, mtime bool) {
	now := nowTimestamp()
	a.mu.Lock()
	defer a.mu.Unlock()
	if atime {
		a.Atime = now
	}
	if mtime {
		a.Mtime = now
		a.Ctime = now
	}
}

// Open implements Inode.
func (a *AnonInode) Open(Context, uint32) (FileImpl, error) { return nil, unix.ENXIO }
