package kernel

import (
	"encoding/binary"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/platform"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
)

// InitOpts describes the first process, or a process started from
// outside the sandbox (CreateProcess).
type InitOpts struct {
	MM    *mm.MM
	Entry uint64
	Stack uint64
	Files *FDTable
	FS    *FSContext
	Creds *Credentials
	Name  string
	// Limits are the process's resource limits; nil means DefaultLimits.
	Limits *Limits
	// NoNewPrivs sets the no_new_privs bit before the process runs.
	NoNewPrivs bool
	// BeforeStart, if set, is called with the new process's pid just
	// before it first runs (with the kernel locked: it must not call
	// back into the kernel's locked paths).
	BeforeStart func(pid int32)
}

// CreateInit creates PID 1 and starts it.
func (k *Kernel) CreateInit(o InitOpts) (*Task, error) {
	return k.createProcess(o, true, nil)
}

// CreateProcess creates a process started from outside the sandbox (an
// OCI exec): it has no parent in the sandbox (getppid returns 0, as for a
// process that joined the namespaces from outside), leads a session of
// its own, and onExit receives its exit status for the host (0-255,
// 128+N after signal N) once it has exited. Init must exist.
func (k *Kernel) CreateProcess(o InitOpts, onExit func(status int)) (*Task, error) {
	return k.createProcess(o, false, onExit)
}

