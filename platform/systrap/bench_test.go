package systrap

import (
	"testing"

	"github.com/runsc-lite/runsc-lite/platform"
)

// BenchmarkSyscallRoundTrip measures guest syscall -> Switch returns ->
// Switch resumes the guest, for a guest looping on a syscall.
func BenchmarkSyscallRoundTrip(b *testing.B) {
	e := newEnvB(b)
	as := e.newAS()
	defer as.Release()
	c, _ := e.p.NewContext()
	defer c.Release()
	// loop: mov $39,%eax; syscall; jmp loop
	e.mapCode(as, codeAddr, 0, cat(movEAX(39), insSyscall, []byte{0xeb, 0xf7}))
	st := startState(codeAddr)
	for i := 0; i < 100; i++ {
		c.Switch(as, st)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev, err := c.Switch(as, st)
		if err != nil || ev.Kind != platform.EventSyscall {
			b.Fatalf("%v %v", ev, err)
		}
		st.Regs.Rax = 0
	}
}
