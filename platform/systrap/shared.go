package systrap

import (
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// cpuRelax executes PAUSE (spin_amd64.s).
func cpuRelax()

// ctl is the sentry's view of one thread region (control page first) in
// its mapping of the stub memfd. Every value read from it may have been
// written by guest code, so callers validate what they read.
type ctl struct {
	b    []byte  // the whole region, len regionSize
	addr uintptr // where the region is mapped in the stub process
	spin *spinPolicy
}

func (c ctl) p32(off uintptr) *uint32 { return (*uint32)(unsafe.Pointer(&c.b[off])) }
func (c ctl) p64(off uintptr) *uint64 { return (*uint64)(unsafe.Pointer(&c.b[off])) }

func (c ctl) load(off uintptr) uint64     { return atomic.LoadUint64(c.p64(off)) }
func (c ctl) store(off uintptr, v uint64) { atomic.StoreUint64(c.p64(off), v) }

// stubBytes returns the sentry's view of [a, a+n) in the stub's region, or
// nil if that range is not inside [addr+lo, addr+regionSize).
func (c ctl) stubBytes(a uintptr, n, lo uintptr) []byte {
	if a < c.addr+lo || a > c.addr+regionSize || n > c.addr+regionSize-a {
		return nil
	}
	off := a - c.addr
	return c.b[off : off+n : off+n]
}

// pollInterval is how long a sleeping sentry waits before it checks that
// the stub is alive (and calls waitPost's check).
const pollInterval = 20 * time.Millisecond

// command posts op to the stub and wakes it only if it sleeps. It also
// tells the stub how long to spin for the next command (cSpin).
func (c ctl) command(op uint64) {
	atomic.StoreUint32(c.p32(cSpin), uint32(c.spin.stubBudget()))
	c.store(cOp, op)
	atomic.SwapUint32(c.p32(cState), stateCmd) // full barrier before reading cStubSleep
	if atomic.LoadUint32(c.p32(cStubSleep)) != 0 {
		futexWake(c.p32(cState))
	}
}

// waitResult says how waitPost ended.
type waitResult int

const (
	waitPosted  waitResult = iota
	waitDied               // the state word was cleared (thread exit)
	waitTimeout            // the check function said to give up
)

// spin polls the state word up to n times; it reports whether the stub
// posted or (zeroIsDeath) died meanwhile, with the result, and how many
// polls it made.
func spin(st *uint32, zeroIsDeath bool, n int) (r waitResult, done bool, polls int) {
	for i := 0; i < n; i++ {
		switch atomic.LoadUint32(st) {
		case statePosted:
			return waitPosted, true, i
		case stateDead:
			if zeroIsDeath {
				return waitDied, true, i
			}
		}
		if i%spinYieldEvery == spinYieldEvery-1 {
			// Let a stub thread that shares our CPU run.
			yield()
		} else {
			cpuRelax()
		}
	}
	return 0, false, n
}

// waitPost waits until the stub posts. Every pollInterval it calls check,
// which returns false to stop waiting (process gone, deadline passed...).
// zeroIsDeath says whether a zero state word means the thread exited (it
// does once the thread has posted at least once: CLONE_CHILD_CLEARTID).
func (c ctl) waitPost(zeroIsDeath bool, check func() bool) waitResult {
	st := c.p32(cState)
	n := c.spin.budget()
	start := time.Now()
	r, done, polls := spin(st, zeroIsDeath, n)
	c.spin.spun(n, polls, time.Since(start))
	if done {
		return r
	}
	sleep := c.p32(cSentrySleep)
	for {
		atomic.SwapUint32(sleep, 1) // full barrier before re-reading the state
		s := atomic.LoadUint32(st)
		if s == statePosted {
			atomic.StoreUint32(sleep, 0)
			return waitPosted
		}
		if s == stateDead && zeroIsDeath {
			atomic.StoreUint32(sleep, 0)
			return waitDied
		}
		if s == stateCmd {
			// The stub may be asleep with its cStubSleep flag cleared
			// by guest code (command then skipped the wake-up): wake
			// it whenever we are about to sleep ourselves. With a
			// running guest this is one cheap syscall per poll.
			futexWake(st)
		}
		futexWait(st, s, pollInterval)
		atomic.StoreUint32(sleep, 0)
		switch atomic.LoadUint32(st) {
		case statePosted:
			return waitPosted
		case stateDead:
			if zeroIsDeath {
				return waitDied
			}
		}
		if !check() {
			return waitTimeout
		}
	}
}

// futexWake wakes every waiter: normally there is one, but guest code can
// make both sides sleep on the same word.
func futexWake(addr *uint32) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWakeOp, 0x7fffffff, 0, 0, 0)
}

// futexWait sleeps while *addr == val, at most d. The futex is shared (not
// FUTEX_PRIVATE): the word lives in a memfd mapped by two processes.
func futexWait(addr *uint32, val uint32, d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWaitOp, uintptr(val),
		uintptr(unsafe.Pointer(&ts)), 0, 0)
}

const (
	futexWaitOp = 0
	futexWakeOp = 1
)
