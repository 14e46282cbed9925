package vdso

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// at returns a TSC function that always reads tsc.
func at(tsc uint64) func() uint64 { return func() uint64 { return tsc } }

// mono reads the page's CLOCK_MONOTONIC at tsc, as the vDSO would.
func (p *params) monoAt(t *testing.T, tsc uint64) uint64 {
	t.Helper()
	ns, ok := p.now(unix.CLOCK_MONOTONIC, at(tsc))
	if !ok {
		t.Fatal("page not ready")
	}
	return uint64(ns)
}

func TestParamsNow(t *testing.T) {
	p := params{seq: 4, ready: 1, tscBase: 1000, mono: 5e9, real: 1.7e18, boot: 6e9, mult: 3 << 31, shift: 32}
	for _, tc := range []struct {
		name string
		id   int32
		tsc  uint64
		want int64
		ok   bool
	}{
		{"monotonic at base", unix.CLOCK_MONOTONIC, 1000, 5e9, true},
		{"monotonic later", unix.CLOCK_MONOTONIC, 3000, 5e9 + 3000, true}, // 2000 cycles * 1.5
		{"realtime", unix.CLOCK_REALTIME, 3000, 1.7e18 + 3000, true},
		{"boottime", unix.CLOCK_BOOTTIME, 3000, 6e9 + 3000, true},
		// A TSC behind the base (another CPU, just before an update) reads
		// the base, never a wrapped-around difference.
		{"tsc before base", unix.CLOCK_MONOTONIC, 10, 5e9, true},
		{"other clock", unix.CLOCK_MONOTONIC_RAW, 3000, 0, false},
	} {
		ns, ok := p.now(tc.id, at(tc.tsc))
		if ns != tc.want || ok != tc.ok {
			t.Errorf("%s: now = %d, %v; want %d, %v", tc.name, ns, ok, tc.want, tc.ok)
		}
	}
	// A huge TSC difference goes through the 128-bit product.
	if ns, _ := p.now(unix.CLOCK_MONOTONIC, at(1000+1<<40)); ns != 5e9+3<<39 {
		t.Errorf("now after 2^40 cycles = %d, want %d", ns, int64(5e9+3<<39))
	}
	p.ready = 0
	if _, ok := p.now(unix.CLOCK_MONOTONIC, at(3000)); ok {
		t.Error("a page not yet calibrated gave a reading")
	}
}

func TestCalibratorMonotonicAndAccurate(t *testing.T) {
	for _, tc := range []struct {
		name string
		ppm  int64 // how fast the host clock runs against the nominal TSC rate
	}{
		{"steady", 0},
		{"host-faster", 300},
		{"host-slower", -300},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const ghz = 2.6
			var page params
			var c calibrator
			host := func(tsc uint64) uint64 {
				ns := float64(tsc) / ghz
				return uint64(ns + ns*float64(tc.ppm)/1e6)
			}
			tsc := uint64(1e12)
			c.publish(&page, clockSample{tsc: tsc, mono: host(tsc), real: host(tsc) + 1e18, boot: host(tsc)}, at(tsc))
			if page.ready != 0 {
				t.Fatal("ready after a single sample")
			}
			last := uint64(0)
			for step := 1; step <= 40; step++ {
				next := tsc + 1_300_000_000 // 0.5 s of cycles
				c.publish(&page, clockSample{tsc: next, mono: host(next), real: host(next) + 1e18, boot: host(next)}, at(next))
				if page.ready != 1 || page.seq%2 != 0 {
					t.Fatalf("step %d: ready %d seq %d", step, page.ready, page.seq)
				}
				// Readings across the update never go backwards.
				for x := tsc; x <= next; x += 13_000_000 {
					if v := page.monoAt(t, x); v < last {
						t.Fatalf("step %d: clock went back from %d to %d", step, last, v)
					} else {
						last = v
					}
				}
				tsc = next
			}
			// After settling, the published clock tracks the host's.
			if d := int64(page.monoAt(t, tsc)) - int64(host(tsc)); d > 1e6 || d < -1e6 {
				t.Fatalf("published clock is %d ns off the host's", d)
			}
			if r, m := page.real, page.mono; r-m != 1e18 {
				t.Fatalf("realtime - monotonic = %d, want 1e18", r-m)
			}
		})
	}
}

