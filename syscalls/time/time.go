// Package time implements the clock, sleep and timer system calls.
package time

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// Syscalls returns the time system calls.
func Syscalls() map[uintptr]kernel.Syscall {
	return map[uintptr]kernel.Syscall{
		unix.SYS_CLOCK_GETTIME:    {Name: "clock_gettime", Fn: ClockGettime},
		unix.SYS_CLOCK_GETRES:     {Name: "clock_getres", Fn: ClockGetres},
		unix.SYS_CLOCK_SETTIME:    {Name: "clock_settime", Fn: ClockSettime, Partial: "CLOCK_REALTIME is EPERM: the sandbox cannot set the host's clock"},
		unix.SYS_SETTIMEOFDAY:     {Name: "settimeofday", Fn: eperm, Partial: "always EPERM: the sandbox cannot set the host's clocks"},
		unix.SYS_ADJTIMEX:         {Name: "adjtimex", Fn: eperm, Partial: "always EPERM, even for read-only queries (modes 0)"},
		unix.SYS_GETTIMEOFDAY:     {Name: "gettimeofday", Fn: Gettimeofday},
		unix.SYS_TIME:             {Name: "time", Fn: Time},
		unix.SYS_NANOSLEEP:        {Name: "nanosleep", Fn: Nanosleep},
		unix.SYS_CLOCK_NANOSLEEP:  {Name: "clock_nanosleep", Fn: ClockNanosleep},
		unix.SYS_ALARM:            {Name: "alarm", Fn: Alarm},
		unix.SYS_SETITIMER:        {Name: "setitimer", Fn: Setitimer},
		unix.SYS_GETITIMER:        {Name: "getitimer", Fn: Getitimer},
		unix.SYS_TIMES:            {Name: "times", Fn: Times},
		unix.SYS_TIMER_CREATE:     {Name: "timer_create", Fn: TimerCreate},
		unix.SYS_TIMER_SETTIME:    {Name: "timer_settime", Fn: TimerSettime},
		unix.SYS_TIMER_GETTIME:    {Name: "timer_gettime", Fn: TimerGettime},
		unix.SYS_TIMER_GETOVERRUN: {Name: "timer_getoverrun", Fn: TimerGetoverrun},
		unix.SYS_TIMER_DELETE:     {Name: "timer_delete", Fn: TimerDelete},
		unix.SYS_RESTART_SYSCALL: {Name: "restart_syscall", Fn: func(t *kernel.Task, _ *kernel.SyscallArgs) (uint64, error) {
			return t.RestartSyscall()
		}},
	}
}

func eperm(*kernel.Task, *kernel.SyscallArgs) (uint64, error) { return 0, unix.EPERM }

// ClockSettime implements clock_settime(2): only CLOCK_REALTIME is
// settable on Linux (others are EINVAL), and the sandbox never changes the
// host's clock.
func ClockSettime(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	if int32(a[0]) != unix.CLOCK_REALTIME {
		return 0, unix.EINVAL
	}
	if _, err := GetTimespec(t, a[1]); err != nil {
		return 0, err
	}
	return 0, unix.EPERM
}

// Now reads clock id (validated): a wall clock from the guest's clock
// (the one its vDSO reads), a CPU-time clock from the task's accounting.
func Now(id int32, t *kernel.Task) (unix.Timespec, error) {
	var ts unix.Timespec
	if kernel.WallClock(id) {
		ns, err := t.Kernel().Clock.Now(id)
		return unix.NsecToTimespec(ns), err
	}
	switch id {
	case unix.CLOCK_PROCESS_CPUTIME_ID:
		u, s, _, _ := t.ThreadGroup().CPUTimes()
		ts = unix.NsecToTimespec(u + s)
	case unix.CLOCK_THREAD_CPUTIME_ID:
		u, s := t.CPUTimes()
		ts = unix.NsecToTimespec(u + s)
	default:
		if id < 0 {
			return cpuClockNow(t, id)
		}
		return ts, unix.EINVAL
	}
	return ts, nil
}

