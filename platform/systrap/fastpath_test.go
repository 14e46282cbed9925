package systrap

import (
	"golang.org/x/sys/unix"

	"testing"
	"time"

	"github.com/runsc-lite/runsc-lite/platform"
)

// A context resolves a fault through its own stopped thread: the executor
// is not involved (it is held busy here; using it would block).
func TestLocalMapper(t *testing.T) {
	e := newEnv(t)
	as := e.newAS()
	defer as.Release()
	c := e.newCtx()
	lm, ok := c.(platform.LocalMapper)
	if !ok {
		t.Fatal("systrap contexts are not platform.LocalMappers")
	}
	code := cat(
		[]byte{0x48, 0x89, 0x03}, // mov %rax,(%rbx)
		[]byte{0x48, 0x8b, 0x3b}, // mov (%rbx),%rdi
		movEAX(39), insSyscall,
	)
	e.mapCode(as, codeAddr, 0, code)
	st := startState(codeAddr)
	st.Regs.Rax, st.Regs.Rbx = 0x1234, dataAddr+8
	if ev := e.sw(c, as, st); ev.Kind != platform.EventFault || ev.Addr != dataAddr+8 {
		t.Fatalf("want a write fault at %#x, got %+v", dataAddr+8, ev)
	}

	as.execMu.Lock()
	done := make(chan error, 1)
	go func() {
		done <- lm.MapFilesLocal(as, []platform.Mapping{{Addr: dataAddr, Length: 4096, Offset: 1 << 20, Perm: platform.ReadWrite}})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("MapFilesLocal waited for the executor")
	}
	as.execMu.Unlock()

	if ev := e.sw(c, as, st); ev.Kind != platform.EventSyscall || st.Regs.Rdi != 0x1234 {
		t.Fatalf("after the local mapping: %+v rdi=%#x", ev, st.Regs.Rdi)
	}
	if got := le.Uint64(e.mem[1<<20+8:]); got != 0x1234 {
		t.Fatalf("guest write landed as %#x", got)
	}
	if err := lm.UnmapLocal(as, dataAddr, 4096); err != nil {
		t.Fatal(err)
	}
	st.Regs.Rip = codeAddr
	if ev := e.sw(c, as, st); ev.Kind != platform.EventFault || ev.Addr != dataAddr+8 {
		t.Fatalf("after the local unmap: %+v", ev)
	}
	// Bad requests are refused before anything runs.
	if err := lm.MapFilesLocal(as, []platform.Mapping{{Addr: dataAddr + 1, Length: 4096}}); err == nil {
		t.Error("unaligned local mapping succeeded")
	}
	if err := lm.UnmapLocal(as, maxUserAddress, 4096); err == nil {
		t.Error("local unmap above the guest range succeeded")
	}
}

// NewAddressSpace hands out a spare made in the background, with a thread
// already waiting, and starts the next one; the first spare is made once a
// second address space was asked for.
func TestSpareAddressSpace(t *testing.T) {
	e := newEnv(t)
	first := e.newAS()
	defer first.Release()
	// Not for the first address space: the guest's init is starting.
	// (refillSpare marks a spare as being made before it returns.)
	e.p.mu.Lock()
	early, refilling := e.p.spare, e.p.refilling
	e.p.mu.Unlock()
	if early != nil || refilling {
		t.Fatal("a spare address space is made after the first one")
	}
	second := e.newAS()
	defer second.Release()
	var spare *addressSpace
	for deadline := time.Now().Add(10 * time.Second); spare == nil; {
		e.p.mu.Lock()
		spare = e.p.spare
		e.p.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatal("no spare address space after 10 s")
		}
		time.Sleep(time.Millisecond)
	}
	as := e.newAS()
	defer as.Release()
	if as != spare {
		t.Fatal("NewAddressSpace did not hand out the spare")
	}
	if n := taskCount(as.PID()); n != 2 {
		t.Fatalf("spare has %d host threads, want 2 (executor and a waiting thread)", n)
	}
	c := e.newCtx()
	e.mapCode(as, codeAddr, 0, cat(movEAX(39), insSyscall))
	if ev := e.sw(c, as, startState(codeAddr)); ev.Kind != platform.EventSyscall {
		t.Fatalf("event %+v, want a syscall", ev)
	}
	if n := taskCount(as.PID()); n != 2 {
		t.Fatalf("%d host threads after the first switch, want 2 (the waiting thread was used)", n)
	}
}

func TestProtect(t *testing.T) {
	e := newEnv(t)
	as := e.newAS()
	defer as.Release()
	c := e.newCtx()
	code := cat(
		[]byte{0x48, 0x8b, 0x3b}, // mov (%rbx),%rdi
		[]byte{0x48, 0x89, 0x03}, // mov %rax,(%rbx)
		movEAX(39), insSyscall,
	)
	e.mapCode(as, codeAddr, 0, code)
	e.mapData(as, dataAddr, 1<<20, 2*4096)
	le.PutUint64(e.mem[1<<20+4096:], 77)
	for _, local := range []bool{false, true} {
		st := startState(codeAddr)
		st.Regs.Rax, st.Regs.Rbx = 5, dataAddr+4096
		var err error
		if local {
			// The context's thread exists once it has run.
			e.mapData(as, dataAddr, 1<<20, 2*4096)
			if ev := e.sw(c, as, st); ev.Kind != platform.EventSyscall {
				t.Fatalf("event %+v", ev)
			}
			le.PutUint64(e.mem[1<<20+4096:], 77)
			st = startState(codeAddr)
			st.Regs.Rax, st.Regs.Rbx = 5, dataAddr+4096
			err = c.(platform.LocalMapper).ProtectLocal(as, []platform.Range{{Addr: dataAddr, Length: 2 * 4096}}, platform.Read)
		} else {
			err = as.Protect(dataAddr, 2*4096, platform.Read)
		}
		if err != nil {
			t.Fatalf("local=%v: %v", local, err)
		}
		// The read still works; the write faults with SEGV_ACCERR.
		ev := e.sw(c, as, st)
		if ev.Kind != platform.EventFault || !ev.Access.Write || ev.Code != 2 || st.Regs.Rdi&0xff != 77 {
			t.Fatalf("local=%v: %+v rdi=%d, want a write fault after reading 77", local, ev, st.Regs.Rdi)
		}
	}
	if err := as.Protect(dataAddr, 4096, platform.ReadWrite); err != unix.EINVAL {
		t.Errorf("Protect to writable: %v, want EINVAL", err)
	}
	// The stub's filter refuses a writable mprotect even from stub code
	// (the call traps instead of running): the page stays read-only.
	as.execSyscalls(sysReq{nr: unix.SYS_MPROTECT, args: [6]uintptr{dataAddr, 2 * 4096, unix.PROT_READ | unix.PROT_WRITE}})
	st := startState(codeAddr)
	st.Regs.Rax, st.Regs.Rbx = 5, dataAddr+4096
	if ev, err := c.Switch(as, st); err == nil && (ev.Kind != platform.EventFault || !ev.Access.Write) {
		t.Errorf("after a writable mprotect from the stub: %+v, want a write fault", ev)
	}
}
