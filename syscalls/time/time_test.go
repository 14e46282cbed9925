package time

import "testing"

func TestDecodeCPUClock(t *testing.T) {
	// makeClock is glibc's MAKE_PROCESS_CPUCLOCK / MAKE_THREAD_CPUCLOCK.
	makeClock := func(pid, which int32, thread bool) int32 {
		id := ^pid<<3 | which
		if thread {
			id |= cpuClockPerThread
		}
		return id
	}
	for _, tc := range []struct {
		name      string
		id        int32
		pid       int32
		which     int32
		perThread bool
		ok        bool
	}{
		{"self process sched", makeClock(0, cpuClockSched, false), 0, cpuClockSched, false, true},
		{"pid 42 prof", makeClock(42, cpuClockProf, false), 42, cpuClockProf, false, true},
		{"tid 7 virt thread", makeClock(7, cpuClockVirt, true), 7, cpuClockVirt, true, true},
		{"max pid", makeClock(1<<22, cpuClockSched, true), 1 << 22, cpuClockSched, true, true},
		{"type 3 is not a clock", makeClock(5, 3, false), 5, 3, false, false},
		{"-6: the caller's process", -6, 0, cpuClockSched, false, true},
		{"-2: the calling thread", -2, 0, cpuClockSched, true, true},
	} {
		pid, which, perThread, ok := decodeCPUClock(tc.id)
		if ok != tc.ok || (ok && (pid != tc.pid || which != tc.which || perThread != tc.perThread)) {
			t.Errorf("%s: decodeCPUClock(%d) = %d, %d, %v, %v; want %d, %d, %v, %v", tc.name, tc.id,
				pid, which, perThread, ok, tc.pid, tc.which, tc.perThread, tc.ok)
		}
	}
}
