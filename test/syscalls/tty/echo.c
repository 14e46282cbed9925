/*
 * Echo and translations: ECHO on/off, ECHOE, ECHOCTL, ECHONL, ICRNL, INLCR,
 * IGNCR, ONLCR, OCRNL, OPOST off, IUCLC-free basics.
 */
#include "lt.h"
#include "lt_pty.h"

static void set_flags(int fd, tcflag_t iset, tcflag_t iclr, tcflag_t oset, tcflag_t oclr)
{
	struct termios t;
	REQUIRE_OK(tcgetattr(fd, &t));
	t.c_iflag = (t.c_iflag | iset) & ~iclr;
	t.c_oflag = (t.c_oflag | oset) & ~oclr;
	REQUIRE_OK(tcsetattr(fd, TCSANOW, &t));
}

TEST(echo_on_by_default)
{
	int s;
	int m = pty_open(&s);
	pty_put(m, "hi\n");
	char buf[32];
	/* The echo comes back to the master, with ONLCR's CR. */
	CHECK_EQ(pty_read_all(m, buf, sizeof(buf)), 4);
	CHECK_STREQ(buf, "hi\r\n");
	CHECK_EQ(pty_read_all(s, buf, sizeof(buf)), 3);
}

TEST(echo_off)
{
	int s;
	int m = pty_open(&s);
	pty_lflag(s, ECHO, 0);
	pty_put(m, "secret\n");
	char buf[32];
	CHECK_EQ(pty_read_all(s, buf, sizeof(buf)), 7);
	/* Nothing came back. */
	CHECK_EQ(pty_readable(m, 200), 0);
}

TEST(echonl_without_echo)
{
	int s;
	int m = pty_open(&s);
	pty_lflag(s, ECHO, 0);
	pty_lflag(s, ECHONL, 1);
	pty_put(m, "pw\n");
	char buf[32];
	CHECK_EQ(pty_read_all(m, buf, sizeof(buf)), 2);
	CHECK_STREQ(buf, "\r\n");
}

TEST(echoe_erases_on_screen)
{
	int s;
	int m = pty_open(&s);
	pty_put(m, "ab\177");
	char buf[32];
	/* ECHOE echoes an erase as backspace, space, backspace. */
	CHECK_EQ(pty_read_all(m, buf, sizeof(buf)), 5);
	CHECK_STREQ(buf, "ab\b \b");
}

TEST(echoctl_shows_caret)
{
	int s;
	int m = pty_open(&s);
	pty_lflag(s, ISIG, 0);
	pty_put(m, "\001");
	char buf[32];
	CHECK_EQ(pty_read_all(m, buf, sizeof(buf)), 2);
	CHECK_STREQ(buf, "^A");
}

TEST(icrnl_translates_cr)
{
	int s;
	int m = pty_open(&s);
	pty_lflag(s, ECHO, 0);
	pty_put(m, "line\r");
	char buf[32];
	CHECK_EQ(pty_read_all(s, buf, sizeof(buf)), 5);
	CHECK_STREQ(buf, "line\n");
}

TEST(icrnl_off_keeps_cr)
{
	int s;
	int m = pty_open(&s);
	pty_lflag(s, ECHO | ICANON, 0);
	set_flags(s, 0, ICRNL, 0, 0);
	pty_put(m, "a\rb");
	char buf[32];
	CHECK_EQ(pty_read_all(s, buf, sizeof(buf)), 3);
	CHECK_STREQ(buf, "a\rb");
}

TEST(inlcr_and_igncr)
{
	int s;
	int m = pty_open(&s);
	pty_lflag(s, ECHO | ICANON, 0);
	set_flags(s, INLCR | IGNCR, ICRNL, 0, 0);
	pty_put(m, "a\nb\rc");
	char buf[32];
	/* INLCR maps NL to CR; IGNCR drops the CR that was typed. */
	CHECK_EQ(pty_read_all(s, buf, sizeof(buf)), 4);
	CHECK_STREQ(buf, "a\rbc");
}

TEST(onlcr_on_output)
{
	int s;
	int m = pty_open(&s);
	pty_put(s, "x\ny\n");
	char buf[32];
	CHECK_EQ(pty_read_all(m, buf, sizeof(buf)), 6);
	CHECK_STREQ(buf, "x\r\ny\r\n");
}

TEST(onlcr_off)
{
	int s;
	int m = pty_open(&s);
	set_flags(s, 0, 0, 0, ONLCR);
	pty_put(s, "x\n");
	char buf[32];
	CHECK_EQ(pty_read_all(m, buf, sizeof(buf)), 2);
	CHECK_STREQ(buf, "x\n");
}

TEST(ocrnl_on_output)
{
	int s;
	int m = pty_open(&s);
	set_flags(s, 0, 0, OCRNL, ONLCR);
	pty_put(s, "a\rb");
	char buf[32];
	CHECK_EQ(pty_read_all(m, buf, sizeof(buf)), 3);
	CHECK_STREQ(buf, "a\nb");
}

TEST(opost_off_disables_output_processing)
{
	int s;
	int m = pty_open(&s);
	set_flags(s, 0, 0, 0, OPOST);
	pty_put(s, "p\n");
	char buf[32];
	CHECK_EQ(pty_read_all(m, buf, sizeof(buf)), 2);
	CHECK_STREQ(buf, "p\n");
}

TEST(kill_echoed_with_echok)
{
	int s;
	int m = pty_open(&s);
	pty_lflag(s, ECHOKE, 0);
	pty_lflag(s, ECHOK, 1);
	pty_put(m, "ab\025");
	char buf[32];
	/* ECHOK without ECHOKE: the kill character is echoed (^U, by
	 * ECHOCTL), then a newline. */
	CHECK_EQ(pty_read_all(m, buf, sizeof(buf)), 6);
	CHECK_STREQ(buf, "ab^U\r\n");
}

TEST(echo_in_raw_mode)
{
	int s;
	int m = pty_open(&s);
	pty_lflag(s, ICANON, 0);
	pty_put(m, "r");
	char buf[32];
	CHECK_EQ(pty_read_all(m, buf, sizeof(buf)), 1);
	CHECK_STREQ(buf, "r");
}
