package systrap

import (
	"golang.org/x/sys/unix"

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

const dataAddr = 0x10000000

// sysLoop: loop: mov $39,%eax; syscall; add %rax,%rbx; jmp loop
var sysLoop = cat(movEAX(39), insSyscall, []byte{0x48, 0x01, 0xc3}, []byte{0xeb, 0xf4})

func TestManySyscalls(t *testing.T) {
	e := newEnv(t)
	as := e.newAS()
	defer as.Release()
	c := e.newCtx()
	e.mapCode(as, codeAddr, 0, sysLoop)
	st := startState(codeAddr)
	var sum uint64
	for i := uint64(0); i < 20000; i++ {
		ev := e.sw(c, as, st)
		if ev.Kind != platform.EventSyscall || st.Regs.OrigRax != 39 || st.Regs.Rbx != sum {
			t.Fatalf("iteration %d: %+v rbx=%d want %d", i, ev, st.Regs.Rbx, sum)
		}
		st.Regs.Rax = i
		sum += i
	}
}

func TestFaults(t *testing.T) {
	e := newEnv(t)
	as := e.newAS()
	defer as.Release()
	c := e.newCtx()
	code := cat(
		[]byte{0x48, 0x89, 0x03}, // mov %rax,(%rbx)      write
		[]byte{0x48, 0x8b, 0x0a}, // mov (%rdx),%rcx      read
		[]byte{0x48, 0x89, 0xcf}, // mov %rcx,%rdi
		movEAX(39), insSyscall,
		[]byte{0xff, 0xe6}, // jmp *%rsi            exec
	)
	e.mapCode(as, codeAddr, 0, code)
	st := startState(codeAddr)
	st.Regs.Rax, st.Regs.Rbx, st.Regs.Rdx, st.Regs.Rsi = 0xabcdef, dataAddr+8, dataAddr+0x10010, dataAddr+0x20000

	ev := e.sw(c, as, st)
	if ev.Kind != platform.EventFault || ev.Addr != dataAddr+8 || ev.Access != (platform.Access{Write: true}) ||
		st.Regs.Rip != codeAddr || ev.Signo != sigSEGV || ev.Trapno != trapPF {
		t.Fatalf("write fault: %+v rip=%#x", ev, st.Regs.Rip)
	}
	e.mapData(as, dataAddr, 1<<20, 4096)
	ev = e.sw(c, as, st)
	if ev.Kind != platform.EventFault || ev.Addr != dataAddr+0x10010 || ev.Access != platform.Read ||
		st.Regs.Rip != codeAddr+3 {
		t.Fatalf("read fault: %+v rip=%#x", ev, st.Regs.Rip)
	}
	if got := le.Uint64(e.mem[1<<20+8:]); got != 0xabcdef {
		t.Fatalf("guest write landed as %#x", got)
	}
	le.PutUint64(e.mem[2<<20+0x10:], 0x5555)
	e.mapData(as, dataAddr+0x10000, 2<<20, 4096)
	ev = e.sw(c, as, st)
	if ev.Kind != platform.EventSyscall || st.Regs.Rdi != 0x5555 {
		t.Fatalf("after read fault: %+v rdi=%#x", ev, st.Regs.Rdi)
	}
	ev = e.sw(c, as, st)
	if ev.Kind != platform.EventFault || ev.Addr != dataAddr+0x20000 || ev.Access != (platform.Access{Execute: true}) ||
		st.Regs.Rip != dataAddr+0x20000 {
		t.Fatalf("exec fault: %+v rip=%#x", ev, st.Regs.Rip)
	}
	// Executing a mapped but non-executable page is an exec fault too.
	st.Regs.Rip = dataAddr
	ev = e.sw(c, as, st)
	if ev.Kind != platform.EventFault || ev.Addr != dataAddr || !ev.Access.Execute {
		t.Fatalf("NX fault: %+v", ev)
	}
	// Unmap, then the same access faults again.
	if err := as.Unmap(dataAddr, 4096); err != nil {
		t.Fatal(err)
	}
	st.Regs.Rip = codeAddr
	ev = e.sw(c, as, st)
	if ev.Kind != platform.EventFault || ev.Addr != dataAddr+8 || !ev.Access.Write {
		t.Fatalf("after unmap: %+v", ev)
	}
	// Writing a read-only mapping is a write fault.
	if err := as.MapFile(dataAddr, 4096, 1<<20, platform.Read); err != nil {
		t.Fatal(err)
	}
	ev = e.sw(c, as, st)
	if ev.Kind != platform.EventFault || ev.Addr != dataAddr+8 || !ev.Access.Write || ev.Code != 2 /* SEGV_ACCERR */ {
		t.Fatalf("read-only: %+v", ev)
	}
}

func TestSignals(t *testing.T) {
	e := newEnv(t)
	as := e.newAS()
	defer as.Release()
	c := e.newCtx()
	for _, tc := range []struct {
		name  string
		code  []byte
		signo int32
		rip   uint64
	}{
		{"ud2", insUD2, sigILL, codeAddr},
		{"int3", insInt3, sigTRAP, codeAddr + 1},
		{"div0", []byte{0x31, 0xd2, 0x31, 0xc9, 0xf7, 0xf1}, sigFPE, codeAddr + 4},
		{"hlt", []byte{0xf4}, sigSEGV, codeAddr},
	} {
		e.mapCode(as, codeAddr, 0, tc.code)
		st := startState(codeAddr)
		ev := e.sw(c, as, st)
		if ev.Kind != platform.EventSignal || ev.Signo != tc.signo || st.Regs.Rip != tc.rip {
			t.Errorf("%s: %+v rip=%#x", tc.name, ev, st.Regs.Rip)
		}
	}
}

func TestFSBase(t *testing.T) {
	e := newEnv(t)
	as := e.newAS()
	defer as.Release()
	c := e.newCtx()
	code := cat(
		[]byte{0x64, 0x48, 0x8b, 0x3c, 0x25, 0x08, 0, 0, 0}, // mov %fs:8,%rdi
		movEAX(39), insSyscall,
		[]byte{0xf3, 0x48, 0x0f, 0xae, 0xd6}, // wrfsbase %rsi
		movEAX(39), insSyscall,
	)
	e.mapCode(as, codeAddr, 0, code)
	e.mapData(as, dataAddr, 1<<20, 4096)
	le.PutUint64(e.mem[1<<20+0x108:], 0x1234567890)
	st := startState(codeAddr)
	st.Regs.FsBase = dataAddr + 0x100
	st.Regs.GsBase = 0x777000
	st.Regs.Rsi = 0x4242000
	ev := e.sw(c, as, st)
	if ev.Kind != platform.EventSyscall || st.Regs.Rdi != 0x1234567890 || st.Regs.FsBase != dataAddr+0x100 ||
		st.Regs.GsBase != 0x777000 {
		t.Fatalf("%+v %+v", ev, st.Regs)
	}
	ev = e.sw(c, as, st)
	if ev.Kind != platform.EventSyscall || st.Regs.FsBase != 0x4242000 {
		t.Fatalf("guest wrfsbase: %+v fs=%#x", ev, st.Regs.FsBase)
	}
	st.Regs.FsBase = 1 << 50
	if _, err := c.Switch(as, st); err == nil {
		t.Fatal("non-canonical FS base accepted")
	}
}

const xmmOff = 160 // XMM0 in the fxsave area

func TestFPState(t *testing.T) {
	e := newEnv(t)
	as := e.newAS()
	defer as.Release()
	c := e.newCtx()
	code := cat(
		[]byte{0x66, 0x48, 0x0f, 0x7e, 0xc7}, // movq %xmm0,%rdi
		[]byte{0x66, 0x48, 0x0f, 0x6e, 0xd1}, // movq %rcx,%xmm2
		movEAX(39), insSyscall,
		[]byte{0x66, 0x48, 0x0f, 0x7e, 0xce}, // movq %xmm1,%rsi
		[]byte{0x66, 0x48, 0x0f, 0x7e, 0xd7}, // movq %xmm2,%rdi
		movEAX(39), insSyscall,
	)
	e.mapCode(as, codeAddr, 0, code)
	st := startState(codeAddr)
	st.FP = e.p.InitialFPState()
	le.PutUint64(st.FP[xmmOff:], 0x1122334455667788)
	le.PutUint64(st.FP[512:], le.Uint64(st.FP[512:])|2) // XSTATE_BV: SSE in use
	st.Regs.Rcx = 0xfeedface
	ev := e.sw(c, as, st)
	if ev.Kind != platform.EventSyscall || st.Regs.Rdi != 0x1122334455667788 {
		t.Fatalf("xmm0 -> rdi: %+v rdi=%#x", ev, st.Regs.Rdi)
	}
	if got := le.Uint64(st.FP[xmmOff+32:]); got != 0xfeedface {
		t.Fatalf("xmm2 in FP state = %#x", got)
	}
	le.PutUint64(st.FP[xmmOff+16:], 0xabad1dea)
	ev = e.sw(c, as, st)
	if ev.Kind != platform.EventSyscall || st.Regs.Rsi != 0xabad1dea || st.Regs.Rdi != 0xfeedface {
		t.Fatalf("second: %+v rsi=%#x rdi=%#x", ev, st.Regs.Rsi, st.Regs.Rdi)
	}
	// Garbage FP state (bad MXCSR, bad XSAVE header, bad magics) must not
	// kill the stub.
	for i := range st.FP {
		st.FP[i] = 0xff
	}
	st.Regs.Rip = codeAddr
	ev = e.sw(c, as, st)
	if ev.Kind != platform.EventSyscall {
		t.Fatalf("garbage FP: %+v", ev)
	}
	if _, err := c.Switch(as, &platform.State{Regs: st.Regs, FP: make([]byte, 10)}); err == nil {
		t.Fatal("short FP state accepted")
	}
	// nil FP is the initial state, filled in on return.
	st.FP = nil
	st.Regs.Rip = codeAddr
	ev = e.sw(c, as, st)
	if ev.Kind != platform.EventSyscall || st.Regs.Rdi != 0 || len(st.FP) != e.p.FPStateSize() {
		t.Fatalf("nil FP: %+v rdi=%#x", ev, st.Regs.Rdi)
	}
}

// TestMapFiles maps more pages than one executor batch holds with one
// MapFiles call; the guest then reads every page without a single fault.
func TestMapFiles(t *testing.T) {
	e := newEnv(t)
	as := e.newAS()
	defer as.Release()
	c := e.newCtx()
	const pages = maxBatch + 8
	code := cat(
		[]byte{0x31, 0xc0},                         // xor %eax,%eax
		[]byte{0xb9, pages, 0, 0, 0},               // mov $pages,%ecx
		[]byte{0x48, 0x89, 0xda},                   // mov %rbx,%rdx
		[]byte{0x48, 0x03, 0x02},                   // loop: add (%rdx),%rax
		[]byte{0x48, 0x81, 0xc2, 0x00, 0x10, 0, 0}, // add $4096,%rdx
		[]byte{0xff, 0xc9},                         // dec %ecx
		[]byte{0x75, 0xf2},                         // jnz loop
		[]byte{0x48, 0x89, 0xc7},                   // mov %rax,%rdi
		movEAX(39), insSyscall,
	)
	e.mapCode(as, codeAddr, 0, code)
	var ms []platform.Mapping
	want := uint64(0)
	for i := 0; i < pages; i++ {
		off := int64(1<<20 + i*4096)
		le.PutUint64(e.mem[off:], uint64(i+1))
		want += uint64(i + 1)
		ms = append(ms, platform.Mapping{Addr: dataAddr + uintptr(i)*4096, Length: 4096, Offset: off, Perm: platform.Read})
	}
	if err := as.MapFiles(ms); err != nil {
		t.Fatal(err)
	}
	st := startState(codeAddr)
	st.Regs.Rbx = dataAddr
	ev := e.sw(c, as, st)
	if ev.Kind != platform.EventSyscall || st.Regs.Rdi != want {
		t.Fatalf("event %+v, sum %d, want a syscall with sum %d", ev, st.Regs.Rdi, want)
	}
	if err := as.MapFiles([]platform.Mapping{{Addr: dataAddr + 1, Length: 4096}}); err != unix.EINVAL {
		t.Fatalf("unaligned mapping: %v, want EINVAL", err)
	}
}
