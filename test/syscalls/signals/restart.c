/* Interrupted system calls: SA_RESTART restarts some, others fail with
 * EINTR; stops and ignored signals restart transparently; nanosleep
 * reports the time left. */
#include "lt.h"

#include <poll.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <time.h>

static volatile sig_atomic_t hits;
static void handler(int sig)
{
	(void)sig;
	hits++;
}

static void install(int sig, int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * helper forks a child that, once the caller sleeps, sends sig (and sig2
 * after the caller sleeps again, if non-zero), and then writes a byte to
 * fd if fd >= 0.
 */
static pid_t helper(int sig, int sig2, int fd)
{
	pid_t parent = getpid(), pid = fork();
	if (pid == 0) {
		lt_wait_sleeping(parent, parent);
		kill(parent, sig);
		if (sig2) {
			usleep(20000);
			kill(parent, sig2);
		}
		if (fd >= 0) {
			usleep(20000);
			lt_wait_sleeping(parent, parent);
			write(fd, "x", 1);
		}
		_exit(0);
	}
	return pid;
}

TEST(read_restarts_with_sa_restart)
{
	install(SIGUSR1, SA_RESTART);
	int p[2];
	REQUIRE_OK(pipe(p));
	pid_t pid = REQUIRE_OK(helper(SIGUSR1, 0, p[1]));
	char c;
	CHECK_EQ(read(p[0], &c, 1), 1);
	CHECK_EQ(hits, 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(read_eintr_without_sa_restart)
{
	install(SIGUSR1, 0);
	int p[2];
	REQUIRE_OK(pipe(p));
	pid_t pid = REQUIRE_OK(helper(SIGUSR1, 0, -1));
	char c;
	CHECK_ERR(read(p[0], &c, 1), EINTR);
	CHECK_EQ(hits, 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(write_full_pipe_eintr)
{
	install(SIGUSR1, 0);
	int p[2];
	REQUIRE_OK(pipe(p));
	REQUIRE_OK(fcntl(p[1], F_SETFL, O_NONBLOCK));
	static char buf[65536];
	while (write(p[1], buf, sizeof(buf)) > 0)
		;
	REQUIRE_OK(fcntl(p[1], F_SETFL, 0));
	pid_t pid = REQUIRE_OK(helper(SIGUSR1, 0, -1));
	CHECK_ERR(write(p[1], buf, 1), EINTR);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(wait_restarts_with_sa_restart)
{
	install(SIGUSR1, SA_RESTART);
	int p[2];
	REQUIRE_OK(pipe(p));
	pid_t child = REQUIRE_OK(fork());
	if (child == 0) {
		char c;
		close(p[1]);
		read(p[0], &c, 1);
		_exit(6);
	}
	close(p[0]);
	pid_t pid = REQUIRE_OK(helper(SIGUSR1, 0, p[1]));
	int st;
	CHECK_EQ(waitpid(child, &st, 0), child);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 6);
	CHECK_EQ(hits, 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(wait_eintr_without_sa_restart)
{
	install(SIGUSR1, 0);
	pid_t child = REQUIRE_OK(fork());
	if (child == 0) {
		for (;;)
			pause();
	}
	pid_t pid = REQUIRE_OK(helper(SIGUSR1, 0, -1));
	int st;
	CHECK_ERR(waitpid(child, &st, 0), EINTR);
	kill(child, SIGKILL);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(poll_eintr_even_with_sa_restart)
{
	install(SIGUSR1, SA_RESTART);
	int p[2];
	REQUIRE_OK(pipe(p));
	struct pollfd pfd = {.fd = p[0], .events = POLLIN};
	pid_t pid = REQUIRE_OK(helper(SIGUSR1, 0, -1));
	CHECK_ERR(poll(&pfd, 1, 10000), EINTR);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(epoll_wait_eintr_even_with_sa_restart)
{
	install(SIGUSR1, SA_RESTART);
	int p[2];
	REQUIRE_OK(pipe(p));
	int ep = REQUIRE_OK(epoll_create1(0));
	struct epoll_event ev = {.events = EPOLLIN};
	REQUIRE_OK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	pid_t pid = REQUIRE_OK(helper(SIGUSR1, 0, -1));
	CHECK_ERR(epoll_wait(ep, &ev, 1, 10000), EINTR);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(nanosleep_eintr_with_remaining)
{
	install(SIGUSR1, SA_RESTART); /* nanosleep is never restarted */
	pid_t pid = REQUIRE_OK(helper(SIGUSR1, 0, -1));
	struct timespec req = {.tv_sec = 10}, rem = {0, 0};
	CHECK_ERR(nanosleep(&req, &rem), EINTR);
	CHECK_LT(rem.tv_sec, 10);
	CHECK(rem.tv_sec > 0 || rem.tv_nsec > 0);
	CHECK_LT(rem.tv_nsec, 1000000000);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(clock_nanosleep_abstime_eintr)
{
	install(SIGUSR1, SA_RESTART);
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += 10;
	pid_t pid = REQUIRE_OK(helper(SIGUSR1, 0, -1));
	CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL), EINTR);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(read_survives_stop_and_continue)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	pid_t pid = REQUIRE_OK(helper(SIGSTOP, SIGCONT, p[1]));
	char c;
	CHECK_EQ(read(p[0], &c, 1), 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(read_survives_ignored_signal)
{
	signal(SIGUSR1, SIG_IGN);
	int p[2];
	REQUIRE_OK(pipe(p));
	pid_t pid = REQUIRE_OK(helper(SIGUSR1, SIGWINCH, p[1]));
	char c;
	CHECK_EQ(read(p[0], &c, 1), 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(nanosleep_survives_stop_and_continue)
{
	pid_t pid = REQUIRE_OK(helper(SIGSTOP, SIGCONT, -1));
	struct timespec req = {.tv_nsec = 300 * 1000 * 1000};
	int64_t t0 = now_ns();
	CHECK_OK(nanosleep(&req, NULL));
	CHECK_GE(now_ns() - t0, 300 * 1000 * 1000);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(sleep_returns_unslept_seconds)
{
	install(SIGUSR1, 0);
	pid_t pid = REQUIRE_OK(helper(SIGUSR1, 0, -1));
	unsigned left = sleep(30);
	CHECK_GT(left, 0);
	CHECK_LE(left, 30);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(pipe_read_restarted_after_handler_partial)
{
	/* A read that already has data returns it: the signal does not
	 * turn it into EINTR. */
	install(SIGUSR1, 0);
	int p[2];
	REQUIRE_OK(pipe(p));
	REQUIRE_EQ(write(p[1], "ab", 2), 2);
	REQUIRE_OK(raise(SIGUSR1));
	char buf[4];
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 2);
	CHECK_EQ(hits, 1);
}
