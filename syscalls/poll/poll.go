// Package poll implements the I/O multiplexing and event-file system calls:
// poll, ppoll, select, pselect6, the epoll family, eventfd, timerfd and
// signalfd, with the file implementations behind the last four.
package poll

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/waiter"
)

// Syscalls returns this package's system calls by number.
func Syscalls() map[uintptr]kernel.Syscall {
	return map[uintptr]kernel.Syscall{
		unix.SYS_POLL:            {Name: "poll", Fn: Poll},
		unix.SYS_PPOLL:           {Name: "ppoll", Fn: Ppoll},
		unix.SYS_SELECT:          {Name: "select", Fn: Select},
		unix.SYS_PSELECT6:        {Name: "pselect6", Fn: Pselect6},
		unix.SYS_EPOLL_CREATE:    {Name: "epoll_create", Fn: EpollCreate},
		unix.SYS_EPOLL_CREATE1:   {Name: "epoll_create1", Fn: EpollCreate1},
		unix.SYS_EPOLL_CTL:       {Name: "epoll_ctl", Fn: EpollCtl},
		unix.SYS_EPOLL_WAIT:      {Name: "epoll_wait", Fn: EpollWait},
		unix.SYS_EPOLL_PWAIT:     {Name: "epoll_pwait", Fn: EpollPwait},
		unix.SYS_EPOLL_PWAIT2:    {Name: "epoll_pwait2", Fn: EpollPwait2},
		unix.SYS_EVENTFD:         {Name: "eventfd", Fn: Eventfd},
		unix.SYS_EVENTFD2:        {Name: "eventfd2", Fn: Eventfd2},
		unix.SYS_TIMERFD_CREATE:  {Name: "timerfd_create", Fn: TimerfdCreate},
		unix.SYS_TIMERFD_SETTIME: {Name: "timerfd_settime", Fn: TimerfdSettime},
		unix.SYS_TIMERFD_GETTIME: {Name: "timerfd_gettime", Fn: TimerfdGettime},
		unix.SYS_SIGNALFD:        {Name: "signalfd", Fn: Signalfd},
		unix.SYS_SIGNALFD4:       {Name: "signalfd4", Fn: Signalfd4},
	}
}

// poll(2) event bits (the same values as the EPOLL* bits).
const (
	pollIn     = 0x1
	pollPri    = 0x2
	pollOut    = 0x4
	pollErr    = 0x8
	pollHup    = 0x10
	pollNval   = 0x20
	pollRdNorm = 0x40
	pollRdBand = 0x80
	pollWrNorm = 0x100
	pollWrBand = 0x200

	// The select(2) sets, as in fs/select.c.
	pollInSet  = pollRdNorm | pollRdBand | pollIn | pollHup | pollErr
	pollOutSet = pollWrBand | pollWrNorm | pollOut | pollErr
	pollExSet  = pollPri
)

// taskSize is the end of the user address range (x86-64, 4-level paging).
const taskSize = 0x7ffffffff000

// accessOK is Linux's access_ok: the range lies in user space.
func accessOK(addr, size uint64) bool {
	return size <= taskSize && addr <= taskSize-size
}

// maxTimeout caps timeouts so deadlines never overflow.
const maxTimeout = 100 * 365 * 24 * time.Hour

// timeout is the timeout of a poll-like call.
type timeout struct {
	// zero: check once, never block.
	zero bool
	// deadline is when the wait ends; the zero value means never.
	deadline kernel.Deadline
}

var infinite = timeout{}

// timeoutFromDuration starts a timeout of d on the guest's clock.
func timeoutFromDuration(c *kernel.Clock, d time.Duration) timeout {
	if d <= 0 {
		return timeout{zero: true}
	}
	if d > maxTimeout {
		d = maxTimeout
	}
	return timeout{deadline: c.After(d)}
}

// timeoutFromSpec converts a validated timespec.
func timeoutFromSpec(c *kernel.Clock, sec, nsec int64) timeout {
	if sec == 0 && nsec == 0 {
		return timeout{zero: true}
	}
	if sec > int64(maxTimeout/time.Second) {
		return timeoutFromDuration(c, maxTimeout)
	}
	return timeoutFromDuration(c, time.Duration(sec)*time.Second+time.Duration(nsec))
}

