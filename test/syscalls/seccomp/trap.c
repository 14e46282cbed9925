/* seccomp SECCOMP_RET_TRAP: SIGSYS with the system call's details. */
#include "lt_seccomp.h"

#include <stdint.h>
#include <sys/resource.h>
#include <sys/ucontext.h>

static volatile siginfo_t got;
static volatile long got_rax;
static volatile int hits;

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	memcpy((void *)&got, si, sizeof(*si));
	got_rax = ((ucontext_t *)uc)->uc_mcontext.gregs[REG_RAX];
	hits++;
}

static void install_handler(void)
{
	struct sigaction sa = {0};
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(SIGSYS, &sa, NULL) != 0)
		ABORT("sigaction: %s", strerror(errno));
}

/* raw_syscall issues nr with one argument and reports the address after
 * the syscall instruction. */
static long raw_syscall(long nr, long a0, uintptr_t *after)
{
	long ret;
	register long rdi __asm__("rdi") = a0;
	__asm__ volatile("syscall\n1:\n\tlea 1b(%%rip), %1"
			 : "=a"(ret), "=r"(*after)
			 : "0"(nr), "r"(rdi)
			 : "rcx", "r11", "memory");
	return ret;
}

TEST(trap_siginfo)
{
	install_handler();
	lt_ret_for(SYS_getppid, SECCOMP_RET_TRAP | 0x1234);
	uintptr_t after;
	long r = raw_syscall(SYS_getppid, 0, &after);
	CHECK_EQ(hits, 1);
	CHECK_EQ(got.si_signo, SIGSYS);
	CHECK_EQ(got.si_code, 1); /* SYS_SECCOMP */
	CHECK_EQ(got.si_errno, 0x1234);
	CHECK_EQ(got.si_syscall, SYS_getppid);
	CHECK_EQ(got.si_arch, AUDIT_ARCH_X86_64);
	CHECK_EQ((uintptr_t)got.si_call_addr, after);
	/* The handler sees the number where the result goes; so does the caller. */
	CHECK_EQ(got_rax, SYS_getppid);
	CHECK_EQ(r, SYS_getppid);
}

TEST(trap_call_not_run)
{
	int p[2];
	REQUIRE_OK(pipe2(p, O_NONBLOCK));
	install_handler();
	lt_ret_for(SYS_write, SECCOMP_RET_TRAP);
	uintptr_t after;
	long r;
	{
		register long rsi __asm__("rsi") = (long)"x";
		register long rdx __asm__("rdx") = 1;
		register long rdi __asm__("rdi") = p[1];
		__asm__ volatile("syscall\n1:\n\tlea 1b(%%rip), %1"
				 : "=a"(r), "=r"(after)
				 : "0"((long)SYS_write), "r"(rdi), "r"(rsi), "r"(rdx)
				 : "rcx", "r11", "memory");
	}
	CHECK_EQ(hits, 1);
	CHECK_EQ(got.si_errno, 0);
	CHECK_EQ(r, SYS_write);
	char c;
	CHECK_ERR(read(p[0], &c, 1), EAGAIN);
}

TEST(trap_each_call)
{
	install_handler();
	lt_ret_for(SYS_getppid, SECCOMP_RET_TRAP | 7);
	for (int i = 0; i < 5; i++)
		syscall(SYS_getppid);
	CHECK_EQ(hits, 5);
	CHECK_EQ(got.si_errno, 7);
	/* Other calls go through. */
	CHECK_EQ(syscall(SYS_getpid), getpid());
	CHECK_EQ(hits, 5);
}

TEST(trap_args_visible_to_filter)
{
	install_handler();
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, LT_NR_OFF),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, LT_ARG_OFF(0)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 42, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP | 42),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	REQUIRE_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	REQUIRE_OK(LT_FILTER(f));
	CHECK_EQ(syscall(SYS_getppid, 41), getppid());
	CHECK_EQ(hits, 0);
	CHECK_EQ(syscall(SYS_getppid, 42), SYS_getppid);
	CHECK_EQ(hits, 1);
	CHECK_EQ(got.si_errno, 42);
}

static void no_core(void)
{
	struct rlimit rl = {0, 0};
	setrlimit(RLIMIT_CORE, &rl);
}

static void trap_blocked(void)
{
	no_core();
	install_handler();
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGSYS);
	sigprocmask(SIG_BLOCK, &s, NULL);
	lt_ret_for(SYS_getppid, SECCOMP_RET_TRAP);
	syscall(SYS_getppid);
	_exit(3);
}

TEST(trap_blocked_sigsys_kills)
{
	CHECK_EQ(lt_child_status(trap_blocked), 128 + SIGSYS);
}

static void trap_ignored(void)
{
	no_core();
	signal(SIGSYS, SIG_IGN);
	lt_ret_for(SYS_getppid, SECCOMP_RET_TRAP);
	syscall(SYS_getppid);
	_exit(3);
}

TEST(trap_ignored_sigsys_kills)
{
	CHECK_EQ(lt_child_status(trap_ignored), 128 + SIGSYS);
}

static void trap_default(void)
{
	no_core();
	lt_ret_for(SYS_getppid, SECCOMP_RET_TRAP);
	syscall(SYS_getppid);
	_exit(3);
}

TEST(trap_default_action_kills)
{
	CHECK_EQ(lt_child_status(trap_default), 128 + SIGSYS);
}

TEST(trap_wins_over_errno)
{
	install_handler();
	lt_ret_for(SYS_getppid, SECCOMP_RET_ERRNO | EPERM);
	lt_ret_for(SYS_getppid, SECCOMP_RET_TRAP | 3);
	lt_ret_for(SYS_getppid, SECCOMP_RET_LOG);
	CHECK_EQ(syscall(SYS_getppid), SYS_getppid);
	CHECK_EQ(hits, 1);
	CHECK_EQ(got.si_errno, 3);
}

TEST(errno_wins_over_allow_newest_first)
{
	lt_ret_for(SYS_getppid, SECCOMP_RET_ERRNO | 1);
	lt_ret_for(SYS_getppid, SECCOMP_RET_ERRNO | 2);
	/* Equal actions: the newest filter's data. */
	CHECK_ERR(syscall(SYS_getppid), 2);
	lt_ret_for(SYS_getppid, SECCOMP_RET_ALLOW);
	CHECK_ERR(syscall(SYS_getppid), 2);
}
