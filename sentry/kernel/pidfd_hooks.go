package kernel

import (
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/vfs/waiter"
)

// Hooks for pidfds (package syscalls/proc): a pidfd refers to a thread
// group, not to a PID, so it never names a process that reused the PID.

// ThreadGroupOf returns the thread group whose leader has TID pid: ESRCH
// when there is no such task, EINVAL when pid is a thread that does not
// lead its group (pidfd_open's errors).
func (k *Kernel) ThreadGroupOf(pid int32) (*ThreadGroup, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	t := k.tasks[pid]
	switch {
	case t == nil:
		return nil, unix.ESRCH
	case t.tg.leader != t:
		return nil, unix.EINVAL
	}
	return t.tg, nil
}

// Exited reports whether every task of tg has exited (it is a zombie or
// already reaped): a pidfd is then readable.
func (tg *ThreadGroup) Exited() (exited, reaped bool) {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.zombie, tg.reaped
}

// RegisterExitWaiter registers e to be notified when tg exits (EventIn)
// and when it is reaped (EventIn|EventHUp). The callback runs with the
// kernel lock held: it must not call back into the kernel.
func (tg *ThreadGroup) RegisterExitWaiter(e *waiter.Entry) { tg.exitWaiters.Register(e) }

// UnregisterExitWaiter undoes RegisterExitWaiter.
func (tg *ThreadGroup) UnregisterExitWaiter(e *waiter.Entry) { tg.exitWaiters.Unregister(e) }

// SignalThreadGroup sends si to tg as kill(2) would to its PID: ESRCH once
// tg has been reaped, nothing (and no error) while it is a zombie; signal 0
// only checks.
func (k *Kernel) SignalThreadGroup(tg *ThreadGroup, si *SigInfo) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case tg.reaped:
		return unix.ESRCH
	case tg.zombie:
		return nil
	}
	if tg == k.init && si.Signo != 0 && !k.initAcceptsLocked(si.Signo) {
		return nil
	}
	return tg.sendLocked(si, nil)
}