// msTimeout converts poll's and epoll_wait's millisecond timeout: negative
// waits forever.
func msTimeout(c *kernel.Clock, ms int32) timeout {
	switch {
	case ms < 0:
		return infinite
	case ms == 0:
		return timeout{zero: true}
	}
	return timeoutFromDuration(c, time.Duration(ms)*time.Millisecond)
}

// remaining returns how much of a timeout is left on the guest's clock
// (never negative).
func (to timeout) remaining(c *kernel.Clock) time.Duration {
	if to.zero {
		return 0
	}
	return c.Until(to.deadline)
}

// copyInTimespec reads and validates a struct timespec.
func copyInTimespec(t *kernel.Task, addr uint64) (sec, nsec int64, err error) {
	var b [16]byte
	if _, err := t.CopyIn(addr, b[:]); err != nil {
		return 0, 0, unix.EFAULT
	}
	sec = int64(binary.LittleEndian.Uint64(b[0:]))
	nsec = int64(binary.LittleEndian.Uint64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return 0, 0, unix.EINVAL
	}
	return sec, nsec, nil
}

// copyInTimeout reads a timespec timeout (addr 0: infinite).
func copyInTimeout(t *kernel.Task, addr uint64) (timeout, error) {
	if addr == 0 {
		return infinite, nil
	}
	sec, nsec, err := copyInTimespec(t, addr)
	if err != nil {
		return timeout{}, err
	}
	return timeoutFromSpec(t.Kernel().Clock, sec, nsec), nil
}

func putTimespec(b []byte, d time.Duration) {
	binary.LittleEndian.PutUint64(b[0:], uint64(d/time.Second))
	binary.LittleEndian.PutUint64(b[8:], uint64(d%time.Second))
}

// setUserSigmask is Linux's set_user_sigmask: with a mask, it installs it
// and saves the old one for restoration. It reports whether it did.
func setUserSigmask(t *kernel.Task, addr, size uint64) (bool, error) {
	if addr == 0 {
		return false, nil
	}
	if size != 8 {
		return false, unix.EINVAL
	}
	var b [8]byte
	if _, err := t.CopyIn(addr, b[:]); err != nil {
		return false, unix.EFAULT
	}
	t.SetSavedSigMask(t.SigMask())
	t.SetSigMask(kernel.SigSet(binary.LittleEndian.Uint64(b[:])))
	return true, nil
}

// pollSelectFinish is Linux's poll_select_finish: it restores the signal
// mask unless the call is being restarted and writes the remaining time
// back to addr (a timespec, or a timeval if timeval).
func pollSelectFinish(t *kernel.Task, addr uint64, to timeout, timeval bool, masked bool, ret uint64, err error) (uint64, error) {
	if masked && err != kernel.ErrRestartNoHand {
		t.RestoreSavedSigMask()
	}
	if addr == 0 || to.zero || to.deadline.IsZero() {
		return ret, err
	}
	rem := to.remaining(t.Kernel().Clock)
	var b [16]byte
	if timeval {
		binary.LittleEndian.PutUint64(b[0:], uint64(rem/time.Second))
		binary.LittleEndian.PutUint64(b[8:], uint64(rem%time.Second/time.Microsecond))
	} else {
		putTimespec(b[:], rem)
	}
	if _, cerr := t.CopyOut(addr, b[:]); cerr != nil && err == kernel.ErrRestartNoHand {
		err = unix.EINTR
	}
	return ret, err
}

// errInterrupted is returned by the wait loops when a signal interrupts
// them; callers turn it into the right restart code.
var errInterrupted = kernel.ErrInterrupted

// wakeSet registers one callback entry per watched file, all signalling
// one channel.
type wakeSet struct {
	ch   chan struct{}
	regs []wakeReg
}

type wakeReg struct {
	f *vfs.File
	e *waiter.Entry
}

func newWakeSet() *wakeSet { return &wakeSet{ch: make(chan struct{}, 1)} }

func (w *wakeSet) add(f *vfs.File, mask waiter.EventMask) {
	e := waiter.NewFunctionEntry(mask, func(waiter.EventMask) {
		select {
		case w.ch <- struct{}{}:
		default:
		}
	})
	f.EventRegister(e)
	w.regs = append(w.regs, wakeReg{f, e})
}

func (w *wakeSet) release() {
	if w == nil {
		return
	}
	for _, r := range w.regs {
		r.f.EventUnregister(r.e)
	}
	w.regs = nil
}

