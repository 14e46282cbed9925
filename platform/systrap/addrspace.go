package systrap

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/platform"
)

// addressSpace is one stub process. Its slot-0 thread, the executor, never
// runs guest code: it performs mmap/munmap and creates the other threads
// on the sentry's request. Each (context, address space) pair gets its own
// thread in a further slot.
type addressSpace struct {
	p    *Platform
	proc *proc
	exec *thread

	execMu sync.Mutex // serialises executor requests

	mu       sync.Mutex
	cond     sync.Cond // signalled when users drops to zero
	users    int       // goroutines inside Switch, MapFile... on this AS
	released bool
	// releaseDone is closed once Release has recycled the regions.
	releaseDone chan struct{}
	dead        atomic.Bool // the process is gone or about to be
	threads     map[*thread]struct{}
	parked      []*thread // threads of released contexts, waiting in their handler for reuse
	slots       []int     // free slots (beyond nextSlot, all free)
	nextSlot    int
}

var _ platform.AddressSpace = (*addressSpace)(nil)

// thread is a stub thread and its region.
type thread struct {
	as   *addressSpace
	c    ctl
	off  int64 // of the region in stubFD
	slot int
	tid  int
}

// NewAddressSpace implements platform.Platform. It hands out the spare
// address space made in the background (a fork then costs no round trip to
// the master and no thread creation) and starts making the next one. The
// first spare is made when the second address space is asked for (the
// guest forks or execs): until then the guest's init is starting up, and a
// sandbox that never forks, like most containers' first seconds, has the
// host's CPUs to itself.
func (p *Platform) NewAddressSpace() (platform.AddressSpace, error) {
	p.mu.Lock()
	as := p.spare
	p.spare = nil
	p.handedOut++
	refill := p.handedOut > 1
	p.mu.Unlock()
	if as == nil {
		var err error
		if as, err = p.newAddressSpace(); err != nil {
			return nil, err
		}
	}
	if refill {
		p.refillSpare()
	}
	return as, nil
}

// refillSpare makes a spare address space with one thread ready, in the
// background, unless there is one or one is being made.
func (p *Platform) refillSpare() {
	p.mu.Lock()
	if p.spare != nil || p.refilling || p.closed {
		p.mu.Unlock()
		return
	}
	p.refilling = true
	p.refillWG.Add(1)
	p.mu.Unlock()
	go func() {
		defer p.refillWG.Done()
		as, err := p.newAddressSpace()
		if err == nil {
			var t *thread
			if t, err = as.newThread(); err == nil {
				as.parked = append(as.parked, t)
			}
		}
		p.mu.Lock()
		p.refilling = false
		if err == nil && !p.closed && p.spare == nil {
			p.spare, as = as, nil
		}
		p.mu.Unlock()
		if as != nil {
			as.Release()
		}
	}()
}

// newAddressSpace has the master fork a stub process, whose first thread
// maps its region and reports ready.
func (p *Platform) newAddressSpace() (*addressSpace, error) {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return nil, errors.New("systrap: platform closed")
	}
	off, err := p.allocRegion()
	if err != nil {
		return nil, err
	}
	c := p.regionCtl(off, slotBase)
	p.initCtl(c)

	p.masterMu.Lock()
	m := p.mctl
	m.store(cArg0, slotBase)
	m.store(cArg1, uint64(off))
	m.command(opFork)
	r := m.waitPost(true, p.master.deadline(startTimeout))
	pid := int64(m.load(cResult))
	p.masterMu.Unlock()
	if r != waitPosted {
		p.freeRegion(off)
		return nil, errors.New("systrap: stub master died")
	}
	if pid <= 0 {
		p.freeRegion(off)
		return nil, fmt.Errorf("systrap: creating stub process: %w", unix.Errno(-pid))
	}
	pr, err := newProc(int(pid))
	if err != nil {
		unix.Kill(int(pid), unix.SIGKILL)
		p.freeRegion(off)
		return nil, fmt.Errorf("systrap: pidfd_open: %w", err)
	}
	as := &addressSpace{p: p, proc: pr, threads: map[*thread]struct{}{}, nextSlot: 1, releaseDone: make(chan struct{})}
	as.cond.L = &as.mu
	as.exec = &thread{as: as, c: c, off: off}
	if c.waitPost(false, pr.deadline(startTimeout)) != waitPosted {
		pr.kill()
		pr.exited(startTimeout)
		pr.close()
		p.freeRegion(off)
		return nil, errors.New("systrap: stub process failed to start")
	}
	as.exec.tid = int(c.load(cTID))
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		as.Release()
		return nil, errors.New("systrap: platform closed")
	}
	p.spaces[as] = struct{}{}
	p.mu.Unlock()
	return as, nil
}