// Linux's encoding of the CPU-time clock of a process or thread in a
// negative clock ID: ^pid<<3 | perThread | which.
const (
	cpuClockProf      = 0 // user + system time
	cpuClockVirt      = 1 // user time
	cpuClockSched     = 2 // time on CPU
	cpuClockWhichMask = 3
	cpuClockPerThread = 4
)

// decodeCPUClock splits a negative clock ID into its PID, clock type and
// per-thread bit; ok is false for IDs that name no CPU clock.
func decodeCPUClock(id int32) (pid, which int32, perThread, ok bool) {
	pid, which = ^(id >> 3), id&cpuClockWhichMask
	return pid, which, id&cpuClockPerThread != 0, id < 0 && which <= cpuClockSched
}

// cpuClockNow reads the CPU-time clock id (from clock_getcpuclockid or
// pthread_getcpuclockid). PID 0 is the caller; a thread clock must name a
// thread of the caller's process; a PID that is gone is EINVAL.
func cpuClockNow(t *kernel.Task, id int32) (unix.Timespec, error) {
	pid, which, perThread, ok := decodeCPUClock(id)
	if !ok {
		return unix.Timespec{}, unix.EINVAL
	}
	target := t
	if pid != 0 {
		if target = t.Kernel().TaskByTID(pid); target == nil {
			return unix.Timespec{}, unix.EINVAL
		}
	}
	var user, sys int64
	if perThread {
		if target.ThreadGroup() != t.ThreadGroup() {
			return unix.Timespec{}, unix.EINVAL
		}
		user, sys = target.CPUTimes()
	} else {
		user, sys, _, _ = target.ThreadGroup().CPUTimes()
	}
	if which == cpuClockVirt {
		sys = 0
	}
	return unix.NsecToTimespec(user + sys), nil
}

func putTimespec(t *kernel.Task, addr uint64, ts unix.Timespec) error {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[0:], uint64(ts.Sec))
	binary.LittleEndian.PutUint64(b[8:], uint64(ts.Nsec))
	if _, err := t.CopyOut(addr, b[:]); err != nil {
		return unix.EFAULT
	}
	return nil
}

// GetTimespec reads a struct timespec, validating it.
func GetTimespec(t *kernel.Task, addr uint64) (unix.Timespec, error) {
	var b [16]byte
	if _, err := t.CopyIn(addr, b[:]); err != nil {
		return unix.Timespec{}, unix.EFAULT
	}
	ts := unix.Timespec{Sec: int64(binary.LittleEndian.Uint64(b[0:])), Nsec: int64(binary.LittleEndian.Uint64(b[8:]))}
	if ts.Sec < 0 || ts.Nsec < 0 || ts.Nsec >= 1e9 {
		return ts, unix.EINVAL
	}
	return ts, nil
}

// ClockGettime implements clock_gettime(2).
func ClockGettime(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	ts, err := Now(int32(a[0]), t)
	if err != nil {
		return 0, err
	}
	return 0, putTimespec(t, a[1], ts)
}

// ClockGetres implements clock_getres(2).
func ClockGetres(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	if _, err := Now(int32(a[0]), t); err != nil {
		return 0, err
	}
	if a[1] == 0 {
		return 0, nil
	}
	res := unix.Timespec{Nsec: 1}
	switch int32(a[0]) {
	case unix.CLOCK_REALTIME_COARSE, unix.CLOCK_MONOTONIC_COARSE:
		res.Nsec = 4000000
	}
	return 0, putTimespec(t, a[1], res)
}

// Gettimeofday implements gettimeofday(2).
func Gettimeofday(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	if a[0] != 0 {
		now, _ := t.Kernel().Clock.Now(unix.CLOCK_REALTIME)
		var b [16]byte
		binary.LittleEndian.PutUint64(b[0:], uint64(now/1e9))
		binary.LittleEndian.PutUint64(b[8:], uint64(now%1e9/1000))
		if _, err := t.CopyOut(a[0], b[:]); err != nil {
			return 0, unix.EFAULT
		}
	}
	if a[1] != 0 {
		var b [8]byte
		if _, err := t.CopyOut(a[1], b[:]); err != nil {
			return 0, unix.EFAULT
		}
	}
	return 0, nil
}

