/*
 * Controlling terminals: TIOCSCTTY in a new session, /dev/tty, TIOCNOTTY,
 * acquiring on open, tcgetpgrp/tcsetpgrp, tcgetsid, and their errors. Each
 * case works in a child that calls setsid() (the case itself is a process
 * group leader and cannot).
 */
#include "lt.h"
#include "lt_pty.h"

static int tiocsctty_then_dev_tty(void)
{
	int s, m = child_pty(&s);
	C(m >= 0);
	C(open("/dev/tty", O_RDWR) < 0 && errno == ENXIO);
	C(ioctl(s, TIOCSCTTY, 0) == 0);
	int t = open("/dev/tty", O_RDWR);
	C(t >= 0);
	C(write(t, "via tty\n", 8) == 8);
	char buf[32];
	C(pty_read_all(m, buf, sizeof(buf)) == 9);
	C(strcmp(buf, "via tty\r\n") == 0);
	C(tcgetpgrp(s) == getpid());
	C(tcgetsid(s) == getpid());
	return 0;
}
TEST(tiocsctty_then_dev_tty) { CHECK_EQ(in_session(tiocsctty_then_dev_tty), 0); }

static int open_without_noctty_acquires(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	C(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0);
	int s = open(ptsname(m), O_RDWR);
	C(s >= 0);
	int t = open("/dev/tty", O_RDWR);
	C(t >= 0);
	C(tcgetsid(s) == getpid());
	return 0;
}
TEST(open_without_noctty_acquires) { CHECK_EQ(in_session(open_without_noctty_acquires), 0); }

static int noctty_does_not_acquire(void)
{
	int s, m = child_pty(&s);
	C(m >= 0);
	C(open("/dev/tty", O_RDWR) < 0 && errno == ENXIO);
	C(tcgetsid(s) < 0 && errno == ENOTTY);
	return 0;
}
TEST(noctty_does_not_acquire) { CHECK_EQ(in_session(noctty_does_not_acquire), 0); }

static int tiocnotty_releases(void)
{
	int s, m = child_pty(&s);
	C(m >= 0);
	C(ioctl(s, TIOCSCTTY, 0) == 0);
	signal(SIGHUP, SIG_IGN);
	C(ioctl(s, TIOCNOTTY) == 0);
	C(open("/dev/tty", O_RDWR) < 0 && errno == ENXIO);
	/* TIOCNOTTY on a terminal that is not ours: ENOTTY. */
	C(ioctl(s, TIOCNOTTY) < 0 && errno == ENOTTY);
	return 0;
}
TEST(tiocnotty_releases) { CHECK_EQ(in_session(tiocnotty_releases), 0); }

static int tiocsctty_errors(void)
{
	int s, m = child_pty(&s);
	C(m >= 0);
	C(ioctl(s, TIOCSCTTY, 0) == 0);
	/* Again on the same terminal: fine. */
	C(ioctl(s, TIOCSCTTY, 0) == 0);
	/* Another terminal while we have one: EPERM. */
	int s2, m2 = child_pty(&s2);
	C(m2 >= 0);
	C(ioctl(s2, TIOCSCTTY, 0) < 0 && errno == EPERM);
	/* A non-leader cannot take a terminal. */
	pid_t pid = fork();
	if (pid == 0) {
		int r = ioctl(s2, TIOCSCTTY, 0);
		_exit(r < 0 && errno == EPERM ? 0 : 1);
	}
	C(lt_wait_exit(pid) == 0);
	return 0;
}
TEST(tiocsctty_errors) { CHECK_EQ(in_session(tiocsctty_errors), 0); }

static int tiocsctty_steals_only_with_arg(void)
{
	int s, m = child_pty(&s);
	C(m >= 0);
	C(ioctl(s, TIOCSCTTY, 0) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		setsid();
		/* Another session's terminal: EPERM unless root steals it
		 * with arg 1. */
		if (ioctl(s, TIOCSCTTY, 0) == 0 || errno != EPERM)
			_exit(1);
		if (ioctl(s, TIOCSCTTY, 1) != 0)
			_exit(2);
		_exit(tcgetsid(s) == getpid() ? 0 : 3);
	}
	C(lt_wait_exit(pid) == 0);
	return 0;
}
TEST(tiocsctty_steals_only_with_arg) { CHECK_EQ(in_session(tiocsctty_steals_only_with_arg), 0); }

