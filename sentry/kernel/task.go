package kernel

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/platform"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
)

// Task is a guest thread. Its goroutine runs guest code through a platform
// context and serves its system calls.
type Task struct {
	k   *Kernel
	tg  *ThreadGroup
	tid int32

	ctx   platform.Context
	State platform.State
	mm    *mm.MM

	// Files, FS and Creds may be shared with other tasks (CLONE_FILES,
	// CLONE_FS); the pointers change only on the task's own goroutine.
	Files *FDTable
	FS    *FSContext
	creds atomic.Pointer[Credentials]

	name string // comm, 15 bytes max

	// Protected by k.mu.
	sigMask       SigSet
	savedMask     SigSet
	haveSavedMask bool
	// waitMask is the mask sigtimedwait lifted its set from: those
	// signals still count as blocked, so ignored ones are kept for it
	// (Linux's real_blocked).
	waitMask      SigSet
	pending       sigQueue
	exiting       bool
	exitCode      int32 // wait status of this thread when it exits
	stopped       bool  // in a group stop
	clearChildTID uint64
	robustList    uint64
	altStack      linux.SignalStack
	vforkDone     chan struct{}
	pdeathSig     int32
	faultEvent    platform.Event // hardware details of a forced fault signal
	// noNewPrivs is read by /proc and set by other threads (TSYNC).
	noNewPrivs atomic.Bool

	// seccomp is the task's seccomp mode and filters (nil: none). Only k.mu
	// holders change it; the task reads it on every system call.
	seccomp atomic.Pointer[seccompState]

	// interrupt wakes a blocked task; buffered with capacity 1.
	interrupt chan struct{}
	// sleeping is the /proc state of a task asleep in the sentry: 'S'
	// (Block: interruptible) or 'D' (the vfork and exec waits, which
	// only a fatal signal ends); 0 while it runs.
	sleeping atomic.Uint32
	// restart is the syscall's restart function for
	// ERESTART_RESTARTBLOCK (nanosleep).
	restartBlock func(t *Task) (uint64, error)

	// Accounting.
	startTime time.Time
	stime     atomic.Int64 // ns in the sentry serving syscalls
	// User time: finished guest runs plus the one in progress, so that a
	// thread spinning in guest code shows its time as it goes.
	userMu     sync.Mutex
	utime      int64     // ns in guest, finished runs
	guestSince time.Time // start of the run in progress; zero if none
	// blocked is how long the current syscall has slept (task goroutine
	// only): sleeping is not system time.
	blocked time.Duration
	faults  atomic.Int64

	// nice is the task's nice value (-20..19; setpriority(2)).
	nice atomic.Int32
	// sched is the policy and affinity the guest set (nil: the defaults).
	sched atomic.Pointer[SchedState]
	// personality is personality(2)'s execution domain and flags.
	personality atomic.Uint32

	// Per-task state owned by the syscall layer.
	Ext any
}

// Kernel returns the task's kernel.
func (t *Task) Kernel() *Kernel { return t.k }

// Personality returns the task's personality(2) value.
func (t *Task) Personality() uint32 { return t.personality.Load() }

// SetPersonality sets it and returns the old value.
func (t *Task) SetPersonality(p uint32) uint32 { return t.personality.Swap(p) }

// Nice returns the task's nice value.
func (t *Task) Nice() int32 { return t.nice.Load() }

// SetNice sets the task's nice value (the caller clamps it to -20..19).
func (t *Task) SetNice(n int32) { t.nice.Store(n) }

// ThreadGroup returns the task's thread group.
func (t *Task) ThreadGroup() *ThreadGroup { return t.tg }

// TID returns the thread ID.
func (t *Task) TID() int32 { return t.tid }

// MM returns the task's address space.
func (t *Task) MM() *mm.MM { return t.mm }

// Creds returns the task's credentials (immutable; replace with SetCreds).
func (t *Task) Creds() *Credentials { return t.creds.Load() }

// SetCreds installs new credentials. A change of effective or file-system
// identity, or a loss of permitted capabilities, makes the process
// non-dumpable, as Linux's commit_creds does (suid_dumpable 0).
func (t *Task) SetCreds(c *Credentials) {
	old := t.creds.Swap(c)
	if old != nil && t.mm != nil && (old.EffectiveUID != c.EffectiveUID || old.EffectiveGID != c.EffectiveGID ||
		old.FSUID != c.FSUID || old.FSGID != c.FSGID || c.Permitted&^old.Permitted != 0) {
		t.mm.SetDumpable(false)
	}
}

// Name returns the task's comm.
func (t *Task) Name() string {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return t.name
}

// SetName sets the task's comm, truncated to 15 bytes.
func (t *Task) SetName(n string) {
	if len(n) > 15 {
		n = n[:15]
	}
	t.k.mu.Lock()
	t.name = n
	t.k.mu.Unlock()
}

// StartTime returns when the task was created.
func (t *Task) StartTime() time.Time { return t.startTime }

