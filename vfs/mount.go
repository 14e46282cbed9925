package vfs

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// VFS is one virtual file system: filesystems, the mount tree and the
// dentry cache. A sandbox has one.
type VFS struct {
	// mu is the namespace lock: path walks hold it for reading, operations
	// that change the namespace (create, unlink, rename, mount...) hold it
	// for writing.
	mu     sync.RWMutex
	mounts map[mountKey]*Mount

	nextDev   atomic.Uint32
	nextMntID atomic.Uint64

	devMu   sync.RWMutex
	devices map[devKey]Device

	locks   lockTable
	writers writeAccess

	invalidator atomic.Pointer[MappingInvalidator]

	anonOnce sync.Once
	anonMnt  *Mount
	anonIno  atomic.Uint64

	sharedMu sync.Mutex
	shared   map[any]any

	// nameMu guards Dentry.parent and name against readers that do not
	// hold mu (inotify events of open files); writers hold mu too.
	nameMu sync.Mutex
	// watches are the inotify watches.
	watches watchTable
}

// Shared returns the value stored under key, creating it with make on first
// use: state a file system kind keeps per VFS rather than per process (for
// example the job control of a host terminal that several open files
// share). key should be a value of an unexported type of the caller.
func (v *VFS) Shared(key any, make func() any) any {
	v.sharedMu.Lock()
	defer v.sharedMu.Unlock()
	if v.shared == nil {
		v.shared = map[any]any{}
	}
	s, ok := v.shared[key]
	if !ok {
		s = make()
		v.shared[key] = s
	}
	return s
}

type mountKey struct {
	parent *Mount
	point  *Dentry
}

// New returns an empty VFS.
func New() *VFS {
	return &VFS{mounts: make(map[mountKey]*Mount), devices: make(map[devKey]Device)}
}

// Filesystem is an instance of a filesystem type, with its own device number
// and dentry tree.
type Filesystem struct {
	vfs  *VFS
	impl FilesystemImpl
	dev  uint32 // minor of the anonymous device (major 0)
	root *Dentry
}

// NewFilesystem registers a filesystem instance whose root directory is
// root, giving it an anonymous device number.
func (v *VFS) NewFilesystem(impl FilesystemImpl, root Inode) *Filesystem {
	fs := &Filesystem{vfs: v, impl: impl, dev: v.nextDev.Add(1)}
	fs.root = newDentry(fs, nil, "", root, unix.S_IFDIR)
	return fs
}

// Impl returns the filesystem implementation.
func (fs *Filesystem) Impl() FilesystemImpl { return fs.impl }

// Dev returns the device number (st_dev) of the filesystem's files.
func (fs *Filesystem) Dev() uint64 { return unix.Mkdev(0, fs.dev) }

// Root returns the root dentry.
func (fs *Filesystem) Root() *Dentry { return fs.root }

// Mount flags (MS_* values).
const (
	MountReadOnly = unix.MS_RDONLY
	MountNoSuid   = unix.MS_NOSUID
	MountNoDev    = unix.MS_NODEV
	MountNoExec   = unix.MS_NOEXEC
)

// Mount is one mount of a filesystem (or a subtree of it, for bind mounts).
type Mount struct {
	vfs   *VFS
	id    uint64
	fs    *Filesystem
	root  *Dentry
	flags atomic.Uint32

	// internal marks a mount the kernel keeps for itself (memfd's): the
	// paths of its files are shown from its root, as Linux's d_path does.
	internal bool

	// Protected by vfs.mu.
	parent *Mount
	point  *Dentry
	ns     *MountNamespace

	refs atomic.Int64
}

// ID returns the mount ID (statx stx_mnt_id, /proc/self/mountinfo).
func (m *Mount) ID() uint64 { return m.id }

// Filesystem returns the mounted filesystem.
func (m *Mount) Filesystem() *Filesystem { return m.fs }

// Root returns the mount's root dentry.
func (m *Mount) Root() *Dentry { return m.root }

// Flags returns the MS_* flags of the mount.
func (m *Mount) Flags() uint32 { return m.flags.Load() }

// SetFlags changes the per-mount flags (remount).
func (m *Mount) SetFlags(f uint32) { m.flags.Store(f) }

// ReadOnly reports whether the mount is read-only.
func (m *Mount) ReadOnly() bool { return m.flags.Load()&MountReadOnly != 0 }

// Parent returns the parent mount and mount point (nil at a namespace root
// or for a detached mount).
func (m *Mount) Parent() (*Mount, *Dentry) {
	m.vfs.mu.RLock()
	defer m.vfs.mu.RUnlock()
	return m.parent, m.point
}

