// Package waiter provides wait queues for readiness notifications. File
// implementations never block: when an operation would block they return
// unix.EAGAIN, and the kernel registers an Entry on the file's Queue and
// sleeps until the file notifies it (or a signal interrupts the wait). The
// same queues drive poll, select and epoll.
package waiter

import (
	"sync"

	"golang.org/x/sys/unix"
)

// EventMask is a set of readiness events, using the EPOLL* bit values.
type EventMask uint32

// Readiness events.
const (
	EventIn     EventMask = unix.EPOLLIN
	EventPri    EventMask = unix.EPOLLPRI
	EventOut    EventMask = unix.EPOLLOUT
	EventErr    EventMask = unix.EPOLLERR
	EventHUp    EventMask = unix.EPOLLHUP
	EventRdNorm EventMask = unix.EPOLLRDNORM
	EventWrNorm EventMask = unix.EPOLLWRNORM
	EventRdHUp  EventMask = unix.EPOLLRDHUP

	// AllEvents is every event above.
	AllEvents EventMask = EventIn | EventPri | EventOut | EventErr | EventHUp | EventRdNorm | EventWrNorm | EventRdHUp

	// ReadableEvents and WritableEvents are the usual masks a blocking read
	// or write waits for. EventErr and EventHUp are always reported.
	ReadableEvents = EventIn | EventRdNorm
	WritableEvents = EventOut | EventWrNorm
)

// Entry is one waiter registered on a Queue. It is notified when an event in
// its mask is raised. Create it with NewChannelEntry or NewFunctionEntry; an
// Entry may be registered on at most one Queue at a time.
type Entry struct {
	mask EventMask
	cb   func(EventMask)
	ch   chan struct{}

	q          *Queue
	prev, next *Entry
}

// NewChannelEntry returns an entry interested in mask (EventErr|EventHUp are
// always added) and a channel that receives a value (without blocking, buffer
// 1) each time the entry is notified.
func NewChannelEntry(mask EventMask) (*Entry, chan struct{}) {
	ch := make(chan struct{}, 1)
	return &Entry{mask: mask | EventErr | EventHUp, ch: ch}, ch
}

// NewFunctionEntry returns an entry that calls fn with the raised events that
// intersect mask. fn runs with the queue lock held: it must not block or
// (un)register entries on the same queue.
func NewFunctionEntry(mask EventMask, fn func(EventMask)) *Entry {
	return &Entry{mask: mask | EventErr | EventHUp, cb: fn}
}

// Mask returns the entry's event mask.
func (e *Entry) Mask() EventMask { return e.mask }

// SetMask changes the entry's event mask (EventErr|EventHUp always added).
// It must be called while the entry is not registered.
func (e *Entry) SetMask(m EventMask) { e.mask = m | EventErr | EventHUp }

func (e *Entry) notify(m EventMask) {
	if e.ch != nil {
		select {
		case e.ch <- struct{}{}:
		default:
		}
	}
	if e.cb != nil {
		e.cb(m)
	}
}

// Queue is a list of entries waiting for events. The zero value is ready to
// use.
type Queue struct {
	mu         sync.Mutex
	head, tail *Entry
}

// Register adds e to the queue. Registering an entry that is already on this
// queue is a no-op.
func (q *Queue) Register(e *Entry) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if e.q == q {
		return
	}
	if e.q != nil {
		panic("waiter: entry registered on two queues")
	}
	e.q = q
	e.prev = q.tail
	e.next = nil
	if q.tail != nil {
		q.tail.next = e
	} else {
		q.head = e
	}
	q.tail = e
}

// Unregister removes e from the queue; it is a no-op if e is not registered.
func (q *Queue) Unregister(e *Entry) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if e.q != q {
		return
	}
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		q.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		q.tail = e.prev
	}
	e.prev, e.next, e.q = nil, nil, nil
}

// Notify wakes every entry whose mask intersects m.
func (q *Queue) Notify(m EventMask) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for e := q.head; e != nil; e = e.next {
		if e.mask&m != 0 {
			e.notify(e.mask & m)
		}
	}
}

// Events returns the union of the masks of all registered entries.
func (q *Queue) Events() EventMask {
	q.mu.Lock()
	defer q.mu.Unlock()
	var m EventMask
	for e := q.head; e != nil; e = e.next {
		m |= e.mask
	}
	return m
}

// IsEmpty reports whether no entry is registered.
func (q *Queue) IsEmpty() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.head == nil
}
