/*
 * More terminal ioctls: packet mode (TIOCPKT), software flow control (IXON
 * with VSTOP/VSTART, tcflow), TIOCSTI, TIOCEXCL, line disciplines, breaks,
 * TIOCGSID/TIOCGPGRP from the master side, and EINVAL/ENOTTY/EFAULT.
 */
#include "lt.h"
#include "lt_pty.h"

TEST(packet_mode_data)
{
	int s;
	int m = pty_open(&s);
	int one = 1;
	REQUIRE_OK(ioctl(m, TIOCPKT, &one));
	int got = 0;
	REQUIRE_OK(ioctl(m, TIOCGPKT, &got));
	CHECK_EQ(got, 1);
	pty_put(s, "data");
	char buf[16];
	/* Each read starts with a status byte: TIOCPKT_DATA (0). */
	CHECK_EQ(pty_read_all(m, buf, sizeof(buf)), 5);
	CHECK_EQ(buf[0], TIOCPKT_DATA);
	CHECK_MEMEQ(buf + 1, "data", 4);
}

TEST(packet_mode_flush_status)
{
	int s;
	int m = pty_open(&s);
	int one = 1;
	REQUIRE_OK(ioctl(m, TIOCPKT, &one));
	REQUIRE_OK(tcflush(s, TCIFLUSH));
	char buf[16];
	REQUIRE(pty_readable(m, 2000));
	CHECK_EQ(read(m, buf, sizeof(buf)), 1);
	CHECK(buf[0] & TIOCPKT_FLUSHREAD);
}

TEST(packet_mode_stop_start)
{
	int s;
	int m = pty_open(&s);
	int one = 1;
	REQUIRE_OK(ioctl(m, TIOCPKT, &one));
	REQUIRE_OK(tcflow(s, TCOOFF));
	char buf[16];
	REQUIRE(pty_readable(m, 2000));
	CHECK_EQ(read(m, buf, sizeof(buf)), 1);
	CHECK(buf[0] & TIOCPKT_STOP);
	REQUIRE_OK(tcflow(s, TCOON));
	REQUIRE(pty_readable(m, 2000));
	CHECK_EQ(read(m, buf, sizeof(buf)), 1);
	CHECK(buf[0] & TIOCPKT_START);
}

TEST(tcflow_suspends_output)
{
	int s;
	int m = pty_open(&s);
	REQUIRE_OK(tcflow(s, TCOOFF));
	REQUIRE_OK(fcntl(s, F_SETFL, O_NONBLOCK));
	/* Writers wait while output is stopped. */
	CHECK_ERR(write(s, "held", 4), EAGAIN);
	CHECK_EQ(pty_readable(m, 200), 0);
	REQUIRE_OK(tcflow(s, TCOON));
	CHECK_EQ(write(s, "held", 4), 4);
	char buf[16];
	CHECK_EQ(pty_read_all(m, buf, sizeof(buf)), 4);
	CHECK_STREQ(buf, "held");
	CHECK_ERR(tcflow(s, 99), EINVAL);
}

TEST(ixon_stop_start_chars)
{
	int s;
	int m = pty_open(&s);
	pty_lflag(s, ECHO, 0);
	/* ^S typed on the terminal stops output, ^Q restarts it; neither is
	 * input. */
	pty_put(m, "\023");
	REQUIRE_OK(fcntl(s, F_SETFL, O_NONBLOCK));
	/* Linux applies typed input asynchronously: write until the stop
	 * takes effect. */
	int stopped = 0;
	for (int i = 0; i < 200 && !stopped; i++) {
		if (write(s, "x", 1) < 0 && errno == EAGAIN)
			stopped = 1;
		else
			usleep(10000);
	}
	CHECK(stopped);
	char buf[256];
	pty_read_all(m, buf, sizeof(buf));
	pty_put(m, "\021");
	int n = -1;
	for (int i = 0; i < 200 && n < 0; i++)
		if ((n = write(s, "out", 3)) < 0)
			usleep(10000);
	CHECK_EQ(n, 3);
	CHECK_EQ(pty_read_all(m, buf, sizeof(buf)), 3);
	CHECK_STREQ(buf, "out");
	pty_lflag(s, ICANON, 0);
	CHECK_EQ(pty_readable(s, 200), 0);
}

TEST(ixon_off_passes_chars)
{
	int s;
	int m = pty_open(&s);
	struct termios t;
	REQUIRE_OK(tcgetattr(s, &t));
	t.c_iflag &= ~IXON;
	t.c_lflag &= ~(ECHO | ICANON);
	REQUIRE_OK(tcsetattr(s, TCSANOW, &t));
	pty_put(m, "\023\021");
	char buf[8];
	CHECK_EQ(pty_read_all(s, buf, sizeof(buf)), 2);
	CHECK_EQ(buf[0], 023);
	CHECK_EQ(buf[1], 021);
}

