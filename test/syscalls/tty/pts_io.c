/*
 * Data through a pseudo-terminal: non-blocking reads and writes on both
 * sides, a full input queue, large output, the /dev/pts nodes' owners and
 * modes, /proc/self/fd links, ptsname_r, and /dev/tty's device number.
 */
#include "lt.h"
#include "lt_pty.h"
#include <sys/syscall.h>
#include <sys/sysmacros.h>

TEST(nonblocking_reads_eagain)
{
	int s;
	int m = pty_open(&s);
	REQUIRE_OK(fcntl(m, F_SETFL, O_NONBLOCK));
	REQUIRE_OK(fcntl(s, F_SETFL, O_NONBLOCK));
	char c;
	CHECK_ERR(read(m, &c, 1), EAGAIN);
	CHECK_ERR(read(s, &c, 1), EAGAIN);
}

TEST(raw_nonblocking_ignores_vmin)
{
	int s;
	int m = pty_open(&s);
	pty_raw(s, 5, 0);
	REQUIRE_OK(fcntl(s, F_SETFL, O_NONBLOCK));
	pty_put(m, "ab");
	/* poll waits for VMIN bytes... */
	CHECK_EQ(pty_readable(s, 100), 0);
	/* ...but an O_NONBLOCK read returns what is there. */
	char buf[8];
	ssize_t n = -1;
	for (int i = 0; i < 200 && n <= 0; i++)
		if ((n = read(s, buf, sizeof(buf))) <= 0)
			usleep(10000);
	CHECK_EQ(n, 2);
}

TEST(large_output_to_master)
{
	int s;
	int m = pty_open(&s);
	pty_raw(s, 1, 0);
	const int total = 256 * 1024;
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		close(m);
		char b[4096];
		for (int off = 0; off < total; off += sizeof(b)) {
			for (int i = 0; i < (int)sizeof(b); i++)
				b[i] = (char)((off + i) % 253);
			if (write(s, b, sizeof(b)) != sizeof(b))
				_exit(1);
		}
		_exit(0);
	}
	char b[8192];
	int got = 0, bad = 0;
	while (got < total) {
		if (!pty_readable(m, 5000))
			break;
		ssize_t n = read(m, b, sizeof(b));
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			if (b[i] != (char)((got + i) % 253))
				bad++;
		got += n;
	}
	CHECK_EQ(got, total);
	CHECK_EQ(bad, 0);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

/* fill_slave writes to s (non-blocking) until EAGAIN; returns the bytes. */
static long fill_slave(int s)
{
	static char b[4096];
	long total = 0;
	ssize_t n;
	while ((n = write(s, b, sizeof(b))) > 0)
		if ((total += n) > (64 << 20))
			ABORT("output never filled");
	CHECK_EQ(n, -1);
	CHECK_EQ(errno, EAGAIN);
	return total;
}

TEST(slave_output_fills_then_eagain)
{
	int s;
	int m = pty_open(&s);
	pty_raw(s, 1, 0);
	REQUIRE_OK(fcntl(s, F_SETFL, O_NONBLOCK));
	/* Nobody reads the master: output space runs out. */
	CHECK_GT(fill_slave(s), 0);
	/* Draining the master makes room. */
	char r[8192];
	while (read(m, r, sizeof(r)) == sizeof(r) && pty_readable(m, 0))
		;
	struct pollfd p = {.fd = s, .events = POLLOUT};
	CHECK_EQ(poll(&p, 1, 2000), 1);
}

TEST(full_slave_polls_not_writable)
{
	ONLY_SANDBOX("Linux's pty poll reports POLLOUT while any buffer room is left, but a write "
		     "takes room in 256-byte chunks and a work item frees room later: after EAGAIN "
		     "poll may say writable natively");
	int s;
	pty_open(&s);
	pty_raw(s, 1, 0);
	REQUIRE_OK(fcntl(s, F_SETFL, O_NONBLOCK));
	CHECK_GT(fill_slave(s), 0);
	struct pollfd p = {.fd = s, .events = POLLOUT};
	CHECK_EQ(poll(&p, 1, 0), 0);
}

