//go:build linux

package gofer

import "golang.org/x/sys/unix"

// oLargeFile is the kernel's O_LARGEFILE; x/sys defines it as 0 on 64-bit
// targets, but callers forwarding guest open flags may still pass the bit.
const oLargeFile = 0x20000

// auditArch is the seccomp_data.arch value of this architecture.
const auditArch = unix.AUDIT_ARCH_AARCH64

// archSyscalls completes commonSyscalls with arm64-only entries.
var archSyscalls = []uintptr{unix.SYS_FSTATAT}

func archPrologue() []unix.SockFilter { return nil }
