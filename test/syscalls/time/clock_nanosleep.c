/* clock_nanosleep: relative and absolute sleeps on each clock, errors
 * (returned, not in errno), remaining time. */
#include "lt.h"

#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

static int64_t ns_of(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static struct timespec ts_of(int64_t ns)
{
	struct timespec ts = {ns / 1000000000LL, ns % 1000000000LL};
	return ts;
}

TEST(relative_monotonic)
{
	struct timespec req = {0, 30000000};
	int64_t t0 = ns_of(CLOCK_MONOTONIC);
	CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL), 0);
	CHECK_GE(ns_of(CLOCK_MONOTONIC) - t0, 30000000);
}

TEST(relative_realtime_and_boottime)
{
	struct timespec req = {0, 10000000};
	int64_t t0 = ns_of(CLOCK_MONOTONIC);
	CHECK_EQ(clock_nanosleep(CLOCK_REALTIME, 0, &req, NULL), 0);
	CHECK_EQ(clock_nanosleep(CLOCK_BOOTTIME, 0, &req, NULL), 0);
	CHECK_GE(ns_of(CLOCK_MONOTONIC) - t0, 20000000);
}

TEST(absolute_monotonic)
{
	int64_t target = ns_of(CLOCK_MONOTONIC) + 40000000;
	struct timespec ts = ts_of(target);
	CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL), 0);
	CHECK_GE(ns_of(CLOCK_MONOTONIC), target);
}

TEST(absolute_realtime)
{
	int64_t target = ns_of(CLOCK_REALTIME) + 40000000;
	struct timespec ts = ts_of(target);
	CHECK_EQ(clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL), 0);
	CHECK_GE(ns_of(CLOCK_REALTIME), target);
}

TEST(absolute_boottime)
{
	int64_t target = ns_of(CLOCK_BOOTTIME) + 20000000;
	struct timespec ts = ts_of(target);
	CHECK_EQ(clock_nanosleep(CLOCK_BOOTTIME, TIMER_ABSTIME, &ts, NULL), 0);
	CHECK_GE(ns_of(CLOCK_BOOTTIME), target);
}

TEST(absolute_in_past_returns_at_once)
{
	struct timespec ts = {1, 0};
	int64_t t0 = ns_of(CLOCK_MONOTONIC);
	CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL), 0);
	CHECK_EQ(clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL), 0);
	CHECK_LT(ns_of(CLOCK_MONOTONIC) - t0, 5000000000LL);
}

TEST(bad_nsec_einval_returned)
{
	struct timespec req = {0, 1000000000};
	CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL), EINVAL);
	req.tv_nsec = -5;
	CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &req, NULL), EINVAL);
	req.tv_sec = -1;
	req.tv_nsec = 0;
	CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL), EINVAL);
}

TEST(bad_clock_einval)
{
	struct timespec req = {0, 1000};
	CHECK_EQ(clock_nanosleep(12345, 0, &req, NULL), EINVAL);
	/* The calling thread's CPU clock cannot be slept on. */
	CHECK_EQ(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &req, NULL), EINVAL);
	/* Raw system call: the error comes back in errno. */
	CHECK_ERR(syscall(SYS_clock_nanosleep, 12345, 0, &req, NULL), EINVAL);
}

TEST(unsupported_clocks)
{
	struct timespec req = {0, 1000};
	CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC_RAW, 0, &req, NULL), ENOTSUP);
	CHECK_EQ(clock_nanosleep(CLOCK_REALTIME_COARSE, 0, &req, NULL), ENOTSUP);
	CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC_COARSE, 0, &req, NULL), ENOTSUP);
}

TEST(bad_pointer_efault)
{
	CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, 0, (void *)1, NULL), EFAULT);
}

static volatile sig_atomic_t hits;
static void handler(int sig)
{
	(void)sig;
	hits++;
}

