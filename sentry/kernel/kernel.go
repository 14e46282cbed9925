// Package kernel is the sentry's kernel: tasks (one goroutine each) and
// thread groups, the PID namespace, credentials, signals, futexes, timers,
// clone/execve/exit/wait, and the dispatch of guest system calls to the
// handlers registered by package syscalls.
package kernel

import (
	"fmt"
	"io"
	"log"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/platform"
	"github.com/runsc-lite/runsc-lite/sentry/ipc"
	"github.com/runsc-lite/runsc-lite/sentry/memfile"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
	"github.com/runsc-lite/runsc-lite/vfs"
)

// SyscallFn handles one system call. It returns the value for RAX or an
// error (a unix.Errno, or ERESTART* via the Restart* errors).
type SyscallFn func(t *Task, a *SyscallArgs) (uint64, error)

// Syscall is one entry of the syscall table.
type Syscall struct {
	Name string
	Fn   SyscallFn
	// Partial says what Fn leaves out of the Linux call (flags,
	// commands or modes it rejects or ignores); empty when Fn implements
	// the whole call. `runsc-lite syscalls` and docs/syscalls.md show it.
	Partial string
}

// SyscallArgs are the six argument registers.
type SyscallArgs [6]uint64

// Kernel is one sandbox's kernel.
type Kernel struct {
	MemFile  *memfile.File
	Platform platform.Platform
	Syscalls []Syscall // indexed by number; nil Fn is ENOSYS

	// BackingFiles are the files the platform maps guest memory from, in
	// its order: MemFile first (New sets just that), then any file that
	// holds one file system's data (the root overlay's over a host
	// file). Set before the first process.
	BackingFiles memfile.Files

	// Log receives debug and strace output; never nil.
	Log    *log.Logger
	Strace bool

	// mu protects the task tree, thread group state, signal state and
	// wait state of every task. One lock keeps those interactions
	// (signals racing exits racing waits) simple to reason about.
	mu      sync.Mutex
	tasks   map[int32]*Task // by TID
	nextTID int32
	init    *ThreadGroup
	live    int // tasks not yet fully exited
	mmUsers map[*mm.MM]int

	// MaxTasks, if positive, bounds the tasks (threads) of the sandbox:
	// clone fails with EAGAIN beyond it. Set before the first process.
	MaxTasks int

	// UnprivilegedPortStart is the lowest inet port a guest without
	// CAP_NET_BIND_SERVICE may bind (net.ipv4.ip_unprivileged_port_start
	// of the sandbox's network namespace). Set before the first process.
	UnprivilegedPortStart int

	futexes futexTable

	// IPC is the System V IPC namespace (one per sandbox).
	IPC *ipc.Namespace

	hostnameMu sync.Mutex
	hostname   string
	domainname string

	bootTime time.Time
	memTotal uint64 // bytes of "RAM": /proc/meminfo's MemTotal, sysinfo's totalram

	vfs *vfs.VFS

	// PageCache holds pages of host files mapped by guests.
	PageCache *mm.PageCache

	// Controlling terminals of sessions (tty.go).
	ttyOnce sync.Once
	ttyTab  *ttyTable

	// MapVDSO maps the vDSO into a new image and returns its address; nil
	// means no vDSO (every clock read traps).
	MapVDSO func(m *mm.MM) (uint64, error)

	// Clock is the guest's time (New: the host's clocks). A kernel with
	// a vDSO reads it where the vDSO does. Set before the first process.
	Clock *Clock

	// Objects shared by the whole sandbox that the syscall layer owns
	// (VFS, mount namespace, IPC namespaces, network stack...).
	Ext any

	unimplemented sync.Map // syscall number -> struct{}: logged once

	exitOnce   sync.Once
	exitStatus int
	done       chan struct{}
}

// New creates a kernel.
func New(mf *memfile.File, p platform.Platform, table []Syscall, logw io.Writer) *Kernel {
	if logw == nil {
		logw = io.Discard
	}
	return &Kernel{
		MemFile:      mf,
		BackingFiles: memfile.Files{mf},
		Platform:     p,
		Syscalls:     table,
		Log:          log.New(logw, "", log.Lmicroseconds),
		tasks:        make(map[int32]*Task),
		nextTID:      1,
		hostname:     "runsc-lite",
		bootTime:     hostBootTime(),
		Clock:        NewClock(nil),
		memTotal:     memTotal(mf),
		done:         make(chan struct{}),
		IPC:          ipc.NewNamespace(),
	}
}

