package goferfs

import (
	"github.com/runsc-lite/runsc-lite/gofer"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/pipe"
	"golang.org/x/sys/unix"
)

// New attaches to gofer mount number mount (0 is the sandbox root). If the
// client is in directfs mode (client.DirectFS, the default) the filesystem
// works on the directory FD Attach returns; otherwise every operation is an
// RPC.
func New(v *vfs.VFS, client *gofer.Client, mount int, opts Options) (*vfs.Filesystem, error) {
	fid, st, dirFD, err := client.Attach(mount)
	if err != nil {
		return nil, err
	}
	if dirFD >= 0 {
		client.Clunk(fid)
		return NewDirect(v, dirFD, opts)
	}
	return NewRPC(v, client, fid, st, opts)
}

// NewRPC makes a goferfs whose every operation is a gofer RPC, rooted at
// the directory fid (with attributes st) from client.Attach.
func NewRPC(v *vfs.VFS, client *gofer.Client, fid uint64, st gofer.Stat, opts Options) (*vfs.Filesystem, error) {
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil, unix.ENOTDIR
	}
	fs := &FS{opts: opts, rootFD: -1, fifos: make(map[devIno]*pipe.Pipe)}
	fs.rpc = &rpcBackend{c: client, fs: fs}
	root := &inode{fs: fs, fd: -1, fid: fid, ftype: unix.S_IFDIR}
	fs.rpc.root = root
	return v.NewFilesystem(fs, root), nil
}

// rpcBackend implements the inode operations with gofer RPCs.
type rpcBackend struct {
	c    *gofer.Client
	fs   *FS
	root *inode
}

func toStatx(s gofer.Stat) vfs.Statx {
	ts := func(ns int64) vfs.Timestamp {
		return vfs.Timestamp{Sec: ns / 1e9, Nsec: uint32(ns % 1e9)}
	}
	return vfs.Statx{
		Mask: s.Mask, Mode: uint16(s.Mode), Nlink: s.Nlink, Uid: s.UID, Gid: s.GID,
		Size: s.Size, Blocks: s.Blocks, Blksize: s.Blksize,
		Atime: ts(s.Atime), Mtime: ts(s.Mtime), Ctime: ts(s.Ctime), Btime: ts(s.Btime),
		Ino: s.Ino, Dev_major: s.DevMajor, Dev_minor: s.DevMinor,
		Rdev_major: s.RdevMajor, Rdev_minor: s.RdevMinor, Attributes: s.Attributes,
	}
}

func (r *rpcBackend) stat(in *inode) (vfs.Statx, error) {
	s, err := r.c.Stat(in.fid)
	return toStatx(s), err
}

func (r *rpcBackend) statFS() (vfs.Statfs, error) {
	s, err := r.c.StatFS(r.root.fid)
	return vfs.Statfs{Type: s.Type, Bsize: s.Bsize, Blocks: s.Blocks, Bfree: s.Bfree, Bavail: s.Bavail,
		Files: s.Files, Ffree: s.Ffree, Namelen: s.Namelen, Frsize: s.Frsize, Flags: s.Flags}, err
}

func (r *rpcBackend) setStat(in *inode, o *vfs.SetStatOptions) error {
	a := gofer.Attr{Mode: o.Mode & 0o7777, UID: o.UID, GID: o.GID, Size: int64(o.Size),
		Atime: unix.Timespec{Sec: o.Atime.Sec, Nsec: int64(o.Atime.Nsec)},
		Mtime: unix.Timespec{Sec: o.Mtime.Sec, Nsec: int64(o.Mtime.Nsec)}}
	if o.Mask&unix.STATX_MODE != 0 {
		a.Mask |= gofer.SetAttrMode
	}
	if o.Mask&unix.STATX_UID != 0 {
		a.Mask |= gofer.SetAttrUID
	}
	if o.Mask&unix.STATX_GID != 0 {
		a.Mask |= gofer.SetAttrGID
	}
	if o.Mask&unix.STATX_SIZE != 0 {
		a.Mask |= gofer.SetAttrSize
	}
	if o.Mask&unix.STATX_ATIME != 0 {
		a.Mask |= gofer.SetAttrAtime
	} else {
		a.Atime.Nsec = unix.UTIME_OMIT
	}
	if o.Mask&unix.STATX_MTIME != 0 {
		a.Mask |= gofer.SetAttrMtime
	} else {
		a.Mtime.Nsec = unix.UTIME_OMIT
	}
	_, err := r.c.SetAttr(in.fid, a)
	return err
}

