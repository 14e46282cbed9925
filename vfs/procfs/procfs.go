// Package procfs is the /proc filesystem: per-process directories for the
// live processes of the sandbox (PID namespace of the kernel: the guest's
// init is PID 1) plus the system-wide files (cpuinfo, meminfo, stat,
// uptime, sys/...). Every file is generated when read, like Linux's
// seq_file: a read at offset 0 takes a fresh snapshot and reads at other
// offsets continue in it, so partial reads are consistent.
package procfs

import (
	"crypto/rand"
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/vfs"
)

// Magic is PROC_SUPER_MAGIC (statfs f_type).
const Magic = 0x9fa0

// pidOffset is the directory offset base of process entries in /proc (the
// static entries come first).
const pidOffset = 1000

// ExeNamer is implemented by a ThreadGroup's Ext (owned by the syscall
// layer, set by execve) to give /proc/PID/exe.
type ExeNamer interface {
	ExePath() string
}

// ExeLocationer may be implemented by a ThreadGroup's Ext instead of (or
// besides) ExeNamer: the executable's Location, so /proc/PID/exe is a magic
// link that opens the very file even if it was renamed or deleted. The
// returned Location carries a reference for the caller.
type ExeLocationer interface {
	ExeLocation() (vfs.Location, bool)
}

// MountNamespacer may be implemented by a ThreadGroup's Ext or the
// Kernel's Ext to give the mount namespace listed in /proc/PID/mounts.
type MountNamespacer interface {
	MountNamespace() *vfs.MountNamespace
}

// FS is a procfs instance.
type FS struct {
	v     *vfs.VFS
	k     *kernel.Kernel
	vfsfs *vfs.Filesystem

	rootIno   uint64
	bootTS    vfs.Timestamp
	onReaddir func()

	mu       sync.Mutex
	pidNames map[string]struct{} // process names handed to the dentry cache

	oomAdj sync.Map // *kernel.ThreadGroup -> int
	ns     atomic.Pointer[vfs.MountNamespace]
	// scratch holds, per filesystem, a private mount of its root used to
	// compute mountinfo's root field of bind mounts.
	scratch sync.Map // *vfs.Filesystem -> *vfs.MountNamespace

	memTotal uint64 // bytes
	bootID   string
	cpus     int
}

// New makes a procfs instance for kernel k, to be mounted at /proc.
func New(v *vfs.VFS, k *kernel.Kernel) *vfs.Filesystem {
	fs := &FS{v: v, k: k, pidNames: make(map[string]struct{}), bootID: newUUID(), cpus: numCPU()}
	bt := k.BootTime()
	fs.bootTS = vfs.Timestamp{Sec: bt.Unix(), Nsec: uint32(bt.Nanosecond())}
	fs.memTotal = k.MemTotal()
	root := fs.newRoot()
	fs.rootIno = root.ino
	fs.vfsfs = v.NewFilesystem(fs, root)
	fs.onReaddir = fs.sweep
	return fs.vfsfs
}

// SetMountNamespace sets the mount namespace /proc/PID/mounts lists when
// neither the process's nor the kernel's Ext implements MountNamespacer.
// f must be a Filesystem returned by New.
func SetMountNamespace(f *vfs.Filesystem, ns *vfs.MountNamespace) {
	if fs, ok := f.Impl().(*FS); ok {
		fs.ns.Store(ns)
	}
}

// Name implements vfs.FilesystemImpl.
func (fs *FS) Name() string { return "proc" }

// Release implements vfs.FilesystemImpl.
func (fs *FS) Release() {}

// StatFS implements vfs.FilesystemImpl.
func (fs *FS) StatFS(vfs.Context) (vfs.Statfs, error) {
	return vfs.Statfs{Type: Magic, Bsize: 4096, Frsize: 4096, Namelen: vfs.NameMax}, nil
}

// sweep drops cached dentries of processes that no longer exist, so the
// dentry cache does not grow without bound (run on readdir of /proc; it
// cannot run from Lookup, which is called with the root dentry locked).
func (fs *FS) sweep() {
	fs.mu.Lock()
	var dead []string
	for name := range fs.pidNames {
		tid, _ := strconv.Atoi(name)
		if fs.k.TaskByTID(int32(tid)) == nil {
			dead = append(dead, name)
			delete(fs.pidNames, name)
		}
	}
	fs.mu.Unlock()
	root := fs.vfsfs.Root()
	for _, name := range dead {
		root.Invalidate(name)
	}
}

// taskExists reports whether an entry of /proc or /proc/PID/task is still
// there: names that are not TIDs always are, TIDs while their task lives.
func (fs *FS) taskExists(name string) bool {
	tid, err := strconv.ParseInt(name, 10, 32)
	if err != nil {
		return true
	}
	return fs.k.TaskByTID(int32(tid)) != nil
}

// taskRef names a task by TID. It resolves to whichever task holds the TID
// now, so a cached dentry of a dead process never shows stale data (and a
// reused PID shows the new process).
type taskRef struct {
	fs  *FS
	tid int32
}

func (r *taskRef) task() *kernel.Task { return r.fs.k.TaskByTID(r.tid) }

// ids returns the owner of the process's files: its effective IDs.
func (r *taskRef) ids() (uint32, uint32) {
	t := r.task()
	if t == nil {
		return 0, 0
	}
	c := t.Creds()
	if c == nil {
		return 0, 0
	}
	return c.EffectiveUID, c.EffectiveGID
}

