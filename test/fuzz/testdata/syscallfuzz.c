// syscallfuzz: a random system call fuzzer for runsc-lite's sentry.
//
// Usage: syscallfuzz [-n TOTAL] [-w WORKERS] [-l PER_LIFE] [-s SEED] [-S WSEED]
//                    [-t THREADS] [-d DIR] [-k CKDIR [-K EVERY]]
//                    [-x NR,...] [-X NR,...] [-v]
// (-x: only these syscall numbers, -X: not these; for bisecting a bug)
//
// The parent forks WORKERS workers and respawns them as they exit or die
// until TOTAL syscalls have been issued, then prints
//     fuzz: N syscalls, M workers died, alive
// and exits 0. Each worker seeds a PRNG from (SEED, worker generation); the
// seed is printed when a worker dies or hangs (see "reproducing" below).
//
// A worker issues PER_LIFE syscalls with numbers 0..460 and arguments drawn
// from interesting values (0, -1, small ints, huge lengths, valid and
// invalid fds, pointers to a scratch buffer, to unmapped memory, to a
// read-only page, to the last bytes before an unmapped page, NULL, kernel
// and non-canonical addresses, random bits). The scratch buffer is filled
// with random bytes sprinkled with those same values, so structures that
// hold pointers (iovec, msghdr, sigevent...) get interesting ones too.
//
// With -d DIR, odd workers work in DIR/fuzz.N instead of /tmp: DIR should
// be a host directory mounted as a volume, so that host files and the gofer
// are fuzzed too.
//
// With -t THREADS (default 1), each worker runs that many threads that
// fuzz concurrently over its shared FD table and address space.
//
// With -k CKDIR, the parent stops at checkpoints, every EVERY syscalls (-K)
// and at the end: it lets the workers finish, reaps and cleans up what
// they left (see checkpoint()), writes CKDIR/ckpt.N and waits for
// CKDIR/ckpt.N.ack, so that the test can measure the sandbox's host state
// at the same guest state each time (test/fuzz: leak bounds).
//
// Denylist and sanitizing (everything else is issued as drawn):
//   - exit, exit_group, rt_sigreturn, execve, execveat, vfork, fork: skipped
//     (they only end or replace the worker). clone: allowed a few times per
//     life, without CLONE_VM/CLONE_THREAD/CLONE_SIGHAND/CLONE_VFORK/
//     CLONE_SETTLS/CLONE_PARENT and with no new stack; the child _exits.
//     clone3: skipped (its child would run on a random stack). 335: the
//     test machine's host kernel answers it with SIGILL, natively too.
//   - signals and pids (kill, tkill, tgkill, rt_sigqueueinfo,
//     rt_tgsigqueueinfo, pidfd_open, ptrace, process_vm_readv/writev,
//     prlimit64, kcmp, process_madvise, sched_*, setpgid, getpgid...): the
//     pid is the worker itself, 0, or one that does not exist, never the
//     parent, 1 or -1: workers must not kill the parent.
//   - memory management (munmap, mprotect, pkey_mprotect, madvise, mremap,
//     MAP_FIXED mmap, shmat, remap_file_pages): addresses inside the
//     worker's mm scratch zone (followed by an unmapped guard page), or
//     plainly invalid ones (0, misaligned, kernel, non-canonical); the
//     worker's text, stack and the shared control page are never touched.
//     madvise gets no length past the zone (Linux applies it to every VMA
//     in range).
//   - timeouts (nanosleep, clock_nanosleep, select, pselect6, poll, ppoll,
//     epoll_wait/pwait/pwait2, futex, rt_sigtimedwait, semtimedop,
//     mq_timedsend/receive, io_getevents, recvmmsg, futex_waitv, alarm):
//     a timespec/timeval pointer is a short one or an invalid pointer,
//     never NULL (infinite); int timeouts are small.
//   - stdin, stdout and stderr are /dev/null, so nothing blocks on or
//     writes to the test's terminal.
//   - Blocking calls (read on an empty pipe, accept, flock, pause...) are
//     interrupted by a SIGALRM interval timer that the worker re-arms and
//     unblocks every few syscalls; a worker that makes no progress for
//     HANG_MS anyway is SIGKILLed by the parent ("hang-killed", reported
//     with the syscall it was in). A worker that does not die within
//     UNKILLABLE_MS of SIGKILL is a sentry bug: the parent reports it and
//     exits 2.
//   - Signals: workers ignore the common fatal ones; a worker killed by a
//     signal is counted as died and respawned.
//   - Nothing a worker writes is trusted by the parent (a worker that jumps
//     into random bytes may scribble on the shared slots); the parent keeps
//     two canary pages (private and shared, unmapped in the workers) and
//     fails with "fuzz: FAIL: parent memory corrupted" if they change:
//     that would be the sentry mixing up pages.
//
// Exit status: 0 with the summary line; 2 with a "fuzz: FAIL" line (also
// for a checkpoint that cannot kill the workers' leftovers or gets no ack).
//
// Reproducing: worker generation g uses seed SEED*1000003+g (SEED is
// printed first). `-S WSEED -l COUNT` runs one worker with exactly that
// seed for COUNT syscalls; -v reports every worker death, not only the
// first 20.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#define MAX_NR 460
#define MAX_WORKERS 64
#define PAGE 4096UL
#define HANG_MS 3000
#define UNKILLABLE_MS 15000

// Per-worker shared state, written by the worker and read by the parent
// (which trusts none of it: a worker gone wild may scribble on it).
struct slot {
	volatile uint64_t count;  // syscalls issued by the current worker
	volatile uint64_t seed;   // its seed
	volatile long nr;         // syscall in flight (-1: none)
	volatile uint64_t args[6];
};

static struct slot *slots;
static pid_t wpid[MAX_WORKERS]; // the parent's (private) record of its workers
static void *canaries[2]; // the parent's; workers unmap them (they could scribble on the shared one)
#define NULLFD 1023 // the parent's /dev/null
static int verbose;

// xorshift64* PRNG.
static __thread uint64_t rng;
static uint64_t rnd(void) {
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}
static uint64_t rndn(uint64_t n) { return n ? rnd() % n : 0; }

// Worker memory layout.
static char *scratch;     // SCRATCH_PAGES RW pages of random structures
#define SCRATCH_PAGES 8
static char *ro_page;     // PROT_READ page right after scratch
static char *edge_page;   // RW page followed by an unmapped page
static char *unmapped;    // an address with nothing mapped
static char *mmzone;      // MMZONE_PAGES for munmap/mprotect/mremap/...
#define MMZONE_PAGES 32
static char *paths;       // NUL-terminated path strings
static uint64_t path_ptrs[80];
static const char *voldir; // -d: a host directory (a volume) for half of the workers
static const char *ckdir; // -k: checkpoint handshake directory
static uint64_t ck_every; // -K: syscalls between checkpoints (0: only at the end)
static int npaths;
static pid_t self_pid;

static uint64_t rand_ptr(void);

static const uint64_t interesting_ints[] = {
	0, 1, 2, 3, 4, 7, 8, 16, 31, 32, 63, 64, 127, 128, 255, 256, 511, 512,
	1023, 1024, 4095, 4096, 4097, 65535, 65536, 0x7fffffff, 0x80000000,
	0xffffffff, 0x100000000ULL, (uint64_t)-1, (uint64_t)-2, (uint64_t)-4095,
	(uint64_t)-4096, (uint64_t)-100 /* AT_FDCWD */, 1ULL << 62, 1ULL << 63,
	(uint64_t)INT64_MAX, 0x7ffffffff000ULL, 1ULL << 47, 1ULL << 40,
};

