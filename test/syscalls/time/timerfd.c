/* timerfd: creation flags, relative and absolute settings, expiration
 * counts, gettime, poll, non-blocking reads and errors. */
#include "lt.h"

#include <poll.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>

#ifndef TFD_TIMER_CANCEL_ON_SET
#define TFD_TIMER_CANCEL_ON_SET (1 << 1)
#endif

static int64_t now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int arm(int fd, int flags, int64_t value, int64_t interval, struct itimerspec *old)
{
	struct itimerspec its = {
		.it_interval = {interval / 1000000000, interval % 1000000000},
		.it_value = {value / 1000000000, value % 1000000000},
	};
	return timerfd_settime(fd, flags, &its, old);
}

static int64_t its_ns(struct timespec ts)
{
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

TEST(create_flags)
{
	int fd = REQUIRE_OK(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
	CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
	CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	int fd2 = REQUIRE_OK(timerfd_create(CLOCK_REALTIME, 0));
	CHECK_EQ(fcntl(fd2, F_GETFL) & O_NONBLOCK, 0);
	CHECK_EQ(fcntl(fd2, F_GETFD), 0);
	CHECK_OK(timerfd_create(CLOCK_BOOTTIME, 0));
}

TEST(create_errors)
{
	CHECK_ERR(timerfd_create(CLOCK_MONOTONIC, 0x1234), EINVAL);
	CHECK_ERR(timerfd_create(12345, 0), EINVAL);
	CHECK_ERR(timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0), EINVAL);
	CHECK_ERR(timerfd_create(CLOCK_THREAD_CPUTIME_ID, 0), EINVAL);
}

TEST(unarmed_nonblocking_eagain)
{
	int fd = REQUIRE_OK(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK));
	uint64_t n;
	CHECK_ERR(read(fd, &n, sizeof(n)), EAGAIN);
}

TEST(relative_expiry_read_count)
{
	int fd = REQUIRE_OK(timerfd_create(CLOCK_MONOTONIC, 0));
	int64_t t0 = now_ns(CLOCK_MONOTONIC);
	REQUIRE_OK(arm(fd, 0, 20000000, 0, NULL));
	uint64_t n = 0;
	CHECK_EQ(read(fd, &n, sizeof(n)), 8);
	CHECK_EQ(n, 1);
	CHECK_GE(now_ns(CLOCK_MONOTONIC) - t0, 20000000);
	/* One-shot: nothing more. */
	REQUIRE_OK(fcntl(fd, F_SETFL, O_NONBLOCK));
	CHECK_ERR(read(fd, &n, sizeof(n)), EAGAIN);
}

TEST(absolute_expiry)
{
	int fd = REQUIRE_OK(timerfd_create(CLOCK_MONOTONIC, 0));
	int64_t target = now_ns(CLOCK_MONOTONIC) + 30000000;
	REQUIRE_OK(arm(fd, TFD_TIMER_ABSTIME, target, 0, NULL));
	uint64_t n = 0;
	CHECK_EQ(read(fd, &n, sizeof(n)), 8);
	CHECK_EQ(n, 1);
	CHECK_GE(now_ns(CLOCK_MONOTONIC), target);
}

TEST(absolute_realtime_with_cancel_on_set)
{
	int fd = REQUIRE_OK(timerfd_create(CLOCK_REALTIME, 0));
	int64_t target = now_ns(CLOCK_REALTIME) + 20000000;
	REQUIRE_OK(arm(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, target, 0, NULL));
	uint64_t n = 0;
	CHECK_EQ(read(fd, &n, sizeof(n)), 8);
	CHECK_EQ(n, 1);
	CHECK_GE(now_ns(CLOCK_REALTIME), target);
}

TEST(cancel_on_set_needs_abstime_realtime)
{
	int fd = REQUIRE_OK(timerfd_create(CLOCK_MONOTONIC, 0));
	/* Without TFD_TIMER_ABSTIME the flag is ignored: arming works. */
	CHECK_OK(arm(fd, TFD_TIMER_CANCEL_ON_SET, 1000000000, 0, NULL));
}

