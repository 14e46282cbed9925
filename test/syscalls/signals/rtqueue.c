/* Queued signals: sigqueue and rt_sigqueueinfo/rt_tgsigqueueinfo, real-time
 * ordering, counts and values. */
#include "lt.h"

#include <stdint.h>
#include <sys/syscall.h>

static sigset_t block_only(int a, int b)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, a);
	if (b)
		sigaddset(&s, b);
	sigprocmask(SIG_BLOCK, &s, NULL);
	return s;
}

static const struct timespec zero_ts;

TEST(values_fifo_per_signal)
{
	sigset_t s = block_only(SIGRTMIN, 0);
	for (int i = 0; i < 8; i++) {
		union sigval v = {.sival_int = 100 + i};
		REQUIRE_OK(sigqueue(getpid(), SIGRTMIN, v));
	}
	for (int i = 0; i < 8; i++) {
		siginfo_t si;
		REQUIRE_EQ(sigtimedwait(&s, &si, &zero_ts), SIGRTMIN);
		CHECK_EQ(si.si_value.sival_int, 100 + i);
		CHECK_EQ(si.si_code, SI_QUEUE);
	}
	CHECK_ERR(sigtimedwait(&s, NULL, &zero_ts), EAGAIN);
}

TEST(count_of_queued_instances)
{
	sigset_t s = block_only(SIGRTMAX, 0);
	for (int i = 0; i < 100; i++)
		REQUIRE_OK(sigqueue(getpid(), SIGRTMAX, (union sigval){.sival_int = i}));
	int n = 0;
	while (sigtimedwait(&s, NULL, &zero_ts) == SIGRTMAX)
		n++;
	CHECK_EQ(n, 100);
	CHECK_EQ(errno, EAGAIN);
}

TEST(lowest_signal_first)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGRTMIN + 1);
	sigaddset(&s, SIGRTMIN + 2);
	sigaddset(&s, SIGUSR1);
	REQUIRE_OK(sigprocmask(SIG_BLOCK, &s, NULL));
	REQUIRE_OK(sigqueue(getpid(), SIGRTMIN + 2, (union sigval){.sival_int = 2}));
	REQUIRE_OK(sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = 1}));
	REQUIRE_OK(kill(getpid(), SIGUSR1));
	CHECK_EQ(sigtimedwait(&s, NULL, &zero_ts), SIGUSR1);
	CHECK_EQ(sigtimedwait(&s, NULL, &zero_ts), SIGRTMIN + 1);
	CHECK_EQ(sigtimedwait(&s, NULL, &zero_ts), SIGRTMIN + 2);
}

static volatile int order[8];
static volatile sig_atomic_t norder;

static void record(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (norder < 8)
		order[norder++] = sig * 1000 + si->si_value.sival_int;
}

/*
 * Unblocking several signals at once sets up one frame per deliverable
 * signal before returning to user mode (lowest first, each blocked by its
 * own handler's mask), so the last frame set up runs first: RTMIN+1 (8) is
 * set up, then RTMIN+3 (7) above it; RTMIN+1 (9) waits until the first
 * RTMIN+1 handler returns.
 */
TEST(handlers_nest_in_signal_order)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = record;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	REQUIRE_OK(sigaction(SIGRTMIN + 1, &sa, NULL));
	REQUIRE_OK(sigaction(SIGRTMIN + 3, &sa, NULL));
	sigset_t s = block_only(SIGRTMIN + 1, SIGRTMIN + 3);
	REQUIRE_OK(sigqueue(getpid(), SIGRTMIN + 3, (union sigval){.sival_int = 7}));
	REQUIRE_OK(sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = 8}));
	REQUIRE_OK(sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = 9}));
	REQUIRE_OK(sigprocmask(SIG_UNBLOCK, &s, NULL));
	REQUIRE_EQ(norder, 3);
	CHECK_EQ(order[0], (SIGRTMIN + 3) * 1000 + 7);
	CHECK_EQ(order[1], (SIGRTMIN + 1) * 1000 + 8);
	CHECK_EQ(order[2], (SIGRTMIN + 1) * 1000 + 9);
}

TEST(pointer_value_round_trip)
{
	sigset_t s = block_only(SIGRTMIN, 0);
	void *p = (void *)(uintptr_t)0x123456789abcdef0ULL;
	REQUIRE_OK(sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_ptr = p}));
	siginfo_t si;
	REQUIRE_EQ(sigtimedwait(&s, &si, &zero_ts), SIGRTMIN);
	CHECK_EQ(si.si_value.sival_ptr, p);
	CHECK_EQ(si.si_pid, getpid());
	CHECK_EQ(si.si_uid, getuid());
}

TEST(standard_signal_sigqueue_coalesces)
{
	sigset_t s = block_only(SIGUSR2, 0);
	REQUIRE_OK(sigqueue(getpid(), SIGUSR2, (union sigval){.sival_int = 1}));
	REQUIRE_OK(sigqueue(getpid(), SIGUSR2, (union sigval){.sival_int = 2}));
	siginfo_t si;
	REQUIRE_EQ(sigtimedwait(&s, &si, &zero_ts), SIGUSR2);
	CHECK_EQ(si.si_value.sival_int, 1); /* the first one stays */
	CHECK_ERR(sigtimedwait(&s, NULL, &zero_ts), EAGAIN);
}

