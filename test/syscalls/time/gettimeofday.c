/* gettimeofday and time: agreement with CLOCK_REALTIME, NULL arguments,
 * EFAULT, and settimeofday without privilege. */
#include "lt.h"

#include <stdint.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

TEST(gettimeofday_agrees_with_realtime)
{
	struct timespec a, b;
	struct timeval tv;
	REQUIRE_OK(clock_gettime(CLOCK_REALTIME, &a));
	REQUIRE_OK(syscall(SYS_gettimeofday, &tv, NULL));
	REQUIRE_OK(clock_gettime(CLOCK_REALTIME, &b));
	int64_t us = tv.tv_sec * 1000000LL + tv.tv_usec;
	CHECK_GE(us, (a.tv_sec * 1000000000LL + a.tv_nsec) / 1000);
	CHECK_LE(us, (b.tv_sec * 1000000000LL + b.tv_nsec) / 1000);
	CHECK_GE(tv.tv_usec, 0);
	CHECK_LT(tv.tv_usec, 1000000);
}

TEST(gettimeofday_via_libc)
{
	struct timeval tv;
	REQUIRE_OK(gettimeofday(&tv, NULL));
	CHECK_GT(tv.tv_sec, 1577836800);
}

TEST(gettimeofday_timezone)
{
	struct timeval tv;
	struct timezone tz = {-1, -1};
	REQUIRE_OK(syscall(SYS_gettimeofday, &tv, &tz));
	CHECK_GE(tz.tz_minuteswest, -24 * 60);
	CHECK_LE(tz.tz_minuteswest, 24 * 60);
}

TEST(gettimeofday_null_both)
{
	CHECK_OK(syscall(SYS_gettimeofday, NULL, NULL));
}

TEST(gettimeofday_efault)
{
	CHECK_ERR(syscall(SYS_gettimeofday, (void *)1, NULL), EFAULT);
	struct timeval tv;
	CHECK_ERR(syscall(SYS_gettimeofday, &tv, (void *)1), EFAULT);
}

TEST(time_returns_and_stores)
{
	time_t t = 0;
	time_t r = syscall(SYS_time, &t);
	CHECK_EQ(r, t);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	CHECK_LE(r, ts.tv_sec);
	CHECK_GE(r + 2, ts.tv_sec);
}

TEST(time_null)
{
	time_t r = syscall(SYS_time, NULL);
	CHECK_GT(r, 1577836800);
	CHECK_EQ(time(NULL) >= r, 1);
}

TEST(time_efault)
{
	CHECK_ERR(syscall(SYS_time, (void *)1), EFAULT);
}

TEST(time_advances)
{
	time_t a = time(NULL);
	struct timespec ts = {1, 100000000};
	nanosleep(&ts, NULL);
	CHECK_GE(time(NULL), a + 1);
}

TEST(settimeofday_unprivileged_eperm)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		if (setresuid(65534, 65534, 65534) != 0)
			_exit(10);
		struct timeval tv;
		gettimeofday(&tv, NULL);
		int r = settimeofday(&tv, NULL) == -1 && errno == EPERM ? 0 : 1;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		if (clock_settime(CLOCK_REALTIME, &ts) != -1 || errno != EPERM)
			r |= 2;
		_exit(r);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(clock_settime_monotonic_einval)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	CHECK_ERR(clock_settime(CLOCK_MONOTONIC, &ts), EINVAL);
	CHECK_ERR(clock_settime(12345, &ts), EINVAL);
}
