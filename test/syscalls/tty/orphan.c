/*
 * Background jobs and orphaned process groups: tcsetpgrp from the
 * background (SIGTTOU unless ignored or blocked), reads and TOSTOP writes
 * from an orphaned background group (EIO instead of a stop), SIGHUP and
 * SIGCONT to a stopped group that becomes orphaned, and writes that
 * ignore job control when TOSTOP is off; a member that has exited is no
 * link to the session (SIGTSTP then does not stop the rest).
 */
#include "lt.h"
#include "lt_pty.h"
#include <poll.h>

/* session_pty makes the in_session caller the owner of a new pty. */
static int session_pty(int *s)
{
	int m = child_pty(s);
	if (m < 0 || ioctl(*s, TIOCSCTTY, 0) != 0)
		return -1;
	return m;
}

/*
 * orphan_run runs fn(s) in a grandchild whose process group is orphaned
 * (its parent, the group's only other member's parent, exits), and returns
 * fn's result, passed back through a pipe.
 */
static int orphan_run(int s, int (*fn)(int))
{
	int res[2];
	if (pipe(res) != 0)
		return -1;
	pid_t mid = fork();
	if (mid == 0) {
		setpgid(0, 0);
		pid_t kid = fork();
		if (kid == 0) {
			/* Wait until our parent is gone: the group is orphaned. */
			while (getppid() == getpgrp())
				usleep(1000);
			char r = (char)fn(s);
			write(res[1], &r, 1);
			_exit(0);
		}
		_exit(0);
	}
	close(res[1]);
	lt_wait_exit(mid);
	char r = 99;
	if (read(res[0], &r, 1) != 1)
		return -2;
	return r;
}

static int orphan_read(int s)
{
	char c;
	/* SIGTTIN is not ignored, but an orphaned group cannot be stopped. */
	return read(s, &c, 1) < 0 && errno == EIO ? 0 : 1;
}

static int orphaned_read_eio(void)
{
	int s, m = session_pty(&s);
	C(m >= 0);
	C(orphan_run(s, orphan_read) == 0);
	return 0;
}
TEST(orphaned_read_eio) { CHECK_EQ(in_session(orphaned_read_eio), 0); }

static int orphan_write(int s)
{
	return write(s, "x", 1) < 0 && errno == EIO ? 0 : 1;
}

static int orphaned_tostop_write_eio(void)
{
	int s, m = session_pty(&s);
	C(m >= 0);
	pty_lflag(s, TOSTOP, 1);
	C(orphan_run(s, orphan_write) == 0);
	return 0;
}
TEST(orphaned_tostop_write_eio) { CHECK_EQ(in_session(orphaned_tostop_write_eio), 0); }

static int orphan_write_no_tostop(int s) { return write(s, "y", 1) == 1 ? 0 : 1; }

static int orphaned_write_without_tostop(void)
{
	int s, m = session_pty(&s);
	C(m >= 0);
	C(orphan_run(s, orphan_write_no_tostop) == 0);
	return 0;
}
TEST(orphaned_write_without_tostop) { CHECK_EQ(in_session(orphaned_write_without_tostop), 0); }

static int bg_tcsetpgrp_stops(void)
{
	int s, m = session_pty(&s);
	C(m >= 0);
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		/* Taking the foreground from the background: SIGTTOU. */
		tcsetpgrp(s, getpgrp());
		_exit(0);
	}
	setpgid(pid, pid);
	int st;
	C(waitpid(pid, &st, WUNTRACED) == pid);
	C(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTTOU);
	C(tcgetpgrp(s) == getpgrp());
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return 0;
}
TEST(bg_tcsetpgrp_stops) { CHECK_EQ(in_session(bg_tcsetpgrp_stops), 0); }

