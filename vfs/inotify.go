package vfs

import (
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/vfs/waiter"
)

// inotify(7). Watches are kept per inode in the VFS (so every name of a
// file reaches the same watch, as in Linux); the VFS operations report
// events through notify* below, which cost one atomic load while nobody
// watches anything.

const (
	// inChildEvents are the events a directory's watch also receives for
	// its entries, with the entry's name.
	inChildEvents = unix.IN_ACCESS | unix.IN_MODIFY | unix.IN_ATTRIB | unix.IN_CLOSE_WRITE |
		unix.IN_CLOSE_NOWRITE | unix.IN_OPEN
	// inAddFlags are the flags inotify_add_watch accepts besides events.
	inAddFlags = unix.IN_ONLYDIR | unix.IN_DONT_FOLLOW | unix.IN_EXCL_UNLINK |
		unix.IN_MASK_CREATE | unix.IN_MASK_ADD | unix.IN_ONESHOT
	// inEventHeader is sizeof(struct inotify_event).
	inEventHeader = 16
	// InotifyMaxQueued is /proc/sys/fs/inotify/max_queued_events.
	InotifyMaxQueued = 16384
	// InotifyMaxWatches is /proc/sys/fs/inotify/max_user_watches (per
	// instance here).
	InotifyMaxWatches = 8192
)

// inotifyEvent is one queued event.
type inotifyEvent struct {
	wd     int32
	mask   uint32
	cookie uint32
	name   string
}

// size is the event's length as read(2) returns it: the header and the
// name NUL-padded to a multiple of the header size.
func (e *inotifyEvent) size() int { return inEventHeader + e.nameLen() }

func (e *inotifyEvent) nameLen() int {
	if e.name == "" {
		return 0
	}
	return (len(e.name) + inEventHeader) / inEventHeader * inEventHeader
}

func (e *inotifyEvent) encode(b []byte) {
	binary.LittleEndian.PutUint32(b[0:], uint32(e.wd))
	binary.LittleEndian.PutUint32(b[4:], e.mask)
	binary.LittleEndian.PutUint32(b[8:], e.cookie)
	binary.LittleEndian.PutUint32(b[12:], uint32(e.nameLen()))
	clear(b[inEventHeader:e.size()])
	copy(b[inEventHeader:], e.name)
}

// inotifyWatch is one watch: an instance watching an inode.
type inotifyWatch struct {
	in    *Inotify
	wd    int32
	inode Inode
	mask  uint32 // events and IN_ONESHOT/IN_EXCL_UNLINK (VFS.watchMu)
}

// watchTable maps watched inodes to their watches (one per instance).
type watchTable struct {
	mu      sync.Mutex
	count   atomic.Int64 // number of watches, for the fast path
	byInode map[Inode][]*inotifyWatch
	cookie  atomic.Uint32
}

// Inotify is an inotify instance: the FileImpl of inotify_init1's file.
type Inotify struct {
	StreamFileBase
	v *VFS

	// watches is guarded by v.watches.mu.
	watches map[int32]*inotifyWatch
	nextWD  int32

	mu     sync.Mutex
	events []inotifyEvent
	queued int // bytes in events
	queue  waiter.Queue
}

// NewInotify returns a new inotify instance of v.
func (v *VFS) NewInotify() *Inotify {
	return &Inotify{v: v, watches: map[int32]*inotifyWatch{}, nextWD: 1}
}

// AddWatch implements inotify_add_watch(2) for the inode at loc (already
// resolved, honouring IN_DONT_FOLLOW, and checked for read permission).
func (in *Inotify) AddWatch(loc Location, mask uint32) (int32, error) {
	if mask&^(unix.IN_ALL_EVENTS|inAddFlags) != 0 || mask&unix.IN_ALL_EVENTS == 0 {
		return 0, unix.EINVAL
	}
	if mask&unix.IN_MASK_ADD != 0 && mask&unix.IN_MASK_CREATE != 0 {
		return 0, unix.EINVAL
	}
	if mask&unix.IN_ONLYDIR != 0 && !loc.Dentry.IsDir() {
		return 0, unix.ENOTDIR
	}
	t := &in.v.watches
	t.mu.Lock()
	defer t.mu.Unlock()
	inode := loc.Dentry.inode
	keep := mask & (unix.IN_ALL_EVENTS | unix.IN_ONESHOT | unix.IN_EXCL_UNLINK)
	for _, w := range t.byInode[inode] {
		if w.in != in {
			continue
		}
		if mask&unix.IN_MASK_CREATE != 0 {
			return 0, unix.EEXIST
		}
		if mask&unix.IN_MASK_ADD != 0 {
			keep |= w.mask
		}
		w.mask = keep
		return w.wd, nil
	}
	if len(in.watches) >= InotifyMaxWatches {
		return 0, unix.ENOSPC
	}
	w := &inotifyWatch{in: in, wd: in.nextWD, inode: inode, mask: keep}
	in.nextWD++
	in.watches[w.wd] = w
	if t.byInode == nil {
		t.byInode = map[Inode][]*inotifyWatch{}
	}
	t.byInode[inode] = append(t.byInode[inode], w)
	t.count.Add(1)
	return w.wd, nil
}

