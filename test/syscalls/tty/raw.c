/*
 * Non-canonical mode: VMIN/VTIME combinations, cfmakeraw, special
 * characters passed through, termios get/set and their errors.
 */
#include "lt.h"
#include "lt_pty.h"

/* raw_pty returns a master whose slave (*s) is raw with VMIN/VTIME set. */
static int raw_pty(int *s, int vmin, int vtime)
{
	int m = pty_open(s);
	pty_raw(*s, vmin, vtime);
	return m;
}

TEST(vmin0_vtime0_returns_at_once)
{
	int s;
	raw_pty(&s, 0, 0);
	char buf[8];
	/* Nothing there: a blocking read returns 0 at once. */
	CHECK_EQ(read(s, buf, sizeof(buf)), 0);
}

TEST(vmin0_vtime0_returns_available)
{
	int s;
	int m = raw_pty(&s, 0, 0);
	REQUIRE_EQ(write(m, "abc", 3), 3);
	REQUIRE(pty_readable(s, 2000));
	char buf[8];
	CHECK_EQ(read(s, buf, sizeof(buf)), 3);
}

TEST(vmin_waits_for_count)
{
	int s;
	int m = raw_pty(&s, 4, 0);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		for (int i = 0; i < 4; i++) {
			usleep(20000);
			if (write(m, "x", 1) != 1)
				_exit(1);
		}
		_exit(0);
	}
	char buf[8];
	/* The read returns only once VMIN bytes are there. */
	CHECK_EQ(read(s, buf, sizeof(buf)), 4);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(vmin_smaller_buffer)
{
	int s;
	int m = raw_pty(&s, 5, 0);
	REQUIRE_EQ(write(m, "abcdef", 6), 6);
	REQUIRE(pty_readable(s, 2000));
	char buf[8];
	/* A buffer smaller than VMIN returns as soon as it is filled. */
	CHECK_EQ(read(s, buf, 2), 2);
	CHECK_MEMEQ(buf, "ab", 2);
}

TEST(vtime_timeout_returns_zero)
{
	int s;
	raw_pty(&s, 0, 1);
	char buf[8];
	/* VMIN 0, VTIME 1: wait up to 0.1 s, then 0. */
	CHECK_EQ(read(s, buf, sizeof(buf)), 0);
}