static int bg_tcsetpgrp_ttou_ignored(void)
{
	int s, m = session_pty(&s);
	C(m >= 0);
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		signal(SIGTTOU, SIG_IGN);
		_exit(tcsetpgrp(s, getpgrp()) == 0 ? 0 : 1);
	}
	setpgid(pid, pid);
	C(lt_wait_exit(pid) == 0);
	C(tcgetpgrp(s) == pid);
	return 0;
}
TEST(bg_tcsetpgrp_ttou_ignored) { CHECK_EQ(in_session(bg_tcsetpgrp_ttou_ignored), 0); }

static int bg_tcsetpgrp_ttou_blocked(void)
{
	int s, m = session_pty(&s);
	C(m >= 0);
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGTTOU);
		sigprocmask(SIG_BLOCK, &set, NULL);
		_exit(tcsetpgrp(s, getpgrp()) == 0 ? 0 : 1);
	}
	setpgid(pid, pid);
	C(lt_wait_exit(pid) == 0);
	C(tcgetpgrp(s) == pid);
	return 0;
}
TEST(bg_tcsetpgrp_ttou_blocked) { CHECK_EQ(in_session(bg_tcsetpgrp_ttou_blocked), 0); }

static int bg_read_ttin_blocked_eio(void)
{
	int s, m = session_pty(&s);
	C(m >= 0);
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGTTIN);
		sigprocmask(SIG_BLOCK, &set, NULL);
		char c;
		/* A blocked SIGTTIN is treated like an ignored one: EIO. */
		_exit(read(s, &c, 1) < 0 && errno == EIO ? 0 : 1);
	}
	setpgid(pid, pid);
	C(lt_wait_exit(pid) == 0);
	return 0;
}
TEST(bg_read_ttin_blocked_eio) { CHECK_EQ(in_session(bg_read_ttin_blocked_eio), 0); }

static int stopped_group_orphaned_gets_hup(void)
{
	int s, m = session_pty(&s);
	C(m >= 0);
	int res[2];
	C(pipe(res) == 0);
	pid_t mid = fork();
	if (mid == 0) {
		setpgid(0, 0);
		pid_t kid = fork();
		if (kid == 0) {
			close(res[0]);
			/* Stop; when the group is orphaned the kernel sends
			 * SIGHUP (default: die) and SIGCONT. */
			raise(SIGSTOP);
			_exit(0);
		}
		int st;
		waitpid(kid, &st, WUNTRACED);
		_exit(WIFSTOPPED(st) ? 0 : 1);
	}
	close(res[1]);
	C(lt_wait_exit(mid) == 0);
	char c;
	/* The kid died of SIGHUP: its end of the pipe closed, no byte. */
	C(read(res[0], &c, 1) == 0);
	return 0;
}
TEST(stopped_group_orphaned_gets_hup) { CHECK_EQ(in_session(stopped_group_orphaned_gets_hup), 0); }

/*
 * A zombie is no link: the only member with a parent in another group of
 * the session has exited (its parent has not reaped it), so the group is
 * orphaned and SIGTSTP does not stop the member left.
 */
static int zombie_is_no_link(void)
{
	int res[2];
	C(pipe(res) == 0);
	pid_t mid = fork();
	C(mid >= 0);
	if (mid == 0) {
		pid_t self = getpid();
		setpgid(0, 0);
		if (fork() == 0) {
			/* Wait until mid is a zombie (we are reparented). */
			while (getppid() == self)
				usleep(1000);
			raise(SIGTSTP);
			char ok = 0;
			write(res[1], &ok, 1);
			_exit(0);
		}
		_exit(0);
	}
	close(res[1]);
	/* mid stays unreaped until the kid has answered; a kid that stopped
	 * never answers (the wait bounds a failure only). */
	struct pollfd p = {.fd = res[0], .events = POLLIN};
	char c;
	int answered = poll(&p, 1, 10000) == 1 && read(res[0], &c, 1) == 1;
	if (!answered)
		kill(-mid, SIGKILL);
	lt_wait_exit(mid);
	C(answered);
	return 0;
}
TEST(zombie_is_no_link) { CHECK_EQ(in_session(zombie_is_no_link), 0); }