// waitLoop runs scan until it reports readiness, the timeout expires or a
// signal arrives. register installs the wake entries (called once, before
// the first blocking wait, and followed by a rescan). It returns scan's
// result or errInterrupted.
func waitLoop(t *kernel.Task, to timeout, scan func() int, register func(w *wakeSet)) (int, error) {
	n := scan()
	if n > 0 || to.zero {
		return n, nil
	}
	w := newWakeSet()
	defer w.release()
	register(w)
	for {
		if n = scan(); n > 0 {
			return n, nil
		}
		switch err := t.Block(w.ch, to.deadline); err {
		case nil:
		case unix.ETIMEDOUT:
			return scan(), nil
		default:
			return 0, errInterrupted
		}
	}
}

// getPollFile returns the file at fd for polling, or nil if fd is not an
// open (non-O_PATH) descriptor.
func getPollFile(t *kernel.Task, fd int32) *vfs.File {
	f, err := t.GetFile(fd)
	if err != nil {
		return nil
	}
	if f.IsPath() {
		f.DecRef(t.VFSContext())
		return nil
	}
	return f
}

// --- poll, ppoll ---

// Poll implements poll(2).
func Poll(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	addr, nfds := a[0], uint32(a[1])
	to := msTimeout(t.Kernel().Clock, int32(a[2]))
	return pollRestartable(t, addr, nfds, to)
}

// pollRestartable runs poll and arranges for restart_syscall(2) to resume
// with the same deadline after a signal without a handler (as Linux's
// do_restart_poll).
func pollRestartable(t *kernel.Task, addr uint64, nfds uint32, to timeout) (uint64, error) {
	ret, err := doSysPoll(t, addr, nfds, to)
	if err == errInterrupted {
		t.SetRestartBlock(func(t *kernel.Task) (uint64, error) {
			to := to
			if !to.zero && !to.deadline.IsZero() && to.remaining(t.Kernel().Clock) == 0 {
				to = timeout{zero: true}
			}
			return pollRestartable(t, addr, nfds, to)
		})
		return 0, kernel.ErrRestartBlock
	}
	return ret, err
}

// maxPollFDs bounds nfds whatever RLIMIT_NOFILE says (fs.nr_open).
const maxPollFDs = 1 << 24

// doSysPoll is Linux's do_sys_poll; it returns errInterrupted on a signal.
func doSysPoll(t *kernel.Task, addr uint64, nfds uint32, to timeout) (uint64, error) {
	if uint64(nfds) > t.NoFileLimit() || nfds > maxPollFDs {
		return 0, unix.EINVAL
	}
	buf := make([]byte, int(nfds)*8)
	if len(buf) > 0 {
		if _, err := t.CopyIn(addr, buf); err != nil {
			return 0, unix.EFAULT
		}
	}
	fds := make([]PollFD, nfds)
	for i := range fds {
		fds[i] = PollFD{
			FD:     int32(binary.LittleEndian.Uint32(buf[i*8:])),
			Events: int16(binary.LittleEndian.Uint16(buf[i*8+4:])),
		}
	}
	n, err := doPoll(t, fds, to)
	for i := range fds {
		binary.LittleEndian.PutUint16(buf[i*8+6:], uint16(fds[i].REvents))
	}
	if len(buf) > 0 {
		if _, cerr := t.CopyOut(addr, buf); cerr != nil {
			return 0, unix.EFAULT
		}
	}
	if err != nil {
		return 0, err
	}
	return uint64(n), nil
}

// PollFD is one struct pollfd.
type PollFD struct {
	FD      int32
	Events  int16
	REvents int16
}

// doPoll fills in fds' REvents and returns how many are non-zero.
func doPoll(t *kernel.Task, fds []PollFD, to timeout) (int, error) {
	files := make([]*vfs.File, len(fds))
	defer func() {
		for _, f := range files {
			if f != nil {
				f.DecRef(t.VFSContext())
			}
		}
	}()
	for i := range fds {
		if fds[i].FD >= 0 {
			files[i] = getPollFile(t, fds[i].FD)
		}
	}
	scan := func() int {
		n := 0
		for i := range fds {
			fds[i].REvents = pollRevents(fds[i], files[i])
			if fds[i].REvents != 0 {
				n++
			}
		}
		return n
	}
	register := func(w *wakeSet) {
		for i, f := range files {
			if f != nil {
				w.add(f, waiter.EventMask(uint16(fds[i].Events)))
			}
		}
	}
	return waitLoop(t, to, scan, register)
}

