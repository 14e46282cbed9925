package vdso

import (
	"math/bits"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// shift is the fixed-point shift of the TSC-to-ns multiplier.
const shift = 32

// params is the layout of the data page, struct params in csrc/vdso.c.
// The sentry writes it (calibrator.publish) and both the guest's vDSO and
// the sentry read it (now); every field is accessed atomically, inside the
// seqlock that seq implements.
type params struct {
	seq     uint64 // odd while the sentry updates the page
	ready   uint64 // 1 once the TSC is calibrated
	tscBase uint64 // TSC at the instant below
	mono    uint64 // CLOCK_MONOTONIC at tscBase, ns
	real    uint64 // CLOCK_REALTIME at tscBase, ns
	boot    uint64 // CLOCK_BOOTTIME at tscBase, ns
	mult    uint64 // ns = (tsc - tscBase) * mult >> shift
	shift   uint64
}

// scale converts cycles to ns with a fixed-point multiplier, through a
// 128-bit product as vdso.c does.
func scale(cycles, mult, sh uint64) uint64 {
	hi, lo := bits.Mul64(cycles, mult)
	// Go's shifts of 64 or more give 0, so this holds for sh in [0, 64].
	return hi<<(64-sh) | lo>>sh
}

// now is vdso.c's now(): clock id (CLOCK_REALTIME, CLOCK_MONOTONIC or
// CLOCK_BOOTTIME) at the TSC that tsc returns. The TSC is read inside the
// seqlock window, as in the vDSO, so a reading always pairs with the
// parameters that were live when it was taken. ok is false before the
// first calibration or for another clock.
func (p *params) now(id int32, tsc func() uint64) (ns int64, ok bool) {
	for {
		seq := atomic.LoadUint64(&p.seq)
		if seq&1 != 0 {
			continue
		}
		if atomic.LoadUint64(&p.ready) == 0 {
			return 0, false
		}
		var base uint64
		switch id {
		case unix.CLOCK_REALTIME:
			base = atomic.LoadUint64(&p.real)
		case unix.CLOCK_MONOTONIC:
			base = atomic.LoadUint64(&p.mono)
		case unix.CLOCK_BOOTTIME:
			base = atomic.LoadUint64(&p.boot)
		default:
			return 0, false
		}
		t := tsc()
		tscBase := atomic.LoadUint64(&p.tscBase)
		mult, sh := atomic.LoadUint64(&p.mult), atomic.LoadUint64(&p.shift)
		if atomic.LoadUint64(&p.seq) != seq {
			continue
		}
		var delta uint64
		if t > tscBase {
			delta = t - tscBase
		}
		return int64(base + scale(delta, mult, sh)), true
	}
}