func (k *Kernel) createProcess(o InitOpts, init bool, onExit func(int)) (*Task, error) {
	ctx, err := k.Platform.NewContext()
	if err != nil {
		return nil, fmt.Errorf("new context: %w", err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if !init && (k.init == nil || k.init.exiting) {
		ctx.Release()
		return nil, unix.ESRCH
	}
	t := k.newTaskLocked(ctx)
	t.mm = o.MM
	t.Files, t.FS = o.Files, o.FS
	t.creds.Store(o.Creds)
	t.name = truncName(o.Name)
	t.noNewPrivs.Store(o.NoNewPrivs)
	limits := o.Limits
	if limits == nil {
		limits = DefaultLimits()
	}
	tg := &ThreadGroup{k: k, leader: t, tasks: []*Task{t}, children: map[*ThreadGroup]struct{}{},
		handlers: &SignalHandlers{}, Limits: limits, exitSignal: int32(unix.SIGCHLD),
		childWait: make(chan struct{}), timers: newTGTimers(), onExit: onExit}
	tg.pgid, tg.sid = t.tid, t.tid
	t.tg = tg
	if init {
		k.init = tg
	}
	k.mmUsersLocked(t.mm, 1)
	t.State.Regs.Rip = o.Entry
	t.State.Regs.Rsp = o.Stack
	t.State.Regs.Eflags = 0x202
	t.State.Regs.OrigRax = ^uint64(0)
	if o.BeforeStart != nil {
		o.BeforeStart(t.tid)
	}
	t.start()
	return t, nil
}

func truncName(n string) string {
	if len(n) > 15 {
		return n[:15]
	}
	return n
}

// newTaskLocked allocates a task with a fresh TID and registers it.
func (k *Kernel) newTaskLocked(ctx platform.Context) *Task {
	t := &Task{k: k, ctx: ctx, tid: k.allocTIDLocked(), interrupt: make(chan struct{}, 1),
		startTime: time.Now()}
	k.tasks[t.tid] = t
	k.live++
	return t
}

// mmUsersLocked adjusts the count of tasks using m and releases it at zero.
func (k *Kernel) mmUsersLocked(m *mm.MM, delta int) {
	if k.mmUsers == nil {
		k.mmUsers = make(map[*mm.MM]int)
	}
	k.mmUsers[m] += delta
	if k.mmUsers[m] <= 0 {
		delete(k.mmUsers, m)
		m.ReleaseExe() // now, not in the background: see MM.ReleaseExe
		m.ReleaseDetached()
		go m.Release()
	}
}

// CloneArgs are the arguments of clone(2).
type CloneArgs struct {
	Flags     uint64
	Stack     uint64
	ParentTID uint64
	ChildTID  uint64
	TLS       uint64
	// NewThreadGroup, if set, sees the child's thread group before the
	// child runs (CLONE_PIDFD). It runs with the kernel lock held: it
	// must not call back into the kernel.
	NewThreadGroup func(*ThreadGroup)
}

// Clone creates a new task and returns its TID in the caller's namespace.
func (t *Task) Clone(a CloneArgs) (int32, error) {
	f := a.Flags
	const nsFlags = linux.CLONE_NEWNS | linux.CLONE_NEWUTS | linux.CLONE_NEWIPC | linux.CLONE_NEWUSER |
		linux.CLONE_NEWPID | linux.CLONE_NEWNET | linux.CLONE_NEWCGROUP
	// Invalid combinations are EINVAL before any permission check, as in
	// Linux's copy_process.
	switch {
	case f&linux.CLONE_SIGHAND != 0 && f&linux.CLONE_VM == 0,
		f&linux.CLONE_THREAD != 0 && f&linux.CLONE_SIGHAND == 0,
		f&linux.CLONE_FS != 0 && f&(linux.CLONE_NEWNS|linux.CLONE_NEWUSER) != 0,
		f&linux.CLONE_THREAD != 0 && f&(linux.CLONE_NEWUSER|linux.CLONE_NEWPID) != 0,
		f&linux.CLONE_PARENT != 0 && t.tg == t.k.init: // init has no parent to share
		return 0, unix.EINVAL
	case f&nsFlags != 0:
		return 0, unix.EPERM
	case f&linux.CLONE_PIDFD != 0 && (a.NewThreadGroup == nil || f&(linux.CLONE_THREAD|linux.CLONE_DETACHED) != 0):
		// A pidfd names a new thread group, made by the caller's hook.
		return 0, unix.EINVAL
	}
	k := t.k
	ctx, err := k.Platform.NewContext()
	if err != nil {
		return 0, unix.EAGAIN
	}
	var m *mm.MM
	if f&linux.CLONE_VM != 0 {
		m = t.mm
	} else {
		if m, err = t.mm.Fork(k.Platform, t.ctx); err != nil {
			ctx.Release()
			return 0, unix.ENOMEM
		}
	}
	files := t.Files
	if f&linux.CLONE_FILES != 0 {
		files.incRef()
	} else {
		files = files.Fork()
	}
	fsc := t.FS
	if f&linux.CLONE_FS != 0 {
		fsc.incRef()
	} else {
		fsc = fsc.Fork()
	}

	k.mu.Lock()
	var failed error
	switch {
	case t.tg.exiting:
		failed = unix.EINTR
	case k.MaxTasks > 0 && k.live >= k.MaxTasks:
		// The sandbox's task limit (an OCI pids limit), like a full
		// pids cgroup: fork fails, the sandbox goes on.
		failed = unix.EAGAIN
	}
	if failed != nil {
		k.mu.Unlock()
		ctx.Release()
		files.decRef(t.VFSContext())
		fsc.decRef()
		if m != t.mm {
			m.Release()
		}
		return 0, failed
	}
	c := k.newTaskLocked(ctx)
	c.mm = m
	k.mmUsersLocked(m, 1)
	c.Files, c.FS = files, fsc
	c.creds.Store(t.Creds())
	c.name = t.name
	c.sigMask = t.sigMask
	c.nice.Store(t.nice.Load())
	c.sched.Store(t.sched.Load())
	c.personality.Store(t.personality.Load())
	c.noNewPrivs.Store(t.noNewPrivs.Load())
	c.seccomp.Store(t.seccomp.Load())
	if f&linux.CLONE_VM == 0 || f&linux.CLONE_VFORK != 0 {
		c.altStack = t.altStack
	}
	c.State.Regs = t.State.Regs
	c.State.FP = append([]byte(nil), t.State.FP...)
	if len(t.State.FP) == 0 {
		c.State.FP = nil
	}
	r := &c.State.Regs
	r.Rax = 0
	r.OrigRax = ^uint64(0)
	if a.Stack != 0 {
		r.Rsp = a.Stack
	}
	if f&linux.CLONE_SETTLS != 0 {
		r.FsBase = a.TLS
	}
	if f&linux.CLONE_THREAD != 0 {
		c.tg = t.tg
		t.tg.tasks = append(t.tg.tasks, c)
	} else {
		parent := t.tg
		if f&linux.CLONE_PARENT != 0 && t.tg.parent != nil {
			parent = t.tg.parent
		}
		handlers := t.tg.handlers
		if f&linux.CLONE_SIGHAND == 0 {
			handlers = handlers.copy()
		}
		tg := &ThreadGroup{k: k, leader: c, tasks: []*Task{c}, children: map[*ThreadGroup]struct{}{},
			handlers: handlers, Limits: t.tg.Limits.copy(), parent: parent,
			pgid: t.tg.pgid, sid: t.tg.sid, exitSignal: int32(f & linux.CSIGNAL),
			childWait: make(chan struct{}), timers: newTGTimers(),
			// The child runs the same executable (/proc/PID/exe), as
			// Linux's mm->exe_file is inherited by fork.
			Ext: t.tg.Ext}
		parent.children[tg] = struct{}{}
		c.tg = tg
		if a.NewThreadGroup != nil {
			a.NewThreadGroup(tg)
		}
	}
	if f&linux.CLONE_CHILD_CLEARTID != 0 {
		c.clearChildTID = a.ChildTID
	}
	if f&linux.CLONE_VFORK != 0 {
		c.vforkDone = make(chan struct{})
	}
	tid := c.tid
	vfork := c.vforkDone
	k.mu.Unlock()

	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(tid))
	if f&linux.CLONE_PARENT_SETTID != 0 {
		t.mm.CopyOut(a.ParentTID, b[:])
	}
	if f&linux.CLONE_CHILD_SETTID != 0 {
		m.CopyOut(a.ChildTID, b[:])
	}
	c.start()
	if vfork != nil {
		// The parent waits, uninterruptibly except by fatal signals, until
		// the child execs or exits (Linux: TASK_KILLABLE, shown as D).
		defer t.sleep('D')()
		for {
			select {
			case <-vfork:
				return tid, nil
			case <-t.interrupt:
				k.mu.Lock()
				dying := t.exiting || t.tg.exiting
				k.mu.Unlock()
				if dying {
					return tid, nil
				}
			}
		}
	}
	return tid, nil
}
