package kernel

import (
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/platform"
	"github.com/runsc-lite/runsc-lite/sentry/seccomp"
)

// Seccomp modes (PR_GET_SECCOMP).
const (
	SeccompModeDisabled = 0
	SeccompModeStrict   = 1
	SeccompModeFilter   = 2
)

// seccompState is a task's seccomp mode and filter chain. It never changes
// once published: tasks that inherit it share it.
type seccompState struct {
	mode   int
	filter *seccomp.Filter
}

// strictAllowed are the only system calls of SECCOMP_MODE_STRICT.
var strictAllowed = map[uint64]bool{
	unix.SYS_READ: true, unix.SYS_WRITE: true, unix.SYS_EXIT: true, unix.SYS_RT_SIGRETURN: true,
}

// SeccompMode returns the task's seccomp mode.
func (t *Task) SeccompMode() int {
	if s := t.seccomp.Load(); s != nil {
		return s.mode
	}
	return SeccompModeDisabled
}

// SeccompFilters returns the number of filters the task runs per system
// call.
func (t *Task) SeccompFilters() int {
	if s := t.seccomp.Load(); s != nil {
		return s.filter.Count()
	}
	return 0
}

// SetSeccompStrict enters SECCOMP_MODE_STRICT; a task with filters cannot.
func (t *Task) SetSeccompStrict() error {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	if s := t.seccomp.Load(); s != nil && s.mode != SeccompModeStrict {
		return unix.EINVAL
	}
	t.seccomp.Store(&seccompState{mode: SeccompModeStrict})
	return nil
}

// AddSeccompFilter installs p on top of the task's filters. With tsync every
// thread of the process gets the new chain, which requires each to have no
// filter or an ancestor of the caller's; otherwise nothing changes and the
// first thread that cannot follow is returned.
func (t *Task) AddSeccompFilter(p *seccomp.Program, tsync bool) (failed int32, err error) {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	cur := t.seccomp.Load()
	var prev *seccomp.Filter
	if cur != nil {
		if cur.mode != SeccompModeFilter {
			return 0, unix.EINVAL
		}
		prev = cur.filter
	}
	if tsync {
		for _, o := range t.tg.tasks {
			if o == t || o.exiting {
				continue
			}
			os := o.seccomp.Load()
			if os != nil && (os.mode != SeccompModeFilter || !prev.Descends(os.filter)) {
				return o.tid, nil
			}
		}
	}
	f, err := seccomp.Attach(prev, p)
	if err != nil {
		return 0, err
	}
	s := &seccompState{mode: SeccompModeFilter, filter: f}
	t.seccomp.Store(s)
	if tsync {
		nnp := t.NoNewPrivs()
		for _, o := range t.tg.tasks {
			if !o.exiting {
				o.seccomp.Store(s)
				if nnp {
					// Synchronized threads also get no_new_privs, as in Linux.
					o.noNewPrivs.Store(true)
				}
			}
		}
	}
	return 0, nil
}

// seccompAllows applies the task's seccomp state to system call nr before
// it is served. When the call must not run it reports false, having set the
// return value or arranged the signal or exit the action asks for.
func (t *Task) seccompAllows(s *seccompState, nr uint64, args *SyscallArgs) bool {
	r := &t.State.Regs
	if s.mode == SeccompModeStrict {
		if strictAllowed[nr] {
			return true
		}
		t.exitThread(killedStatus(unix.SIGKILL))
		return false
	}
	d := seccomp.Data{Nr: int32(nr), Arch: unix.AUDIT_ARCH_X86_64, InstructionPointer: r.Rip}
	copy(d.Args[:], args[:])
	ret := s.filter.Evaluate(&d)
	data := ret & seccomp.RetData
	switch ret & seccomp.RetActionFull {
	case seccomp.RetAllow, seccomp.RetLog:
		return true
	case seccomp.RetErrno:
		r.Rax = uint64(-int64(min(data, linux.MAX_ERRNO)))
	case seccomp.RetTrace, seccomp.RetUserNotif:
		// No tracer or listener can be attached: Linux fails the call.
		r.Rax = errnoRet(unix.ENOSYS)
	case seccomp.RetTrap:
		// The handler sees the system call number where the return
		// value would be, as after Linux's syscall_rollback.
		r.Rax = nr
		t.forceSignal(&SigInfo{Signo: int32(unix.SIGSYS), Code: linux.SYS_SECCOMP, Errno: int32(data),
			SyscallNr: int32(nr), SyscallAddr: r.Rip}, platform.Event{})
	case seccomp.RetKillThread:
		if t.tg.NumThreads() > 1 {
			t.exitThread(killedStatus(unix.SIGSYS))
			return false
		}
		t.tg.exitGroup(killedStatus(unix.SIGSYS))
	default:
		// SECCOMP_RET_KILL_PROCESS and any action Linux does not know.
		t.tg.exitGroup(killedStatus(unix.SIGSYS))
	}
	return false
}

// exitThread ends the task alone with the given wait status, which becomes
// the process's if it is the last thread.
func (t *Task) exitThread(status int32) {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	if !t.exiting {
		t.exiting = true
		t.exitCode = status
	}
	t.wake()
}
