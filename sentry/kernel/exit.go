package kernel

import (
	"encoding/binary"
	"github.com/runsc-lite/runsc-lite/vfs/waiter"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
)

// Exit makes the calling thread exit with code (exit(2)).
func (t *Task) Exit(code int) {
	t.k.mu.Lock()
	if !t.exiting {
		t.exiting = true
		t.exitCode = exitedStatus(code)
	}
	t.k.mu.Unlock()
}

// ExitGroup makes the whole process exit with code (exit_group(2)).
func (t *Task) ExitGroup(code int) {
	t.tg.exitGroup(exitedStatus(code))
}

// exitFinal runs on the task's goroutine once it leaves the run loop.
func (t *Task) exitFinal() {
	k := t.k
	t.exitRobustList()
	k.futexExitPI(t)
	if t.clearChildTID != 0 {
		var zero [4]byte
		if _, err := t.mm.CopyOut(t.clearChildTID, zero[:]); err == nil {
			k.FutexWake(t, t.clearChildTID, true, 1, linux.FUTEX_BITSET_MATCH_ANY)
		}
	}
	t.ctx.Release()
	t.Files.decRef(t.VFSContext())
	t.FS.decRef()
	t.exitTTY()

	k.mu.Lock()
	defer k.mu.Unlock()
	if t.vforkDone != nil {
		close(t.vforkDone)
		t.vforkDone = nil
	}
	k.mmUsersLocked(t.mm, -1)
	tg := t.tg
	for i, o := range tg.tasks {
		if o == t {
			tg.tasks = append(tg.tasks[:i], tg.tasks[i+1:]...)
			u, s := t.CPUTimes()
			tg.deadUtime += u
			tg.deadStime += s
			break
		}
	}
	if t != tg.leader {
		delete(k.tasks, t.tid)
	}
	k.live--
	if len(tg.tasks) == 0 {
		tg.becomeZombieLocked(t)
	}
	k.maybeFinishLocked()
}

// becomeZombieLocked runs when the last task of tg has exited.
func (tg *ThreadGroup) becomeZombieLocked(last *Task) {
	k := tg.k
	// SEM_UNDO adjustments are the process's; the IPC namespace never
	// takes k.mu, so this nests safely.
	k.IPC.ProcessExited(tg.leader.tid)
	if !tg.exiting {
		tg.exiting = true
		tg.exitStatus = tg.leader.exitCode
		if last.exitCode != 0 && tg.leader.exitCode == 0 && last != tg.leader {
			tg.exitStatus = tg.leader.exitCode
		}
	}
	tg.zombie = true
	tg.exitWaiters.Notify(waiter.EventIn | waiter.EventRdNorm)
	tg.timers.stopAll()
	// Reparent children to the nearest subreaper or to init.
	reaper := k.init
	for p := tg.parent; p != nil; p = p.parent {
		if p.subreaper && !p.exiting {
			reaper = p
			break
		}
	}
	formerChildren := make([]*ThreadGroup, 0, len(tg.children))
	for c := range tg.children {
		formerChildren = append(formerChildren, c)
		delete(tg.children, c)
		if c.leader.pdeathSig != 0 {
			c.sendLocked(&SigInfo{Signo: c.leader.pdeathSig, Code: linux.SI_USER}, nil)
		}
		if tg == k.init || reaper == nil || reaper == tg {
			c.parent = nil
			if c.zombie {
				c.reapLocked()
			}
			continue
		}
		c.parent = reaper
		// A clone()d child's exit signal was chosen for its old parent;
		// Linux's reparent_leader resets it to SIGCHLD ("we don't want
		// people slaying init"): a fuzzer's clone(SIGFPE) child outliving
		// its parent killed init, and with it the sandbox.
		c.exitSignal = int32(unix.SIGCHLD)
		reaper.children[c] = struct{}{}
		if c.zombie {
			reaper.notifyChildWaitLocked()
			reaper.sendLocked(c.childSigInfoLocked(), nil)
		}
	}
	k.hangUpOrphanedLocked(tg, formerChildren)
	if tg == k.init {
		// The sandbox ends with its init: everything else is killed.
		k.exitStatus = hostStatus(tg.exitStatus)
		for _, o := range k.tasks {
			o.tg.exitGroupLocked(killedStatus(unix.SIGKILL))
		}
		tg.reapLocked()
		return
	}
	p := tg.parent
	if p == nil {
		tg.reapLocked()
		if tg.onExit != nil {
			// Not under k.mu: the callback belongs to the host side.
			go tg.onExit(hostStatus(tg.exitStatus))
		}
		return
	}
	if tg.exitSignal == int32(unix.SIGCHLD) {
		a := p.handlers.actions[unix.SIGCHLD]
		if a.Handler == linux.SIG_IGN || a.Flags&linux.SA_NOCLDWAIT != 0 {
			// Auto-reap, but still wake waiters so they see ECHILD;
			// with SA_NOCLDWAIT the parent still gets its SIGCHLD.
			si := tg.childSigInfoLocked()
			delete(p.children, tg)
			tg.reapLocked()
			if a.Handler != linux.SIG_IGN {
				p.sendLocked(si, nil)
			}
			p.notifyChildWaitLocked()
			return
		}
	}
	// init drops signals that would take its default action, as from
	// kill(2): a child clone()d by init itself with exit signal SIGSEGV
	// must not kill the sandbox.
	if tg.exitSignal != 0 && (p != k.init || k.initAcceptsLocked(tg.exitSignal)) {
		p.sendLocked(tg.childSigInfoLocked(), nil)
	}
	p.notifyChildWaitLocked()
}

