/*
 * Job-control signals from a terminal: VINTR/SIGINT, VQUIT/SIGQUIT,
 * VSUSP/SIGTSTP to the foreground group, ISIG and NOFLSH, SIGTTOU for
 * background writes with TOSTOP and for background tcsetattr, SIGTTIN for
 * background reads, and the EIO/ignored cases.
 */
#include "lt.h"
#include "lt_pty.h"

static volatile sig_atomic_t got;
static void on_sig(int sig) { got = sig; }

/* catch_sig installs on_sig without SA_RESTART, so that an interrupted
 * terminal call fails with EINTR instead of restarting. */
static void catch_sig(int sig)
{
	struct sigaction sa = {.sa_handler = on_sig};
	sigaction(sig, &sa, NULL);
	got = 0;
}

/* wait_sig waits (bounded) for the handler to record a signal. */
static int wait_sig(void)
{
	for (int i = 0; i < 2000 && !got; i++)
		usleep(1000);
	return got;
}

/* session_pty makes the in_session caller the owner of a new pty: its
 * controlling terminal, with the caller's group in the foreground. */
static int session_pty(int *s)
{
	int m = child_pty(s);
	if (m < 0 || ioctl(*s, TIOCSCTTY, 0) != 0)
		return -1;
	return m;
}

static int char_sends(int idx, int sig)
{
	int s, m = session_pty(&s);
	C(m >= 0);
	struct termios t;
	C(tcgetattr(s, &t) == 0);
	catch_sig(sig);
	char c = t.c_cc[idx];
	C(write(m, &c, 1) == 1);
	C(wait_sig() == sig);
	return 0;
}

static int vintr(void) { return char_sends(VINTR, SIGINT); }
TEST(vintr_sends_sigint) { CHECK_EQ(in_session(vintr), 0); }

static int vquit(void) { return char_sends(VQUIT, SIGQUIT); }
TEST(vquit_sends_sigquit) { CHECK_EQ(in_session(vquit), 0); }

static int vsusp(void) { return char_sends(VSUSP, SIGTSTP); }
TEST(vsusp_sends_sigtstp) { CHECK_EQ(in_session(vsusp), 0); }

static int vintr_flushes_input(void)
{
	int s, m = session_pty(&s);
	C(m >= 0);
	pty_lflag(s, ECHO, 0);
	catch_sig(SIGINT);
	C(write(m, "typed", 5) == 5);
	C(write(m, "\003", 1) == 1);
	C(wait_sig() == SIGINT);
	C(write(m, "x\n", 2) == 2);
	char buf[16];
	/* The partial line before ^C is gone (NOFLSH is off). */
	C(pty_read_all(s, buf, sizeof(buf)) == 2);
	C(strcmp(buf, "x\n") == 0);
	return 0;
}
TEST(vintr_flushes_input) { CHECK_EQ(in_session(vintr_flushes_input), 0); }

static int isig_off_passes_through(void)
{
	int s, m = session_pty(&s);
	C(m >= 0);
	pty_lflag(s, ISIG | ICANON | ECHO, 0);
	catch_sig(SIGINT);
	C(write(m, "\003", 1) == 1);
	char c;
	C(pty_readable(s, 2000));
	C(read(s, &c, 1) == 1);
	C(c == 3);
	C(got == 0);
	return 0;
}
TEST(isig_off_passes_through) { CHECK_EQ(in_session(isig_off_passes_through), 0); }

static int sigint_reaches_foreground_group_only(void)
{
	int s, m = session_pty(&s);
	C(m >= 0);
	signal(SIGINT, SIG_IGN);
	/* A foreground job in its own group. */
	int sync[2];
	C(pipe(sync) == 0);
	pid_t fg = fork();
	if (fg == 0) {
		setpgid(0, 0);
		signal(SIGINT, SIG_DFL);
		C(write(sync[1], "r", 1) == 1);
		for (;;)
			pause();
	}
	char r;
	C(read(sync[0], &r, 1) == 1);
	setpgid(fg, fg);
	signal(SIGTTOU, SIG_IGN);
	C(tcsetpgrp(s, fg) == 0);
	C(write(m, "\003", 1) == 1);
	int st;
	C(waitpid(fg, &st, 0) == fg);
	C(WIFSIGNALED(st) && WTERMSIG(st) == SIGINT);
	return 0;
}
TEST(sigint_reaches_foreground_group_only)
{
	CHECK_EQ(in_session(sigint_reaches_foreground_group_only), 0);
}

