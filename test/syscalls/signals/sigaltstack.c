/* sigaltstack: setting, querying, disabling, errors, use by handlers. */
#include "lt.h"

#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

static char stack1[65536] __attribute__((aligned(16)));

TEST(initially_disabled)
{
	stack_t old;
	REQUIRE_OK(sigaltstack(NULL, &old));
	CHECK_EQ(old.ss_flags, SS_DISABLE);
}

TEST(set_and_query)
{
	stack_t ss = {.ss_sp = stack1, .ss_size = sizeof(stack1)}, old;
	REQUIRE_OK(sigaltstack(&ss, &old));
	CHECK_EQ(old.ss_flags, SS_DISABLE);
	REQUIRE_OK(sigaltstack(NULL, &old));
	CHECK_EQ(old.ss_sp, stack1);
	CHECK_EQ(old.ss_size, sizeof(stack1));
	CHECK_EQ(old.ss_flags, 0);
}

TEST(disable)
{
	stack_t ss = {.ss_sp = stack1, .ss_size = sizeof(stack1)}, old;
	REQUIRE_OK(sigaltstack(&ss, NULL));
	stack_t dis = {.ss_flags = SS_DISABLE};
	REQUIRE_OK(sigaltstack(&dis, &old));
	CHECK_EQ(old.ss_sp, stack1);
	REQUIRE_OK(sigaltstack(NULL, &old));
	CHECK_EQ(old.ss_flags, SS_DISABLE);
}

TEST(too_small_enomem)
{
	/* The kernel's MINSIGSTKSZ is 2048 (glibc's may be larger). */
	stack_t ss = {.ss_sp = stack1, .ss_size = 2047};
	CHECK_ERR(sigaltstack(&ss, NULL), ENOMEM);
	ss.ss_size = 2048;
	CHECK_OK(sigaltstack(&ss, NULL));
	ss.ss_size = 0;
	CHECK_ERR(sigaltstack(&ss, NULL), ENOMEM);
	/* Size does not matter when disabling. */
	stack_t dis = {.ss_flags = SS_DISABLE, .ss_size = 1};
	CHECK_OK(sigaltstack(&dis, NULL));
}

TEST(bad_flags_einval)
{
	stack_t ss = {.ss_sp = stack1, .ss_size = sizeof(stack1), .ss_flags = 0x1234};
	CHECK_ERR(sigaltstack(&ss, NULL), EINVAL);
	ss.ss_flags = SS_DISABLE | SS_ONSTACK;
	CHECK_ERR(sigaltstack(&ss, NULL), EINVAL);
}

TEST(ss_onstack_flag_accepted)
{
	/* Old programs pass SS_ONSTACK to mean "enable". */
	stack_t ss = {.ss_sp = stack1, .ss_size = sizeof(stack1), .ss_flags = SS_ONSTACK}, old;
	CHECK_OK(sigaltstack(&ss, NULL));
	REQUIRE_OK(sigaltstack(NULL, &old));
	CHECK_EQ(old.ss_flags, 0);
}

TEST(bad_pointers_efault)
{
	CHECK_ERR(syscall(SYS_sigaltstack, (void *)1, NULL), EFAULT);
	CHECK_ERR(syscall(SYS_sigaltstack, NULL, (void *)1), EFAULT);
}

static volatile sig_atomic_t hits;
static volatile int set_err, query_flags;
static volatile uintptr_t handler_sp;

static void on_stack_handler(int sig)
{
	int local;
	(void)sig;
	handler_sp = (uintptr_t)&local;
	stack_t ss = {.ss_sp = stack1, .ss_size = sizeof(stack1)}, old;
	errno = 0;
	set_err = sigaltstack(&ss, NULL) == 0 ? 0 : errno;
	sigaltstack(NULL, &old);
	query_flags = old.ss_flags;
	hits++;
}

static void install_onstack(void (*fn)(int))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sa.sa_flags = SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
}