// childSigInfoLocked is the SIGCHLD siginfo for a zombie.
func (tg *ThreadGroup) childSigInfoLocked() *SigInfo {
	code, status := int32(linux.CLD_EXITED), (tg.exitStatus>>8)&0xff
	if s := tg.exitStatus & 0x7f; s != 0 {
		code, status = linux.CLD_KILLED, s
	}
	sig := tg.exitSignal
	if sig == 0 {
		sig = int32(unix.SIGCHLD)
	}
	return &SigInfo{Signo: sig, Code: code, Child: true, PID: tg.leader.tid, UID: int32(tg.leader.Creds().RealUID),
		Status: status}
}

// reapLocked frees a zombie's TID.
func (tg *ThreadGroup) reapLocked() {
	if tg.reaped {
		return
	}
	tg.reaped = true
	delete(tg.k.tasks, tg.leader.tid)
	tg.exitWaiters.Notify(waiter.EventIn | waiter.EventRdNorm | waiter.EventHUp)
}

// hostStatus converts a wait status to a shell-style exit code.
func hostStatus(ws int32) int {
	if sig := ws & 0x7f; sig != 0 {
		return 128 + int(sig)
	}
	return int(ws>>8) & 0xff
}

// maybeFinishLocked ends the sandbox once init and every task are gone.
func (k *Kernel) maybeFinishLocked() {
	if k.live == 0 && k.init != nil && k.init.zombie {
		k.exitOnce.Do(func() { close(k.done) })
	}
}

// exitRobustList walks the robust futex list at thread exit, marking held
// locks FUTEX_OWNER_DIED and waking a waiter of each.
func (t *Task) exitRobustList() {
	head := t.robustList
	if head == 0 {
		return
	}
	var buf [24]byte
	if _, err := t.mm.CopyIn(head, buf[:]); err != nil {
		return
	}
	le := binary.LittleEndian
	next := le.Uint64(buf[0:])
	offset := int64(le.Uint64(buf[8:]))
	pending := le.Uint64(buf[16:])
	handle := func(entry uint64) {
		t.k.futexOwnerDied(t, uint64(int64(entry)+offset))
	}
	for i := 0; next != head && next != 0 && i < 2048; i++ {
		entry := next &^ 1
		var nb [8]byte
		if _, err := t.mm.CopyIn(entry, nb[:]); err != nil {
			break
		}
		next = le.Uint64(nb[:])
		if entry != pending {
			handle(entry)
		}
	}
	if pending != 0 {
		handle(pending &^ 1)
	}
}

// SetRobustList records the robust list head.
func (t *Task) SetRobustList(head uint64) { t.robustList = head }

// RobustList returns the robust list head.
func (t *Task) RobustList() uint64 { return t.robustList }

// SetClearChildTID implements set_tid_address.
func (t *Task) SetClearChildTID(addr uint64) { t.clearChildTID = addr }

// SetPdeathSig implements PR_SET_PDEATHSIG.
func (t *Task) SetPdeathSig(sig int32) {
	t.k.mu.Lock()
	t.pdeathSig = sig
	t.k.mu.Unlock()
}

// PdeathSig returns the parent-death signal.
func (t *Task) PdeathSig() int32 {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return t.pdeathSig
}

// SetNoNewPrivs sets the no_new_privs bit (one-way).
func (t *Task) SetNoNewPrivs() { t.noNewPrivs.Store(true) }

// NoNewPrivs returns the no_new_privs bit.
func (t *Task) NoNewPrivs() bool { return t.noNewPrivs.Load() }
