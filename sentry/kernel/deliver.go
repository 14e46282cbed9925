package kernel

import (
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
)

// handleSignalsAndStops runs between guest executions: it handles exit,
// group stops, syscall restart and signal delivery. It returns true when the
// task must exit.
func (t *Task) handleSignalsAndStops() bool {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	for {
		if t.exiting || t.tg.exiting {
			return true
		}
		if t.tg.stopPending || t.stopped {
			t.enterStopLocked()
			continue
		}
		si := t.pending.dequeue(t.sigMask)
		if si == nil {
			si = t.tg.pending.dequeue(t.sigMask)
		}
		if si == nil {
			t.finishSyscallLocked(false, false)
			if t.haveSavedMask {
				t.sigMask, t.haveSavedMask = t.savedMask, false
			}
			return false
		}
		act := t.tg.handlers.actions[si.Signo]
		if act.Handler == linux.SIG_IGN {
			continue
		}
		if act.Handler == linux.SIG_DFL {
			switch defaultActionOf(si.Signo) {
			case actIgnore, actContinue:
				continue
			case actStop:
				if si.Signo != int32(unix.SIGSTOP) && t.k.orphanedPgrpLocked(t.tg.pgid) {
					continue // job control stops of orphaned groups are discarded
				}
				t.tg.stopPending = true
				t.tg.stopSignal = si.Signo
				for _, o := range t.tg.tasks {
					o.wake()
				}
				continue
			default:
				status := killedStatus(unix.Signal(si.Signo))
				if defaultActionOf(si.Signo) == actCore {
					status |= 0 // no core dumps in the sandbox (RLIMIT_CORE is 0 by default)
				}
				t.tg.exitGroupLocked(status)
				return true
			}
		}
		t.finishSyscallLocked(true, act.Flags&linux.SA_RESTART != 0)
		mask := t.sigMask
		if t.haveSavedMask {
			mask, t.haveSavedMask = t.savedMask, false
		}
		if err := t.setupFrameLocked(si, &act, mask); err != nil {
			// Cannot build the frame: the process dies with SIGSEGV.
			t.tg.exitGroupLocked(killedStatus(unix.SIGSEGV))
			return true
		}
		newMask := t.sigMask | act.Mask
		if act.Flags&linux.SA_NODEFER == 0 {
			newMask |= SigBit(si.Signo)
		}
		t.sigMask = newMask &^ unblockable
		if act.Flags&linux.SA_RESETHAND != 0 {
			t.tg.handlers.actions[si.Signo] = SigAction{}
		}
		// Like Linux, keep going: every signal still deliverable under
		// the handler's mask gets a frame above this one, so the last
		// one set up runs first.
	}
}

// finishSyscallLocked applies the restart rules to a syscall that returned
// an ERESTART* code: handler says whether a signal handler is about to run,
// saRestart whether it has SA_RESTART.
func (t *Task) finishSyscallLocked(handler, saRestart bool) {
	r := &t.State.Regs
	ret := int64(r.Rax)
	if ret > -linux.ERESTARTSYS || ret < -linux.ERESTART_RESTARTBLOCK || r.OrigRax == ^uint64(0) {
		return
	}
	restart := false
	switch -ret {
	case linux.ERESTARTNOINTR:
		restart = true
	case linux.ERESTARTSYS:
		restart = !handler || saRestart
	case linux.ERESTARTNOHAND, linux.ERESTART_RESTARTBLOCK:
		restart = !handler
	default:
		return
	}
	if !restart {
		r.Rax = errnoRet(unix.EINTR)
		return
	}
	if -ret == linux.ERESTART_RESTARTBLOCK {
		r.Rax = uint64(unix.SYS_RESTART_SYSCALL)
	} else {
		r.Rax = r.OrigRax
	}
	r.Rip -= 2 // back over the syscall instruction
	r.OrigRax = ^uint64(0)
}

// enterStopLocked parks the task in a group stop until SIGCONT or SIGKILL.
func (t *Task) enterStopLocked() {
	k := t.k
	tg := t.tg
	t.stopped = true
	all := true
	for _, o := range tg.tasks {
		if !o.stopped {
			all = false
		}
	}
	if all && tg.stopPending {
		tg.stopPending = false
		tg.groupStopped = true
		tg.stopEvent = tg.stopSignal
		tg.continueEvent = false
		if p := tg.parent; p != nil {
			p.notifyChildWaitLocked()
			if p.handlers.actions[unix.SIGCHLD].Flags&linux.SA_NOCLDSTOP == 0 {
				p.sendLocked(&SigInfo{Signo: int32(unix.SIGCHLD), Code: linux.CLD_STOPPED, Child: true,
					PID: tg.leader.tid, UID: int32(tg.leader.Creds().RealUID), Status: tg.stopSignal}, nil)
			}
		}
	}
	for t.stopped && !t.exiting && !tg.exiting {
		k.mu.Unlock()
		<-t.interrupt
		k.mu.Lock()
		if !tg.groupStopped && !tg.stopPending {
			t.stopped = false
		}
	}
	t.stopped = false
}
