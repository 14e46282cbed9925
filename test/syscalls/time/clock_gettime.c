/* clock_gettime for every clock: validity, monotonicity, relations between
 * clocks, CPU clocks, errors. */
#include "lt.h"

#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>

static int64_t ns(struct timespec ts)
{
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* raw_gettime calls the system call, bypassing the vDSO. */
static int raw_gettime(clockid_t id, struct timespec *ts)
{
	return syscall(SYS_clock_gettime, id, ts);
}

static int64_t raw_ns(clockid_t id)
{
	struct timespec ts = {-1, -1};
	if (raw_gettime(id, &ts) != 0)
		return -1;
	return ns(ts);
}

static void burn_cpu(int64_t want_ns)
{
	struct timespec a, b;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	do
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	while (ns(b) - ns(a) < want_ns);
}

static const clockid_t all_clocks[] = {
	CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW,
	CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME,
	CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID,
};

TEST(every_clock_valid_timespec)
{
	for (size_t i = 0; i < sizeof(all_clocks) / sizeof(all_clocks[0]); i++) {
		struct timespec ts = {-1, -1};
		if (raw_gettime(all_clocks[i], &ts) != 0) {
			FAIL("clock %d: errno %d", all_clocks[i], errno);
			continue;
		}
		if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
			FAIL("clock %d: %ld.%09ld", all_clocks[i], (long)ts.tv_sec, ts.tv_nsec);
	}
}

TEST(every_clock_via_libc)
{
	for (size_t i = 0; i < sizeof(all_clocks) / sizeof(all_clocks[0]); i++) {
		struct timespec ts = {-1, -1};
		CHECK_OK(clock_gettime(all_clocks[i], &ts));
		CHECK_GE(ts.tv_nsec, 0);
		CHECK_LT(ts.tv_nsec, 1000000000);
	}
}

TEST(monotonic_clocks_never_go_back)
{
	clockid_t mono[] = {CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME,
			    CLOCK_MONOTONIC_COARSE, CLOCK_PROCESS_CPUTIME_ID,
			    CLOCK_THREAD_CPUTIME_ID};
	for (size_t c = 0; c < sizeof(mono) / sizeof(mono[0]); c++) {
		int64_t prev = raw_ns(mono[c]);
		for (int i = 0; i < 2000; i++) {
			struct timespec ts;
			clock_gettime(mono[c], &ts);
			int64_t now = ns(ts);
			if (now < prev) {
				FAIL("clock %d went back: %lld < %lld", mono[c],
				     (long long)now, (long long)prev);
				break;
			}
			prev = now;
		}
	}
}

TEST(monotonic_advances_across_sleep)
{
	int64_t a = raw_ns(CLOCK_MONOTONIC);
	usleep(20000);
	int64_t b = raw_ns(CLOCK_MONOTONIC);
	CHECK_GE(b - a, 20000000);
}

TEST(boottime_not_behind_monotonic)
{
	int64_t m = raw_ns(CLOCK_MONOTONIC);
	int64_t b = raw_ns(CLOCK_BOOTTIME);
	CHECK_GE(b, m);
}

TEST(realtime_is_plausible)
{
	struct timespec ts;
	REQUIRE_OK(raw_gettime(CLOCK_REALTIME, &ts));
	CHECK_GT(ts.tv_sec, 1577836800); /* after 2020 */
	time_t t = time(NULL);
	CHECK_LE(ts.tv_sec, t);
	CHECK_GE(ts.tv_sec + 2, t);
}

TEST(coarse_close_to_fine)
{
	/* Coarse clocks lag by at most a tick or so: allow a second. */
	int64_t r = raw_ns(CLOCK_REALTIME), rc = raw_ns(CLOCK_REALTIME_COARSE);
	CHECK_LT(rc - r, 1000000000);
	CHECK_LT(r - rc, 1000000000);
	int64_t m = raw_ns(CLOCK_MONOTONIC), mc = raw_ns(CLOCK_MONOTONIC_COARSE);
	CHECK_LT(mc - m, 1000000000);
	CHECK_LT(m - mc, 1000000000);
}

TEST(process_cputime_grows_with_work)
{
	int64_t a = raw_ns(CLOCK_PROCESS_CPUTIME_ID);
	burn_cpu(50000000);
	int64_t b = raw_ns(CLOCK_PROCESS_CPUTIME_ID);
	CHECK_GE(b - a, 50000000);
}

TEST(thread_cputime_not_above_process)
{
	burn_cpu(10000000);
	int64_t t = raw_ns(CLOCK_THREAD_CPUTIME_ID);
	int64_t p = raw_ns(CLOCK_PROCESS_CPUTIME_ID);
	CHECK_GE(t, 10000000);
	CHECK_LE(t, p);
}

TEST(cputime_does_not_grow_while_sleeping)
{
	int64_t a = raw_ns(CLOCK_PROCESS_CPUTIME_ID);
	usleep(200000);
	int64_t b = raw_ns(CLOCK_PROCESS_CPUTIME_ID);
	CHECK_LT(b - a, 100000000);
}

TEST(invalid_clocks_einval)
{
	struct timespec ts;
	CHECK_ERR(raw_gettime(12345, &ts), EINVAL);
	CHECK_ERR(raw_gettime(-1000, &ts), EINVAL); /* no such pid's clock */
	CHECK_ERR(raw_gettime(16, &ts), EINVAL);
	CHECK_ERR(clock_gettime(12345, &ts), EINVAL);
}

TEST(bad_pointer_efault)
{
	CHECK_ERR(raw_gettime(CLOCK_REALTIME, (void *)1), EFAULT);
	CHECK_ERR(raw_gettime(CLOCK_MONOTONIC, (void *)1), EFAULT);
	CHECK_ERR(raw_gettime(CLOCK_PROCESS_CPUTIME_ID, (void *)1), EFAULT);
}

TEST(tai_clock)
{
	struct timespec ts;
	CHECK_OK(raw_gettime(CLOCK_TAI, &ts));
	CHECK_GE(ns(ts), raw_ns(CLOCK_REALTIME) - 1000000000LL);
}

TEST(child_cputime_starts_fresh)
{
	/*
	 * A child that inherited the parent's time would read at least 200 ms;
	 * the bound leaves room for a loaded machine, where the sandbox counts
	 * the time its stub thread waits for a CPU as user time.
	 */
	burn_cpu(200000000);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(raw_ns(CLOCK_PROCESS_CPUTIME_ID) < 100000000 ? 0 : 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
}