// CPUTimes returns user and system time in nanoseconds.
func (t *Task) CPUTimes() (user, sys int64) {
	t.userMu.Lock()
	user = t.utime
	if !t.guestSince.IsZero() {
		user += int64(time.Since(t.guestSince))
	}
	t.userMu.Unlock()
	return user, t.stime.Load()
}

// stackLimit is the task's RLIMIT_STACK, for mm.MM.HandleFault.
func (t *Task) stackLimit() uint64 { return t.tg.GetLimit(unix.RLIMIT_STACK).Cur }

// enterGuest and leaveGuest bracket a run of guest code for accounting.
func (t *Task) enterGuest() time.Time {
	t.userMu.Lock()
	defer t.userMu.Unlock()
	t.guestSince = time.Now()
	return t.guestSince
}

func (t *Task) leaveGuest() time.Time {
	t.userMu.Lock()
	defer t.userMu.Unlock()
	now := time.Now()
	t.utime += int64(now.Sub(t.guestSince))
	t.guestSince = time.Time{}
	return now
}

// CopyIn reads guest memory.
func (t *Task) CopyIn(addr uint64, dst []byte) (int, error) { return t.mm.CopyIn(addr, dst) }

// CopyOut writes guest memory.
func (t *Task) CopyOut(addr uint64, src []byte) (int, error) { return t.mm.CopyOut(addr, src) }

// CopyInString reads a NUL-terminated string.
func (t *Task) CopyInString(addr uint64, max int) (string, error) {
	return t.mm.CopyInString(addr, max)
}

// start launches the task's goroutine.
func (t *Task) start() {
	go t.run()
}

// errExit unwinds the run loop when the task must exit.
var errExit = errors.New("task exit")

func (t *Task) run() {
	// Each task goroutine pins its OS thread: the platform's futex waits
	// then never migrate goroutines mid-switch, and host thread churn
	// stays low.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for {
		if t.handleSignalsAndStops() {
			break
		}
		t.enterGuest()
		ev, err := t.ctx.Switch(t.mm.AddressSpace(), &t.State)
		now := t.leaveGuest()
		if err != nil {
			if errors.Is(err, platform.ErrAddressSpaceGone) {
				t.tg.exitGroup(killedStatus(unix.SIGKILL))
				continue
			}
			t.k.Log.Printf("task %d: switch: %v", t.tid, err)
			t.tg.exitGroup(killedStatus(unix.SIGKILL))
			continue
		}
		switch ev.Kind {
		case platform.EventSyscall:
			t.blocked = 0
			t.doSyscall()
			t.stime.Add(int64(time.Since(now) - t.blocked))
		case platform.EventFault:
			t.faults.Add(1)
			// RLIM_INFINITY is mm.NoStackLimit. Only a fault that would
			// grow a stack asks (GetLimit takes the kernel's lock).
			accErr, ferr := t.mm.HandleFault(uint64(ev.Addr), ev.Access, t.ctx, t.stackLimit)
			if ferr != nil {
				code := int32(linux.SEGV_MAPERR)
				if accErr {
					code = linux.SEGV_ACCERR
				}
				signo := ev.Signo
				if signo == 0 || ferr == unix.EFAULT {
					signo = int32(unix.SIGSEGV)
				}
				if ferr != unix.EFAULT {
					// Out of memory or an I/O error on a file page.
					signo, code = int32(unix.SIGBUS), 2 // BUS_ADRERR
				}
				t.k.Log.Printf("task %d: %s at %#x (%+v) rip %#x: %v", t.tid, unix.SignalName(unix.Signal(signo)), ev.Addr, ev.Access, t.State.Regs.Rip, ferr)
				t.forceSignal(&SigInfo{Signo: signo, Code: code, Addr: uint64(ev.Addr)}, ev)
			}
		case platform.EventSignal:
			t.k.Log.Printf("task %d: %s (code %d) at %#x rip %#x", t.tid, unix.SignalName(unix.Signal(ev.Signo)), ev.Code, ev.Addr, t.State.Regs.Rip)
			t.forceSignal(&SigInfo{Signo: ev.Signo, Code: ev.Code, Addr: uint64(ev.Addr)}, ev)
		case platform.EventInterrupted:
		}
	}
	t.exitFinal()
}

// doSyscall serves the system call in t.State.
func (t *Task) doSyscall() {
	r := &t.State.Regs
	nr := r.OrigRax
	args := SyscallArgs{r.Rdi, r.Rsi, r.Rdx, r.R10, r.R8, r.R9}
	var ret uint64
	var err error
	if s := t.seccomp.Load(); s != nil && !t.seccompAllows(s, nr, &args) {
		if t.k.Strace {
			t.k.Log.Printf("[%d] %s() = %s (seccomp)", t.tid, t.syscallName(nr), formatRet(r.Rax))
		}
		return
	}
	if nr < uint64(len(t.k.Syscalls)) && t.k.Syscalls[nr].Fn != nil {
		ret, err = t.k.Syscalls[nr].Fn(t, &args)
	} else {
		t.k.logUnimplemented(nr)
		err = unix.ENOSYS
	}
	if err == errSigreturn {
		// Registers were replaced wholesale.
		if t.k.Strace {
			t.k.Log.Printf("[%d] %s() = ?", t.tid, t.syscallName(nr))
		}
		return
	}
	if err != nil {
		ret = errnoRet(err)
	}
	r.Rax = ret
	if t.k.Strace {
		t.k.Log.Printf("[%d] %s(%#x, %#x, %#x, %#x, %#x, %#x) = %s", t.tid, t.syscallName(nr),
			args[0], args[1], args[2], args[3], args[4], args[5], formatRet(ret))
	}
}

