// Package systrap is the default platform of runsc-lite: guest code runs in
// ordinary host processes ("stubs") whose every system call is turned into
// a signal by a seccomp filter, and whose signal handler hands the event to
// the sentry through shared memory.
//
// # Address layout
//
// Guest addresses are [0, MaxUserAddress) with MaxUserAddress = 0x7ffe00000000.
// Above it the stub owns: its code (stub_amd64.S, at 0x7ffe00000000), the
// master's region, and one 64 KiB region per stub thread (control page,
// private stack, signal alternate stack), slot i of a process at
// 0x7ffe00020000 + i*64KiB. Regions are pages of a private memfd that the
// sentry maps once, so it reads and writes a stub's control page and
// signal frame with plain memory accesses.
//
// # Processes and threads
//
// New execs a tiny static ELF built around the stub code (from a memfd).
// This master maps its region, unmaps everything else (old stack, vdso),
// installs the signal handlers and the seccomp filter (built in Go), and
// then serves requests. NewAddressSpace asks the master to fork; the child
// closes the master's memfd, switches to its own region and becomes the
// executor (slot 0) of the new address space: it performs MapFile/Unmap
// (mmap of a backing file, munmap) and clones the guest-running threads,
// one per (Context, AddressSpace) pair, created on first Switch. A new
// thread traps once (ud2) so that it always sits in its signal handler
// with a frame to rt_sigreturn through.
//
// Fast paths for fork and exec: a context is a platform.LocalMapper, so a
// page fault's mappings (and fork's mprotects, exec's munmap) are made by
// the very stub thread that reported the event, which is still spinning in
// its handler, instead of waking the sleeping executor. A context's thread
// is parked when the context is released and taken over by the next
// context that runs in that address space. From the second address space
// on (the guest's first fork or exec), the platform keeps one spare
// address space, with a thread already parked in it, made in the
// background, so fork and exec need not wait for the master.
//
// # Backing files
//
// Guest memory is mapped from the platform's backing files: file 0, the
// sentry's memory file, at descriptor 4 of every stub, and optionally file
// 1, a host file holding the root overlay's data, at descriptor 6. A
// platform.Mapping names its file by index; the sentry turns the index
// into the descriptor after checking it, and the stub's seccomp filter
// lets mmap use only the descriptors of files the platform has.
//
// # Events
//
// A guest syscall raises SIGSYS (seccomp RET_TRAP); faults raise SIGSEGV,
// SIGBUS, SIGFPE, SIGILL, SIGTRAP; Interrupt sends SIGUSR2 with tgkill. The
// handler, on the alternate stack, stores the siginfo/ucontext pointers and
// FS/GS base (rdfsbase when the host allows it) in the control page, posts
// on a futex word and waits. The sentry validates the pointers, copies the
// registers and the FP state (the kernel's XSAVE-format fpstate, exposed as
// State.FP, FPStateSize bytes) out of the frame, and on the next Switch
// writes the new state back, forcing everything the kernel checks to sane
// values, and tells the stub to return: rt_sigreturn lands in the guest.
// Both sides spin briefly before sleeping in FUTEX_WAIT and wake the other
// only if it sleeps, so a syscall round trip costs a few microseconds.
// While the host's CPUs are contended, spinning only keeps the CPU from
// the other side, so both spin a few polls only (spinPolicy; the sentry
// sets the stub's budget in the control page).
//
// # Trust
//
// All stub memory is writable by guest code, so the sentry treats every
// value read from it as hostile: frame pointers must lie in the thread's
// alternate stack, FP images are sanitized before sigreturn, every wait
// has a timeout with a liveness check on the process's pidfd, and a stub
// thread that dies or a corrupt frame kills the address space
// (ErrAddressSpaceGone) instead of confusing or crashing the sentry.
//
// # Known limitations
//
// Guest code can jump into the stub code, where the seccomp filter allows
// the stub's own system calls with guest-chosen arguments (within the
// filter's argument checks: mmap only MAP_SHARED|MAP_FIXED of the stub
// memfd and the backing files, fixed clone flags, ...). Such a guest can
// map any offset of a backing file or of the stub memfd (other stub
// processes' regions) into its own address space, so guest processes of
// one sandbox are not isolated from each other against a deliberate
// attack, as in UML's stub; it can also fork its stub process behind the
// sentry's back (bounded by the sandbox's PID namespace and cgroup). The
// master is out of reach (its memfd is closed in address-space
// processes), and the host system calls reachable this way are only the
// stub's small set (futex, mmap, munmap, clone, exit, sigaltstack,
// rt_sigprocmask, rt_sigreturn, sched_yield, gettid, arch_prctl FS/GS,
// prctl PDEATHSIG, close).
//
// CPUID faulting is not enabled (this host has no cpuid_fault), so guests
// see the host's CPUID.
package systrap
