// Package linux holds the parts of the Linux x86-64 ABI that the sentry
// needs and golang.org/x/sys/unix does not provide: numbers, flags and
// struct layouts shared by the kernel, the file systems and the syscall
// handlers.
package linux

// Address space layout.
const (
	PageSize  = 4096
	PageShift = 12
)

// PageRoundDown rounds addr down to a page boundary.
func PageRoundDown(addr uint64) uint64 { return addr &^ (PageSize - 1) }

// PageRoundUp rounds addr up to a page boundary; ok is false on overflow.
func PageRoundUp(addr uint64) (uint64, bool) {
	r := (addr + PageSize - 1) &^ (PageSize - 1)
	return r, r >= addr
}

// O_LARGEFILE is the open flag as the x86-64 kernel stores it: every
// open(2) of a file sets it on 64-bit, and F_GETFL shows it
// (golang.org/x/sys/unix defines it as 0 on amd64).
const O_LARGEFILE = 0o100000

// Auxiliary vector entry types.
const (
	AT_NULL         = 0
	AT_PHDR         = 3
	AT_PHENT        = 4
	AT_PHNUM        = 5
	AT_PAGESZ       = 6
	AT_BASE         = 7
	AT_FLAGS        = 8
	AT_ENTRY        = 9
	AT_UID          = 11
	AT_EUID         = 12
	AT_GID          = 13
	AT_EGID         = 14
	AT_PLATFORM     = 15
	AT_HWCAP        = 16
	AT_CLKTCK       = 17
	AT_SECURE       = 23
	AT_RANDOM       = 25
	AT_HWCAP2       = 26
	AT_EXECFN       = 31
	AT_SYSINFO_EHDR = 33
	AT_MINSIGSTKSZ  = 51
)

// Signal numbers beyond what unix names portably.
const (
	SIGRTMIN = 32
	SIGRTMAX = 64
	NSIG     = 64
)

// Sigaction flags.
const (
	SA_NOCLDSTOP = 0x1
	SA_NOCLDWAIT = 0x2
	SA_SIGINFO   = 0x4
	SA_RESTORER  = 0x04000000
	SA_ONSTACK   = 0x08000000
	SA_RESTART   = 0x10000000
	SA_NODEFER   = 0x40000000
	SA_RESETHAND = 0x80000000
)

// SIG_DFL and SIG_IGN handler values.
const (
	SIG_DFL = 0
	SIG_IGN = 1
)

// si_code values.
const (
	SI_USER       = 0
	SI_KERNEL     = 0x80
	SI_QUEUE      = -1
	SI_TIMER      = -2
	SI_TKILL      = -6
	CLD_EXITED    = 1
	CLD_KILLED    = 2
	CLD_DUMPED    = 3
	CLD_TRAPPED   = 4
	CLD_STOPPED   = 5
	CLD_CONTINUED = 6
	SEGV_MAPERR   = 1
	SEGV_ACCERR   = 2
)

// Internal "restart" errors, never seen by the guest: a syscall interrupted
// by a signal returns one of these and the signal code decides.
const (
	ERESTARTSYS           = 512
	ERESTARTNOINTR        = 513
	ERESTARTNOHAND        = 514
	ERESTART_RESTARTBLOCK = 516
)

// Sigaltstack flags.
const (
	SS_ONSTACK    = 1
	SS_DISABLE    = 2
	SS_AUTODISARM = 1 << 31
	MINSIGSTKSZ   = 2048
)

// Clone flags.
const (
	CSIGNAL              = 0xff
	CLONE_VM             = 0x100
	CLONE_FS             = 0x200
	CLONE_FILES          = 0x400
	CLONE_SIGHAND        = 0x800
	CLONE_PIDFD          = 0x1000
	CLONE_PTRACE         = 0x2000
	CLONE_VFORK          = 0x4000
	CLONE_PARENT         = 0x8000
	CLONE_THREAD         = 0x10000
	CLONE_NEWNS          = 0x20000
	CLONE_SYSVSEM        = 0x40000
	CLONE_SETTLS         = 0x80000
	CLONE_PARENT_SETTID  = 0x100000
	CLONE_CHILD_CLEARTID = 0x200000
	CLONE_DETACHED       = 0x400000
	CLONE_UNTRACED       = 0x800000
	CLONE_CHILD_SETTID   = 0x1000000
	CLONE_NEWCGROUP      = 0x2000000
	CLONE_NEWUTS         = 0x4000000
	CLONE_NEWIPC         = 0x8000000
	CLONE_NEWUSER        = 0x10000000
	CLONE_NEWPID         = 0x20000000
	CLONE_NEWNET         = 0x40000000
	CLONE_IO             = 0x80000000
)