static uint64_t rand_len(void) {
	static const uint64_t lens[] = {
		0, 1, 2, 8, 16, 64, 100, 4095, 4096, 4097, 8192, 65536, 1 << 20,
		1ULL << 62, (uint64_t)-1 /* SIZE_MAX */, (uint64_t)-4096,
		0x7fffffff, 0x80000000, 0xffffffff,
	};
	return lens[rndn(sizeof(lens) / sizeof(lens[0]))];
}

static uint64_t rand_fd(void) {
	switch (rndn(6)) {
	case 0: return (uint64_t)-1;
	case 1: return 1000000;
	case 2: return (uint64_t)-100; // AT_FDCWD
	case 3: return 0x7fffffff;
	default: return rndn(21);
	}
}

static uint64_t rand_flags(void) {
	switch (rndn(5)) {
	case 0: return 1ULL << rndn(32);
	case 1: return (1ULL << rndn(32)) | (1ULL << rndn(32));
	case 2: return rnd() & 0xffffffff;
	case 3: return rndn(16);
	default: return rnd();
	}
}

// Mappings that mmap, mremap and shmat returned (any thread's).
static uint64_t recent[8];

static uint64_t rand_ptr(void) {
	switch (rndn(15)) {
	case 14: {
		uint64_t r = recent[rndn(8)];
		return r ? r + rndn(3) * PAGE + rndn(2) * rndn(PAGE) : (uint64_t)scratch;
	}
	case 0: return 0;
	case 1: return (uint64_t)unmapped + rndn(PAGE);
	case 2: return (uint64_t)ro_page + rndn(PAGE);
	case 3: return (uint64_t)edge_page + PAGE - 1 - rndn(64); // ends at the hole
	case 4: return 0xffff800000000000ULL + rndn(4) * PAGE;
	case 5: return 0x0000800000000000ULL; // first non-canonical
	case 6: return (uint64_t)mmzone + rndn(MMZONE_PAGES) * PAGE + rndn(8);
	case 7: return npaths ? path_ptrs[rndn(npaths)] : 0;
	case 8: return rnd();
	case 9: return (uint64_t)scratch + rndn(64); // aligned-ish start
	default: return (uint64_t)scratch + rndn(SCRATCH_PAGES * PAGE - 8);
	}
}

static uint64_t rand_arg(void) {
	switch (rndn(8)) {
	case 0: return interesting_ints[rndn(sizeof(interesting_ints) / sizeof(interesting_ints[0]))];
	case 1: return rand_len();
	case 2: return rand_fd();
	case 3: return rand_flags();
	case 4: return rndn(64);
	case 5: return rnd();
	default: return rand_ptr();
	}
}

// fill_scratch fills scratch with random bytes and interesting 8-byte
// values; a few small ints so that lengths and counts are often sane.
static void fill_scratch(char *p, size_t n) {
	uint64_t *q = (uint64_t *)p;
	for (size_t i = 0; i < n / 8; i++) {
		switch (rndn(6)) {
		case 0: q[i] = rnd(); break;
		case 1: q[i] = rand_ptr(); break;
		case 2: q[i] = rand_len(); break;
		case 3: q[i] = rndn(16); break;
		case 4: q[i] = rand_fd() | (rand_flags() << 32); break;
		default: q[i] = interesting_ints[rndn(sizeof(interesting_ints) / sizeof(interesting_ints[0]))];
		}
	}
}

// A short timespec (or timeval) in scratch: 0 or up to 2 ms.
static uint64_t short_timeout(void) {
	char *t = scratch + SCRATCH_PAGES * PAGE - 64 - 16 * rndn(2);
	((int64_t *)t)[0] = 0;
	((int64_t *)t)[1] = rndn(2) ? 0 : (int64_t)rndn(2000000);
	return (uint64_t)t;
}

// timeout_ptr: a short timeout or an invalid pointer, never NULL.
static uint64_t timeout_ptr(void) {
	switch (rndn(8)) {
	case 0: return (uint64_t)unmapped;
	case 1: return 0xffff800000000000ULL;
	case 2: return (uint64_t)edge_page + PAGE - 8; // straddles the hole
	default: return short_timeout();
	}
}

// A pid that is never the parent or init: ours, 0 (our own group, since
// workers lead their own process group) or one that does not exist.
static uint64_t safe_pid(void) {
	switch (rndn(5)) {
	case 0: return self_pid;
	case 1: return 0;
	case 2: return (uint64_t)(int64_t)-self_pid;
	case 3: return 4194303;
	default: return (uint64_t)(int64_t)-(int64_t)(4194000 + rndn(300));
	}
}

static int pid_is_safe(int64_t p) {
	return p == self_pid || p == 0 || p == -self_pid || p > 4000000 || p < -4000000;
}

// mm_range picks [addr, addr+len) that is either inside the mm zone or
// invalid anyway; huge_ok allows lengths past the end of the address space
// (which Linux rejects before looking at any VMA).
static void mm_range(uint64_t *addr, uint64_t *len, int huge_ok) {
	switch (rndn(11)) {
	case 10: *addr = (uint64_t)-(int64_t)(PAGE * (1 + rndn(2))); return; // end wraps past 2^64
	case 0: *addr = 0; break;
	case 1: *addr = (uint64_t)mmzone + 1 + rndn(PAGE - 1); return; // misaligned: EINVAL
	case 2: *addr = 0xffff800000000000ULL; return;
	case 3: *addr = 0x0000800000000000ULL; return;
	default: *addr = (uint64_t)mmzone + rndn(MMZONE_PAGES) * PAGE;
	}
	uint64_t room = (uint64_t)mmzone + MMZONE_PAGES * PAGE - *addr;
	if (*addr == 0) room = PAGE; // [0, PAGE) is never mapped
	switch (rndn(6)) {
	case 0:
		if (huge_ok) {
			static const uint64_t h[] = {1ULL << 62, (uint64_t)-1, (uint64_t)-4096, 1ULL << 63};
			*len = h[rndn(4)];
			return;
		}
		/* fallthrough */
	case 1: *len = 0; return;
	default: *len = rndn(room + 1); if (rndn(2)) *len &= ~(PAGE - 1);
	}
}


