package kernel

import (
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
)

// FutexWaitvEntry is one word of a futex_waitv.
type FutexWaitvEntry struct {
	Addr    uint64
	Val     uint32
	Private bool
}

// FutexWaitv implements futex_waitv(2): it sleeps until one of the words is
// woken and returns its index. If any word does not hold its value at the
// start, it returns EAGAIN without sleeping.
func (k *Kernel) FutexWaitv(t *Task, entries []FutexWaitvEntry, deadline Deadline) (int, error) {
	keys := make([]futexKey, len(entries))
	for i, e := range entries {
		key, err := k.futexKeyFor(t, e.Addr, e.Private)
		if err != nil {
			return 0, err
		}
		keys[i] = key
	}
	ft := &k.futexes
	ft.mu.Lock()
	for _, e := range entries {
		cur, err := t.loadU32(e.Addr)
		if err != nil {
			ft.mu.Unlock()
			return 0, err
		}
		if cur != e.Val {
			ft.mu.Unlock()
			return 0, unix.EAGAIN
		}
	}
	g := &futexGroup{woken: make(chan struct{})}
	ws := make([]*futexWaiter, len(entries))
	if ft.waiters == nil {
		ft.waiters = make(map[futexKey][]*futexWaiter)
	}
	for i, key := range keys {
		ws[i] = &futexWaiter{key: key, bitset: linux.FUTEX_BITSET_MATCH_ANY, group: g, index: i}
		ft.waiters[key] = append(ft.waiters[key], ws[i])
	}
	ft.mu.Unlock()

	err := t.Block(g.woken, deadline)
	ft.mu.Lock()
	defer ft.mu.Unlock()
	for _, w := range ws {
		if !w.done {
			ft.removeLocked(w)
		}
	}
	switch {
	case g.done:
		return g.index, nil
	case err == unix.ETIMEDOUT:
		return 0, err
	}
	return 0, ErrRestartSys
}
