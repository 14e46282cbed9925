package poll

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/vfs/waiter"
)

func readTicks(t *testing.T, tf *TimerFD) (uint64, error) {
	t.Helper()
	b := make([]byte, 8)
	n, err := tf.Read(testCtx, b)
	if err != nil {
		return 0, err
	}
	if n != 8 {
		t.Fatalf("read %d bytes", n)
	}
	return binary.LittleEndian.Uint64(b), nil
}

func TestTimerFD(t *testing.T) {
	tests := []struct {
		name     string
		clock    int32
		value    time.Duration
		interval time.Duration
		abs      bool
		minTicks uint64
		armed    bool // still armed after expiring
	}{
		{"oneshot monotonic", clockMonotonic, 5 * time.Millisecond, 0, false, 1, false},
		{"periodic monotonic", clockMonotonic, time.Millisecond, 5 * time.Millisecond, false, 2, true},
		{"oneshot realtime", clockRealtime, 5 * time.Millisecond, 0, false, 1, false},
		{"boottime periodic", clockBoottime, 2 * time.Millisecond, 10 * time.Millisecond, false, 1, true},
		{"absolute past", clockMonotonic, time.Nanosecond, 0, true, 1, false},
		{"absolute past periodic", clockRealtime, time.Nanosecond, time.Hour, true, 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tf := NewTimerFD(kernel.NewClock(nil), tc.clock)
			defer tf.Release(testCtx)
			if _, err := readTicks(t, tf); err != unix.EAGAIN {
				t.Fatalf("disarmed read: %v", err)
			}
			e, ch := waiter.NewChannelEntry(waiter.EventIn)
			tf.EventRegister(e)
			defer tf.EventUnregister(e)
			tf.Set(tc.value, tc.interval, tc.abs)
			select {
			case <-ch:
			case <-time.After(5 * time.Second):
				t.Fatal("no notification")
			}
			time.Sleep(50 * time.Millisecond)
			if tf.Readiness(waiter.EventIn) == 0 {
				t.Fatal("not readable after expiring")
			}
			n, err := readTicks(t, tf)
			if err != nil || n < tc.minTicks {
				t.Fatalf("ticks %d, %v; want >= %d", n, err, tc.minTicks)
			}
			v, i := tf.Get()
			if (v != 0) != tc.armed || i != tc.interval {
				t.Fatalf("get: value %v interval %v", v, i)
			}
			if !tc.armed {
				if _, err := readTicks(t, tf); err != unix.EAGAIN {
					t.Fatalf("second read: %v", err)
				}
			}
		})
	}
}

func TestTimerFDSetResets(t *testing.T) {
	tf := NewTimerFD(kernel.NewClock(nil), clockMonotonic)
	defer tf.Release(testCtx)
	tf.Set(time.Nanosecond, 0, true) // expires at once
	if tf.Readiness(waiter.EventIn) == 0 {
		t.Fatal("absolute time in the past not expired")
	}
	oldV, oldI := tf.Set(time.Hour, time.Minute, false)
	if oldV != 0 || oldI != 0 {
		t.Fatalf("old %v %v", oldV, oldI)
	}
	if _, err := readTicks(t, tf); err != unix.EAGAIN {
		t.Fatalf("settime did not reset the count: %v", err)
	}
	v, i := tf.Get()
	if v <= 59*time.Minute || v > time.Hour || i != time.Minute {
		t.Fatalf("get %v %v", v, i)
	}
	oldV, oldI = tf.Set(0, 0, false)
	if oldV <= 59*time.Minute || oldI != time.Minute {
		t.Fatalf("old %v %v", oldV, oldI)
	}
	if v, _ := tf.Get(); v != 0 {
		t.Fatalf("disarmed value %v", v)
	}
	// Absolute far future.
	now, _ := kernel.NewClock(nil).Now(clockMonotonic)
	tf.Set(time.Duration(now)+time.Hour, 0, true)
	if v, _ := tf.Get(); v <= 59*time.Minute || v > time.Hour {
		t.Fatalf("absolute: %v", v)
	}
	tf.Set(1<<63-1, 0, false)
	if v, _ := tf.Get(); v <= 0 {
		t.Fatalf("huge: %v", v)
	}
	if _, err := tf.Read(testCtx, make([]byte, 7)); err != unix.EINVAL {
		t.Fatalf("short read: %v", err)
	}
}

// fakeSignals is a signalSource.
type fakeSignals struct {
	mu      sync.Mutex
	pending []*kernel.SigInfo
	waiters waiter.Queue
}

func (f *fakeSignals) RegisterSignalWaiter(e *waiter.Entry)   { f.waiters.Register(e) }
func (f *fakeSignals) UnregisterSignalWaiter(e *waiter.Entry) { f.waiters.Unregister(e) }