// Argument kinds of the syscalls the sentry implements, one letter per
// argument: f fd, p pointer, l length, i small int, x flags, s path, g
// signal, n pid, o offset, m mode, c command, u uid/gid, a anything. A
// worker uses them for 3 calls in 4 (and then for 4 arguments in 5), so
// calls get past the first EBADF/EFAULT/EINVAL; the rest are all random.
static const char *const sigs[MAX_NR + 1] = {
	[SYS_read] = "fpl", [SYS_write] = "fpl", [SYS_open] = "sxm", [SYS_close] = "f",
	[SYS_stat] = "sp", [SYS_fstat] = "fp", [SYS_lstat] = "sp", [SYS_poll] = "pli",
	[SYS_lseek] = "foi", [SYS_mmap] = "plxxfo", [SYS_mprotect] = "plx", [SYS_munmap] = "pl",
	[SYS_brk] = "p", [SYS_rt_sigaction] = "gppl", [SYS_rt_sigprocmask] = "ippl",
	[SYS_ioctl] = "fcp", [SYS_pread64] = "fplo", [SYS_pwrite64] = "fplo", [SYS_readv] = "fpi",
	[SYS_writev] = "fpi", [SYS_access] = "sm", [SYS_pipe] = "p", [SYS_select] = "ipppp",
	[SYS_sched_yield] = "", [SYS_mremap] = "pllxp", [SYS_msync] = "plx", [SYS_mincore] = "plp",
	[SYS_madvise] = "pli", [SYS_shmget] = "ilx", [SYS_shmat] = "ipx", [SYS_shmctl] = "icp",
	[SYS_dup] = "f", [SYS_dup2] = "ff", [SYS_nanosleep] = "pp", [SYS_getitimer] = "ip",
	[SYS_alarm] = "i", [SYS_setitimer] = "ipp", [SYS_sendfile] = "ffpl", [SYS_socket] = "iii",
	[SYS_connect] = "fpl", [SYS_accept] = "fpp", [SYS_sendto] = "fplxpl", [SYS_recvfrom] = "fplxpp",
	[SYS_sendmsg] = "fpx", [SYS_recvmsg] = "fpx", [SYS_shutdown] = "fi", [SYS_bind] = "fpl",
	[SYS_listen] = "fi", [SYS_getsockname] = "fpp", [SYS_getpeername] = "fpp",
	[SYS_socketpair] = "iiip", [SYS_setsockopt] = "fiipl", [SYS_getsockopt] = "fiipp",
	[SYS_clone] = "xpppp", [SYS_wait4] = "npxp", [SYS_kill] = "ng", [SYS_uname] = "p",
	[SYS_fcntl] = "fca", [SYS_flock] = "fx", [SYS_fsync] = "f", [SYS_fdatasync] = "f",
	[SYS_truncate] = "so", [SYS_ftruncate] = "fo", [SYS_getdents] = "fpl", [SYS_getcwd] = "pl",
	[SYS_chdir] = "s", [SYS_fchdir] = "f", [SYS_rename] = "ss", [SYS_mkdir] = "sm",
	[SYS_rmdir] = "s", [SYS_creat] = "sm", [SYS_link] = "ss", [SYS_unlink] = "s",
	[SYS_symlink] = "ss", [SYS_readlink] = "spl", [SYS_chmod] = "sm", [SYS_fchmod] = "fm",
	[SYS_chown] = "suu", [SYS_fchown] = "fuu", [SYS_lchown] = "suu", [SYS_umask] = "m",
	[SYS_gettimeofday] = "pp", [SYS_getrlimit] = "ip", [SYS_getrusage] = "ip", [SYS_sysinfo] = "p",
	[SYS_times] = "p", [SYS_setuid] = "u", [SYS_setgid] = "u", [SYS_setpgid] = "nn",
	[SYS_setreuid] = "uu", [SYS_setregid] = "uu", [SYS_getgroups] = "ip", [SYS_setgroups] = "ip",
	[SYS_setresuid] = "uuu", [SYS_getresuid] = "ppp", [SYS_setresgid] = "uuu",
	[SYS_getresgid] = "ppp", [SYS_getpgid] = "n", [SYS_setfsuid] = "u", [SYS_setfsgid] = "u",
	[SYS_getsid] = "n", [SYS_capget] = "pp", [SYS_capset] = "pp", [SYS_rt_sigpending] = "pl",
	[SYS_rt_sigtimedwait] = "pppl", [SYS_rt_sigqueueinfo] = "ngp", [SYS_rt_sigsuspend] = "pl",
	[SYS_sigaltstack] = "pp", [SYS_utime] = "sp", [SYS_mknod] = "smi", [SYS_personality] = "x",
	[SYS_statfs] = "sp", [SYS_fstatfs] = "fp", [SYS_getpriority] = "in", [SYS_setpriority] = "ini",
	[SYS_sched_setparam] = "np", [SYS_sched_getparam] = "np", [SYS_sched_setscheduler] = "nip",
	[SYS_sched_getscheduler] = "n", [SYS_mlock] = "pl", [SYS_munlock] = "pl", [SYS_mlockall] = "x",
	[SYS_prctl] = "iaaaa", [SYS_arch_prctl] = "ip", [SYS_setrlimit] = "ip", [SYS_chroot] = "s",
	[SYS_sync] = "", [SYS_settimeofday] = "pp", [SYS_sethostname] = "pl",
	[SYS_setdomainname] = "pl", [SYS_gettid] = "", [SYS_setxattr] = "sspli", [SYS_lsetxattr] = "sspli",
	[SYS_fsetxattr] = "fspli", [SYS_getxattr] = "sspl", [SYS_lgetxattr] = "sspl", [SYS_fgetxattr] = "fspl",
	[SYS_listxattr] = "spl", [SYS_llistxattr] = "spl", [SYS_flistxattr] = "fpl",
	[SYS_removexattr] = "ss", [SYS_lremovexattr] = "ss", [SYS_fremovexattr] = "fs",
	[SYS_tkill] = "ng", [SYS_time] = "p", [SYS_futex] = "pcippi", [SYS_sched_setaffinity] = "nlp",
	[SYS_sched_getaffinity] = "nlp", [SYS_getdents64] = "fpl", [SYS_set_tid_address] = "p",
	[SYS_fadvise64] = "fooi", [SYS_timer_create] = "ipp", [SYS_timer_settime] = "ixpp",
	[SYS_timer_gettime] = "ip", [SYS_timer_getoverrun] = "i", [SYS_timer_delete] = "i",
	[SYS_clock_settime] = "ip", [SYS_clock_gettime] = "ip", [SYS_clock_getres] = "ip",
	[SYS_clock_nanosleep] = "ixpp", [SYS_epoll_wait] = "fpii", [SYS_epoll_ctl] = "fifp",
	[SYS_tgkill] = "nng", [SYS_utimes] = "sp", [SYS_waitid] = "inpxp", [SYS_inotify_init] = "",
	[SYS_inotify_add_watch] = "fsx", [SYS_inotify_rm_watch] = "fi", [SYS_openat] = "fsxm",
	[SYS_mkdirat] = "fsm", [SYS_mknodat] = "fsmi", [SYS_fchownat] = "fsuux", [SYS_futimesat] = "fsp",
	[SYS_newfstatat] = "fspx", [SYS_unlinkat] = "fsx", [SYS_renameat] = "fsfs", [SYS_linkat] = "fsfsx",
	[SYS_symlinkat] = "sfs", [SYS_readlinkat] = "fspl", [SYS_fchmodat] = "fsm", [SYS_faccessat] = "fsm",
	[SYS_pselect6] = "ipppp", [SYS_ppoll] = "plppl", [SYS_set_robust_list] = "pl",
	[SYS_get_robust_list] = "npp", [SYS_splice] = "fpfplx", [SYS_tee] = "ffli", [SYS_sync_file_range] = "foox",
	[SYS_vmsplice] = "fpix", [SYS_utimensat] = "fspx", [SYS_epoll_pwait] = "fpiipl",
	[SYS_signalfd] = "fpl", [SYS_timerfd_create] = "ix", [SYS_eventfd] = "i", [SYS_fallocate] = "fioo",
	[SYS_timerfd_settime] = "fxpp", [SYS_timerfd_gettime] = "fp", [SYS_accept4] = "fppx",
	[SYS_signalfd4] = "fplx", [SYS_eventfd2] = "ix", [SYS_epoll_create1] = "x", [SYS_dup3] = "ffx",
	[SYS_pipe2] = "px", [SYS_inotify_init1] = "x", [SYS_preadv] = "fpioo", [SYS_pwritev] = "fpioo",
	[SYS_rt_tgsigqueueinfo] = "nngp", [SYS_recvmmsg] = "fpixp", [SYS_prlimit64] = "nipp",
	[SYS_syncfs] = "f", [SYS_sendmmsg] = "fpix", [SYS_getcpu] = "ppp", [SYS_getrandom] = "plx",
	[SYS_memfd_create] = "sx", [SYS_mlock2] = "plx", [SYS_copy_file_range] = "fpfplx",
	[SYS_preadv2] = "fpioox", [SYS_pwritev2] = "fpioox", [SYS_statx] = "fsxxp", [SYS_rseq] = "plxi",
	[SYS_openat2] = "fspl", [SYS_close_range] = "ffx", [SYS_faccessat2] = "fsmx",
	[SYS_epoll_pwait2] = "fpippl", [SYS_epoll_create] = "i", [SYS_restart_syscall] = "",
	[SYS_getpid] = "", [SYS_getppid] = "", [SYS_getpgrp] = "", [SYS_setsid] = "", [SYS_pause] = "",
	[SYS_sched_get_priority_max] = "i", [SYS_sched_get_priority_min] = "i", [SYS_munlockall] = "",
	[SYS_adjtimex] = "p", [452 /* fchmodat2 */] = "fsmx",
};

