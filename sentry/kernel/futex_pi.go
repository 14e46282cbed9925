package kernel

import (
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
)

// casU32 is a compare-and-swap on a guest futex word; it returns the value
// the word held.
func (t *Task) casU32(addr uint64, old, new uint32) (uint32, error) {
	prev, err := t.mm.CompareAndSwapUint32(addr, old, new)
	if err != nil {
		return 0, unix.EFAULT
	}
	return prev, nil
}

// FutexLockPI implements FUTEX_LOCK_PI and (with try) FUTEX_TRYLOCK_PI: it
// takes the priority-inheritance lock at addr for t, whose word holds the
// owner's TID, FUTEX_WAITERS while the kernel queues waiters and
// FUTEX_OWNER_DIED after a robust owner died. There is no priority boosting
// in the sentry; the ownership protocol is Linux's.
func (k *Kernel) FutexLockPI(t *Task, addr uint64, private, try bool, deadline Deadline) error {
	key, err := k.futexKeyFor(t, addr, private)
	if err != nil {
		return err
	}
	ft := &k.futexes
	ft.mu.Lock()
	w, err := k.lockPILocked(t, key, addr, try)
	ft.mu.Unlock()
	if w == nil || err != nil {
		return err
	}
	err = t.Block(w.woken, deadline)
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if w.done {
		return nil // the unlocker made t the owner
	}
	ft.removePILocked(w)
	if err == unix.ETIMEDOUT {
		return err
	}
	return ErrRestartNoIntr
}

// lockPILocked takes the lock if it is free, or queues t behind its owner
// and returns the waiter to block on.
func (k *Kernel) lockPILocked(t *Task, key futexKey, addr uint64, try bool) (*futexWaiter, error) {
	tid := uint32(t.tid)
	for {
		v, err := t.loadU32(addr)
		if err != nil {
			return nil, err
		}
		owner := v & linux.FUTEX_TID_MASK
		if owner == 0 && len(k.futexes.pi[key]) == 0 {
			// Free (perhaps after its owner died: keep saying so).
			nv := tid | v&linux.FUTEX_OWNER_DIED
			if prev, err := t.casU32(addr, v, nv); err != nil {
				return nil, err
			} else if prev != v {
				continue
			}
			return nil, nil
		}
		if owner == tid {
			return nil, unix.EDEADLK
		}
		if owner != 0 && k.TaskByTID(int32(owner)) == nil {
			return nil, unix.ESRCH
		}
		if try {
			return nil, unix.EAGAIN
		}
		if v&linux.FUTEX_WAITERS == 0 {
			if prev, err := t.casU32(addr, v, v|linux.FUTEX_WAITERS); err != nil {
				return nil, err
			} else if prev != v {
				continue
			}
		}
		w := &futexWaiter{key: key, tid: t.tid, task: t, addr: addr, woken: make(chan struct{})}
		ft := &k.futexes
		if ft.pi == nil {
			ft.pi = make(map[futexKey][]*futexWaiter)
		}
		ft.pi[key] = append(ft.pi[key], w)
		return w, nil
	}
}

// FutexUnlockPI implements FUTEX_UNLOCK_PI: the caller must own the lock;
// the first queued waiter becomes the owner, or the word becomes 0.
func (k *Kernel) FutexUnlockPI(t *Task, addr uint64, private bool) error {
	key, err := k.futexKeyFor(t, addr, private)
	if err != nil {
		return err
	}
	ft := &k.futexes
	ft.mu.Lock()
	defer ft.mu.Unlock()
	for {
		v, err := t.loadU32(addr)
		if err != nil {
			return err
		}
		if v&linux.FUTEX_TID_MASK != uint32(t.tid) {
			return unix.EPERM
		}
		var next *futexWaiter
		nv := uint32(0)
		if ws := ft.pi[key]; len(ws) > 0 {
			next = ws[0]
			// Like Linux, the new owner always finds FUTEX_WAITERS set, so
			// its unlock comes to the kernel once more.
			nv = uint32(next.tid) | linux.FUTEX_WAITERS
		}
		if prev, err := t.casU32(addr, v, nv); err != nil {
			return err
		} else if prev != v {
			continue
		}
		if next != nil {
			ft.removePILocked(next)
			next.done = true
			close(next.woken)
		}
		return nil
	}
}

func (ft *futexTable) removePILocked(w *futexWaiter) {
	ws := ft.pi[w.key]
	for i, o := range ws {
		if o == w {
			ws = append(ws[:i:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(ft.pi, w.key)
	} else {
		ft.pi[w.key] = ws
	}
}

// futexOwnerDied releases the robust lock at addr if t, which is exiting,
// holds it: the word keeps FUTEX_WAITERS and gains FUTEX_OWNER_DIED, and one
// waiter wakes to find it so. A task blocked in FUTEX_LOCK_PI is made the
// owner instead, as Linux does when a PI owner dies.
func (k *Kernel) futexOwnerDied(t *Task, addr uint64) {
	key, err := k.futexKeyFor(t, addr, false)
	if err != nil {
		return
	}
	ft := &k.futexes
	ft.mu.Lock()
	defer ft.mu.Unlock()
	for {
		v, err := t.loadU32(addr)
		if err != nil || v&linux.FUTEX_TID_MASK != uint32(t.tid) {
			return
		}
		nv := v&linux.FUTEX_WAITERS | linux.FUTEX_OWNER_DIED
		var next *futexWaiter
		if ws := ft.pi[key]; len(ws) > 0 {
			next = ws[0]
			nv = uint32(next.tid) | linux.FUTEX_WAITERS | linux.FUTEX_OWNER_DIED
		}
		if prev, err := t.casU32(addr, v, nv); err != nil {
			return
		} else if prev != v {
			continue
		}
		switch {
		case next != nil:
			ft.removePILocked(next)
			next.done = true
			close(next.woken)
		case v&linux.FUTEX_WAITERS != 0:
			ft.wakeLocked(key, 1, linux.FUTEX_BITSET_MATCH_ANY)
		}
		return
	}
}

// futexExitPI hands the PI locks an exiting task still holds, and that
// others wait for, to their first waiters, marked FUTEX_OWNER_DIED, as
// Linux does at exit (robust or not): otherwise they would wait forever.
func (k *Kernel) futexExitPI(t *Task) {
	ft := &k.futexes
	ft.mu.Lock()
	defer ft.mu.Unlock()
	for _, ws := range ft.pi {
		w := ws[0]
		for {
			v, err := w.task.loadU32(w.addr)
			if err != nil || v&linux.FUTEX_TID_MASK != uint32(t.tid) {
				break
			}
			nv := uint32(w.tid) | linux.FUTEX_WAITERS | linux.FUTEX_OWNER_DIED
			if prev, err := w.task.casU32(w.addr, v, nv); err != nil {
				break
			} else if prev != v {
				continue
			}
			ft.removePILocked(w)
			w.done = true
			close(w.woken)
			break
		}
	}
}
