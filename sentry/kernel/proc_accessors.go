package kernel

// Read-only accessors used by procfs (/proc). They only read state, taking
// k.mu where the state it protects is involved.

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
	"github.com/runsc-lite/runsc-lite/vfs"
)

// TaskFromContext returns the task behind a vfs.Context made by
// Task.VFSContext (or the *Task itself), or nil for kernel-internal contexts.
func TaskFromContext(ctx vfs.Context) *Task {
	switch c := ctx.(type) {
	case taskMemory:
		return c.t
	case *taskMemory:
		if c != nil {
			return c.t
		}
	case *Task:
		return c
	}
	return nil
}

// Alive reports whether the task is still registered under its TID (a
// zombie thread group leader is; an exited thread or a reaped process is
// not).
func (t *Task) Alive() bool {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return t.k.tasks[t.tid] == t
}

// Faults returns the number of page faults the task took.
func (t *Task) Faults() int64 { return t.faults.Load() }

// MMSafe returns the task's address space, reading the pointer under k.mu
// (execve replaces it under that lock).
func (t *Task) MMSafe() *mm.MM {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return t.mm
}

// FilesAndFS returns the task's FD table and FS context pointers, read under
// k.mu (they may be nil for a task that never ran).
func (t *Task) FilesAndFS() (*FDTable, *FSContext) {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return t.Files, t.FS
}

// StateLetter returns the /proc state letter of this thread: 'Z' once it
// has exited (or its process is a zombie), 'T' when stopped, 'S' or 'D'
// while it sleeps in the sentry (see Task.sleeping), else 'R' (running
// guest code or serving a system call).
func (t *Task) StateLetter() byte {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	tg := t.tg
	if tg == nil {
		return 'S'
	}
	if tg.zombie {
		return 'Z'
	}
	live := false
	for _, o := range tg.tasks {
		if o == t {
			live = true
			break
		}
	}
	switch {
	case !live:
		return 'Z'
	case t.stopped || tg.groupStopped:
		return 'T'
	}
	if s := t.sleeping.Load(); s != 0 {
		return byte(s)
	}
	return 'R'
}

// ProcSignalState is a snapshot of a task's signal state for
// /proc/PID/status and stat.
type ProcSignalState struct {
	Pending       SigSet // the thread's own pending signals
	SharedPending SigSet // the process's pending signals
	Blocked       SigSet
	Ignored       SigSet
	Caught        SigSet
	Queued        int // queued siginfos (task + process)
}

// ProcSignalState returns the task's signal state.
func (t *Task) ProcSignalState() ProcSignalState {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	s := ProcSignalState{Pending: t.pending.set, Blocked: t.sigMask, Queued: len(t.pending.entries)}
	tg := t.tg
	if tg == nil {
		return s
	}
	s.SharedPending = tg.pending.set
	s.Queued += len(tg.pending.entries)
	if tg.handlers != nil {
		for sig := int32(1); sig <= linux.NSIG; sig++ {
			switch a := tg.handlers.actions[sig]; a.Handler {
			case linux.SIG_IGN:
				s.Ignored |= SigBit(sig)
			case linux.SIG_DFL:
			default:
				s.Caught |= SigBit(sig)
			}
		}
	}
	return s
}

// ExitSignal returns the signal sent to the parent when the process exits.
func (tg *ThreadGroup) ExitSignal() int32 {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.exitSignal
}

// ExitStatus returns the process's wait status and whether it is exiting
// (or a zombie).
func (tg *ThreadGroup) ExitStatus() (int32, bool) {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.exitStatus, tg.exiting
}

// IsZombie reports whether every task of the process has exited.
func (tg *ThreadGroup) IsZombie() bool {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.zombie
}

// Kernel returns the process's kernel.
func (tg *ThreadGroup) Kernel() *Kernel { return tg.k }

// LastPID returns the most recently allocated TID (/proc/loadavg).
func (k *Kernel) LastPID() int32 {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.nextTID - 1
}

// TaskCounts returns the number of live (not exited) tasks and of
// registered TIDs (live tasks plus zombie leaders).
func (k *Kernel) TaskCounts() (live, registered int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.live, len(k.tasks)
}

// InitThreadGroup returns PID 1's thread group (nil before CreateInit).
func (k *Kernel) InitThreadGroup() *ThreadGroup {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.init
}

// ProcStartTime returns when the kernel booted and when the task started.
func (t *Task) ProcStartTime() (boot, start time.Time) { return t.k.bootTime, t.startTime }

// WithFile calls fn with the file at fd and its close-on-exec flag while
// holding the table's lock, without taking a file reference (fn must not
// block or call back into the table). EBADF if fd is not open.
func (f *FDTable) WithFile(fd int32, fn func(file *vfs.File, cloexec bool)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fd < 0 || int(fd) >= len(f.fds) || f.fds[fd].file == nil {
		return unix.EBADF
	}
	e := f.fds[fd]
	fn(e.file, e.cloexec)
	return nil
}

// Size returns the number of slots of the table (/proc/PID/status FDSize).
func (f *FDTable) Size() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.fds)
}
