/*
 * Window size: TIOCGWINSZ/TIOCSWINSZ on master and slave, SIGWINCH to the
 * foreground process group (only on a change), errors.
 */
#include "lt.h"
#include "lt_pty.h"

static volatile sig_atomic_t winch;
static void on_winch(int sig) { winch++; }

static void catch_winch(void)
{
	struct sigaction sa = {.sa_handler = on_winch};
	sigaction(SIGWINCH, &sa, NULL);
	winch = 0;
}

static int wait_winch(int want)
{
	for (int i = 0; i < 2000 && winch < want; i++)
		usleep(1000);
	return winch;
}

TEST(default_is_zero)
{
	int s;
	int m = pty_open(&s);
	struct winsize w = {1, 1, 1, 1};
	REQUIRE_OK(ioctl(s, TIOCGWINSZ, &w));
	CHECK_EQ(w.ws_row, 0);
	CHECK_EQ(w.ws_col, 0);
	REQUIRE_OK(ioctl(m, TIOCGWINSZ, &w));
	CHECK_EQ(w.ws_row, 0);
}

TEST(set_on_master_seen_on_slave)
{
	int s;
	int m = pty_open(&s);
	struct winsize w = {.ws_row = 24, .ws_col = 80, .ws_xpixel = 640, .ws_ypixel = 480};
	REQUIRE_OK(ioctl(m, TIOCSWINSZ, &w));
	struct winsize g;
	REQUIRE_OK(ioctl(s, TIOCGWINSZ, &g));
	CHECK_EQ(g.ws_row, 24);
	CHECK_EQ(g.ws_col, 80);
	CHECK_EQ(g.ws_xpixel, 640);
	CHECK_EQ(g.ws_ypixel, 480);
}

TEST(set_on_slave_seen_on_master)
{
	int s;
	int m = pty_open(&s);
	struct winsize w = {.ws_row = 50, .ws_col = 132};
	REQUIRE_OK(ioctl(s, TIOCSWINSZ, &w));
	struct winsize g;
	REQUIRE_OK(ioctl(m, TIOCGWINSZ, &g));
	CHECK_EQ(g.ws_row, 50);
	CHECK_EQ(g.ws_col, 132);
}

TEST(winsize_errors)
{
	int s;
	int m = pty_open(&s);
	CHECK_ERR(ioctl(m, TIOCGWINSZ, bad_ptr), EFAULT);
	CHECK_ERR(ioctl(m, TIOCSWINSZ, bad_ptr), EFAULT);
	int f = REQUIRE_OK(open("/dev/null", O_RDWR));
	struct winsize w;
	CHECK_ERR(ioctl(f, TIOCGWINSZ, &w), ENOTTY);
	int p[2];
	REQUIRE_OK(pipe(p));
	CHECK_ERR(ioctl(p[0], TIOCGWINSZ, &w), ENOTTY);
}

static int sigwinch_to_foreground(void)
{
	int s, m = child_pty(&s);
	C(m >= 0);
	C(ioctl(s, TIOCSCTTY, 0) == 0);
	catch_winch();
	struct winsize w = {.ws_row = 10, .ws_col = 20};
	C(ioctl(m, TIOCSWINSZ, &w) == 0);
	C(wait_winch(1) == 1);
	/* Setting the same size again sends nothing. */
	C(ioctl(m, TIOCSWINSZ, &w) == 0);
	usleep(100000);
	C(winch == 1);
	w.ws_col = 21;
	C(ioctl(s, TIOCSWINSZ, &w) == 0);
	C(wait_winch(2) == 2);
	return 0;
}
TEST(sigwinch_to_foreground) { CHECK_EQ(in_session(sigwinch_to_foreground), 0); }

static int sigwinch_not_to_background(void)
{
	int s, m = child_pty(&s);
	C(m >= 0);
	C(ioctl(s, TIOCSCTTY, 0) == 0);
	int sync[2];
	C(pipe(sync) == 0);
	pid_t fg = fork();
	if (fg == 0) {
		setpgid(0, 0);
		catch_winch();
		C(write(sync[1], "r", 1) == 1);
		_exit(wait_winch(1) == 1 ? 0 : 1);
	}
	char r;
	C(read(sync[0], &r, 1) == 1);
	setpgid(fg, fg);
	signal(SIGTTOU, SIG_IGN);
	C(tcsetpgrp(s, fg) == 0);
	/* We are now in the background: the new foreground group gets it,
	 * we do not. */
	catch_winch();
	struct winsize w = {.ws_row = 3, .ws_col = 4};
	C(ioctl(m, TIOCSWINSZ, &w) == 0);
	C(lt_wait_exit(fg) == 0);
	C(winch == 0);
	return 0;
}
TEST(sigwinch_not_to_background) { CHECK_EQ(in_session(sigwinch_not_to_background), 0); }

TEST(no_sigwinch_without_session)
{
	int s;
	int m = pty_open(&s);
	catch_winch();
	struct winsize w = {.ws_row = 7, .ws_col = 8};
	REQUIRE_OK(ioctl(m, TIOCSWINSZ, &w));
	usleep(100000);
	/* Nobody has the terminal as controlling terminal: no signal. */
	CHECK_EQ(winch, 0);
}

TEST(winsize_survives_slave_reopen)
{
	int s;
	int m = pty_open(&s);
	struct winsize w = {.ws_row = 42, .ws_col = 43};
	REQUIRE_OK(ioctl(s, TIOCSWINSZ, &w));
	char name[64];
	strcpy(name, ptsname(m));
	close(s);
	s = REQUIRE_OK(open(name, O_RDWR | O_NOCTTY));
	struct winsize g;
	REQUIRE_OK(ioctl(s, TIOCGWINSZ, &g));
	CHECK_EQ(g.ws_row, 42);
}