TEST(change_while_on_stack_eperm)
{
	stack_t ss = {.ss_sp = stack1, .ss_size = sizeof(stack1)};
	REQUIRE_OK(sigaltstack(&ss, NULL));
	install_onstack(on_stack_handler);
	REQUIRE_OK(raise(SIGUSR1));
	CHECK_EQ(hits, 1);
	CHECK_GE(handler_sp, (uintptr_t)stack1);
	CHECK_LT(handler_sp, (uintptr_t)stack1 + sizeof(stack1));
	CHECK_EQ(set_err, EPERM);
	CHECK_EQ(query_flags, SS_ONSTACK);
	/* Back off the stack it is no longer "on" it. */
	stack_t old;
	REQUIRE_OK(sigaltstack(NULL, &old));
	CHECK_EQ(old.ss_flags, 0);
}

static volatile int nested_on_alt;
static void nesting_handler(int sig)
{
	int local;
	uintptr_t sp = (uintptr_t)&local;
	if (hits++ == 0) {
		handler_sp = sp;
		raise(SIGUSR2);
	} else {
		/* The nested handler stays on the alternate stack, below. */
		nested_on_alt = sp >= (uintptr_t)stack1 && sp < handler_sp;
	}
	(void)sig;
}

TEST(nested_signal_stays_on_altstack)
{
	stack_t ss = {.ss_sp = stack1, .ss_size = sizeof(stack1)};
	REQUIRE_OK(sigaltstack(&ss, NULL));
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = nesting_handler;
	sa.sa_flags = SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	REQUIRE_OK(sigaction(SIGUSR1, &sa, NULL));
	REQUIRE_OK(sigaction(SIGUSR2, &sa, NULL));
	REQUIRE_OK(raise(SIGUSR1));
	CHECK_EQ(hits, 2);
	CHECK_EQ(nested_on_alt, 1);
}

static int overflow(volatile char *p, int n)
{
	volatile char buf[4096];
	buf[0] = *p;
	if (n == 0)
		return buf[0];
	return overflow(buf, n - 1) + buf[1];
}

static void segv_handler(int sig)
{
	(void)sig;
	_exit(42);
}

TEST(stack_overflow_handled_on_altstack)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		stack_t ss = {.ss_sp = stack1, .ss_size = sizeof(stack1)};
		sigaltstack(&ss, NULL);
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = segv_handler;
		sa.sa_flags = SA_ONSTACK;
		sigaction(SIGSEGV, &sa, NULL);
		char c = 0;
		overflow(&c, 1 << 30);
		_exit(0);
	}
	CHECK_EQ(lt_wait_exit(pid), 42);
}

TEST(overflow_without_altstack_kills)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = segv_handler;
		sigaction(SIGSEGV, &sa, NULL);
		char c = 0;
		overflow(&c, 1 << 30);
		_exit(0);
	}
	CHECK_EQ(lt_wait_exit(pid), 128 + SIGSEGV);
}

TEST(altstack_kept_on_fork_cleared_on_exec_probe)
{
	stack_t ss = {.ss_sp = stack1, .ss_size = sizeof(stack1)};
	REQUIRE_OK(sigaltstack(&ss, NULL));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		stack_t old;
		sigaltstack(NULL, &old);
		_exit(old.ss_sp == stack1 && old.ss_flags == 0 ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(autodisarm)
{
	stack_t ss = {.ss_sp = stack1, .ss_size = sizeof(stack1), .ss_flags = SS_AUTODISARM}, old;
	REQUIRE_OK(sigaltstack(&ss, NULL));
	REQUIRE_OK(sigaltstack(NULL, &old));
	CHECK_EQ(old.ss_flags, (int)SS_AUTODISARM);
	install_onstack(on_stack_handler);
	REQUIRE_OK(raise(SIGUSR1));
	CHECK_EQ(hits, 1);
	/* Inside, the stack was disarmed: it could be changed, and it reads
	 * as disabled. */
	CHECK_EQ(set_err, 0);
	/* On return the stack comes back from the frame, without the flag. */
	REQUIRE_OK(sigaltstack(NULL, &old));
	CHECK_EQ(old.ss_sp, stack1);
	CHECK_EQ(old.ss_flags, 0);
}