static uint64_t typed_arg(char k) {
	switch (k) {
	case 'f':
		return rndn(8) ? 3 + rndn(18) : rand_fd();
	case 'p': return rndn(2) ? (uint64_t)scratch + rndn(SCRATCH_PAGES * PAGE - 256) : rand_ptr();
	case 'l': return rndn(3) ? rndn(4097) : rand_len();
	case 'i': return rndn(3) ? rndn(8) : interesting_ints[rndn(sizeof(interesting_ints) / sizeof(interesting_ints[0]))];
	case 'x':
		switch (rndn(5)) {
		case 0: case 1: return 0;
		case 2: return 1ULL << rndn(20);
		default: return rand_flags();
		}
	case 's': return rndn(6) ? path_ptrs[rndn(npaths)] : rand_ptr();
	case 'g': return rndn(8) ? 1 + rndn(64) : rand_arg();
	case 'n': return rand_arg(); // sanitize() makes pid arguments safe
	case 'o': return rndn(3) ? rndn(8192) : rand_len();
	case 'm': return rndn(2) ? rndn(010000) : rnd();
	case 'c': return rndn(2) ? rndn(64) : (rndn(2) ? 0x5400 + rndn(0x40) : rnd() & 0xffffffff);
	case 'u': return rndn(2) ? rndn(3) * 1000 : (uint64_t)-1;
	default: return rand_arg();
	}
}

static volatile sig_atomic_t alarms;
static void on_alarm(int sig) { (void)sig; alarms++; }

static void arm_timer(void) {
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm; // no SA_RESTART: blocking calls see EINTR
	sigaction(SIGALRM, &sa, NULL);
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGALRM);
	sigprocmask(SIG_UNBLOCK, &s, NULL);
	struct itimerval it = {{0, 50000}, {0, 50000}};
	setitimer(ITIMER_REAL, &it, NULL);
}

static void add_path(const char *s) {
	size_t off = 0;
	for (int i = 0; i < npaths; i++) off += strlen((char *)path_ptrs[i]) + 1;
	strcpy(paths + off, s);
	path_ptrs[npaths++] = (uint64_t)(paths + off);
}

// setup_worker builds the memory layout and a set of open files.
static void setup_worker(int idx) {
	self_pid = getpid();
	setpgid(0, 0);
	munmap(canaries[0], PAGE);
	munmap(canaries[1], PAGE);
	// The parent's /dev/null (a worker may have unlinked /dev/null since):
	// never write to the test's stdout.
	if (dup2(NULLFD, 0) < 0 || dup2(NULLFD, 1) < 0 || dup2(NULLFD, 2) < 0) _exit(3);
	close(NULLFD);
	// Reserve 24 pages: scratch(8) ro(1) hole(1) edge(1) hole(1) ... then
	// unmap the rest so holes are real.
	char *base = mmap(NULL, 24 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED) _exit(3);
	scratch = base;
	ro_page = base + SCRATCH_PAGES * PAGE;
	memset(ro_page, 0, PAGE);
	mprotect(ro_page, PAGE, PROT_READ);
	munmap(base + 9 * PAGE, PAGE);
	edge_page = base + 10 * PAGE;
	munmap(base + 11 * PAGE, PAGE);
	paths = base + 12 * PAGE;
	unmapped = base + 14 * PAGE;
	munmap(base + 13 * PAGE, 11 * PAGE);
	// The mm zone, followed by a guard hole.
	mmzone = mmap(NULL, (MMZONE_PAGES + 1) * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mmzone == MAP_FAILED) _exit(3);
	munmap(mmzone + MMZONE_PAGES * PAGE, PAGE);

	// Odd workers work in the host volume (goferfs, the gofer), even ones
	// in the overlay's /tmp; each in a directory of its own, one level
	// down on the volume (a worker may chmod or chown ".." as it likes:
	// the volume's root must stay usable), else in /tmp.
	char dir[512];
	snprintf(dir, sizeof(dir), "/tmp/fuzz.%d", (int)self_pid);
	if (voldir && idx % 2) {
		char top[512];
		snprintf(top, sizeof(top), "%s/fuzz.%d", voldir, (int)self_pid);
		mkdir(top, 0777);
		snprintf(dir, sizeof(dir), "%s/fuzz.%d/w", voldir, (int)self_pid);
	}
	mkdir(dir, 0777);
	if (chdir(dir) != 0) {
		snprintf(dir, sizeof(dir), "/tmp/fuzz.%d", (int)self_pid);
		mkdir(dir, 0777);
		if (chdir(dir) != 0) _exit(3);
	}
	add_path("f");
	add_path("d");
	add_path("l");
	add_path("dangling");
	add_path("fifo");
	add_path("sock");
	add_path(".");
	add_path("..");
	add_path("");
	add_path("/");
	add_path("/proc/self/maps");
	add_path("/proc/self/status");
	add_path("/proc/self/fd/3");
	add_path("/proc/self/mem");
	add_path("/proc/self/exe");
	add_path("/dev/null");
	add_path("/dev/zero");
	add_path("/dev/urandom");
	add_path("/dev/ptmx");
	add_path("d/../f");
	add_path("l/../../f");
	add_path("user.x"); // xattr name
	add_path("nonexistent/x");
	add_path("f/");
	// Shared with the other workers of the same file system.
	add_path("../shared");
	add_path("../shared/f");
	add_path("../shared/g");
	// Host files, read-only underneath the overlay (copy-up on write).
	add_path("/etc/passwd");
	add_path("/usr/bin");
	add_path("/bin/sh");
	add_path("/proc/self/fd");
	add_path("/proc/self/fd/0");
	add_path("/proc/self/task");
	add_path("/proc/self/stat");
	add_path("/proc/self/cmdline");
	add_path("/proc/self/environ");
	add_path("/proc/self/auxv");
	add_path("/proc/self/mountinfo");
	add_path("/proc/self/cwd");
	add_path("/proc/self/root");
	add_path("/proc/1/status");
	add_path("/proc/1/fd");
	add_path("/proc/meminfo");
	add_path("/proc/cpuinfo");
	add_path("/proc/sys/kernel/hostname");
	add_path("/sys/devices/system/cpu/online");
	add_path("/sys/class/net/lo");
	add_path("/sys/class/net/lo/mtu");
	add_path("/sys/fs/cgroup");
	add_path("/dev/full");
	add_path("/dev/random");
	add_path("/dev/pts/0");
	add_path("/dev/tty");
	add_path("/dev/shm/x");
	// A filesystem layout to point paths at (errors are fine: a previous
	// worker may have made or broken it).
	int fd = open("f", O_CREAT | O_RDWR, 0666);
	if (fd >= 0) {
		write(fd, "hello world\n", 12);
		close(fd);
	}
	mkdir("d", 0777);
	symlink("d", "l");
	symlink("nowhere", "dangling");
	mkfifo("fifo", 0666);
	mkdir("../shared", 0777);
	fd = open("../shared/f", O_CREAT | O_RDWR, 0666);
	if (fd >= 0) {
		ftruncate(fd, 3 * PAGE);
		close(fd);
	}

	// Interesting open files at fds 3..20 (whichever succeed).
	int p[2];
	if (pipe2(p, O_NONBLOCK) < 0) p[0] = p[1] = -1;
	int sp[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sp);
	eventfd(1, 0);
	epoll_create1(0);
	timerfd_create(CLOCK_MONOTONIC, 0);
	sigset_t ss;
	sigemptyset(&ss);
	sigaddset(&ss, SIGUSR1);
	signalfd(-1, &ss, 0);
	syscall(SYS_memfd_create, "fuzz", 0);
	open("f", O_RDWR);
	open("d", O_RDONLY | O_DIRECTORY);
	open("/proc/self/maps", O_RDONLY);
	inotify_init1(0);
	socket(AF_INET, SOCK_STREAM, 0);
	socket(AF_INET6, SOCK_DGRAM, 0);
	socket(AF_NETLINK, SOCK_RAW, 0);
	open("/dev/zero", O_RDWR);
	open(".", O_PATH);
	int ls = socket(AF_UNIX, SOCK_STREAM, 0);
	if (ls >= 0) {
		struct sockaddr_un { sa_family_t f; char p[108]; } a = {AF_UNIX, "sock"};
		unlink("sock");
		bind(ls, (void *)&a, sizeof(a));
		listen(ls, 4);
	}

	// Ignore signals a random syscall may raise against us (a fuzzed
	// rt_sigaction may restore them; the parent then respawns us).
	int ign[] = {SIGPIPE, SIGXFSZ, SIGXCPU, SIGSYS, SIGUSR1, SIGUSR2, SIGHUP, SIGINT, SIGQUIT,
		SIGTERM, SIGTTIN, SIGTTOU, SIGTSTP, SIGIO, SIGPROF, SIGVTALRM, SIGTRAP, SIGWINCH};
	for (size_t i = 0; i < sizeof(ign) / sizeof(ign[0]); i++) signal(ign[i], SIG_IGN);
	arm_timer();
}

