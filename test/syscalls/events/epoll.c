/* epoll: create, ctl errors, level-triggered waits, timeouts, close removal, nesting. */
#include "lt.h"

#include <stdint.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

static int add(int ep, int fd, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.fd = fd};
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

TEST(create_flags)
{
	int ep = REQUIRE_OK(epoll_create1(EPOLL_CLOEXEC));
	CHECK_EQ(fcntl(ep, F_GETFD), FD_CLOEXEC);
	int ep2 = REQUIRE_OK(epoll_create1(0));
	CHECK_EQ(fcntl(ep2, F_GETFD), 0);
	CHECK_ERR(epoll_create1(1), EINVAL);
	CHECK_ERR(epoll_create(0), EINVAL);
	CHECK_ERR(epoll_create(-1), EINVAL);
	CHECK_OK(epoll_create(1));
}

TEST(proc_fd_link)
{
	int ep = REQUIRE_OK(epoll_create1(0));
	char path[64], link[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", ep);
	ssize_t n = REQUIRE_OK(readlink(path, link, sizeof(link) - 1));
	link[n] = 0;
	CHECK_STREQ(link, "anon_inode:[eventpoll]");
}

TEST(add_twice_eexist)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	int ep = REQUIRE_OK(epoll_create1(0));
	CHECK_OK(add(ep, p[0], EPOLLIN));
	CHECK_ERR(add(ep, p[0], EPOLLIN), EEXIST);
}

TEST(mod_del_unknown_enoent)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	int ep = REQUIRE_OK(epoll_create1(0));
	struct epoll_event ev = {.events = EPOLLIN};
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), ENOENT);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), ENOENT);
}

TEST(ctl_errors)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	int ep = REQUIRE_OK(epoll_create1(0));
	struct epoll_event ev = {.events = EPOLLIN};
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, 12345, &ev), EBADF);
	CHECK_ERR(epoll_ctl(12345, EPOLL_CTL_ADD, p[0], &ev), EBADF);
	/* The epoll descriptor must be an epoll file. */
	CHECK_ERR(epoll_ctl(p[1], EPOLL_CTL_ADD, p[0], &ev), EINVAL);
	/* An epoll set cannot watch itself. */
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev), EINVAL);
	CHECK_ERR(epoll_ctl(ep, 99, p[0], &ev), EINVAL);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], (struct epoll_event *)1), EFAULT);
	/* Regular files are always ready and cannot be watched. */
	int f = REQUIRE_OK(open(lt_path("f"), O_RDWR | O_CREAT, 0600));
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, f, &ev), EPERM);
}

TEST(exclusive_rules)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	int ep = REQUIRE_OK(epoll_create1(0));
	CHECK_OK(add(ep, p[0], EPOLLIN | EPOLLEXCLUSIVE));
	/* EPOLLEXCLUSIVE cannot be modified, nor combined with ONESHOT. */
	struct epoll_event ev = {.events = EPOLLIN};
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), EINVAL);
	CHECK_ERR(add(ep, p[1], EPOLLOUT | EPOLLEXCLUSIVE | EPOLLONESHOT), EINVAL);
	int ep2 = REQUIRE_OK(epoll_create1(0));
	/* Nor watch an epoll set. */
	CHECK_ERR(add(ep2, ep, EPOLLIN | EPOLLEXCLUSIVE), EINVAL);
}

TEST(level_triggered_repeats)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	int ep = REQUIRE_OK(epoll_create1(0));
	REQUIRE_OK(add(ep, p[0], EPOLLIN));
	struct epoll_event ev[4];
	CHECK_EQ(epoll_wait(ep, ev, 4, 0), 0);
	REQUIRE_EQ(write(p[1], "ab", 2), 2);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(epoll_wait(ep, ev, 4, 0), 1);
		CHECK_EQ(ev[0].events, EPOLLIN);
		CHECK_EQ(ev[0].data.fd, p[0]);
	}
	char c[2];
	REQUIRE_EQ(read(p[0], c, 2), 2);
	CHECK_EQ(epoll_wait(ep, ev, 4, 0), 0);
}