TEST(absolute_in_past_expires_at_once)
{
	int fd = REQUIRE_OK(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK));
	REQUIRE_OK(arm(fd, TFD_TIMER_ABSTIME, 1000, 0, NULL));
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	CHECK_EQ(poll(&pfd, 1, 5000), 1);
	uint64_t n = 0;
	CHECK_EQ(read(fd, &n, sizeof(n)), 8);
	CHECK_EQ(n, 1);
}

TEST(interval_counts_expirations)
{
	int fd = REQUIRE_OK(timerfd_create(CLOCK_MONOTONIC, 0));
	REQUIRE_OK(arm(fd, 0, 5000000, 5000000, NULL));
	usleep(60000);
	uint64_t n = 0;
	CHECK_EQ(read(fd, &n, sizeof(n)), 8);
	CHECK_GE(n, 5);
	CHECK_LE(n, 1000);
	/* The count restarts after a read. */
	uint64_t m = 0;
	CHECK_EQ(read(fd, &m, sizeof(m)), 8);
	CHECK_GE(m, 1);
	CHECK_LT(m, n + 1000);
}

TEST(gettime_remaining_and_interval)
{
	int fd = REQUIRE_OK(timerfd_create(CLOCK_MONOTONIC, 0));
	struct itimerspec cur = {{1, 1}, {1, 1}};
	REQUIRE_OK(timerfd_gettime(fd, &cur));
	CHECK_EQ(its_ns(cur.it_value), 0);
	CHECK_EQ(its_ns(cur.it_interval), 0);
	REQUIRE_OK(arm(fd, 0, 5000000000LL, 1500000000LL, NULL));
	REQUIRE_OK(timerfd_gettime(fd, &cur));
	CHECK_GT(its_ns(cur.it_value), 4000000000LL);
	CHECK_LE(its_ns(cur.it_value), 5000000000LL);
	CHECK_EQ(its_ns(cur.it_interval), 1500000000LL);
}

TEST(gettime_absolute_reads_relative)
{
	int fd = REQUIRE_OK(timerfd_create(CLOCK_MONOTONIC, 0));
	REQUIRE_OK(arm(fd, TFD_TIMER_ABSTIME, now_ns(CLOCK_MONOTONIC) + 3000000000LL, 0, NULL));
	struct itimerspec cur;
	REQUIRE_OK(timerfd_gettime(fd, &cur));
	CHECK_GT(its_ns(cur.it_value), 2000000000LL);
	CHECK_LE(its_ns(cur.it_value), 3000000000LL);
}

TEST(settime_returns_old_and_disarms)
{
	int fd = REQUIRE_OK(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK));
	REQUIRE_OK(arm(fd, 0, 2000000000LL, 1000000000LL, NULL));
	struct itimerspec old;
	REQUIRE_OK(arm(fd, 0, 0, 0, &old));
	CHECK_GT(its_ns(old.it_value), 1000000000LL);
	CHECK_EQ(its_ns(old.it_interval), 1000000000LL);
	struct itimerspec cur;
	REQUIRE_OK(timerfd_gettime(fd, &cur));
	CHECK_EQ(its_ns(cur.it_value), 0);
}

TEST(rearm_clears_count)
{
	int fd = REQUIRE_OK(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK));
	REQUIRE_OK(arm(fd, 0, 1000000, 0, NULL));
	usleep(20000);
	REQUIRE_OK(arm(fd, 0, 5000000000LL, 0, NULL));
	uint64_t n;
	CHECK_ERR(read(fd, &n, sizeof(n)), EAGAIN);
}

TEST(poll_readable_on_expiry)
{
	int fd = REQUIRE_OK(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK));
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	CHECK_EQ(poll(&pfd, 1, 0), 0);
	REQUIRE_OK(arm(fd, 0, 10000000, 0, NULL));
	CHECK_EQ(poll(&pfd, 1, 5000), 1);
	CHECK_EQ(pfd.revents, POLLIN);
	uint64_t n;
	CHECK_EQ(read(fd, &n, sizeof(n)), 8);
	CHECK_EQ(poll(&pfd, 1, 0), 0);
}

