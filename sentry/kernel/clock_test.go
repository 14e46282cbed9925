package kernel

import (
	"math"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// manualSource is a ClockSource whose CLOCK_MONOTONIC the test sets; its
// CLOCK_REALTIME and CLOCK_BOOTTIME are fixed offsets from it.
type manualSource struct {
	mono  atomic.Int64
	ready atomic.Bool
}

const (
	manualRealOff = 1_700_000_000e9
	manualBootOff = 7e9
)

func newManualSource(mono int64) *manualSource {
	s := &manualSource{}
	s.mono.Store(mono)
	s.ready.Store(true)
	return s
}

func (s *manualSource) Now(id int32) (int64, bool) {
	if !s.ready.Load() {
		return 0, false
	}
	m := s.mono.Load()
	switch id {
	case unix.CLOCK_REALTIME:
		return m + manualRealOff, true
	case unix.CLOCK_MONOTONIC:
		return m, true
	case unix.CLOCK_BOOTTIME:
		return m + manualBootOff, true
	}
	return 0, false
}

func TestClockNow(t *testing.T) {
	src := newManualSource(5e9)
	c := NewClock(src)
	for _, tc := range []struct {
		id   int32
		want int64
	}{
		{unix.CLOCK_MONOTONIC, 5e9},
		{unix.CLOCK_MONOTONIC_COARSE, 5e9},
		{unix.CLOCK_MONOTONIC_RAW, 5e9},
		{unix.CLOCK_REALTIME, 5e9 + manualRealOff},
		{unix.CLOCK_REALTIME_COARSE, 5e9 + manualRealOff},
		{unix.CLOCK_REALTIME_ALARM, 5e9 + manualRealOff},
		{unix.CLOCK_BOOTTIME, 5e9 + manualBootOff},
		{unix.CLOCK_BOOTTIME_ALARM, 5e9 + manualBootOff},
	} {
		if got, err := c.Now(tc.id); got != tc.want || err != nil {
			t.Errorf("clock %d: %d, %v; want %d", tc.id, got, err, tc.want)
		}
	}
	// CLOCK_TAI is CLOCK_REALTIME plus whole seconds of leap offset.
	if tai, err := c.Now(unix.CLOCK_TAI); err != nil || tai < 5e9+manualRealOff || (tai-5e9-manualRealOff)%1e9 != 0 {
		t.Errorf("CLOCK_TAI: %d, %v", tai, err)
	}
	for _, id := range []int32{unix.CLOCK_PROCESS_CPUTIME_ID, unix.CLOCK_THREAD_CPUTIME_ID, -6, 12, 100} {
		if _, err := c.Now(id); err != unix.EINVAL {
			t.Errorf("clock %d: %v, want EINVAL", id, err)
		}
	}
}

// TestClockHostFallback: without a reading from the source (before the
// vDSO's first calibration) the clock is the host's, as the vDSO's then is.
func TestClockHostFallback(t *testing.T) {
	src := newManualSource(5e9)
	src.ready.Store(false)
	for _, c := range []*Clock{NewClock(src), NewClock(nil)} {
		for _, id := range []int32{unix.CLOCK_MONOTONIC, unix.CLOCK_REALTIME, unix.CLOCK_BOOTTIME} {
			before := hostNow(id)
			got, err := c.Now(id)
			after := hostNow(id)
			if err != nil || got < before || got > after {
				t.Errorf("clock %d: %d, %v; want between the host's %d and %d", id, got, err, before, after)
			}
		}
	}
}

func TestDeadlines(t *testing.T) {
	src := newManualSource(5e9)
	c := NewClock(src)
	if (Deadline{}).IsZero() != true {
		t.Error("the zero Deadline is not none")
	}
	if got := c.Until(Deadline{}); got != 0 {
		t.Errorf("Until(none) = %v", got)
	}
	d := c.After(3 * time.Second)
	if d.clock != unix.CLOCK_MONOTONIC || d.ns != 8e9 || d.IsZero() {
		t.Errorf("After(3s) = %+v", d)
	}
	if got := c.Until(d); got != 3*time.Second {
		t.Errorf("Until = %v, want 3s", got)
	}
	src.mono.Store(9e9)
	if got := c.Until(d); got != 0 {
		t.Errorf("Until past the deadline = %v, want 0", got)
	}
	// Absolute deadlines are on their own clock.
	abs, err := c.At(unix.CLOCK_REALTIME, 10e9+manualRealOff)
	if err != nil || c.Until(abs) != time.Second {
		t.Errorf("At(REALTIME): %+v, %v: Until %v, want 1s", abs, err, c.Until(abs))
	}
	if _, err := c.At(unix.CLOCK_PROCESS_CPUTIME_ID, 1); err != unix.EINVAL {
		t.Errorf("At(CPU clock): %v, want EINVAL", err)
	}
	// Relative timeouts on CLOCK_REALTIME run on CLOCK_MONOTONIC; those on
	// CLOCK_BOOTTIME on it.
	if r := c.Relative(unix.CLOCK_REALTIME, time.Second); r.clock != unix.CLOCK_MONOTONIC || r.ns != 10e9 {
		t.Errorf("Relative(REALTIME) = %+v", r)
	}
	if r := c.Relative(unix.CLOCK_BOOTTIME_ALARM, time.Second); r.clock != unix.CLOCK_BOOTTIME || r.ns != 10e9+manualBootOff {
		t.Errorf("Relative(BOOTTIME_ALARM) = %+v", r)
	}
	if r := c.After(math.MaxInt64); r.ns != math.MaxInt64 {
		t.Errorf("After(max) = %+v, want saturated", r)
	}
	if got := SpecDuration(math.MaxInt64/int64(time.Second)+1, 5); got != math.MaxInt64 {
		t.Errorf("SpecDuration(huge) = %v", got)
	}
	if got := SpecDuration(2, 5); got != 2*time.Second+5 {
		t.Errorf("SpecDuration(2, 5) = %v", got)
	}
}

// TestDeadlineTimerRearms: a host timer that fires before the guest's
// clock reaches the deadline is re-armed for the rest, however many times.
func TestDeadlineTimerRearms(t *testing.T) {
	src := newManualSource(0)
	c := NewClock(src)
	at := c.After(time.Microsecond)
	var dt deadlineTimer
	if !dt.start(c, at) {
		t.Fatal("start: deadline already reached")
	}
	defer dt.stop()
	for _, mono := range []int64{0, 500, 999} {
		<-dt.C
		src.mono.Store(mono)
		if dt.expired() {
			t.Fatalf("expired with the guest's clock at %d, deadline %d", mono, at.ns)
		}
	}
	<-dt.C
	src.mono.Store(1000)
	if !dt.expired() {
		t.Fatal("not expired at the deadline")
	}
	if dt.start(c, at) {
		t.Fatal("started for a deadline already reached")
	}
}

// TestClockTimer: the function runs once the guest's clock has reached
// the deadline, never before, even though the host timer fires earlier,
// and a stopped timer never runs it.
func TestClockTimer(t *testing.T) {
	src := newManualSource(0)
	c := NewClock(src)
	type call struct{ mono int64 }
	calls := make(chan call, 2)
	at := c.After(time.Microsecond)
	ct := c.AfterFunc(at, func() {
		ns, _ := c.Now(unix.CLOCK_MONOTONIC)
		calls <- call{ns}
	})
	stopped := c.AfterFunc(c.After(time.Microsecond), func() { calls <- call{-1} })
	stopped.Stop()
	// The host timers fire (and re-arm) many times while the guest's
	// clock stands still.
	time.Sleep(20 * time.Millisecond)
	select {
	case got := <-calls:
		t.Fatalf("ran with the guest's clock at %d, before the deadline %d", got.mono, at.ns)
	default:
	}
	src.mono.Store(at.ns)
	select {
	case got := <-calls:
		if got.mono < at.ns {
			t.Fatalf("ran with the guest's clock at %d, before the deadline %d", got.mono, at.ns)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("never ran")
	}
	ct.Stop() // after running: harmless
	time.Sleep(5 * time.Millisecond)
	select {
	case got := <-calls:
		t.Fatalf("extra call %+v", got)
	default:
	}
}

func TestNextPeriod(t *testing.T) {
	for _, tc := range []struct {
		prev, interval, now int64
		next, missed        int64
	}{
		{100, 10, 105, 110, 0},
		{100, 10, 110, 120, 1}, // the period at 110 has begun
		{100, 10, 137, 140, 3},
		{math.MaxInt64 - 5, 10, 0, math.MaxInt64, 0},
	} {
		next, missed := nextPeriod(tc.prev, tc.interval, tc.now)
		if next != tc.next || missed != tc.missed {
			t.Errorf("nextPeriod(%d, %d, %d) = %d, %d; want %d, %d", tc.prev, tc.interval, tc.now, next, missed, tc.next, tc.missed)
		}
	}
}