// Time implements time(2).
func Time(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	ns, _ := t.Kernel().Clock.Now(unix.CLOCK_REALTIME)
	now := uint64(ns / 1e9)
	if a[0] != 0 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], now)
		if _, err := t.CopyOut(a[0], b[:]); err != nil {
			return 0, unix.EFAULT
		}
	}
	return now, nil
}

// Nanosleep implements nanosleep(2).
func Nanosleep(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	ts, err := GetTimespec(t, a[0])
	if err != nil {
		return 0, err
	}
	return sleepUntil(t, t.Kernel().Clock.After(kernel.SpecDuration(ts.Sec, ts.Nsec)), a[1])
}

// sleepUntil sleeps until deadline; when interrupted it writes the time left
// on the guest's clock to rem (if non-zero) and arranges restart_syscall to
// continue the sleep.
func sleepUntil(t *kernel.Task, deadline kernel.Deadline, rem uint64) (uint64, error) {
	err := t.Block(nil, deadline)
	if err == unix.ETIMEDOUT || err == nil {
		return 0, nil
	}
	left := t.Kernel().Clock.Until(deadline)
	if rem != 0 {
		if err := putTimespec(t, rem, unix.NsecToTimespec(int64(left))); err != nil {
			return 0, err
		}
	}
	t.SetRestartBlock(func(t *kernel.Task) (uint64, error) { return sleepUntil(t, deadline, rem) })
	return 0, kernel.ErrRestartBlock
}

// ClockNanosleep implements clock_nanosleep(2).
func ClockNanosleep(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	id, flags := int32(a[0]), a[1]
	switch id {
	case unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC, unix.CLOCK_BOOTTIME, unix.CLOCK_TAI:
	case unix.CLOCK_THREAD_CPUTIME_ID:
		return 0, unix.EINVAL
	case unix.CLOCK_PROCESS_CPUTIME_ID:
		return cpuNanosleep(t, id, flags, a[2], a[3])
	default:
		if _, err := Now(id, t); err != nil {
			return 0, err
		}
		if id < 0 {
			return cpuNanosleep(t, id, flags, a[2], a[3])
		}
		return 0, unix.EOPNOTSUPP
	}
	ts, err := GetTimespec(t, a[2])
	if err != nil {
		return 0, err
	}
	clock := t.Kernel().Clock
	d := kernel.SpecDuration(ts.Sec, ts.Nsec)
	if flags&unix.TIMER_ABSTIME != 0 {
		deadline, err := clock.At(id, int64(d))
		if err != nil {
			return 0, err
		}
		if err := t.Block(nil, deadline); err == unix.ETIMEDOUT || err == nil {
			return 0, nil
		}
		return 0, kernel.ErrRestartNoHand
	}
	return sleepUntil(t, clock.Relative(id, d), a[3])
}

// cpuNanosleep is clock_nanosleep on a CPU-time clock (already validated).
// A thread cannot wait for its own CPU time to pass.
func cpuNanosleep(t *kernel.Task, id int32, flags, tsAddr, rem uint64) (uint64, error) {
	if pid, _, perThread, _ := decodeCPUClock(id); id < 0 && perThread && (pid == 0 || pid == t.TID()) {
		return 0, unix.EINVAL
	}
	ts, err := GetTimespec(t, tsAddr)
	if err != nil {
		return 0, err
	}
	target := ts.Nano()
	if flags&unix.TIMER_ABSTIME == 0 {
		now, err := Now(id, t)
		if err != nil {
			return 0, err
		}
		target += now.Nano()
	} else {
		rem = 0 // only relative sleeps report what is left
	}
	return cpuSleep(t, id, target, rem, flags&unix.TIMER_ABSTIME != 0)
}

