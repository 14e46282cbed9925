package systrap

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/platform"
)

// env is a platform over a test memory file mapped into the test process,
// so tests write guest code and data directly.
type env struct {
	t   testing.TB
	p   *Platform
	fd  int
	mem []byte
}

const memSize = 64 << 20

func newEnv(t *testing.T) *env { return newEnvB(t) }

func newEnvB(t testing.TB) *env { return newEnvFiles(t) }

// newEnvFiles makes a platform over a fresh memory file and the given
// extra backing files.
func newEnvFiles(t testing.TB, extra ...int) *env {
	t.Helper()
	fd, err := unix.MemfdCreate("guest-mem", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Ftruncate(fd, memSize); err != nil {
		t.Fatal(err)
	}
	mem, err := unix.Mmap(fd, 0, memSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(append([]int{fd}, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, p: p, fd: fd, mem: mem}
	t.Cleanup(func() {
		p.Close()
		unix.Munmap(mem)
		unix.Close(fd)
	})
	return e
}

func (e *env) newAS() *addressSpace {
	e.t.Helper()
	as, err := e.p.NewAddressSpace()
	if err != nil {
		e.t.Fatal(err)
	}
	return as.(*addressSpace)
}

func (e *env) newCtx() platform.Context {
	e.t.Helper()
	c, err := e.p.NewContext()
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(c.Release)
	return c
}

// mapCode writes code at memory-file offset off and maps it at addr.
func (e *env) mapCode(as platform.AddressSpace, addr uintptr, off int64, code []byte) {
	e.t.Helper()
	copy(e.mem[off:], code)
	if err := as.MapFile(addr, 4096, off, platform.ReadExec); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) mapData(as platform.AddressSpace, addr uintptr, off int64, n uintptr) {
	e.t.Helper()
	if err := as.MapFile(addr, n, off, platform.ReadWrite); err != nil {
		e.t.Fatal(err)
	}
}

func startState(rip uint64) *platform.State {
	return &platform.State{Regs: platform.Registers{Rip: rip, Rsp: 0, Eflags: 0x202, Cs: userCS, Ss: userSS}}
}

func (e *env) sw(c platform.Context, as platform.AddressSpace, st *platform.State) platform.Event {
	e.t.Helper()
	ev, err := c.Switch(as, st)
	if err != nil {
		e.t.Fatalf("Switch: %v", err)
	}
	return ev
}

// Guest code fragments (x86-64 machine code).
var (
	insSyscall = []byte{0x0f, 0x05}
	insUD2     = []byte{0x0f, 0x0b}
	insInt3    = []byte{0xcc}
	insLoop    = []byte{0xeb, 0xfe} // jmp .
)

func movEAX(v uint32) []byte {
	return []byte{0xb8, byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}
}

func cat(bs ...[]byte) []byte {
	var r []byte
	for _, b := range bs {
		r = append(r, b...)
	}
	return r
}