// Hostname returns the UTS hostname and domain name.
func (k *Kernel) Hostname() (string, string) {
	k.hostnameMu.Lock()
	defer k.hostnameMu.Unlock()
	return k.hostname, k.domainname
}

// SetHostname sets the UTS hostname.
func (k *Kernel) SetHostname(h string) {
	k.hostnameMu.Lock()
	k.hostname = h
	k.hostnameMu.Unlock()
}

// SetDomainname sets the UTS domain name.
func (k *Kernel) SetDomainname(d string) {
	k.hostnameMu.Lock()
	k.domainname = d
	k.hostnameMu.Unlock()
}

// The kernel's identity, as uname(2) and /proc report it.
const (
	OSType    = "Linux"
	OSRelease = "6.12.0"
	OSVersion = "#1 SMP PREEMPT_DYNAMIC Sun Jan 1 00:00:00 UTC 2023"
)

// hostBootTime returns when the host booted: guests read CLOCK_BOOTTIME
// from the vDSO, so /proc/uptime, /proc/stat's btime and process start
// times count from the same instant (Linux: uptime is CLOCK_BOOTTIME).
// It falls back to now if the clock cannot be read.
func hostBootTime() time.Time {
	now := time.Now()
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return now
	}
	return now.Add(-time.Duration(ts.Nano()))
}

// memTotal returns the memory the guest is told it has: the host's RAM,
// or the memory file if that is smaller (1 GiB if neither is known).
func memTotal(mf *memfile.File) uint64 {
	var total uint64
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err == nil {
		total = si.Totalram * uint64(si.Unit)
	}
	if mf != nil {
		if sz := uint64(mf.Size()); sz > 0 && (total == 0 || sz < total) {
			total = sz
		}
	}
	if total == 0 {
		total = 1 << 30
	}
	return total
}

// MemTotal returns the guest's total memory in bytes (meminfo, sysinfo).
func (k *Kernel) MemTotal() uint64 { return k.memTotal }

// BootTime returns when the (host) system booted.
func (k *Kernel) BootTime() time.Time { return k.bootTime }

// Wait blocks until the init process has exited and every task is gone, and
// returns the exit status for the host (0-255, 128+N after signal N).
func (k *Kernel) Wait() int {
	<-k.done
	return k.exitStatus
}

// SetMaxTasks changes the task limit (MaxTasks) of a running sandbox;
// n <= 0 removes it. Tasks beyond a lowered limit keep running.
func (k *Kernel) SetMaxTasks(n int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.MaxTasks = n
}

// Done is closed when the sandbox has finished.
func (k *Kernel) Done() <-chan struct{} { return k.done }

// allocTID returns a free thread ID. Caller holds k.mu.
func (k *Kernel) allocTIDLocked() int32 {
	for {
		tid := k.nextTID
		k.nextTID++
		if k.nextTID >= 1<<22 {
			k.nextTID = 300
		}
		if _, used := k.tasks[tid]; !used && k.tgByPGIDLocked(tid) == nil && k.sessionUsedLocked(tid) == false {
			return tid
		}
	}
}

func (k *Kernel) tgByPGIDLocked(pgid int32) *ThreadGroup {
	for _, t := range k.tasks {
		if t.tg.pgid == pgid {
			return t.tg
		}
	}
	return nil
}

func (k *Kernel) sessionUsedLocked(sid int32) bool {
	for _, t := range k.tasks {
		if t.tg.sid == sid {
			return true
		}
	}
	return false
}

// TaskByTID returns the task with the given TID, or nil.
func (k *Kernel) TaskByTID(tid int32) *Task {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.tasks[tid]
}

// ThreadGroups returns every live thread group leader's TGID, sorted.
func (k *Kernel) ThreadGroups() []*ThreadGroup {
	k.mu.Lock()
	defer k.mu.Unlock()
	seen := map[*ThreadGroup]bool{}
	var out []*ThreadGroup
	for _, t := range k.tasks {
		if !seen[t.tg] {
			seen[t.tg] = true
			out = append(out, t.tg)
		}
	}
	sortTGs(out)
	return out
}

// logUnimplemented logs an unknown syscall once.
func (k *Kernel) logUnimplemented(nr uint64) {
	if _, dup := k.unimplemented.LoadOrStore(nr, struct{}{}); !dup {
		name := fmt.Sprintf("#%d", nr)
		if nr < uint64(len(k.Syscalls)) && k.Syscalls[nr].Name != "" {
			name = k.Syscalls[nr].Name
		}
		k.Log.Printf("unimplemented syscall %s", name)
	}
}
