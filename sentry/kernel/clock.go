package kernel

import (
	"math"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// ClockSource reads the guest's clocks where its vDSO computes them.
type ClockSource interface {
	// Now returns unix.CLOCK_REALTIME, CLOCK_MONOTONIC or CLOCK_BOOTTIME
	// in ns. ok is false while the source has no reading: the vDSO then
	// makes the system call, and the guest's clocks are the host's.
	Now(id int32) (ns int64, ok bool)
}

// Clock is the guest's time: CLOCK_REALTIME, CLOCK_MONOTONIC,
// CLOCK_BOOTTIME and the clocks Linux derives from them, read from the
// same source as the guest's vDSO. Every time the sentry shows the guest
// (clock_gettime, what is left of a timer or a sleep) and every deadline
// it waits for is on this clock, so none of them disagrees with what the
// guest reads in its own code, and no wait ends before the guest's clock
// has reached its deadline. Host timers only approximate the wait (the
// guest's clock is steered towards the host's, not equal to it): a wait
// is checked against this clock when its host timer fires, and goes on
// for whatever is left (Task.Block, Clock.AfterFunc).
type Clock struct {
	src ClockSource // nil: the host's clocks
}

// NewClock returns the clock that reads src; a nil src reads the host's
// clocks (a kernel without a vDSO).
func NewClock(src ClockSource) *Clock { return &Clock{src: src} }

// clockBase returns the clock that id reads in the sandbox (CLOCK_REALTIME,
// CLOCK_MONOTONIC, CLOCK_BOOTTIME or CLOCK_TAI); ok is false for a clock
// that is not a wall clock (CPU-time clocks, invalid IDs). The coarse
// clocks read the precise ones (Linux's lag a tick behind; no program may
// count on that), CLOCK_MONOTONIC_RAW reads CLOCK_MONOTONIC (the sandbox
// has no unslewed clock, as in gVisor) and the alarm clocks theirs.
func clockBase(id int32) (base int32, ok bool) {
	switch id {
	case unix.CLOCK_REALTIME, unix.CLOCK_REALTIME_COARSE, unix.CLOCK_REALTIME_ALARM:
		return unix.CLOCK_REALTIME, true
	case unix.CLOCK_MONOTONIC, unix.CLOCK_MONOTONIC_COARSE, unix.CLOCK_MONOTONIC_RAW:
		return unix.CLOCK_MONOTONIC, true
	case unix.CLOCK_BOOTTIME, unix.CLOCK_BOOTTIME_ALARM:
		return unix.CLOCK_BOOTTIME, true
	case unix.CLOCK_TAI:
		return unix.CLOCK_TAI, true
	}
	return 0, false
}

// WallClock reports whether id is a clock Clock serves: not a CPU-time
// clock, not an invalid ID.
func WallClock(id int32) bool {
	_, ok := clockBase(id)
	return ok
}

// RelativeClock returns the clock a relative timer or timeout on clock id
// runs on: Linux's relative hrtimers on CLOCK_REALTIME run on
// CLOCK_MONOTONIC (a change of the time of day does not stretch them),
// those on CLOCK_BOOTTIME keep counting through a suspend.
func RelativeClock(id int32) int32 {
	if base, _ := clockBase(id); base == unix.CLOCK_BOOTTIME {
		return unix.CLOCK_BOOTTIME
	}
	return unix.CLOCK_MONOTONIC
}

// Now returns wall clock id in ns; unix.EINVAL for another clock
// (CPU-time clocks are the caller's business).
func (c *Clock) Now(id int32) (int64, error) {
	base, ok := clockBase(id)
	if !ok {
		return 0, unix.EINVAL
	}
	return c.now(base), nil
}

// now reads a clock clockBase returned.
func (c *Clock) now(base int32) int64 {
	if base == unix.CLOCK_TAI {
		// TAI is CLOCK_REALTIME plus the host's leap-second offset.
		return c.now(unix.CLOCK_REALTIME) + taiOffset()
	}
	if c.src != nil {
		if ns, ok := c.src.Now(base); ok {
			return ns
		}
	}
	return hostNow(base)
}

func hostNow(id int32) int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(id, &ts); err != nil {
		// The clocks above exist on every kernel the sentry runs on.
		return time.Now().UnixNano()
	}
	return ts.Nano()
}