func (f *fakeSignals) PendingSignals() kernel.SigSet {
	f.mu.Lock()
	defer f.mu.Unlock()
	var s kernel.SigSet
	for _, si := range f.pending {
		s |= kernel.SigBit(si.Signo)
	}
	return s
}

func (f *fakeSignals) DequeueSignal(mask kernel.SigSet) *kernel.SigInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, si := range f.pending {
		if mask&kernel.SigBit(si.Signo) != 0 {
			f.pending = append(f.pending[:i], f.pending[i+1:]...)
			return si
		}
	}
	return nil
}

func (f *fakeSignals) send(si *kernel.SigInfo) {
	f.mu.Lock()
	f.pending = append(f.pending, si)
	f.mu.Unlock()
	f.waiters.Notify(waiter.EventIn)
}

func TestSignalFD(t *testing.T) {
	src := &fakeSignals{}
	usr1, usr2 := int32(unix.SIGUSR1), int32(unix.SIGUSR2)
	kill := int32(unix.SIGKILL)
	s := newSignalFD(src, src, kernel.SigBit(usr1)|kernel.SigBit(kill))
	defer s.Release(testCtx)
	if s.Mask() != kernel.SigBit(usr1) {
		t.Fatalf("mask %#x", s.Mask())
	}
	buf := make([]byte, 3*signalfdSiginfoSize)
	if _, err := s.Read(testCtx, buf); err != unix.EAGAIN {
		t.Fatalf("empty read: %v", err)
	}
	if _, err := s.Read(testCtx, buf[:100]); err != unix.EINVAL {
		t.Fatalf("short read: %v", err)
	}
	e, ch := waiter.NewChannelEntry(waiter.EventIn)
	s.EventRegister(e)
	defer s.EventUnregister(e)
	src.send(&kernel.SigInfo{Signo: usr2, Code: linux.SI_USER, PID: 7})
	src.send(&kernel.SigInfo{Signo: usr1, Code: linux.SI_QUEUE, PID: 42, UID: 1000, Value: 0x1234})
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("no notification")
	}
	if s.Readiness(waiter.EventIn) == 0 {
		t.Fatal("not readable")
	}
	n, err := s.Read(testCtx, buf)
	if err != nil || n != signalfdSiginfoSize {
		t.Fatalf("read %d %v", n, err)
	}
	le := binary.LittleEndian
	if le.Uint32(buf[0:]) != uint32(usr1) || int32(le.Uint32(buf[8:])) != linux.SI_QUEUE ||
		le.Uint32(buf[12:]) != 42 || le.Uint32(buf[16:]) != 1000 || le.Uint32(buf[44:]) != 0x1234 || le.Uint64(buf[48:]) != 0x1234 {
		t.Fatalf("siginfo %x", buf[:64])
	}
	// SIGUSR2 is not in the mask: still pending, not readable.
	if s.Readiness(waiter.EventIn) != 0 {
		t.Fatal("readable with only unmasked signals")
	}
	s.SetMask(kernel.SigBit(usr2))
	if n, err := s.Read(testCtx, buf); err != nil || n != signalfdSiginfoSize || le.Uint32(buf[0:]) != uint32(usr2) {
		t.Fatalf("after SetMask: %d %v", n, err)
	}
}

func TestSignalfdSiginfoLayout(t *testing.T) {
	le := binary.LittleEndian
	tests := []struct {
		si   kernel.SigInfo
		off  int
		size int
		want uint64
	}{
		{kernel.SigInfo{Signo: int32(unix.SIGSEGV), Code: 1, Addr: 0xdead000}, 72, 8, 0xdead000},
		{kernel.SigInfo{Signo: int32(unix.SIGCHLD), Code: 1, PID: 9, Status: 3}, 40, 4, 3},
		{kernel.SigInfo{Signo: int32(unix.SIGCHLD), Code: 1, PID: 9, Status: 3}, 12, 4, 9},
		{kernel.SigInfo{Signo: 34, Code: linux.SI_TIMER, TimerID: 5, Overrun: 2, Value: 77}, 24, 4, 5},
		{kernel.SigInfo{Signo: 34, Code: linux.SI_TIMER, TimerID: 5, Overrun: 2, Value: 77}, 32, 4, 2},
		{kernel.SigInfo{Signo: 34, Code: linux.SI_TIMER, TimerID: 5, Overrun: 2, Value: 77}, 48, 8, 77},
		{kernel.SigInfo{Signo: int32(unix.SIGTERM), Code: linux.SI_USER, PID: 3, UID: 4}, 16, 4, 4},
		{kernel.SigInfo{Signo: int32(unix.SIGSYS), Code: 1, SyscallNr: 39}, 84, 4, 39},
	}
	for i, tc := range tests {
		b := EncodeSignalfdSiginfo(&tc.si)
		if len(b) != 128 {
			t.Fatalf("size %d", len(b))
		}
		var got uint64
		if tc.size == 4 {
			got = uint64(le.Uint32(b[tc.off:]))
		} else {
			got = le.Uint64(b[tc.off:])
		}
		if got != tc.want {
			t.Errorf("case %d: offset %d = %d, want %d", i, tc.off, got, tc.want)
		}
	}
}