TEST(data_returned_verbatim)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	int ep = REQUIRE_OK(epoll_create1(0));
	struct epoll_event e = {.events = EPOLLOUT, .data.u64 = 0x1122334455667788ULL};
	REQUIRE_OK(epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &e));
	struct epoll_event got;
	CHECK_EQ(epoll_wait(ep, &got, 1, 0), 1);
	CHECK_EQ(got.data.u64, 0x1122334455667788ULL);
	e.data.u64 = 7;
	REQUIRE_OK(epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &e));
	CHECK_EQ(epoll_wait(ep, &got, 1, 0), 1);
	CHECK_EQ(got.data.u64, 7);
}

TEST(hup_and_err_always_reported)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	int ep = REQUIRE_OK(epoll_create1(0));
	REQUIRE_OK(add(ep, p[0], 0));
	REQUIRE_OK(add(ep, p[1], 0));
	CHECK_OK(close(p[1]));
	struct epoll_event ev[2];
	CHECK_EQ(epoll_wait(ep, ev, 2, 0), 1);
	CHECK_EQ(ev[0].events, EPOLLHUP);
	int q[2];
	REQUIRE_OK(pipe(q));
	REQUIRE_OK(add(ep, q[1], 0));
	CHECK_OK(close(q[0]));
	CHECK_EQ(epoll_wait(ep, ev, 2, 0), 2);
}

TEST(maxevents_limits)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	int ep = REQUIRE_OK(epoll_create1(0));
	REQUIRE_OK(add(ep, p[1], EPOLLOUT));
	int q[2];
	REQUIRE_OK(pipe(q));
	REQUIRE_OK(add(ep, q[1], EPOLLOUT));
	struct epoll_event ev[2];
	CHECK_EQ(epoll_wait(ep, ev, 1, 0), 1);
	CHECK_EQ(epoll_wait(ep, ev, 2, 0), 2);
	CHECK_ERR(epoll_wait(ep, ev, 0, 0), EINVAL);
	CHECK_ERR(syscall(SYS_epoll_wait, ep, ev, -1, 0), EINVAL);
	CHECK_ERR(syscall(SYS_epoll_wait, ep, (void *)1, 2, 0), EFAULT);
	CHECK_ERR(epoll_wait(p[0], ev, 2, 0), EINVAL);
	CHECK_ERR(epoll_wait(12345, ev, 2, 0), EBADF);
}

TEST(round_robin_beyond_maxevents)
{
	int ep = REQUIRE_OK(epoll_create1(0));
	int fds[4];
	for (int i = 0; i < 4; i++) {
		int p[2];
		REQUIRE_OK(pipe(p));
		fds[i] = p[1];
		REQUIRE_OK(add(ep, p[1], EPOLLOUT));
	}
	/* Ready events not returned this time come first next time. */
	int seen[4] = {0};
	struct epoll_event ev[2];
	for (int round = 0; round < 2; round++) {
		REQUIRE_EQ(epoll_wait(ep, ev, 2, 0), 2);
		for (int i = 0; i < 2; i++)
			for (int j = 0; j < 4; j++)
				if (ev[i].data.fd == fds[j])
					seen[j]++;
	}
	for (int j = 0; j < 4; j++)
		CHECK_EQ(seen[j], 1);
}

TEST(closing_fd_removes_it)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	int ep = REQUIRE_OK(epoll_create1(0));
	REQUIRE_OK(add(ep, p[1], EPOLLOUT));
	CHECK_OK(close(p[1]));
	struct epoll_event ev;
	CHECK_EQ(epoll_wait(ep, &ev, 1, 0), 0);
}

TEST(dup_keeps_registration)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	int ep = REQUIRE_OK(epoll_create1(0));
	REQUIRE_OK(add(ep, p[1], EPOLLOUT));
	int d = REQUIRE_OK(dup(p[1]));
	/* The file is still open through d: still reported, under the old fd. */
	CHECK_OK(close(p[1]));
	struct epoll_event ev;
	CHECK_EQ(epoll_wait(ep, &ev, 1, 0), 1);
	CHECK_EQ(ev.data.fd, p[1]);
	/* The registration is keyed by (fd, file): d is not registered. */
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, d, NULL), ENOENT);
	CHECK_OK(close(d));
	CHECK_EQ(epoll_wait(ep, &ev, 1, 0), 0);
}

