package kernel

import (
	"math"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
)

// tgTimers are a process's interval timers.
type tgTimers struct {
	mu       sync.Mutex
	real     *ClockTimer
	realNext int64 // the guest's CLOCK_MONOTONIC at the next expiration
	realIntv time.Duration
	posix    map[int32]*PosixTimer
	nextID   int32

	// ITIMER_VIRTUAL and ITIMER_PROF, checked by a poller goroutine that
	// runs while either is armed; closing pollStop ends it.
	virt, prof cpuTimer
	pollStop   chan struct{}
}

// cpuTimer is an interval timer on the process's CPU time: it expires
// when user time (ITIMER_VIRTUAL) or user plus system time (ITIMER_PROF)
// reaches expiry.
type cpuTimer struct {
	expiry   int64 // CPU time in ns; 0 when disarmed
	interval int64
}

// cpuTimerTick is how often armed CPU timers are checked: their
// resolution, like a scheduler tick.
const cpuTimerTick = 4 * time.Millisecond

// expireLocked reports whether the timer fires at CPU time now, and
// re-arms or disarms it.
func (c *cpuTimer) expireLocked(now int64) bool {
	if c.expiry == 0 || now < c.expiry {
		return false
	}
	c.expiry = 0
	if c.interval > 0 {
		c.expiry = now + c.interval
	}
	return true
}

func (c *cpuTimer) remainingLocked(now int64) time.Duration {
	if c.expiry == 0 {
		return 0
	}
	return time.Duration(max(c.expiry-now, 1))
}

// cpuTimesFor returns the CPU time ITIMER_PROF (prof) or ITIMER_VIRTUAL
// counts. It takes the kernel lock, so callers must not hold tt.mu.
func (tg *ThreadGroup) cpuTimesFor(prof bool) int64 {
	u, s, _, _ := tg.CPUTimes()
	if prof {
		return u + s
	}
	return u
}

// SetCPUTimer arms ITIMER_PROF (prof) or ITIMER_VIRTUAL; a zero value
// disarms it. It returns the previous value and interval.
func (tg *ThreadGroup) SetCPUTimer(prof bool, value, interval time.Duration) (time.Duration, time.Duration) {
	now := tg.cpuTimesFor(prof)
	tt := tg.timers
	tt.mu.Lock()
	defer tt.mu.Unlock()
	c := &tt.virt
	if prof {
		c = &tt.prof
	}
	oldV, oldI := c.remainingLocked(now), time.Duration(c.interval)
	*c = cpuTimer{interval: int64(interval)}
	if value > 0 {
		c.expiry = now + int64(value)
		tt.startPollerLocked(tg)
	}
	return oldV, oldI
}

// CPUTimer returns ITIMER_PROF's (prof) or ITIMER_VIRTUAL's remaining
// value and interval.
func (tg *ThreadGroup) CPUTimer(prof bool) (time.Duration, time.Duration) {
	now := tg.cpuTimesFor(prof)
	tt := tg.timers
	tt.mu.Lock()
	defer tt.mu.Unlock()
	c := &tt.virt
	if prof {
		c = &tt.prof
	}
	return c.remainingLocked(now), time.Duration(c.interval)
}

func (tt *tgTimers) startPollerLocked(tg *ThreadGroup) {
	if tt.pollStop != nil {
		return
	}
	stop := make(chan struct{})
	tt.pollStop = stop
	go tt.pollCPUTimers(tg, stop)
}

// pollCPUTimers fires the CPU timers as the process's CPU time passes
// their expiry, until both are disarmed or stop is closed.
func (tt *tgTimers) pollCPUTimers(tg *ThreadGroup, stop chan struct{}) {
	tick := time.NewTicker(cpuTimerTick)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		u, s, _, _ := tg.CPUTimes()
		var fire []unix.Signal
		tt.mu.Lock()
		if tt.virt.expireLocked(u) {
			fire = append(fire, unix.SIGVTALRM)
		}
		if tt.prof.expireLocked(u + s) {
			fire = append(fire, unix.SIGPROF)
		}
		done := tt.virt.expiry == 0 && tt.prof.expiry == 0 && tt.pollStop == stop
		if done {
			tt.pollStop = nil
		}
		tt.mu.Unlock()
		for _, sig := range fire {
			tg.SendSignal(&SigInfo{Signo: int32(sig), Code: linux.SI_KERNEL})
		}
		if done {
			return
		}
	}
}

func newTGTimers() *tgTimers { return &tgTimers{posix: map[int32]*PosixTimer{}} }

func (tt *tgTimers) stopAll() {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	if tt.real != nil {
		tt.real.Stop()
		tt.real = nil
	}
	tt.virt, tt.prof = cpuTimer{}, cpuTimer{}
	if tt.pollStop != nil {
		close(tt.pollStop)
		tt.pollStop = nil
	}
	for id, p := range tt.posix {
		p.stopLocked()
		delete(tt.posix, id)
	}
}