func TestEpollOnEventFDAndTimerFD(t *testing.T) {
	v := newVFSForTest()
	efd, err := NewEventFDFile(v, testCtx, 0, unix.O_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	defer efd.DecRef(testCtx)
	tfd := NewTimerFD(kernel.NewClock(nil), clockMonotonic)
	tfile := newTestFile(t, v, tfd)
	ep := NewEpoll()
	if err := ep.Ctl(testCtx, unix.EPOLL_CTL_ADD, efd, 3, EpollEvent{Events: unix.EPOLLIN | unix.EPOLLET, Data: 3}); err != nil {
		t.Fatal(err)
	}
	if err := ep.Ctl(testCtx, unix.EPOLL_CTL_ADD, tfile, 4, EpollEvent{Events: unix.EPOLLIN, Data: 4}); err != nil {
		t.Fatal(err)
	}
	e, ch := waiter.NewChannelEntry(waiter.EventIn)
	ep.EventRegister(e)
	defer ep.EventUnregister(e)
	tfd.Set(time.Millisecond, 0, false)
	efd.Write(testCtx, u64(1))
	got := map[uint64]bool{}
	deadline := time.After(5 * time.Second)
	for len(got) < 2 {
		for _, ev := range ep.Harvest(testCtx, 8) {
			got[ev.Data] = true
		}
		if len(got) < 2 {
			select {
			case <-ch:
			case <-deadline:
				t.Fatalf("events %v", got)
			}
		}
	}
}

// guestClock is a kernel.ClockSource whose CLOCK_MONOTONIC the test sets.
type guestClock struct{ mono atomic.Int64 }

func (g *guestClock) Now(id int32) (int64, bool) {
	return g.mono.Load(), id == unix.CLOCK_MONOTONIC
}

// TestTimerFDOnGuestClock: a timerfd's times are on the guest's clock, not
// the host's: an absolute time reads back as exactly the time left on that
// clock, and the timer expires when that clock gets there, not before.
func TestTimerFDOnGuestClock(t *testing.T) {
	var g guestClock
	g.mono.Store(1e9)
	tf := NewTimerFD(kernel.NewClock(&g), clockMonotonic)
	defer tf.Release(testCtx)
	e, ch := waiter.NewChannelEntry(waiter.EventIn)
	tf.EventRegister(e)
	defer tf.EventUnregister(e)

	// Times are a few milliseconds apart: a host timer armed for the
	// time left runs that long on the host's clock whatever the test
	// does to the guest's.
	const ms = int64(time.Millisecond)
	tf.Set(time.Duration(1e9+3*ms), time.Millisecond, true)
	if v, i := tf.Get(); v != 3*time.Millisecond || i != time.Millisecond {
		t.Fatalf("get after arming at 1.003s with the clock at 1s: %v %v, want 3ms 1ms", v, i)
	}
	g.mono.Store(1e9 + 3*ms - 1)
	if v, _ := tf.Get(); v != time.Nanosecond {
		t.Fatalf("get a nanosecond before: %v", v)
	}
	// The host's timer has run out; the guest's clock has not reached
	// the expiration.
	time.Sleep(20 * time.Millisecond)
	if tf.Readiness(waiter.EventIn) != 0 {
		t.Fatal("readable before the guest's clock reached the expiration")
	}
	select {
	case <-ch:
		t.Fatal("notified before the guest's clock reached the expiration")
	default:
	}
	g.mono.Store(1e9 + 6*ms + ms/2)
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("no notification once the guest's clock passed the expiration")
	}
	if n, err := readTicks(t, tf); n != 4 || err != nil {
		t.Fatalf("ticks at 1.0065s of a timer at 1.003s every 1ms: %d, %v; want 4", n, err)
	}
	if v, _ := tf.Get(); v != 500*time.Microsecond {
		t.Fatalf("get at 1.0065s: %v, want 500us", v)
	}
	// A relative time runs on CLOCK_MONOTONIC from the guest's now.
	tf.Set(2*time.Second, 0, false)
	if v, _ := tf.Get(); v != 2*time.Second {
		t.Fatalf("get after arming for 2s: %v", v)
	}
}