// Wait options.
const (
	WNOHANG    = 0x1
	WUNTRACED  = 0x2
	WSTOPPED   = 0x2
	WEXITED    = 0x4
	WCONTINUED = 0x8
	WNOWAIT    = 0x1000000
	WNOTHREAD  = 0x20000000
	WALL       = 0x40000000
	WCLONE     = 0x80000000
)

// waitid idtype.
const (
	P_ALL   = 0
	P_PID   = 1
	P_PGID  = 2
	P_PIDFD = 3
)

// Futex operations.
const (
	FUTEX_WAIT             = 0
	FUTEX_WAKE             = 1
	FUTEX_FD               = 2
	FUTEX_REQUEUE          = 3
	FUTEX_CMP_REQUEUE      = 4
	FUTEX_WAKE_OP          = 5
	FUTEX_LOCK_PI          = 6
	FUTEX_UNLOCK_PI        = 7
	FUTEX_TRYLOCK_PI       = 8
	FUTEX_WAIT_BITSET      = 9
	FUTEX_WAKE_BITSET      = 10
	FUTEX_WAIT_REQUEUE_PI  = 11
	FUTEX_CMP_REQUEUE_PI   = 12
	FUTEX_LOCK_PI2         = 13
	FUTEX_PRIVATE_FLAG     = 128
	FUTEX_CLOCK_REALTIME   = 256
	FUTEX_CMD_MASK         = ^(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)
	FUTEX_BITSET_MATCH_ANY = 0xffffffff
	FUTEX_WAITERS          = 0x80000000
	FUTEX_OWNER_DIED       = 0x40000000
	FUTEX_TID_MASK         = 0x3fffffff
)

// Mmap flags and protections.
const (
	PROT_NONE      = 0
	PROT_READ      = 1
	PROT_WRITE     = 2
	PROT_EXEC      = 4
	PROT_GROWSDOWN = 0x01000000
	PROT_GROWSUP   = 0x02000000

	MAP_SHARED          = 0x1
	MAP_PRIVATE         = 0x2
	MAP_SHARED_VALIDATE = 0x3
	MAP_TYPE            = 0xf
	MAP_FIXED           = 0x10
	MAP_ANONYMOUS       = 0x20
	MAP_32BIT           = 0x40
	MAP_GROWSDOWN       = 0x100
	MAP_DENYWRITE       = 0x800
	MAP_EXECUTABLE      = 0x1000
	MAP_LOCKED          = 0x2000
	MAP_NORESERVE       = 0x4000
	MAP_POPULATE        = 0x8000
	MAP_NONBLOCK        = 0x10000
	MAP_STACK           = 0x20000
	MAP_HUGETLB         = 0x40000
	MAP_SYNC            = 0x80000
	MAP_FIXED_NOREPLACE = 0x100000

	MREMAP_MAYMOVE   = 1
	MREMAP_FIXED     = 2
	MREMAP_DONTUNMAP = 4
)

// Madvise advice.
const (
	MADV_NORMAL         = 0
	MADV_RANDOM         = 1
	MADV_SEQUENTIAL     = 2
	MADV_WILLNEED       = 3
	MADV_DONTNEED       = 4
	MADV_FREE           = 8
	MADV_REMOVE         = 9
	MADV_DONTFORK       = 10
	MADV_DOFORK         = 11
	MADV_MERGEABLE      = 12
	MADV_UNMERGEABLE    = 13
	MADV_HUGEPAGE       = 14
	MADV_NOHUGEPAGE     = 15
	MADV_DONTDUMP       = 16
	MADV_DODUMP         = 17
	MADV_WIPEONFORK     = 18
	MADV_KEEPONFORK     = 19
	MADV_COLD           = 20
	MADV_PAGEOUT        = 21
	MADV_POPULATE_READ  = 22
	MADV_POPULATE_WRITE = 23
)

// SignalStack is stack_t.
type SignalStack struct {
	Sp    uint64
	Flags int32
	_     int32
	Size  uint64
}

// MSG_CMSG_COMPAT marks a 32-bit compat msghdr inside the kernel; the
// native sendmsg/recvmsg calls refuse it from user space.
const MSG_CMSG_COMPAT = 0x80000000