// taiOffset returns the host's CLOCK_TAI - CLOCK_REALTIME in whole
// seconds (the clocks are read at slightly different instants).
func taiOffset() int64 {
	d := hostNow(unix.CLOCK_TAI) - hostNow(unix.CLOCK_REALTIME)
	return (d + 5e8) / 1e9 * 1e9
}

// SpecDuration converts a validated timespec (sec >= 0, 0 <= nsec < 1e9)
// to a duration, saturating.
func SpecDuration(sec, nsec int64) time.Duration {
	if sec >= math.MaxInt64/int64(time.Second) {
		return math.MaxInt64
	}
	return time.Duration(sec)*time.Second + time.Duration(nsec)
}

// A Deadline is when a wait ends: an instant on one of the guest's
// clocks. The zero Deadline is none (wait forever).
type Deadline struct {
	clock int32 // a clockBase result
	ns    int64
	set   bool
}

// IsZero reports whether d is no deadline.
func (d Deadline) IsZero() bool { return !d.set }

// At returns the deadline when clock id reads ns (an absolute timeout);
// unix.EINVAL if id is not a wall clock.
func (c *Clock) At(id int32, ns int64) (Deadline, error) {
	base, ok := clockBase(id)
	if !ok {
		return Deadline{}, unix.EINVAL
	}
	return Deadline{clock: base, ns: ns, set: true}, nil
}

// After returns the deadline d from now (a relative timeout), on
// CLOCK_MONOTONIC as Linux's relative timeouts are, saturating far in the
// future.
func (c *Clock) After(d time.Duration) Deadline { return c.Relative(unix.CLOCK_MONOTONIC, d) }

// Relative returns the deadline of a relative timeout of d on clock id
// (a wall clock): d from now on RelativeClock(id), saturating.
func (c *Clock) Relative(id int32, d time.Duration) Deadline {
	base := RelativeClock(id)
	return Deadline{clock: base, ns: addSat(c.now(base), int64(max(d, 0))), set: true}
}

// Until returns how long the guest's clock still needs to reach d: 0 once
// it has, and for no deadline.
func (c *Clock) Until(d Deadline) time.Duration {
	if !d.set {
		return 0
	}
	return time.Duration(max(d.ns-c.now(d.clock), 0))
}

// deadlineTimer is a host timer for a deadline on the guest's clock, for a
// goroutine that waits on C among other channels.
type deadlineTimer struct {
	C     <-chan time.Time
	c     *Clock
	at    Deadline
	timer *time.Timer
}

// start arms the timer for the time the guest's clock still lacks; it
// reports false, arming nothing, if the clock has reached the deadline.
func (dt *deadlineTimer) start(c *Clock, at Deadline) bool {
	d := c.Until(at)
	if d <= 0 {
		return false
	}
	dt.c, dt.at = c, at
	dt.timer = time.NewTimer(d)
	dt.C = dt.timer.C
	return true
}

// expired is called when C fires: it reports whether the guest's clock has
// reached the deadline, or else re-arms the timer for the rest (the host
// timer ran on the host's clock, which the guest's may trail).
func (dt *deadlineTimer) expired() bool {
	d := dt.c.Until(dt.at)
	if d <= 0 {
		return true
	}
	dt.timer.Reset(d)
	return false
}

func (dt *deadlineTimer) stop() { dt.timer.Stop() }

// A ClockTimer calls a function once the guest's clock reaches a deadline.
type ClockTimer struct {
	c  *Clock
	at Deadline
	f  func()

	mu      sync.Mutex
	t       *time.Timer
	stopped bool // stopped or fired
}

// AfterFunc calls f in its own goroutine once the guest's clock has
// reached at (at once if it has): a host timer runs for the time left, and
// when it fires early on the guest's clock, again for the rest.
func (c *Clock) AfterFunc(at Deadline, f func()) *ClockTimer {
	ct := &ClockTimer{c: c, at: at, f: f}
	ct.mu.Lock()
	defer ct.mu.Unlock()
	ct.t = time.AfterFunc(c.Until(at), ct.fire)
	return ct
}

func (ct *ClockTimer) fire() {
	ct.mu.Lock()
	if ct.stopped {
		ct.mu.Unlock()
		return
	}
	if left := ct.c.Until(ct.at); left > 0 {
		ct.t.Reset(left)
		ct.mu.Unlock()
		return
	}
	ct.stopped = true
	ct.mu.Unlock()
	ct.f()
}

// Stop prevents f from being called, unless it already has been (or is
// being).
func (ct *ClockTimer) Stop() {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	ct.stopped = true
	ct.t.Stop()
}
