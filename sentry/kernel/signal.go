package kernel

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/platform"
	"github.com/runsc-lite/runsc-lite/vfs/waiter"
)

// SigSet is a signal mask: bit n-1 is signal n.
type SigSet uint64

// SigBit returns the mask bit of signal sig.
func SigBit(sig int32) SigSet { return 1 << uint(sig-1) }

// unblockable signals.
const unblockable = SigSet(1<<(unix.SIGKILL-1) | 1<<(unix.SIGSTOP-1))

// SigInfo is a guest siginfo_t.
type SigInfo struct {
	Signo, Errno, Code int32
	// Union fields; which are meaningful depends on Signo/Code.
	PID, UID     int32
	Status       int32  // SIGCHLD
	Utime, Stime int64  // SIGCHLD
	Addr         uint64 // SIGSEGV etc.
	Value        uint64 // sigqueue / timers
	TimerID      int32
	Overrun      int32
	Band         int64 // SIGPOLL
	FD           int32
	SyscallNr    int32
	SyscallAddr  uint64
	// Child marks a child-state notification: it has the SIGCHLD layout
	// whatever its signal (clone(2) lets a child exit with any signal).
	Child bool
	// timer is the POSIX timer whose signal this is: taking it from a
	// queue fills in Overrun.
	timer *PosixTimer
}

// Bytes encodes the siginfo_t (128 bytes).
func (si *SigInfo) Bytes() []byte {
	b := make([]byte, 128)
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(si.Signo))
	le.PutUint32(b[4:], uint32(si.Errno))
	le.PutUint32(b[8:], uint32(si.Code))
	switch {
	case si.Child || (si.Signo == int32(unix.SIGCHLD) && si.Code > 0):
		le.PutUint32(b[16:], uint32(si.PID))
		le.PutUint32(b[20:], uint32(si.UID))
		le.PutUint32(b[24:], uint32(si.Status))
		le.PutUint64(b[32:], uint64(si.Utime))
		le.PutUint64(b[40:], uint64(si.Stime))
	case si.Code == linux.SI_TIMER:
		le.PutUint32(b[16:], uint32(si.TimerID))
		le.PutUint32(b[20:], uint32(si.Overrun))
		le.PutUint64(b[24:], si.Value)
	case si.Code > 0 && isFaultSignal(si.Signo):
		le.PutUint64(b[16:], si.Addr)
	case si.Signo == int32(unix.SIGSYS) && si.Code > 0:
		le.PutUint64(b[16:], si.SyscallAddr)
		le.PutUint32(b[24:], uint32(si.SyscallNr))
		le.PutUint32(b[28:], unix.AUDIT_ARCH_X86_64)
	case si.Signo == int32(unix.SIGIO) && si.Code > 0:
		le.PutUint64(b[16:], uint64(si.Band))
		le.PutUint32(b[24:], uint32(si.FD))
	default:
		le.PutUint32(b[16:], uint32(si.PID))
		le.PutUint32(b[20:], uint32(si.UID))
		le.PutUint64(b[24:], si.Value)
	}
	return b
}

// DecodeSigInfo parses a guest siginfo_t for rt_sigqueueinfo.
func DecodeSigInfo(b []byte) *SigInfo {
	le := binary.LittleEndian
	return &SigInfo{
		Signo: int32(le.Uint32(b[0:])), Errno: int32(le.Uint32(b[4:])), Code: int32(le.Uint32(b[8:])),
		PID: int32(le.Uint32(b[16:])), UID: int32(le.Uint32(b[20:])), Value: le.Uint64(b[24:]),
	}
}

func isFaultSignal(sig int32) bool {
	switch unix.Signal(sig) {
	case unix.SIGSEGV, unix.SIGBUS, unix.SIGILL, unix.SIGFPE, unix.SIGTRAP:
		return true
	}
	return false
}

// sigQueue holds pending signals: one entry per standard signal, a FIFO for
// real-time ones.
type sigQueue struct {
	set     SigSet
	entries []*SigInfo
}

func (q *sigQueue) enqueue(si *SigInfo) bool {
	if si.Signo < linux.SIGRTMIN && q.set&SigBit(si.Signo) != 0 {
		return false // standard signals do not queue
	}
	if len(q.entries) > 1<<14 {
		return false
	}
	q.entries = append(q.entries, si)
	q.set |= SigBit(si.Signo)
	return true
}

// dequeue removes the lowest-numbered pending signal not in mask.
func (q *sigQueue) dequeue(mask SigSet) *SigInfo {
	avail := q.set &^ mask
	if avail == 0 {
		return nil
	}
	// Prefer synchronous/standard signals: lowest number first.
	var sig int32
	for s := int32(1); s <= linux.NSIG; s++ {
		if avail&SigBit(s) != 0 {
			sig = s
			break
		}
	}
	return q.take(sig)
}

func (q *sigQueue) take(sig int32) *SigInfo {
	var found *SigInfo
	more := false
	out := q.entries[:0]
	for _, e := range q.entries {
		if e.Signo == sig && found == nil {
			found = e
			continue
		}
		if e.Signo == sig {
			more = true
		}
		out = append(out, e)
	}
	q.entries = out
	if !more {
		q.set &^= SigBit(sig)
	}
	if found != nil && found.timer != nil {
		found.Overrun = found.timer.signalTaken()
	}
	return found
}