TEST(master_input_fills_then_eagain)
{
	int s;
	int m = pty_open(&s);
	pty_raw(s, 1, 0);
	REQUIRE_OK(fcntl(m, F_SETFL, O_NONBLOCK));
	static char b[1024];
	long total = 0;
	ssize_t n;
	/* Nobody reads the slave: its input queue fills. */
	for (;;) {
		n = write(m, b, sizeof(b));
		if (n > 0) {
			total += n;
			if (total > (64 << 20))
				ABORT("input never filled");
			continue;
		}
		if (n < 0 && errno == EAGAIN && !pty_readable(s, 0))
			continue; /* Linux: queued input not yet processed */
		break;
	}
	CHECK_EQ(n, -1);
	CHECK_EQ(errno, EAGAIN);
	CHECK_GE(total, 4095);
}

TEST(pts_node_owner_and_mode)
{
	int s;
	int m = pty_open(&s);
	struct stat st;
	REQUIRE_OK(stat(ptsname(m), &st));
	CHECK_EQ(st.st_uid, getuid());
	/* Owner read-write, nothing for others (group write depends on the
	 * devpts mount's mode= and gid= options). */
	CHECK_EQ(st.st_mode & 0707, 0600);
	CHECK(S_ISCHR(st.st_mode));
}

TEST(proc_fd_links_name_pts)
{
	int s;
	int m = pty_open(&s);
	char link[64], want[64], got[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", s);
	ssize_t n = readlink(link, got, sizeof(got) - 1);
	REQUIRE_GT(n, 0);
	got[n] = 0;
	snprintf(want, sizeof(want), "%s", ptsname(m));
	CHECK_STREQ(got, want);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", m);
	n = readlink(link, got, sizeof(got) - 1);
	REQUIRE_GT(n, 0);
	got[n] = 0;
	CHECK_STREQ(got, "/dev/ptmx");
}

TEST(ptsname_r_buffer)
{
	int s;
	int m = pty_open(&s);
	char small[4], big[64];
	CHECK_EQ(ptsname_r(m, small, sizeof(small)), ERANGE);
	CHECK_EQ(ptsname_r(m, big, sizeof(big)), 0);
	CHECK_STREQ(big, ptsname(m));
	int f = REQUIRE_OK(open("/dev/null", O_RDWR));
	CHECK_EQ(ptsname_r(f, big, sizeof(big)), ENOTTY);
}

TEST(dev_tty_node)
{
	struct stat st;
	REQUIRE_OK(stat("/dev/tty", &st));
	CHECK(S_ISCHR(st.st_mode));
	CHECK_EQ(major(st.st_rdev), 5);
	CHECK_EQ(minor(st.st_rdev), 0);
	CHECK_EQ(st.st_mode & 0777, 0666);
}

TEST(dev_pts_directory)
{
	int s;
	int m = pty_open(&s);
	unsigned n;
	REQUIRE_OK(ioctl(m, TIOCGPTN, &n));
	struct stat st;
	REQUIRE_OK(stat("/dev/pts", &st));
	CHECK(S_ISDIR(st.st_mode));
	REQUIRE_OK(stat("/dev/pts/ptmx", &st));
	CHECK(S_ISCHR(st.st_mode));
	/* The pts node can be found by listing the directory. */
	char want[16];
	snprintf(want, sizeof(want), "%u", n);
	int fd = REQUIRE_OK(open("/dev/pts", O_RDONLY | O_DIRECTORY));
	char buf[4096];
	int found = 0;
	long k;
	while ((k = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < k;) {
			unsigned short reclen = *(unsigned short *)(buf + off + 16);
			if (strcmp(buf + off + 19, want) == 0)
				found = 1;
			off += reclen;
		}
	}
	CHECK(found);
}

TEST(slave_o_wronly_cannot_read)
{
	int s;
	int m = pty_open(&s);
	int w = REQUIRE_OK(open(ptsname(m), O_WRONLY | O_NOCTTY));
	char c;
	CHECK_ERR(read(w, &c, 1), EBADF);
	CHECK_EQ(write(w, "w", 1), 1);
}
