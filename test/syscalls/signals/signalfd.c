/* signalfd: reading siginfo, poll, SFD_NONBLOCK/SFD_CLOEXEC, mask updates
 * and errors. */
#include "lt.h"

#include <poll.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>

static sigset_t block2(int a, int b)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, a);
	if (b)
		sigaddset(&s, b);
	sigprocmask(SIG_BLOCK, &s, NULL);
	return s;
}

TEST(read_siginfo)
{
	sigset_t s = block2(SIGUSR1, 0);
	int fd = REQUIRE_OK(signalfd(-1, &s, 0));
	REQUIRE_OK(kill(getpid(), SIGUSR1));
	struct signalfd_siginfo si;
	REQUIRE_EQ(read(fd, &si, sizeof(si)), sizeof(si));
	CHECK_EQ(si.ssi_signo, SIGUSR1);
	CHECK_EQ(si.ssi_code, SI_USER);
	CHECK_EQ(si.ssi_pid, getpid());
	CHECK_EQ(si.ssi_uid, getuid());
	/* Consumed. */
	sigset_t p;
	sigpending(&p);
	CHECK_EQ(sigismember(&p, SIGUSR1), 0);
}

TEST(read_sigqueue_value)
{
	sigset_t s = block2(SIGRTMIN, 0);
	int fd = REQUIRE_OK(signalfd(-1, &s, SFD_NONBLOCK));
	REQUIRE_OK(sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = 31}));
	REQUIRE_OK(sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = 32}));
	struct signalfd_siginfo si[4];
	/* One read returns as many as fit. */
	CHECK_EQ(read(fd, si, sizeof(si)), 2 * sizeof(si[0]));
	CHECK_EQ(si[0].ssi_int, 31);
	CHECK_EQ(si[1].ssi_int, 32);
	CHECK_EQ(si[0].ssi_code, SI_QUEUE);
}

TEST(nonblock_eagain)
{
	sigset_t s = block2(SIGUSR1, 0);
	int fd = REQUIRE_OK(signalfd(-1, &s, SFD_NONBLOCK));
	struct signalfd_siginfo si;
	CHECK_ERR(read(fd, &si, sizeof(si)), EAGAIN);
	CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
}

TEST(cloexec_flag)
{
	sigset_t s = block2(SIGUSR1, 0);
	int fd = REQUIRE_OK(signalfd(-1, &s, SFD_CLOEXEC));
	CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	int fd2 = REQUIRE_OK(signalfd(-1, &s, 0));
	CHECK_EQ(fcntl(fd2, F_GETFD), 0);
}

TEST(small_buffer_einval)
{
	sigset_t s = block2(SIGUSR1, 0);
	int fd = REQUIRE_OK(signalfd(-1, &s, SFD_NONBLOCK));
	REQUIRE_OK(raise(SIGUSR1));
	char buf[64];
	CHECK_ERR(read(fd, buf, sizeof(buf)), EINVAL);
	/* Still pending. */
	sigset_t p;
	sigpending(&p);
	CHECK_EQ(sigismember(&p, SIGUSR1), 1);
}

TEST(poll_readable_when_pending)
{
	sigset_t s = block2(SIGUSR2, 0);
	int fd = REQUIRE_OK(signalfd(-1, &s, SFD_NONBLOCK));
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	CHECK_EQ(poll(&pfd, 1, 0), 0);
	REQUIRE_OK(raise(SIGUSR2));
	CHECK_EQ(poll(&pfd, 1, 0), 1);
	CHECK_EQ(pfd.revents, POLLIN);
}

TEST(blocking_read_woken_by_child)
{
	sigset_t s = block2(SIGUSR1, 0);
	int fd = REQUIRE_OK(signalfd(-1, &s, 0));
	pid_t parent = getpid(), pid = REQUIRE_OK(fork());
	if (pid == 0) {
		lt_wait_sleeping(parent, parent);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	struct signalfd_siginfo si;
	CHECK_EQ(read(fd, &si, sizeof(si)), sizeof(si));
	CHECK_EQ(si.ssi_pid, pid);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(epoll_wakes_on_signal)
{
	sigset_t s = block2(SIGUSR1, 0);
	int fd = REQUIRE_OK(signalfd(-1, &s, SFD_NONBLOCK));
	int ep = REQUIRE_OK(epoll_create1(0));
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 7};
	REQUIRE_OK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
	pid_t parent = getpid(), pid = REQUIRE_OK(fork());
	if (pid == 0) {
		lt_wait_sleeping(parent, parent);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	CHECK_EQ(epoll_wait(ep, &ev, 1, 10000), 1);
	CHECK_EQ(ev.data.u32, 7);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(only_signals_in_mask)
{
	sigset_t s = block2(SIGUSR1, SIGUSR2);
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	int fd = REQUIRE_OK(signalfd(-1, &m, SFD_NONBLOCK));
	REQUIRE_OK(raise(SIGUSR1));
	struct signalfd_siginfo si;
	CHECK_ERR(read(fd, &si, sizeof(si)), EAGAIN);
	REQUIRE_OK(raise(SIGUSR2));
	CHECK_EQ(read(fd, &si, sizeof(si)), sizeof(si));
	CHECK_EQ(si.ssi_signo, SIGUSR2);
	(void)s;
}

TEST(update_mask_of_existing_fd)
{
	block2(SIGUSR1, SIGUSR2);
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	int fd = REQUIRE_OK(signalfd(-1, &m, SFD_NONBLOCK));
	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	CHECK_EQ(signalfd(fd, &m, 0), fd);
	REQUIRE_OK(raise(SIGUSR1));
	struct signalfd_siginfo si;
	CHECK_ERR(read(fd, &si, sizeof(si)), EAGAIN);
	REQUIRE_OK(raise(SIGUSR2));
	CHECK_EQ(read(fd, &si, sizeof(si)), sizeof(si));
	CHECK_EQ(si.ssi_signo, SIGUSR2);
}

TEST(errors)
{
	sigset_t s = block2(SIGUSR1, 0);
	CHECK_ERR(signalfd(-1, &s, 0x1234), EINVAL);
	CHECK_ERR(signalfd(12345, &s, 0), EBADF);
	int p[2];
	REQUIRE_OK(pipe(p));
	CHECK_ERR(signalfd(p[0], &s, 0), EINVAL);
	CHECK_ERR(syscall(SYS_signalfd4, -1, &s, 4, 0), EINVAL);
	CHECK_ERR(syscall(SYS_signalfd4, -1, (void *)1, 8, 0), EFAULT);
}

TEST(sigchld_via_signalfd)
{
	sigset_t s = block2(SIGCHLD, 0);
	int fd = REQUIRE_OK(signalfd(-1, &s, 0));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(12);
	struct signalfd_siginfo si;
	REQUIRE_EQ(read(fd, &si, sizeof(si)), sizeof(si));
	CHECK_EQ(si.ssi_signo, SIGCHLD);
	CHECK_EQ(si.ssi_code, CLD_EXITED);
	CHECK_EQ(si.ssi_pid, pid);
	CHECK_EQ(si.ssi_status, 12);
	CHECK_EQ(lt_wait_exit(pid), 12);
}

TEST(thread_directed_visible)
{
	sigset_t s = block2(SIGUSR1, 0);
	int fd = REQUIRE_OK(signalfd(-1, &s, SFD_NONBLOCK));
	REQUIRE_OK(syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1));
	struct signalfd_siginfo si;
	CHECK_EQ(read(fd, &si, sizeof(si)), sizeof(si));
	CHECK_EQ(si.ssi_code, SI_TKILL);
}
