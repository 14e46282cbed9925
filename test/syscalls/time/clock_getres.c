/* clock_getres: resolutions of every clock and errors. */
#include "lt.h"

#include <sys/syscall.h>
#include <time.h>

TEST(high_resolution_clocks_1ns)
{
	clockid_t ids[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW,
			   CLOCK_BOOTTIME, CLOCK_PROCESS_CPUTIME_ID,
			   CLOCK_THREAD_CPUTIME_ID, CLOCK_TAI};
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct timespec res = {-1, -1};
		CHECK_OK(syscall(SYS_clock_getres, ids[i], &res));
		CHECK_EQ(res.tv_sec, 0);
		CHECK_EQ(res.tv_nsec, 1);
	}
}

TEST(coarse_clocks_tick_resolution)
{
	clockid_t ids[] = {CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE};
	for (size_t i = 0; i < 2; i++) {
		struct timespec res = {-1, -1};
		CHECK_OK(syscall(SYS_clock_getres, ids[i], &res));
		CHECK_EQ(res.tv_sec, 0);
		/* One tick: 1 ms (HZ=1000) to 10 ms (HZ=100). */
		CHECK_GE(res.tv_nsec, 1000000);
		CHECK_LE(res.tv_nsec, 10000000);
	}
	struct timespec a, b;
	syscall(SYS_clock_getres, CLOCK_REALTIME_COARSE, &a);
	syscall(SYS_clock_getres, CLOCK_MONOTONIC_COARSE, &b);
	CHECK_EQ(a.tv_nsec, b.tv_nsec);
}

TEST(null_res_allowed)
{
	CHECK_OK(syscall(SYS_clock_getres, CLOCK_MONOTONIC, NULL));
	CHECK_OK(clock_getres(CLOCK_REALTIME, NULL));
}

TEST(invalid_clock_einval)
{
	struct timespec res;
	CHECK_ERR(syscall(SYS_clock_getres, 12345, &res), EINVAL);
	CHECK_ERR(syscall(SYS_clock_getres, 12345, NULL), EINVAL);
	CHECK_ERR(clock_getres(-1000, &res), EINVAL);
}

TEST(bad_pointer_efault)
{
	CHECK_ERR(syscall(SYS_clock_getres, CLOCK_MONOTONIC, (void *)1), EFAULT);
}

TEST(libc_matches_syscall)
{
	clockid_t ids[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE};
	for (size_t i = 0; i < 3; i++) {
		struct timespec a, b;
		CHECK_OK(clock_getres(ids[i], &a));
		CHECK_OK(syscall(SYS_clock_getres, ids[i], &b));
		CHECK_EQ(a.tv_nsec, b.tv_nsec);
	}
}

TEST(cpu_clock_of_pid_resolution)
{
	clockid_t cid;
	REQUIRE_EQ(clock_getcpuclockid(getpid(), &cid), 0);
	struct timespec res = {-1, -1};
	CHECK_OK(clock_getres(cid, &res));
	CHECK_EQ(res.tv_nsec, 1);
}
