package poll

import (
	"sync"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/waiter"
)

// Epoll event flag bits that are not readiness events.
const (
	epollET        = uint32(unix.EPOLLET)
	epollOneShot   = uint32(unix.EPOLLONESHOT)
	epollWakeup    = uint32(unix.EPOLLWAKEUP)
	epollExclusive = uint32(unix.EPOLLEXCLUSIVE)
	epPrivateBits  = epollET | epollOneShot | epollWakeup | epollExclusive
	// epExclusiveOK are the flags allowed with EPOLLEXCLUSIVE.
	epExclusiveOK = uint32(unix.EPOLLIN|unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) | epollWakeup | epollET | epollExclusive
	// epMaxNests is the deepest nesting of epoll instances (EP_MAX_NESTS).
	epMaxNests = 4
)

// EpollEvent is one struct epoll_event.
type EpollEvent struct {
	Events uint32
	Data   uint64
}

// epollEventSize is sizeof(struct epoll_event) on x86-64 (packed).
const epollEventSize = 12

// epollKey identifies a watched file: Linux keys items by (file, fd).
type epollKey struct {
	file *vfs.File
	fd   int32
}

type epollItem struct {
	ep  *Epoll
	key epollKey
	// events and data are written with both ep.ctlMu and ep.mu held, and
	// may be read with either.
	events uint32
	data   uint64
	entry  *waiter.Entry
	// Protected by ep.mu.
	ready   bool
	removed bool
}

// Epoll is an epoll instance (the implementation of an epoll file).
//
// Locking: ctlMu serialises epoll_ctl, harvesting in epoll_wait and
// release; it is held while calling into watched files (register,
// unregister, readiness). mu protects the item map and the ready list; it
// is a leaf lock, never held while calling into another file, because the
// readiness callbacks (which run with the watched file's queue lock and
// possibly its own lock held) take it. epollNestMu (global) serialises
// additions of epoll instances to other instances and is taken before any
// ctlMu.
//
// Items do not hold a reference on the watched files: as in Linux, a file
// leaves every epoll set when its last reference is dropped. Items of
// released files are found (TryIncRef fails) and removed lazily.
type Epoll struct {
	noSeek
	ctlMu sync.Mutex
	mu    sync.Mutex
	items map[epollKey]*epollItem
	ready []*epollItem
	// queue is notified (EventIn) when items become ready; epoll_wait
	// callers and instances watching this one wait on it.
	queue waiter.Queue
	// sweepAt is the item count at which ADD looks for items of released
	// files.
	sweepAt  int
	released bool
}

// epollNestMu serialises the loop checks of nested epoll instances.
var epollNestMu sync.Mutex

// NewEpoll returns an empty epoll instance.
func NewEpoll() *Epoll {
	return &Epoll{items: make(map[epollKey]*epollItem), sweepAt: 64}
}

// NewEpollFile creates an epoll file.
func NewEpollFile(v *vfs.VFS, ctx vfs.Context) *vfs.File {
	return newAnonFile(v, ctx, "eventpoll", NewEpoll(), unix.O_RDWR)
}

// Release implements vfs.FileImpl: every watch is removed.
func (ep *Epoll) Release(vfs.Context) {
	ep.ctlMu.Lock()
	defer ep.ctlMu.Unlock()
	ep.mu.Lock()
	ep.released = true
	items := make([]*epollItem, 0, len(ep.items))
	for k, it := range ep.items {
		it.removed = true
		items = append(items, it)
		delete(ep.items, k)
	}
	ep.ready = nil
	ep.mu.Unlock()
	for _, it := range items {
		it.key.file.EventUnregister(it.entry)
	}
}

// Readiness implements vfs.Waitable: an epoll instance is readable when one
// of its items is ready.
func (ep *Epoll) Readiness(mask waiter.EventMask) waiter.EventMask {
	if mask&(waiter.EventIn|waiter.EventRdNorm) == 0 {
		return 0
	}
	type snap struct {
		f      *vfs.File
		events uint32
	}
	ep.mu.Lock()
	list := make([]snap, 0, len(ep.ready))
	for _, it := range ep.ready {
		if !it.removed {
			list = append(list, snap{it.key.file, it.events})
		}
	}
	ep.mu.Unlock()
	for _, s := range list {
		if s.events&^epPrivateBits == 0 {
			continue
		}
		if !s.f.TryIncRef() {
			continue
		}
		r := uint32(s.f.Readiness(waiter.EventMask(s.events&^epPrivateBits))) & s.events
		s.f.DecRef(bgCtx)
		if r != 0 {
			return mask & (waiter.EventIn | waiter.EventRdNorm)
		}
	}
	return 0
}