// pollRevents is the revents of one pollfd (f is nil for a bad fd).
func pollRevents(p PollFD, f *vfs.File) int16 {
	if p.FD < 0 {
		return 0
	}
	if f == nil {
		return pollNval
	}
	mask := uint32(uint16(p.Events)) | pollErr | pollHup
	return int16(uint32(f.Readiness(waiter.EventMask(mask))) & mask)
}

// Ppoll implements ppoll(2).
func Ppoll(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	addr, nfds, tsp := a[0], uint32(a[1]), a[2]
	to, err := copyInTimeout(t, tsp)
	if err != nil {
		return 0, err
	}
	masked, err := setUserSigmask(t, a[3], a[4])
	if err != nil {
		return 0, err
	}
	ret, err := doSysPoll(t, addr, nfds, to)
	if err == errInterrupted {
		err = kernel.ErrRestartNoHand
	}
	return pollSelectFinish(t, tsp, to, false, masked, ret, err)
}

// --- select, pselect6 ---

// Select implements select(2).
func Select(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	tvp := a[4]
	to := infinite
	if tvp != 0 {
		var b [16]byte
		if _, err := t.CopyIn(tvp, b[:]); err != nil {
			return 0, unix.EFAULT
		}
		sec := int64(binary.LittleEndian.Uint64(b[0:]))
		usec := int64(binary.LittleEndian.Uint64(b[8:]))
		sec += usec / 1e6
		nsec := (usec % 1e6) * 1000
		if sec < 0 || nsec < 0 {
			return 0, unix.EINVAL
		}
		to = timeoutFromSpec(t.Kernel().Clock, sec, nsec)
	}
	ret, err := coreSysSelect(t, int32(a[0]), a[1], a[2], a[3], to)
	return pollSelectFinish(t, tvp, to, true, false, ret, err)
}

// Pselect6 implements pselect6(2).
func Pselect6(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	tsp := a[4]
	to, err := copyInTimeout(t, tsp)
	if err != nil {
		return 0, err
	}
	masked := false
	if a[5] != 0 {
		var b [16]byte
		if _, err := t.CopyIn(a[5], b[:]); err != nil {
			return 0, unix.EFAULT
		}
		masked, err = setUserSigmask(t, binary.LittleEndian.Uint64(b[0:]), binary.LittleEndian.Uint64(b[8:]))
		if err != nil {
			return 0, err
		}
	}
	ret, err := coreSysSelect(t, int32(a[0]), a[1], a[2], a[3], to)
	return pollSelectFinish(t, tsp, to, false, masked, ret, err)
}

// maxSelectFDs bounds the descriptors select looks at. Linux clamps nfds
// to the size of the descriptor table (fdt->max_fds: 64 at first, then
// powers of two times 128 as it grows, never shrinking, inherited through
// fork), so bits beyond it are ignored rather than EBADF. The table size
// depends on the process's history, so this never clamps below FD_SETSIZE:
// a set bit of a closed descriptor below 1024 is always EBADF.
func maxSelectFDs(t *kernel.Task) int {
	const fdSetSize = 1024
	fds := t.Files.FDs()
	if len(fds) == 0 || fds[len(fds)-1] < fdSetSize {
		return fdSetSize
	}
	n := int(fds[len(fds)-1]+1) / 128
	p := 1
	for p < n+1 {
		p <<= 1
	}
	return p * 128
}

// FDSet is a select(2) descriptor set: bit fd%64 of 64-bit word fd/64.
type FDSet []uint64

// NewFDSet returns an empty set for nfds descriptors.
func NewFDSet(nfds int) FDSet { return make(FDSet, (nfds+63)/64) }

// DecodeFDSet reads a set from guest bytes (little endian words).
func DecodeFDSet(b []byte) FDSet {
	s := make(FDSet, len(b)/8)
	for i := range s {
		s[i] = binary.LittleEndian.Uint64(b[i*8:])
	}
	return s
}

// Bytes encodes the set as the guest sees it.
func (s FDSet) Bytes() []byte {
	b := make([]byte, len(s)*8)
	for i, w := range s {
		binary.LittleEndian.PutUint64(b[i*8:], w)
	}
	return b
}