func (q *sigQueue) discard(sig int32) {
	for q.set&SigBit(sig) != 0 {
		q.take(sig)
	}
}

// SigAction is a guest struct sigaction (kernel layout).
type SigAction struct {
	Handler  uint64
	Flags    uint64
	Restorer uint64
	Mask     SigSet
}

// SignalHandlers is the table shared by CLONE_SIGHAND tasks.
type SignalHandlers struct {
	actions [linux.NSIG + 1]SigAction
}

func (h *SignalHandlers) copy() *SignalHandlers {
	c := *h
	return &c
}

// defaultAction of a signal.
type defaultAction int

const (
	actTerm defaultAction = iota
	actCore
	actIgnore
	actStop
	actContinue
)

func defaultActionOf(sig int32) defaultAction {
	switch unix.Signal(sig) {
	case unix.SIGCHLD, unix.SIGURG, unix.SIGWINCH:
		return actIgnore
	case unix.SIGSTOP, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU:
		return actStop
	case unix.SIGCONT:
		return actContinue
	case unix.SIGQUIT, unix.SIGILL, unix.SIGTRAP, unix.SIGABRT, unix.SIGBUS, unix.SIGFPE,
		unix.SIGSEGV, unix.SIGXCPU, unix.SIGXFSZ, unix.SIGSYS:
		return actCore
	}
	return actTerm
}

// Sigaction reads and optionally changes the action for sig.
func (t *Task) Sigaction(sig int32, act *SigAction) (SigAction, error) {
	if sig < 1 || sig > linux.NSIG {
		return SigAction{}, unix.EINVAL
	}
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	h := t.tg.handlers
	old := h.actions[sig]
	if act != nil {
		if sig == int32(unix.SIGKILL) || sig == int32(unix.SIGSTOP) {
			return old, unix.EINVAL
		}
		a := *act
		a.Mask &^= unblockable
		h.actions[sig] = a
		// Setting SIG_IGN (or SIG_DFL for a default-ignored signal)
		// discards pending instances.
		if a.Handler == linux.SIG_IGN || (a.Handler == linux.SIG_DFL && defaultActionOf(sig) == actIgnore) {
			t.tg.pending.discard(sig)
			for _, o := range t.tg.tasks {
				o.pending.discard(sig)
			}
		}
	}
	return old, nil
}

// SigMask returns the task's signal mask.
func (t *Task) SigMask() SigSet {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return t.sigMask
}

// SetSigMask sets the task's signal mask (SIGKILL/SIGSTOP never blocked).
func (t *Task) SetSigMask(m SigSet) {
	t.k.mu.Lock()
	t.sigMask = m &^ unblockable
	t.k.mu.Unlock()
}

// SetSavedSigMask arranges for mask old to be restored after the next
// signal handler is set up or the syscall returns (sigsuspend, ppoll).
func (t *Task) SetSavedSigMask(old SigSet) {
	t.k.mu.Lock()
	t.savedMask, t.haveSavedMask = old, true
	t.k.mu.Unlock()
}

// RestoreSavedSigMask undoes SetSavedSigMask when no signal was delivered.
func (t *Task) RestoreSavedSigMask() {
	t.k.mu.Lock()
	if t.haveSavedMask {
		t.sigMask, t.haveSavedMask = t.savedMask, false
	}
	t.k.mu.Unlock()
}

// PendingSignals returns the union of the task's and group's pending sets.
func (t *Task) PendingSignals() SigSet {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return t.pending.set | t.tg.pending.set
}

// hasDeliverableLocked reports whether an unblocked signal is pending.
func (t *Task) hasDeliverableLocked() bool {
	return (t.pending.set|t.tg.pending.set)&^t.sigMask != 0
}

// blocksLocked reports whether t blocks sig, counting what sigtimedwait
// unblocked only to wait for it.
func (t *Task) blocksLocked(sig int32) bool {
	return (t.sigMask|t.waitMask)&SigBit(sig) != 0
}

// ignoredLocked reports whether sig would be ignored on delivery.
func (tg *ThreadGroup) ignoredLocked(sig int32) bool {
	a := tg.handlers.actions[sig]
	return a.Handler == linux.SIG_IGN || (a.Handler == linux.SIG_DFL && defaultActionOf(sig) == actIgnore)
}

// SendSignal queues si to the thread group (kill) and wakes a task to
// handle it.
func (tg *ThreadGroup) SendSignal(si *SigInfo) error {
	k := tg.k
	k.mu.Lock()
	defer k.mu.Unlock()
	return tg.sendLocked(si, nil)
}

// SendSignal queues si to this task (tgkill).
func (t *Task) SendSignal(si *SigInfo) error {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	return t.tg.sendLocked(si, t)
}

// queueTimerSignal sends a POSIX timer's signal and reports whether it
// was queued (not discarded as ignored or already pending).
func (tg *ThreadGroup) queueTimerSignal(si *SigInfo, target *Task) bool {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	queued, _ := tg.queueLocked(si, target)
	return queued
}

