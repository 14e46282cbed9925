package kernel

import (
	"sort"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/vfs/waiter"
)

// ThreadGroup is a guest process.
type ThreadGroup struct {
	k      *Kernel
	leader *Task
	tasks  []*Task // live tasks; protected by k.mu

	// Protected by k.mu.
	parent       *ThreadGroup
	children     map[*ThreadGroup]struct{}
	handlers     *SignalHandlers
	pending      sigQueue
	pgid, sid    int32
	exiting      bool  // exit_group or fatal signal in progress
	exitStatus   int32 // wait status once exiting
	zombie       bool  // all tasks exited, waiting to be reaped
	reaped       bool
	exitSignal   int32 // signal sent to the parent on exit
	stopPending  bool  // a group stop was requested
	groupStopped bool  // all tasks are stopped
	stopSignal   int32
	// waitEvent records stop/continue events for wait(WUNTRACED|WCONTINUED).
	stopEvent     int32 // signal that stopped us, consumed by wait
	continueEvent bool
	subreaper     bool
	execed        bool          // has called execve: its parent may no longer setpgid it
	childWait     chan struct{} // closed and replaced when a child changes state

	Limits *Limits

	// onExit, for a process started from outside the sandbox
	// (CreateProcess), receives its host exit status.
	onExit func(status int)

	// CPU time of reaped children.
	childUtime, childStime int64
	// CPU time of the group's threads that have exited.
	deadUtime, deadStime int64

	// Timers.
	timers *tgTimers

	// sigWaiters are notified when a signal is queued (signalfd).
	sigWaiters waiter.Queue
	// exitWaiters are notified when the group exits and is reaped
	// (pidfds).
	exitWaiters waiter.Queue

	// Per-process state owned by the syscall layer (e.g. /proc info).
	// Its owner replaces it (on exec) and never mutates it in place:
	// fork shares the parent's value with the child.
	Ext any
}

// Leader returns the thread group leader.
func (tg *ThreadGroup) Leader() *Task { return tg.leader }

// ID returns the TGID.
func (tg *ThreadGroup) ID() int32 { return tg.leader.tid }

// Parent returns the parent's TGID (0 for init).
func (tg *ThreadGroup) PPID() int32 {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	if tg.parent == nil {
		return 0
	}
	return tg.parent.leader.tid
}

// PGID returns the process group ID.
func (tg *ThreadGroup) PGID() int32 {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.pgid
}

// SID returns the session ID.
func (tg *ThreadGroup) SID() int32 {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.sid
}

// Tasks returns the live tasks.
func (tg *ThreadGroup) Tasks() []*Task {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return append([]*Task(nil), tg.tasks...)
}

// State returns a /proc state letter.
func (tg *ThreadGroup) StateLetter() byte {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	switch {
	case tg.zombie:
		return 'Z'
	case tg.groupStopped:
		return 'T'
	}
	return 'S'
}

// Children returns the TGIDs of live children.
func (tg *ThreadGroup) NumThreads() int {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return len(tg.tasks)
}

// CPUTimes returns the group's user and system time in ns (live and
// exited threads) and its reaped children's.
func (tg *ThreadGroup) CPUTimes() (user, sys, cuser, csys int64) {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	user, sys = tg.cpuTimesLocked()
	return user, sys, tg.childUtime, tg.childStime
}

func (tg *ThreadGroup) cpuTimesLocked() (user, sys int64) {
	user, sys = tg.deadUtime, tg.deadStime
	for _, t := range tg.tasks {
		u, s := t.CPUTimes()
		user += u
		sys += s
	}
	return user, sys
}

func sortTGs(tgs []*ThreadGroup) {
	sort.Slice(tgs, func(i, j int) bool { return tgs[i].leader.tid < tgs[j].leader.tid })
}

// notifyParentLocked wakes waiters in the parent.
func (tg *ThreadGroup) notifyChildWaitLocked() {
	close(tg.childWait)
	tg.childWait = make(chan struct{})
}

// exitGroup makes every task of the group exit with the given wait status.
func (tg *ThreadGroup) exitGroup(status int32) {
	k := tg.k
	k.mu.Lock()
	defer k.mu.Unlock()
	tg.exitGroupLocked(status)
}

func (tg *ThreadGroup) exitGroupLocked(status int32) {
	if tg.exiting {
		return
	}
	tg.exiting = true
	tg.exitStatus = status
	tg.stopPending, tg.groupStopped = false, false
	for _, t := range tg.tasks {
		t.exiting = true
		t.wake()
	}
}

// killedStatus is the wait status of a process killed by sig.
func killedStatus(sig unix.Signal) int32 { return int32(sig) & 0x7f }

// exitedStatus is the wait status of a process that exited with code.
func exitedStatus(code int) int32 { return int32(code&0xff) << 8 }

// Limits are a process's resource limits.
type Limits struct {
	l [16]unix.Rlimit
}

