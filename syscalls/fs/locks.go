package fs

import (
	"math"
	"sync"

	"golang.org/x/sys/unix"
)

// Advisory locks. The VFS has none, so they live here, keyed by file
// identity (the VFS plus st_dev and st_ino, so hard links and reopened
// files share them). Three kinds exist, as in Linux:
//
//   - POSIX record locks (F_SETLK...): owned by a process, released when
//     the process closes any descriptor of the file or exits;
//   - OFD record locks (F_OFD_SETLK...): owned by an open file description,
//     released with its last reference; they conflict with POSIX locks;
//   - flock(2) locks: whole-file, owned by an open file description, in a
//     separate space that never conflicts with record locks.
//
// Owners that vanish without telling us (a process killed, a file released
// by the kernel's exit path) are noticed lazily: every lock carries an
// alive function and a dead owner's locks are dropped when found.

// Lock types (F_RDLCK, F_WRLCK, F_UNLCK).
const (
	lockRead   = unix.F_RDLCK
	lockWrite  = unix.F_WRLCK
	lockUnlock = unix.F_UNLCK
)

// offsetMax is OFFSET_MAX: a range ending here extends to end of file.
const offsetMax = math.MaxInt64

// fileKey identifies a file for locking.
type fileKey struct {
	vfs      any
	dev, ino uint64
}

// lockOwner identifies who holds a lock and how to tell whether it still
// exists.
type lockOwner struct {
	id    any         // *kernel.ThreadGroup for POSIX locks, *vfs.File otherwise
	pid   int32       // reported by F_GETLK (-1 for OFD locks)
	alive func() bool // nil: always alive
	posix bool        // a process-owned lock (deadlock detection applies)
}

func (o *lockOwner) isAlive() bool { return o.alive == nil || o.alive() }

// recordLock is one byte-range lock: [start, end], end inclusive.
type recordLock struct {
	owner      *lockOwner
	typ        int16
	start, end int64
}

func (l *recordLock) overlaps(start, end int64) bool { return l.start <= end && start <= l.end }

func conflicts(a, b int16) bool { return a == lockWrite || b == lockWrite }

// flockLock is one flock(2) lock.
type flockLock struct {
	owner *lockOwner
	typ   int16
}

// fileLocks are the locks of one file.
type fileLocks struct {
	records []recordLock
	flocks  []flockLock
}

func (f *fileLocks) empty() bool { return len(f.records) == 0 && len(f.flocks) == 0 }

// lockManager holds every advisory lock.
type lockManager struct {
	mu    sync.Mutex
	files map[fileKey]*fileLocks
	// changed is closed (and replaced) whenever a lock goes away, waking
	// blocked lockers to retry.
	changed chan struct{}
	// waitsFor maps a blocked POSIX owner to the owner it waits on, for
	// EDEADLK detection.
	waitsFor map[any]any
}

func newLockManager() *lockManager {
	return &lockManager{files: map[fileKey]*fileLocks{}, changed: make(chan struct{}), waitsFor: map[any]any{}}
}

// locks is the sandbox's lock table.
var locks = newLockManager()

// waitChan returns a channel closed at the next release.
func (m *lockManager) waitChan() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changed
}

func (m *lockManager) notifyLocked() {
	close(m.changed)
	m.changed = make(chan struct{})
}

func (m *lockManager) getLocked(k fileKey, create bool) *fileLocks {
	fl := m.files[k]
	if fl == nil && create {
		fl = &fileLocks{}
		m.files[k] = fl
	}
	return fl
}

func (m *lockManager) putLocked(k fileKey, fl *fileLocks) {
	if fl.empty() {
		delete(m.files, k)
	}
}

// reapLocked drops the locks of dead owners on one file.
func (m *lockManager) reapLocked(fl *fileLocks) {
	n := 0
	for _, l := range fl.records {
		if l.owner.isAlive() {
			fl.records[n] = l
			n++
		}
	}
	nf := 0
	for _, l := range fl.flocks {
		if l.owner.isAlive() {
			fl.flocks[nf] = l
			nf++
		}
	}
	if n != len(fl.records) || nf != len(fl.flocks) {
		fl.records, fl.flocks = fl.records[:n], fl.flocks[:nf]
		m.notifyLocked()
	}
}