// IncRef and DecRef count users (open files, working directories) of the
// mount, so that unmounting a busy mount gives EBUSY.
func (m *Mount) IncRef() { m.refs.Add(1) }

// DecRef drops a reference taken with IncRef.
func (m *Mount) DecRef() { m.refs.Add(-1) }

func (v *VFS) newMount(fs *Filesystem, root *Dentry, flags uint32) *Mount {
	m := &Mount{vfs: v, id: v.nextMntID.Add(1), fs: fs, root: root}
	m.flags.Store(flags)
	return m
}

// MountNamespace is a mount tree with a root mount.
type MountNamespace struct {
	root *Mount
}

// NewMountNamespace makes a namespace whose root is a mount of fs.
func (v *VFS) NewMountNamespace(fs *Filesystem, flags uint32) *MountNamespace {
	ns := &MountNamespace{}
	ns.root = v.newMount(fs, fs.root, flags)
	ns.root.ns = ns
	return ns
}

// NewInternalMount mounts fs in no namespace, for files the kernel makes
// itself (memfd_create): PathOf shows them as "/NAME", not unreachable.
func (v *VFS) NewInternalMount(fs *Filesystem) Location {
	m := v.newMount(fs, fs.root, 0)
	m.internal = true
	return Location{m, m.root}
}

// Root returns the root Location of the namespace (no reference taken).
func (ns *MountNamespace) Root() Location { return Location{ns.root, ns.root.root} }

// Location is a position in the mount tree: a dentry as seen through a
// mount.
type Location struct {
	Mount  *Mount
	Dentry *Dentry
}

// Ok reports whether l is set.
func (l Location) Ok() bool { return l.Mount != nil && l.Dentry != nil }

// IncRef takes a reference on the location's mount (cwd, root, open files).
func (l Location) IncRef() {
	if l.Mount != nil {
		l.Mount.IncRef()
	}
}

// DecRef drops a reference taken with IncRef.
func (l Location) DecRef() {
	if l.Mount != nil {
		l.Mount.DecRef()
	}
}

// Mounts returns the mounts of the namespace, parents first (for
// /proc/self/mounts).
func (v *VFS) Mounts(ns *MountNamespace) []*Mount {
	v.mu.RLock()
	defer v.mu.RUnlock()
	var out []*Mount
	var rec func(m *Mount)
	rec = func(m *Mount) {
		out = append(out, m)
		for _, c := range v.childMountsLocked(m) {
			rec(c)
		}
	}
	rec(ns.root)
	return out
}

