/*
 * Allocating pseudo-terminals: /dev/ptmx and posix_openpt, grantpt,
 * unlockpt, ptsname, TIOCGPTN, TIOCSPTLCK/TIOCGPTLCK, TIOCGPTPEER, openpty,
 * the /dev/pts/N nodes, isatty and ttyname.
 */
#include "lt.h"
#include "lt_pty.h"
#include <pty.h>
#include <sys/sysmacros.h>

TEST(posix_openpt_flow)
{
	int m = REQUIRE_OK(posix_openpt(O_RDWR | O_NOCTTY));
	REQUIRE_OK(grantpt(m));
	REQUIRE_OK(unlockpt(m));
	char *name = ptsname(m);
	REQUIRE(name != NULL);
	CHECK_EQ(strncmp(name, "/dev/pts/", 9), 0);
	int s = REQUIRE_OK(open(name, O_RDWR | O_NOCTTY));
	REQUIRE_EQ(write(m, "hi\n", 3), 3);
	char buf[16];
	CHECK_EQ(pty_read_all(s, buf, sizeof(buf)), 3);
	CHECK_STREQ(buf, "hi\n");
}

TEST(tiocgptn_matches_ptsname)
{
	int s;
	int m = pty_open(&s);
	unsigned n = 9999;
	REQUIRE_OK(ioctl(m, TIOCGPTN, &n));
	char want[32];
	snprintf(want, sizeof(want), "/dev/pts/%u", n);
	CHECK_STREQ(ptsname(m), want);
	struct stat st;
	REQUIRE_OK(fstat(s, &st));
	CHECK(S_ISCHR(st.st_mode));
	CHECK_EQ(major(st.st_rdev), 136);
	CHECK_EQ(minor(st.st_rdev), n);
	/* The slave does not answer TIOCGPTN. */
	CHECK_ERR(ioctl(s, TIOCGPTN, &n), ENOTTY);
}

TEST(distinct_numbers)
{
	int s1, s2;
	int m1 = pty_open(&s1), m2 = pty_open(&s2);
	unsigned n1, n2;
	REQUIRE_OK(ioctl(m1, TIOCGPTN, &n1));
	REQUIRE_OK(ioctl(m2, TIOCGPTN, &n2));
	CHECK_NE(n1, n2);
}

TEST(locked_slave_eio)
{
	int m = REQUIRE_OK(open("/dev/ptmx", O_RDWR | O_NOCTTY));
	int lock = -1;
	REQUIRE_OK(ioctl(m, TIOCGPTLCK, &lock));
	/* A new master starts locked. */
	CHECK_EQ(lock, 1);
	char *name = ptsname(m);
	REQUIRE(name != NULL);
	CHECK_ERR(open(name, O_RDWR | O_NOCTTY), EIO);
	lock = 0;
	REQUIRE_OK(ioctl(m, TIOCSPTLCK, &lock));
	REQUIRE_OK(ioctl(m, TIOCGPTLCK, &lock));
	CHECK_EQ(lock, 0);
	int s = CHECK_OK(open(name, O_RDWR | O_NOCTTY));
	/* Relocking keeps the open slave but refuses new opens. */
	lock = 1;
	REQUIRE_OK(ioctl(m, TIOCSPTLCK, &lock));
	CHECK_ERR(open(name, O_RDWR | O_NOCTTY), EIO);
	CHECK(isatty(s));
}

TEST(pts_node_goes_with_master)
{
	int s;
	int m = pty_open(&s);
	char name[64];
	strcpy(name, ptsname(m));
	struct stat st;
	CHECK_OK(stat(name, &st));
	close(s);
	close(m);
	CHECK_ERR(stat(name, &st), ENOENT);
}

TEST(tiocgptpeer)
{
	int m = REQUIRE_OK(posix_openpt(O_RDWR | O_NOCTTY));
	REQUIRE_OK(unlockpt(m));
	int s = REQUIRE_OK(ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY));
	CHECK(isatty(s));
	struct stat a, b;
	REQUIRE_OK(fstat(s, &a));
	REQUIRE_OK(stat(ptsname(m), &b));
	CHECK_EQ(a.st_rdev, b.st_rdev);
	REQUIRE_EQ(write(m, "q\n", 2), 2);
	char buf[8];
	CHECK_EQ(pty_read_all(s, buf, sizeof(buf)), 2);
}

