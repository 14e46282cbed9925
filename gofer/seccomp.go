//go:build linux

package gofer

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// commonSyscalls is the gofer's seccomp allowlist on every architecture:
// what the server's handlers call, plus what the Go runtime needs
// (memory, signals, threads, timers, netpoller).
var commonSyscalls = []uintptr{
	// Go runtime.
	unix.SYS_MMAP, unix.SYS_MUNMAP, unix.SYS_MADVISE, unix.SYS_MPROTECT,
	unix.SYS_FUTEX, unix.SYS_SCHED_YIELD, unix.SYS_NANOSLEEP, unix.SYS_CLOCK_NANOSLEEP,
	unix.SYS_CLOCK_GETTIME, unix.SYS_GETTIMEOFDAY, unix.SYS_SCHED_GETAFFINITY,
	unix.SYS_RT_SIGACTION, unix.SYS_RT_SIGPROCMASK, unix.SYS_RT_SIGRETURN, unix.SYS_SIGALTSTACK,
	unix.SYS_GETPID, unix.SYS_GETTID, unix.SYS_TGKILL, unix.SYS_EXIT, unix.SYS_EXIT_GROUP,
	unix.SYS_RESTART_SYSCALL, unix.SYS_GETRANDOM,
	unix.SYS_EPOLL_CREATE1, unix.SYS_EPOLL_CTL, unix.SYS_EPOLL_PWAIT, unix.SYS_EPOLL_PWAIT2,
	unix.SYS_EVENTFD2, unix.SYS_PIPE2, unix.SYS_FCNTL, unix.SYS_PPOLL,
	unix.SYS_GETUID, unix.SYS_GETEUID, unix.SYS_GETGID, unix.SYS_GETEGID,
	// I/O on the socket and logging.
	unix.SYS_READ, unix.SYS_WRITE, unix.SYS_CLOSE, unix.SYS_RECVMSG, unix.SYS_SENDMSG,
	// The Go runtime re-reads its cgroup CPU limit with pread64 every so
	// often (GOMAXPROCS follows it); without this the gofer died after a
	// while in long-running sandboxes.
	unix.SYS_PREAD64,
	// File operations of the handlers.
	unix.SYS_OPENAT, unix.SYS_FSTAT, unix.SYS_STATX, unix.SYS_LSEEK, unix.SYS_GETDENTS64,
	unix.SYS_MKDIRAT, unix.SYS_UNLINKAT, unix.SYS_RENAMEAT2, unix.SYS_READLINKAT,
	unix.SYS_SYMLINKAT, unix.SYS_LINKAT, unix.SYS_FCHOWNAT, unix.SYS_FCHOWN,
	unix.SYS_FCHMOD, unix.SYS_FCHMODAT, unix.SYS_FCHMODAT2, unix.SYS_UTIMENSAT,
	unix.SYS_FTRUNCATE, unix.SYS_FSTATFS,
}

// Offsets in struct seccomp_data.
const (
	offNr     = 0
	offArch   = 4
	offArg0Lo = 16 // low 32 bits of args[0] (little endian)
)

// prSetVMA is PR_SET_VMA: the Go runtime names its memory mappings.
const prSetVMA = 0x53564d41

func bpfStmt(code uint16, k uint32) unix.SockFilter {
	return unix.SockFilter{Code: code, K: k}
}

func bpfJump(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
	return unix.SockFilter{Code: code, Jt: jt, Jf: jf, K: k}
}

// buildSeccompFilter returns the gofer's filter program. Syscalls not
// listed get deny (kill the process, or EPERM when debugging); a few get
// argument checks.
func buildSeccompFilter(deny uint32) []unix.SockFilter {
	const (
		ld   = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq  = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		jset = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
		ret  = unix.BPF_RET | unix.BPF_K
	)
	allow := uint32(unix.SECCOMP_RET_ALLOW)
	eperm := uint32(unix.SECCOMP_RET_ERRNO) | uint32(unix.EPERM)
	prog := []unix.SockFilter{
		// A syscall of another ABI would be matched against the wrong
		// numbers: refuse it outright.
		bpfStmt(ld, offArch),
		bpfJump(jeq, auditArch, 1, 0),
		bpfStmt(ret, uint32(unix.SECCOMP_RET_KILL_PROCESS)),
		bpfStmt(ld, offNr),
	}
	prog = append(prog, archPrologue()...)
	for _, nr := range append(commonSyscalls, archSyscalls...) {
		prog = append(prog, bpfJump(jeq, uint32(nr), 0, 1), bpfStmt(ret, allow))
	}
	// clone only for new threads of this process (the Go runtime).
	prog = append(prog,
		bpfJump(jeq, unix.SYS_CLONE, 0, 4),
		bpfStmt(ld, offArg0Lo),
		bpfJump(jset, unix.CLONE_THREAD, 0, 1),
		bpfStmt(ret, allow),
		bpfStmt(ret, eperm),
	)
	// clone3 arguments live in memory seccomp cannot see; ENOSYS makes
	// callers fall back to clone.
	prog = append(prog,
		bpfJump(jeq, unix.SYS_CLONE3, 0, 1),
		bpfStmt(ret, uint32(unix.SECCOMP_RET_ERRNO)|uint32(unix.ENOSYS)),
	)
	prog = append(prog,
		bpfJump(jeq, unix.SYS_PRCTL, 0, 4),
		bpfStmt(ld, offArg0Lo),
		bpfJump(jeq, prSetVMA, 0, 1),
		bpfStmt(ret, allow),
		bpfStmt(ret, eperm),
	)
	prog = append(prog, bpfStmt(ret, deny))
	return prog
}

// installSeccomp installs the filter on every thread (TSYNC), after which
// the process can only make the listed syscalls.
func installSeccomp(errnoMode bool) error {
	deny := uint32(unix.SECCOMP_RET_KILL_PROCESS)
	if errnoMode {
		deny = uint32(unix.SECCOMP_RET_ERRNO) | uint32(unix.EPERM)
	}
	filter := buildSeccompFilter(deny)
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog)))
	runtime.KeepAlive(filter)
	if errno != 0 {
		return fmt.Errorf("seccomp: %w", errno)
	}
	if r != 0 {
		return fmt.Errorf("seccomp: thread %d could not be synchronised", r)
	}
	return nil
}
