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

// sample reads the TSC between two reads of CLOCK_MONOTONIC and attributes
// it their midpoint, so a preemption in between costs accuracy, not
// correctness.
func sample() clockSample {
	m0 := readClock(unix.CLOCK_MONOTONIC)
	tsc := rdtsc()
	m1 := readClock(unix.CLOCK_MONOTONIC)
	real := readClock(unix.CLOCK_REALTIME)
	boot := readClock(unix.CLOCK_BOOTTIME)
	mono := m0 + (m1-m0)/2
	return clockSample{tsc: tsc, mono: mono, real: real - (m1 - mono), boot: boot - (m1 - mono)}
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
	hi, lo := bits.Mul64(tsc-c.base.tsc, c.mult)
	return c.base.mono + (hi<<(64-shift) | lo>>shift)
}

func (c *calibrator) publish(param func(int) *uint64, s clockSample) {
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
	c.prev, c.base, c.mult = s, base, mult

	seq := param(offSeq)
	n := atomic.LoadUint64(seq)
	atomic.StoreUint64(seq, n+1)
	atomic.StoreUint64(param(offTSCBase), base.tsc)
	atomic.StoreUint64(param(offMono), base.mono)
	atomic.StoreUint64(param(offReal), base.real)
	atomic.StoreUint64(param(offBoot), base.boot)
	atomic.StoreUint64(param(offMult), mult)
	atomic.StoreUint64(param(offShift), shift)
	atomic.StoreUint64(param(offReady), 1)
	atomic.StoreUint64(seq, n+2)
	c.published = true
}