// cpuSleep waits until CPU-time clock id reads target (ns). CPU time moves
// only while threads run, so it polls, waiting at most the time still
// missing (no thread uses CPU faster than the wall clock).
func cpuSleep(t *kernel.Task, id int32, target int64, rem uint64, abs bool) (uint64, error) {
	for {
		now, err := Now(id, t)
		if err != nil {
			return 0, err // the process has gone
		}
		left := target - now.Nano()
		if left <= 0 {
			return 0, nil
		}
		wait := min(time.Duration(left), 10*time.Millisecond)
		if err := t.Block(nil, t.Kernel().Clock.After(wait)); err == unix.ETIMEDOUT {
			continue
		}
		if abs {
			return 0, kernel.ErrRestartNoHand
		}
		if rem != 0 {
			if err := putTimespec(t, rem, unix.NsecToTimespec(left)); err != nil {
				return 0, err
			}
		}
		t.SetRestartBlock(func(t *kernel.Task) (uint64, error) { return cpuSleep(t, id, target, rem, abs) })
		return 0, kernel.ErrRestartBlock
	}
}

// Alarm implements alarm(2).
func Alarm(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	old, _ := t.ThreadGroup().SetRealTimer(time.Duration(uint32(a[0]))*time.Second, 0)
	secs := uint64((old + time.Second/2) / time.Second)
	if old > 0 && secs == 0 {
		secs = 1
	}
	return secs, nil
}

func getTimeval(b []byte) (time.Duration, error) {
	sec, usec := int64(binary.LittleEndian.Uint64(b[0:])), int64(binary.LittleEndian.Uint64(b[8:]))
	if sec < 0 || usec < 0 || usec >= 1e6 {
		return 0, unix.EINVAL
	}
	return time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond, nil
}

func putTimeval(b []byte, d time.Duration) {
	binary.LittleEndian.PutUint64(b[0:], uint64(d/time.Second))
	binary.LittleEndian.PutUint64(b[8:], uint64((d%time.Second)/time.Microsecond))
}

// Setitimer implements setitimer(2).
func Setitimer(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	which := a[0]
	var in [32]byte
	if a[1] != 0 {
		if _, err := t.CopyIn(a[1], in[:]); err != nil {
			return 0, unix.EFAULT
		}
	}
	intv, err := getTimeval(in[0:])
	if err != nil {
		return 0, err
	}
	val, err := getTimeval(in[16:])
	if err != nil {
		return 0, err
	}
	var out [32]byte
	switch which {
	case unix.ITIMER_REAL:
		oldV, oldI := t.ThreadGroup().SetRealTimer(val, intv)
		putTimeval(out[0:], oldI)
		putTimeval(out[16:], oldV)
	case unix.ITIMER_VIRTUAL, unix.ITIMER_PROF:
		oldV, oldI := t.ThreadGroup().SetCPUTimer(which == unix.ITIMER_PROF, val, intv)
		putTimeval(out[0:], oldI)
		putTimeval(out[16:], oldV)
	default:
		return 0, unix.EINVAL
	}
	if a[2] != 0 {
		if _, err := t.CopyOut(a[2], out[:]); err != nil {
			return 0, unix.EFAULT
		}
	}
	return 0, nil
}

// Getitimer implements getitimer(2).
func Getitimer(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	var out [32]byte
	switch a[0] {
	case unix.ITIMER_REAL:
		v, i := t.ThreadGroup().RealTimer()
		putTimeval(out[0:], i)
		putTimeval(out[16:], v)
	case unix.ITIMER_VIRTUAL, unix.ITIMER_PROF:
		v, i := t.ThreadGroup().CPUTimer(a[0] == unix.ITIMER_PROF)
		putTimeval(out[0:], i)
		putTimeval(out[16:], v)
	default:
		return 0, unix.EINVAL
	}
	if _, err := t.CopyOut(a[1], out[:]); err != nil {
		return 0, unix.EFAULT
	}
	return 0, nil
}

// Times implements times(2).
func Times(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	const tick = int64(time.Second / 100)
	u, s, cu, cs := t.ThreadGroup().CPUTimes()
	if a[0] != 0 {
		var b [32]byte
		for i, v := range []int64{u, s, cu, cs} {
			binary.LittleEndian.PutUint64(b[i*8:], uint64(v/tick))
		}
		if _, err := t.CopyOut(a[0], b[:]); err != nil {
			return 0, unix.EFAULT
		}
	}
	return uint64(t.Kernel().Uptime().Nanoseconds()/tick) + 1000, nil
}