func (r *taskRef) startTS() vfs.Timestamp {
	t := r.task()
	if t == nil {
		return vfs.Timestamp{}
	}
	st := t.StartTime()
	return vfs.Timestamp{Sec: st.Unix(), Nsec: uint32(st.Nanosecond())}
}

// callerTask returns the task making the request, or nil.
func callerTask(ctx vfs.Context) *kernel.Task {
	for i := 0; i < 8 && ctx != nil; i++ {
		if s, ok := ctx.(selfCtx); ok {
			ctx = s.Context
			continue
		}
		if t := kernel.TaskFromContext(ctx); t != nil {
			return t
		}
		// Wrappers that embed a Context (such as the VFS's access
		// context) hide the task: look through an embedded field named
		// Context.
		v := reflect.ValueOf(ctx)
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return nil
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			return nil
		}
		f := v.FieldByName("Context")
		if !f.IsValid() || f.Kind() != reflect.Interface || f.IsNil() || !f.CanInterface() {
			return nil
		}
		inner, ok := f.Interface().(vfs.Context)
		if !ok {
			return nil
		}
		ctx = inner
	}
	return nil
}

// newRoot builds /proc.
func (fs *FS) newRoot() *dirNode {
	rootIno := inoOf("/")
	var statics []child
	add := func(name string, in vfs.Inode) { statics = append(statics, childOf(name, in)) }

	self := fs.newLink("self", nil, func(ctx vfs.Context) (string, error) {
		t := callerTask(ctx)
		if t == nil {
			return "", unix.ENOENT
		}
		return strconv.Itoa(int(t.ThreadGroup().ID())), nil
	})
	threadSelf := fs.newLink("thread-self", nil, func(ctx vfs.Context) (string, error) {
		t := callerTask(ctx)
		if t == nil {
			return "", unix.ENOENT
		}
		return fmt.Sprintf("%d/task/%d", t.ThreadGroup().ID(), t.TID()), nil
	})
	add("self", self)
	add("thread-self", threadSelf)
	add("cpuinfo", fs.newReg("cpuinfo", 0o444, nil, fs.genCPUInfo))
	add("meminfo", fs.newReg("meminfo", 0o444, nil, fs.genMeminfo))
	add("uptime", fs.newReg("uptime", 0o444, nil, fs.genUptime))
	add("loadavg", fs.newReg("loadavg", 0o444, nil, fs.genLoadavg))
	add("stat", fs.newReg("stat", 0o444, nil, fs.genStat))
	add("version", fs.newReg("version", 0o444, nil, fs.genVersion))
	add("filesystems", fs.newReg("filesystems", 0o444, nil, static(filesystemsText)))
	add("cmdline", fs.newReg("cmdline", 0o444, nil, static("BOOT_IMAGE=/vmlinuz runsc-lite\n")))
	add("mounts", fs.newLink("mounts", nil, func(vfs.Context) (string, error) { return "self/mounts", nil }))
	add("net", fs.newLink("net", nil, func(vfs.Context) (string, error) { return "self/net", nil }))
	add("swaps", fs.newReg("swaps", 0o444, nil, static("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n")))
	add("devices", fs.newReg("devices", 0o444, nil, static(devicesText)))
	add("sys", fs.newSysDir(rootIno))
	add("sysvipc", fs.newDir("sysvipc", rootIno, 0o555, nil, func(vfs.Context) ([]child, error) { return nil, nil }))

	root := fs.newDir("/", rootIno, 0o555, nil, nil)
	root.list = func(ctx vfs.Context) ([]child, error) {
		out := append([]child(nil), statics...)
		for _, tg := range fs.k.ThreadGroups() {
			id := tg.ID()
			d := fs.newPIDDir(id, rootIno)
			c := childOf(strconv.Itoa(int(id)), d)
			c.off = pidOffset + int64(id)
			out = append(out, c)
		}
		return out, nil
	}
	root.exists = fs.taskExists
	root.lookup = func(ctx vfs.Context, name string) (vfs.Inode, error) {
		for _, c := range statics {
			if c.name == name {
				return c.inode, nil
			}
		}
		tid, err := strconv.ParseInt(name, 10, 32)
		if err != nil || tid <= 0 || strconv.FormatInt(tid, 10) != name {
			return nil, unix.ENOENT
		}
		// Like Linux, /proc/TID also works for threads, though only
		// processes are listed.
		if fs.k.TaskByTID(int32(tid)) == nil {
			return nil, unix.ENOENT
		}
		fs.mu.Lock()
		fs.pidNames[name] = struct{}{}
		fs.mu.Unlock()
		return fs.newPIDDir(int32(tid), rootIno), nil
	}
	return root
}

// newUUID returns a random RFC 4122 version 4 UUID.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// clockTicks converts nanoseconds to USER_HZ (100 Hz) ticks.
func clockTicks(ns int64) uint64 {
	if ns < 0 {
		return 0
	}
	return uint64(ns / int64(10*time.Millisecond))
}

// mountNamespace returns the mount namespace of t (whose root is root)
// for /proc/PID/mounts.
func (fs *FS) mountNamespace(t *kernel.Task, root vfs.Location) *vfs.MountNamespace {
	if root.Mount != nil {
		if ns := root.Mount.Namespace(); ns != nil {
			return ns
		}
	}
	if ext, ok := t.ThreadGroup().Ext.(MountNamespacer); ok {
		if ns := ext.MountNamespace(); ns != nil {
			return ns
		}
	}
	if ext, ok := fs.k.Ext.(MountNamespacer); ok {
		if ns := ext.MountNamespace(); ns != nil {
			return ns
		}
	}
	return fs.ns.Load()
}
