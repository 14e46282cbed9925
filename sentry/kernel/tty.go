package kernel

// Controlling terminals: the kernel side of job control. A session's
// controlling terminal is recorded here (by session ID); the terminal side
// (foreground process group, the ioctls, line disciplines) is vfs/jobctl's.
// The task's vfs.Context (taskMemory) implements jobctl.Process, and
// devfs's TTYOpener for /dev/tty.

import (
	"sync"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/jobctl"
)

// ttyTable maps sessions to their controlling terminals. Lock order:
// k.mu is never held while ttyTable.mu is taken; ttyTable.mu may be held
// while a jobctl.TTY's own (leaf) lock is taken.
type ttyTable struct {
	mu    sync.Mutex
	bySID map[int32]*jobctl.TTY
}

// ttys returns the kernel's session table, made on first use.
func (k *Kernel) ttys() *ttyTable {
	k.ttyOnce.Do(func() { k.ttyTab = &ttyTable{bySID: map[int32]*jobctl.TTY{}} })
	return k.ttyTab
}

// ttyKernel is the jobctl.Kernel of k.
type ttyKernel struct{ k *Kernel }

// SignalProcessGroup implements jobctl.Kernel.
func (tk ttyKernel) SignalProcessGroup(pgid, sig int32) {
	if pgid > 0 {
		tk.k.Kill(nil, -pgid, &SigInfo{Signo: sig, Code: linux.SI_KERNEL})
	}
}

// SignalProcess implements jobctl.Kernel.
func (tk ttyKernel) SignalProcess(pid, sig int32) {
	if pid > 0 {
		tk.k.Kill(nil, pid, &SigInfo{Signo: sig, Code: linux.SI_KERNEL})
	}
}

// DetachTTY implements jobctl.Kernel.
func (tk ttyKernel) DetachTTY(sid int32, t *jobctl.TTY) {
	tab := tk.k.ttys()
	tab.mu.Lock()
	defer tab.mu.Unlock()
	if tab.bySID[sid] == t {
		delete(tab.bySID, sid)
	}
}

// SetSessionTTY makes t the controlling terminal of session sid, keeping
// its foreground process group (boot: the host terminal on the sandbox's
// stdio is the controlling terminal of init's session, 1).
func (k *Kernel) SetSessionTTY(sid int32, t *jobctl.TTY) {
	tab := k.ttys()
	tab.mu.Lock()
	defer tab.mu.Unlock()
	tab.bySID[sid] = t
	pgrp, _ := t.Foreground()
	t.Attach(ttyKernel{k}, sid, pgrp)
}

// SessionTTY returns the controlling terminal of session sid, or nil.
func (k *Kernel) SessionTTY(sid int32) *jobctl.TTY {
	tab := k.ttys()
	tab.mu.Lock()
	defer tab.mu.Unlock()
	return tab.bySID[sid]
}

// jobIDs returns the process ID, process group and session of t's process.
func (t *Task) jobIDs() (pid, pgid, sid int32) {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return t.tg.leader.tid, t.tg.pgid, t.tg.sid
}

// JobIDs implements jobctl.Process.
func (m taskMemory) JobIDs() (pid, pgid, sid int32) { return m.t.jobIDs() }

// ControllingTTY implements jobctl.Process.
func (m taskMemory) ControllingTTY() *jobctl.TTY {
	_, _, sid := m.t.jobIDs()
	return m.t.k.SessionTTY(sid)
}

// SetControllingTTY implements jobctl.Process (TIOCSCTTY).
func (m taskMemory) SetControllingTTY(t *jobctl.TTY, steal bool) error {
	k := m.t.k
	pid, pgid, sid := m.t.jobIDs()
	tab := k.ttys()
	tab.mu.Lock()
	defer tab.mu.Unlock()
	if pid == sid && tab.bySID[sid] == t && t.SessionOf() == sid {
		return nil
	}
	if pid != sid || tab.bySID[sid] != nil {
		return unix.EPERM
	}
	if other := t.SessionOf(); other != 0 {
		if !steal {
			return unix.EPERM
		}
		if tab.bySID[other] == t {
			delete(tab.bySID, other)
		}
	}
	tab.bySID[sid] = t
	t.Attach(ttyKernel{k}, sid, pgid)
	return nil
}

// ReleaseControllingTTY implements jobctl.Process (TIOCNOTTY). A session
// leader gives the terminal up, and its foreground process group gets
// SIGHUP and SIGCONT; for other processes it is only checked (the
// controlling terminal is kept per session).
func (m taskMemory) ReleaseControllingTTY(t *jobctl.TTY) error {
	k := m.t.k
	pid, _, sid := m.t.jobIDs()
	tab := k.ttys()
	tab.mu.Lock()
	if tab.bySID[sid] != t {
		tab.mu.Unlock()
		return unix.ENOTTY
	}
	if pid != sid {
		tab.mu.Unlock()
		return nil
	}
	delete(tab.bySID, sid)
	tab.mu.Unlock()
	if pgrp, ok := t.Detach(sid); ok && pgrp > 0 {
		tk := ttyKernel{k}
		tk.SignalProcessGroup(pgrp, int32(unix.SIGHUP))
		tk.SignalProcessGroup(pgrp, int32(unix.SIGCONT))
	}
	return nil
}

