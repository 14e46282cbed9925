package sandbox

import "golang.org/x/sys/unix"

// sentryAllowlist is the single table of host system calls the confined
// sentry process may make. Every other system call fails with EPERM (see
// seccomp.go). To extend it, add one line here; keep the groups.
//
// Stub processes of the systrap platform are forked from the confined
// sentry and inherit this filter under their own one, so the syscalls a
// stub makes itself (not the guest's: those trap in the stub's filter,
// and SECCOMP_RET_TRAP takes precedence over our SECCOMP_RET_ERRNO) must be
// listed here too.
var sentryAllowlist = []allowedSyscall{
	// Go runtime: memory.
	{unix.SYS_MMAP, "mmap"},
	{unix.SYS_MUNMAP, "munmap"},
	{unix.SYS_MPROTECT, "mprotect"},
	{unix.SYS_MADVISE, "madvise"},
	{unix.SYS_MREMAP, "mremap"},
	{unix.SYS_MINCORE, "mincore"},
	{unix.SYS_MSYNC, "msync"},
	{unix.SYS_MLOCK, "mlock"},
	{unix.SYS_MUNLOCK, "munlock"},
	{unix.SYS_BRK, "brk"},
	{unix.SYS_MEMBARRIER, "membarrier"},

	// Go runtime: threads, scheduling, signals.
	{unix.SYS_CLONE, "clone"},
	{unix.SYS_CLONE3, "clone3"},
	{unix.SYS_FUTEX, "futex"},
	{unix.SYS_SET_ROBUST_LIST, "set_robust_list"},
	{unix.SYS_GET_ROBUST_LIST, "get_robust_list"},
	{unix.SYS_RSEQ, "rseq"},
	{unix.SYS_SCHED_YIELD, "sched_yield"},
	{unix.SYS_SCHED_GETAFFINITY, "sched_getaffinity"},
	{unix.SYS_SCHED_SETAFFINITY, "sched_setaffinity"},
	{unix.SYS_GETCPU, "getcpu"},
	{unix.SYS_NANOSLEEP, "nanosleep"},
	{unix.SYS_CLOCK_NANOSLEEP, "clock_nanosleep"},
	{unix.SYS_RESTART_SYSCALL, "restart_syscall"},
	{unix.SYS_RT_SIGACTION, "rt_sigaction"},
	{unix.SYS_RT_SIGPROCMASK, "rt_sigprocmask"},
	{unix.SYS_RT_SIGRETURN, "rt_sigreturn"},
	{unix.SYS_RT_SIGTIMEDWAIT, "rt_sigtimedwait"},
	{unix.SYS_RT_SIGQUEUEINFO, "rt_sigqueueinfo"},
	{unix.SYS_RT_TGSIGQUEUEINFO, "rt_tgsigqueueinfo"},
	{unix.SYS_SIGALTSTACK, "sigaltstack"},
	{unix.SYS_GETPID, "getpid"},
	{unix.SYS_GETPPID, "getppid"},
	{unix.SYS_GETTID, "gettid"},
	{unix.SYS_TGKILL, "tgkill"},
	{unix.SYS_TKILL, "tkill"},
	{unix.SYS_KILL, "kill"},
	{unix.SYS_EXIT, "exit"},
	{unix.SYS_EXIT_GROUP, "exit_group"},
	{unix.SYS_ARCH_PRCTL, "arch_prctl"},
	{unix.SYS_PRCTL, "prctl"},
	{unix.SYS_GETRLIMIT, "getrlimit"},
	{unix.SYS_PRLIMIT64, "prlimit64"},
	{unix.SYS_GETRUSAGE, "getrusage"},
	{unix.SYS_UNAME, "uname"},
	{unix.SYS_SYSINFO, "sysinfo"},
	{unix.SYS_GETRANDOM, "getrandom"},
	{unix.SYS_GETUID, "getuid"},
	{unix.SYS_GETEUID, "geteuid"},
	{unix.SYS_GETGID, "getgid"},
	{unix.SYS_GETEGID, "getegid"},
	{unix.SYS_GETRESUID, "getresuid"},
	{unix.SYS_GETRESGID, "getresgid"},
	{unix.SYS_GETGROUPS, "getgroups"},
	{unix.SYS_CAPGET, "capget"},
	{unix.SYS_GETCWD, "getcwd"}, // "/" after confinement

	// Time.
	{unix.SYS_CLOCK_GETTIME, "clock_gettime"},
	{unix.SYS_CLOCK_GETRES, "clock_getres"},
	{unix.SYS_GETTIMEOFDAY, "gettimeofday"},
	{unix.SYS_TIME, "time"},
	{unix.SYS_SETITIMER, "setitimer"},
	{unix.SYS_GETITIMER, "getitimer"},
	{unix.SYS_TIMER_CREATE, "timer_create"},
	{unix.SYS_TIMER_SETTIME, "timer_settime"},
	{unix.SYS_TIMER_GETTIME, "timer_gettime"},
	{unix.SYS_TIMER_GETOVERRUN, "timer_getoverrun"},
	{unix.SYS_TIMER_DELETE, "timer_delete"},
	{unix.SYS_TIMERFD_CREATE, "timerfd_create"},
	{unix.SYS_TIMERFD_SETTIME, "timerfd_settime"},
	{unix.SYS_TIMERFD_GETTIME, "timerfd_gettime"},

	// Event loops and FD plumbing.
	{unix.SYS_EPOLL_CREATE1, "epoll_create1"},
	{unix.SYS_EPOLL_CTL, "epoll_ctl"},
	{unix.SYS_EPOLL_WAIT, "epoll_wait"},
	{unix.SYS_EPOLL_PWAIT, "epoll_pwait"},
	{unix.SYS_EPOLL_PWAIT2, "epoll_pwait2"},
	{unix.SYS_EVENTFD2, "eventfd2"},
	{unix.SYS_SIGNALFD4, "signalfd4"},
	{unix.SYS_POLL, "poll"},
	{unix.SYS_PPOLL, "ppoll"},
	{unix.SYS_PSELECT6, "pselect6"},
	{unix.SYS_SELECT, "select"},
	{unix.SYS_PIPE2, "pipe2"},
	{unix.SYS_DUP, "dup"},
	{unix.SYS_DUP2, "dup2"},
	{unix.SYS_DUP3, "dup3"},
	{unix.SYS_FCNTL, "fcntl"},
	{unix.SYS_CLOSE, "close"},
	{unix.SYS_CLOSE_RANGE, "close_range"},
	{unix.SYS_IOCTL, "ioctl"}, // host ttys (TCGETS, TIOCGWINSZ...), FIONREAD
	{unix.SYS_MEMFD_CREATE, "memfd_create"},

	// File I/O on FDs the gofer gave us (directfs) and on the backing files
	// (the memory file, the root overlay's host file: mmap, fallocate to
	// reserve blocks and punch holes).
	{unix.SYS_READ, "read"},
	{unix.SYS_WRITE, "write"},
	{unix.SYS_PREAD64, "pread64"},
	{unix.SYS_PWRITE64, "pwrite64"},
	{unix.SYS_READV, "readv"},
	{unix.SYS_WRITEV, "writev"},
	{unix.SYS_PREADV, "preadv"},
	{unix.SYS_PWRITEV, "pwritev"},
	{unix.SYS_PREADV2, "preadv2"},
	{unix.SYS_PWRITEV2, "pwritev2"},
	{unix.SYS_LSEEK, "lseek"},
	{unix.SYS_SENDFILE, "sendfile"},
	{unix.SYS_SPLICE, "splice"},
	{unix.SYS_TEE, "tee"},
	{unix.SYS_COPY_FILE_RANGE, "copy_file_range"},
	{unix.SYS_OPENAT, "openat"}, // the root is an empty read-only tmpfs: only useful relative to gofer FDs
	{unix.SYS_FSTAT, "fstat"},
	{unix.SYS_NEWFSTATAT, "newfstatat"},
	{unix.SYS_STATX, "statx"},
	{unix.SYS_FSTATFS, "fstatfs"},
	{unix.SYS_GETDENTS64, "getdents64"},
	{unix.SYS_READLINKAT, "readlinkat"},
	{unix.SYS_MKDIRAT, "mkdirat"},
	{unix.SYS_MKNODAT, "mknodat"},
	{unix.SYS_UNLINKAT, "unlinkat"},
	{unix.SYS_RENAMEAT, "renameat"},
	{unix.SYS_RENAMEAT2, "renameat2"},
	{unix.SYS_LINKAT, "linkat"},
	{unix.SYS_SYMLINKAT, "symlinkat"},
	{unix.SYS_FCHMOD, "fchmod"},
	{unix.SYS_FCHMODAT, "fchmodat"},
	{unix.SYS_FCHOWN, "fchown"},
	{unix.SYS_FCHOWNAT, "fchownat"},
	{unix.SYS_UTIMENSAT, "utimensat"},
	{unix.SYS_FTRUNCATE, "ftruncate"},
	{unix.SYS_FALLOCATE, "fallocate"},
	{unix.SYS_FADVISE64, "fadvise64"},
	{unix.SYS_FSYNC, "fsync"},
	{unix.SYS_FDATASYNC, "fdatasync"},
	{unix.SYS_SYNC_FILE_RANGE, "sync_file_range"},
	{unix.SYS_FLOCK, "flock"},
	{unix.SYS_FGETXATTR, "fgetxattr"},
	{unix.SYS_FSETXATTR, "fsetxattr"},
	{unix.SYS_FLISTXATTR, "flistxattr"},
	{unix.SYS_FREMOVEXATTR, "fremovexattr"},

	// Host sockets (gofer channel, AF_INET/AF_INET6 for the guest's
	// network, netlink for interface information).
	{unix.SYS_SOCKET, "socket"},
	{unix.SYS_SOCKETPAIR, "socketpair"},
	{unix.SYS_BIND, "bind"},
	{unix.SYS_CONNECT, "connect"},
	{unix.SYS_LISTEN, "listen"},
	{unix.SYS_ACCEPT, "accept"},
	{unix.SYS_ACCEPT4, "accept4"},
	{unix.SYS_SETSOCKOPT, "setsockopt"},
	{unix.SYS_GETSOCKOPT, "getsockopt"},
	{unix.SYS_GETSOCKNAME, "getsockname"},
	{unix.SYS_GETPEERNAME, "getpeername"},
	{unix.SYS_SHUTDOWN, "shutdown"},
	{unix.SYS_SENDTO, "sendto"},
	{unix.SYS_RECVFROM, "recvfrom"},
	{unix.SYS_SENDMSG, "sendmsg"},
	{unix.SYS_RECVMSG, "recvmsg"},
	{unix.SYS_SENDMMSG, "sendmmsg"},
	{unix.SYS_RECVMMSG, "recvmmsg"},

	// Stub processes (systrap): creation, set-up, control.
	{unix.SYS_WAIT4, "wait4"},
	{unix.SYS_WAITID, "waitid"},
	{unix.SYS_PTRACE, "ptrace"},
	{unix.SYS_PROCESS_VM_READV, "process_vm_readv"},
	{unix.SYS_PROCESS_VM_WRITEV, "process_vm_writev"},
	{unix.SYS_SECCOMP, "seccomp"}, // a stub installs its own filter
	{unix.SYS_PIDFD_OPEN, "pidfd_open"},
	{unix.SYS_PIDFD_SEND_SIGNAL, "pidfd_send_signal"},
	{unix.SYS_PIDFD_GETFD, "pidfd_getfd"},
	{unix.SYS_SETPGID, "setpgid"},
	{unix.SYS_SETSID, "setsid"},
	{unix.SYS_GETPGID, "getpgid"},
	{unix.SYS_GETSID, "getsid"},

	// KVM platform: the VM and vCPU are FDs; ioctl is allowed above.
}

// deniedIoctls are ioctl requests (second argument) the sentry never makes
// on host FDs, though ioctl is allowed above: they would let a compromised
// sentry act on the user's terminal (inject input, redirect the console,
// change the line discipline) or the virtual console.
var deniedIoctls = []uint32{
	unix.TIOCSTI,
	unix.TIOCCONS,
	unix.TIOCSETD,
	unix.TIOCLINUX,
}
