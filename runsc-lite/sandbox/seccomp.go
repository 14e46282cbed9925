package sandbox

import (
	"fmt"
	"sort"
	"unsafe"

	"golang.org/x/sys/unix"
)

// allowedSyscall is one entry of the seccomp allowlist.
type allowedSyscall struct {
	nr   uintptr
	name string
}

// Offsets into struct seccomp_data.
const (
	seccompDataNR   = 0
	seccompDataArch = 4
	// Low 32 bits of args[1] (little endian).
	seccompDataArg1Lo = 16 + 8*1
)

// x32ABIBit marks x32 system call numbers, which we never allow.
const x32ABIBit = 0x40000000

// Actions of the sentry filter. A syscall that is not allowlisted fails
// with EPERM rather than killing the sentry, so a missing table entry
// shows up as an error that names the failing operation. (It must not be
// SECCOMP_RET_KILL_*: the systrap stubs inherit this filter and rely on
// their own SECCOMP_RET_TRAP, which only takes precedence over actions
// weaker than itself, for every guest system call.)
const (
	actionAllow = unix.SECCOMP_RET_ALLOW
	actionDeny  = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
)

// BPF opcodes.
const (
	bpfLdWAbs = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	bpfJeqK   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	bpfJgeK   = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
	bpfJa     = unix.BPF_JMP | unix.BPF_JA
	bpfRetK   = unix.BPF_RET | unix.BPF_K
)

// leafSize is the number of syscall numbers compared linearly at the
// leaves of the binary search.
const leafSize = 4

// bpfBuilder assembles a filter whose jumps to the two final return
// instructions are resolved at the end.
type bpfBuilder struct {
	insns []unix.SockFilter
	// Indices of `ja` instructions that jump to the allow/deny returns.
	toAllow, toDeny []int
}

func (b *bpfBuilder) emit(code uint16, jt, jf uint8, k uint32) int {
	b.insns = append(b.insns, unix.SockFilter{Code: code, Jt: jt, Jf: jf, K: k})
	return len(b.insns) - 1
}

func (b *bpfBuilder) jumpAllow() { b.toAllow = append(b.toAllow, b.emit(bpfJa, 0, 0, 0)) }
func (b *bpfBuilder) jumpDeny()  { b.toDeny = append(b.toDeny, b.emit(bpfJa, 0, 0, 0)) }

// search emits a binary search over the sorted syscall numbers nrs: it
// jumps to allow if the accumulator holds one of them, to deny otherwise.
func (b *bpfBuilder) search(nrs []uint32) {
	if len(nrs) <= leafSize {
		for _, nr := range nrs {
			// if A == nr: fall through to "ja allow"; else skip it.
			b.emit(bpfJeqK, 0, 1, nr)
			b.jumpAllow()
		}
		b.jumpDeny()
		return
	}
	mid := len(nrs) / 2
	// if A >= nrs[mid]: fall through to "ja right"; else skip it to left.
	b.emit(bpfJgeK, 0, 1, nrs[mid])
	jaRight := b.emit(bpfJa, 0, 0, 0)
	b.search(nrs[:mid])
	b.insns[jaRight].K = uint32(len(b.insns) - (jaRight + 1))
	b.search(nrs[mid:])
}

// buildFilter compiles an allowlist into a seccomp BPF program for
// x86-64: other architectures (int 0x80 from a 64-bit process) and x32
// numbers are denied, allowlisted numbers allowed, everything else denied.
//
// For ioctl, the requests in denyIoctl are denied (the request number is an
// unsigned int: the kernel ignores the upper 32 bits of the argument).
func buildFilter(list []allowedSyscall, denyIoctl []uint32) ([]unix.SockFilter, error) {
	seen := make(map[uint32]bool, len(list))
	var nrs []uint32
	for _, s := range list {
		if s.nr >= x32ABIBit {
			return nil, fmt.Errorf("seccomp: bad syscall number %d (%s)", s.nr, s.name)
		}
		if !seen[uint32(s.nr)] {
			seen[uint32(s.nr)] = true
			nrs = append(nrs, uint32(s.nr))
		}
	}
	sort.Slice(nrs, func(i, j int) bool { return nrs[i] < nrs[j] })

	var b bpfBuilder
	b.emit(bpfLdWAbs, 0, 0, seccompDataArch)
	b.emit(bpfJeqK, 1, 0, unix.AUDIT_ARCH_X86_64)
	b.jumpDeny()
	b.emit(bpfLdWAbs, 0, 0, seccompDataNR)
	b.emit(bpfJgeK, 0, 1, x32ABIBit)
	b.jumpDeny()
	if seen[unix.SYS_IOCTL] && len(denyIoctl) > 0 {
		// if nr == ioctl: check the request, then allow or deny.
		b.emit(bpfJeqK, 0, uint8(2+2*len(denyIoctl)), unix.SYS_IOCTL)
		b.emit(bpfLdWAbs, 0, 0, seccompDataArg1Lo)
		for _, req := range denyIoctl {
			b.emit(bpfJeqK, 0, 1, req)
			b.jumpDeny()
		}
		b.jumpAllow()
	}
	if len(nrs) == 0 {
		b.jumpDeny()
	} else {
		b.search(nrs)
	}
	deny := b.emit(bpfRetK, 0, 0, actionDeny)
	allow := b.emit(bpfRetK, 0, 0, actionAllow)
	for _, i := range b.toDeny {
		b.insns[i].K = uint32(deny - (i + 1))
	}
	for _, i := range b.toAllow {
		b.insns[i].K = uint32(allow - (i + 1))
	}
	if len(b.insns) > 4096 { // BPF_MAXINSNS
		return nil, fmt.Errorf("seccomp: filter too long (%d instructions)", len(b.insns))
	}
	if len(denyIoctl) > 126 {
		return nil, fmt.Errorf("seccomp: too many denied ioctls")
	}
	return b.insns, nil
}

// installFilter installs prog for every thread of the process
// (SECCOMP_FILTER_FLAG_TSYNC). The caller must have set no_new_privs or
// hold CAP_SYS_ADMIN.
func installFilter(prog []unix.SockFilter) error {
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog)))
	if errno != 0 {
		return fmt.Errorf("seccomp(SET_MODE_FILTER, TSYNC): %w", errno)
	}
	if r != 0 {
		// With TSYNC, a positive return is the ID of a thread that
		// could not be synchronized.
		return fmt.Errorf("seccomp: thread %d could not be synchronized", r)
	}
	return nil
}

// runFilter interprets prog on (arch, nr, args[1]) and returns the action;
// it is used by tests to check the compiled program against the table.
func runFilter(prog []unix.SockFilter, arch, nr uint32, arg1 uint64) uint32 {
	var a uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Code {
		case bpfLdWAbs:
			switch in.K {
			case seccompDataNR:
				a = nr
			case seccompDataArch:
				a = arch
			case seccompDataArg1Lo:
				a = uint32(arg1)
			default:
				panic("unexpected load")
			}
		case bpfJeqK:
			if a == in.K {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case bpfJgeK:
			if a >= in.K {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case bpfJa:
			pc += int(in.K)
		case bpfRetK:
			return in.K
		default:
			panic(fmt.Sprintf("unexpected opcode %#x", in.Code))
		}
	}
	panic("fell off the end of the filter")
}
