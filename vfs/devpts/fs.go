// Package devpts is the sandbox's devpts filesystem (/dev/pts): Unix 98
// pseudo-terminals. Opening /dev/ptmx (or /dev/pts/ptmx) makes a new pair:
// the master file, and the replica /dev/pts/N that appears at once, locked
// until TIOCSPTLCK unlocks it. Data written on the master goes through the
// replica's line discipline (ldisc.go) to the replica's readers; data
// written on the replica is output-processed and read on the master.
// Job control (controlling terminal, foreground process group, SIGTTIN and
// SIGTTOU, hangup) is vfs/jobctl's, shared with the host terminal.
package devpts

import (
	"sort"
	"strconv"
	"sync"

	"github.com/runsc-lite/runsc-lite/vfs"
	"golang.org/x/sys/unix"
)

// Device numbers.
const (
	PtmxMajor    = 5
	PtmxMinor    = 2
	ReplicaMajor = 136 // UNIX98_PTY_SLAVE_MAJOR

	// TTYGID is the group of new replicas (the tty group, as with
	// devpts's usual gid=5 mount option).
	TTYGID = 5

	superMagic = 0x1cd1
	maxPtys    = 1 << 16
)

// Filesystem is a devpts instance.
type Filesystem struct {
	v     *vfs.VFS
	vfsfs *vfs.Filesystem
	root  *rootInode

	mu       sync.Mutex
	used     map[uint32]bool     // indexes in use (until both sides are closed)
	ptys     map[uint32]*pty     // replicas visible in the directory (master open)
	consoles map[uint32]*console // host terminals shown here (AddTerminal)
}

// New returns a new devpts filesystem to mount at /dev/pts and registers
// its devices with v: the pty master multiplexer (5,2, so /dev/ptmx opens a
// master of this instance; call it after devfs.New, whose placeholder it
// replaces) and the replicas (136,N).
func New(v *vfs.VFS) (*vfs.Filesystem, error) {
	fs := &Filesystem{v: v, used: map[uint32]bool{}, ptys: map[uint32]*pty{}, consoles: map[uint32]*console{}}
	now := vfs.NowTimestamp()
	fs.root = &rootInode{fs: fs, ts: now}
	fs.vfsfs = v.NewFilesystem(fs, fs.root)
	v.RegisterDevice(unix.S_IFCHR, PtmxMajor, PtmxMinor, ptmxDevice{fs})
	v.RegisterDevice(unix.S_IFCHR, ReplicaMajor, ^uint32(0), replicaDevice{fs})
	return fs.vfsfs, nil
}

// Name implements vfs.FilesystemImpl.
func (fs *Filesystem) Name() string { return "devpts" }

// StatFS implements vfs.FilesystemImpl.
func (fs *Filesystem) StatFS(vfs.Context) (vfs.Statfs, error) {
	return vfs.Statfs{Type: superMagic, Bsize: 4096, Namelen: 255}, nil
}

// Release implements vfs.FilesystemImpl.
func (fs *Filesystem) Release() {}

// freeIndexLocked returns the lowest free index.
func (fs *Filesystem) freeIndexLocked() (uint32, error) {
	var idx uint32
	for idx = 0; fs.used[idx]; idx++ {
	}
	if idx >= maxPtys {
		return 0, unix.ENOSPC
	}
	return idx, nil
}

// newReplicaInode is the inode of replica idx, owned by the caller.
func newReplicaInode(ctx vfs.Context, idx uint32) *replicaInode {
	now := vfs.NowTimestamp()
	return &replicaInode{index: idx, mode: 0o620, uid: ctx.Credentials().UID, gid: TTYGID, atime: now, mtime: now, ctime: now}
}

// newPty allocates the lowest free index and makes a pty owned by the
// caller.
func (fs *Filesystem) newPty(ctx vfs.Context) (*pty, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	idx, err := fs.freeIndexLocked()
	if err != nil {
		return nil, err
	}
	p := newPty(fs, idx)
	p.inode = newReplicaInode(ctx, idx)
	fs.used[idx] = true
	fs.ptys[idx] = p
	fs.vfsfs.Root().Invalidate(strconv.Itoa(int(idx)))
	return p, nil
}

// hide removes the replica's directory entry (its master closed).
func (fs *Filesystem) hide(p *pty) {
	fs.mu.Lock()
	if fs.ptys[p.index] == p {
		delete(fs.ptys, p.index)
	}
	fs.mu.Unlock()
	fs.vfsfs.Root().Invalidate(strconv.Itoa(int(p.index)))
}

// free releases the index (both sides closed).
func (fs *Filesystem) free(p *pty) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.ptys[p.index] == p {
		delete(fs.ptys, p.index)
	}
	delete(fs.used, p.index)
}

func (fs *Filesystem) lookup(idx uint32) *pty {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.ptys[idx]
}

// rootInode is /dev/pts.
type rootInode struct {
	vfs.FixedDir // devpts makes its entries itself
	fs           *Filesystem
	mu           sync.Mutex
	ts           vfs.Timestamp
}

const (
	rootIno = 1
	ptmxIno = 2
)

func (r *rootInode) Stat(vfs.Context) (vfs.Statx, error) {
	return vfs.Statx{Mask: unix.STATX_BASIC_STATS, Mode: unix.S_IFDIR | 0o755, Nlink: 2, Ino: rootIno,
		Blksize: 1024, Atime: r.ts, Mtime: r.ts, Ctime: r.ts}, nil
}

func (r *rootInode) SetStat(vfs.Context, *vfs.SetStatOptions) error { return unix.EPERM }

func (r *rootInode) Open(vfs.Context, uint32) (vfs.FileImpl, error) { return &dirFile{fs: r.fs}, nil }