// TimerCreate implements timer_create(2).
func TimerCreate(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	clock := int32(a[0])
	if _, err := Now(clock, t); err != nil {
		return 0, err
	}
	signo, value := int32(unix.SIGALRM), uint64(0)
	var target *kernel.Task
	none := false
	if a[1] != 0 {
		var b [64]byte
		if _, err := t.CopyIn(a[1], b[:]); err != nil {
			return 0, unix.EFAULT
		}
		le := binary.LittleEndian
		value = le.Uint64(b[0:])
		signo = int32(le.Uint32(b[8:]))
		notify := int32(le.Uint32(b[12:]))
		tid := int32(le.Uint32(b[16:]))
		switch notify {
		case 0: // SIGEV_SIGNAL
		case 1: // SIGEV_NONE
			none = true
		case 4: // SIGEV_THREAD_ID
			target = t.Kernel().TaskByTID(tid)
			if target == nil || target.ThreadGroup() != t.ThreadGroup() {
				return 0, unix.EINVAL
			}
		default:
			return 0, unix.EINVAL
		}
		if !none && (signo <= 0 || signo > 64) {
			return 0, unix.EINVAL
		}
	}
	id, err := t.ThreadGroup().CreateTimer(clock, signo, value, target, none)
	if err != nil {
		return 0, err
	}
	if a[1] == 0 {
		// The default sigev_value is the timer ID.
		t.ThreadGroup().Timer(id).SetSigValue(uint64(id))
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(id))
	if _, err := t.CopyOut(a[2], b[:]); err != nil {
		t.ThreadGroup().DeleteTimer(id)
		return 0, unix.EFAULT
	}
	return 0, nil
}

func readItimerspec(t *kernel.Task, addr uint64) (val, intv time.Duration, err error) {
	i, err := GetTimespec(t, addr)
	if err != nil {
		return 0, 0, err
	}
	v, err := GetTimespec(t, addr+16)
	if err != nil {
		return 0, 0, err
	}
	return time.Duration(v.Nano()), time.Duration(i.Nano()), nil
}

func writeItimerspec(t *kernel.Task, addr uint64, val, intv time.Duration) error {
	if err := putTimespec(t, addr, unix.NsecToTimespec(int64(intv))); err != nil {
		return err
	}
	return putTimespec(t, addr+16, unix.NsecToTimespec(int64(val)))
}

// TimerSettime implements timer_settime(2).
func TimerSettime(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	p := t.ThreadGroup().Timer(int32(a[0]))
	if p == nil {
		return 0, unix.EINVAL
	}
	if a[2] == 0 {
		return 0, unix.EINVAL
	}
	val, intv, err := readItimerspec(t, a[2])
	if err != nil {
		return 0, err
	}
	abs := a[1]&unix.TIMER_ABSTIME != 0
	if abs && val > 0 && !kernel.WallClock(p.Clock()) {
		// An absolute time on a CPU-time clock: its timers run on
		// CLOCK_MONOTONIC for the time the clock still lacks.
		now, err := Now(p.Clock(), t)
		if err != nil {
			return 0, err
		}
		val = max(val-time.Duration(now.Nano()), 1)
		abs = false
	}
	oldV, oldI := p.Set(val, intv, abs)
	if a[3] != 0 {
		return 0, writeItimerspec(t, a[3], oldV, oldI)
	}
	return 0, nil
}

// TimerGettime implements timer_gettime(2).
func TimerGettime(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	p := t.ThreadGroup().Timer(int32(a[0]))
	if p == nil {
		return 0, unix.EINVAL
	}
	v, i := p.Get()
	return 0, writeItimerspec(t, a[1], v, i)
}

// TimerGetoverrun implements timer_getoverrun(2).
func TimerGetoverrun(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	p := t.ThreadGroup().Timer(int32(a[0]))
	if p == nil {
		return 0, unix.EINVAL
	}
	return uint64(p.Overrun()), nil
}

// TimerDelete implements timer_delete(2).
func TimerDelete(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return 0, t.ThreadGroup().DeleteTimer(int32(a[0]))
}
