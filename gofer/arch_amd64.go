//go:build linux

package gofer

import "golang.org/x/sys/unix"

// oLargeFile is the kernel's O_LARGEFILE; x/sys defines it as 0 on 64-bit
// targets, but callers forwarding guest open flags may still pass the bit.
const oLargeFile = 0x8000

// auditArch is the seccomp_data.arch value of this architecture.
const auditArch = unix.AUDIT_ARCH_X86_64

// archSyscalls completes commonSyscalls with amd64-only entries.
var archSyscalls = []uintptr{unix.SYS_NEWFSTATAT, unix.SYS_EPOLL_WAIT, unix.SYS_POLL}

// archPrologue runs with the syscall number loaded: x32 syscalls (bit 30)
// share the x86-64 audit arch and must not slip past the number checks.
func archPrologue() []unix.SockFilter {
	return []unix.SockFilter{
		bpfJump(unix.BPF_JMP|unix.BPF_JGE|unix.BPF_K, 0x40000000, 0, 1),
		bpfStmt(unix.BPF_RET|unix.BPF_K, uint32(unix.SECCOMP_RET_KILL_PROCESS)),
	}
}
