package kernel

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
)

// tgTimers are a process's interval timers.
type tgTimers struct {
	mu       sync.Mutex
	real     *time.Timer
	realNext time.Time
	realIntv time.Duration
	posix    map[int32]*PosixTimer
	nextID   int32
}

func newTGTimers() *tgTimers { return &tgTimers{posix: map[int32]*PosixTimer{}} }

func (tt *tgTimers) stopAll() {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	if tt.real != nil {
		tt.real.Stop()
		tt.real = nil
	}
	for id, p := range tt.posix {
		p.stopLocked()
		delete(tt.posix, id)
	}
}

// SetRealTimer arms ITIMER_REAL (alarm(2) and setitimer); it returns the
// previous value and interval.
func (tg *ThreadGroup) SetRealTimer(value, interval time.Duration) (time.Duration, time.Duration) {
	tt := tg.timers
	tt.mu.Lock()
	defer tt.mu.Unlock()
	oldVal, oldIntv := tt.remainingLocked(), tt.realIntv
	if tt.real != nil {
		tt.real.Stop()
		tt.real = nil
	}
	tt.realIntv = interval
	if value > 0 {
		tt.armLocked(tg, value)
	}
	return oldVal, oldIntv
}

// RealTimer returns ITIMER_REAL's remaining time and interval.
func (tg *ThreadGroup) RealTimer() (time.Duration, time.Duration) {
	tt := tg.timers
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return tt.remainingLocked(), tt.realIntv
}

func (tt *tgTimers) remainingLocked() time.Duration {
	if tt.real == nil {
		return 0
	}
	d := time.Until(tt.realNext)
	if d <= 0 {
		d = time.Microsecond
	}
	return d
}

func (tt *tgTimers) armLocked(tg *ThreadGroup, d time.Duration) {
	tt.realNext = time.Now().Add(d)
	var timer *time.Timer
	timer = time.AfterFunc(d, func() {
		tg.SendSignal(&SigInfo{Signo: int32(unix.SIGALRM), Code: linux.SI_KERNEL})
		tt.mu.Lock()
		defer tt.mu.Unlock()
		if tt.real != timer {
			return
		}
		tt.real = nil
		if tt.realIntv > 0 {
			tt.armLocked(tg, tt.realIntv)
		}
	})
	tt.real = timer
}

// PosixTimer is a timer_create(2) timer.
type PosixTimer struct {
	tg       *ThreadGroup
	id       int32
	signo    int32
	value    uint64
	target   *Task // SIGEV_THREAD_ID
	none     bool  // SIGEV_NONE
	timer    *time.Timer
	next     time.Time
	interval time.Duration
	overrun  int32
	pending  bool
}

// CreateTimer implements timer_create.
func (tg *ThreadGroup) CreateTimer(signo int32, value uint64, target *Task, none bool) (int32, error) {
	tt := tg.timers
	tt.mu.Lock()
	defer tt.mu.Unlock()
	if len(tt.posix) >= 1024 {
		return 0, unix.EAGAIN
	}
	id := tt.nextID
	tt.nextID++
	tt.posix[id] = &PosixTimer{tg: tg, id: id, signo: signo, value: value, target: target, none: none}
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
func (p *PosixTimer) Set(value, interval time.Duration) (time.Duration, time.Duration) {
	tt := p.tg.timers
	tt.mu.Lock()
	defer tt.mu.Unlock()
	oldV, oldI := p.remainingLocked(), p.interval
	p.stopLocked()
	p.interval = interval
	if value > 0 {
		p.armLocked(value)
	}
	return oldV, oldI
}

// Get returns the remaining time and interval.
func (p *PosixTimer) Get() (time.Duration, time.Duration) {
	tt := p.tg.timers
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return p.remainingLocked(), p.interval
}

// Overrun returns the overrun count of the last expiration.
func (p *PosixTimer) Overrun() int32 {
	tt := p.tg.timers
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return p.overrun
}

func (p *PosixTimer) remainingLocked() time.Duration {
	if p.timer == nil {
		return 0
	}
	d := time.Until(p.next)
	if d <= 0 {
		d = time.Nanosecond
	}
	return d
}

func (p *PosixTimer) armLocked(d time.Duration) {
	p.next = time.Now().Add(d)
	var timer *time.Timer
	timer = time.AfterFunc(d, func() {
		tt := p.tg.timers
		tt.mu.Lock()
		if p.timer != timer {
			tt.mu.Unlock()
			return
		}
		p.timer = nil
		if p.interval > 0 {
			p.armLocked(p.interval)
		}
		tt.mu.Unlock()
		if p.none {
			return
		}
		si := &SigInfo{Signo: p.signo, Code: linux.SI_TIMER, TimerID: p.id, Value: p.value}
		if p.target != nil {
			p.target.SendSignal(si)
		} else {
			p.tg.SendSignal(si)
		}
	})
	p.timer = timer
}
