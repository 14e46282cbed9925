package vdso

import (
	"math/bits"
	"testing"
)

// fakePage is a data page in ordinary memory.
type fakePage [8]uint64

func (p *fakePage) param(off int) *uint64 { return &p[off/8] }

// read computes what the vDSO would return for CLOCK_MONOTONIC at tsc.
func (p *fakePage) read(tsc uint64) uint64 {
	hi, lo := bits.Mul64(tsc-p[offTSCBase/8], p[offMult/8])
	return p[offMono/8] + (hi<<(64-shift) | lo>>p[offShift/8])
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
			var page fakePage
			var c calibrator
			host := func(tsc uint64) uint64 {
				ns := float64(tsc) / ghz
				return uint64(ns + ns*float64(tc.ppm)/1e6)
			}
			tsc := uint64(1e12)
			c.publish(page.param, clockSample{tsc: tsc, mono: host(tsc), real: host(tsc) + 1e18, boot: host(tsc)})
			if page[offReady/8] != 0 {
				t.Fatal("ready after a single sample")
			}
			last := uint64(0)
			for step := 1; step <= 40; step++ {
				next := tsc + 1_300_000_000 // 0.5 s of cycles
				c.publish(page.param, clockSample{tsc: next, mono: host(next), real: host(next) + 1e18, boot: host(next)})
				if page[offReady/8] != 1 || page[offSeq/8]%2 != 0 {
					t.Fatalf("step %d: ready %d seq %d", step, page[offReady/8], page[offSeq/8])
				}
				// Readings across the update never go backwards.
				for x := tsc; x <= next; x += 13_000_000 {
					if v := page.read(max(x, page[offTSCBase/8])); v < last {
						t.Fatalf("step %d: clock went back from %d to %d", step, last, v)
					} else {
						last = v
					}
				}
				tsc = next
			}
			// After settling, the published clock tracks the host's.
			if d := int64(page.read(tsc)) - int64(host(tsc)); d > 1e6 || d < -1e6 {
				t.Fatalf("published clock is %d ns off the host's", d)
			}
			if r, m := page[offReal/8], page[offMono/8]; r-m != 1e18 {
				t.Fatalf("realtime - monotonic = %d, want 1e18", r-m)
			}
		})
	}
}
