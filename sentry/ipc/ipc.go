// Package ipc implements System V semaphores, message queues and shared
// memory for one IPC namespace: identifiers and keys, permissions, blocking
// operations woken by state changes, SEM_UNDO adjustments applied when a process exits. It knows
// nothing of tasks: callers pass credentials and a function that blocks.
package ipc

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// IPC command and flag values shared by semctl and msgctl.
const (
	IPCPrivate = 0
	IPCCreat   = 0o1000
	IPCExcl    = 0o2000
	IPCNoWait  = 0o4000

	IPCRmid = 0
	IPCSet  = 1
	IPCStat = 2
	IPCInfo = 3

	// IPC64 is or-ed into commands by 64-bit-aware C libraries.
	IPC64 = 0x100
)

// Capabilities an IPC operation may need.
const (
	capIPCLock     = 14 // CAP_IPC_LOCK
	capIPCOwner    = 15 // CAP_IPC_OWNER
	capSysAdmin    = 21 // CAP_SYS_ADMIN
	capSysResource = 24 // CAP_SYS_RESOURCE
)

// Creds are the caller's identity for permission checks.
type Creds struct {
	UID, GID uint32
	Groups   []uint32
	// Caps is the effective capability set.
	Caps uint64
}

func (c *Creds) has(cp int) bool { return c.Caps&(1<<uint(cp)) != 0 }

// BlockFunc blocks until ch is closed or the caller's timeout, if it has
// one, runs out (the caller's clock is not this package's business). It
// returns nil, unix.ETIMEDOUT, or an error when a signal interrupts it.
type BlockFunc func(ch <-chan struct{}) error

// Perm is an object's ipc_perm.
type Perm struct {
	Key        int32
	UID, GID   uint32
	CUID, CGID uint32
	Mode       uint16
	Seq        uint16
	changeTime int64
}

// Permission bits for access checks.
const (
	mayRead  = 4
	mayWrite = 2
)

// allowed implements ipcperms: the owner or creator, the group, or others,
// with CAP_IPC_OWNER overriding.
func (p *Perm) allowed(c *Creds, want uint16) bool {
	mode := p.Mode
	switch {
	case c.UID == p.UID || c.UID == p.CUID:
		mode >>= 6
	case c.inGroup(p.GID) || c.inGroup(p.CGID):
		mode >>= 3
	}
	return want&^mode&7 == 0 || c.has(capIPCOwner)
}

func (c *Creds) inGroup(g uint32) bool {
	if c.GID == g {
		return true
	}
	for _, x := range c.Groups {
		if x == g {
			return true
		}
	}
	return false
}

// isOwner reports whether c may change or remove the object (IPC_SET,
// IPC_RMID): its owner, creator, or CAP_SYS_ADMIN.
func (p *Perm) isOwner(c *Creds) bool {
	return c.UID == p.UID || c.UID == p.CUID || c.has(capSysAdmin)
}

// registry maps keys and identifiers to objects of one kind. Identifiers
// are index + seq*32768 like Linux's, so a reused index gets a new id.
type registry[T any] struct {
	objs    map[int32]*entry[T] // by index
	keys    map[int32]int32     // key -> index, for keys other than IPC_PRIVATE
	seq     uint16
	lastIdx int32 // the index allocated last; -1 before any
	limit   int
}

type entry[T any] struct {
	perm *Perm
	obj  T
}

// seqMultiplier is IPCMNI, the number of indices; sequence numbers stay
// below maxSeq so that ids are positive.
const (
	seqMultiplier = 32768
	maxSeq        = 65535
)

func newRegistry[T any](limit int) registry[T] {
	return registry[T]{objs: map[int32]*entry[T]{}, keys: map[int32]int32{}, lastIdx: -1, limit: limit}
}

// find returns the object with identifier id.
func (r *registry[T]) find(id int32) (*entry[T], error) {
	if id < 0 {
		return nil, unix.EINVAL
	}
	e, ok := r.objs[id%seqMultiplier]
	if !ok || int32(e.perm.Seq) != id/seqMultiplier {
		return nil, unix.EINVAL
	}
	return e, nil
}