// RmWatch implements inotify_rm_watch(2): the watch goes and IN_IGNORED
// is queued.
func (in *Inotify) RmWatch(wd int32) error {
	t := &in.v.watches
	t.mu.Lock()
	w := in.watches[wd]
	if w == nil {
		t.mu.Unlock()
		return unix.EINVAL
	}
	t.removeLocked(w)
	t.mu.Unlock()
	in.queueEvent(inotifyEvent{wd: wd, mask: unix.IN_IGNORED})
	return nil
}

// removeLocked forgets w (t.mu held).
func (t *watchTable) removeLocked(w *inotifyWatch) {
	delete(w.in.watches, w.wd)
	ws := t.byInode[w.inode]
	for i, x := range ws {
		if x == w {
			ws = append(ws[:i:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(t.byInode, w.inode)
	} else {
		t.byInode[w.inode] = ws
	}
	t.count.Add(-1)
}

// Release implements FileImpl: the instance's watches go silently.
func (in *Inotify) Release(Context) {
	t := &in.v.watches
	t.mu.Lock()
	for _, w := range in.watches {
		t.removeLocked(w)
	}
	t.mu.Unlock()
}

// queueEvent appends e unless it repeats the last unread event (Linux
// merges those) or the queue is full (then one IN_Q_OVERFLOW is queued).
func (in *Inotify) queueEvent(e inotifyEvent) {
	in.mu.Lock()
	if n := len(in.events); n > 0 && in.events[n-1] == e {
		in.mu.Unlock()
		return
	}
	switch n := len(in.events); {
	case n > InotifyMaxQueued:
		in.mu.Unlock()
		return
	case n == InotifyMaxQueued:
		e = inotifyEvent{wd: -1, mask: unix.IN_Q_OVERFLOW}
	}
	in.events = append(in.events, e)
	in.queued += e.size()
	in.mu.Unlock()
	in.queue.Notify(waiter.ReadableEvents)
}

// Read implements StreamFile: as many whole events as fit in dst; EINVAL
// if not even the first one does; EAGAIN if there is none.
func (in *Inotify) Read(_ Context, dst []byte) (int, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.events) == 0 {
		return 0, unix.EAGAIN
	}
	n, i := 0, 0
	for ; i < len(in.events); i++ {
		e := &in.events[i]
		sz := e.size()
		if n+sz > len(dst) {
			break
		}
		e.encode(dst[n:])
		n += sz
		in.queued -= sz
	}
	if i == 0 {
		return 0, unix.EINVAL
	}
	in.events = append(in.events[:0:0], in.events[i:]...)
	return n, nil
}

// Write implements StreamFile.
func (in *Inotify) Write(Context, []byte) (int, error) { return 0, unix.EINVAL }

// Readiness implements Waitable.
func (in *Inotify) Readiness(mask waiter.EventMask) waiter.EventMask {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.events) > 0 {
		return mask & waiter.ReadableEvents
	}
	return 0
}

// EventRegister implements Waitable.
func (in *Inotify) EventRegister(e *waiter.Entry) { in.queue.Register(e) }

// EventUnregister implements Waitable.
func (in *Inotify) EventUnregister(e *waiter.Entry) { in.queue.Unregister(e) }

// Ioctl implements Ioctler: FIONREAD gives the bytes queued.
func (in *Inotify) Ioctl(ctx Context, cmd uint32, arg uintptr) (uintptr, error) {
	if cmd != unix.TIOCINQ { // FIONREAD
		return 0, unix.ENOTTY
	}
	in.mu.Lock()
	n := in.queued
	in.mu.Unlock()
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(n))
	return 0, CopyOut(ctx, arg, b[:])
}

