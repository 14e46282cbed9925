package kernel

import (
	"sync"

	"github.com/runsc-lite/runsc-lite/vfs/waiter"
)

// Hooks for signalfd(2) (package syscalls/poll).

// DequeueSignal removes and returns the lowest-numbered pending signal of
// the task that is in mask (the task's own queue first, then its thread
// group's), or nil if there is none. It never blocks.
func (t *Task) DequeueSignal(mask SigSet) *SigInfo {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	if si := t.pending.dequeue(^mask); si != nil {
		return si
	}
	return t.tg.pending.dequeue(^mask)
}

// signalQueues are the per-thread-group queues notified when a signal is
// queued for the group or one of its tasks (see SignalQueue).
var signalQueues struct {
	mu sync.Mutex
	m  map[*ThreadGroup]*signalQueue
}

type signalQueue struct {
	users int
	q     waiter.Queue
}

// RegisterSignalWaiter registers e to be notified (with EventIn) when a
// signal is queued to tg or any of its tasks. The callback runs with the
// kernel lock held: it must not call back into the kernel.
//
// Notifications need a call to notifySignalQueuedLocked where signals are
// queued (sendLocked); until that call is wired, signalfd falls back to
// polling.
func (tg *ThreadGroup) RegisterSignalWaiter(e *waiter.Entry) {
	signalQueues.mu.Lock()
	defer signalQueues.mu.Unlock()
	if signalQueues.m == nil {
		signalQueues.m = make(map[*ThreadGroup]*signalQueue)
	}
	sq := signalQueues.m[tg]
	if sq == nil {
		sq = &signalQueue{}
		signalQueues.m[tg] = sq
	}
	sq.users++
	sq.q.Register(e)
}

// UnregisterSignalWaiter undoes RegisterSignalWaiter.
func (tg *ThreadGroup) UnregisterSignalWaiter(e *waiter.Entry) {
	signalQueues.mu.Lock()
	defer signalQueues.mu.Unlock()
	sq := signalQueues.m[tg]
	if sq == nil {
		return
	}
	sq.q.Unregister(e)
	if sq.users--; sq.users <= 0 {
		delete(signalQueues.m, tg)
	}
}

// notifySignalQueuedLocked tells the signal waiters of tg that a signal was
// queued. It is to be called by sendLocked after a successful enqueue
// (k.mu held).
func (tg *ThreadGroup) notifySignalQueuedLocked() {
	signalQueues.mu.Lock()
	sq := signalQueues.m[tg]
	signalQueues.mu.Unlock()
	if sq != nil {
		sq.q.Notify(waiter.EventIn)
	}
}

// SignalHookWired reports whether sendLocked notifies signal waiters (see
// notifySignalQueuedLocked); signalfd polls otherwise. Set it to true when
// the call is added.
const SignalHookWired = false
