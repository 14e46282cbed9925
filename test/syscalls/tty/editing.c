/*
 * Line discipline extras: VLNEXT, VREPRINT, ECHOPRT, IUTF8 erase, IUCLC,
 * ISTRIP, the canonical line length limit, and output processing with
 * TAB3, ONOCR and ONLRET.
 */
#include "lt.h"
#include "lt_pty.h"

static void set_iflag(int fd, tcflag_t on)
{
	struct termios t;
	REQUIRE_OK(tcgetattr(fd, &t));
	t.c_iflag |= on;
	REQUIRE_OK(tcsetattr(fd, TCSANOW, &t));
}

static void set_oflag(int fd, tcflag_t on, tcflag_t off)
{
	struct termios t;
	REQUIRE_OK(tcgetattr(fd, &t));
	t.c_oflag = (t.c_oflag | on) & ~off;
	REQUIRE_OK(tcsetattr(fd, TCSANOW, &t));
}

TEST(vlnext_quotes_erase)
{
	int s;
	int m = pty_open(&s);
	pty_put(m, "a\026\177b\n");
	char buf[32];
	/* ^V shows as "^\b", then the quoted DEL echoes as ^?. */
	CHECK_EQ(pty_read_all(m, buf, sizeof(buf)), 8);
	CHECK_STREQ(buf, "a^\b^?b\r\n");
	CHECK_EQ(pty_read_all(s, buf, sizeof(buf)), 4);
	CHECK_STREQ(buf, "a\177b\n");
}

TEST(vreprint)
{
	int s;
	int m = pty_open(&s);
	pty_put(m, "ab\022");
	char buf[32];
	CHECK_EQ(pty_read_all(m, buf, sizeof(buf)), 8);
	CHECK_STREQ(buf, "ab^R\r\nab");
}

TEST(echoprt)
{
	int s;
	int m = pty_open(&s);
	pty_lflag(s, ECHOE, 0);
	pty_lflag(s, ECHOPRT, 1);
	pty_put(m, "AbC\177\177d\177\177");
	char buf[64];
	/* Erased characters between "\" and "/". */
	CHECK_EQ(pty_read_all(m, buf, sizeof(buf)), 12);
	CHECK_STREQ(buf, "AbC\\Cb/d\\dA/");
}

TEST(iutf8_erases_whole_character)
{
	int s;
	int m = pty_open(&s);
	pty_lflag(s, ECHO, 0);
	set_iflag(s, IUTF8);
	pty_put(m, "a\xc3\xa9\177\n");
	char buf[16];
	CHECK_EQ(pty_read_all(s, buf, sizeof(buf)), 2);
	CHECK_STREQ(buf, "a\n");
}

TEST(iuclc_lowers_input)
{
	int s;
	int m = pty_open(&s);
	pty_lflag(s, ECHO, 0);
	set_iflag(s, IUCLC);
	pty_put(m, "AbC\n");
	char buf[16];
	CHECK_EQ(pty_read_all(s, buf, sizeof(buf)), 4);
	CHECK_STREQ(buf, "abc\n");
}

TEST(istrip)
{
	int s;
	int m = pty_open(&s);
	pty_lflag(s, ECHO | ICANON, 0);
	set_iflag(s, ISTRIP);
	pty_put(m, "\xc1");
	char buf[4];
	CHECK_EQ(pty_read_all(s, buf, sizeof(buf)), 1);
	CHECK_EQ(buf[0], 'A');
}

TEST(canonical_line_limit)
{
	int s;
	int m = pty_open(&s);
	pty_lflag(s, ECHO, 0);
	static char big[5000];
	memset(big, 'z', sizeof(big));
	REQUIRE_OK(fcntl(m, F_SETFL, O_NONBLOCK));
	/* A line longer than the queue keeps its first 4095 characters;
	 * the newline still ends it. */
	size_t off = 0;
	for (int i = 0; i < 500 && off < sizeof(big); i++) {
		ssize_t n = write(m, big + off, sizeof(big) - off);
		if (n > 0)
			off += n;
		else
			usleep(10000);
	}
	CHECK_EQ(off, sizeof(big));
	pty_put(m, "\n");
	static char got[8192];
	int n = pty_read_all(s, got, sizeof(got));
	CHECK_EQ(n, 4096);
	CHECK_EQ(got[4094], 'z');
	CHECK_EQ(got[4095], '\n');
}

TEST(tab3_expands_tabs)
{
	int s;
	int m = pty_open(&s);
	set_oflag(s, TAB3, 0);
	pty_put(s, "a\tb");
	char buf[32];
	CHECK_EQ(pty_read_all(m, buf, sizeof(buf)), 9);
	CHECK_STREQ(buf, "a       b");
}

TEST(onocr_drops_cr_at_column_zero)
{
	int s;
	int m = pty_open(&s);
	set_oflag(s, ONOCR, 0);
	pty_put(s, "\rx\r");
	char buf[32];
	CHECK_EQ(pty_read_all(m, buf, sizeof(buf)), 2);
	CHECK_STREQ(buf, "x\r");
}

TEST(onlret)
{
	int s;
	int m = pty_open(&s);
	set_oflag(s, ONLRET | ONOCR, ONLCR);
	/* ONLRET: NL does the return, so the CR after it is at column 0. */
	pty_put(s, "x\n\r");
	char buf[32];
	CHECK_EQ(pty_read_all(m, buf, sizeof(buf)), 2);
	CHECK_STREQ(buf, "x\n");
}

TEST(echo_tab_erase)
{
	int s;
	int m = pty_open(&s);
	pty_put(m, "x\t\177\n");
	char buf[32];
	/* Erasing a tab backs up to where the tab began. */
	CHECK_EQ(pty_read_all(m, buf, sizeof(buf)), 11);
	CHECK_STREQ(buf, "x\t\b\b\b\b\b\b\b\r\n");
}

TEST(noflsh_keeps_input)
{
	int s;
	int m = pty_open(&s);
	pty_lflag(s, ECHO, 0);
	pty_lflag(s, NOFLSH, 1);
	pty_put(m, "keep\003\n");
	char buf[16];
	CHECK_EQ(pty_read_all(s, buf, sizeof(buf)), 5);
	CHECK_STREQ(buf, "keep\n");
}