// PID returns the host pid of the stub process (for tests and diagnostics).
func (as *addressSpace) PID() int { return as.proc.pid }

// enter registers a user of the address space; false if it is gone.
func (as *addressSpace) enter() bool {
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.released || as.dead.Load() {
		return false
	}
	as.users++
	return true
}

func (as *addressSpace) exit() {
	as.mu.Lock()
	as.users--
	if as.users == 0 {
		as.cond.Broadcast()
	}
	as.mu.Unlock()
}

// alive is the waitPost check for threads of this address space.
func (as *addressSpace) alive() bool {
	return !as.dead.Load() && as.proc.alive()
}

// fail kills the process after it misbehaved (a stub thread died or its
// frame is corrupt: guest code has broken its own stub).
func (as *addressSpace) fail() error {
	as.dead.Store(true)
	as.proc.kill()
	return platform.ErrAddressSpaceGone
}

// sysReq is one system call for the executor to perform.
type sysReq struct {
	nr   uintptr
	args [6]uintptr
}

// execSyscalls runs reqs in order in the stub process's executor, stopping
// at the first failure, which it returns.
func (as *addressSpace) execSyscalls(reqs ...sysReq) error {
	as.execMu.Lock()
	defer as.execMu.Unlock()
	return as.runSyscalls(as.exec.c, reqs)
}

// runSyscalls has the stub thread behind c, which must be waiting for a
// command (the executor, or a guest thread stopped in its handler), run
// reqs in order, stopping at the first failure, which it returns.
func (as *addressSpace) runSyscalls(c ctl, reqs []sysReq) error {
	if len(reqs) > maxBatch {
		return errors.New("systrap: syscall batch too long")
	}
	for i, r := range reqs {
		e := cSyscalls + uintptr(i)*sysEntrySize
		c.store(e, uint64(r.nr))
		for j, a := range r.args {
			c.store(e+8+uintptr(j)*8, uint64(a))
		}
	}
	c.store(cNSys, uint64(len(reqs)))
	c.command(opSyscalls)
	switch c.waitPost(true, as.alive) {
	case waitPosted:
	case waitDied:
		return as.fail()
	default:
		return platform.ErrAddressSpaceGone
	}
	n := c.load(cResult)
	if n >= uint64(len(reqs)) {
		return nil
	}
	ret := int64(c.load(cSyscalls + uintptr(n)*sysEntrySize + 56))
	if ret >= 0 || ret < -4095 {
		ret = -int64(unix.EIO)
	}
	return unix.Errno(-ret)
}

// execCommand posts op to the executor and waits for its reply. Callers
// hold execMu.
func (as *addressSpace) execCommand(op uint64) error {
	c := as.exec.c
	c.command(op)
	switch c.waitPost(true, as.alive) {
	case waitPosted:
		return nil
	case waitDied:
		return as.fail()
	}
	return platform.ErrAddressSpaceGone
}

func protOf(a platform.Access) uintptr {
	var prot uintptr
	if a.Read {
		prot |= unix.PROT_READ
	}
	if a.Write {
		prot |= unix.PROT_WRITE
	}
	if a.Execute {
		prot |= unix.PROT_EXEC
	}
	return prot
}