// conflictLocked returns the first lock of another owner that conflicts
// with typ on [start, end].
func (fl *fileLocks) conflictLocked(owner any, typ int16, start, end int64) *recordLock {
	for i := range fl.records {
		l := &fl.records[i]
		if l.owner.id != owner && l.overlaps(start, end) && conflicts(l.typ, typ) {
			return l
		}
	}
	return nil
}

// ownLocked returns the first lock of owner overlapping [start, end].
func (fl *fileLocks) ownLocked(owner any, start, end int64) *recordLock {
	for i := range fl.records {
		l := &fl.records[i]
		if l.owner.id == owner && l.overlaps(start, end) {
			return l
		}
	}
	return nil
}

// testRecord implements F_GETLK: the conflicting lock, if any. Testing
// for F_UNLCK (which only F_OFD_GETLK allows) reports the owner's own lock
// on the range instead, as Linux does.
func (m *lockManager) testRecord(k fileKey, owner any, typ int16, start, end int64) (recordLock, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fl := m.getLocked(k, false)
	if fl == nil {
		return recordLock{}, false
	}
	m.reapLocked(fl)
	defer m.putLocked(k, fl)
	c := fl.conflictLocked(owner, typ, start, end)
	if typ == lockUnlock {
		c = fl.ownLocked(owner, start, end)
	}
	if c != nil {
		return *c, true
	}
	return recordLock{}, false
}

// setRecord implements F_SETLK for owner: EAGAIN on conflict; with wait,
// EDEADLK when waiting would close a cycle of POSIX owners. F_UNLCK never
// conflicts.
func (m *lockManager) setRecord(k fileKey, owner *lockOwner, typ int16, start, end int64, wait bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	fl := m.getLocked(k, true)
	defer m.putLocked(k, fl)
	m.reapLocked(fl)
	if typ != lockUnlock {
		if c := fl.conflictLocked(owner.id, typ, start, end); c != nil {
			if wait && owner.posix && c.owner.posix {
				if m.deadlockLocked(owner.id, c.owner.id) {
					return unix.EDEADLK
				}
				m.waitsFor[owner.id] = c.owner.id
			}
			return unix.EAGAIN
		}
	}
	delete(m.waitsFor, owner.id)
	removed := fl.carveLocked(owner.id, start, end)
	if typ != lockUnlock {
		fl.records = append(fl.records, recordLock{owner: owner, typ: typ, start: start, end: end})
		fl.mergeLocked(owner.id)
	}
	if removed {
		m.notifyLocked()
	}
	return nil
}

// deadlockLocked reports whether owner waiting on holder closes a cycle.
func (m *lockManager) deadlockLocked(owner, holder any) bool {
	for i := 0; i < 1000 && holder != nil; i++ {
		if holder == owner {
			return true
		}
		holder = m.waitsFor[holder]
	}
	return false
}

// stopWaiting forgets that owner is blocked.
func (m *lockManager) stopWaiting(owner any) {
	m.mu.Lock()
	delete(m.waitsFor, owner)
	m.mu.Unlock()
}

// carveLocked removes [start, end] from owner's locks, splitting the ones
// that straddle it. It reports whether anything was removed.
func (fl *fileLocks) carveLocked(owner any, start, end int64) bool {
	var out []recordLock
	removed := false
	for _, l := range fl.records {
		if l.owner.id != owner || !l.overlaps(start, end) {
			out = append(out, l)
			continue
		}
		removed = true
		if l.start < start {
			left := l
			left.end = start - 1
			out = append(out, left)
		}
		if l.end > end {
			right := l
			right.start = end + 1
			out = append(out, right)
		}
	}
	fl.records = out
	return removed
}

// mergeLocked coalesces owner's overlapping or adjacent locks of the same
// type, as Linux does, so F_GETLK reports whole ranges.
func (fl *fileLocks) mergeLocked(owner any) {
	for changed := true; changed; {
		changed = false
		for i := 0; i < len(fl.records) && !changed; i++ {
			a := &fl.records[i]
			if a.owner.id != owner {
				continue
			}
			for j := i + 1; j < len(fl.records); j++ {
				b := fl.records[j]
				if b.owner.id != owner || b.typ != a.typ {
					continue
				}
				if b.start > a.end && a.end != offsetMax && b.start > a.end+1 {
					continue
				}
				if a.start > b.end && b.end != offsetMax && a.start > b.end+1 {
					continue
				}
				a.start, a.end = min(a.start, b.start), max(a.end, b.end)
				fl.records = append(fl.records[:j], fl.records[j+1:]...)
				changed = true
				break
			}
		}
	}
}

