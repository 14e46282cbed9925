package sandbox

import (
	"runtime"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/gofer"
)

// GoferCapabilities is the capability bounding set the gofer is started
// with: what it uses before gofer.Setup drops the rest. Mounts and
// pivot_root need CAP_SYS_ADMIN, shrinking the bounding set CAP_SETPCAP,
// and it keeps its file capabilities (gofer.KeptCapabilities) to serve
// files.
func GoferCapabilities() uint64 {
	return 1<<unix.CAP_SYS_ADMIN | 1<<unix.CAP_SETPCAP | gofer.KeptCapabilities()
}

// SentryCapabilities is the capability bounding set the sentry is started
// with: what it uses before Confine drops everything. Mounts, pivot_root
// and sethostname need CAP_SYS_ADMIN, chroot CAP_SYS_CHROOT, emptying the
// bounding set CAP_SETPCAP, the network namespace's set-up (loopback,
// addresses, routes, sysctls) CAP_NET_ADMIN, and opening the debug log in
// any directory CAP_DAC_OVERRIDE; and what Confine keeps
// (KeptCapabilities, FileCapabilities). A set-up step that needs another
// capability must add it here.
func SentryCapabilities() uint64 {
	return 1<<unix.CAP_SYS_ADMIN | 1<<unix.CAP_SYS_CHROOT | 1<<unix.CAP_SETPCAP |
		1<<unix.CAP_NET_ADMIN | 1<<unix.CAP_DAC_OVERRIDE | KeptCapabilities | FileCapabilities
}

// A launcher is an OS thread that forks sandbox processes. Its capability
// bounding set holds only the capabilities they need: a process inherits
// the bounding set of the thread that forks it, and execve gives root
// nothing outside it, so the gofer and the sentry start without the
// capabilities they would otherwise drop first thing, at the cost of a
// stop-the-world each (syscall.AllThreadsSyscall, 0.1 ms, and far more on
// a loaded machine, where every thread must be scheduled). Its ambient set
// is empty too. The bounding set is per thread: the launcher's goroutine
// keeps the thread to itself (runtime.LockOSThread), and the thread lives
// as long as the process, because the children's Pdeathsig fires when the
// thread that forked them exits.
//
// There is one per capability set and process: an OS thread is a
// process-wide resource, and launches are rare. Launches on different
// ones run in parallel.
var launchers struct {
	mu     sync.Mutex
	byCaps map[uint64]*launcher
}

type launcher struct {
	mu   sync.Mutex // held for a whole launch
	jobs chan job   // nil until the thread runs, or after it ended
}

// A job is a function for a launcher thread; the thread sends on done
// whether it lives on.
type job struct {
	fn   func()
	done chan<- bool
}

// onLauncher runs fn on the launcher thread whose bounding set is caps,
// and returns fn's error. fn must leave the thread as it found it
// (namespaces); if it does not, the thread ends after fn and a new one
// serves the next call.
func onLauncher(caps uint64, fn func() error) error {
	launchers.mu.Lock()
	l := launchers.byCaps[caps]
	if l == nil {
		if launchers.byCaps == nil {
			launchers.byCaps = map[uint64]*launcher{}
		}
		l = &launcher{}
		launchers.byCaps[caps] = l
	}
	launchers.mu.Unlock()

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.jobs == nil {
		l.jobs = make(chan job)
		go runLauncher(caps, l.jobs)
	}
	var err error
	done := make(chan bool)
	l.jobs <- job{fn: func() { err = fn() }, done: done}
	if !<-done {
		l.jobs = nil
	}
	return err
}

// runLauncher is a launcher thread's goroutine.
func runLauncher(caps uint64, jobs <-chan job) {
	runtime.LockOSThread()
	// Never unlocked: the thread is not the runtime's to reuse.
	for c := uintptr(0); c < 64; c++ {
		if caps&(1<<c) != 0 {
			continue
		}
		// Only this thread. Without CAP_SETPCAP this fails, and the
		// children drop what they must themselves: they always check.
		if _, _, errno := unix.RawSyscall(unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, c, 0); errno == unix.EINVAL {
			break // past CAP_LAST_CAP
		}
	}
	unix.RawSyscall6(unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0, 0)
	netns := threadNetNS()
	for j := range jobs {
		j.fn()
		if threadNetNS() != netns {
			// withNetNS could not take the thread back: it ends with
			// this goroutine.
			j.done <- false
			return
		}
		j.done <- true
	}
}

// threadNetNS identifies the calling thread's network namespace (0 if it
// cannot be read).
func threadNetNS() uint64 {
	var st unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &st); err != nil {
		return 0
	}
	return st.Ino
}