static __thread int64_t clones;

// sanitize rewrites args of the denylisted/dangerous syscalls; it returns 0
// if the call must be skipped.
static int sanitize(long nr, uint64_t *a) {
	uint64_t len;
	switch (nr) {
	case SYS_exit:
	case SYS_exit_group:
	case SYS_rt_sigreturn:
	case SYS_execve:
	case SYS_execveat:
	case SYS_vfork:
	case SYS_fork:
	case SYS_clone3:
	case 335: // unassigned, yet this machine's host kernel raises SIGILL for it
		return 0;
	case SYS_clone:
		if (clones >= 4) return 0;
		clones++;
		a[0] &= ~(uint64_t)(CLONE_VM | CLONE_THREAD | CLONE_SIGHAND | CLONE_VFORK | CLONE_SETTLS | CLONE_PARENT);
		a[1] = 0; // no new stack: the child runs on a copy of ours
		return 1;
	case SYS_kill:
		if (!pid_is_safe((int64_t)(int)a[0])) a[0] = safe_pid();
		return 1;
	case SYS_tkill:
		if ((int)a[0] != self_pid) a[0] = rndn(2) ? (uint64_t)self_pid : 4194303;
		return 1;
	case SYS_tgkill:
		if ((int)a[0] != self_pid || (int)a[1] != self_pid) {
			a[0] = self_pid;
			a[1] = rndn(2) ? (uint64_t)self_pid : 4194303;
		}
		return 1;
	case SYS_rt_sigqueueinfo:
	case SYS_pidfd_open:
		if (!pid_is_safe((int64_t)(int)a[0]) || (int)a[0] <= 0) a[0] = rndn(2) ? (uint64_t)self_pid : 4194303;
		return 1;
	case SYS_rt_tgsigqueueinfo:
		a[0] = self_pid;
		if ((int)a[1] != self_pid) a[1] = rndn(2) ? (uint64_t)self_pid : 4194303;
		return 1;
	case SYS_ptrace:
		// ptrace(req, pid): never the parent.
		if ((int)a[1] != self_pid) a[1] = rndn(2) ? (uint64_t)self_pid : 4194303;
		return 1;
	case SYS_process_vm_readv:
	case SYS_process_vm_writev:
	case SYS_prlimit64:
	case SYS_kcmp:
	case SYS_sched_setaffinity:
	case SYS_sched_setparam:
	case SYS_sched_setscheduler:
	case SYS_sched_setattr:
	case SYS_setpgid:
	case SYS_migrate_pages:
	case SYS_move_pages:
		if (!pid_is_safe((int64_t)(int)a[0]) || (int)a[0] < 0) a[0] = safe_pid() & 0x7fffffff;
		if (nr == SYS_kcmp && !pid_is_safe((int64_t)(int)a[1])) a[1] = self_pid;
		if (nr == SYS_setpgid) a[1] = rndn(2) ? 0 : (uint64_t)self_pid;
		return 1;
	case SYS_setpriority:
	case SYS_ioprio_set:
		a[1] = 0; // "who" is ourselves
		return 1;
	case SYS_pidfd_send_signal:
		return 1; // only pidfds we could open, which are safe ones
	case SYS_process_madvise:
		return 0; // would advise on a pidfd's memory: ours, unbounded
	case SYS_munmap:
	case SYS_mprotect:
	case SYS_pkey_mprotect:
		mm_range(&a[0], &a[1], 1);
		return 1;
	case SYS_madvise:
		mm_range(&a[0], &a[1], 0);
		return 1;
	case SYS_mremap:
		mm_range(&a[0], &a[1], 1);
		a[2] = rndn(4) ? rndn(2 * MMZONE_PAGES) * PAGE : rand_len();
		if (a[3] & 2 /* MREMAP_FIXED */) mm_range(&a[4], &len, 0);
		return 1;
	case SYS_remap_file_pages:
		mm_range(&a[0], &a[1], 0);
		return 1;
	case SYS_mmap:
		if (rndn(2)) {
			// Mostly valid requests: anonymous or of one of our files.
			a[2] = rndn(8);
			a[3] = (rndn(2) ? MAP_PRIVATE : MAP_SHARED) | (rndn(3) ? 0 : MAP_ANONYMOUS) |
				(rndn(4) ? 0 : MAP_FIXED) | (rndn(8) ? 0 : MAP_POPULATE) | (rndn(8) ? 0 : MAP_NORESERVE);
			a[4] = 3 + rndn(18);
			a[5] = rndn(4) ? rndn(4) * PAGE : a[5];
		}
		if (a[3] & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
			mm_range(&a[0], &a[1], 1);
			// A huge MAP_FIXED|MAP_POPULATE fails (ENOMEM/EINVAL) before
			// populating: keep it; never shrink it to something that
			// fits, which would map over our own code.
		} else {
			if (rndn(2)) a[1] = rndn(64) * PAGE + rndn(2); // sane sizes often
			// MAP_POPULATE of a huge mapping would only measure host memory.
			if ((a[3] & (MAP_POPULATE | MAP_LOCKED)) && a[1] > (1 << 24)) a[1] = 1 << 20;
		}
		return 1;
	case SYS_shmat:
		if (a[2] & 040000 /* SHM_REMAP */ || a[1] != 0) mm_range(&a[1], &len, 0);
		return 1;
	case SYS_shmdt:
		mm_range(&a[0], &len, 0);
		return 1;
	case SYS_brk:
		return 1; // we never use the heap
	case SYS_arch_prctl:
		// ARCH_SET_FS/GS with junk breaks only us; keep it, rarely.
		return rndn(8) == 0;
	case SYS_nanosleep:
		a[0] = timeout_ptr();
		return 1;
	case SYS_clock_nanosleep:
		a[1] &= 1; // TIMER_ABSTIME would sleep until an absolute time
		if (a[1]) a[1] = 0;
		a[2] = timeout_ptr();
		return 1;
	case SYS_select:
		a[4] = timeout_ptr();
		return 1;
	case SYS_pselect6:
		a[4] = timeout_ptr();
		return 1;
	case SYS_poll:
	case SYS_epoll_wait:
		a[2] = rndn(4) - 1;
		if (nr == SYS_epoll_wait) a[3] = rndn(4) - 1;
		return 1;
	case SYS_epoll_pwait:
		a[3] = rndn(4) - 1;
		return 1;
	case SYS_epoll_pwait2:
		a[3] = timeout_ptr();
		return 1;
	case SYS_ppoll:
		a[2] = timeout_ptr();
		return 1;
	case SYS_futex:
		a[3] = timeout_ptr();
		return 1;
	case SYS_futex_waitv:
		a[3] = timeout_ptr();
		a[4] = rndn(2); // clock id
		return 1;
	case SYS_rt_sigtimedwait:
		a[2] = timeout_ptr();
		return 1;
	case SYS_semtimedop:
		a[3] = timeout_ptr();
		return 1;
	case SYS_mq_timedsend:
	case SYS_mq_timedreceive:
		a[4] = timeout_ptr();
		return 1;
	case SYS_io_getevents:
		a[4] = timeout_ptr();
		return 1;
	case SYS_io_pgetevents:
		a[4] = timeout_ptr();
		return 1;
	case SYS_recvmmsg:
		a[4] = timeout_ptr();
		return 1;
	case SYS_alarm:
		a[0] = rndn(2);
		return 1;
	case SYS_setitimer:
	case SYS_timer_settime:
	case SYS_timerfd_settime:
		return 1; // timers signal us at worst; we re-arm ours
	case SYS_reboot:
		return 1; // EPERM/ENOSYS in a sandbox; keep it to check
	}
	return 1;
}

