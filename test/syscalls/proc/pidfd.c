/*
 * pidfds: pidfd_open, clone(CLONE_PIDFD), pidfd_send_signal, waitid(P_PIDFD)
 * and polling a pidfd for the process's exit.
 */
#include "lt.h"

#include <poll.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif

static int pidfd_open(pid_t pid, unsigned flags) { return syscall(SYS_pidfd_open, pid, flags); }

static int pidfd_send_signal(int fd, int sig, siginfo_t *info, unsigned flags) {
	return syscall(SYS_pidfd_send_signal, fd, sig, info, flags);
}

/* clone(CLONE_PIDFD) of a child that sleeps (wait_ms > 0) and exits with
 * code; returns the child's PID and its pidfd in *pidfd. */
static pid_t clone_pidfd(int *pidfd, int code, int wait_ms) {
	*pidfd = -1;
	long pid = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, pidfd, 0, 0);
	if (pid == 0) {
		if (wait_ms > 0)
			usleep(wait_ms * 1000);
		_exit(code);
	}
	return pid;
}

static short poll_in(int fd, int timeout_ms) {
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (poll(&p, 1, timeout_ms) < 0)
		return -1;
	return p.revents;
}

TEST(open_self) {
	int fd = CHECK_OK(pidfd_open(getpid(), 0));
	CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	char path[64], link[64] = {0};
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	CHECK_GT(readlink(path, link, sizeof(link) - 1), 0);
	CHECK_STREQ(link, "anon_inode:[pidfd]");
	CHECK_EQ(poll_in(fd, 0), 0);
	close(fd);
}

TEST(open_errors) {
	CHECK_ERR(pidfd_open(0, 0), EINVAL);
	CHECK_ERR(pidfd_open(-1, 0), EINVAL);
	CHECK_ERR(pidfd_open(getpid(), 0x1), EINVAL);
	CHECK_ERR(pidfd_open(999999, 0), ESRCH);
}

TEST(open_nonblock) {
	int fd = CHECK_OK(pidfd_open(getpid(), PIDFD_NONBLOCK));
	CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
	close(fd);
}

TEST(read_is_einval) {
	int fd = CHECK_OK(pidfd_open(getpid(), 0));
	char c;
	CHECK_ERR(read(fd, &c, 1), EINVAL);
	close(fd);
}

TEST(waitid_self_is_echild) {
	int fd = CHECK_OK(pidfd_open(getpid(), 0));
	siginfo_t si;
	CHECK_ERR(waitid(P_PIDFD, fd, &si, WEXITED | WNOHANG), ECHILD);
	close(fd);
}

TEST(waitid_errors) {
	siginfo_t si;
	int p[2];
	REQUIRE_OK(pipe(p));
	CHECK_ERR(waitid(P_PIDFD, p[0], &si, WEXITED), EBADF);
	CHECK_ERR(waitid(P_PIDFD, 999, &si, WEXITED), EBADF);
	CHECK_ERR(waitid(P_PIDFD, -1, &si, WEXITED), EINVAL);
	close(p[0]);
	close(p[1]);
}

TEST(send_signal_errors) {
	int fd = CHECK_OK(pidfd_open(getpid(), 0));
	CHECK_OK(pidfd_send_signal(fd, 0, NULL, 0));
	CHECK_ERR(pidfd_send_signal(fd, 0, NULL, 0x100), EINVAL);
	CHECK_ERR(pidfd_send_signal(fd, 1000, NULL, 0), EINVAL);
	CHECK_ERR(pidfd_send_signal(999, 0, NULL, 0), EBADF);
	int p[2];
	REQUIRE_OK(pipe(p));
	CHECK_ERR(pidfd_send_signal(p[0], 0, NULL, 0), EBADF);
	close(p[0]);
	close(p[1]);
	close(fd);
}