// FDInfo returns the instance's /proc/PID/fdinfo lines, one per watch.
func (in *Inotify) FDInfo() string {
	ctx := NewContext(RootCredentials())
	t := &in.v.watches
	t.mu.Lock()
	type line struct {
		wd    int32
		inode Inode
		mask  uint32
	}
	lines := make([]line, 0, len(in.watches))
	for wd := int32(1); wd < in.nextWD; wd++ {
		if w := in.watches[wd]; w != nil {
			lines = append(lines, line{wd, w.inode, w.mask})
		}
	}
	t.mu.Unlock()
	var b strings.Builder
	for _, l := range lines {
		st, err := l.inode.Stat(ctx)
		if err != nil {
			continue
		}
		fmt.Fprintf(&b, "inotify wd:%x ino:%x sdev:%x mask:%x ignored_mask:0 fhandle-bytes:0 fhandle-type:0 f_handle:0\n",
			l.wd, st.Ino, st.Dev_major<<20|st.Dev_minor, l.mask&^unix.IN_ONESHOT)
	}
	return b.String()
}

// delivery is one event to queue once the watch table is unlocked.
type delivery struct {
	in *Inotify
	e  inotifyEvent
}

// collectLocked appends the events that inode's watches take for an
// event mask (one event bit, maybe IN_ISDIR) and removes one-shot
// watches that fired. name is set for a directory's entry. t.mu held.
func (t *watchTable) collectLocked(out []delivery, inode Inode, mask, cookie uint32, name string, unlinked bool) []delivery {
	for _, w := range t.byInode[inode] {
		if w.mask&mask&unix.IN_ALL_EVENTS == 0 {
			continue
		}
		if name != "" && unlinked && w.mask&unix.IN_EXCL_UNLINK != 0 {
			continue
		}
		ev := mask&w.mask&unix.IN_ALL_EVENTS | mask&unix.IN_ISDIR
		out = append(out, delivery{w.in, inotifyEvent{wd: w.wd, mask: ev, cookie: cookie, name: name}})
		if w.mask&unix.IN_ONESHOT != 0 {
			t.removeLocked(w)
			out = append(out, delivery{w.in, inotifyEvent{wd: w.wd, mask: unix.IN_IGNORED}})
		}
	}
	return out
}

// dropLocked removes every watch of inode (it is gone), queuing
// IN_IGNORED for each.
func (t *watchTable) dropLocked(out []delivery, inode Inode) []delivery {
	for _, w := range append([]*inotifyWatch(nil), t.byInode[inode]...) {
		t.removeLocked(w)
		out = append(out, delivery{w.in, inotifyEvent{wd: w.wd, mask: unix.IN_IGNORED}})
	}
	return out
}

func deliver(ds []delivery) {
	for _, d := range ds {
		d.in.queueEvent(d.e)
	}
}

// watching reports whether any watch exists (the fast path).
func (v *VFS) watching() bool { return v.watches.count.Load() != 0 }

// isDirFlag returns IN_ISDIR for a directory.
func isDirFlag(d *Dentry) uint32 {
	if d.IsDir() {
		return unix.IN_ISDIR
	}
	return 0
}

// notifyDentry reports an event on d's inode: first to its parent
// directory's watches with d's name (for the events directories see of
// their entries), then to the inode's own watches.
func (v *VFS) notifyDentry(d *Dentry, mask uint32) {
	if !v.watching() {
		return
	}
	mask |= isDirFlag(d)
	v.nameMu.Lock()
	parent, name := d.parent, d.name
	v.nameMu.Unlock()
	t := &v.watches
	t.mu.Lock()
	var ds []delivery
	if parent != nil && mask&inChildEvents != 0 {
		ds = t.collectLocked(ds, parent.inode, mask, 0, name, d.IsDead())
	}
	ds = t.collectLocked(ds, d.inode, mask, 0, "", false)
	t.mu.Unlock()
	deliver(ds)
}

