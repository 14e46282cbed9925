package systrap

import (
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/runsc-lite/runsc-lite/platform"
)

// hostileEnv runs guest code that attacks its own stub. Every Switch must
// return (an event or an error) within a bounded time; when the address
// space is broken it must say ErrAddressSpaceGone, and a fresh one works.
type hostileEnv struct {
	*env
	as *addressSpace
	c  platform.Context
}

func (h *hostileEnv) fresh(code []byte) {
	if h.as != nil {
		h.as.Release()
	}
	h.as = h.newAS()
	h.mapCode(h.as, codeAddr, 0, code)
	h.mapData(h.as, dataAddr, 1<<20, 1<<20)
}

// run does one Switch with a watchdog: after 1s it interrupts (a guest may
// legitimately loop), and 10s without an answer is a hang.
func (h *hostileEnv) run(st *platform.State) (platform.Event, error) {
	h.t.Helper()
	type res struct {
		ev  platform.Event
		err error
	}
	ch := make(chan res, 1)
	go func() {
		ev, err := h.c.Switch(h.as, st)
		ch <- res{ev, err}
	}()
	timer := time.NewTimer(time.Second)
	defer timer.Stop()
	for {
		select {
		case r := <-ch:
			if r.err != nil && r.err != platform.ErrAddressSpaceGone {
				// Bad state values are refused with other errors; the
				// address space stays usable.
				return r.ev, r.err
			}
			return r.ev, r.err
		case <-timer.C:
			h.c.Interrupt()
			select {
			case r := <-ch:
				return r.ev, r.err
			case <-time.After(10 * time.Second):
				h.t.Fatalf("Switch hung (rip %#x)", st.Regs.Rip)
			}
		}
	}
}

func newHostile(t *testing.T) *hostileEnv {
	e := newEnv(t)
	h := &hostileEnv{env: e, c: e.newCtx()}
	t.Cleanup(func() { h.as.Release() })
	return h
}

// checkUsable verifies a fresh address space still works after an attack.
func (h *hostileEnv) checkUsable() {
	h.t.Helper()
	h.fresh(sysLoop)
	st := startState(codeAddr)
	ev, err := h.run(st)
	if err != nil || ev.Kind != platform.EventSyscall {
		h.t.Fatalf("fresh address space broken: %+v %v", ev, err)
	}
}

func TestGuestScribblesOverStub(t *testing.T) {
	h := newHostile(t)
	// loop: mov %rax,(%rbx); add $8,%rbx; cmp %rcx,%rbx; jb loop; mov $39,%eax; syscall; ud2
	code := cat([]byte{0x48, 0x89, 0x03, 0x48, 0x83, 0xc3, 0x08, 0x48, 0x39, 0xcb, 0x72, 0xf4},
		movEAX(39), insSyscall, insUD2)
	rng := rand.New(rand.NewSource(1))
	targets := []struct{ lo, n uint64 }{
		{slotBase + regionSize, regionSize},               // own region: control page, stacks
		{slotBase + regionSize, 0x100},                    // own control words only
		{slotBase + regionSize + altStackLo, altStackLen}, // own alternate stack
		{slotBase, regionSize},                            // the executor's region
		{slotBase, 0x100},
	}
	for i, tg := range targets {
		for _, val := range []uint64{0, 1, 2, ^uint64(0), rng.Uint64()} {
			h.fresh(code)
			st := startState(codeAddr)
			st.Regs.Rax, st.Regs.Rbx, st.Regs.Rcx = val, tg.lo, tg.lo+tg.n
			var evs []any
			for j := 0; j < 3; j++ {
				ev, err := h.run(st)
				evs = append(evs, ev.Kind, err)
				if err != nil {
					break
				}
			}
			// Then the sentry asks the executor for something.
			err := h.as.MapFile(dataAddr, 4096, 0, platform.Read)
			t.Logf("target %d val %#x: %v, then MapFile: %v", i, val, evs, err)
		}
	}
	h.checkUsable()
}

func TestGuestRandomJumps(t *testing.T) {
	h := newHostile(t)
	rng := rand.New(rand.NewSource(2))
	h.fresh(sysLoop)
	outcomes := map[string]int{}
	for i := 0; i < 300; i++ {
		st := startState(0)
		r := &st.Regs
		for _, p := range []*uint64{&r.Rax, &r.Rbx, &r.Rcx, &r.Rdx, &r.Rsi, &r.Rdi, &r.R8, &r.R9,
			&r.R10, &r.R11, &r.R12, &r.R13, &r.R14, &r.R15, &r.Rbp, &r.Rsp} {
			switch rng.Intn(3) {
			case 0:
				*p = rng.Uint64()
			case 1:
				*p = slotBase + uint64(rng.Intn(3*regionSize))
			}
		}
		switch rng.Intn(4) {
		case 0: // anywhere
			r.Rip = rng.Uint64()
		case 1: // into the stub code (the seccomp filter lets it make calls)
			r.Rip = stubBase + uint64(rng.Intn(len(stubCode)))
		case 2: // into stub regions
			r.Rip = slotBase + uint64(rng.Intn(2*regionSize))
		case 3: // guest code with corrupted flags and segments
			r.Rip = codeAddr
			r.Eflags = rng.Uint64()
			r.Cs, r.Ss = rng.Uint64(), rng.Uint64()
			r.FsBase = rng.Uint64() & (1<<47 - 1)
			r.GsBase = rng.Uint64() & (1<<47 - 1)
		}
		ev, err := h.run(st)
		if err == platform.ErrAddressSpaceGone {
			h.fresh(sysLoop)
		}
		outcomes[fmt.Sprint(ev.Kind, ev.Signo, err)]++
	}
	t.Logf("outcomes: %v", outcomes)
	h.checkUsable()
}

func TestGuestCorruptsFrameThroughOtherThread(t *testing.T) {
	// Thread A waits in its handler while thread B overwrites A's frame
	// and control page; A's next Switch must not crash the sentry.
	h := newHostile(t)
	code := cat([]byte{0x48, 0x89, 0x03, 0x48, 0x83, 0xc3, 0x08, 0x48, 0x39, 0xcb, 0x72, 0xf4},
		movEAX(39), insSyscall, insLoop)
	for _, val := range []uint64{0, ^uint64(0), 0x7ffe00024000} {
		h.fresh(code)
		a := h.c
		b := h.newCtx()
		stA := startState(codeAddr + 12) // A: straight to the syscall
		if ev, err := h.run(stA); err != nil || ev.Kind != platform.EventSyscall {
			t.Fatalf("A: %+v %v", ev, err)
		}
		// B (slot 2) scribbles over A's region (slot 1).
		stB := startState(codeAddr)
		stB.Regs.Rax, stB.Regs.Rbx, stB.Regs.Rcx = val, slotBase+regionSize, slotBase+2*regionSize
		h.c = b
		evB, errB := h.run(stB)
		h.c = a
		ev1, err1 := h.run(stA)
		ev2, err2 := h.run(stA)
		t.Logf("val %#x: B %v %v; A %v %v, %v %v", val, evB.Kind, errB, ev1.Kind, err1, ev2.Kind, err2)
	}
	h.checkUsable()
}
