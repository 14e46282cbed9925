package kernel

import (
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
)

// Kill implements kill(2) semantics for pid > 0, 0, -1 and < -1.
func (k *Kernel) Kill(sender *Task, pid int32, si *SigInfo) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	var targets []*ThreadGroup
	seen := map[*ThreadGroup]bool{}
	add := func(tg *ThreadGroup) {
		if !seen[tg] && !tg.zombie {
			seen[tg] = true
			targets = append(targets, tg)
		}
	}
	switch {
	case pid > 0:
		// Any thread's ID names its process, as on Linux.
		t := k.tasks[pid]
		if t == nil {
			return unix.ESRCH
		}
		if t.tg.zombie {
			return sender.signalPermLocked(t.tg.leader, si.Signo)
		}
		add(t.tg)
	case pid == -1:
		for _, t := range k.tasks {
			if t.tg != sender.tg && t.tg != k.init {
				add(t.tg)
			}
		}
	default:
		pgid := -pid
		if pid == 0 {
			pgid = sender.tg.pgid
		}
		for _, t := range k.tasks {
			if t.tg.pgid == pgid {
				add(t.tg)
			}
		}
	}
	if len(targets) == 0 {
		return unix.ESRCH
	}
	// A group (or everyone) is signalled if any member may be; kill(-1)
	// does not report EPERM at all.
	var err error
	sent := false
	for _, tg := range targets {
		if e := sender.signalPermLocked(tg.leader, si.Signo); e != nil {
			err = e
			continue
		}
		sent = true
		k.sendFilteredLocked(tg, si, nil)
	}
	if sent || pid == -1 {
		return nil
	}
	return err
}

// SendTo sends si from sender to target's process, or to target itself
// when thread is set (tgkill, rt_tgsigqueueinfo), after the permission
// check.
func (k *Kernel) SendTo(sender, target *Task, si *SigInfo, thread bool) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := sender.signalPermLocked(target, si.Signo); err != nil {
		return err
	}
	tg := target.tg
	if !thread {
		target = nil
	}
	return k.sendFilteredLocked(tg, si, target)
}

// sendFilteredLocked sends a signal generated inside the sandbox: init
// drops what it would not accept from its own namespace.
func (k *Kernel) sendFilteredLocked(tg *ThreadGroup, si *SigInfo, target *Task) error {
	if tg == k.init && si.Signo != 0 && !k.initAcceptsLocked(si.Signo) {
		return nil
	}
	return tg.sendLocked(si, target)
}

// signalPermLocked is Linux's check_kill_permission: a task may signal
// its own process, a task whose real or saved uid matches its real or
// effective uid, anyone with CAP_KILL, and send SIGCONT within its
// session.
func (sender *Task) signalPermLocked(target *Task, sig int32) error {
	if sender == nil || sender.tg == target.tg {
		return nil
	}
	c, tc := sender.Creds(), target.Creds()
	if c.EffectiveUID == tc.SavedUID || c.EffectiveUID == tc.RealUID ||
		c.RealUID == tc.SavedUID || c.RealUID == tc.RealUID || c.HasCap(unix.CAP_KILL) {
		return nil
	}
	if sig == int32(unix.SIGCONT) && sender.tg.sid == target.tg.sid {
		return nil
	}
	return unix.EPERM
}

// initAcceptsLocked reports whether init takes sig from inside its
// namespace: signals that would take init's default action are dropped, as
// on Linux, unless init blocks them (it may then take them with sigwait or a
// signalfd).
func (k *Kernel) initAcceptsLocked(sig int32) bool {
	if sig == int32(unix.SIGKILL) || sig == int32(unix.SIGSTOP) {
		return false
	}
	if k.init.handlers.actions[sig].Handler != linux.SIG_DFL {
		return true
	}
	for _, t := range k.init.tasks {
		if t.sigMask&SigBit(sig) != 0 {
			return true
		}
	}
	return false
}

// SignalInitFromHost delivers sig to init as Linux delivers a signal from an
// ancestor PID namespace (runc's and so Docker's kill of a container):
// SIGKILL and SIGSTOP always arrive, any other signal only if init would
// take it from its own namespace (it has a handler, or blocks it). So a
// shell that traps nothing outlives SIGTERM, and `docker stop` escalates to
// SIGKILL as it does with runc.
func (k *Kernel) SignalInitFromHost(sig int32) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.init == nil || k.init.zombie {
		return
	}
	if sig != int32(unix.SIGKILL) && sig != int32(unix.SIGSTOP) && !k.initAcceptsLocked(sig) {
		return
	}
	k.init.sendLocked(&SigInfo{Signo: sig, Code: linux.SI_USER}, nil)
}

// IsInit reports whether tg is the sandbox's init process.
func (k *Kernel) IsInit(tg *ThreadGroup) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return tg == k.init
}

// SendExternalSignal delivers a signal from outside the sandbox (the host
// forwarding SIGINT/SIGTERM) to process group pgid, or to init when pgid is
// 0, with Linux's "from the parent namespace" rules: init does not filter
// it.
func (k *Kernel) SendExternalSignal(sig, pgid int32) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.init == nil {
		return
	}
	si := &SigInfo{Signo: sig, Code: linux.SI_KERNEL}
	if pgid <= 0 {
		k.init.sendLocked(si, nil)
		return
	}
	seen := map[*ThreadGroup]bool{}
	for _, t := range k.tasks {
		if tg := t.tg; tg.pgid == pgid && !seen[tg] {
			seen[tg] = true
			c := *si
			tg.sendLocked(&c, nil)
		}
	}
}

// WaitSignal dequeues a pending signal in set, waiting until one arrives or
// the deadline passes (sigtimedwait).
func (t *Task) WaitSignal(set SigSet, deadline Deadline) (*SigInfo, error) {
	for {
		t.k.mu.Lock()
		si := t.pending.dequeue(^set)
		if si == nil {
			si = t.tg.pending.dequeue(^set)
		}
		if si != nil {
			t.k.mu.Unlock()
			return si, nil
		}
		// Let signals in the set wake us even if they are blocked.
		old := t.sigMask
		t.sigMask &^= set
		t.waitMask = old
		t.k.mu.Unlock()
		err := t.Block(nil, deadline)
		t.k.mu.Lock()
		t.sigMask, t.waitMask = old, 0
		si = t.pending.dequeue(^set)
		if si == nil {
			si = t.tg.pending.dequeue(^set)
		}
		t.k.mu.Unlock()
		if si != nil {
			return si, nil
		}
		if err == unix.ETIMEDOUT {
			return nil, unix.EAGAIN
		}
		if err != nil {
			return nil, ErrRestartNoHand
		}
	}
}
