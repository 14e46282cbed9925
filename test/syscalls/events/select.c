/* select(2), pselect6(2): fd sets, timeouts, EBADF, EINVAL, signal masks. */
#include "lt.h"

#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

TEST(pipe_readiness)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	fd_set r, w;
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(p[0], &r);
	FD_SET(p[1], &w);
	struct timeval tv = {0, 0};
	CHECK_EQ(select(p[1] + 1, &r, &w, NULL, &tv), 1);
	CHECK(!FD_ISSET(p[0], &r));
	CHECK(FD_ISSET(p[1], &w));
	REQUIRE_EQ(write(p[1], "x", 1), 1);
	FD_SET(p[0], &r);
	CHECK_EQ(select(p[1] + 1, &r, &w, NULL, &tv), 2);
	CHECK(FD_ISSET(p[0], &r));
}

TEST(eof_is_readable)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	CHECK_OK(close(p[1]));
	fd_set r;
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	struct timeval tv = {0, 0};
	CHECK_EQ(select(p[0] + 1, &r, NULL, NULL, &tv), 1);
	CHECK(FD_ISSET(p[0], &r));
}

TEST(counts_each_set)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	REQUIRE_EQ(write(p[1], "x", 1), 1);
	fd_set r, w;
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(p[0], &r);
	FD_SET(p[1], &r);
	FD_SET(p[1], &w);
	struct timeval tv = {0, 0};
	/* p[1] is writable but never readable. */
	CHECK_EQ(select(p[1] + 1, &r, &w, NULL, &tv), 2);
	CHECK(FD_ISSET(p[0], &r));
	CHECK(!FD_ISSET(p[1], &r));
	CHECK(FD_ISSET(p[1], &w));
}

TEST(closed_fd_ebadf)
{
	int fd = REQUIRE_OK(dup(0));
	CHECK_OK(close(fd));
	fd_set r;
	FD_ZERO(&r);
	FD_SET(fd, &r);
	struct timeval tv = {0, 0};
	CHECK_ERR(select(fd + 1, &r, NULL, NULL, &tv), EBADF);
}

TEST(negative_nfds_einval)
{
	struct timeval tv = {0, 0};
	CHECK_ERR(select(-1, NULL, NULL, NULL, &tv), EINVAL);
}

TEST(bad_timeval_einval)
{
	fd_set r;
	FD_ZERO(&r);
	/* A microsecond count of a second or more is carried into seconds. */
	struct timeval tv = {0, 1000000};
	CHECK_EQ(select(0, NULL, NULL, NULL, &tv), 0);
	struct timeval neg = {-1, 0};
	CHECK_ERR(select(1, &r, NULL, NULL, &neg), EINVAL);
}

TEST(efault)
{
	struct timeval tv = {0, 0};
	CHECK_ERR(syscall(SYS_select, 1, (void *)1, NULL, NULL, &tv), EFAULT);
	CHECK_ERR(syscall(SYS_select, 1, NULL, NULL, NULL, (void *)1), EFAULT);
}

TEST(timeout_updated)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	fd_set r;
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	struct timeval tv = {0, 30000};
	CHECK_EQ(select(p[0] + 1, &r, NULL, NULL, &tv), 0);
	/* Linux writes back the time left: none. */
	CHECK_EQ(tv.tv_sec, 0);
	CHECK_EQ(tv.tv_usec, 0);
	CHECK(!FD_ISSET(p[0], &r));
}

TEST(no_fds_sleeps)
{
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	struct timeval tv = {0, 20000};
	CHECK_EQ(select(0, NULL, NULL, NULL, &tv), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	CHECK_GE(ms, 19);
}

TEST(wakes_when_data_arrives)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		usleep(30000);
		_exit(write(p[1], "x", 1) == 1 ? 0 : 1);
	}
	fd_set r;
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	CHECK_EQ(select(p[0] + 1, &r, NULL, NULL, NULL), 1);
	CHECK(FD_ISSET(p[0], &r));
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(large_nfds_clamped)
{
	/* nfds above the descriptor table size is fine if the bits are clear. */
	fd_set r;
	FD_ZERO(&r);
	struct timeval tv = {0, 0};
	CHECK_EQ(select(FD_SETSIZE, &r, NULL, NULL, &tv), 0);
}

TEST(pselect_timespec_not_updated)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	fd_set r;
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	struct timespec ts = {0, 20 * 1000 * 1000};
	CHECK_EQ(pselect(p[0] + 1, &r, NULL, NULL, &ts, NULL), 0);
	/* glibc's pselect hides the kernel's update; the raw call updates. */
	struct {
		const sigset_t *ss;
		size_t len;
	} sig = {NULL, 8};
	struct timespec raw = {0, 20 * 1000 * 1000};
	FD_SET(p[0], &r);
	CHECK_EQ(syscall(SYS_pselect6, p[0] + 1, &r, NULL, NULL, &raw, &sig), 0);
	CHECK_EQ(raw.tv_sec, 0);
	CHECK_EQ(raw.tv_nsec, 0);
}

static volatile int got_usr1;
static void on_usr1(int sig)
{
	(void)sig;
	got_usr1++;
}

TEST(pselect_sigmask)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_usr1;
	REQUIRE_OK(sigaction(SIGUSR1, &sa, NULL));
	sigset_t block, during, now;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	REQUIRE_OK(sigprocmask(SIG_BLOCK, &block, NULL));
	REQUIRE_OK(kill(getpid(), SIGUSR1));
	sigemptyset(&during);
	struct timespec ts = {5, 0};
	CHECK_ERR(pselect(0, NULL, NULL, NULL, &ts, &during), EINTR);
	CHECK_EQ(got_usr1, 1);
	REQUIRE_OK(sigprocmask(SIG_BLOCK, NULL, &now));
	CHECK_EQ(sigismember(&now, SIGUSR1), 1);
}

TEST(pselect_bad_sigset_size_einval)
{
	sigset_t s;
	sigemptyset(&s);
	struct {
		const sigset_t *ss;
		size_t len;
	} sig = {&s, 4};
	struct timespec ts = {0, 0};
	CHECK_ERR(syscall(SYS_pselect6, 0, NULL, NULL, NULL, &ts, &sig), EINVAL);
	struct timespec big = {0, 1000000000};
	sig.len = 8;
	CHECK_ERR(syscall(SYS_pselect6, 0, NULL, NULL, NULL, &big, &sig), EINVAL);
}

TEST(select_interrupted_eintr)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_usr1;
	REQUIRE_OK(sigaction(SIGALRM, &sa, NULL));
	int p[2];
	REQUIRE_OK(pipe(p));
	fd_set r;
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	/*
	 * A timer that repeats: one tick may come before select blocks (on a
	 * loaded machine), a later one then interrupts it.
	 */
	struct itimerval it = {{0, 20000}, {0, 20000}};
	REQUIRE_OK(setitimer(ITIMER_REAL, &it, NULL));
	struct timeval tv = {5, 0};
	CHECK_ERR(select(p[0] + 1, &r, NULL, NULL, &tv), EINTR);
	struct itimerval off = {{0, 0}, {0, 0}};
	REQUIRE_OK(setitimer(ITIMER_REAL, &off, NULL));
}

TEST(exceptfds_on_pipe_empty)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	REQUIRE_EQ(write(p[1], "x", 1), 1);
	fd_set e;
	FD_ZERO(&e);
	FD_SET(p[0], &e);
	struct timeval tv = {0, 0};
	CHECK_EQ(select(p[0] + 1, NULL, NULL, &e, &tv), 0);
	CHECK(!FD_ISSET(p[0], &e));
}