func (t *Task) syscallName(nr uint64) string {
	if nr < uint64(len(t.k.Syscalls)) && t.k.Syscalls[nr].Name != "" {
		return t.k.Syscalls[nr].Name
	}
	return fmt.Sprintf("syscall_%d", nr)
}

func formatRet(r uint64) string {
	if int64(r) < 0 && int64(r) > -4096 {
		e := unix.Errno(-int64(r))
		if -int64(r) >= linux.ERESTARTSYS {
			return fmt.Sprintf("%d (restart)", int64(r))
		}
		return fmt.Sprintf("-1 %s (%v)", unix.ErrnoName(e), e)
	}
	return fmt.Sprintf("%#x", r)
}

// errnoRet converts an error to the negative errno the guest sees.
func errnoRet(err error) uint64 {
	var e unix.Errno
	if errors.As(err, &e) {
		return uint64(-int64(e))
	}
	var r restartErr
	if errors.As(err, &r) {
		return uint64(-int64(r))
	}
	eio := int64(unix.EIO)
	return uint64(-eio)
}

// restartErr is a kernel-internal restart code.
type restartErr int

func (r restartErr) Error() string { return fmt.Sprintf("restart %d", int(r)) }

// Restart errors a blocking syscall returns when a signal interrupts it.
var (
	ErrRestartSys    error = restartErr(linux.ERESTARTSYS)
	ErrRestartNoIntr error = restartErr(linux.ERESTARTNOINTR)
	ErrRestartNoHand error = restartErr(linux.ERESTARTNOHAND)
	ErrRestartBlock  error = restartErr(linux.ERESTART_RESTARTBLOCK)
	errSigreturn           = errors.New("sigreturn")
	ErrInterrupted         = errors.New("interrupted by signal")
)

// SetRestartBlock records how to restart an interrupted sleep for
// ERESTART_RESTARTBLOCK.
func (t *Task) SetRestartBlock(fn func(t *Task) (uint64, error)) { t.restartBlock = fn }

// RestartSyscall runs the recorded restart function (restart_syscall(2)).
func (t *Task) RestartSyscall() (uint64, error) {
	fn := t.restartBlock
	t.restartBlock = nil
	if fn == nil {
		return 0, unix.EINTR
	}
	return fn(t)
}

// Interrupted reports whether the task has work that must interrupt a
// blocking syscall (an unblocked pending signal, exit or stop).
func (t *Task) Interrupted() bool {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return t.interruptedLocked()
}

func (t *Task) interruptedLocked() bool {
	return t.exiting || t.tg.exiting || t.tg.stopPending || t.hasDeliverableLocked()
}

// Block waits until ch is readable, the deadline passes (zero: none) or the
// task is interrupted. It returns nil, unix.ETIMEDOUT or ErrInterrupted.
// ETIMEDOUT means the guest's clock has reached the deadline.
func (t *Task) Block(ch <-chan struct{}, deadline Deadline) error {
	if t.Interrupted() {
		return ErrInterrupted
	}
	var timeout deadlineTimer // its C is nil, never ready, without a deadline
	if !deadline.IsZero() {
		if !timeout.start(t.k.Clock, deadline) {
			return unix.ETIMEDOUT
		}
		defer timeout.stop()
	}
	// Callers register what wakes them (a futex waiter, a file's waiter
	// entry) before they block: a task /proc shows sleeping is one a
	// wake-up finds, as in Linux.
	defer t.sleep('S')()
	for {
		select {
		case <-ch:
			return nil
		case <-timeout.C:
			if timeout.expired() {
				return unix.ETIMEDOUT
			}
		case <-t.interrupt:
			if t.Interrupted() {
				return ErrInterrupted
			}
		}
	}
}

// sleep marks the task asleep in state ('S' or 'D') and returns the
// function that marks it running again and accounts for the sleep.
func (t *Task) sleep(state byte) (wake func()) {
	start := time.Now()
	t.sleeping.Store(uint32(state))
	return func() {
		t.sleeping.Store(0)
		t.noteBlocked(start)
	}
}

// noteBlocked records a sleep that began at start, for CPU accounting.
func (t *Task) noteBlocked(start time.Time) { t.blocked += time.Since(start) }

// wake interrupts the task wherever it is: in guest code or blocked.
func (t *Task) wake() {
	select {
	case t.interrupt <- struct{}{}:
	default:
	}
	t.ctx.Interrupt()
}
