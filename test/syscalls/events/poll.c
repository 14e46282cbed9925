/* poll(2), ppoll(2): readiness, POLLHUP, POLLNVAL, timeouts, signal masks. */
#include "lt.h"

#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

TEST(pipe_readiness)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	struct pollfd f[2] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}};
	CHECK_EQ(poll(f, 2, 0), 1);
	CHECK_EQ(f[0].revents, 0);
	CHECK_EQ(f[1].revents, POLLOUT);
	REQUIRE_EQ(write(p[1], "x", 1), 1);
	CHECK_EQ(poll(f, 2, 0), 2);
	CHECK_EQ(f[0].revents, POLLIN);
}

TEST(pollhup_after_writer_closes)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	REQUIRE_EQ(write(p[1], "x", 1), 1);
	CHECK_OK(close(p[1]));
	struct pollfd f = {p[0], POLLIN, 0};
	CHECK_EQ(poll(&f, 1, 0), 1);
	CHECK_EQ(f.revents, POLLIN | POLLHUP);
	char c;
	REQUIRE_EQ(read(p[0], &c, 1), 1);
	CHECK_EQ(poll(&f, 1, 0), 1);
	CHECK_EQ(f.revents, POLLHUP);
	/* POLLHUP is reported even when not asked for. */
	f.events = 0;
	CHECK_EQ(poll(&f, 1, 0), 1);
	CHECK_EQ(f.revents, POLLHUP);
}

TEST(pollerr_after_reader_closes)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	CHECK_OK(close(p[0]));
	struct pollfd f = {p[1], POLLOUT, 0};
	CHECK_EQ(poll(&f, 1, 0), 1);
	CHECK_EQ(f.revents, POLLOUT | POLLERR);
}

TEST(pollnval_for_bad_fd)
{
	struct pollfd f[2] = {{12345, POLLIN, 0}, {0, 0, 0}};
	CHECK_EQ(poll(f, 1, 0), 1);
	CHECK_EQ(f[0].revents, POLLNVAL);
	int fd = REQUIRE_OK(dup(0));
	close(fd);
	f[1].fd = fd;
	f[1].events = POLLOUT;
	CHECK_EQ(poll(f, 2, 0), 2);
	CHECK_EQ(f[1].revents, POLLNVAL);
}

TEST(negative_fd_ignored)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	struct pollfd f[2] = {{-1, POLLIN, 0x7}, {p[1], POLLOUT, 0}};
	CHECK_EQ(poll(f, 2, 0), 1);
	CHECK_EQ(f[0].revents, 0);
	CHECK_EQ(f[1].revents, POLLOUT);
}

TEST(zero_timeout_returns_at_once)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	struct pollfd f = {p[0], POLLIN, 0};
	CHECK_EQ(poll(&f, 1, 0), 0);
	struct timespec ts = {0, 0};
	CHECK_EQ(ppoll(&f, 1, &ts, NULL), 0);
}

TEST(timeout_expires)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	struct pollfd f = {p[0], POLLIN, 0};
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	CHECK_EQ(poll(&f, 1, 30), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	CHECK_GE(ms, 29);
}

/* A timeout lasts at least its length on CLOCK_MONOTONIC, read in the
 * vDSO as programs do. */
TEST(ppoll_timeout_never_short)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	struct pollfd f = {p[0], POLLIN, 0};
	for (int i = 0; i < 300; i++) {
		long len = 20000 + (i * 37 % 500) * 1000;
		struct timespec to = {0, len}, a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		REQUIRE_EQ(ppoll(&f, 1, &to, NULL), 0);
		clock_gettime(CLOCK_MONOTONIC, &b);
		long long took = (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
		if (took < len) {
			FAIL("timeout %d of %ld ns ended after %lld ns", i, len, took);
			break;
		}
	}
}