/* background runs fn in a child in a background group of the session and
 * returns its exit status (or 128+signal). */
static int background(int s, int (*fn)(int))
{
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		_exit(fn(s));
	}
	setpgid(pid, pid);
	return lt_wait_exit(pid);
}

static int bg_write(int s) { return write(s, "bg\n", 3) == 3 ? 0 : 1; }

static int tostop_sends_sigttou(void)
{
	int s, m = session_pty(&s);
	C(m >= 0);
	/* Without TOSTOP a background write goes through. */
	C(background(s, bg_write) == 0);
	pty_lflag(s, TOSTOP, 1);
	/* With TOSTOP it stops the writer: the child's group gets SIGTTOU,
	 * whose default stops it; seen as a WUNTRACED stop. */
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		_exit(bg_write(s));
	}
	setpgid(pid, pid);
	int st;
	C(waitpid(pid, &st, WUNTRACED) == pid);
	C(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTTOU);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	(void)m;
	return 0;
}
TEST(tostop_sends_sigttou) { CHECK_EQ(in_session(tostop_sends_sigttou), 0); }

static int bg_write_ignoring_ttou(int s)
{
	signal(SIGTTOU, SIG_IGN);
	return bg_write(s);
}

static int tostop_ignored_sigttou_writes(void)
{
	int s, m = session_pty(&s);
	C(m >= 0);
	pty_lflag(s, TOSTOP, 1);
	C(background(s, bg_write_ignoring_ttou) == 0);
	return 0;
}
TEST(tostop_ignored_sigttou_writes) { CHECK_EQ(in_session(tostop_ignored_sigttou_writes), 0); }

static int bg_read(int s)
{
	catch_sig(SIGTTIN);
	char c;
	ssize_t r = read(s, &c, 1);
	/* The handler ran, the read was interrupted. */
	return r < 0 && errno == EINTR && got == SIGTTIN ? 0 : 1;
}

static int background_read_sigttin(void)
{
	int s, m = session_pty(&s);
	C(m >= 0);
	C(background(s, bg_read) == 0);
	return 0;
}
TEST(background_read_sigttin) { CHECK_EQ(in_session(background_read_sigttin), 0); }

static int bg_read_ignoring_ttin(int s)
{
	signal(SIGTTIN, SIG_IGN);
	char c;
	return read(s, &c, 1) < 0 && errno == EIO ? 0 : 1;
}

static int background_read_ignored_eio(void)
{
	int s, m = session_pty(&s);
	C(m >= 0);
	C(background(s, bg_read_ignoring_ttin) == 0);
	return 0;
}
TEST(background_read_ignored_eio) { CHECK_EQ(in_session(background_read_ignored_eio), 0); }

static int bg_tcsetattr(int s)
{
	struct termios t;
	if (tcgetattr(s, &t) != 0)
		return 1;
	catch_sig(SIGTTOU);
	/* Changing the terminal from the background: SIGTTOU even without
	 * TOSTOP. */
	int r = tcsetattr(s, TCSANOW, &t);
	return r < 0 && errno == EINTR && got == SIGTTOU ? 0 : 2;
}

static int background_tcsetattr_sigttou(void)
{
	int s, m = session_pty(&s);
	C(m >= 0);
	C(background(s, bg_tcsetattr) == 0);
	return 0;
}
TEST(background_tcsetattr_sigttou) { CHECK_EQ(in_session(background_tcsetattr_sigttou), 0); }

static int bg_read_stopped(int s)
{
	char c;
	read(s, &c, 1);
	return 0;
}

static int background_read_stops(void)
{
	int s, m = session_pty(&s);
	C(m >= 0);
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		_exit(bg_read_stopped(s));
	}
	setpgid(pid, pid);
	int st;
	C(waitpid(pid, &st, WUNTRACED) == pid);
	C(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTTIN);
	/* Brought to the foreground and continued, it reads. */
	signal(SIGTTOU, SIG_IGN);
	C(tcsetpgrp(s, pid) == 0);
	C(write(m, "k\n", 2) == 2);
	C(kill(pid, SIGCONT) == 0);
	C(waitpid(pid, &st, 0) == pid);
	C(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return 0;
}
TEST(background_read_stops) { CHECK_EQ(in_session(background_read_stops), 0); }
