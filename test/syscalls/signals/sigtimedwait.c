/* sigtimedwait and sigwaitinfo: immediate, timed and interrupted waits. */
#include "lt.h"

#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>

static sigset_t block(int sig)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	sigprocmask(SIG_BLOCK, &s, NULL);
	return s;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static const struct timespec zero_ts;

TEST(zero_timeout_eagain)
{
	sigset_t s = block(SIGUSR1);
	CHECK_ERR(sigtimedwait(&s, NULL, &zero_ts), EAGAIN);
}

TEST(timeout_elapses)
{
	sigset_t s = block(SIGUSR1);
	struct timespec ts = {.tv_nsec = 50 * 1000 * 1000};
	int64_t t0 = now_ns();
	CHECK_ERR(sigtimedwait(&s, NULL, &ts), EAGAIN);
	CHECK_GE(now_ns() - t0, 50 * 1000 * 1000);
}

/* The timeout lasts at least its length on CLOCK_MONOTONIC, time after
 * time. */
TEST(timeout_never_short)
{
	sigset_t s = block(SIGUSR1);
	for (int i = 0; i < 300; i++) {
		long len = 20000 + (i * 37 % 500) * 1000;
		struct timespec ts = {0, len};
		int64_t t0 = now_ns();
		REQUIRE_ERR(sigtimedwait(&s, NULL, &ts), EAGAIN);
		int64_t took = now_ns() - t0;
		if (took < len) {
			FAIL("timeout %d of %ld ns ended after %lld ns", i, len, (long long)took);
			break;
		}
	}
}

TEST(pending_returned_immediately)
{
	sigset_t s = block(SIGUSR1);
	REQUIRE_OK(kill(getpid(), SIGUSR1));
	siginfo_t si;
	memset(&si, 0xff, sizeof(si));
	CHECK_EQ(sigtimedwait(&s, &si, &zero_ts), SIGUSR1);
	CHECK_EQ(si.si_signo, SIGUSR1);
	CHECK_EQ(si.si_code, SI_USER);
	CHECK_EQ(si.si_pid, getpid());
	CHECK_EQ(si.si_uid, getuid());
	/* Consumed. */
	sigset_t p;
	sigpending(&p);
	CHECK_EQ(sigismember(&p, SIGUSR1), 0);
}

TEST(null_timeout_waits_for_child_signal)
{
	sigset_t s = block(SIGUSR2);
	pid_t parent = getpid(), pid = REQUIRE_OK(fork());
	if (pid == 0) {
		lt_wait_sleeping(parent, parent);
		kill(parent, SIGUSR2);
		_exit(0);
	}
	siginfo_t si;
	CHECK_EQ(sigwaitinfo(&s, &si), SIGUSR2);
	CHECK_EQ(si.si_pid, pid);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(signal_not_in_set_stays_pending)
{
	sigset_t s = block(SIGUSR1);
	block(SIGUSR2);
	REQUIRE_OK(raise(SIGUSR2));
	CHECK_ERR(sigtimedwait(&s, NULL, &zero_ts), EAGAIN);
	sigset_t p;
	sigpending(&p);
	CHECK_EQ(sigismember(&p, SIGUSR2), 1);
}

static volatile sig_atomic_t hits;
static void handler(int sig)
{
	(void)sig;
	hits++;
}

TEST(interrupted_by_handled_signal_eintr)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART; /* sigtimedwait is never restarted */
	REQUIRE_OK(sigaction(SIGUSR2, &sa, NULL));
	sigset_t s = block(SIGUSR1);
	pid_t parent = getpid(), pid = REQUIRE_OK(fork());
	if (pid == 0) {
		lt_wait_sleeping(parent, parent);
		kill(parent, SIGUSR2);
		_exit(0);
	}
	struct timespec ts = {.tv_sec = 10};
	CHECK_ERR(sigtimedwait(&s, NULL, &ts), EINTR);
	CHECK_EQ(hits, 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(unblocked_signal_in_set_is_taken)
{
	/* A signal in the set need not be blocked for sigtimedwait to take it
	 * when it arrives during the wait. */
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	REQUIRE_OK(sigaction(SIGUSR1, &sa, NULL));
	pid_t parent = getpid(), pid = REQUIRE_OK(fork());
	if (pid == 0) {
		lt_wait_sleeping(parent, parent);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	struct timespec ts = {.tv_sec = 10};
	CHECK_EQ(sigtimedwait(&s, NULL, &ts), SIGUSR1);
	CHECK_EQ(hits, 0);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(bad_timeout_einval)
{
	sigset_t s = block(SIGUSR1);
	struct timespec ts = {.tv_nsec = 1000000000};
	CHECK_ERR(sigtimedwait(&s, NULL, &ts), EINVAL);
	ts.tv_nsec = -1;
	CHECK_ERR(sigtimedwait(&s, NULL, &ts), EINVAL);
	ts.tv_sec = -1;
	ts.tv_nsec = 0;
	CHECK_ERR(sigtimedwait(&s, NULL, &ts), EINVAL);
}

TEST(bad_args)
{
	unsigned long long set = 1ULL << (SIGUSR1 - 1);
	CHECK_ERR(syscall(SYS_rt_sigtimedwait, &set, NULL, &zero_ts, 4), EINVAL);
	CHECK_ERR(syscall(SYS_rt_sigtimedwait, (void *)1, NULL, &zero_ts, 8), EFAULT);
	CHECK_ERR(syscall(SYS_rt_sigtimedwait, &set, NULL, (void *)1, 8), EFAULT);
}

TEST(sigkill_in_set_not_waited)
{
	unsigned long long set = 1ULL << (SIGKILL - 1);
	CHECK_ERR(syscall(SYS_rt_sigtimedwait, &set, NULL, &zero_ts, 8), EAGAIN);
}

TEST(rt_value_and_thread_pending)
{
	sigset_t s = block(SIGRTMIN);
	REQUIRE_OK(sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = 9}));
	siginfo_t si;
	REQUIRE_EQ(sigtimedwait(&s, &si, &zero_ts), SIGRTMIN);
	CHECK_EQ(si.si_value.sival_int, 9);
	/* A thread-directed signal is found too. */
	REQUIRE_OK(syscall(SYS_tgkill, getpid(), gettid(), SIGRTMIN));
	/* The raw call: glibc's sigtimedwait reports SI_TKILL as SI_USER. */
	REQUIRE_EQ(syscall(SYS_rt_sigtimedwait, &s, &si, &zero_ts, 8), SIGRTMIN);
	CHECK_EQ(si.si_code, SI_TKILL);
}

TEST(sigwait_returns_number)
{
	sigset_t s = block(SIGHUP);
	REQUIRE_OK(raise(SIGHUP));
	int sig = 0;
	CHECK_EQ(sigwait(&s, &sig), 0);
	CHECK_EQ(sig, SIGHUP);
}