// notifyEntry reports an event about the entry name of directory dir
// (IN_CREATE, IN_DELETE, IN_MOVED_FROM/TO); child is the entry's dentry.
func (v *VFS) notifyEntry(dir *Dentry, child *Dentry, name string, mask, cookie uint32) {
	if !v.watching() {
		return
	}
	t := &v.watches
	t.mu.Lock()
	ds := t.collectLocked(nil, dir.inode, mask|isDirFlag(child), cookie, name, false)
	t.mu.Unlock()
	deliver(ds)
}

// notifySelf reports IN_MOVE_SELF or IN_DELETE_SELF (without IN_ISDIR,
// as Linux) to d's own watches;
// after IN_DELETE_SELF the watches go (IN_IGNORED).
func (v *VFS) notifySelf(d *Dentry, mask uint32) {
	if !v.watching() {
		return
	}
	t := &v.watches
	t.mu.Lock()
	ds := t.collectLocked(nil, d.inode, mask, 0, "", false)
	if mask == unix.IN_DELETE_SELF {
		ds = t.dropLocked(ds, d.inode)
	}
	t.mu.Unlock()
	deliver(ds)
}

// nextCookie returns a fresh cookie tying IN_MOVED_FROM to IN_MOVED_TO.
func (v *VFS) nextCookie() uint32 { return v.watches.cookie.Add(1) }

// notifyInode reports an event to d's inode's own watches only (the link
// count's IN_ATTRIB, which Linux does not report to the parent).
func (v *VFS) notifyInode(d *Dentry, mask uint32) {
	if !v.watching() {
		return
	}
	t := &v.watches
	t.mu.Lock()
	ds := t.collectLocked(nil, d.inode, mask|isDirFlag(d), 0, "", false)
	t.mu.Unlock()
	deliver(ds)
}

// notifyUnlinked reports that d lost a name: IN_ATTRIB for a file's link
// count, then IN_DELETE_SELF if the inode has no names left and no open
// files (else the last close reports it).
func (v *VFS) notifyUnlinked(ctx Context, d *Dentry) {
	if !v.watching() {
		return
	}
	if !d.IsDir() {
		v.notifyInode(d, unix.IN_ATTRIB)
	}
	if d.opens.Load() == 0 && nlinkOf(ctx, d) == 0 {
		v.notifySelf(d, unix.IN_DELETE_SELF)
	}
}

// notifyRemoved reports unlink or rmdir of d, the entry name of parent.
func (v *VFS) notifyRemoved(ctx Context, parent, d *Dentry, name string) {
	v.notifyUnlinked(ctx, d)
	v.notifyEntry(parent, d, name, unix.IN_DELETE, 0)
}

// notifyRenamed reports a rename of oc from oldName in oldDir to newName
// in newDir, replacing nc (nil if none).
func (v *VFS) notifyRenamed(ctx Context, oldDir, newDir, oc *Dentry, oldName, newName string, nc *Dentry) {
	if !v.watching() {
		return
	}
	cookie := v.nextCookie()
	v.notifyEntry(oldDir, oc, oldName, unix.IN_MOVED_FROM, cookie)
	v.notifyEntry(newDir, oc, newName, unix.IN_MOVED_TO, cookie)
	if nc != nil && !nc.IsDir() {
		v.notifyInode(nc, unix.IN_ATTRIB)
	}
	v.notifySelf(oc, unix.IN_MOVE_SELF)
	if nc != nil && nc.opens.Load() == 0 && nlinkOf(ctx, nc) == 0 {
		v.notifySelf(nc, unix.IN_DELETE_SELF)
	}
}

func nlinkOf(ctx Context, d *Dentry) uint32 {
	st, err := d.inode.Stat(ctx)
	if err != nil {
		return 0
	}
	return st.Nlink
}

// notifyClosed reports the close of the last reference to an open file:
// IN_CLOSE_WRITE or IN_CLOSE_NOWRITE, then IN_DELETE_SELF if it was the
// last user of an inode without names.
func (v *VFS) notifyClosed(ctx Context, f *File) {
	d := f.loc.Dentry
	last := d.opens.Add(-1) == 0
	if !v.watching() {
		return
	}
	mask := uint32(unix.IN_CLOSE_NOWRITE)
	if f.writable {
		mask = unix.IN_CLOSE_WRITE
	}
	v.notifyDentry(d, mask)
	if last && d.IsDead() && nlinkOf(ctx, d) == 0 {
		v.notifySelf(d, unix.IN_DELETE_SELF)
	}
}