func checkRange(addr, length uintptr) error {
	if addr%4096 != 0 || length%4096 != 0 || length == 0 || addr >= maxUserAddress ||
		length > maxUserAddress-addr {
		return unix.EINVAL
	}
	return nil
}

// MapFile implements platform.AddressSpace.
func (as *addressSpace) MapFile(addr, length uintptr, offset int64, perm platform.Access) error {
	req, err := as.mmapReq(platform.Mapping{Addr: addr, Length: length, Offset: offset, Perm: perm})
	if err != nil {
		return err
	}
	if !as.enter() {
		return platform.ErrAddressSpaceGone
	}
	defer as.exit()
	return as.execSyscalls(req)
}

// mmapReq checks m and returns the mmap that makes it in the stub. The
// file index is checked here, in the sentry: the stub gets a descriptor
// number the platform has given it, never an index.
func (as *addressSpace) mmapReq(m platform.Mapping) (sysReq, error) {
	if err := checkRange(m.Addr, m.Length); err != nil || m.Offset < 0 || m.Offset%4096 != 0 ||
		m.File < 0 || m.File >= len(as.p.files) {
		return sysReq{}, unix.EINVAL
	}
	return sysReq{nr: unix.SYS_MMAP, args: [6]uintptr{m.Addr, m.Length, protOf(m.Perm),
		unix.MAP_SHARED | unix.MAP_FIXED, fileFDNum[m.File], uintptr(m.Offset)}}, nil
}

// MapFiles implements platform.AddressSpace: the requests go to the
// executor in batches, one round trip each.
func (as *addressSpace) MapFiles(ms []platform.Mapping) error {
	return as.mapFiles(ms, func(reqs []sysReq) error { return as.execSyscalls(reqs...) })
}

// mapFiles checks ms and runs them as mmap calls, a batch per run call.
func (as *addressSpace) mapFiles(ms []platform.Mapping, run func([]sysReq) error) error {
	reqs := make([]sysReq, 0, min(len(ms), maxBatch))
	for _, m := range ms {
		req, err := as.mmapReq(m)
		if err != nil {
			return err
		}
		reqs = append(reqs, req)
	}
	return as.runBatches(reqs, run)
}

// Unmap implements platform.AddressSpace.
func (as *addressSpace) Unmap(addr, length uintptr) error {
	return as.unmap(addr, length, func(reqs []sysReq) error { return as.execSyscalls(reqs...) })
}

// Protect implements platform.AddressSpace.
func (as *addressSpace) Protect(addr, length uintptr, perm platform.Access) error {
	return as.protect([]platform.Range{{Addr: addr, Length: length}}, perm,
		func(reqs []sysReq) error { return as.execSyscalls(reqs...) })
}

// protect checks the ranges and runs mprotect calls with run, a batch per
// call.
func (as *addressSpace) protect(rs []platform.Range, perm platform.Access, run func([]sysReq) error) error {
	if perm.Write {
		return unix.EINVAL
	}
	reqs := make([]sysReq, 0, min(len(rs), maxBatch))
	for _, r := range rs {
		if err := checkRange(r.Addr, r.Length); err != nil {
			return err
		}
		reqs = append(reqs, sysReq{nr: unix.SYS_MPROTECT, args: [6]uintptr{r.Addr, r.Length, protOf(perm)}})
	}
	return as.runBatches(reqs, run)
}

// runBatches runs reqs with run, maxBatch at a time, while the address
// space is in use.
func (as *addressSpace) runBatches(reqs []sysReq, run func([]sysReq) error) error {
	if !as.enter() {
		return platform.ErrAddressSpaceGone
	}
	defer as.exit()
	for len(reqs) > 0 {
		n := min(len(reqs), maxBatch)
		if err := run(reqs[:n]); err != nil {
			return err
		}
		reqs = reqs[n:]
	}
	return nil
}

// unmap checks the range and runs the munmap call with run.
func (as *addressSpace) unmap(addr, length uintptr, run func([]sysReq) error) error {
	if err := checkRange(addr, length); err != nil {
		return err
	}
	if !as.enter() {
		return platform.ErrAddressSpaceGone
	}
	defer as.exit()
	return run([]sysReq{{nr: unix.SYS_MUNMAP, args: [6]uintptr{addr, length}}})
}