TEST(send_signal_to_self) {
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	REQUIRE_OK(sigprocmask(SIG_BLOCK, &set, NULL));
	int fd = CHECK_OK(pidfd_open(getpid(), 0));
	CHECK_OK(pidfd_send_signal(fd, SIGUSR1, NULL, 0));
	siginfo_t si;
	struct timespec ts = {5, 0};
	CHECK_EQ(sigtimedwait(&set, &si, &ts), SIGUSR1);
	CHECK_EQ(si.si_code, SI_USER);
	CHECK_EQ(si.si_pid, getpid());
	close(fd);
}

TEST(clone_pidfd_wait_exit) {
	int fd;
	pid_t pid = clone_pidfd(&fd, 7, 0);
	REQUIRE_GT(pid, 0);
	REQUIRE_GE(fd, 0);
	CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	CHECK_EQ(poll_in(fd, 5000), POLLIN);
	siginfo_t si = {0};
	CHECK_OK(waitid(P_PIDFD, fd, &si, WEXITED));
	CHECK_EQ(si.si_pid, pid);
	CHECK_EQ(si.si_code, CLD_EXITED);
	CHECK_EQ(si.si_status, 7);
	/* Reaped: readable and hung up. */
	CHECK_EQ(poll_in(fd, 0), POLLIN | POLLHUP);
	CHECK_ERR(waitid(P_PIDFD, fd, &si, WEXITED), ECHILD);
	CHECK_ERR(pidfd_send_signal(fd, 0, NULL, 0), ESRCH);
	close(fd);
}

TEST(pidfd_open_child_kill) {
	pid_t pid = fork();
	REQUIRE_GE(pid, 0);
	if (pid == 0) {
		for (;;)
			pause();
	}
	int fd = CHECK_OK(pidfd_open(pid, 0));
	CHECK_EQ(poll_in(fd, 0), 0);
	CHECK_OK(pidfd_send_signal(fd, SIGKILL, NULL, 0));
	siginfo_t si = {0};
	CHECK_OK(waitid(P_PIDFD, fd, &si, WEXITED));
	CHECK_EQ(si.si_pid, pid);
	CHECK_EQ(si.si_code, CLD_KILLED);
	CHECK_EQ(si.si_status, SIGKILL);
	close(fd);
}

TEST(zombie_takes_signals_reaped_is_esrch) {
	int fd;
	pid_t pid = clone_pidfd(&fd, 0, 0);
	REQUIRE_GT(pid, 0);
	CHECK_EQ(poll_in(fd, 5000), POLLIN);
	/* Exited, not yet reaped: signals succeed as kill(2)'s do. */
	CHECK_OK(pidfd_send_signal(fd, SIGTERM, NULL, 0));
	CHECK_EQ(waitpid(pid, NULL, 0), pid);
	CHECK_ERR(pidfd_send_signal(fd, SIGTERM, NULL, 0), ESRCH);
	close(fd);
}

TEST(nonblocking_waitid_is_eagain) {
	pid_t pid = fork();
	REQUIRE_GE(pid, 0);
	if (pid == 0) {
		for (;;)
			pause();
	}
	int fd = CHECK_OK(pidfd_open(pid, PIDFD_NONBLOCK));
	siginfo_t si;
	CHECK_ERR(waitid(P_PIDFD, fd, &si, WEXITED), EAGAIN);
	/* With WNOHANG it is not an error. */
	si.si_pid = 1;
	CHECK_OK(waitid(P_PIDFD, fd, &si, WEXITED | WNOHANG));
	CHECK_EQ(si.si_pid, 0);
	kill(pid, SIGKILL);
	CHECK_EQ(poll_in(fd, 5000), POLLIN);
	CHECK_OK(waitid(P_PIDFD, fd, &si, WEXITED | WNOWAIT));
	CHECK_EQ(si.si_pid, pid);
	CHECK_EQ(waitpid(pid, NULL, 0), pid);
	close(fd);
}

TEST(waitid_other_child_is_not_matched) {
	int fd;
	pid_t pid = clone_pidfd(&fd, 3, 200);
	REQUIRE_GT(pid, 0);
	pid_t other = fork();
	REQUIRE_GE(other, 0);
	if (other == 0)
		_exit(0);
	siginfo_t si = {0};
	CHECK_OK(waitid(P_PIDFD, fd, &si, WEXITED));
	CHECK_EQ(si.si_pid, pid);
	CHECK_EQ(si.si_status, 3);
	CHECK_EQ(waitpid(other, NULL, 0), other);
	close(fd);
}