TEST(relative_interrupted_remaining)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	REQUIRE_OK(sigaction(SIGALRM, &sa, NULL));
	struct itimerval it = {.it_value = {0, 50000}};
	REQUIRE_OK(setitimer(ITIMER_REAL, &it, NULL));
	struct timespec req = {3, 0}, rem = {-1, -1};
	CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &rem), EINTR);
	CHECK_EQ(hits, 1);
	CHECK_LT(rem.tv_sec, 3);
	CHECK_GE(rem.tv_sec, 0);
	CHECK(rem.tv_sec > 0 || rem.tv_nsec > 0);
}

TEST(absolute_interrupted_rem_untouched)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	REQUIRE_OK(sigaction(SIGALRM, &sa, NULL));
	struct itimerval it = {.it_value = {0, 50000}};
	REQUIRE_OK(setitimer(ITIMER_REAL, &it, NULL));
	struct timespec ts = ts_of(ns_of(CLOCK_MONOTONIC) + 3000000000LL), rem = {77, 77};
	CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, &rem), EINTR);
	CHECK_EQ(rem.tv_sec, 77);
	CHECK_EQ(rem.tv_nsec, 77);
}

TEST(process_cputime_clock_past_returns)
{
	struct timespec ts = {0, 0};
	CHECK_EQ(clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, TIMER_ABSTIME, &ts, NULL), 0);
}

static void *spin(void *arg)
{
	volatile int *stop = arg;
	while (!*stop)
		;
	return NULL;
}

TEST(process_cputime_clock_waits_for_cpu)
{
	/* Another thread burns CPU; we sleep until the process has used
	 * 50 ms more of it. */
	volatile int stop = 0;
	pthread_t th;
	REQUIRE_EQ(pthread_create(&th, NULL, spin, (void *)&stop), 0);
	int64_t c0 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
	struct timespec req = {0, 50000000};
	CHECK_EQ(clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, &req, NULL), 0);
	CHECK_GE(ns_of(CLOCK_PROCESS_CPUTIME_ID) - c0, 50000000);
	stop = 1;
	pthread_join(th, NULL);
}

TEST(own_thread_cpu_clock_einval)
{
	clockid_t cid;
	REQUIRE_EQ(pthread_getcpuclockid(pthread_self(), &cid), 0);
	struct timespec req = {0, 1000};
	CHECK_EQ(clock_nanosleep(cid, 0, &req, NULL), EINVAL);
}

/* abs_never_early sleeps many times until a deadline a fraction of a
 * millisecond ahead on clk, and checks after each that clk, read in the
 * vDSO as programs do, has reached it: Linux never ends an absolute sleep
 * before its clock reaches the deadline. */
static void abs_never_early(clockid_t clk)
{
	for (int i = 0; i < 300; i++) {
		int64_t target = ns_of(clk) + 20000 + (i * 37 % 500) * 1000;
		struct timespec ts = ts_of(target);
		REQUIRE_EQ(clock_nanosleep(clk, TIMER_ABSTIME, &ts, NULL), 0);
		int64_t now = ns_of(clk);
		if (now < target) {
			FAIL("sleep %d on clock %d ended %lld ns before its deadline", i, (int)clk,
			     (long long)(target - now));
			return;
		}
	}
}

TEST(absolute_never_early_monotonic)
{
	abs_never_early(CLOCK_MONOTONIC);
}

TEST(absolute_never_early_realtime)
{
	abs_never_early(CLOCK_REALTIME);
}

TEST(absolute_never_early_boottime)
{
	abs_never_early(CLOCK_BOOTTIME);
}

/* A relative sleep lasts at least its length on CLOCK_MONOTONIC, and on
 * CLOCK_REALTIME's and CLOCK_BOOTTIME's too (none is stepped here). */
TEST(relative_never_short)
{
	clockid_t ids[] = {CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME};
	for (int i = 0; i < 300; i++) {
		clockid_t clk = ids[i % 3];
		int64_t len = 20000 + (i * 37 % 500) * 1000;
		struct timespec req = ts_of(len);
		int64_t t0 = ns_of(clk);
		REQUIRE_EQ(clock_nanosleep(clk, 0, &req, NULL), 0);
		int64_t slept = ns_of(clk) - t0;
		if (slept < len) {
			FAIL("sleep %d of %lld ns on clock %d lasted %lld ns", i, (long long)len, (int)clk,
			     (long long)slept);
			return;
		}
	}
}