TEST(sigqueue_to_child_blocked_before_fork)
{
	sigset_t s = block_only(SIGRTMIN + 4, 0);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		siginfo_t a, b;
		if (sigwaitinfo(&s, &a) != SIGRTMIN + 4 || sigwaitinfo(&s, &b) != SIGRTMIN + 4)
			_exit(1);
		if (a.si_value.sival_int != 11 || b.si_value.sival_int != 22)
			_exit(2);
		if (a.si_pid != getppid() || a.si_code != SI_QUEUE)
			_exit(3);
		_exit(0);
	}
	REQUIRE_OK(sigqueue(pid, SIGRTMIN + 4, (union sigval){.sival_int = 11}));
	REQUIRE_OK(sigqueue(pid, SIGRTMIN + 4, (union sigval){.sival_int = 22}));
	CHECK_EQ(lt_wait_exit(pid), 0);
}

static siginfo_t make_info(int sig, int code, int val)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = sig;
	si.si_code = code;
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = val;
	return si;
}

TEST(rt_sigqueueinfo_self_any_code)
{
	sigset_t s = block_only(SIGRTMIN, 0);
	siginfo_t si = make_info(SIGRTMIN, SI_USER, 5), got;
	/* To itself a process may claim any si_code. */
	REQUIRE_OK(syscall(SYS_rt_sigqueueinfo, getpid(), SIGRTMIN, &si));
	REQUIRE_EQ(sigtimedwait(&s, &got, &zero_ts), SIGRTMIN);
	CHECK_EQ(got.si_code, SI_USER);
	si = make_info(SIGRTMIN, -42, 6);
	REQUIRE_OK(syscall(SYS_rt_sigqueueinfo, getpid(), SIGRTMIN, &si));
	REQUIRE_EQ(sigtimedwait(&s, &got, &zero_ts), SIGRTMIN);
	CHECK_EQ(got.si_code, -42);
	CHECK_EQ(got.si_value.sival_int, 6);
}

TEST(rt_sigqueueinfo_signo_from_argument)
{
	sigset_t s = block_only(SIGRTMIN + 1, 0);
	siginfo_t si = make_info(SIGUSR1, SI_QUEUE, 3), got;
	REQUIRE_OK(syscall(SYS_rt_sigqueueinfo, getpid(), SIGRTMIN + 1, &si));
	REQUIRE_EQ(sigtimedwait(&s, &got, &zero_ts), SIGRTMIN + 1);
	CHECK_EQ(got.si_signo, SIGRTMIN + 1);
}

TEST(rt_sigqueueinfo_other_kernel_code_eperm)
{
	sigset_t s = block_only(SIGRTMIN, 0);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		sigwaitinfo(&s, NULL);
		_exit(0);
	}
	siginfo_t si = make_info(SIGRTMIN, SI_USER, 0);
	CHECK_ERR(syscall(SYS_rt_sigqueueinfo, pid, SIGRTMIN, &si), EPERM);
	si = make_info(SIGRTMIN, SI_KERNEL, 0);
	CHECK_ERR(syscall(SYS_rt_sigqueueinfo, pid, SIGRTMIN, &si), EPERM);
	si = make_info(SIGRTMIN, SI_TKILL, 0);
	CHECK_ERR(syscall(SYS_rt_sigqueueinfo, pid, SIGRTMIN, &si), EPERM);
	si = make_info(SIGRTMIN, SI_QUEUE, 0);
	CHECK_OK(syscall(SYS_rt_sigqueueinfo, pid, SIGRTMIN, &si));
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(rt_sigqueueinfo_errors)
{
	siginfo_t si = make_info(SIGRTMIN, SI_QUEUE, 0);
	CHECK_ERR(syscall(SYS_rt_sigqueueinfo, getpid(), 65, &si), EINVAL);
	CHECK_ERR(syscall(SYS_rt_sigqueueinfo, getpid(), -1, &si), EINVAL);
	CHECK_ERR(syscall(SYS_rt_sigqueueinfo, getpid(), SIGRTMIN, (void *)1), EFAULT);
	CHECK_ERR(syscall(SYS_rt_sigqueueinfo, 999999, SIGRTMIN, &si), ESRCH);
	CHECK_ERR(sigqueue(999999, SIGRTMIN, (union sigval){0}), ESRCH);
	CHECK_ERR(sigqueue(getpid(), 65, (union sigval){0}), EINVAL);
	/* Signal 0 only checks that the process exists. */
	CHECK_OK(sigqueue(getpid(), 0, (union sigval){0}));
}

TEST(rt_tgsigqueueinfo_to_thread)
{
	sigset_t s = block_only(SIGRTMIN + 2, 0);
	siginfo_t si = make_info(SIGRTMIN + 2, SI_QUEUE, 77), got;
	REQUIRE_OK(syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), SIGRTMIN + 2, &si));
	REQUIRE_EQ(sigtimedwait(&s, &got, &zero_ts), SIGRTMIN + 2);
	CHECK_EQ(got.si_value.sival_int, 77);
}

TEST(rt_tgsigqueueinfo_errors)
{
	siginfo_t si = make_info(SIGRTMIN, SI_QUEUE, 0);
	CHECK_ERR(syscall(SYS_rt_tgsigqueueinfo, 0, gettid(), SIGRTMIN, &si), EINVAL);
	CHECK_ERR(syscall(SYS_rt_tgsigqueueinfo, getpid(), 0, SIGRTMIN, &si), EINVAL);
	CHECK_ERR(syscall(SYS_rt_tgsigqueueinfo, -1, gettid(), SIGRTMIN, &si), EINVAL);
	CHECK_ERR(syscall(SYS_rt_tgsigqueueinfo, getpid() + 1000, gettid(), SIGRTMIN, &si), ESRCH);
	CHECK_ERR(syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), 65, &si), EINVAL);
	CHECK_ERR(syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), SIGRTMIN, (void *)1), EFAULT);
}
