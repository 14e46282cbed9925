package kernel

import (
	"encoding/binary"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/mm"
)

// futexKey identifies a futex word: private futexes by address space and
// address, shared ones in shared memory by backing file and offset.
type futexKey struct {
	mm   *mm.MM
	addr uint64
	file int
	off  int64
}

type futexWaiter struct {
	key    futexKey
	bitset uint32
	woken  chan struct{}
	done   bool
	// For PI futexes: the waiting task and the word's address in its
	// address space.
	tid  int32
	task *Task
	addr uint64
	// group is set for the entries of one futex_waitv, which share it;
	// index is this entry's position in the caller's array.
	group *futexGroup
	index int
}

// futexGroup is a futex_waitv waiting on several words: the first wake of
// any of them wakes it.
type futexGroup struct {
	woken chan struct{}
	done  bool
	index int // the entry that was woken
}

type futexTable struct {
	mu      sync.Mutex
	waiters map[futexKey][]*futexWaiter
	// pi holds the tasks blocked in FUTEX_LOCK_PI, in arrival order: an
	// unlock hands the lock to the first.
	pi map[futexKey][]*futexWaiter
}

func (k *Kernel) futexKeyFor(t *Task, addr uint64, private bool) (futexKey, error) {
	if addr&3 != 0 {
		return futexKey{}, unix.EINVAL
	}
	if !private {
		if file, off, ok, err := t.mm.SharedOffset(addr); err != nil {
			return futexKey{}, unix.EFAULT
		} else if ok {
			return futexKey{file: file, off: off + 1}, nil
		}
	}
	return futexKey{mm: t.mm, addr: addr}, nil
}

func (t *Task) loadU32(addr uint64) (uint32, error) {
	var b [4]byte
	if _, err := t.mm.CopyIn(addr, b[:]); err != nil {
		return 0, unix.EFAULT
	}
	return binary.LittleEndian.Uint32(b[:]), nil
}

// FutexWait blocks while *addr == val until woken, the deadline passes or a
// signal arrives.
func (k *Kernel) FutexWait(t *Task, addr uint64, private bool, val, bitset uint32, deadline Deadline) error {
	if bitset == 0 {
		return unix.EINVAL
	}
	key, err := k.futexKeyFor(t, addr, private)
	if err != nil {
		return err
	}
	ft := &k.futexes
	ft.mu.Lock()
	cur, err := t.loadU32(addr)
	if err != nil {
		ft.mu.Unlock()
		return err
	}
	if cur != val {
		ft.mu.Unlock()
		return unix.EAGAIN
	}
	w := &futexWaiter{key: key, bitset: bitset, woken: make(chan struct{})}
	if ft.waiters == nil {
		ft.waiters = make(map[futexKey][]*futexWaiter)
	}
	ft.waiters[key] = append(ft.waiters[key], w)
	ft.mu.Unlock()

	err = t.Block(w.woken, deadline)
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if w.done {
		return nil
	}
	ft.removeLocked(w)
	if err == unix.ETIMEDOUT {
		return err
	}
	return ErrRestartSys
}

func (ft *futexTable) removeLocked(w *futexWaiter) {
	ws := ft.waiters[w.key]
	for i, o := range ws {
		if o == w {
			ws = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(ft.waiters, w.key)
	} else {
		ft.waiters[w.key] = ws
	}
}

// FutexWake wakes up to n waiters on addr whose bitset intersects bitset.
func (k *Kernel) FutexWake(t *Task, addr uint64, private bool, n int, bitset uint32) (int, error) {
	if bitset == 0 {
		return 0, unix.EINVAL
	}
	key, err := k.futexKeyFor(t, addr, private)
	if err != nil {
		return 0, err
	}
	ft := &k.futexes
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return ft.wakeLocked(key, n, bitset), nil
}

func (ft *futexTable) wakeLocked(key futexKey, n int, bitset uint32) int {
	woken := 0
	ws := ft.waiters[key]
	rest := ws[:0]
	for _, w := range ws {
		if g := w.group; g != nil && g.done {
			continue // its group was woken through another word
		}
		if woken < n && w.bitset&bitset != 0 {
			w.done = true
			if g := w.group; g != nil {
				g.done, g.index = true, w.index
				close(g.woken)
			} else {
				close(w.woken)
			}
			woken++
			continue
		}
		rest = append(rest, w)
	}
	if len(rest) == 0 {
		delete(ft.waiters, key)
	} else {
		ft.waiters[key] = rest
	}
	return woken
}

// FutexRequeue wakes n waiters on addr and moves up to n2 others to addr2.
// With cmp set, *addr must equal val (FUTEX_CMP_REQUEUE).
func (k *Kernel) FutexRequeue(t *Task, addr, addr2 uint64, private bool, n, n2 int, cmp bool, val uint32) (int, error) {
	key, err := k.futexKeyFor(t, addr, private)
	if err != nil {
		return 0, err
	}
	key2, err := k.futexKeyFor(t, addr2, private)
	if err != nil {
		return 0, err
	}
	ft := &k.futexes
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if cmp {
		cur, err := t.loadU32(addr)
		if err != nil {
			return 0, err
		}
		if cur != val {
			return 0, unix.EAGAIN
		}
	}
	woken := ft.wakeLocked(key, n, ^uint32(0))
	moved := 0
	ws := ft.waiters[key]
	for len(ws) > 0 && moved < n2 {
		w := ws[0]
		ws = ws[1:]
		w.key = key2
		ft.waiters[key2] = append(ft.waiters[key2], w)
		moved++
	}
	if len(ws) == 0 {
		delete(ft.waiters, key)
	} else {
		ft.waiters[key] = ws
	}
	return woken + moved, nil
}

// FutexWakeOp implements FUTEX_WAKE_OP.
func (k *Kernel) FutexWakeOp(t *Task, addr, addr2 uint64, private bool, n, n2 int, op uint32) (int, error) {
	key, err := k.futexKeyFor(t, addr, private)
	if err != nil {
		return 0, err
	}
	key2, err := k.futexKeyFor(t, addr2, private)
	if err != nil {
		return 0, err
	}
	ft := &k.futexes
	ft.mu.Lock()
	defer ft.mu.Unlock()
	old, err := t.loadU32(addr2)
	if err != nil {
		return 0, err
	}
	oparg := (op >> 12) & 0xfff
	if op&(8<<28) != 0 {
		oparg = 1 << (oparg & 31)
	}
	cmparg := op & 0xfff
	var nv uint32
	switch (op >> 28) & 7 {
	case 0:
		nv = oparg
	case 1:
		nv = old + oparg
	case 2:
		nv = old | oparg
	case 3:
		nv = old &^ oparg
	case 4:
		nv = old ^ oparg
	default:
		return 0, unix.ENOSYS
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], nv)
	if _, err := t.mm.CopyOut(addr2, b[:]); err != nil {
		return 0, unix.EFAULT
	}
	woken := ft.wakeLocked(key, n, ^uint32(0))
	var hit bool
	switch (op >> 24) & 0xf {
	case 0:
		hit = old == cmparg
	case 1:
		hit = old != cmparg
	case 2:
		hit = int32(old) < int32(cmparg)
	case 3:
		hit = int32(old) <= int32(cmparg)
	case 4:
		hit = int32(old) > int32(cmparg)
	case 5:
		hit = int32(old) >= int32(cmparg)
	default:
		return 0, unix.ENOSYS
	}
	if hit {
		woken += ft.wakeLocked(key2, n2, ^uint32(0))
	}
	return woken, nil
}
