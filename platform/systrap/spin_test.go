package systrap

import (
	"testing"
	"time"
)

func TestSpinPolicy(t *testing.T) {
	const poll = 10 * time.Nanosecond
	fast := 100 * poll                    // 100 polls as calibrated
	slow := 4*100*poll + time.Millisecond // far beyond the factor and the slack
	type step struct {
		n, polls  int
		d         time.Duration
		contended bool // after the step
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"fast spins stay full", []step{
			{maxSpin, 100, fast, false}, {maxSpin, maxSpin, maxSpin * poll, false},
		}},
		{"one slow spin is not contention", []step{
			{maxSpin, 100, slow, false}, {maxSpin, 100, fast, false},
			{maxSpin, 100, slow, false}, {maxSpin, 100, slow, false}, {maxSpin, 100, fast, false},
		}},
		{"slow spins in a row are", []step{
			{maxSpin, 100, slow, false}, {maxSpin, 100, slow, false}, {maxSpin, 100, slow, true},
			{maxSpin, 100, slow, true},
		}},
		{"short spins do not decide", []step{
			{maxSpin, 100, slow, false}, {maxSpin, 100, slow, false}, {maxSpin, 100, slow, true},
			{minSpin, minSpin, time.Second, true}, {minSpin, 3, time.Nanosecond, true},
		}},
		{"a fast probe ends it", []step{
			{maxSpin, 100, slow, false}, {maxSpin, 100, slow, false}, {maxSpin, 100, slow, true},
			{maxSpin, 500, fast * 5, false},
		}},
		{"the slack covers yields", []step{
			// 1000 polls, 7 yields: 8 slacks allowed above 4x.
			{maxSpin, maxSpin, 4*maxSpin*poll + 8*contendedSlack, false},
			{maxSpin, maxSpin, 4*maxSpin*poll + 8*contendedSlack + 1, false},
			{maxSpin, maxSpin, 4*maxSpin*poll + 8*contendedSlack + 1, false},
			{maxSpin, maxSpin, 4*maxSpin*poll + 8*contendedSlack + 1, true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &spinPolicy{poll: poll}
			for i, st := range tt.steps {
				s.spun(st.n, st.polls, st.d)
				if got := s.contended.Load(); got != st.contended {
					t.Fatalf("step %d (%d of %d polls in %v): contended %v, want %v", i, st.polls, st.n, st.d, got, st.contended)
				}
				wantStub := maxSpin
				if st.contended {
					wantStub = minSpin
				}
				if got := s.stubBudget(); got != wantStub {
					t.Errorf("step %d: stub budget %d, want %d", i, got, wantStub)
				}
			}
		})
	}
}

func TestSpinPolicyProbes(t *testing.T) {
	s := &spinPolicy{poll: time.Nanosecond}
	s.contended.Store(true)
	full := 0
	for i := 0; i < 10*probeEvery; i++ {
		switch b := s.budget(); b {
		case maxSpin:
			full++
		case minSpin:
		default:
			t.Fatalf("budget %d", b)
		}
	}
	if full != 10 {
		t.Errorf("%d full spins in %d contended waits, want 10", full, 10*probeEvery)
	}
	s.contended.Store(false)
	if b := s.budget(); b != maxSpin {
		t.Errorf("uncontended budget %d, want %d", b, maxSpin)
	}
	var none *spinPolicy
	if none.budget() != maxSpin || none.stubBudget() != maxSpin {
		t.Error("a nil policy must spin fully")
	}
	none.spun(maxSpin, 1, time.Hour) // must not panic
}

func TestNewSpinPolicyCalibrates(t *testing.T) {
	s := newSpinPolicy()
	if s.poll <= 0 {
		t.Errorf("calibrated poll %v, want a positive time", s.poll)
	}
	if s.contended.Load() {
		t.Error("a new policy starts contended")
	}
}
