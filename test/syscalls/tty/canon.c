/*
 * Canonical mode (ICANON): line buffering, VERASE, VKILL, VWERASE, VEOF,
 * VEOL, partial reads of a line, FIONREAD, switching ICANON off.
 */
#include "lt.h"
#include "lt_pty.h"

/* canon_pty returns a master whose slave (*s) is canonical without echo. */
static int canon_pty(int *s)
{
	int m = pty_open(s);
	pty_lflag(*s, ECHO, 0);
	pty_lflag(*s, ICANON, 1);
	return m;
}

TEST(no_data_before_newline)
{
	int s;
	int m = canon_pty(&s);
	pty_put(m, "abc");
	CHECK_EQ(pty_readable(s, 200), 0);
	int n = -1;
	REQUIRE_OK(ioctl(s, FIONREAD, &n));
	CHECK_EQ(n, 0);
	pty_put(m, "\n");
	char buf[16];
	CHECK_EQ(pty_read_all(s, buf, sizeof(buf)), 4);
	CHECK_STREQ(buf, "abc\n");
}

TEST(one_line_per_read)
{
	int s;
	int m = canon_pty(&s);
	pty_put(m, "one\ntwo\n");
	REQUIRE(pty_readable(s, 2000));
	char buf[16];
	CHECK_EQ(read(s, buf, sizeof(buf)), 4);
	CHECK_MEMEQ(buf, "one\n", 4);
	CHECK_EQ(read(s, buf, sizeof(buf)), 4);
	CHECK_MEMEQ(buf, "two\n", 4);
}

TEST(partial_read_of_line)
{
	int s;
	int m = canon_pty(&s);
	pty_put(m, "abcdef\n");
	REQUIRE(pty_readable(s, 2000));
	char buf[16];
	CHECK_EQ(read(s, buf, 2), 2);
	CHECK_MEMEQ(buf, "ab", 2);
	CHECK_EQ(read(s, buf, sizeof(buf)), 5);
	CHECK_MEMEQ(buf, "cdef\n", 5);
}

TEST(verase)
{
	int s;
	int m = canon_pty(&s);
	struct termios t;
	REQUIRE_OK(tcgetattr(s, &t));
	char erase[2] = {t.c_cc[VERASE], 0};
	pty_put(m, "abx");
	pty_put(m, erase);
	pty_put(m, "c\n");
	char buf[16];
	CHECK_EQ(pty_read_all(s, buf, sizeof(buf)), 4);
	CHECK_STREQ(buf, "abc\n");
}

TEST(verase_at_line_start_does_nothing)
{
	int s;
	int m = canon_pty(&s);
	pty_put(m, "\177\177ok\n");
	char buf[16];
	CHECK_EQ(pty_read_all(s, buf, sizeof(buf)), 3);
	CHECK_STREQ(buf, "ok\n");
}

TEST(vkill)
{
	int s;
	int m = canon_pty(&s);
	struct termios t;
	REQUIRE_OK(tcgetattr(s, &t));
	char kill[2] = {t.c_cc[VKILL], 0};
	pty_put(m, "garbage");
	pty_put(m, kill);
	pty_put(m, "good\n");
	char buf[32];
	CHECK_EQ(pty_read_all(s, buf, sizeof(buf)), 5);
	CHECK_STREQ(buf, "good\n");
}

TEST(vwerase)
{
	int s;
	int m = canon_pty(&s);
	pty_lflag(s, IEXTEN, 1);
	struct termios t;
	REQUIRE_OK(tcgetattr(s, &t));
	char we[2] = {t.c_cc[VWERASE], 0};
	pty_put(m, "keep drop");
	pty_put(m, we);
	pty_put(m, "\n");
	char buf[32];
	CHECK_EQ(pty_read_all(s, buf, sizeof(buf)), 6);
	CHECK_STREQ(buf, "keep \n");
}

TEST(veof_ends_line_without_newline)
{
	int s;
	int m = canon_pty(&s);
	pty_put(m, "abc\004");
	char buf[16];
	/* VEOF passes the line as it is, without the EOF character. */
	CHECK_EQ(pty_read_all(s, buf, sizeof(buf)), 3);
	CHECK_STREQ(buf, "abc");
}

TEST(veof_at_line_start_reads_zero)
{
	int s;
	int m = canon_pty(&s);
	pty_put(m, "\004");
	REQUIRE(pty_readable(s, 2000));
	char buf[16];
	CHECK_EQ(read(s, buf, sizeof(buf)), 0);
	/* The terminal is still usable afterwards. */
	pty_put(m, "more\n");
	CHECK_EQ(pty_read_all(s, buf, sizeof(buf)), 5);
}

TEST(custom_veol)
{
	int s;
	int m = canon_pty(&s);
	struct termios t;
	REQUIRE_OK(tcgetattr(s, &t));
	t.c_cc[VEOL] = ';';
	REQUIRE_OK(tcsetattr(s, TCSANOW, &t));
	pty_put(m, "a;b");
	char buf[16];
	CHECK_EQ(pty_read_all(s, buf, sizeof(buf)), 2);
	CHECK_STREQ(buf, "a;");
}

TEST(custom_verase)
{
	int s;
	int m = canon_pty(&s);
	struct termios t;
	REQUIRE_OK(tcgetattr(s, &t));
	t.c_cc[VERASE] = '#';
	REQUIRE_OK(tcsetattr(s, TCSANOW, &t));
	pty_put(m, "ab#c\n");
	char buf[16];
	CHECK_EQ(pty_read_all(s, buf, sizeof(buf)), 3);
	CHECK_STREQ(buf, "ac\n");
}

TEST(fionread_counts_complete_lines)
{
	int s;
	int m = canon_pty(&s);
	pty_put(m, "12345\nxy");
	REQUIRE(pty_readable(s, 2000));
	int n = -1;
	REQUIRE_OK(ioctl(s, FIONREAD, &n));
	CHECK_EQ(n, 6);
}

TEST(leaving_icanon_releases_pending_input)
{
	int s;
	int m = canon_pty(&s);
	pty_put(m, "pend");
	CHECK_EQ(pty_readable(s, 200), 0);
	pty_lflag(s, ICANON, 0);
	char buf[16];
	CHECK_EQ(pty_read_all(s, buf, sizeof(buf)), 4);
	CHECK_STREQ(buf, "pend");
}

TEST(nonblocking_read_eagain)
{
	int s;
	int m = canon_pty(&s);
	pty_put(m, "partial");
	REQUIRE_OK(fcntl(s, F_SETFL, O_NONBLOCK));
	char buf[16];
	CHECK_ERR(read(s, buf, sizeof(buf)), EAGAIN);
}

TEST(blocking_read_waits_for_line)
{
	int s;
	int m = canon_pty(&s);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		usleep(50000);
		_exit(write(m, "late\n", 5) == 5 ? 0 : 1);
	}
	char buf[16];
	CHECK_EQ(read(s, buf, sizeof(buf)), 5);
	CHECK_EQ(lt_wait_exit(pid), 0);
}