// setFlock implements flock(2) for owner. Like Linux, converting a lock
// drops the old one first, so a failed LOCK_NB conversion leaves none.
func (m *lockManager) setFlock(k fileKey, owner *lockOwner, typ int16) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	fl := m.getLocked(k, true)
	defer m.putLocked(k, fl)
	m.reapLocked(fl)
	for i, l := range fl.flocks {
		if l.owner.id == owner.id {
			if l.typ == typ {
				return nil
			}
			fl.flocks = append(fl.flocks[:i], fl.flocks[i+1:]...)
			m.notifyLocked()
			break
		}
	}
	if typ == lockUnlock {
		return nil
	}
	for _, l := range fl.flocks {
		if conflicts(l.typ, typ) {
			return unix.EAGAIN
		}
	}
	fl.flocks = append(fl.flocks, flockLock{owner: owner, typ: typ})
	return nil
}

// releaseOwner drops every lock owner holds (on file k, or everywhere if k
// is nil).
func (m *lockManager) releaseOwner(k *fileKey, owner any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	removed := false
	for key, fl := range m.files {
		if k != nil && key != *k {
			continue
		}
		if fl.carveLocked(owner, 0, offsetMax) {
			removed = true
		}
		n := 0
		for _, l := range fl.flocks {
			if l.owner.id != owner {
				fl.flocks[n] = l
				n++
			}
		}
		removed = removed || n != len(fl.flocks)
		fl.flocks = fl.flocks[:n]
		m.putLocked(key, fl)
	}
	if removed {
		m.notifyLocked()
	}
}

// hasLocks reports whether any lock exists (a fast path for close).
func (m *lockManager) hasLocks() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.files) > 0
}

// flockRange is the decoded struct flock of fcntl.
type flockRange struct {
	typ, whence int16
	start, len  int64
	pid         int32
}

// flockSize is sizeof(struct flock) on x86-64.
const flockSize = 32

func decodeFlock(b []byte) flockRange {
	return flockRange{
		typ:    int16(le.Uint16(b[0:])),
		whence: int16(le.Uint16(b[2:])),
		start:  int64(le.Uint64(b[8:])),
		len:    int64(le.Uint64(b[16:])),
		pid:    int32(le.Uint32(b[24:])),
	}
}

func encodeFlock(f flockRange) []byte {
	b := make([]byte, flockSize)
	le.PutUint16(b[0:], uint16(f.typ))
	le.PutUint16(b[2:], uint16(f.whence))
	le.PutUint64(b[8:], uint64(f.start))
	le.PutUint64(b[16:], uint64(f.len))
	le.PutUint32(b[24:], uint32(f.pid))
	return b
}

// lockSpan converts a struct flock to an inclusive byte range like Linux's
// flock64_to_posix_lock; cur is the file offset and size the file size
// (used for SEEK_CUR and SEEK_END).
func lockSpan(f flockRange, cur, size int64) (int64, int64, error) {
	var base int64
	switch f.whence {
	case unix.SEEK_SET:
	case unix.SEEK_CUR:
		base = cur
	case unix.SEEK_END:
		base = size
	default:
		return 0, 0, unix.EINVAL
	}
	if f.start > offsetMax-base {
		return 0, 0, unix.EOVERFLOW
	}
	start := base + f.start
	if start < 0 {
		return 0, 0, unix.EINVAL
	}
	switch {
	case f.len > 0:
		if f.len-1 > offsetMax-start {
			return 0, 0, unix.EOVERFLOW
		}
		return start, start + f.len - 1, nil
	case f.len < 0:
		if start+f.len < 0 {
			return 0, 0, unix.EINVAL
		}
		return start + f.len, start - 1, nil
	}
	return start, offsetMax, nil
}

// spanToFlock fills the range of F_GETLK's answer.
func spanToFlock(l recordLock) flockRange {
	r := flockRange{typ: l.typ, whence: unix.SEEK_SET, start: l.start, pid: l.owner.pid}
	if l.end != offsetMax {
		r.len = l.end - l.start + 1
	}
	return r
}