TEST(vtime_returns_data_early)
{
	int s;
	int m = raw_pty(&s, 0, 50);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		usleep(20000);
		_exit(write(m, "d", 1) == 1 ? 0 : 1);
	}
	char buf[8];
	CHECK_EQ(read(s, buf, sizeof(buf)), 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(vmin_vtime_interbyte)
{
	int s;
	int m = raw_pty(&s, 10, 1);
	REQUIRE_EQ(write(m, "abc", 3), 3);
	char buf[16];
	/* Fewer than VMIN bytes, then silence: the inter-byte timer ends the
	 * read with what arrived. */
	CHECK_EQ(read(s, buf, sizeof(buf)), 3);
}

TEST(raw_passes_control_characters)
{
	int s;
	int m = raw_pty(&s, 1, 0);
	const char in[] = "\003\004\r\177\032\n";
	REQUIRE_EQ(write(m, in, 6), 6);
	char buf[16];
	CHECK_EQ(pty_read_all(s, buf, sizeof(buf)), 6);
	CHECK_MEMEQ(buf, in, 6);
}

TEST(raw_output_not_translated)
{
	int s;
	int m = raw_pty(&s, 1, 0);
	REQUIRE_EQ(write(s, "a\nb", 3), 3);
	char buf[16];
	CHECK_EQ(pty_read_all(m, buf, sizeof(buf)), 3);
	CHECK_STREQ(buf, "a\nb");
}

TEST(cfmakeraw_values)
{
	int s;
	raw_pty(&s, 1, 0);
	struct termios t;
	REQUIRE_OK(tcgetattr(s, &t));
	CHECK_EQ(t.c_lflag & (ICANON | ECHO | ISIG | IEXTEN), 0);
	CHECK_EQ(t.c_iflag & (ICRNL | IXON | BRKINT), 0);
	CHECK_EQ(t.c_oflag & OPOST, 0);
	CHECK_EQ(t.c_cflag & CSIZE, CS8);
}

TEST(default_termios)
{
	int s;
	pty_open(&s);
	struct termios t;
	REQUIRE_OK(tcgetattr(s, &t));
	/* Linux's defaults for a new pty. */
	CHECK_EQ(t.c_lflag & (ICANON | ECHO | ISIG | IEXTEN | ECHOE | ECHOK | ECHOCTL | ECHOKE),
		 ICANON | ECHO | ISIG | IEXTEN | ECHOE | ECHOK | ECHOCTL | ECHOKE);
	CHECK_EQ(t.c_iflag & (ICRNL | IXON), ICRNL | IXON);
	CHECK_EQ(t.c_oflag & (OPOST | ONLCR), OPOST | ONLCR);
	CHECK_EQ(t.c_cc[VINTR], 3);
	CHECK_EQ(t.c_cc[VQUIT], 034);
	CHECK_EQ(t.c_cc[VERASE], 0177);
	CHECK_EQ(t.c_cc[VKILL], 025);
	CHECK_EQ(t.c_cc[VEOF], 4);
	CHECK_EQ(t.c_cc[VSUSP], 032);
	CHECK_EQ(t.c_cc[VMIN], 1);
	CHECK_EQ(cfgetospeed(&t), B38400);
}

TEST(termios_shared_by_master_and_slave)
{
	int s;
	int m = pty_open(&s);
	struct termios t;
	REQUIRE_OK(tcgetattr(m, &t));
	t.c_lflag &= ~ECHO;
	REQUIRE_OK(tcsetattr(m, TCSANOW, &t));
	struct termios u;
	REQUIRE_OK(tcgetattr(s, &u));
	CHECK_EQ(u.c_lflag & ECHO, 0);
}

TEST(tcsetattr_errors)
{
	int s;
	pty_open(&s);
	struct termios t;
	REQUIRE_OK(tcgetattr(s, &t));
	CHECK_ERR(tcsetattr(s, 99, &t), EINVAL);
	CHECK_ERR(ioctl(s, TCGETS, bad_ptr), EFAULT);
	CHECK_ERR(ioctl(s, TCSETS, bad_ptr), EFAULT);
	int f = REQUIRE_OK(open("/dev/null", O_RDWR));
	CHECK_ERR(tcgetattr(f, &t), ENOTTY);
	CHECK_ERR(tcgetattr(999, &t), EBADF);
}

TEST(tcsetattr_speed)
{
	int s;
	pty_open(&s);
	struct termios t;
	REQUIRE_OK(tcgetattr(s, &t));
	REQUIRE_OK(cfsetspeed(&t, B9600));
	REQUIRE_OK(tcsetattr(s, TCSANOW, &t));
	REQUIRE_OK(tcgetattr(s, &t));
	CHECK_EQ(cfgetispeed(&t), B9600);
	CHECK_EQ(cfgetospeed(&t), B9600);
}

TEST(tcflush_discards_input)
{
	int s;
	int m = raw_pty(&s, 0, 0);
	REQUIRE_EQ(write(m, "junk", 4), 4);
	REQUIRE(pty_readable(s, 2000));
	REQUIRE_OK(tcflush(s, TCIFLUSH));
	char buf[8];
	CHECK_EQ(read(s, buf, sizeof(buf)), 0);
	CHECK_ERR(tcflush(s, 99), EINVAL);
}

TEST(tcsetattr_tcsaflush_discards_input)
{
	int s;
	int m = raw_pty(&s, 0, 0);
	REQUIRE_EQ(write(m, "junk", 4), 4);
	REQUIRE(pty_readable(s, 2000));
	struct termios t;
	REQUIRE_OK(tcgetattr(s, &t));
	REQUIRE_OK(tcsetattr(s, TCSAFLUSH, &t));
	char buf[8];
	CHECK_EQ(read(s, buf, sizeof(buf)), 0);
	CHECK_OK(tcdrain(s));
}
