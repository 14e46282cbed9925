package vdso

import (
	"math/bits"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// rdtsc reads the time-stamp counter after earlier loads complete.
func rdtsc() uint64

// clockSample is the TSC and the host's clocks read at (nearly) the same
// instant.
type clockSample struct {
	tsc              uint64
	mono, real, boot uint64 // ns
}

func readClock(id int32) uint64 {
	var ts unix.Timespec
	unix.ClockGettime(id, &ts)
	return uint64(ts.Nano())
}

// sampleTries is how many samples sample takes to keep the tightest.
const sampleTries = 5

// sample reads the TSC between two reads of CLOCK_MONOTONIC and attributes
// it their midpoint, so a preemption in between costs accuracy, not
// correctness. Of a few tries it keeps the one whose reads were closest:
// the first calibration measures the TSC's rate over only 10 ms, where a
// microsecond of error is 100 ppm.
func sample() clockSample {
	var best clockSample
	bestGap := ^uint64(0)
	for range sampleTries {
		m0 := readClock(unix.CLOCK_MONOTONIC)
		tsc := rdtsc()
		m1 := readClock(unix.CLOCK_MONOTONIC)
		if m1-m0 >= bestGap {
			continue
		}
		real := readClock(unix.CLOCK_REALTIME)
		boot := readClock(unix.CLOCK_BOOTTIME)
		mono := m0 + (m1-m0)/2
		best = clockSample{tsc: tsc, mono: mono, real: real - (m1 - mono), boot: boot - (m1 - mono)}
		bestGap = m1 - m0
	}
	return best
}

// calibrator turns successive samples into the parameters the vDSO reads.
// The published CLOCK_MONOTONIC never goes backwards: each update starts
// from where the previous parameters had got to, and steers the rate so
// the published clock meets the host's over the next interval.
type calibrator struct {
	prev      clockSample
	have      bool // prev is valid
	published bool // the parameters below are live
	base      clockSample
	mult      uint64
}

// extrapolate returns the published CLOCK_MONOTONIC at tsc.
func (c *calibrator) extrapolate(tsc uint64) uint64 {
	if tsc <= c.base.tsc {
		return c.base.mono
	}
	return c.base.mono + scale(tsc-c.base.tsc, c.mult, shift)
}

// publish computes new parameters from sample s and writes them to p.
// rdtsc reads the TSC at the update (the sample is a little older).
func (c *calibrator) publish(p *params, s clockSample, rdtsc func() uint64) {
	if !c.have || s.tsc <= c.prev.tsc || s.mono <= c.prev.mono {
		c.prev, c.have = s, true
		return
	}
	cycles := s.tsc - c.prev.tsc
	ns := s.mono - c.prev.mono
	base := s
	if c.published {
		// Continue from the published clock; steer the error away over
		// roughly one interval, never more than 1% off the measured rate.
		at := c.extrapolate(s.tsc)
		errNS := int64(s.mono) - int64(at)
		if at > s.mono {
			base.mono = at
		}
		lim := int64(ns / 100)
		errNS = max(-lim, min(lim, errNS))
		if base.mono == at {
			ns = uint64(int64(ns) + errNS)
		}
		d := base.mono - s.mono
		base.real += d
		base.boot += d
	}
	hi, lo := bits.Mul64(ns, 1<<shift)
	if hi >= cycles {
		return // absurd rate: keep the old parameters
	}
	mult, _ := bits.Div64(hi, lo, cycles)

	seq := atomic.LoadUint64(&p.seq)
	atomic.StoreUint64(&p.seq, seq+1)
	// Rebase on the TSC of this update, read while readers retry: a
	// reader that took the TSC after the sample still got the old
	// parameters, and the new ones, which may run slower, must not give a
	// later TSC an earlier time than it saw.
	if now := rdtsc(); now > base.tsc {
		d := scale(now-base.tsc, mult, shift)
		if c.published {
			if old := c.extrapolate(now); old > base.mono+d {
				d = old - base.mono
			}
		}
		base.tsc = now
		base.mono += d
		base.real += d
		base.boot += d
	}
	c.prev, c.base, c.mult = s, base, mult
	atomic.StoreUint64(&p.tscBase, base.tsc)
	atomic.StoreUint64(&p.mono, base.mono)
	atomic.StoreUint64(&p.real, base.real)
	atomic.StoreUint64(&p.boot, base.boot)
	atomic.StoreUint64(&p.mult, mult)
	atomic.StoreUint64(&p.shift, shift)
	atomic.StoreUint64(&p.ready, 1)
	atomic.StoreUint64(&p.seq, seq+2)
	c.published = true
}
