package kernel

import "testing"

func TestCPUTimerExpire(t *testing.T) {
	for _, tc := range []struct {
		name       string
		timer      cpuTimer
		now        int64
		fires      bool
		nextExpiry int64
	}{
		{"disarmed", cpuTimer{}, 100, false, 0},
		{"not yet", cpuTimer{expiry: 50}, 49, false, 50},
		{"one shot", cpuTimer{expiry: 50}, 50, true, 0},
		{"interval re-arms from now", cpuTimer{expiry: 50, interval: 10}, 57, true, 67},
	} {
		c := tc.timer
		if got := c.expireLocked(tc.now); got != tc.fires || c.expiry != tc.nextExpiry {
			t.Errorf("%s: fires %v, expiry %d; want %v, %d", tc.name, got, c.expiry, tc.fires, tc.nextExpiry)
		}
	}
	c := cpuTimer{expiry: 100}
	if r := c.remainingLocked(40); r != 60 {
		t.Errorf("remaining = %d, want 60", r)
	}
	if r := c.remainingLocked(100); r != 1 {
		t.Errorf("remaining at expiry = %d, want 1 (armed timers never read 0)", r)
	}
}
