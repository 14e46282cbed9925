package poll

import (
	"encoding/binary"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/waiter"
)

// Clocks a timerfd may use.
const (
	clockRealtime      = unix.CLOCK_REALTIME
	clockMonotonic     = unix.CLOCK_MONOTONIC
	clockBoottime      = unix.CLOCK_BOOTTIME
	clockRealtimeAlarm = unix.CLOCK_REALTIME_ALARM
	clockBoottimeAlarm = unix.CLOCK_BOOTTIME_ALARM

	tfdCloexec  = unix.O_CLOEXEC
	tfdNonblock = unix.O_NONBLOCK
	tfdAbstime  = unix.TFD_TIMER_ABSTIME
	tfdCancel   = unix.TFD_TIMER_CANCEL_ON_SET
)

// minRearm bounds how often a periodic timer with a tiny interval wakes
// the sentry while its expirations are not being read.
const minRearm = time.Millisecond

// TimerFD is the implementation of a timerfd_create(2) file. Expirations
// are counted from the guest's clock when the file is read or polled; a
// timer only wakes the waiters.
type TimerFD struct {
	noSeek
	clock *kernel.Clock
	id    int32 // the clock the timerfd was created on

	mu       sync.Mutex
	armed    bool
	on       int32 // the clock next is on: id, or kernel.RelativeClock(id) after a relative Set
	next     int64 // the next expiration, ns
	interval time.Duration
	ticks    uint64
	timer    *kernel.ClockTimer
	gen      uint64
	released bool
	queue    waiter.Queue
}

// NewTimerFD returns a disarmed timer on clock id of the guest's clock.
func NewTimerFD(clock *kernel.Clock, id int32) *TimerFD {
	return &TimerFD{clock: clock, id: id, on: kernel.RelativeClock(id)}
}

// nowLocked reads the clock the expirations are on (a valid clock:
// TimerfdCreate checked it).
func (tf *TimerFD) nowLocked() int64 {
	ns, _ := tf.clock.Now(tf.on)
	return ns
}

// updateLocked counts the expirations up to now.
func (tf *TimerFD) updateLocked(now int64) {
	if !tf.armed || now < tf.next {
		return
	}
	if tf.interval <= 0 {
		tf.ticks++
		tf.armed = false
		return
	}
	n := 1 + (now-tf.next)/int64(tf.interval)
	tf.ticks += uint64(n)
	tf.next += n * int64(tf.interval)
}

// scheduleLocked arms the timer for the next expiration.
func (tf *TimerFD) scheduleLocked(now int64) {
	if tf.timer != nil {
		tf.timer.Stop()
		tf.timer = nil
	}
	if !tf.armed || tf.released {
		return
	}
	at := tf.next
	if tf.ticks > 0 {
		at = max(at, now+int64(minRearm))
	}
	dl, _ := tf.clock.At(tf.on, at)
	gen := tf.gen
	tf.timer = tf.clock.AfterFunc(dl, func() { tf.fire(gen) })
}

func (tf *TimerFD) fire(gen uint64) {
	tf.mu.Lock()
	if gen != tf.gen || tf.released {
		tf.mu.Unlock()
		return
	}
	now := tf.nowLocked()
	tf.updateLocked(now)
	ready := tf.ticks > 0
	tf.scheduleLocked(now)
	tf.mu.Unlock()
	if ready {
		tf.queue.Notify(waiter.EventIn | waiter.EventRdNorm)
	}
}

// remainingLocked is the time until the next expiration (0: disarmed).
func (tf *TimerFD) remainingLocked(now int64) time.Duration {
	if !tf.armed {
		return 0
	}
	return time.Duration(max(tf.next-now, 1))
}

// Set arms the timer (value > 0, relative or, with abs, an absolute time
// of the timer's clock) or disarms it (value == 0), resets the expiration
// count, and returns the previous remaining time and interval.
func (tf *TimerFD) Set(value, interval time.Duration, abs bool) (oldValue, oldInterval time.Duration) {
	tf.mu.Lock()
	now := tf.nowLocked()
	tf.updateLocked(now)
	oldValue, oldInterval = tf.remainingLocked(now), tf.interval
	tf.gen++
	tf.ticks = 0
	tf.armed = false
	tf.interval = min(interval, maxTimeout)
	if value > 0 {
		// An absolute time is on the timer's clock; a relative one runs
		// on CLOCK_MONOTONIC (or CLOCK_BOOTTIME), as Linux's.
		tf.on = kernel.RelativeClock(tf.id)
		if abs {
			tf.on = tf.id
		}
		now = tf.nowLocked()
		tf.next = now + int64(min(value, maxTimeout))
		if abs {
			tf.next = min(int64(value), now+int64(maxTimeout))
		}
		tf.armed = true
		tf.updateLocked(now)
	}
	tf.scheduleLocked(now)
	expired := tf.ticks > 0
	tf.mu.Unlock()
	if expired {
		// An absolute time in the past expires at once.
		tf.queue.Notify(waiter.EventIn | waiter.EventRdNorm)
	}
	return oldValue, oldInterval
}

// Get returns the remaining time and the interval.
func (tf *TimerFD) Get() (value, interval time.Duration) {
	tf.mu.Lock()
	defer tf.mu.Unlock()
	now := tf.nowLocked()
	tf.updateLocked(now)
	return tf.remainingLocked(now), tf.interval
}

