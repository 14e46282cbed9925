package ipc

import (
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/mm"
)

// shmMin is the smallest segment (the other limits are Limits).
const shmMin = 1

// pages is how many pages a segment of size bytes takes.
func pages(size uint64) uint64 { return size/4096 + min(size%4096, 1) }

// shmPagesLocked counts the pages of the namespace's segments (Linux's
// shm_tot, which shmall bounds).
func (ns *Namespace) shmPagesLocked() uint64 {
	var n uint64
	for _, e := range ns.shms.objs {
		n += pages(e.obj.size)
	}
	return n
}

// shmctl commands and the mode bits it reports.
const (
	ShmLock    = 11
	ShmUnlock  = 12
	ShmStat    = 13
	ShmInfo    = 14
	ShmStatAny = 15

	shmDest   = 0o1000 // removed, destroyed at the last detach
	shmLocked = 0o2000
)

// shmSeg is one shared memory segment.
type shmSeg struct {
	perm               *Perm
	size               uint64
	mem                mm.Mappable // the pages; the segment holds a reference
	atime, dtime       int64
	cpid, lpid         int32
	nattch             int64
	removed, destroyed bool
	id                 int32
}

// ShmGet implements shmget(2); newMem makes the memory of a new segment.
func (ns *Namespace) ShmGet(c *Creds, tgid, key int32, size uint64, flags int32, newMem func() mm.Mappable) (int32, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	e, err := ns.shms.lookup(key, flags, c)
	if err != nil {
		return 0, err
	}
	if e != nil {
		if size > e.obj.size {
			return 0, unix.EINVAL
		}
		return e.obj.id, nil
	}
	if size < shmMin || size > ns.limits.ShmMax {
		return 0, unix.EINVAL
	}
	if ns.shmPagesLocked()+pages(size) > ns.limits.ShmAll {
		return 0, unix.ENOSPC
	}
	s := &shmSeg{size: size, mem: newMem(), cpid: tgid}
	s.mem.IncRef()
	s.id, s.perm = ns.shms.add(key, flags, c, s)
	return s.id, nil
}

// ShmAttachment is one shmat of a segment: the Mappable the caller maps.
// Every mapping of it (fork and vma splits included) counts as an attach.
type ShmAttachment struct {
	ns  *Namespace
	seg *shmSeg
}

// Size returns the segment's size.
func (a *ShmAttachment) Size() uint64 { return a.seg.size }

// Key returns the segment's key (IPC_PRIVATE once removed).
func (a *ShmAttachment) Key() int32 {
	a.ns.mu.Lock()
	defer a.ns.mu.Unlock()
	return a.seg.perm.Key
}

// ID returns the segment's identifier.
func (a *ShmAttachment) ID() int32 { return a.seg.id }

// Page implements mm.Mappable.
func (a *ShmAttachment) Page(off int64) (int64, error) {
	if off < 0 || uint64(off) >= (a.seg.size+4095)&^4095 {
		return 0, unix.EFAULT
	}
	return a.seg.mem.Page(off)
}

// IncRef implements mm.Mappable: one more mapping of the segment.
func (a *ShmAttachment) IncRef() {
	a.ns.mu.Lock()
	a.seg.nattch++
	a.ns.mu.Unlock()
}

// DetachedAtExit implements mm.Detached: a process's attachments end with
// its exit, before its parent can see it exited.
func (*ShmAttachment) DetachedAtExit() {}

// DecRef implements mm.Mappable: a removed segment goes with its last
// mapping.
func (a *ShmAttachment) DecRef() {
	a.ns.mu.Lock()
	s := a.seg
	s.nattch--
	s.dtime = now()
	destroy := s.nattch == 0 && s.removed && !s.destroyed
	if destroy {
		s.destroyed = true
		a.ns.shms.remove(s.id)
	}
	a.ns.mu.Unlock()
	if destroy {
		s.mem.DecRef()
	}
}

// ShmAt implements the checks of shmat(2) and returns what to map; the
// caller maps it (which counts the attach) or drops it.
func (ns *Namespace) ShmAt(c *Creds, tgid, id int32, write bool) (*ShmAttachment, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	e, err := ns.shms.find(id)
	if err != nil {
		return nil, err
	}
	want := uint16(mayRead)
	if write {
		want |= mayWrite
	}
	if !e.perm.allowed(c, want) {
		return nil, unix.EACCES
	}
	s := e.obj
	s.atime, s.lpid = now(), tgid
	return &ShmAttachment{ns: ns, seg: s}, nil
}

