package sandbox

import (
	"runtime"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/gofer"
)

// SetupCapabilities is the capability bounding set the gofer and the
// sentry are started with: what they use before they confine themselves
// (gofer.Setup, Confine), which drops the rest. Mounts and pivot_root
// need CAP_SYS_ADMIN, chroot CAP_SYS_CHROOT, emptying the bounding set
// CAP_SETPCAP, the network namespace's set-up (loopback, addresses,
// routes, sysctls) CAP_NET_ADMIN, and the gofer keeps its file
// capabilities (gofer.KeptCapabilities) to serve files. A set-up step
// that needs another capability must add it here.
func SetupCapabilities() uint64 {
	return 1<<unix.CAP_SYS_ADMIN | 1<<unix.CAP_SYS_CHROOT | 1<<unix.CAP_SETPCAP |
		1<<unix.CAP_NET_ADMIN | gofer.KeptCapabilities()
}

// The launcher is an OS thread that forks the sandbox's processes. Its
// capability bounding set holds only SetupCapabilities: a process inherits
// the bounding set of the thread that forks it, and execve gives root
// nothing outside it, so the gofer and the sentry start without the
// capabilities they would otherwise drop first thing, at the cost of a
// stop-the-world each (syscall.AllThreadsSyscall, 75-150 us). The
// bounding set is per thread: the launcher's goroutine keeps the thread
// to itself (runtime.LockOSThread), and the thread lives as long as the
// process, because the children's Pdeathsig fires when the thread that
// forked them exits.
//
// It is one per process: an OS thread is a process-wide resource, and
// launches are rare.
var launcher struct {
	mu   sync.Mutex // held for a whole launch: they are rare
	jobs chan job   // nil until the thread runs, or after it ended
}

// A job is a function for the launcher thread; the thread sends on done
// whether it lives on.
type job struct {
	fn   func()
	done chan<- bool
}

// onLauncher runs fn on the launcher thread and returns its error. fn must
// leave the thread as it found it (namespaces); if it does not, the
// thread ends after fn and a new one serves the next call.
func onLauncher(fn func() error) error {
	launcher.mu.Lock()
	defer launcher.mu.Unlock()
	if launcher.jobs == nil {
		launcher.jobs = make(chan job)
		go runLauncher(launcher.jobs)
	}
	var err error
	done := make(chan bool)
	launcher.jobs <- job{fn: func() { err = fn() }, done: done}
	if !<-done {
		launcher.jobs = nil
	}
	return err
}

// runLauncher is the launcher thread's goroutine.
func runLauncher(jobs <-chan job) {
	runtime.LockOSThread()
	// Never unlocked: the thread is not the runtime's to reuse.
	keep := SetupCapabilities()
	for c := uintptr(0); c < 64; c++ {
		if keep&(1<<c) != 0 {
			continue
		}
		// Only this thread. Without CAP_SETPCAP this fails, and the
		// children drop what they must themselves: they always check.
		if _, _, errno := unix.RawSyscall(unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, c, 0); errno == unix.EINVAL {
			break // past CAP_LAST_CAP
		}
	}
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
