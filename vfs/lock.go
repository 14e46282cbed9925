package vfs

import (
	"sync"

	"github.com/runsc-lite/runsc-lite/vfs/waiter"
	"golang.org/x/sys/unix"
)

// Advisory locks: flock(2) locks belong to an open file description, POSIX
// record locks (fcntl F_SETLK) to an owner (the kernel passes the thread
// group, or the File for OFD locks). Lock calls never block: a conflict
// gives EWOULDBLOCK (flock) or EAGAIN (fcntl), and a blocking caller waits on
// LockQueue for any event and retries.

type lockState struct {
	flockExcl   *File
	flockShared map[*File]bool
	posix       []posixLock
	queue       waiter.Queue
}

type posixLock struct {
	owner      any
	typ        int16 // F_RDLCK or F_WRLCK
	start, end int64 // end is exclusive; maxOff for "to EOF"
	pid        int32
}

const maxOff = int64(^uint64(0) >> 1)

type lockTable struct {
	mu    sync.Mutex
	locks map[Inode]*lockState
}

func (v *VFS) lockStateLocked(in Inode) *lockState {
	if v.locks.locks == nil {
		v.locks.locks = make(map[Inode]*lockState)
	}
	s := v.locks.locks[in]
	if s == nil {
		s = &lockState{flockShared: map[*File]bool{}}
		v.locks.locks[in] = s
	}
	return s
}

// gcLockStateLocked would drop unused lock states; it keeps them, because a
// waiter may hold the queue from LockQueue before registering on it.
func (v *VFS) gcLockStateLocked(Inode, *lockState) {}

// LockQueue returns the queue notified when locks of f's file are
// released, for callers waiting to retry a blocking lock.
func (f *File) LockQueue() *waiter.Queue {
	v := f.vfs
	v.locks.mu.Lock()
	defer v.locks.mu.Unlock()
	return &v.lockStateLocked(f.loc.Dentry.inode).queue
}

// Flock implements flock(2) for op LOCK_SH, LOCK_EX or LOCK_UN (LOCK_NB is
// implied: EWOULDBLOCK on conflict).
func (f *File) Flock(op int) error {
	v := f.vfs
	in := f.loc.Dentry.inode
	v.locks.mu.Lock()
	defer v.locks.mu.Unlock()
	s := v.lockStateLocked(in)
	defer v.gcLockStateLocked(in, s)
	switch op &^ unix.LOCK_NB {
	case unix.LOCK_UN:
		f.flockReleaseLocked(s)
		return nil
	case unix.LOCK_SH:
		if s.flockExcl != nil && s.flockExcl != f {
			return unix.EWOULDBLOCK
		}
		if s.flockExcl == f {
			s.flockExcl = nil
			s.queue.Notify(waiter.AllEvents)
		}
		s.flockShared[f] = true
		return nil
	case unix.LOCK_EX:
		if s.flockExcl != nil && s.flockExcl != f {
			return unix.EWOULDBLOCK
		}
		for o := range s.flockShared {
			if o != f {
				return unix.EWOULDBLOCK
			}
		}
		delete(s.flockShared, f)
		s.flockExcl = f
		return nil
	}
	return unix.EINVAL
}

func (f *File) flockReleaseLocked(s *lockState) {
	if s.flockExcl == f || s.flockShared[f] {
		if s.flockExcl == f {
			s.flockExcl = nil
		}
		delete(s.flockShared, f)
		s.queue.Notify(waiter.AllEvents)
	}
}

// releaseLocks drops f's flock lock (on the last close).
func (f *File) releaseLocks() {
	v := f.vfs
	if f.loc.Dentry == nil {
		return
	}
	in := f.loc.Dentry.inode
	v.locks.mu.Lock()
	defer v.locks.mu.Unlock()
	s := v.locks.locks[in]
	if s == nil {
		return
	}
	f.flockReleaseLocked(s)
	v.gcLockStateLocked(in, s)
}

// lockRange converts (whence-resolved) start and length to [start, end).
func lockRange(start, length int64) (int64, int64, error) {
	if length < 0 {
		start += length
		length = -length
	}
	if start < 0 {
		return 0, 0, unix.EINVAL
	}
	if length == 0 {
		return start, maxOff, nil
	}
	if start > maxOff-length {
		return start, maxOff, nil
	}
	return start, start + length, nil
}