TEST(openpty_and_ttyname)
{
	int m, s;
	char name[64];
	REQUIRE_OK(openpty(&m, &s, name, NULL, NULL));
	CHECK(isatty(m));
	CHECK(isatty(s));
	char *tn = ttyname(s);
	REQUIRE(tn != NULL);
	CHECK_STREQ(tn, name);
	/* ttyname of the master is /dev/ptmx on Linux... or fails; the
	 * slave's is what matters. ttyname_r with a short buffer: ERANGE. */
	char small[4];
	CHECK_EQ(ttyname_r(s, small, sizeof(small)), ERANGE);
}

TEST(openpty_sets_winsize_and_termios)
{
	int m, s;
	struct winsize ws = {.ws_row = 33, .ws_col = 99};
	struct termios t;
	int tm, ts;
	REQUIRE_OK(openpty(&tm, &ts, NULL, NULL, NULL));
	REQUIRE_OK(tcgetattr(ts, &t));
	t.c_lflag &= ~ECHO;
	REQUIRE_OK(openpty(&m, &s, NULL, &t, &ws));
	struct winsize got;
	REQUIRE_OK(ioctl(s, TIOCGWINSZ, &got));
	CHECK_EQ(got.ws_row, 33);
	CHECK_EQ(got.ws_col, 99);
	struct termios gt;
	REQUIRE_OK(tcgetattr(s, &gt));
	CHECK_EQ(gt.c_lflag & ECHO, 0);
}

TEST(isatty_non_terminals)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	errno = 0;
	CHECK_EQ(isatty(p[0]), 0);
	CHECK_EQ(errno, ENOTTY);
	int f = REQUIRE_OK(open("/dev/null", O_RDWR));
	CHECK_EQ(isatty(f), 0);
	errno = 0;
	CHECK_EQ(isatty(999), 0);
	CHECK_EQ(errno, EBADF);
	CHECK(ttyname(f) == NULL);
	CHECK_EQ(errno, ENOTTY);
}

TEST(ptmx_ioctl_errors)
{
	int s;
	int m = pty_open(&s);
	CHECK_ERR(ioctl(m, TIOCGPTN, bad_ptr), EFAULT);
	CHECK_ERR(ioctl(m, TIOCSPTLCK, bad_ptr), EFAULT);
	int f = REQUIRE_OK(open("/dev/null", O_RDWR));
	unsigned n;
	CHECK_ERR(ioctl(f, TIOCGPTN, &n), ENOTTY);
	CHECK_ERR(unlockpt(f), EINVAL);
}

TEST(ptmx_stat)
{
	struct stat st;
	REQUIRE_OK(stat("/dev/ptmx", &st));
	CHECK(S_ISCHR(st.st_mode));
	int m = REQUIRE_OK(posix_openpt(O_RDWR | O_NOCTTY));
	struct stat ms;
	REQUIRE_OK(fstat(m, &ms));
	CHECK(S_ISCHR(ms.st_mode));
	CHECK_EQ(major(ms.st_rdev), 5);
	CHECK_EQ(minor(ms.st_rdev), 2);
}

TEST(slave_open_after_master_close_fails)
{
	int s;
	int m = pty_open(&s);
	char name[64];
	strcpy(name, ptsname(m));
	close(m);
	/* With the master gone the slave cannot be reopened. */
	int r = open(name, O_RDWR | O_NOCTTY);
	CHECK_EQ(r, -1);
	CHECK(errno == EIO || errno == ENOENT);
}

/* devpts makes its entries itself: creating a file there is EACCES (no
 * create operation), anything else EPERM, for root too. */
TEST(devpts_refuses_new_entries)
{
	CHECK_ERR(open("/dev/pts/lt_new", O_CREAT | O_WRONLY, 0600), EACCES);
	CHECK_ERR(mknod("/dev/pts/lt_reg", S_IFREG | 0600, 0), EACCES);
	CHECK_ERR(mknod("/dev/pts/lt_fifo", S_IFIFO | 0600, 0), EPERM);
	CHECK_ERR(mkdir("/dev/pts/lt_dir", 0700), EPERM);
	CHECK_ERR(symlink("x", "/dev/pts/lt_link"), EPERM);
	CHECK_ERR(unlink("/dev/pts/ptmx"), EPERM);
	CHECK_ERR(rename("/dev/pts/ptmx", "/dev/pts/lt_moved"), EPERM);
}