// TestCalibratorRebasesAtUpdate: a reader may take the TSC after the
// sample and still get the old parameters; the update, published later and
// possibly slower, must not give a later TSC an earlier time.
func TestCalibratorRebasesAtUpdate(t *testing.T) {
	var page params
	var c calibrator
	// The TSC runs at 1 GHz; the host clock at first exactly with it.
	const realOff, bootOff = 1.7e18, 5e9
	sample := func(tsc, mono uint64) clockSample {
		return clockSample{tsc: tsc, mono: mono, real: mono + realOff, boot: mono + bootOff}
	}
	c.publish(&page, sample(1e9, 1e9), at(1e9))
	c.publish(&page, sample(2e9, 2e9), at(2e9))
	// The host then falls 1 ms behind the published clock, which must
	// slow down to let it catch up.
	const sampleTSC, updateTSC = 3e9, 3e9 + 50_000
	seen := page.monoAt(t, updateTSC) // old parameters, TSC after the sample
	c.publish(&page, sample(sampleTSC, 3e9-1e6), at(updateTSC))
	if page.tscBase != updateTSC {
		t.Errorf("base TSC = %d, want the update's %d", page.tscBase, uint64(updateTSC))
	}
	if page.mult >= 1<<shift {
		t.Errorf("multiplier %d does not slow the clock below the TSC rate", page.mult)
	}
	for _, tsc := range []uint64{updateTSC, updateTSC + 1, updateTSC + 1000} {
		if v := page.monoAt(t, tsc); v < seen {
			t.Errorf("at TSC %d the new parameters read %d, before %d read with the old ones", tsc, v, seen)
		}
	}
	if page.real-page.mono != realOff || page.boot-page.mono != bootOff {
		t.Errorf("rebasing moved the clocks apart: real %d boot %d mono %d", page.real, page.boot, page.mono)
	}
}

// TestParamsSeqlock runs readers against a writer that publishes as fast as
// it can: no reader ever sees a torn update (which would make its clock
// jump back or far ahead).
func TestParamsSeqlock(t *testing.T) {
	var page params
	var c calibrator
	var tsc atomic.Uint64
	tsc.Store(1e9)
	clock := func() uint64 { return tsc.Add(100) }
	// The host clock wobbles 0.5% around the TSC's 1 GHz, so every update
	// steers, and the parameters really change.
	host := func(x uint64) uint64 { return x + x/200*uint64(x/1e6%2) }
	next := clock()
	c.publish(&page, clockSample{tsc: next, mono: host(next), real: host(next)}, clock)
	next = clock() + 1e6
	c.publish(&page, clockSample{tsc: next, mono: host(next), real: host(next)}, clock)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var last int64
			for {
				select {
				case <-stop:
					return
				default:
				}
				ns, ok := page.now(unix.CLOCK_MONOTONIC, clock)
				if !ok || ns < last || (last != 0 && ns-last > 1e9) {
					errs <- fmt.Sprintf("reading %d, %v after %d", ns, ok, last)
					return
				}
				last = ns
			}
		}()
	}
	for range 20000 {
		x := tsc.Load()
		c.publish(&page, clockSample{tsc: x, mono: host(x), real: host(x)}, clock)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// BenchmarkNow is the sentry's read of the guest's clock (clock_gettime
// through the system call, every deadline); BenchmarkHostClock the host
// clock read it replaces.
func BenchmarkNow(b *testing.B) {
	p := params{ready: 1, tscBase: rdtsc(), mult: 1 << 31, shift: 32}
	for b.Loop() {
		p.now(unix.CLOCK_MONOTONIC, rdtsc)
	}
}

func BenchmarkHostClock(b *testing.B) {
	var ts unix.Timespec
	for b.Loop() {
		unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	}
}