TEST(timeout_and_wakeup)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	int ep = REQUIRE_OK(epoll_create1(0));
	REQUIRE_OK(add(ep, p[0], EPOLLIN));
	struct epoll_event ev;
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	CHECK_EQ(epoll_wait(ep, &ev, 1, 30), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	CHECK_GE((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000, 29);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		usleep(30000);
		_exit(write(p[1], "x", 1) == 1 ? 0 : 1);
	}
	CHECK_EQ(epoll_wait(ep, &ev, 1, -1), 1);
	CHECK_EQ(ev.events, EPOLLIN);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(nested_epoll)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	int inner = REQUIRE_OK(epoll_create1(0));
	int outer = REQUIRE_OK(epoll_create1(0));
	REQUIRE_OK(add(inner, p[0], EPOLLIN));
	REQUIRE_OK(add(outer, inner, EPOLLIN));
	struct epoll_event ev;
	CHECK_EQ(epoll_wait(outer, &ev, 1, 0), 0);
	REQUIRE_EQ(write(p[1], "x", 1), 1);
	CHECK_EQ(epoll_wait(outer, &ev, 1, 0), 1);
	CHECK_EQ(ev.data.fd, inner);
	CHECK_EQ(ev.events, EPOLLIN);
	CHECK_EQ(epoll_wait(inner, &ev, 1, 0), 1);
	CHECK_EQ(ev.data.fd, p[0]);
}

TEST(epoll_loop_eloop)
{
	int a = REQUIRE_OK(epoll_create1(0));
	int b = REQUIRE_OK(epoll_create1(0));
	REQUIRE_OK(add(a, b, EPOLLIN));
	CHECK_ERR(add(b, a, EPOLLIN), ELOOP);
}

static volatile int got_usr1;
static void on_usr1(int sig)
{
	(void)sig;
	got_usr1++;
}

TEST(pwait_sigmask)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_usr1;
	REQUIRE_OK(sigaction(SIGUSR1, &sa, NULL));
	sigset_t block, during, now;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	REQUIRE_OK(sigprocmask(SIG_BLOCK, &block, NULL));
	REQUIRE_OK(kill(getpid(), SIGUSR1));
	int ep = REQUIRE_OK(epoll_create1(0));
	struct epoll_event ev;
	sigemptyset(&during);
	CHECK_ERR(epoll_pwait(ep, &ev, 1, 5000, &during), EINTR);
	CHECK_EQ(got_usr1, 1);
	REQUIRE_OK(sigprocmask(SIG_BLOCK, NULL, &now));
	CHECK_EQ(sigismember(&now, SIGUSR1), 1);
	CHECK_ERR(syscall(SYS_epoll_pwait, ep, &ev, 1, 0, &during, 4), EINVAL);
}

TEST(pwait2_timespec)
{
	int ep = REQUIRE_OK(epoll_create1(0));
	struct epoll_event ev;
	struct timespec ts = {0, 20 * 1000 * 1000};
	CHECK_EQ(syscall(SYS_epoll_pwait2, ep, &ev, 1, &ts, NULL, 8), 0);
	struct timespec big = {0, 1000000000};
	CHECK_ERR(syscall(SYS_epoll_pwait2, ep, &ev, 1, &big, NULL, 8), EINVAL);
}

TEST(wait_interrupted_eintr)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_usr1;
	REQUIRE_OK(sigaction(SIGALRM, &sa, NULL));
	struct itimerval it = {{0, 0}, {0, 20000}};
	REQUIRE_OK(setitimer(ITIMER_REAL, &it, NULL));
	int ep = REQUIRE_OK(epoll_create1(0));
	struct epoll_event ev;
	CHECK_ERR(epoll_wait(ep, &ev, 1, 5000), EINTR);
}
