package systrap

import (
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Spin budgets, in polls of the state word (a PAUSE each, and a
// sched_yield every spinYieldEvery on the sentry's side, every 64 on the
// stub's).
const (
	// maxSpin is a few round trips' time: a futex wake-up of a sleeping
	// thread costs tens of microseconds, a round trip between two running
	// threads a few.
	maxSpin = 1000
	// minSpin is the budget while the CPUs are contended.
	minSpin = 16
	// spinYieldEvery is how often the sentry's spin yields its CPU.
	spinYieldEvery = 128
	// probeEvery: while contended, every probeEvery-th wait spins fully
	// to find out whether the contention has passed.
	probeEvery = 256
	// contendedFactor and contendedSlack: a spin that takes longer than
	// contendedFactor times its polls' calibrated time, plus the slack
	// per yield, lost its CPU to other threads meanwhile.
	contendedFactor = 4
	contendedSlack  = 20 * time.Microsecond
	// contendedAfter slow full spins in a row make the policy spin
	// briefly: a single one happens on an idle machine too (an interrupt,
	// a Go runtime thread given the CPU by a yield), once in about a
	// thousand spins here.
	contendedAfter = 3
)

// spinPolicy decides how long the sentry and the stub spin on the state
// word before they sleep on it. Spinning pays when the other side runs on
// another CPU. On an overcommitted host the other side is often waiting
// for a CPU, which a spinner only keeps from it: with two busy loops on a
// 2-CPU machine, a guest getppid took 1-4 ms with full spins and 20 us
// with short ones (which cost 40 us instead of 5 on an idle machine). A
// spin that lasts much longer than its polls take on an idle CPU shows the
// contention (its sched_yield calls gave the CPU away, or it was
// preempted), where an unanswered spin alone does not (a guest computing,
// a blocking syscall). One policy serves a platform: the contention is the
// host's.
type spinPolicy struct {
	poll      time.Duration // one poll's calibrated time (a PAUSE)
	slow      atomic.Int32  // consecutive slow full spins
	contended atomic.Bool
	waits     atomic.Uint32
}

// newSpinPolicy calibrates a poll: the fastest of a few short runs without
// yields, which a loaded machine rarely interrupts.
func newSpinPolicy() *spinPolicy {
	word := uint32(stateCmd)
	best := time.Duration(1<<63 - 1)
	for i := 0; i < 8; i++ {
		start := time.Now()
		spin(&word, false, spinYieldEvery-1)
		best = min(best, time.Since(start))
	}
	return &spinPolicy{poll: best / (spinYieldEvery - 1)}
}

// budget is the sentry's spin for the next wait.
func (s *spinPolicy) budget() int {
	if s == nil || !s.contended.Load() || s.waits.Add(1)%probeEvery == 0 {
		return maxSpin
	}
	return minSpin
}

// stubBudget is the stub's spin while it waits for the next command.
func (s *spinPolicy) stubBudget() int {
	if s != nil && s.contended.Load() {
		return minSpin
	}
	return maxSpin
}

// spun records a spin with a budget of n that made polls polls in d.
// Only full spins decide (the short ones of a contended machine are brief
// whatever the CPUs do): contendedAfter slow ones in a row start the
// short spins, a fast one ends them.
func (s *spinPolicy) spun(n, polls int, d time.Duration) {
	if s == nil || n != maxSpin {
		return
	}
	limit := contendedFactor*time.Duration(polls)*s.poll + contendedSlack*time.Duration(1+polls/spinYieldEvery)
	switch {
	case d <= limit:
		s.slow.Store(0)
		s.contended.Store(false)
	case s.slow.Add(1) >= contendedAfter:
		s.contended.Store(true)
	}
}

// yield is sched_yield(2).
func yield() { unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0) }