TEST(tiocsti_as_root)
{
	int s;
	pty_open(&s);
	pty_lflag(s, ECHO | ICANON, 0);
	char c = 'Z';
	/* Root may fake input on a terminal it does not control. */
	REQUIRE_OK(ioctl(s, TIOCSTI, &c));
	char buf[4];
	CHECK_EQ(pty_read_all(s, buf, sizeof(buf)), 1);
	CHECK_EQ(buf[0], 'Z');
}

TEST(tiocexcl)
{
	int s;
	int m = pty_open(&s);
	char name[64];
	strcpy(name, ptsname(m));
	REQUIRE_OK(chmod(name, 0666));
	REQUIRE_OK(ioctl(s, TIOCEXCL));
	int excl = 0;
	REQUIRE_OK(ioctl(s, TIOCGEXCL, &excl));
	CHECK_EQ(excl, 1);
	/* Exclusive mode: only root may open the terminal again. */
	int r = CHECK_OK(open(name, O_RDWR | O_NOCTTY));
	close(r);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		setresuid(65534, 65534, 65534);
		_exit(open(name, O_RDWR | O_NOCTTY) < 0 && errno == EBUSY ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
	REQUIRE_OK(ioctl(s, TIOCNXCL));
	pid = REQUIRE_OK(fork());
	if (pid == 0) {
		setresuid(65534, 65534, 65534);
		_exit(open(name, O_RDWR | O_NOCTTY) >= 0 ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

static int tiocsti_unprivileged(void)
{
	int s, m = child_pty(&s);
	C(m >= 0);
	int s2, m2 = child_pty(&s2);
	C(m2 >= 0);
	C(ioctl(s, TIOCSCTTY, 0) == 0);
	C(setresuid(65534, 65534, 65534) == 0);
	char c = 'q';
	/* Not our controlling terminal: EPERM. */
	C(ioctl(s2, TIOCSTI, &c) < 0 && errno == EPERM);
	/* Our own: allowed, or EIO where the host disabled legacy TIOCSTI. */
	int r = ioctl(s, TIOCSTI, &c);
	C(r == 0 || errno == EIO);
	C(ioctl(s, TIOCSTI, bad_ptr) < 0 && (errno == EFAULT || errno == EIO));
	return 0;
}
TEST(tiocsti_unprivileged) { CHECK_EQ(in_session(tiocsti_unprivileged), 0); }

TEST(line_discipline)
{
	int s;
	pty_open(&s);
	int ld = -1;
	REQUIRE_OK(ioctl(s, TIOCGETD, &ld));
	CHECK_EQ(ld, N_TTY);
	int bad = 99;
	CHECK_ERR(ioctl(s, TIOCSETD, &bad), EINVAL);
	CHECK_ERR(ioctl(s, TIOCGETD, bad_ptr), EFAULT);
}

TEST(tcsendbreak_and_drain)
{
	int s;
	int m = pty_open(&s);
	CHECK_OK(tcsendbreak(s, 0));
	CHECK_OK(tcdrain(s));
	CHECK_OK(tcdrain(m));
}

TEST(master_sees_session_and_group)
{
	int s;
	int m = pty_open(&s);
	pid_t pg = -1;
	/* No session has it: the master reports no group (0), no session
	 * (ENOTTY); the slave refuses both, not being our terminal. */
	REQUIRE_OK(ioctl(m, TIOCGPGRP, &pg));
	CHECK_EQ(pg, 0);
	pid_t sid;
	CHECK_ERR(ioctl(m, TIOCGSID, &sid), ENOTTY);
	CHECK_ERR(ioctl(s, TIOCGPGRP, &pg), ENOTTY);
}

static int master_reports_foreground(void)
{
	int s, m = child_pty(&s);
	C(m >= 0);
	C(ioctl(s, TIOCSCTTY, 0) == 0);
	pid_t pg = 0, sid = 0;
	/* The master answers for the slave's session. */
	C(ioctl(m, TIOCGPGRP, &pg) == 0);
	C(pg == getpgrp());
	C(ioctl(m, TIOCGSID, &sid) == 0);
	C(sid == getsid(0));
	return 0;
}
TEST(master_reports_foreground) { CHECK_EQ(in_session(master_reports_foreground), 0); }

TEST(unknown_ioctl_enotty)
{
	int s;
	int m = pty_open(&s);
	CHECK_ERR(ioctl(s, 0x5499), ENOTTY);
	CHECK_ERR(ioctl(m, 0x5499), ENOTTY);
}
