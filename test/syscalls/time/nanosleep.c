/* nanosleep: sleeps at least as asked, argument checks, remaining time. */
#include "lt.h"

#include <stdint.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

TEST(sleeps_at_least_requested)
{
	struct timespec req = {0, 30 * 1000 * 1000};
	int64_t t0 = now_ns();
	CHECK_OK(nanosleep(&req, NULL));
	CHECK_GE(now_ns() - t0, 30 * 1000 * 1000);
}

TEST(sleeps_seconds_and_nanos)
{
	struct timespec req = {1, 1000};
	int64_t t0 = now_ns();
	CHECK_OK(syscall(SYS_nanosleep, &req, NULL));
	CHECK_GE(now_ns() - t0, 1000001000);
}

TEST(zero_returns_at_once)
{
	struct timespec req = {0, 0}, rem = {5, 5};
	CHECK_OK(nanosleep(&req, &rem));
	/* rem is written only on interruption. */
	CHECK_EQ(rem.tv_sec, 5);
}

TEST(nsec_out_of_range_einval)
{
	struct timespec req = {0, 1000000000};
	CHECK_ERR(syscall(SYS_nanosleep, &req, NULL), EINVAL);
	req.tv_nsec = -1;
	CHECK_ERR(syscall(SYS_nanosleep, &req, NULL), EINVAL);
}

TEST(negative_seconds_einval)
{
	struct timespec req = {-1, 0};
	CHECK_ERR(syscall(SYS_nanosleep, &req, NULL), EINVAL);
}

TEST(bad_pointer_efault)
{
	CHECK_ERR(syscall(SYS_nanosleep, (void *)1, NULL), EFAULT);
}

static volatile sig_atomic_t hits;
static void handler(int sig)
{
	(void)sig;
	hits++;
}

TEST(interrupted_writes_remaining)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	REQUIRE_OK(sigaction(SIGALRM, &sa, NULL));
	struct itimerval it = {.it_value = {0, 300000}};
	REQUIRE_OK(setitimer(ITIMER_REAL, &it, NULL));
	struct timespec req = {3, 0}, rem = {-1, -1};
	int64_t t0 = now_ns();
	CHECK_ERR(syscall(SYS_nanosleep, &req, &rem), EINTR);
	int64_t slept = now_ns() - t0;
	CHECK_EQ(hits, 1);
	int64_t left = rem.tv_sec * 1000000000LL + rem.tv_nsec;
	CHECK_GT(left, 0);
	/*
	 * Slept plus left is about the request: never more than asked. The
	 * allowance is for the wake-up and the handler before the clock is read
	 * again (tens of ms on a loaded machine); it stays below the 300 ms
	 * slept, so a rem that ignored the time slept would fail.
	 */
	CHECK_LE(left, 3000000000LL - slept + 150000000);
	CHECK_LT(rem.tv_nsec, 1000000000);
}

TEST(interrupted_bad_rem_efault)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	REQUIRE_OK(sigaction(SIGALRM, &sa, NULL));
	struct itimerval it = {.it_value = {0, 50000}};
	REQUIRE_OK(setitimer(ITIMER_REAL, &it, NULL));
	struct timespec req = {3, 0};
	CHECK_ERR(syscall(SYS_nanosleep, &req, (void *)1), EFAULT);
	CHECK_EQ(hits, 1);
}

TEST(rem_may_alias_req)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	REQUIRE_OK(sigaction(SIGALRM, &sa, NULL));
	struct itimerval it = {.it_value = {0, 50000}};
	REQUIRE_OK(setitimer(ITIMER_REAL, &it, NULL));
	struct timespec ts = {3, 0};
	CHECK_ERR(nanosleep(&ts, &ts), EINTR);
	CHECK_LT(ts.tv_sec, 3);
	/* Sleeping out the rest works. */
	ts.tv_sec = 0;
	ts.tv_nsec = 1000;
	CHECK_OK(nanosleep(&ts, &ts));
}

TEST(usleep_and_sleep_wrappers)
{
	int64_t t0 = now_ns();
	CHECK_OK(usleep(20000));
	CHECK_GE(now_ns() - t0, 20000000);
	CHECK_EQ(sleep(0), 0);
}

TEST(blocked_signal_does_not_interrupt)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGALRM);
	REQUIRE_OK(sigprocmask(SIG_BLOCK, &s, NULL));
	struct itimerval it = {.it_value = {0, 10000}};
	REQUIRE_OK(setitimer(ITIMER_REAL, &it, NULL));
	struct timespec req = {0, 100 * 1000 * 1000};
	int64_t t0 = now_ns();
	CHECK_OK(nanosleep(&req, NULL));
	CHECK_GE(now_ns() - t0, 100 * 1000 * 1000);
	sigset_t p;
	sigpending(&p);
	CHECK_EQ(sigismember(&p, SIGALRM), 1);
}