// ProcessGroupSession implements jobctl.Process.
func (m taskMemory) ProcessGroupSession(pgid int32) (int32, error) {
	k := m.t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, o := range k.tasks {
		if o.tg.pgid == pgid && !o.tg.zombie {
			return o.tg.sid, nil
		}
	}
	return 0, unix.ESRCH
}

// CheckTTYAccess implements jobctl.Process (Linux's __tty_check_change).
func (m taskMemory) CheckTTYAccess(t *jobctl.TTY, sig int32) error {
	task := m.t
	k := task.k
	_, _, sid := task.jobIDs()
	if k.SessionTTY(sid) != t {
		return nil
	}
	fg, _ := t.Foreground()
	k.mu.Lock()
	tg := task.tg
	pgid := tg.pgid
	if fg <= 0 || pgid == fg {
		k.mu.Unlock()
		return nil
	}
	ignored := task.sigMask&SigBit(sig) != 0 || tg.handlers.actions[sig].Handler == linux.SIG_IGN
	if ignored || tg == k.init || k.orphanedPgrpLocked(pgid) {
		k.mu.Unlock()
		if ignored && sig == int32(unix.SIGTTOU) {
			return nil
		}
		return unix.EIO
	}
	k.mu.Unlock()
	ttyKernel{k}.SignalProcessGroup(pgid, sig)
	return ErrRestartSys
}

// orphanedPgrpLocked reports whether process group pgid is orphaned: no
// member that has not exited has a parent in another process group of the
// same session (Linux's will_become_orphaned_pgrp). No job-control shell
// can continue such a group: its SIGTSTP, SIGTTIN and SIGTTOU stops are
// discarded and its terminal reads fail with EIO.
func (k *Kernel) orphanedPgrpLocked(pgid int32) bool {
	for _, o := range k.tasks {
		tg := o.tg
		if tg.pgid != pgid || tg.zombie || tg.leader != o {
			continue
		}
		if p := tg.parent; p != nil && p.pgid != pgid && p.sid == tg.sid {
			return false
		}
	}
	return true
}

// hangUpOrphanedLocked is Linux's kill_orphaned_pgrp, run when tg exits:
// a process group that tg's exit leaves orphaned (tg, or tg as the parent
// of a member, was its last link to another group of the session) and that
// has stopped members gets SIGHUP and SIGCONT, since no shell could ever
// continue it.
func (k *Kernel) hangUpOrphanedLocked(tg *ThreadGroup, formerChildren []*ThreadGroup) {
	var pgids []int32
	if p := tg.parent; p != nil && p.pgid != tg.pgid && p.sid == tg.sid {
		pgids = append(pgids, tg.pgid)
	}
	for _, c := range formerChildren {
		if c.pgid != tg.pgid && c.sid == tg.sid {
			pgids = append(pgids, c.pgid)
		}
	}
	for _, pgid := range pgids {
		if !k.orphanedPgrpLocked(pgid) || !k.pgrpHasStoppedLocked(pgid) {
			continue
		}
		for _, sig := range []unix.Signal{unix.SIGHUP, unix.SIGCONT} {
			for _, o := range k.tasks {
				if m := o.tg; m.leader == o && m.pgid == pgid && !m.zombie {
					m.sendLocked(&SigInfo{Signo: int32(sig), Code: linux.SI_KERNEL}, nil)
				}
			}
		}
	}
}

// pgrpHasStoppedLocked reports whether a process of group pgid is stopped.
func (k *Kernel) pgrpHasStoppedLocked(pgid int32) bool {
	for _, o := range k.tasks {
		if m := o.tg; m.leader == o && m.pgid == pgid && !m.zombie && (m.groupStopped || m.stopPending) {
			return true
		}
	}
	return false
}

// InstallFD implements jobctl.Process.
func (m taskMemory) InstallFD(f *vfs.File, cloexec bool) (int32, error) {
	return m.t.NewFD(f, cloexec)
}

// OpenControllingTerminal implements devfs.TTYOpener: /dev/tty.
func (m taskMemory) OpenControllingTerminal(flags uint32) (vfs.FileImpl, error) {
	t := m.ControllingTTY()
	if t == nil || t.Open == nil {
		return nil, unix.ENXIO
	}
	return t.Open(m, flags)
}

// exitTTY runs when a task exits (before it is removed from its process):
// the last task of a session leader gives up the session's controlling
// terminal, whose foreground process group gets SIGHUP.
func (t *Task) exitTTY() {
	k := t.k
	k.mu.Lock()
	tg := t.tg
	last := tg != nil && len(tg.tasks) == 1 && tg.tasks[0] == t && tg.sid == tg.leader.tid && tg != k.init
	sid := int32(0)
	if tg != nil {
		sid = tg.sid
	}
	k.mu.Unlock()
	if !last {
		return
	}
	tab := k.ttys()
	tab.mu.Lock()
	tty := tab.bySID[sid]
	delete(tab.bySID, sid)
	tab.mu.Unlock()
	if tty == nil {
		return
	}
	if pgrp, ok := tty.Detach(sid); ok && pgrp > 0 {
		ttyKernel{k}.SignalProcessGroup(pgrp, int32(unix.SIGHUP))
	}
}

var _ jobctl.Process = taskMemory{}