// sendLocked delivers a signal to tg, targeted at task target if non-nil.
func (tg *ThreadGroup) sendLocked(si *SigInfo, target *Task) error {
	_, err := tg.queueLocked(si, target)
	return err
}

// queueLocked is sendLocked that also reports whether si was queued.
func (tg *ThreadGroup) queueLocked(si *SigInfo, target *Task) (bool, error) {
	sig := si.Signo
	if sig == 0 {
		return false, nil
	}
	if sig < 0 || sig > linux.NSIG {
		return false, unix.EINVAL
	}
	if tg.exiting || tg.zombie {
		return false, nil
	}
	// Stop and continue signals cancel each other when sent.
	switch {
	case defaultActionOf(sig) == actStop:
		tg.pending.discard(int32(unix.SIGCONT))
		for _, t := range tg.tasks {
			t.pending.discard(int32(unix.SIGCONT))
		}
	case sig == int32(unix.SIGCONT):
		for _, s := range []unix.Signal{unix.SIGSTOP, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU} {
			tg.pending.discard(int32(s))
			for _, t := range tg.tasks {
				t.pending.discard(int32(s))
			}
		}
		tg.continueLocked()
	}
	if sig == int32(unix.SIGKILL) {
		tg.exitGroupLocked(killedStatus(unix.SIGKILL))
		return false, nil
	}
	if tg.ignoredLocked(sig) && !(target != nil && target.blocksLocked(sig)) {
		// Ignored signals are discarded unless blocked (they may be
		// unignored before they are unblocked).
		blocked := true
		for _, t := range tg.tasks {
			if !t.blocksLocked(sig) {
				blocked = false
			}
		}
		if !blocked {
			return false, nil
		}
	}
	if target != nil {
		queued := target.pending.enqueue(si)
		if queued {
			tg.sigWaiters.Notify(waiter.EventIn)
		}
		target.wake()
		return queued, nil
	}
	queued := tg.pending.enqueue(si)
	if queued {
		tg.sigWaiters.Notify(waiter.EventIn)
	}
	// Wake one task that does not block it (prefer the leader).
	for _, t := range tg.tasks {
		if t.sigMask&SigBit(sig) == 0 && !t.exiting {
			t.wake()
			break
		}
	}
	return queued, nil
}

// continueLocked resumes a stopped group.
func (tg *ThreadGroup) continueLocked() {
	wasStopped := tg.groupStopped || tg.stopPending
	tg.stopPending = false
	if tg.groupStopped {
		tg.groupStopped = false
		for _, t := range tg.tasks {
			t.stopped = false
			t.wake()
		}
	}
	if wasStopped {
		tg.continueEvent = true
		tg.stopEvent = 0
		if p := tg.parent; p != nil {
			p.notifyChildWaitLocked()
			if p.handlers.actions[unix.SIGCHLD].Flags&linux.SA_NOCLDSTOP == 0 {
				p.sendLocked(&SigInfo{Signo: int32(unix.SIGCHLD), Code: linux.CLD_CONTINUED, Child: true,
					PID: tg.leader.tid, UID: int32(tg.leader.Creds().RealUID), Status: int32(unix.SIGCONT)}, nil)
			}
		}
	}
}

// forceSignal delivers a synchronous fault signal: if blocked or ignored it
// is unblocked and reset to the default action, as Linux does.
func (t *Task) forceSignal(si *SigInfo, ev platform.Event) {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	a := &t.tg.handlers.actions[si.Signo]
	if t.sigMask&SigBit(si.Signo) != 0 || a.Handler == linux.SIG_IGN {
		a.Handler = linux.SIG_DFL
		t.sigMask &^= SigBit(si.Signo)
	}
	si.PID = 0
	t.pending.enqueue(si)
	t.faultEvent = ev
}

// SigAltStack returns the alternate signal stack.
func (t *Task) SigAltStack() linux.SignalStack {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	st := t.altStack
	if st.Size == 0 {
		st.Flags = linux.SS_DISABLE
	} else if t.onAltStackLocked(t.State.Regs.Rsp) {
		st.Flags |= linux.SS_ONSTACK
	}
	return st
}

// SetSigAltStack changes the alternate signal stack.
func (t *Task) SetSigAltStack(st linux.SignalStack) error {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	if t.onAltStackLocked(t.State.Regs.Rsp) {
		return unix.EPERM
	}
	mode := int32(uint32(st.Flags) &^ linux.SS_AUTODISARM)
	switch mode {
	case linux.SS_DISABLE:
		t.altStack = linux.SignalStack{}
		return nil
	case 0, linux.SS_ONSTACK:
	default:
		return unix.EINVAL
	}
	if st.Size < linux.MINSIGSTKSZ {
		return unix.ENOMEM
	}
	st.Flags = int32(uint32(st.Flags) & linux.SS_AUTODISARM)
	t.altStack = st
	return nil
}

func (t *Task) onAltStackLocked(sp uint64) bool {
	s := t.altStack
	return s.Size != 0 && sp > uint64(s.Sp) && sp-uint64(s.Sp) <= s.Size
}
