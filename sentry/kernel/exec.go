package kernel

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/platform"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
)

var platformRegsZero platform.Registers

// BeginExec kills every other thread of the process (de_thread) so the
// caller is its only task, and makes it the leader. It fails with EINTR if
// the process is being killed meanwhile.
func (t *Task) BeginExec() error {
	k := t.k
	k.mu.Lock()
	tg := t.tg
	for _, o := range tg.tasks {
		if o != t {
			o.exiting = true
			o.exitCode = 0
			o.wake()
		}
	}
	for len(tg.tasks) > 1 {
		if t.exiting || tg.exiting {
			k.mu.Unlock()
			return unix.EINTR
		}
		ch := tg.childWait
		k.mu.Unlock()
		// Exiting threads do not signal childWait; poll briefly. Linux
		// waits TASK_KILLABLE (D) for them.
		wake := t.sleep('D')
		select {
		case <-ch:
		case <-t.interrupt:
		case <-time.After(200 * time.Microsecond):
		}
		wake()
		k.mu.Lock()
	}
	if tg.leader != t {
		old := tg.leader
		delete(k.tasks, t.tid)
		t.tid = old.tid
		k.tasks[t.tid] = t
		tg.leader = t
	}
	k.mu.Unlock()
	return nil
}

// AttachExecAddressSpace gives m, a new image loaded detached, its platform
// address space. Called after BeginExec. A fresh one is the fastest: the
// platform keeps one ready, while emptying the old one means tearing down
// its host page tables on the spot; the old one is released in the
// background when the old image goes. Only if no fresh one can be had is
// the old one emptied and reused (when no other task shares it).
func (t *Task) AttachExecAddressSpace(m *mm.MM) error {
	k := t.k
	err := k.AttachNewAddressSpace(m)
	if err == nil {
		return nil
	}
	k.mu.Lock()
	exclusive := k.mmUsers[t.mm] == 1
	k.mu.Unlock()
	if exclusive {
		if as, derr := t.mm.Detach(t.ctx); derr == nil {
			m.Attach(as)
			return nil
		}
	}
	return err
}

// AttachNewAddressSpace gives a detached image a new platform address
// space.
func (k *Kernel) AttachNewAddressSpace(m *mm.MM) error {
	as, err := k.Platform.NewAddressSpace()
	if err != nil {
		return unix.ENOMEM
	}
	m.Attach(as)
	return nil
}

// CommitExec installs a freshly loaded address space: it must be called
// after BeginExec once loading succeeded; there is no way back.
func (t *Task) CommitExec(m *mm.MM, entry, sp uint64, name string) {
	k := t.k
	old := t.mm
	if t.clearChildTID != 0 {
		// The vfork parent waits for this; Linux does it in mm_release.
		var zero [4]byte
		if _, err := old.CopyOut(t.clearChildTID, zero[:]); err == nil {
			k.FutexWake(t, t.clearChildTID, true, 1, linux.FUTEX_BITSET_MATCH_ANY)
		}
		t.clearChildTID = 0
	}
	k.mu.Lock()
	t.mm = m
	k.mmUsersLocked(m, 1)
	k.mmUsersLocked(old, -1)
	// Handlers reset to default; a table shared with another process is
	// unshared first.
	h := t.tg.handlers.copy()
	for i := range h.actions {
		if h.actions[i].Handler != linux.SIG_IGN {
			h.actions[i] = SigAction{}
		}
	}
	t.tg.handlers = h
	t.tg.execed = true
	t.altStack = linux.SignalStack{}
	t.name = truncName(name)
	t.robustList = 0
	if t.vforkDone != nil {
		close(t.vforkDone)
		t.vforkDone = nil
	}
	k.mu.Unlock()
	t.Files.CloseOnExec(t.VFSContext())
	r := &t.State.Regs
	cs, ss := r.Cs, r.Ss
	*r = platformRegsZero
	r.Cs, r.Ss = cs, ss
	r.Rip, r.Rsp = entry, sp
	r.Eflags = 0x202
	r.OrigRax = ^uint64(0)
	t.State.FP = nil
}

// UnshareFiles gives the task a private copy of its FD table (execve does
// this when the table is shared).
func (t *Task) UnshareFiles() {
	f := t.Files
	f.mu.Lock()
	shared := f.refs > 1
	f.mu.Unlock()
	if shared {
		n := f.Fork()
		// Under k.mu: /proc reads another task's table with it held.
		t.k.mu.Lock()
		t.Files = n
		t.k.mu.Unlock()
		f.decRef(t.VFSContext())
	}
}