static int tcsetpgrp_moves_foreground(void)
{
	int s, m = child_pty(&s);
	C(m >= 0);
	C(ioctl(s, TIOCSCTTY, 0) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		pause();
		_exit(0);
	}
	C(setpgid(pid, pid) == 0);
	C(tcsetpgrp(s, pid) == 0);
	C(tcgetpgrp(s) == pid);
	C(tcgetpgrp(m) == pid);
	signal(SIGTTOU, SIG_IGN);
	C(tcsetpgrp(s, getpgrp()) == 0);
	C(tcgetpgrp(s) == getpid());
	kill(pid, SIGKILL);
	lt_wait_exit(pid);
	return 0;
}
TEST(tcsetpgrp_moves_foreground) { CHECK_EQ(in_session(tcsetpgrp_moves_foreground), 0); }

static int tcsetpgrp_errors(void)
{
	int s, m = child_pty(&s);
	C(m >= 0);
	/* Not our controlling terminal: ENOTTY. */
	C(tcsetpgrp(s, getpgrp()) < 0 && errno == ENOTTY);
	C(ioctl(s, TIOCSCTTY, 0) == 0);
	/* A group that does not exist in our session: EPERM. */
	C(tcsetpgrp(s, 1) < 0 && errno == EPERM);
	C(tcsetpgrp(s, -5) < 0 && errno == EINVAL);
	C(ioctl(s, TIOCSPGRP, bad_ptr) < 0 && errno == EFAULT);
	int f = open("/dev/null", O_RDWR);
	C(tcsetpgrp(f, getpgrp()) < 0 && errno == ENOTTY);
	return 0;
}
TEST(tcsetpgrp_errors) { CHECK_EQ(in_session(tcsetpgrp_errors), 0); }

static int tcgetpgrp_other_terminal(void)
{
	int s, m = child_pty(&s);
	C(m >= 0);
	/* Not our controlling terminal: ENOTTY from the slave. */
	C(tcgetpgrp(s) < 0 && errno == ENOTTY);
	return 0;
}
TEST(tcgetpgrp_other_terminal) { CHECK_EQ(in_session(tcgetpgrp_other_terminal), 0); }

static int dev_tty_survives_fd_close(void)
{
	int s, m = child_pty(&s);
	C(m >= 0);
	C(ioctl(s, TIOCSCTTY, 0) == 0);
	close(s);
	/* The session keeps the terminal without any descriptor. */
	int t = open("/dev/tty", O_RDWR);
	C(t >= 0);
	C(isatty(t));
	struct stat a, b;
	C(fstat(t, &a) == 0);
	C(stat("/dev/tty", &b) == 0);
	C(S_ISCHR(b.st_mode));
	return 0;
}
TEST(dev_tty_survives_fd_close) { CHECK_EQ(in_session(dev_tty_survives_fd_close), 0); }

static int child_inherits_ctty(void)
{
	int s, m = child_pty(&s);
	C(m >= 0);
	C(ioctl(s, TIOCSCTTY, 0) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		int t = open("/dev/tty", O_RDWR);
		_exit(t >= 0 && tcgetsid(t) == getsid(0) ? 0 : 1);
	}
	C(lt_wait_exit(pid) == 0);
	/* A child that starts its own session loses it. */
	pid = fork();
	if (pid == 0) {
		setsid();
		_exit(open("/dev/tty", O_RDWR) < 0 && errno == ENXIO ? 0 : 1);
	}
	C(lt_wait_exit(pid) == 0);
	return 0;
}
TEST(child_inherits_ctty) { CHECK_EQ(in_session(child_inherits_ctty), 0); }