func (r *rootInode) Lookup(_ vfs.Context, name string) (vfs.Inode, error) {
	if name == "ptmx" {
		return &ptmxInode{ts: r.ts}, nil
	}
	idx, err := strconv.ParseUint(name, 10, 32)
	if err != nil || strconv.FormatUint(idx, 10) != name {
		return nil, unix.ENOENT
	}
	if p := r.fs.lookup(uint32(idx)); p != nil {
		return p.inode, nil
	}
	if c := r.fs.console(uint32(idx)); c != nil {
		return c.inode, nil
	}
	return nil, unix.ENOENT
}

// dirFile is an open /dev/pts.
type dirFile struct {
	vfs.FileImplBase
	fs *Filesystem
}

// IterDirents implements vfs.DirFile: ".", "..", "ptmx", then the replicas
// by index (offset index+3).
func (d *dirFile) IterDirents(_ vfs.Context, off int64, cb func(vfs.Dirent) bool) error {
	fixed := []vfs.Dirent{
		{Name: ".", Ino: rootIno, Type: unix.DT_DIR, NextOff: 1},
		{Name: "..", Ino: rootIno, Type: unix.DT_DIR, NextOff: 2},
		{Name: "ptmx", Ino: ptmxIno, Type: unix.DT_CHR, NextOff: 3},
	}
	for ; off < 3; off++ {
		if !cb(fixed[off]) {
			return nil
		}
	}
	d.fs.mu.Lock()
	var idxs []uint32
	for i := range d.fs.ptys {
		if int64(i)+3 >= off {
			idxs = append(idxs, i)
		}
	}
	for i := range d.fs.consoles {
		if int64(i)+3 >= off {
			idxs = append(idxs, i)
		}
	}
	d.fs.mu.Unlock()
	sort.Slice(idxs, func(a, b int) bool { return idxs[a] < idxs[b] })
	for _, i := range idxs {
		if !cb(vfs.Dirent{Name: strconv.Itoa(int(i)), Ino: replicaIno(i), Type: unix.DT_CHR, NextOff: int64(i) + 4}) {
			return nil
		}
	}
	return nil
}

func replicaIno(idx uint32) uint64 { return uint64(idx) + 3 }

// ptmxInode is /dev/pts/ptmx (c 5,2, mode 0000 as with the default
// ptmxmode).
type ptmxInode struct{ ts vfs.Timestamp }

func (p *ptmxInode) Stat(vfs.Context) (vfs.Statx, error) {
	return vfs.Statx{Mask: unix.STATX_BASIC_STATS, Mode: unix.S_IFCHR, Nlink: 1, Ino: ptmxIno,
		Rdev_major: PtmxMajor, Rdev_minor: PtmxMinor, Blksize: 1024, Atime: p.ts, Mtime: p.ts, Ctime: p.ts}, nil
}

func (p *ptmxInode) SetStat(vfs.Context, *vfs.SetStatOptions) error { return unix.EPERM }
func (p *ptmxInode) Open(vfs.Context, uint32) (vfs.FileImpl, error) { return nil, unix.ENXIO }

// replicaInode is /dev/pts/N.
type replicaInode struct {
	index               uint32
	mu                  sync.Mutex
	mode                uint32 // permission bits
	uid, gid            uint32
	atime, mtime, ctime vfs.Timestamp
}

func (r *replicaInode) Stat(vfs.Context) (vfs.Statx, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return vfs.Statx{Mask: unix.STATX_BASIC_STATS, Mode: uint16(unix.S_IFCHR | r.mode), Nlink: 1,
		Ino: replicaIno(r.index), Uid: r.uid, Gid: r.gid, Rdev_major: ReplicaMajor, Rdev_minor: r.index,
		Blksize: 1024, Atime: r.atime, Mtime: r.mtime, Ctime: r.ctime}, nil
}

func (r *replicaInode) SetStat(_ vfs.Context, o *vfs.SetStatOptions) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if o.Mask&unix.STATX_SIZE != 0 {
		return unix.EINVAL
	}
	if o.Mask&unix.STATX_MODE != 0 {
		r.mode = o.Mode & 0o7777
	}
	if o.Mask&unix.STATX_UID != 0 {
		r.uid = o.UID
	}
	if o.Mask&unix.STATX_GID != 0 {
		r.gid = o.GID
	}
	if o.Mask&unix.STATX_ATIME != 0 {
		r.atime = o.Atime
	}
	if o.Mask&unix.STATX_MTIME != 0 {
		r.mtime = o.Mtime
	}
	r.ctime = vfs.NowTimestamp()
	return nil
}

func (r *replicaInode) Open(vfs.Context, uint32) (vfs.FileImpl, error) { return nil, unix.ENXIO }

// ptmxDevice opens a new master.
type ptmxDevice struct{ fs *Filesystem }

// Open implements vfs.Device.
func (d ptmxDevice) Open(ctx vfs.Context, loc vfs.Location, flags uint32) (vfs.FileImpl, error) {
	p, err := d.fs.newPty(ctx)
	if err != nil {
		return nil, err
	}
	return newMaster(p, loc.Mount, flags), nil
}

// replicaDevice opens replica N (136,N).
type replicaDevice struct{ fs *Filesystem }

// Open implements vfs.Device.
func (d replicaDevice) Open(ctx vfs.Context, loc vfs.Location, flags uint32) (vfs.FileImpl, error) {
	st, err := loc.Dentry.Inode().Stat(ctx)
	if err != nil {
		return nil, err
	}
	if p := d.fs.lookup(st.Rdev_minor); p != nil {
		return p.openReplica(ctx, flags, true)
	}
	if c := d.fs.console(st.Rdev_minor); c != nil {
		return c.open(ctx, flags)
	}
	return nil, unix.EIO
}