// IsSet reports whether fd is in the set.
func (s FDSet) IsSet(fd int) bool {
	return fd >= 0 && fd/64 < len(s) && s[fd/64]&(1<<uint(fd%64)) != 0
}

// Set adds fd to the set.
func (s FDSet) Set(fd int) { s[fd/64] |= 1 << uint(fd%64) }

// coreSysSelect is Linux's core_sys_select; it returns ErrRestartNoHand
// when a signal interrupts it.
func coreSysSelect(t *kernel.Task, nfds int32, inAddr, outAddr, exAddr uint64, to timeout) (uint64, error) {
	if nfds < 0 {
		return 0, unix.EINVAL
	}
	n := int(nfds)
	if m := maxSelectFDs(t); n > m {
		n = m
	}
	nbytes := (n + 63) / 64 * 8
	read := func(addr uint64) (FDSet, error) {
		if addr == 0 {
			return NewFDSet(n), nil
		}
		b := make([]byte, nbytes)
		if _, err := t.CopyIn(addr, b); err != nil {
			return nil, unix.EFAULT
		}
		return DecodeFDSet(b), nil
	}
	in, err := read(inAddr)
	if err != nil {
		return 0, err
	}
	out, err := read(outAddr)
	if err != nil {
		return 0, err
	}
	ex, err := read(exAddr)
	if err != nil {
		return 0, err
	}
	resIn, resOut, resEx, count, err := doSelect(t, n, in, out, ex, to)
	if err == errInterrupted {
		return 0, kernel.ErrRestartNoHand
	}
	if err != nil {
		return 0, err
	}
	for _, s := range []struct {
		addr uint64
		set  FDSet
	}{{inAddr, resIn}, {outAddr, resOut}, {exAddr, resEx}} {
		if s.addr == 0 {
			continue
		}
		if _, err := t.CopyOut(s.addr, s.set.Bytes()); err != nil {
			return 0, unix.EFAULT
		}
	}
	return uint64(count), nil
}

type selectFD struct {
	fd          int
	f           *vfs.File
	in, out, ex bool
}

// doSelect waits on the sets and returns the result sets and the number of
// bits set in them.
func doSelect(t *kernel.Task, n int, in, out, ex FDSet, to timeout) (rin, rout, rex FDSet, count int, err error) {
	var sel []selectFD
	defer func() {
		for _, s := range sel {
			s.f.DecRef(t.VFSContext())
		}
	}()
	for fd := 0; fd < n; fd++ {
		s := selectFD{fd: fd, in: in.IsSet(fd), out: out.IsSet(fd), ex: ex.IsSet(fd)}
		if !s.in && !s.out && !s.ex {
			continue
		}
		if s.f = getPollFile(t, int32(fd)); s.f == nil {
			return nil, nil, nil, 0, unix.EBADF
		}
		sel = append(sel, s)
	}
	rin, rout, rex = NewFDSet(n), NewFDSet(n), NewFDSet(n)
	scan := func() int {
		clear(rin)
		clear(rout)
		clear(rex)
		c := 0
		for _, s := range sel {
			r := uint32(s.f.Readiness(waiter.EventMask(selectMask(s))))
			c += markSelect(s, r, rin, rout, rex)
		}
		return c
	}
	register := func(w *wakeSet) {
		for _, s := range sel {
			w.add(s.f, waiter.EventMask(selectMask(s)))
		}
	}
	count, err = waitLoop(t, to, scan, register)
	return rin, rout, rex, count, err
}

// selectMask is the poll key select uses for a descriptor.
func selectMask(s selectFD) uint32 {
	m := uint32(pollExSet)
	if s.in {
		m |= pollInSet
	}
	if s.out {
		m |= pollOutSet
	}
	return m
}

// markSelect sets the result bits of s for readiness r and returns how
// many it set.
func markSelect(s selectFD, r uint32, rin, rout, rex FDSet) int {
	c := 0
	if s.in && r&pollInSet != 0 && !rin.IsSet(s.fd) {
		rin.Set(s.fd)
		c++
	}
	if s.out && r&pollOutSet != 0 && !rout.IsSet(s.fd) {
		rout.Set(s.fd)
		c++
	}
	if s.ex && r&pollExSet != 0 && !rex.IsSet(s.fd) {
		rex.Set(s.fd)
		c++
	}
	return c
}