static int nthreads = 1;
static char only[MAX_NR + 1]; // -x: restrict to these syscalls (bisecting)
static int have_only;
static char skip[MAX_NR + 1]; // -X: never these

static __thread sigjmp_buf touch_jmp;
static __thread volatile int touching;

static void on_fault(int sig, siginfo_t *si, void *uc) {
	(void)si;
	(void)uc;
	if (touching) siglongjmp(touch_jmp, sig);
	signal(sig, SIG_DFL); // a real crash of ours: die of it
}

// touch reads or writes *p, surviving SIGSEGV and SIGBUS.
static void touch(char *p, int write) {
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	if (sigsetjmp(touch_jmp, 1) == 0) {
		touching = 1;
		if (write)
			*(volatile char *)p = 1;
		else
			(void)*(volatile char *)p;
	}
	touching = 0;
}

// fuzz_loop issues syscalls until the worker's count reaches n (all of
// its threads count).
static void fuzz_loop(struct slot *s, uint64_t n) {
	for (uint64_t i = 0; __atomic_load_n(&s->count, __ATOMIC_RELAXED) < n; i++) {
		if ((i & 7) == 0) {
			arm_timer();
			if ((i & 63) == 0) fill_scratch(scratch, SCRATCH_PAGES * PAGE);
		}
		long nr = (long)rndn(MAX_NR + 1);
		if ((have_only && !only[nr]) || skip[nr]) continue;
		uint64_t a[6];
		for (int j = 0; j < 6; j++) a[j] = rand_arg();
		if (sigs[nr] && rndn(4)) {
			for (int j = 0; sigs[nr][j] && j < 6; j++)
				if (rndn(5)) a[j] = typed_arg(sigs[nr][j]);
		}
		if (!sanitize(nr, a)) {
			continue;
		}
		s->nr = nr;
		for (int j = 0; j < 6; j++) s->args[j] = a[j];
		long r = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		if (nr == SYS_clone && r == 0) {
			_exit(0); // the child of a clone
		}
		if ((nr == SYS_mmap || nr == SYS_mremap || nr == SYS_shmat) && (unsigned long)r < -4096UL) {
			recent[rndn(8)] = (uint64_t)r;
			// Fault the new mapping in (file pages past EOF, PROT_NONE,
			// shared and private pages): a fault we survive.
			uint64_t len = nr == SYS_mremap ? a[2] : a[1];
			if (len > 0 && rndn(2)) touch((char *)r + rndn(len < 4 * PAGE ? len : 4 * PAGE), rndn(2));
		}
		s->nr = -1;
		__atomic_fetch_add(&s->count, 1, __ATOMIC_RELAXED);
	}
}

struct thread_arg {
	struct slot *s;
	uint64_t n, seed;
};

static void *fuzz_thread(void *p) {
	struct thread_arg *t = p;
	rng = t->seed ? t->seed : 1;
	fuzz_loop(t->s, t->n);
	for (;;) pause(); // the main thread's _exit ends us
	return NULL;
}

static void worker(int idx, uint64_t seed, uint64_t n) {
	rng = seed ? seed : 1;
	setup_worker(idx);
	fill_scratch(scratch, SCRATCH_PAGES * PAGE);
	fill_scratch(edge_page, PAGE);
	struct slot *s = &slots[idx];
	// Extra threads share the FD table, the address space and signal
	// handlers with the main one: races in the sentry. Their sequences
	// interleave nondeterministically (-t 1 to replay a seed exactly).
	static struct thread_arg targs[16];
	for (int k = 1; k < nthreads && k <= 16; k++) {
		pthread_t th;
		targs[k - 1] = (struct thread_arg){s, n, seed * 31 + k};
		pthread_create(&th, NULL, fuzz_thread, &targs[k - 1]);
	}
	fuzz_loop(s, n);
	_exit(0);
}