// lookup implements the key part of semget/msgget. It returns the existing
// entry for key, or nil when a new object must be made (after checks).
func (r *registry[T]) lookup(key int32, flags int32, c *Creds) (*entry[T], error) {
	if key != IPCPrivate {
		if idx, ok := r.keys[key]; ok {
			e := r.objs[idx]
			if flags&IPCCreat != 0 && flags&IPCExcl != 0 {
				return nil, unix.EEXIST
			}
			if !e.perm.allowed(c, uint16(flags>>6&7|flags>>3&7|flags&7)) {
				return nil, unix.EACCES
			}
			return e, nil
		}
		if flags&IPCCreat == 0 {
			return nil, unix.ENOENT
		}
	}
	if len(r.objs) >= r.limit {
		return nil, unix.ENOSPC
	}
	return nil, nil
}

// add registers a new object and returns its identifier.
func (r *registry[T]) add(key int32, flags int32, c *Creds, obj T) (int32, *Perm) {
	// Like Linux, indices are handed out cyclically, and the sequence
	// number goes up each time they wrap, so a reused index gets a new id.
	idx := r.lastIdx + 1
	for {
		if idx >= seqMultiplier {
			idx = 0
		}
		if _, used := r.objs[idx]; !used {
			break
		}
		idx++
	}
	if idx <= r.lastIdx {
		if r.seq++; r.seq >= maxSeq {
			r.seq = 0
		}
	}
	r.lastIdx = idx
	p := &Perm{Key: key, UID: c.UID, GID: c.GID, CUID: c.UID, CGID: c.GID,
		Mode: uint16(flags & 0o777), Seq: r.seq, changeTime: now()}
	r.objs[idx] = &entry[T]{perm: p, obj: obj}
	if key != IPCPrivate {
		r.keys[key] = idx
	}
	return int32(p.Seq)*seqMultiplier + idx, p
}

// remove forgets the object at identifier id.
func (r *registry[T]) remove(id int32) {
	idx := id % seqMultiplier
	if e, ok := r.objs[idx]; ok {
		if k := e.perm.Key; k != IPCPrivate && r.keys[k] == idx {
			delete(r.keys, k)
		}
		delete(r.objs, idx)
	}
}

// byIndex returns the object at index idx (SEM_STAT, MSG_STAT) and its id.
func (r *registry[T]) byIndex(idx int32) (*entry[T], int32, error) {
	e, ok := r.objs[idx]
	if !ok || idx < 0 {
		return nil, 0, unix.EINVAL
	}
	return e, int32(e.perm.Seq)*seqMultiplier + idx, nil
}

// maxIndex returns the highest index in use, or 0.
func (r *registry[T]) maxIndex() int32 {
	m := int32(0)
	for i := range r.objs {
		m = max(m, i)
	}
	return m
}

func now() int64 { return time.Now().Unix() }

// setPerm applies IPC_SET's uid, gid and mode.
func (p *Perm) set(uid, gid uint32, mode uint16) {
	p.UID, p.GID = uid, gid
	p.Mode = p.Mode&^0o777 | mode&0o777
	p.changeTime = now()
}

// Namespace is one IPC namespace's System V objects.
type Namespace struct {
	mu   sync.Mutex
	sems registry[*semSet]
	msgs registry[*msgQueue]
	shms registry[*shmSeg]
	// undo holds each process's SEM_UNDO adjustments, by TGID.
	undo map[int32]map[int32][]int32 // tgid -> semid -> per-semaphore adjustment
	// mqs are the POSIX message queues by name; mqBytes what each user's
	// queues are charged (RLIMIT_MSGQUEUE).
	mqs     map[string]*MQueue
	mqBytes map[uint32]uint64
	// limits are the tunables (Limits); the registries' limits follow
	// the MNI ones.
	limits Limits
}

// NewNamespace returns an empty IPC namespace.
func NewNamespace() *Namespace {
	l := DefaultLimits()
	return &Namespace{
		limits:  l,
		sems:    newRegistry[*semSet](int(l.SemMNI)),
		msgs:    newRegistry[*msgQueue](int(l.MsgMNI)),
		shms:    newRegistry[*shmSeg](int(l.ShmMNI)),
		undo:    map[int32]map[int32][]int32{},
		mqs:     map[string]*MQueue{},
		mqBytes: map[uint32]uint64{},
	}
}

// waitQueue wakes every waiter on each change.
type waitQueue struct {
	ch chan struct{}
}

// wait returns a channel closed at the next broadcast.
func (q *waitQueue) wait() <-chan struct{} {
	if q.ch == nil {
		q.ch = make(chan struct{})
	}
	return q.ch
}

func (q *waitQueue) broadcast() {
	if q.ch != nil {
		close(q.ch)
		q.ch = nil
	}
}