// EventRegister implements vfs.Waitable.
func (ep *Epoll) EventRegister(e *waiter.Entry) { ep.queue.Register(e) }

// EventUnregister implements vfs.Waitable.
func (ep *Epoll) EventUnregister(e *waiter.Entry) { ep.queue.Unregister(e) }

// callback is the readiness callback of an item: it runs with the watched
// file's queue lock held.
func (it *epollItem) callback(m waiter.EventMask) {
	ep := it.ep
	ep.mu.Lock()
	ev := it.events
	if it.removed || ev&^epPrivateBits == 0 || (m != 0 && uint32(m)&ev == 0) {
		ep.mu.Unlock()
		return
	}
	if !it.ready {
		it.ready = true
		ep.ready = append(ep.ready, it)
	}
	ep.mu.Unlock()
	ep.queue.Notify(waiter.EventIn | waiter.EventRdNorm)
}

// markReadyLocked puts it on the ready list. ep.mu must be held.
func (ep *Epoll) markReadyLocked(it *epollItem) {
	if !it.ready && !it.removed {
		it.ready = true
		ep.ready = append(ep.ready, it)
	}
}

// epollOf returns f's epoll instance, or nil.
func epollOf(f *vfs.File) *Epoll {
	ep, _ := f.Impl().(*Epoll)
	return ep
}

// children returns the epoll instances directly watched by ep.
func (ep *Epoll) children() []*Epoll {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	var out []*Epoll
	for k := range ep.items {
		if c := epollOf(k.file); c != nil {
			out = append(out, c)
		}
	}
	return out
}

// loopCheck reports whether watching to from ep would create a cycle or
// nest instances too deeply. epollNestMu must be held.
func (ep *Epoll) loopCheck(to *Epoll) bool {
	var visit func(e *Epoll, depth int, seen map[*Epoll]bool) bool
	visit = func(e *Epoll, depth int, seen map[*Epoll]bool) bool {
		if depth > epMaxNests || e == ep {
			return false
		}
		if seen[e] {
			return true
		}
		seen[e] = true
		for _, c := range e.children() {
			if !visit(c, depth+1, seen) {
				return false
			}
		}
		return true
	}
	return visit(to, 0, map[*Epoll]bool{})
}

// Ctl implements epoll_ctl on this instance for file f at descriptor fd.
// ev is ignored for EPOLL_CTL_DEL. The caller has checked that f can be
// polled and is not ep itself.
func (ep *Epoll) Ctl(ctx vfs.Context, op int, f *vfs.File, fd int32, ev EpollEvent) error {
	if op == unix.EPOLL_CTL_ADD || op == unix.EPOLL_CTL_MOD {
		ev.Events &^= epollWakeup // no suspend in the sandbox (as without CAP_BLOCK_SUSPEND)
		if ev.Events&epollExclusive != 0 {
			if op == unix.EPOLL_CTL_MOD {
				return unix.EINVAL
			}
			if epollOf(f) != nil || ev.Events&^epExclusiveOK != 0 {
				return unix.EINVAL
			}
		}
	}
	var dead []*vfs.File
	defer func() {
		for _, d := range dead {
			d.DecRef(ctx)
		}
	}()
	if op == unix.EPOLL_CTL_ADD {
		if to := epollOf(f); to != nil {
			epollNestMu.Lock()
			defer epollNestMu.Unlock()
			if !ep.loopCheck(to) {
				return unix.ELOOP
			}
		}
	}
	ep.ctlMu.Lock()
	defer ep.ctlMu.Unlock()
	key := epollKey{f, fd}
	ep.mu.Lock()
	it := ep.items[key]
	ep.mu.Unlock()
	switch op {
	case unix.EPOLL_CTL_ADD:
		if it != nil {
			return unix.EEXIST
		}
		dead = ep.sweepCtlLocked()
		it = &epollItem{ep: ep, key: key, events: ev.Events | unix.EPOLLERR | unix.EPOLLHUP, data: ev.Data}
		it.entry = waiter.NewFunctionEntry(^waiter.EventMask(0), it.callback)
		ep.mu.Lock()
		ep.items[key] = it
		ep.mu.Unlock()
		f.EventRegister(it.entry)
		ep.pollItemCtlLocked(it)
		return nil
	case unix.EPOLL_CTL_MOD:
		if it == nil {
			return unix.ENOENT
		}
		if it.events&epollExclusive != 0 {
			return unix.EINVAL
		}
		ep.mu.Lock()
		it.events = ev.Events | unix.EPOLLERR | unix.EPOLLHUP
		it.data = ev.Data
		ep.mu.Unlock()
		ep.pollItemCtlLocked(it)
		return nil
	case unix.EPOLL_CTL_DEL:
		if it == nil {
			return unix.ENOENT
		}
		ep.removeCtlLocked(it)
		return nil
	}
	return unix.EINVAL
}