static uint64_t now_ms(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void report(const char *what, int i) {
	fprintf(stderr, "fuzz: worker %d seed %llu %s after %llu syscalls, in nr %ld (%#llx, %#llx, %#llx, %#llx, %#llx, %#llx)\n",
		(int)wpid[i], (unsigned long long)slots[i].seed, what, (unsigned long long)slots[i].count, slots[i].nr,
		(unsigned long long)slots[i].args[0], (unsigned long long)slots[i].args[1],
		(unsigned long long)slots[i].args[2], (unsigned long long)slots[i].args[3],
		(unsigned long long)slots[i].args[4], (unsigned long long)slots[i].args[5]);
}

// Checkpoints (-k DIR -K EVERY): every EVERY syscalls and once more at the
// end, the parent lets its workers finish their lives, kills and reaps
// whatever they left behind, removes the guest state they made that would
// legitimately outlive them (their directories, System V IPC objects,
// POSIX message queues), and then reports in DIR/ckpt.N (written to
// DIR/ckpt.N.tmp and renamed) and waits for DIR/ckpt.N.ack. The sandbox is
// then as quiet as it will ever be between workers: whoever created
// ckpt.N (the Go test) measures the sentry's and the gofer's host state
// (FDs, memory, threads) at the same guest state each time, so growth from
// one checkpoint to the next is what the sentry kept and should not have.
#define ACK_MS 120000 // no ack in this time: nobody listens, fail

static int cleanup_errors;

// rm_tree removes path and everything under it.
static void rm_tree(const char *path) {
	struct stat st;
	if (lstat(path, &st) != 0) return;
	if (S_ISDIR(st.st_mode)) {
		// A worker may have taken the permissions away (on a volume the
		// sentry has no CAP_DAC_OVERRIDE on the host: it must be owner
		// and allowed). Entries may be missed by a readdir that races
		// with their removal: go over the directory until it is empty.
		chmod(path, 0700);
		for (int pass = 0; pass < 3; pass++) {
			DIR *d = opendir(path);
			if (!d) break;
			int n = 0;
			struct dirent *e;
			char child[4096];
			while ((e = readdir(d)) != NULL) {
				if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
				snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
				rm_tree(child);
				n++;
			}
			closedir(d);
			if (n == 0) break;
		}
		if (rmdir(path) == 0) return;
		// A worker may have mounted something here (mounts are shared
		// with the parent unless it unshared its namespace).
		if (errno == EBUSY && umount2(path, MNT_DETACH) == 0 && rmdir(path) == 0) return;
	} else if (unlink(path) == 0) {
		return;
	}
	if (errno == ENOENT) return;
	if (verbose || cleanup_errors < 5) fprintf(stderr, "fuzz: checkpoint: remove %s: %s\n", path, strerror(errno));
	cleanup_errors++;
}

// rm_children removes the entries of dir whose names start with prefix
// (all of them if prefix is "").
static void rm_children(const char *dir, const char *prefix) {
	DIR *d = opendir(dir);
	if (!d) return;
	struct dirent *e;
	char path[4096];
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		rm_tree(path);
	}
	closedir(d);
}

// rm_ipc removes every System V IPC object and POSIX message queue.
static void rm_ipc(void) {
	struct shm_info shi;
	int max = shmctl(0, SHM_INFO, (struct shmid_ds *)&shi);
	for (int i = 0; i <= max; i++) {
		struct shmid_ds ds;
		int id = shmctl(i, SHM_STAT, &ds);
		if (id >= 0) shmctl(id, IPC_RMID, NULL);
	}
	struct seminfo sei;
	max = semctl(0, 0, SEM_INFO, &sei);
	for (int i = 0; i <= max; i++) {
		struct semid_ds ds;
		int id = semctl(i, 0, SEM_STAT, &ds);
		if (id >= 0) semctl(id, 0, IPC_RMID);
	}
	struct msginfo mi;
	max = msgctl(0, MSG_INFO, (struct msqid_ds *)&mi);
	for (int i = 0; i <= max; i++) {
		struct msqid_ds ds;
		int id = msgctl(i, MSG_STAT, &ds);
		if (id >= 0) msgctl(id, IPC_RMID, NULL);
	}
	// Queue names come from the path list or from random bytes: list
	// them through an mqueue mount of our own.
	static int mq_mounted;
	if (!mq_mounted) {
		mkdir("/tmp/.fuzz-mq", 0700);
		mq_mounted = mount("mqueue", "/tmp/.fuzz-mq", "mqueue", 0, NULL) == 0 ? 1 : -1;
	}
	if (mq_mounted > 0) rm_children("/tmp/.fuzz-mq", "");
}

// count_entries counts the entries of dir (numeric ones only if numeric).
static int count_entries(const char *dir, int numeric) {
	DIR *d = opendir(dir);
	if (!d) return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.') continue;
		if (numeric && (e->d_name[0] < '0' || e->d_name[0] > '9')) continue;
		n++;
	}
	closedir(d);
	return n;
}

static long count_lines(const char *path) {
	FILE *f = fopen(path, "r");
	if (!f) return -1;
	long n = 0;
	int c;
	while ((c = getc(f)) != EOF) n += c == '\n';
	fclose(f);
	return n;
}

// meminfo_used is MemTotal-MemFree in kB: in the sandbox, the memory
// file's pages in use.
static long meminfo_used(void) {
	FILE *f = fopen("/proc/meminfo", "r");
	if (!f) return -1;
	char line[256];
	long total = -1, free = -1;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "MemTotal: %ld", &total);
		sscanf(line, "MemFree: %ld", &free);
	}
	fclose(f);
	return total < 0 || free < 0 ? -1 : total - free;
}

// checkpoint quiesces the sandbox and hands over to the test (see above);
// it returns 0, or -1 after printing a "fuzz: FAIL" line.
static int checkpoint(int n, uint64_t done, int final) {
	// Children left behind (clone children stopped with their worker's
	// group, say): as the sandbox's init we inherited them; kill them.
	// Only our children: run natively, /proc lists the whole host.
	pid_t me = getpid();
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL) {
		char sp[300], buf[512];
		snprintf(sp, sizeof(sp), "/proc/%s/stat", e->d_name);
		int fd = atoi(e->d_name) > 0 ? open(sp, O_RDONLY) : -1;
		if (fd < 0) continue;
		ssize_t r = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[r > 0 ? r : 0] = 0;
		char *rp = strrchr(buf, ')');
		int ppid = 0;
		if (rp && sscanf(rp + 1, " %*c %d", &ppid) == 1 && ppid == me) kill(atoi(e->d_name), SIGKILL);
	}
	if (d) closedir(d);
	uint64_t start = now_ms();
	for (;;) {
		pid_t p = waitpid(-1, NULL, __WALL | WNOHANG);
		if (p > 0) continue;
		if (p < 0 && errno == ECHILD) break;
		if (now_ms() - start > UNKILLABLE_MS) {
			printf("fuzz: FAIL: checkpoint %d: children not dead %d ms after SIGKILL\n", n, UNKILLABLE_MS);
			return -1;
		}
		struct timespec ts = {0, 2000000};
		nanosleep(&ts, NULL);
	}
	rm_children("/tmp", "fuzz.");
	rm_children("/tmp", "shared");
	rm_children("/dev/shm", "");
	if (voldir) rm_children(voldir, "fuzz.");
	rm_ipc();

	char path[4096], tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s/ckpt.%d.tmp", ckdir, n);
	snprintf(path, sizeof(path), "%s/ckpt.%d", ckdir, n);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		printf("fuzz: FAIL: checkpoint %d: %s: %s\n", n, tmp, strerror(errno));
		return -1;
	}
	fprintf(f, "syscalls %llu\nfinal %d\nmem_used_kb %ld\nfds %d\nprocs %d\nmounts %ld\ncleanup_errors %d\n",
		(unsigned long long)done, final, meminfo_used(), count_entries("/proc/self/fd", 1) - 1,
		count_entries("/proc", 1), count_lines("/proc/self/mountinfo"), cleanup_errors);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		printf("fuzz: FAIL: checkpoint %d: write %s: %s\n", n, path, strerror(errno));
		return -1;
	}
	printf("fuzz: checkpoint %d at %llu syscalls\n", n, (unsigned long long)done);
	fflush(stdout);
	snprintf(path, sizeof(path), "%s/ckpt.%d.ack", ckdir, n);
	start = now_ms();
	struct stat st;
	while (stat(path, &st) != 0) {
		if (now_ms() - start > ACK_MS) {
			printf("fuzz: FAIL: checkpoint %d: no %s within %d ms\n", n, path, ACK_MS);
			return -1;
		}
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
	}
	return 0;
}