func (r *rpcBackend) open(in *inode, flags uint32) (int, error) {
	return r.c.Open(in.fid, int(flags&(unix.O_ACCMODE|unix.O_DIRECTORY|unix.O_DSYNC|unix.O_SYNC|unix.O_DIRECT)))
}

func (r *rpcBackend) readlink(in *inode) (string, error) { return r.c.Readlink(in.fid) }

func (r *rpcBackend) newInode(parent *inode, name string, fid uint64, st gofer.Stat) *inode {
	return &inode{fs: r.fs, fd: -1, fid: fid, parent: parent, name: name, ftype: st.Mode & unix.S_IFMT}
}

func (r *rpcBackend) lookup(in *inode, name string) (vfs.Inode, error) {
	res, err := r.c.Walk(in.fid, []string{name})
	if err != nil {
		for _, w := range res {
			r.c.Clunk(w.FID)
		}
		return nil, err
	}
	return r.newInode(in, name, res[0].FID, res[0].Stat), nil
}

func (r *rpcBackend) create(in *inode, name string, opts vfs.CreateOptions) (vfs.Inode, error) {
	if opts.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, unix.EPERM
	}
	fid, st, fd, err := r.c.Create(in.fid, name, unix.O_WRONLY, opts.Mode&0o7777, opts.UID, opts.GID)
	if err != nil {
		return nil, err
	}
	if fd >= 0 {
		unix.Close(fd)
	}
	return r.newInode(in, name, fid, st), nil
}

func (r *rpcBackend) mkdir(in *inode, name string, opts vfs.CreateOptions) (vfs.Inode, error) {
	fid, st, err := r.c.Mkdir(in.fid, name, opts.Mode&0o7777, opts.UID, opts.GID)
	if err != nil {
		return nil, err
	}
	return r.newInode(in, name, fid, st), nil
}

func (r *rpcBackend) symlink(in *inode, name, target string, opts vfs.CreateOptions) (vfs.Inode, error) {
	fid, st, err := r.c.Symlink(in.fid, name, target, opts.UID, opts.GID)
	if err != nil {
		return nil, err
	}
	return r.newInode(in, name, fid, st), nil
}

func (r *rpcBackend) link(in *inode, name string, t *inode) (vfs.Inode, error) {
	fid, st, err := r.c.Link(in.fid, name, t.fid)
	if err != nil {
		return nil, err
	}
	return r.newInode(in, name, fid, st), nil
}

func (r *rpcBackend) unlink(in *inode, name string, flags int) error {
	return r.c.Unlink(in.fid, name, flags)
}

func (r *rpcBackend) rename(in *inode, oldName string, nd *inode, newName string, flags uint32) error {
	return r.c.Rename(in.fid, oldName, nd.fid, newName, uint(flags))
}

// iterDirents lists a directory: offsets 0 and 1 are "." and "..", and a
// gofer offset o is reported as o+2.
func (r *rpcBackend) iterDirents(in *inode, off int64, cb func(vfs.Dirent) bool) error {
	if off == 0 {
		st, err := r.stat(in)
		if err != nil {
			return err
		}
		if !cb(vfs.Dirent{Name: ".", Ino: st.Ino, Type: unix.DT_DIR, NextOff: 1}) {
			return nil
		}
		off = 1
	}
	if off == 1 {
		p := in
		r.fs.mu.RLock()
		if in.parent != nil {
			p = in.parent
		}
		r.fs.mu.RUnlock()
		st, err := r.stat(p)
		if err != nil {
			return err
		}
		if !cb(vfs.Dirent{Name: "..", Ino: st.Ino, Type: unix.DT_DIR, NextOff: 2}) {
			return nil
		}
		off = 2
	}
	goff := off - 2
	for {
		ents, err := r.c.Readdir(in.fid, goff, 256)
		if err != nil {
			return err
		}
		if len(ents) == 0 {
			return nil
		}
		for _, e := range ents {
			if !cb(vfs.Dirent{Name: e.Name, Ino: e.Ino, Type: e.Type, NextOff: e.Off + 2}) {
				return nil
			}
			goff = e.Off
		}
	}
}