// SetRealTimer arms ITIMER_REAL (alarm(2) and setitimer), which runs on
// the guest's CLOCK_MONOTONIC; it returns the previous value and interval.
func (tg *ThreadGroup) SetRealTimer(value, interval time.Duration) (time.Duration, time.Duration) {
	tt := tg.timers
	tt.mu.Lock()
	defer tt.mu.Unlock()
	clock := tg.k.Clock
	now := clock.now(unix.CLOCK_MONOTONIC)
	oldVal, oldIntv := tt.remainingLocked(now), tt.realIntv
	if tt.real != nil {
		tt.real.Stop()
		tt.real = nil
	}
	tt.realIntv = interval
	if value > 0 {
		tt.armLocked(tg, addSat(now, int64(value)))
	}
	return oldVal, oldIntv
}

// RealTimer returns ITIMER_REAL's remaining time and interval.
func (tg *ThreadGroup) RealTimer() (time.Duration, time.Duration) {
	tt := tg.timers
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return tt.remainingLocked(tg.k.Clock.now(unix.CLOCK_MONOTONIC)), tt.realIntv
}

// remainingLocked is what is left of ITIMER_REAL at now (CLOCK_MONOTONIC):
// an armed timer never reads 0, which would mean disarmed.
func (tt *tgTimers) remainingLocked(now int64) time.Duration {
	if tt.real == nil {
		return 0
	}
	return time.Duration(max(tt.realNext-now, 1))
}

// armLocked arms ITIMER_REAL for when the guest's CLOCK_MONOTONIC reads
// next. An expiration sends SIGALRM and re-arms a periodic timer on its
// schedule: the next period that has not begun yet.
func (tt *tgTimers) armLocked(tg *ThreadGroup, next int64) {
	clock := tg.k.Clock
	tt.realNext = next
	var timer *ClockTimer
	timer = clock.AfterFunc(Deadline{clock: unix.CLOCK_MONOTONIC, ns: next, set: true}, func() {
		tg.SendSignal(&SigInfo{Signo: int32(unix.SIGALRM), Code: linux.SI_KERNEL})
		tt.mu.Lock()
		defer tt.mu.Unlock()
		if tt.real != timer {
			return
		}
		tt.real = nil
		if tt.realIntv > 0 {
			next, _ := nextPeriod(tt.realNext, int64(tt.realIntv), clock.now(unix.CLOCK_MONOTONIC))
			tt.armLocked(tg, next)
		}
	})
	tt.real = timer
}

// nextPeriod returns the first expiration of a periodic timer after now,
// given the one that has just passed, and how many periods it skips (the
// overruns).
func nextPeriod(prev, interval, now int64) (next, missed int64) {
	next = addSat(prev, interval)
	if next <= now {
		missed = (now-next)/interval + 1
		if missed > (math.MaxInt64-next)/interval {
			return math.MaxInt64, missed
		}
		next += missed * interval
	}
	return next, missed
}

// addSat returns a + b (b >= 0), saturating.
func addSat(a, b int64) int64 {
	if a > 0 && b > math.MaxInt64-a {
		return math.MaxInt64
	}
	return a + b
}

// PosixTimer is a timer_create(2) timer.
type PosixTimer struct {
	tg       *ThreadGroup
	id       int32
	clock    int32 // the clock ID it was created on
	signo    int32
	value    uint64
	target   *Task // SIGEV_THREAD_ID
	none     bool  // SIGEV_NONE
	timer    *ClockTimer
	gen      uint64   // counts startLocked calls
	next     Deadline // the next expiration
	interval time.Duration
	// While the timer's signal is queued, expirations only count
	// overruns; the count moves to overrunLast (si_overrun,
	// timer_getoverrun) when the signal is taken.
	pending     bool
	overrun     int32
	overrunLast int32
}

// CreateTimer implements timer_create on clock.
func (tg *ThreadGroup) CreateTimer(clock, signo int32, value uint64, target *Task, none bool) (int32, error) {
	tt := tg.timers
	tt.mu.Lock()
	defer tt.mu.Unlock()
	if len(tt.posix) >= 1024 {
		return 0, unix.EAGAIN
	}
	id := tt.nextID
	tt.nextID++
	tt.posix[id] = &PosixTimer{tg: tg, id: id, clock: clock, signo: signo, value: value, target: target, none: none}
	return id, nil
}

// Timer returns a POSIX timer.
func (tg *ThreadGroup) Timer(id int32) *PosixTimer {
	tt := tg.timers
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return tt.posix[id]
}