// POSIXLock implements fcntl F_SETLK: typ is F_RDLCK, F_WRLCK or F_UNLCK;
// start is already resolved against SEEK_SET/SEEK_CUR/SEEK_END by the
// caller; length 0 means to the end of the file. owner identifies the lock
// owner (thread group, or the File for OFD locks); pid is reported by
// F_GETLK. Conflicts give EAGAIN.
func (f *File) POSIXLock(owner any, pid int32, typ int16, start, length int64) error {
	s0, e0, err := lockRange(start, length)
	if err != nil {
		return err
	}
	switch typ {
	case unix.F_RDLCK:
		if !f.readable {
			return unix.EBADF
		}
	case unix.F_WRLCK:
		if !f.writable {
			return unix.EBADF
		}
	case unix.F_UNLCK:
	default:
		return unix.EINVAL
	}
	v := f.vfs
	in := f.loc.Dentry.inode
	v.locks.mu.Lock()
	defer v.locks.mu.Unlock()
	s := v.lockStateLocked(in)
	defer v.gcLockStateLocked(in, s)
	if typ != unix.F_UNLCK {
		for _, l := range s.posix {
			if l.owner != owner && l.start < e0 && s0 < l.end && (l.typ == unix.F_WRLCK || typ == unix.F_WRLCK) {
				return unix.EAGAIN
			}
		}
	}
	// Remove the owner's locks in [s0, e0), splitting as needed.
	var out []posixLock
	for _, l := range s.posix {
		if l.owner != owner || l.end <= s0 || e0 <= l.start {
			out = append(out, l)
			continue
		}
		if l.start < s0 {
			a := l
			a.end = s0
			out = append(out, a)
		}
		if e0 < l.end {
			b := l
			b.start = e0
			out = append(out, b)
		}
	}
	if typ != unix.F_UNLCK {
		out = append(out, posixLock{owner: owner, typ: typ, start: s0, end: e0, pid: pid})
	}
	s.posix = out
	s.queue.Notify(waiter.AllEvents)
	return nil
}

// TestPOSIXLock implements F_GETLK: it returns the first lock of another
// owner conflicting with the request, or ok=false.
func (f *File) TestPOSIXLock(owner any, typ int16, start, length int64) (ltyp int16, lstart, llength int64, pid int32, ok bool, err error) {
	s0, e0, err := lockRange(start, length)
	if err != nil {
		return 0, 0, 0, 0, false, err
	}
	if typ != unix.F_RDLCK && typ != unix.F_WRLCK {
		return 0, 0, 0, 0, false, unix.EINVAL
	}
	v := f.vfs
	v.locks.mu.Lock()
	defer v.locks.mu.Unlock()
	s := v.locks.locks[f.loc.Dentry.inode]
	if s == nil {
		return 0, 0, 0, 0, false, nil
	}
	for _, l := range s.posix {
		if l.owner != owner && l.start < e0 && s0 < l.end && (l.typ == unix.F_WRLCK || typ == unix.F_WRLCK) {
			n := l.end - l.start
			if l.end == maxOff {
				n = 0
			}
			return l.typ, l.start, n, l.pid, true, nil
		}
	}
	return 0, 0, 0, 0, false, nil
}

// ReleasePOSIXLocks drops every POSIX lock owner holds on f's file. The
// kernel calls it when owner closes any FD of the file (Linux semantics).
func (f *File) ReleasePOSIXLocks(owner any) {
	v := f.vfs
	in := f.loc.Dentry.inode
	v.locks.mu.Lock()
	defer v.locks.mu.Unlock()
	s := v.locks.locks[in]
	if s == nil {
		return
	}
	out := s.posix[:0]
	changed := false
	for _, l := range s.posix {
		if l.owner == owner {
			changed = true
			continue
		}
		out = append(out, l)
	}
	s.posix = out
	if changed {
		s.queue.Notify(waiter.AllEvents)
	}
	v.gcLockStateLocked(in, s)
}