// pollItemCtlLocked checks it's readiness now and queues it if ready.
func (ep *Epoll) pollItemCtlLocked(it *epollItem) {
	ev := it.events
	if ev&^epPrivateBits == 0 {
		return
	}
	if r := uint32(it.key.file.Readiness(waiter.EventMask(ev&^epPrivateBits))) & ev; r != 0 {
		ep.mu.Lock()
		ep.markReadyLocked(it)
		ep.mu.Unlock()
		ep.queue.Notify(waiter.EventIn | waiter.EventRdNorm)
	}
}

// removeCtlLocked removes an item. ep.ctlMu must be held.
func (ep *Epoll) removeCtlLocked(it *epollItem) {
	ep.mu.Lock()
	if it.removed {
		ep.mu.Unlock()
		return
	}
	it.removed = true
	delete(ep.items, it.key)
	if it.ready {
		it.ready = false
		for i, r := range ep.ready {
			if r == it {
				ep.ready = append(ep.ready[:i], ep.ready[i+1:]...)
				break
			}
		}
	}
	ep.mu.Unlock()
	it.key.file.EventUnregister(it.entry)
}

// sweepCtlLocked removes the items of released files once the set has
// grown enough since the last sweep. It returns files whose reference the
// caller must drop after unlocking.
func (ep *Epoll) sweepCtlLocked() []*vfs.File {
	ep.mu.Lock()
	n := len(ep.items)
	if n < ep.sweepAt {
		ep.mu.Unlock()
		return nil
	}
	all := make([]*epollItem, 0, n)
	for _, it := range ep.items {
		all = append(all, it)
	}
	ep.mu.Unlock()
	var live []*vfs.File
	for _, it := range all {
		if it.key.file.TryIncRef() {
			live = append(live, it.key.file)
		} else {
			ep.removeCtlLocked(it)
		}
	}
	ep.mu.Lock()
	ep.sweepAt = max(64, 2*len(ep.items))
	ep.mu.Unlock()
	return live
}

// Len returns the number of watched files.
func (ep *Epoll) Len() int {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	return len(ep.items)
}

// Harvest returns up to max ready events, applying the level-triggered,
// edge-triggered and one-shot rules. It never blocks.
func (ep *Epoll) Harvest(ctx vfs.Context, max int) []EpollEvent {
	if max <= 0 {
		return nil
	}
	var drop []*vfs.File
	defer func() {
		for _, f := range drop {
			f.DecRef(ctx)
		}
	}()
	ep.ctlMu.Lock()
	defer ep.ctlMu.Unlock()
	ep.mu.Lock()
	list := ep.ready
	ep.ready = nil
	for _, it := range list {
		it.ready = false
	}
	ep.mu.Unlock()
	if len(list) == 0 {
		return nil
	}
	var out []EpollEvent
	var requeue, rest []*epollItem
	for i, it := range list {
		if len(out) >= max {
			rest = list[i:]
			break
		}
		if it.removed {
			continue
		}
		f := it.key.file
		if !f.TryIncRef() {
			ep.removeCtlLocked(it)
			continue
		}
		drop = append(drop, f)
		ev := it.events
		if ev&^epPrivateBits == 0 {
			continue
		}
		r := uint32(f.Readiness(waiter.EventMask(ev&^epPrivateBits))) & ev
		if r == 0 {
			continue
		}
		out = append(out, EpollEvent{Events: r, Data: it.data})
		switch {
		case ev&epollOneShot != 0:
			ep.mu.Lock()
			it.events &= epPrivateBits
			ep.mu.Unlock()
		case ev&epollET == 0:
			requeue = append(requeue, it)
		}
	}
	ep.mu.Lock()
	cur := ep.ready
	ep.ready = nil
	for _, it := range rest {
		ep.markReadyLocked(it)
	}
	for _, it := range cur {
		if it.removed {
			it.ready = false
			continue
		}
		ep.ready = append(ep.ready, it)
	}
	for _, it := range requeue {
		ep.markReadyLocked(it)
	}
	ep.mu.Unlock()
	return out
}