// newThread creates a stub thread in a free slot; it is left in its signal
// handler, ready to be given guest registers.
func (as *addressSpace) newThread() (*thread, error) {
	as.mu.Lock()
	if n := len(as.parked); n > 0 {
		t := as.parked[n-1]
		as.parked = as.parked[:n-1]
		as.mu.Unlock()
		return t, nil
	}
	slot := as.nextSlot
	if n := len(as.slots); n > 0 {
		slot = as.slots[n-1]
		as.slots = as.slots[:n-1]
	} else if slot >= maxSlots {
		as.mu.Unlock()
		return nil, errors.New("systrap: too many threads in one address space")
	} else {
		as.nextSlot++
	}
	as.mu.Unlock()
	off, err := as.p.allocRegion()
	if err != nil {
		as.freeSlot(slot)
		return nil, err
	}
	addr := uintptr(slotBase + slot*regionSize)
	t := &thread{as: as, c: as.p.regionCtl(off, addr), off: off, slot: slot}
	as.p.initCtl(t.c)

	as.execMu.Lock()
	ec := as.exec.c
	ec.store(cArg0, uint64(addr))
	ec.store(cArg1, uint64(off))
	err = as.execCommand(opNewThread)
	tid := int64(ec.load(cResult))
	as.execMu.Unlock()
	if err == nil && tid <= 0 {
		err = fmt.Errorf("systrap: creating stub thread: %w", unix.Errno(-tid))
	}
	if err != nil {
		// The region may be mapped in the process (if it lives on), so it
		// is only recycled if the process is gone.
		as.freeSlot(slot)
		return nil, err
	}
	t.tid = int(tid)
	as.mu.Lock()
	as.threads[t] = struct{}{}
	as.mu.Unlock()
	if t.c.waitPost(false, as.proc.deadline(startTimeout)) != waitPosted || !as.alive() {
		return nil, as.fail()
	}
	f, ok := t.c.readFrame(as.p.fp)
	if !ok || t.c.load(cKind) != kindEvent || t.c.rip(f) != stubBase+stubThreadTrapOff {
		return nil, as.fail()
	}
	return t, nil
}

func (as *addressSpace) freeSlot(slot int) {
	as.mu.Lock()
	as.slots = append(as.slots, slot)
	as.mu.Unlock()
}

// releaseThread parks a thread that sits in its handler: the next context
// to need a thread in this address space takes it over, which is cheaper
// than ending it now and creating another later. Parked threads end with
// the process. (A process's parked threads are never more than the most
// threads it has run at once.)
func (as *addressSpace) releaseThread(t *thread) {
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.released || as.dead.Load() {
		return // Release recycles the regions
	}
	as.parked = append(as.parked, t)
}

// Release implements platform.AddressSpace: it kills the stub process,
// waits until no goroutine uses it and it has exited, then recycles its
// regions.
func (as *addressSpace) Release() {
	as.mu.Lock()
	if as.released {
		as.mu.Unlock()
		// Another Release is under way: it is over only when the
		// regions are recycled (Platform.Close relies on that).
		<-as.releaseDone
		return
	}
	defer close(as.releaseDone)
	as.released = true
	as.dead.Store(true)
	as.proc.kill()
	// Wake sentry goroutines sleeping on this process's threads.
	futexWake(as.exec.c.p32(cState))
	for t := range as.threads {
		futexWake(t.c.p32(cState))
	}
	for as.users > 0 {
		as.cond.Wait()
	}
	threads := as.threads
	as.threads = nil
	as.mu.Unlock()

	as.proc.waitGone(startTimeout)
	as.proc.close()
	as.p.freeRegion(as.exec.off)
	for t := range threads {
		as.p.freeRegion(t.off)
	}
	as.p.mu.Lock()
	delete(as.p.spaces, as)
	as.p.mu.Unlock()
}
