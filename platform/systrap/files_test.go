package systrap

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/platform"
)

// newEnvWithHostFile is newEnv with a second backing file: an unnamed
// regular file in a temporary directory, as the root overlay's.
func newEnvWithHostFile(t *testing.T) (*env, int) {
	t.Helper()
	host, err := unix.Open(t.TempDir(), unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(host) }) // after the platform's cleanup
	if err := unix.Ftruncate(host, 1<<20); err != nil {
		t.Fatal(err)
	}
	return newEnvFiles(t, host), host
}

// TestMapSecondFile maps a page of the host file next to guest code from
// the memory file: the guest reads what the file holds and its write
// lands in the file.
func TestMapSecondFile(t *testing.T) {
	e, host := newEnvWithHostFile(t)
	as := e.newAS()
	defer as.Release()
	c := e.newCtx()
	e.mapCode(as, codeAddr, 0, cat(
		[]byte{0x48, 0x8b, 0x3b},       // mov (%rbx),%rdi
		[]byte{0x48, 0x89, 0x4b, 0x08}, // mov %rcx,8(%rbx)
		movEAX(39), insSyscall,
	))
	const off = 3 * 4096
	var word [8]byte
	le.PutUint64(word[:], 0x1122334455667788)
	if _, err := unix.Pwrite(host, word[:], off); err != nil {
		t.Fatal(err)
	}
	// The memory file holds something else at that offset: the mapping
	// must come from the host file.
	le.PutUint64(e.mem[off:], 0xdead)
	if err := as.MapFiles([]platform.Mapping{{Addr: dataAddr, Length: 4096, Offset: off, Perm: platform.ReadWrite, File: 1}}); err != nil {
		t.Fatal(err)
	}
	st := startState(codeAddr)
	st.Regs.Rbx, st.Regs.Rcx = dataAddr, 0x99
	ev := e.sw(c, as, st)
	if ev.Kind != platform.EventSyscall || st.Regs.Rdi != 0x1122334455667788 {
		t.Fatalf("event %+v, read %#x, want a syscall after reading 0x1122334455667788", ev, st.Regs.Rdi)
	}
	if _, err := unix.Pread(host, word[:], off+8); err != nil {
		t.Fatal(err)
	}
	if got := le.Uint64(word[:]); got != 0x99 {
		t.Fatalf("guest write reached the host file as %#x, want 0x99", got)
	}
	if got := le.Uint64(e.mem[off+8:]); got != 0 {
		t.Fatalf("guest write reached the memory file: %#x", got)
	}
}

// TestMapFileIndexValidation: a file index the platform does not have is
// refused before anything reaches the stub, and the address space stays
// usable.
func TestMapFileIndexValidation(t *testing.T) {
	one := newEnv(t)
	two, _ := newEnvWithHostFile(t)
	for _, tc := range []struct {
		name string
		e    *env
		file int
	}{
		{"one file, index 1", one, 1},
		{"one file, index -1", one, -1},
		{"two files, index 2", two, 2},
		{"two files, index -1", two, -1},
		{"two files, huge index", two, 1 << 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			as := tc.e.newAS()
			defer as.Release()
			err := as.MapFiles([]platform.Mapping{{Addr: dataAddr, Length: 4096, Perm: platform.Read, File: tc.file}})
			if err != unix.EINVAL {
				t.Fatalf("MapFiles with file %d: %v, want EINVAL", tc.file, err)
			}
			if err := as.MapFiles([]platform.Mapping{{Addr: dataAddr, Length: 4096, Perm: platform.Read}}); err != nil {
				t.Fatalf("then file 0: %v", err)
			}
		})
	}
	if _, err := New(); err == nil {
		t.Error("New without files succeeded")
	}
	if _, err := New(one.fd, one.fd, one.fd); err == nil {
		t.Error("New with three files succeeded")
	}
}

// TestStubFilterFiles runs the stub's seccomp filter on mmap calls: only
// the descriptors of the platform's files (and the stub memfd) may be
// mapped, whatever a guest that jumps into the stub code puts in them.
func TestStubFilterFiles(t *testing.T) {
	const stubIP, guestIP = stubBase + 0x100, codeAddr
	for _, tc := range []struct {
		nfiles int
		ip     uint64
		flags  uint64
		fd     uint64
		allow  bool
	}{
		{1, stubIP, mapSharedFixed, memFDNum, true},
		{1, stubIP, mapSharedFixed, stubFDNum, true},
		{1, stubIP, mapSharedFixed, extraFDNum, false},
		{1, stubIP, mapSharedFixed, masterFDNum, false},
		{2, stubIP, mapSharedFixed, memFDNum, true},
		{2, stubIP, mapSharedFixed, extraFDNum, true},
		{2, stubIP, mapSharedFixed, extraFDNum + 1, false},
		{2, stubIP, mapSharedFixed, masterFDNum, false},
		{2, stubIP, mapSharedFixed, extraFDNum | 1<<32, false},
		{2, stubIP, unix.MAP_PRIVATE | unix.MAP_FIXED, extraFDNum, false},
		{2, guestIP, mapSharedFixed, extraFDNum, false},
	} {
		prog, err := stubFilter(uintptr(len(stubCode)), tc.nfiles)
		if err != nil {
			t.Fatal(err)
		}
		got := runFilter(t, prog, sysMmap, tc.ip, [6]uint64{dataAddr, 4096, unix.PROT_READ, tc.flags, tc.fd, 0})
		want := uint32(secRetTrap)
		if tc.allow {
			want = secRetAllow
		}
		if got != want {
			t.Errorf("%d files, ip %#x, flags %#x, fd %#x: action %#x, want %#x", tc.nfiles, tc.ip, tc.flags, tc.fd, got, want)
		}
	}
	for _, n := range []int{0, maxFiles + 1} {
		if _, err := stubFilter(uintptr(len(stubCode)), n); err == nil {
			t.Errorf("stubFilter with %d files succeeded", n)
		}
	}
}

// runFilter interprets the classic BPF instructions stubFilter emits on a
// seccomp_data for an x86-64 system call.
func runFilter(t *testing.T, prog []byte, nr uint32, ip uint64, args [6]uint64) uint32 {
	t.Helper()
	var data [64]byte
	binary.LittleEndian.PutUint32(data[sdNr:], nr)
	binary.LittleEndian.PutUint32(data[sdArch:], auditArchX8664)
	binary.LittleEndian.PutUint64(data[sdIPLo:], ip)
	for i, a := range args {
		binary.LittleEndian.PutUint64(data[sdArg0+8*i:], a)
	}
	var acc uint32
	for pc := 0; pc*8 < len(prog); pc++ {
		in := prog[pc*8:]
		code, jt, jf, k := binary.LittleEndian.Uint16(in), int(in[2]), int(in[3]), binary.LittleEndian.Uint32(in[4:])
		jump := func(cond bool) {
			if cond {
				pc += jt
			} else {
				pc += jf
			}
		}
		switch code {
		case bpfLdAbsW:
			acc = binary.LittleEndian.Uint32(data[k:])
		case bpfJeqK:
			jump(acc == k)
		case bpfJgeK:
			jump(acc >= k)
		case bpfJsetK:
			jump(acc&k != 0)
		case bpfRetK:
			return k
		default:
			t.Fatalf("instruction %d: unknown code %#x", pc, code)
		}
	}
	t.Fatal("filter ran off its end")
	return 0
}