int main(int argc, char **argv) {
	uint64_t total = 200000, per_life = 2000, seed = 0, wseed_only = 0;
	int nworkers = 4, opt;
	while ((opt = getopt(argc, argv, "n:w:l:s:S:t:d:k:K:x:X:vh")) != -1) {
		switch (opt) {
		case 'n': total = strtoull(optarg, NULL, 0); break;
		case 'w': nworkers = atoi(optarg); break;
		case 'l': per_life = strtoull(optarg, NULL, 0); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'S': wseed_only = strtoull(optarg, NULL, 0); break;
		case 't': nthreads = atoi(optarg); break;
		case 'd': voldir = optarg; break;
		case 'k': ckdir = optarg; break;
		case 'K': ck_every = strtoull(optarg, NULL, 0); break;
		case 'x':
		case 'X':
			for (char *t = strtok(optarg, ","); t; t = strtok(NULL, ",")) {
				int nr = atoi(t);
				if (nr >= 0 && nr <= MAX_NR) (opt == 'x' ? only : skip)[nr] = 1;
			}
			have_only |= opt == 'x';
			break;
		case 'v': verbose = 1; break;
		default:
			fprintf(stderr, "usage: %s [-n total] [-w workers] [-l per-life] [-s seed] [-S worker-seed] [-t threads] [-d dir]\n"
				"       [-k ckpt-dir [-K every]] [-x nr,...] [-X nr,...] [-v]\n"
				"worker generation g runs seed*1000003+g; -S S -l COUNT replays one worker's seed S\n",
				argv[0]);
			return 2;
		}
	}
	if (nworkers < 1 || nworkers > MAX_WORKERS) nworkers = 4;
	if (per_life < 1) per_life = 1;
	if (seed == 0) seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	if (wseed_only) {
		nworkers = 1;
		total = per_life;
	}
	printf("fuzz: seed %llu, %d workers, %llu syscalls, %llu per worker life\n",
		(unsigned long long)(wseed_only ? wseed_only : seed), nworkers, (unsigned long long)total,
		(unsigned long long)per_life);
	fflush(stdout);

	int nul = open("/dev/null", O_RDWR);
	if (nul < 0 || dup2(nul, NULLFD) < 0) {
		perror("/dev/null");
		return 1;
	}
	close(nul);
	slots = mmap(NULL, sizeof(struct slot) * MAX_WORKERS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (slots == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	// Canaries: a private and a shared page of the parent that no one
	// writes. A change is memory corruption by the sentry (a page freed
	// while still mapped and handed to a worker, or a wrong page mapped).
	uint64_t *canary_priv = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t *canary_shared = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (canary_priv == MAP_FAILED || canary_shared == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (size_t i = 0; i < PAGE / 8; i++) canary_priv[i] = canary_shared[i] = 0xc0ffee0000000000ULL | i;
	canaries[0] = canary_priv;
	canaries[1] = canary_shared;
	// done: syscalls of finished workers; alloc[i]: the share of a running
	// worker. A worker that dies early leaves its rest to its successor.
	uint64_t done = 0, died = 0, hangs = 0, gen = 0;
	uint64_t alloc[MAX_WORKERS], last_count[MAX_WORKERS], last_progress[MAX_WORKERS], killed_at[MAX_WORKERS];
	int running = 0, ckn = 0;
	uint64_t next_ck = ckdir && ck_every ? ck_every : total;
	for (;;) {
		// Workers are given shares up to the next checkpoint only.
		uint64_t cap = next_ck < total ? next_ck : total;
		uint64_t pending = 0;
		for (int i = 0; i < nworkers; i++)
			if (wpid[i]) pending += alloc[i];
		for (int i = 0; i < nworkers; i++) {
			if (wpid[i] != 0 || done + pending >= cap) continue;
			uint64_t n = cap - done - pending;
			if (n > per_life) n = per_life;
			uint64_t wseed = wseed_only ? wseed_only : seed * 1000003 + gen++;
			slots[i].count = 0;
			slots[i].seed = wseed;
			slots[i].nr = -1;
			fflush(stdout);
			fflush(stderr);
			pid_t p = fork();
			if (p < 0) {
				perror("fork");
				return 1;
			}
			if (p == 0) worker(i, wseed, n);
			wpid[i] = p;
			alloc[i] = n;
			pending += n;
			last_count[i] = 0;
			last_progress[i] = now_ms();
			killed_at[i] = 0;
			running++;
		}
		for (size_t j = 0; j < PAGE / 8; j++) {
			if (canary_priv[j] != (0xc0ffee0000000000ULL | j) || canary_shared[j] != (0xc0ffee0000000000ULL | j)) {
				printf("fuzz: FAIL: parent memory corrupted: %s canary word %zu is %#llx\n",
					canary_priv[j] != (0xc0ffee0000000000ULL | j) ? "private" : "shared", j,
					(unsigned long long)(canary_priv[j] != (0xc0ffee0000000000ULL | j) ? canary_priv[j] : canary_shared[j]));
				for (int i = 0; i < nworkers; i++)
					if (wpid[i]) report("running at corruption", i);
				fflush(stdout);
				return 2;
			}
		}
		if (running == 0) {
			// Nothing was started: done has reached cap.
			if (ckdir && checkpoint(++ckn, done, done >= total) != 0) {
				fflush(stdout);
				return 2;
			}
			if (done >= total) break;
			next_ck += ck_every;
			continue;
		}
		int st;
		pid_t p;
		while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
			// Other pids are orphaned clone children reparented to us.
			for (int i = 0; i < nworkers; i++) {
				if (wpid[i] != p) continue;
				uint64_t c = slots[i].count;
				if (c > alloc[i]) c = alloc[i];
				done += c;
				if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
					died++;
					if (verbose || died <= 20) {
						char what[64];
						snprintf(what, sizeof(what), "died (%s %d)", WIFSIGNALED(st) ? "signal" : "exit",
							WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
						report(what, i);
					}
				}
				wpid[i] = 0;
				running--;
				break;
			}
		}
		uint64_t t = now_ms();
		for (int i = 0; i < nworkers; i++) {
			if (!wpid[i]) continue;
			if (slots[i].count != last_count[i]) {
				last_count[i] = slots[i].count;
				last_progress[i] = t;
				continue;
			}
			if (killed_at[i]) {
				if (t - killed_at[i] > UNKILLABLE_MS) {
					report("FAIL: unkillable", i);
					printf("fuzz: FAIL: worker seed %llu not dead %d ms after SIGKILL, in nr %ld\n",
						(unsigned long long)slots[i].seed, UNKILLABLE_MS, slots[i].nr);
					fflush(stdout);
					return 2;
				}
				continue;
			}
			if (t - last_progress[i] > HANG_MS) {
				hangs++;
				// The state tells a stopped worker (T: it sent itself
				// SIGSTOP) or one in pause() with SIGALRM blocked (S) from
				// a sentry hang.
				char path[64], st[512] = "", what[64];
				snprintf(path, sizeof(path), "/proc/%d/stat", (int)wpid[i]);
				int fd = open(path, O_RDONLY);
				if (fd >= 0) {
					ssize_t n = read(fd, st, sizeof(st) - 1);
					st[n > 0 ? n : 0] = 0;
					close(fd);
				}
				char *rp = strrchr(st, ')');
				snprintf(what, sizeof(what), "hang-killed (state %c)", rp && rp[1] ? rp[2] : '?');
				report(what, i);
				kill(wpid[i], SIGKILL);
				killed_at[i] = t;
			}
		}
		struct timespec ts = {0, 2000000};
		nanosleep(&ts, NULL);
	}
	while (waitpid(-1, NULL, WNOHANG) > 0) {
	}
	printf("fuzz: %llu syscalls, %llu workers died, alive (%llu of them hang-killed)\n",
		(unsigned long long)done, (unsigned long long)died, (unsigned long long)hangs);
	return 0;
}