TEST(no_fds_sleeps)
{
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	CHECK_EQ(poll(NULL, 0, 20), 0);
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
	struct pollfd f = {p[0], POLLIN, 0};
	CHECK_EQ(poll(&f, 1, 10000), 1);
	CHECK_EQ(f.revents, POLLIN);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(efault_and_einval)
{
	struct pollfd *volatile bad = (struct pollfd *)1;
	CHECK_ERR(poll(bad, 1, 0), EFAULT);
	struct rlimit rl;
	REQUIRE_OK(getrlimit(RLIMIT_NOFILE, &rl));
	struct pollfd f = {0, 0, 0};
	CHECK_ERR(poll(&f, rl.rlim_cur + 1, 0), EINVAL);
	struct timespec big = {0, 1000000000};
	CHECK_ERR(ppoll(&f, 1, &big, NULL), EINVAL);
	struct timespec neg = {-1, 0};
	CHECK_ERR(ppoll(&f, 1, &neg, NULL), EINVAL);
	CHECK_ERR(syscall(SYS_ppoll, &f, 1, (void *)1, NULL, 8), EFAULT);
}

TEST(ppoll_bad_sigset_size)
{
	struct pollfd f = {0, 0, 0};
	struct timespec ts = {0, 0};
	sigset_t s;
	sigemptyset(&s);
	CHECK_ERR(syscall(SYS_ppoll, &f, 1, &ts, &s, 4), EINVAL);
	CHECK_ERR(syscall(SYS_ppoll, &f, 1, &ts, (void *)1, 8), EFAULT);
}

static volatile int got_usr1;
static void on_usr1(int sig)
{
	(void)sig;
	got_usr1++;
}

TEST(ppoll_sigmask_unblocks_during_wait)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_usr1;
	REQUIRE_OK(sigaction(SIGUSR1, &sa, NULL));
	sigset_t block, during;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	REQUIRE_OK(sigprocmask(SIG_BLOCK, &block, NULL));
	REQUIRE_OK(kill(getpid(), SIGUSR1));
	CHECK_EQ(got_usr1, 0);
	/* The pending signal is delivered as ppoll installs the empty mask. */
	sigemptyset(&during);
	int p[2];
	REQUIRE_OK(pipe(p));
	struct pollfd f = {p[0], POLLIN, 0};
	struct timespec ts = {5, 0};
	CHECK_ERR(ppoll(&f, 1, &ts, &during), EINTR);
	CHECK_EQ(got_usr1, 1);
	/* The old mask is back. */
	sigset_t now;
	REQUIRE_OK(sigprocmask(SIG_BLOCK, NULL, &now));
	CHECK_EQ(sigismember(&now, SIGUSR1), 1);
}

TEST(ppoll_sigmask_blocks_during_wait)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_usr1;
	REQUIRE_OK(sigaction(SIGUSR1, &sa, NULL));
	sigset_t during;
	sigemptyset(&during);
	sigaddset(&during, SIGUSR1);
	struct itimerval it = {{0, 0}, {0, 20000}};
	signal(SIGALRM, SIG_IGN);
	REQUIRE_OK(kill(getpid(), SIGUSR1));
	CHECK_EQ(got_usr1, 1);
	got_usr1 = 0;
	REQUIRE_OK(setitimer(ITIMER_REAL, &it, NULL));
	/* A signal sent during the wait stays pending until ppoll returns. */
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		usleep(10000);
		kill(getppid(), SIGUSR1);
		_exit(0);
	}
	struct timespec ts = {0, 100 * 1000 * 1000};
	CHECK_EQ(ppoll(NULL, 0, &ts, &during), 0);
	CHECK_EQ(lt_wait_exit(pid), 0);
	/* Delivered once the old mask is back. */
	CHECK_EQ(got_usr1, 1);
}

TEST(poll_interrupted_eintr)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_usr1;
	REQUIRE_OK(sigaction(SIGALRM, &sa, NULL));
	struct itimerval it = {{0, 0}, {0, 20000}};
	REQUIRE_OK(setitimer(ITIMER_REAL, &it, NULL));
	int p[2];
	REQUIRE_OK(pipe(p));
	struct pollfd f = {p[0], POLLIN, 0};
	CHECK_ERR(poll(&f, 1, 5000), EINTR);
}

TEST(socketpair_pollrdhup)
{
	int sv[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_OK(shutdown(sv[1], SHUT_WR));
	struct pollfd f = {sv[0], POLLIN | POLLRDHUP, 0};
	CHECK_EQ(poll(&f, 1, 0), 1);
	CHECK_EQ(f.revents, POLLIN | POLLRDHUP);
}

TEST(regular_file_always_ready)
{
	int fd = REQUIRE_OK(open(lt_path("f"), O_RDWR | O_CREAT, 0600));
	struct pollfd f = {fd, POLLIN | POLLOUT | POLLPRI, 0};
	CHECK_EQ(poll(&f, 1, 0), 1);
	CHECK_EQ(f.revents, POLLIN | POLLOUT);
}

TEST(same_fd_twice)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	REQUIRE_EQ(write(p[1], "x", 1), 1);
	struct pollfd f[2] = {{p[0], POLLIN, 0}, {p[0], POLLOUT, 0}};
	/* Counted per entry with events. */
	CHECK_EQ(poll(f, 2, 0), 1);
	CHECK_EQ(f[0].revents, POLLIN);
	CHECK_EQ(f[1].revents, 0);
}
