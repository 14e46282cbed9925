package kernel

import "github.com/runsc-lite/runsc-lite/vfs/waiter"

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

// RegisterSignalWaiter registers e to be notified (with EventIn) when a
// signal is queued to tg or any of its tasks. The callback runs with the
// kernel lock held: it must not call back into the kernel.
func (tg *ThreadGroup) RegisterSignalWaiter(e *waiter.Entry) { tg.sigWaiters.Register(e) }

// UnregisterSignalWaiter undoes RegisterSignalWaiter.
func (tg *ThreadGroup) UnregisterSignalWaiter(e *waiter.Entry) { tg.sigWaiters.Unregister(e) }