// ShmDetached records a shmdt by tgid.
func (ns *Namespace) ShmDetached(a *ShmAttachment, tgid int32) {
	ns.mu.Lock()
	a.seg.lpid = tgid
	ns.mu.Unlock()
}

// ShmStatus is what IPC_STAT reports (struct shmid64_ds).
type ShmStatus struct {
	Perm                Perm
	Size                uint64
	ATime, DTime, CTime int64
	CPID, LPID          int32
	NAttch              uint64
}

// ShmInfoData is struct shminfo (IPC_INFO) or, for SHM_INFO, struct
// shm_info's counts in Used, Tot and RSS.
type ShmInfoData struct {
	Max, Min, MNI, Seg, All uint64
	Used, Tot, RSS          uint64
}

// ShmCtl implements shmctl(2) but for the encoding of its buffers: it
// returns the call's result and what to copy out.
func (ns *Namespace) ShmCtl(c *Creds, id int32, cmd int32, set *ShmStatus) (int64, *ShmStatus, *ShmInfoData, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	switch cmd {
	case IPCInfo, ShmInfo:
		l := ns.limits
		in := &ShmInfoData{Max: l.ShmMax, Min: shmMin, MNI: uint64(l.ShmMNI), Seg: uint64(l.ShmMNI), All: l.ShmAll,
			Used: uint64(len(ns.shms.objs)), Tot: ns.shmPagesLocked()}
		return int64(ns.shms.maxIndex()), nil, in, nil
	case ShmStat, ShmStatAny:
		e, fullID, err := ns.shms.byIndex(id)
		if err != nil {
			return 0, nil, nil, err
		}
		if cmd == ShmStat && !e.perm.allowed(c, mayRead) {
			return 0, nil, nil, unix.EACCES
		}
		return int64(fullID), e.obj.status(), nil, nil
	}
	e, err := ns.shms.find(id)
	if err != nil {
		return 0, nil, nil, err
	}
	s := e.obj
	switch cmd {
	case IPCStat:
		if !s.perm.allowed(c, mayRead) {
			return 0, nil, nil, unix.EACCES
		}
		return 0, s.status(), nil, nil
	case IPCRmid:
		if !s.perm.isOwner(c) {
			return 0, nil, nil, unix.EPERM
		}
		ns.removeShmLocked(s)
		return 0, nil, nil, nil
	case IPCSet:
		if !s.perm.isOwner(c) {
			return 0, nil, nil, unix.EPERM
		}
		s.perm.set(set.Perm.UID, set.Perm.GID, set.Perm.Mode)
		return 0, nil, nil, nil
	case ShmLock, ShmUnlock:
		if !c.has(capIPCLock) && c.UID != s.perm.UID && c.UID != s.perm.CUID {
			return 0, nil, nil, unix.EPERM
		}
		s.perm.Mode &^= shmLocked
		if cmd == ShmLock {
			s.perm.Mode |= shmLocked
		}
		return 0, nil, nil, nil
	}
	return 0, nil, nil, unix.EINVAL
}

// removeShmLocked implements IPC_RMID: the key is released now, the
// segment when nothing maps it any more.
func (ns *Namespace) removeShmLocked(s *shmSeg) {
	if s.removed {
		return
	}
	s.removed = true
	s.perm.Mode |= shmDest
	idx := s.id % seqMultiplier
	if k := s.perm.Key; k != IPCPrivate && ns.shms.keys[k] == idx {
		delete(ns.shms.keys, k)
	}
	s.perm.Key = IPCPrivate
	if s.nattch == 0 && !s.destroyed {
		s.destroyed = true
		ns.shms.remove(s.id)
		// The memory has no mapper left: dropping it cannot call back
		// into the namespace.
		s.mem.DecRef()
	}
}

func (s *shmSeg) status() *ShmStatus {
	return &ShmStatus{Perm: *s.perm, Size: s.size, ATime: s.atime, DTime: s.dtime,
		CTime: s.perm.changeTime, CPID: s.cpid, LPID: s.lpid, NAttch: uint64(s.nattch)}
}