func (v *VFS) childMountsLocked(m *Mount) []*Mount {
	var out []*Mount
	for k, c := range v.mounts {
		if k.parent == m {
			out = append(out, c)
		}
	}
	// Deterministic order: by mount ID.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].id < out[j-1].id; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// Mount mounts fs (its root) at path, which must name a directory.
func (v *VFS) Mount(ctx Context, root, start Location, path string, fs *Filesystem, flags uint32) (*Mount, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.mountAtLocked(ctx, root, start, path, fs, fs.root, flags)
}

func (v *VFS) mountAtLocked(ctx Context, root, start Location, path string, fs *Filesystem, d *Dentry, flags uint32) (*Mount, error) {
	if !ctx.Credentials().HasCap(unix.CAP_SYS_ADMIN) {
		return nil, unix.EPERM
	}
	r := v.newResolver(ctx, root)
	target, err := r.walk(start, path, true)
	if err != nil {
		return nil, err
	}
	if target.Dentry.IsDir() != d.IsDir() {
		return nil, unix.ENOTDIR
	}
	if target.Dentry.IsDead() {
		return nil, unix.ENOENT
	}
	m := v.newMount(fs, d, flags)
	v.attachLocked(m, target)
	return m, nil
}

func (v *VFS) attachLocked(m *Mount, at Location) {
	m.parent = at.Mount
	m.point = at.Dentry
	m.ns = at.Mount.ns
	at.Dentry.mounts++
	v.mounts[mountKey{at.Mount, at.Dentry}] = m
}

func (v *VFS) detachLocked(m *Mount) {
	if m.parent == nil {
		return
	}
	delete(v.mounts, mountKey{m.parent, m.point})
	m.point.mounts--
	m.parent, m.point = nil, nil
}

// BindMount mounts the subtree at source on path. With recursive, mounts
// below source are replicated too.
func (v *VFS) BindMount(ctx Context, source Location, root, start Location, path string, flags uint32, recursive bool) (*Mount, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	m, err := v.mountAtLocked(ctx, root, start, path, source.Mount.fs, source.Dentry, flags)
	if err != nil {
		return nil, err
	}
	if recursive {
		v.copySubmountsLocked(source.Mount, source.Dentry, m)
	}
	return m, nil
}

// copySubmountsLocked replicates the mounts of src below dentry d onto dst
// (whose root is d).
func (v *VFS) copySubmountsLocked(src *Mount, d *Dentry, dst *Mount) {
	for _, c := range v.childMountsLocked(src) {
		if !c.point.isDescendantOf(d) {
			continue
		}
		nc := v.newMount(c.fs, c.root, c.flags.Load())
		v.attachLocked(nc, Location{dst, c.point})
		v.copySubmountsLocked(c, c.root, nc)
	}
}

// Unmount flags.
const (
	UnmountDetach = unix.MNT_DETACH
	UnmountForce  = unix.MNT_FORCE
)

// Unmount implements umount2(2): path must be the root of a mount. Without
// MNT_DETACH a mount with submounts or users is EBUSY.
func (v *VFS) Unmount(ctx Context, root, start Location, path string, flags int) error {
	if !ctx.Credentials().HasCap(unix.CAP_SYS_ADMIN) {
		return unix.EPERM
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	r := v.newResolver(ctx, root)
	loc, err := r.walk(start, path, flags&unix.UMOUNT_NOFOLLOW == 0)
	if err != nil {
		return err
	}
	m := loc.Mount
	if loc.Dentry != m.root {
		return unix.EINVAL
	}
	if m.parent == nil {
		return unix.EINVAL
	}
	if flags&unix.MNT_DETACH == 0 {
		if len(v.childMountsLocked(m)) > 0 || m.refs.Load() > 0 {
			return unix.EBUSY
		}
		v.detachLocked(m)
		return nil
	}
	var rec func(m *Mount)
	rec = func(m *Mount) {
		for _, c := range v.childMountsLocked(m) {
			rec(c)
		}
		v.detachLocked(m)
	}
	rec(m)
	return nil
}

// Device is a character or block device driver registered with
// RegisterDevice.
type Device interface {
	// Open opens the device; loc is the device node (flags as in open).
	Open(ctx Context, loc Location, flags uint32) (FileImpl, error)
}

type devKey struct {
	typ          uint32
	major, minor uint32
}

// RegisterDevice makes opens of device nodes of type typ (unix.S_IFCHR or
// unix.S_IFBLK) with the given numbers call dev. minor ^uint32(0) registers
// every minor of major.
func (v *VFS) RegisterDevice(typ uint32, major, minor uint32, dev Device) {
	v.devMu.Lock()
	defer v.devMu.Unlock()
	v.devices[devKey{typ, major, minor}] = dev
}

func (v *VFS) lookupDevice(typ uint32, rdev uint64) Device {
	v.devMu.RLock()
	defer v.devMu.RUnlock()
	maj, min := unix.Major(rdev), unix.Minor(rdev)
	if d, ok := v.devices[devKey{typ, maj, min}]; ok {
		return d
	}
	return v.devices[devKey{typ, maj, ^uint32(0)}]
}

// CloneMountNamespace implements CLONE_NEWNS / unshare(CLONE_NEWNS): it
// copies the mount tree of ns. Each Location in locs (a task's root and cwd)
// that points into ns is rewritten to the corresponding mount of the copy
// (references move with it).
func (v *VFS) CloneMountNamespace(ns *MountNamespace, locs ...*Location) *MountNamespace {
	v.mu.Lock()
	defer v.mu.Unlock()
	nns := &MountNamespace{}
	old2new := map[*Mount]*Mount{}
	var rec func(m *Mount, parent *Mount) *Mount
	rec = func(m *Mount, parent *Mount) *Mount {
		nm := v.newMount(m.fs, m.root, m.flags.Load())
		nm.ns = nns
		old2new[m] = nm
		if parent != nil {
			v.attachLocked(nm, Location{parent, m.point})
		}
		for _, c := range v.childMountsLocked(m) {
			rec(c, nm)
		}
		return nm
	}
	nns.root = rec(ns.root, nil)
	for _, l := range locs {
		if nm, ok := old2new[l.Mount]; ok {
			l.Mount.DecRef()
			nm.IncRef()
			l.Mount = nm
		}
	}
	return nns
}

// Namespace returns the mount namespace the mount belongs to (nil if
// detached or anonymous).
func (m *Mount) Namespace() *MountNamespace {
	m.vfs.mu.RLock()
	defer m.vfs.mu.RUnlock()
	return m.ns
}