// Release implements vfs.FileImpl.
func (tf *TimerFD) Release(vfs.Context) {
	tf.mu.Lock()
	defer tf.mu.Unlock()
	tf.released = true
	tf.gen++
	if tf.timer != nil {
		tf.timer.Stop()
		tf.timer = nil
	}
}

// Read implements vfs.StreamFile: it returns the number of expirations
// since the last read (8 bytes) or EAGAIN.
func (tf *TimerFD) Read(_ vfs.Context, dst []byte) (int, error) {
	if len(dst) < 8 {
		return 0, unix.EINVAL
	}
	tf.mu.Lock()
	now := tf.nowLocked()
	tf.updateLocked(now)
	n := tf.ticks
	tf.ticks = 0
	if n > 0 && tf.armed {
		// Back to the regular schedule after a throttled re-arm.
		tf.scheduleLocked(now)
	}
	tf.mu.Unlock()
	if n == 0 {
		return 0, unix.EAGAIN
	}
	binary.LittleEndian.PutUint64(dst, n)
	return 8, nil
}

// Write implements vfs.StreamFile.
func (tf *TimerFD) Write(vfs.Context, []byte) (int, error) { return 0, unix.EINVAL }

// Readiness implements vfs.Waitable.
func (tf *TimerFD) Readiness(mask waiter.EventMask) waiter.EventMask {
	tf.mu.Lock()
	tf.updateLocked(tf.nowLocked())
	n := tf.ticks
	tf.mu.Unlock()
	if n > 0 {
		return mask & (waiter.EventIn | waiter.EventRdNorm)
	}
	return 0
}

// EventRegister implements vfs.Waitable.
func (tf *TimerFD) EventRegister(e *waiter.Entry) { tf.queue.Register(e) }

// EventUnregister implements vfs.Waitable.
func (tf *TimerFD) EventUnregister(e *waiter.Entry) { tf.queue.Unregister(e) }

// TimerfdCreate implements timerfd_create(2).
func TimerfdCreate(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	clock, flags := int32(a[0]), uint32(a[1])
	if flags&^uint32(tfdCloexec|tfdNonblock) != 0 {
		return 0, unix.EINVAL
	}
	switch clock {
	case clockRealtime, clockMonotonic, clockBoottime:
	case clockRealtimeAlarm, clockBoottimeAlarm:
		if !t.Creds().HasCap(unix.CAP_WAKE_ALARM) {
			return 0, unix.EPERM
		}
	default:
		return 0, unix.EINVAL
	}
	f := newAnonFile(t.Kernel().VFS(), t.VFSContext(), "timerfd", NewTimerFD(t.Kernel().Clock, clock), unix.O_RDWR|flags&tfdNonblock)
	return installFile(t, f, flags&tfdCloexec != 0)
}

// getTimerFD returns the timerfd at fd: EBADF if fd is not open, EINVAL
// if it is not a timerfd.
func getTimerFD(t *kernel.Task, fd int32) (*vfs.File, *TimerFD, error) {
	f := getPollFile(t, fd)
	if f == nil {
		return nil, nil, unix.EBADF
	}
	tf, ok := f.Impl().(*TimerFD)
	if !ok {
		f.DecRef(t.VFSContext())
		return nil, nil, unix.EINVAL
	}
	return f, tf, nil
}

func encodeItimerspec(value, interval time.Duration) []byte {
	b := make([]byte, 32)
	putTimespec(b[0:], interval)
	putTimespec(b[16:], value)
	return b
}

// TimerfdSettime implements timerfd_settime(2).
func TimerfdSettime(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	fd, flags, newAddr, oldAddr := int32(a[0]), int32(a[1]), a[2], a[3]
	var b [32]byte
	if _, err := t.CopyIn(newAddr, b[:]); err != nil {
		return 0, unix.EFAULT
	}
	var v [4]int64
	for i := range v {
		v[i] = int64(binary.LittleEndian.Uint64(b[i*8:]))
	}
	// struct itimerspec { it_interval, it_value }.
	for i := 0; i < 4; i += 2 {
		if v[i] < 0 || v[i+1] < 0 || v[i+1] >= 1e9 {
			return 0, unix.EINVAL
		}
	}
	if flags&^(tfdAbstime|tfdCancel) != 0 {
		return 0, unix.EINVAL
	}
	f, tf, err := getTimerFD(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.VFSContext())
	interval := specDuration(v[0], v[1])
	value := specDuration(v[2], v[3])
	oldV, oldI := tf.Set(value, interval, flags&tfdAbstime != 0)
	if oldAddr != 0 {
		if _, err := t.CopyOut(oldAddr, encodeItimerspec(oldV, oldI)); err != nil {
			return 0, unix.EFAULT
		}
	}
	return 0, nil
}

// specDuration converts a validated timespec, saturating.
func specDuration(sec, nsec int64) time.Duration {
	if sec >= (1<<63-1)/int64(time.Second) {
		return 1<<63 - 1
	}
	return time.Duration(sec)*time.Second + time.Duration(nsec)
}

// TimerfdGettime implements timerfd_gettime(2).
func TimerfdGettime(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	f, tf, err := getTimerFD(t, int32(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.VFSContext())
	v, i := tf.Get()
	if _, err := t.CopyOut(a[1], encodeItimerspec(v, i)); err != nil {
		return 0, unix.EFAULT
	}
	return 0, nil
}