// DefaultLimits are the limits of the first process.
func DefaultLimits() *Limits {
	inf := unix.Rlimit{Cur: ^uint64(0), Max: ^uint64(0)}
	l := &Limits{}
	for i := range l.l {
		l.l[i] = inf
	}
	l.l[unix.RLIMIT_STACK] = unix.Rlimit{Cur: 8 << 20, Max: ^uint64(0)}
	l.l[unix.RLIMIT_NOFILE] = unix.Rlimit{Cur: 1024, Max: 1 << 20}
	l.l[unix.RLIMIT_NPROC] = unix.Rlimit{Cur: 1 << 16, Max: 1 << 16}
	l.l[unix.RLIMIT_CORE] = unix.Rlimit{Cur: 0, Max: ^uint64(0)}
	l.l[unix.RLIMIT_MEMLOCK] = unix.Rlimit{Cur: 8 << 20, Max: 8 << 20}
	l.l[unix.RLIMIT_MSGQUEUE] = unix.Rlimit{Cur: 819200, Max: 819200}
	l.l[unix.RLIMIT_SIGPENDING] = unix.Rlimit{Cur: 1 << 16, Max: 1 << 16}
	l.l[unix.RLIMIT_RTPRIO] = unix.Rlimit{}
	l.l[unix.RLIMIT_NICE] = unix.Rlimit{}
	return l
}

// Get returns limit r.
func (tg *ThreadGroup) GetLimit(r int) unix.Rlimit {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.Limits.l[r]
}

// SetLimit sets limit r; raising Max needs CAP_SYS_RESOURCE (privileged).
func (tg *ThreadGroup) SetLimit(r int, v unix.Rlimit, privileged bool) (unix.Rlimit, error) {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	old := tg.Limits.l[r]
	if v.Cur > v.Max {
		return old, unix.EINVAL
	}
	if v.Max > old.Max && !privileged {
		return old, unix.EPERM
	}
	if r == unix.RLIMIT_NOFILE && v.Max > 1<<20 {
		return old, unix.EPERM
	}
	tg.Limits.l[r] = v
	return old, nil
}

// Get returns limit r.
func (l *Limits) Get(r int) unix.Rlimit { return l.l[r] }

// Set sets limit r (setup before the process runs; SetLimit checks a
// guest's request).
func (l *Limits) Set(r int, v unix.Rlimit) {
	if r >= 0 && r < len(l.l) {
		l.l[r] = v
	}
}

func (l *Limits) copy() *Limits {
	c := *l
	return &c
}

// SetPGID implements setpgid for target tg by caller.
func (k *Kernel) SetPGID(caller *ThreadGroup, pid, pgid int32) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	target := caller
	if pid != 0 && pid != caller.leader.tid {
		t := k.tasks[pid]
		if t == nil || t.tg.leader != t {
			return unix.ESRCH
		}
		target = t.tg
		if target.parent != caller {
			return unix.ESRCH
		}
		if target.sid != caller.sid {
			return unix.EPERM
		}
		if target.execed {
			return unix.EACCES
		}
	}
	if pgid == 0 {
		pgid = target.leader.tid
	}
	if pgid < 0 {
		return unix.EINVAL
	}
	if target.leader.tid == target.sid {
		return unix.EPERM // session leader
	}
	if pgid != target.leader.tid {
		// Must join an existing group in the same session.
		found := false
		for _, t := range k.tasks {
			if t.tg.pgid == pgid && t.tg.sid == target.sid {
				found = true
				break
			}
		}
		if !found {
			return unix.EPERM
		}
	}
	target.pgid = pgid
	return nil
}

// Setsid makes tg a session and group leader.
func (k *Kernel) Setsid(tg *ThreadGroup) (int32, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	id := tg.leader.tid
	for _, t := range k.tasks {
		if t.tg != tg && t.tg.pgid == id {
			return 0, unix.EPERM
		}
	}
	if tg.pgid == id {
		return 0, unix.EPERM
	}
	tg.sid, tg.pgid = id, id
	return id, nil
}

// GetPGIDOf returns the process group of pid (0: caller).
func (k *Kernel) GetPGIDOf(caller *ThreadGroup, pid int32) (int32, error) {
	if pid == 0 {
		return caller.PGID(), nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	t := k.tasks[pid]
	if t == nil {
		return 0, unix.ESRCH
	}
	return t.tg.pgid, nil
}

// GetSIDOf returns the session of pid (0: caller).
func (k *Kernel) GetSIDOf(caller *ThreadGroup, pid int32) (int32, error) {
	if pid == 0 {
		return caller.SID(), nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	t := k.tasks[pid]
	if t == nil {
		return 0, unix.ESRCH
	}
	return t.tg.sid, nil
}

// SetSubreaper marks tg as a child subreaper.
func (tg *ThreadGroup) SetSubreaper(on bool) {
	tg.k.mu.Lock()
	tg.subreaper = on
	tg.k.mu.Unlock()
}

// Subreaper reports the child subreaper flag.
func (tg *ThreadGroup) Subreaper() bool {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.subreaper
}

// Uptime returns the guest's CLOCK_BOOTTIME, as Linux's /proc/uptime.
func (k *Kernel) Uptime() time.Duration { return time.Duration(k.Clock.now(unix.CLOCK_BOOTTIME)) }

var _ = linux.SIGRTMIN