TEST(read_errors)
{
	int fd = REQUIRE_OK(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK));
	REQUIRE_OK(arm(fd, 0, 1000, 0, NULL));
	usleep(10000);
	uint32_t small;
	CHECK_ERR(read(fd, &small, sizeof(small)), EINVAL);
	CHECK_ERR(syscall(SYS_read, fd, (void *)1, 8), EFAULT);
	CHECK_ERR(write(fd, "12345678", 8), EINVAL);
}

TEST(settime_errors)
{
	int fd = REQUIRE_OK(timerfd_create(CLOCK_MONOTONIC, 0));
	struct itimerspec its = {.it_value = {0, 1000000000}};
	CHECK_ERR(timerfd_settime(fd, 0, &its, NULL), EINVAL);
	its.it_value.tv_nsec = 1;
	CHECK_ERR(timerfd_settime(fd, 0x100, &its, NULL), EINVAL);
	CHECK_ERR(timerfd_settime(fd, 0, (void *)1, NULL), EFAULT);
	CHECK_ERR(timerfd_settime(12345, 0, &its, NULL), EBADF);
	int p[2];
	REQUIRE_OK(pipe(p));
	CHECK_ERR(timerfd_settime(p[0], 0, &its, NULL), EINVAL);
	struct itimerspec cur;
	CHECK_ERR(timerfd_gettime(p[0], &cur), EINVAL);
	CHECK_ERR(timerfd_gettime(fd, (void *)1), EFAULT);
}

static void noop(int sig)
{
	(void)sig;
}

TEST(blocking_read_interrupted)
{
	signal(SIGALRM, SIG_IGN);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = noop;
	REQUIRE_OK(sigaction(SIGUSR1, &sa, NULL));
	int fd = REQUIRE_OK(timerfd_create(CLOCK_MONOTONIC, 0));
	REQUIRE_OK(arm(fd, 0, 10000000000LL, 0, NULL));
	pid_t parent = getpid(), pid = REQUIRE_OK(fork());
	if (pid == 0) {
		lt_wait_sleeping(parent, parent);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	uint64_t n;
	CHECK_ERR(read(fd, &n, sizeof(n)), EINTR);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

/* The remaining time of an absolute setting is measured on the clock the
 * caller computed it from: never more than what was asked, again and
 * again, on each clock. */
TEST(gettime_absolute_reads_relative_repeatedly)
{
	clockid_t ids[] = {CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME};
	for (int c = 0; c < 3; c++) {
		int fd = REQUIRE_OK(timerfd_create(ids[c], 0));
		for (int i = 0; i < 300; i++) {
			REQUIRE_OK(arm(fd, TFD_TIMER_ABSTIME, now_ns(ids[c]) + 3000000000LL, 0, NULL));
			struct itimerspec cur;
			REQUIRE_OK(timerfd_gettime(fd, &cur));
			int64_t left = its_ns(cur.it_value);
			if (left > 3000000000LL || left <= 2000000000LL) {
				FAIL("clock %d, round %d: %lld ns left of 3 s", (int)ids[c], i, (long long)left);
				break;
			}
		}
		close(fd);
	}
}

/* An absolute expiration never comes before the clock reaches it. */
TEST(absolute_expiry_never_early)
{
	clockid_t ids[] = {CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME};
	for (int c = 0; c < 3; c++) {
		int fd = REQUIRE_OK(timerfd_create(ids[c], 0));
		for (int i = 0; i < 100; i++) {
			int64_t target = now_ns(ids[c]) + 20000 + (i * 37 % 500) * 1000;
			REQUIRE_OK(arm(fd, TFD_TIMER_ABSTIME, target, 0, NULL));
			uint64_t n;
			REQUIRE_EQ(read(fd, &n, sizeof(n)), sizeof(n));
			int64_t now = now_ns(ids[c]);
			if (now < target) {
				FAIL("clock %d, round %d: expired %lld ns before its time", (int)ids[c], i,
				     (long long)(target - now));
				break;
			}
		}
		close(fd);
	}
}