TEST(clone_pidfd_with_parent_settid_is_einval) {
	int fd = -1;
	CHECK_ERR(syscall(SYS_clone, CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, 0, &fd, 0, 0), EINVAL);
	CHECK_EQ(fd, -1);
}

TEST(clone_pidfd_bad_pointer_is_efault) {
	CHECK_ERR(syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, (void *)1, 0, 0), EFAULT);
	/* No child was made. */
	CHECK_ERR(waitpid(-1, NULL, WNOHANG), ECHILD);
}

struct clone_args_v0 {
	unsigned long long flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

TEST(clone3_pidfd) {
	int fd = -1;
	pid_t ptid = 0;
	struct clone_args_v0 ca = {0};
	ca.flags = CLONE_PIDFD | CLONE_PARENT_SETTID;
	ca.pidfd = (unsigned long)&fd;
	ca.parent_tid = (unsigned long)&ptid;
	ca.exit_signal = SIGCHLD;
	long pid = syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid == 0)
		_exit(5);
	REQUIRE_GT(pid, 0);
	CHECK_EQ(ptid, pid);
	REQUIRE_GE(fd, 0);
	siginfo_t si = {0};
	CHECK_OK(waitid(P_PIDFD, fd, &si, WEXITED));
	CHECK_EQ(si.si_pid, pid);
	CHECK_EQ(si.si_status, 5);
	close(fd);
	/* The pidfd and the parent TID cannot share a pointer. */
	ca.parent_tid = ca.pidfd;
	CHECK_ERR(syscall(SYS_clone3, &ca, sizeof(ca)), EINVAL);
}

TEST(send_signal_through_proc_pid_dir) {
	pid_t pid = fork();
	REQUIRE_GE(pid, 0);
	if (pid == 0) {
		for (;;)
			pause();
	}
	char path[32];
	snprintf(path, sizeof(path), "/proc/%d", pid);
	int dfd = CHECK_OK(open(path, O_DIRECTORY | O_RDONLY));
	CHECK_OK(pidfd_send_signal(dfd, SIGTERM, NULL, 0));
	CHECK_EQ(lt_wait_exit(pid), 128 + SIGTERM);
	/* Reaped: the directory names no process. */
	CHECK_ERR(pidfd_send_signal(dfd, 0, NULL, 0), ESRCH);
	/* Other /proc directories are not process handles; nor can waitid use one. */
	siginfo_t si;
	CHECK_ERR(waitid(P_PIDFD, dfd, &si, WEXITED), EBADF);
	close(dfd);
	int fdd = CHECK_OK(open("/proc/self/fd", O_DIRECTORY | O_RDONLY));
	CHECK_ERR(pidfd_send_signal(fdd, 0, NULL, 0), EBADF);
	close(fdd);
}

TEST(waitid_reports_cpu_rusage) {
	int fd;
	long pid = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, &fd, 0, 0);
	if (pid == 0) {
		/*
		 * Spin until this thread has had 150 ms of CPU (wall time is not
		 * enough: on a loaded machine 300 ms of it gave 70 ms natively).
		 */
		struct timespec b;
		volatile unsigned long x = 0;
		do {
			for (int i = 0; i < 100000; i++)
				x += i;
			clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
		} while (b.tv_sec * 1000000000L + b.tv_nsec < 150000000L);
		_exit(0);
	}
	REQUIRE_GT(pid, 0);
	siginfo_t si = {0};
	struct rusage ru;
	memset(&ru, 0xff, sizeof(ru));
	CHECK_OK(syscall(SYS_waitid, P_PIDFD, fd, &si, WEXITED, &ru));
	CHECK_EQ(si.si_pid, pid);
	long us = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000L + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
	CHECK_GE(us, 100000);
	CHECK_LT(us, 60000000);
	close(fd);
}
