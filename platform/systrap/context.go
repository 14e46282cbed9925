package systrap

import (
	"errors"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/platform"
)

// context runs one guest thread at a time. It owns one stub thread per
// address space it has run in, created on first use.
type context struct {
	p *Platform

	mu       sync.Mutex // guards threads and released
	threads  map[*addressSpace]*thread
	released bool

	// interrupted is the sticky interrupt request; running is the thread
	// a Switch is currently driving. Interrupt sets interrupted before
	// reading running, and Switch publishes running before testing
	// interrupted, so a request is never lost: either Switch sees the
	// flag or Interrupt sees the thread and signals it.
	interrupted atomic.Bool
	running     atomic.Pointer[thread]
}

var (
	_ platform.Context     = (*context)(nil)
	_ platform.LocalMapper = (*context)(nil)
)

var errForeignAS = errors.New("systrap: address space from another platform")

// Interrupt implements platform.Context.
func (c *context) Interrupt() {
	c.interrupted.Store(true)
	if t := c.running.Load(); t != nil {
		// A stale signal (the Switch already returned) is harmless: the
		// stub reports it and Switch resumes the guest.
		unix.Tgkill(t.as.proc.pid, t.tid, unix.SIGUSR2)
	}
}

// threadFor returns the context's thread in as, creating it if needed.
func (c *context) threadFor(as *addressSpace) (*thread, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.released {
		return nil, errors.New("systrap: context released")
	}
	if t := c.threads[as]; t != nil {
		return t, nil
	}
	// Forget threads of address spaces that are gone (their regions are
	// recycled by Release).
	for a := range c.threads {
		if a.dead.Load() {
			delete(c.threads, a)
		}
	}
	t, err := as.newThread()
	if err != nil {
		return nil, err
	}
	c.threads[as] = t
	return t, nil
}

// Switch implements platform.Context.
func (c *context) Switch(pas platform.AddressSpace, st *platform.State) (platform.Event, error) {
	as, ok := pas.(*addressSpace)
	if !ok || as.p != c.p {
		return platform.Event{}, errForeignAS
	}
	if !as.enter() {
		return platform.Event{}, platform.ErrAddressSpaceGone
	}
	defer as.exit()
	t, err := c.threadFor(as)
	if err != nil {
		if as.dead.Load() {
			err = platform.ErrAddressSpaceGone
		}
		return platform.Event{}, err
	}
	fp := c.p.fp
	c.running.Store(t)
	defer c.running.Store(nil)
	if c.interrupted.Swap(false) {
		if st.FP == nil {
			st.FP = append([]byte(nil), fp.initial...)
		}
		return platform.Event{Kind: platform.EventInterrupted}, nil
	}

	tc := t.c
	f, ok := tc.readFrame(fp)
	if !ok {
		return platform.Event{}, as.fail()
	}
	if err := tc.storeState(f, fp, st); err != nil {
		return platform.Event{}, err
	}
	for {
		tc.command(opResume)
		switch tc.waitPost(true, as.alive) {
		case waitPosted:
		case waitDied:
			return platform.Event{}, as.fail()
		default:
			return platform.Event{}, platform.ErrAddressSpaceGone
		}
		f, ok = tc.readFrame(fp)
		if !ok || tc.load(cKind) != kindEvent {
			return platform.Event{}, as.fail()
		}
		intr := tc.isInterrupt(f)
		if intr && !c.interrupted.Swap(false) {
			continue // stale interrupt: the frame holds the guest state as is
		}
		tc.loadState(f, fp, st)
		if intr {
			return platform.Event{Kind: platform.EventInterrupted}, nil
		}
		return tc.decodeEvent(f, st), nil
	}
}

// MapFilesLocal implements platform.LocalMapper: the context's thread in
// as, stopped in its signal handler after reporting an event and still
// spinning, makes the mmap calls itself.
func (c *context) MapFilesLocal(pas platform.AddressSpace, ms []platform.Mapping) error {
	as, t, err := c.localThread(pas)
	if err != nil {
		return err
	}
	if t == nil {
		return as.MapFiles(ms)
	}
	return as.mapFiles(ms, func(reqs []sysReq) error { return as.runSyscalls(t.c, reqs) })
}

// UnmapLocal implements platform.LocalMapper.
func (c *context) UnmapLocal(pas platform.AddressSpace, addr, length uintptr) error {
	as, t, err := c.localThread(pas)
	if err != nil {
		return err
	}
	if t == nil {
		return as.Unmap(addr, length)
	}
	return as.unmap(addr, length, func(reqs []sysReq) error { return as.runSyscalls(t.c, reqs) })
}

// ProtectLocal implements platform.LocalMapper.
func (c *context) ProtectLocal(pas platform.AddressSpace, rs []platform.Range, perm platform.Access) error {
	as, t, err := c.localThread(pas)
	if err != nil {
		return err
	}
	run := func(reqs []sysReq) error { return as.execSyscalls(reqs...) }
	if t != nil {
		run = func(reqs []sysReq) error { return as.runSyscalls(t.c, reqs) }
	}
	return as.protect(rs, perm, run)
}

// localThread returns c's thread in pas, or nil if it has none that is
// stopped (between Switch calls).
func (c *context) localThread(pas platform.AddressSpace) (*addressSpace, *thread, error) {
	as, ok := pas.(*addressSpace)
	if !ok || as.p != c.p {
		return nil, nil, errForeignAS
	}
	c.mu.Lock()
	t := c.threads[as]
	c.mu.Unlock()
	if c.running.Load() != nil {
		t = nil
	}
	return as, t, nil
}

// Release implements platform.Context.
func (c *context) Release() {
	c.mu.Lock()
	threads := c.threads
	c.threads = nil
	c.released = true
	c.mu.Unlock()
	for as, t := range threads {
		as.releaseThread(t)
	}
}