// DeleteTimer implements timer_delete.
func (tg *ThreadGroup) DeleteTimer(id int32) error {
	tt := tg.timers
	tt.mu.Lock()
	defer tt.mu.Unlock()
	p := tt.posix[id]
	if p == nil {
		return unix.EINVAL
	}
	p.stopLocked()
	delete(tt.posix, id)
	return nil
}

func (p *PosixTimer) stopLocked() {
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
}

// Set arms (value > 0) or disarms the timer and returns the old setting.
// With abs, value is a time of the timer's clock, which must be a wall
// clock (WallClock); otherwise it is relative, and the timer runs on
// CLOCK_MONOTONIC unless its clock is CLOCK_BOOTTIME (as Linux's relative
// hrtimers). The timers of CPU-time clocks run on CLOCK_MONOTONIC too.
func (p *PosixTimer) Set(value, interval time.Duration, abs bool) (time.Duration, time.Duration) {
	tt := p.tg.timers
	tt.mu.Lock()
	defer tt.mu.Unlock()
	clock := p.tg.k.Clock
	oldV, oldI := p.remainingLocked(clock), p.interval
	p.stopLocked()
	p.interval = interval
	if value > 0 {
		if base, ok := clockBase(p.clock); abs && ok {
			p.next = Deadline{clock: base, ns: int64(value), set: true}
		} else {
			p.next = clock.Relative(p.clock, value)
		}
		p.startLocked(clock)
	}
	return oldV, oldI
}

// Get returns the remaining time and interval.
func (p *PosixTimer) Get() (time.Duration, time.Duration) {
	tt := p.tg.timers
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return p.remainingLocked(p.tg.k.Clock), p.interval
}

// Overrun returns the overrun count of the last delivered expiration.
func (p *PosixTimer) Overrun() int32 {
	tt := p.tg.timers
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return p.overrunLast
}

// Clock returns the clock ID the timer was created on.
func (p *PosixTimer) Clock() int32 { return p.clock }

// SetSigValue changes the sigev_value the timer's signal carries.
func (p *PosixTimer) SetSigValue(v uint64) {
	tt := p.tg.timers
	tt.mu.Lock()
	p.value = v
	tt.mu.Unlock()
}

// signalTaken runs when the timer's signal leaves a signal queue
// (delivered, waited for, or discarded); it returns the overruns to
// report. Called with k.mu held (k.mu comes before tt.mu).
func (p *PosixTimer) signalTaken() int32 {
	tt := p.tg.timers
	tt.mu.Lock()
	defer tt.mu.Unlock()
	p.pending = false
	p.overrunLast, p.overrun = p.overrun, 0
	return p.overrunLast
}

// addOverrunLocked counts n missed expirations, saturating like Linux.
func (p *PosixTimer) addOverrunLocked(n int64) {
	p.overrun = int32(min(int64(p.overrun)+n, 1<<31-1))
}

// remainingLocked is the time left until the next expiration on the
// guest's clock: an armed timer never reads 0, which would mean disarmed.
func (p *PosixTimer) remainingLocked(clock *Clock) time.Duration {
	if p.timer == nil {
		return 0
	}
	return max(clock.Until(p.next), time.Nanosecond)
}

// startLocked runs the timer for the expiration at p.next. The generation
// tells a stale expiration (of a timer since re-armed or stopped) from the
// current one.
func (p *PosixTimer) startLocked(clock *Clock) {
	p.gen++
	gen := p.gen
	p.timer = clock.AfterFunc(p.next, func() { p.expire(gen) })
}

// expire handles an expiration of the Go timer: it re-arms a periodic
// timer from its schedule (periods already missed are overruns) and
// queues the signal unless the previous one is still queued.
func (p *PosixTimer) expire(gen uint64) {
	tt := p.tg.timers
	tt.mu.Lock()
	if p.timer == nil || p.gen != gen {
		tt.mu.Unlock()
		return
	}
	p.timer = nil
	missed := int64(0)
	if p.interval > 0 {
		clock := p.tg.k.Clock
		p.next.ns, missed = nextPeriod(p.next.ns, int64(p.interval), clock.now(p.next.clock))
		p.startLocked(clock)
	}
	if p.none {
		tt.mu.Unlock()
		return
	}
	if p.pending {
		p.addOverrunLocked(missed + 1)
		tt.mu.Unlock()
		return
	}
	p.addOverrunLocked(missed)
	p.pending = true
	si := &SigInfo{Signo: p.signo, Code: linux.SI_TIMER, TimerID: p.id, Value: p.value, timer: p}
	tt.mu.Unlock()
	if !p.tg.queueTimerSignal(si, p.target) {
		tt.mu.Lock()
		p.pending = false
		tt.mu.Unlock()
	}
}
