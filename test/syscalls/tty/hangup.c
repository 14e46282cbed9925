/*
 * Hangups: closing the master gives slave readers EOF/EIO and POLLHUP and
 * the session SIGHUP; closing the slave gives EIO on master reads; FIONREAD
 * and TIOCOUTQ on both sides; output flow with the slave closed.
 */
#include "lt.h"
#include "lt_pty.h"

static short revents(int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};
	REQUIRE_OK(poll(&p, 1, 0));
	return p.revents;
}

TEST(master_close_slave_read_eof_or_eio)
{
	int s;
	int m = pty_open(&s);
	close(m);
	char c;
	/* Linux: a hung-up slave reads as EOF (0) once, as EIO later. */
	ssize_t r = read(s, &c, 1);
	CHECK(r == 0 || (r == -1 && errno == EIO));
	CHECK_ERR(write(s, "x", 1), EIO);
}

TEST(master_close_slave_pollhup)
{
	int s;
	int m = pty_open(&s);
	CHECK_EQ(revents(s, POLLIN | POLLOUT), POLLOUT);
	close(m);
	short r = revents(s, POLLIN | POLLOUT);
	CHECK(r & POLLHUP);
}

TEST(master_close_wakes_blocked_reader)
{
	int s;
	int m = pty_open(&s);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		close(m);
		char c;
		ssize_t r = read(s, &c, 1);
		_exit(r == 0 || (r < 0 && errno == EIO) ? 0 : 1);
	}
	close(s);
	usleep(50000);
	close(m);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(slave_close_master_read_eio)
{
	int s;
	int m = pty_open(&s);
	REQUIRE_EQ(write(s, "bye", 3), 3);
	close(s);
	char buf[8];
	/* Pending output is still readable, then EIO. */
	CHECK_EQ(pty_read_all(m, buf, sizeof(buf)), 3);
	CHECK_ERR(read(m, buf, sizeof(buf)), EIO);
	CHECK(revents(m, POLLIN) & POLLHUP);
}

TEST(master_before_slave_open_not_hup)
{
	int m = REQUIRE_OK(posix_openpt(O_RDWR | O_NOCTTY));
	REQUIRE_OK(unlockpt(m));
	/* Never opened slave: reads would block, not EIO. */
	REQUIRE_OK(fcntl(m, F_SETFL, O_NONBLOCK));
	char c;
	CHECK_ERR(read(m, &c, 1), EAGAIN);
}

TEST(slave_reopen_clears_hup)
{
	int s;
	int m = pty_open(&s);
	close(s);
	char c;
	CHECK_ERR(read(m, &c, 1), EIO);
	s = REQUIRE_OK(open(ptsname(m), O_RDWR | O_NOCTTY));
	REQUIRE_EQ(write(s, "z", 1), 1);
	CHECK_EQ(pty_read_all(m, &c, 2), 1);
}

TEST(master_write_with_slave_closed)
{
	int s;
	int m = pty_open(&s);
	close(s);
	/* The master may still write into the slave's input queue. */
	CHECK_EQ(write(m, "a", 1), 1);
}

TEST(fionread_both_sides)
{
	int s;
	int m = pty_open(&s);
	pty_lflag(s, ICANON | ECHO, 0);
	REQUIRE_EQ(write(m, "12345", 5), 5);
	REQUIRE(pty_readable(s, 2000));
	int n = -1;
	REQUIRE_OK(ioctl(s, FIONREAD, &n));
	CHECK_EQ(n, 5);
	REQUIRE_EQ(write(s, "abc", 3), 3);
	REQUIRE(pty_readable(m, 2000));
	REQUIRE_OK(ioctl(m, FIONREAD, &n));
	CHECK_EQ(n, 3);
	CHECK_ERR(ioctl(m, FIONREAD, bad_ptr), EFAULT);
}

TEST(tiocoutq_empty)
{
	int s;
	pty_open(&s);
	int n = -1;
	REQUIRE_OK(ioctl(s, TIOCOUTQ, &n));
	CHECK_EQ(n, 0);
}

static volatile sig_atomic_t hup, cont;
static void on_sig(int sig)
{
	if (sig == SIGHUP)
		hup = 1;
	else
		cont = 1;
}

static int master_close_sighup(void)
{
	int s, m = child_pty(&s);
	C(m >= 0);
	C(ioctl(s, TIOCSCTTY, 0) == 0);
	struct sigaction sa = {.sa_handler = on_sig};
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCONT, &sa, NULL);
	/* Hanging up the terminal sends SIGHUP and SIGCONT to the session
	 * leader (us) and takes the terminal away from the session. */
	close(m);
	for (int i = 0; i < 2000 && !(hup && cont); i++)
		usleep(1000);
	C(hup && cont);
	C(open("/dev/tty", O_RDWR) < 0 && errno == ENXIO);
	return 0;
}
TEST(master_close_sighup) { CHECK_EQ(in_session(master_close_sighup), 0); }

static int leader_exit_sighups_foreground(void)
{
	int s, m = child_pty(&s);
	C(m >= 0);
	int alive[2];
	C(pipe(alive) == 0);
	pid_t leader = fork();
	if (leader == 0) {
		setsid();
		if (ioctl(s, TIOCSCTTY, 0) != 0)
			_exit(1);
		if (fork() == 0) {
			/* In the foreground group; holds the pipe open. */
			close(alive[0]);
			for (;;)
				pause();
		}
		_exit(0);
	}
	close(alive[1]);
	C(lt_wait_exit(leader) == 0);
	/* The leader's exit sent SIGHUP to the foreground group: the kid
	 * died and the pipe reads EOF. */
	char c;
	C(read(alive[0], &c, 1) == 0);
	/* The terminal belongs to no session now: we may take it. */
	C(ioctl(s, TIOCSCTTY, 0) == 0);
	C(tcgetsid(s) == getpid());
	return 0;
}
TEST(leader_exit_sighups_foreground) { CHECK_EQ(in_session(leader_exit_sighups_foreground), 0); }
