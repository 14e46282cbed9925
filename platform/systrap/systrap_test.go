package systrap

import (
	"testing"

	"github.com/runsc-lite/runsc-lite/platform"
)

const codeAddr = 0x400000

func TestSyscallEvent(t *testing.T) {
	e := newEnv(t)
	as := e.newAS()
	defer as.Release()
	c := e.newCtx()
	// mov $39,%eax; syscall; mov %rax,%rdi; mov $60,%eax; syscall
	e.mapCode(as, codeAddr, 0, cat(movEAX(39), insSyscall, []byte{0x48, 0x89, 0xc7}, movEAX(60), insSyscall))
	st := startState(codeAddr)
	st.Regs.Rdi, st.Regs.Rsi, st.Regs.Rdx, st.Regs.R10, st.Regs.R8, st.Regs.R9 = 1, 2, 3, 4, 5, 6
	ev := e.sw(c, as, st)
	if ev.Kind != platform.EventSyscall || st.Regs.Rax != 39 || st.Regs.OrigRax != 39 {
		t.Fatalf("got %+v rax=%d orig=%d", ev, st.Regs.Rax, st.Regs.OrigRax)
	}
	r := st.Regs
	if r.Rdi != 1 || r.Rsi != 2 || r.Rdx != 3 || r.R10 != 4 || r.R8 != 5 || r.R9 != 6 || r.Rip != codeAddr+7 {
		t.Fatalf("bad args/rip: %+v", r)
	}
	if len(st.FP) != e.p.FPStateSize() {
		t.Fatalf("FP size %d want %d", len(st.FP), e.p.FPStateSize())
	}
	st.Regs.Rax = 12345
	ev = e.sw(c, as, st)
	if ev.Kind != platform.EventSyscall || st.Regs.OrigRax != 60 || st.Regs.Rdi != 12345 {
		t.Fatalf("got %+v %+v", ev, st.Regs)
	}
}
