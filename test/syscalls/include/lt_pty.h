/*
 * lt_pty.h: pseudo-terminal helpers for the conformance suite's tty/
 * programs (include after lt.h).
 */
#ifndef LT_PTY_H
#define LT_PTY_H

#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>

/*
 * pty_open opens a master (/dev/ptmx) and its slave, both O_NOCTTY, and
 * returns the master; *slave gets the slave.
 */
static int pty_open(int *slave)
{
	int m = REQUIRE_OK(posix_openpt(O_RDWR | O_NOCTTY));
	REQUIRE_OK(grantpt(m));
	REQUIRE_OK(unlockpt(m));
	const char *name = ptsname(m);
	REQUIRE(name != NULL);
	*slave = REQUIRE_OK(open(name, O_RDWR | O_NOCTTY));
	return m;
}

/* pty_put writes the string str to fd. */
static void pty_put(int fd, const char *str)
{
	REQUIRE_EQ(write(fd, str, strlen(str)), (ssize_t)strlen(str));
}

/* pty_readable waits up to ms milliseconds for fd to be readable. */
static int pty_readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r;
	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	return r > 0;
}

/*
 * pty_read_all reads what fd has within a short wait (the line discipline
 * works asynchronously) into buf, NUL-terminated, and returns the length.
 */
static int pty_read_all(int fd, char *buf, int size)
{
	int n = 0;
	while (n < size - 1 && pty_readable(fd, n == 0 ? 2000 : 100)) {
		ssize_t r = read(fd, buf + n, size - 1 - n);
		if (r <= 0)
			break;
		n += r;
	}
	buf[n] = 0;
	return n;
}

/* pty_raw puts fd in raw mode (cfmakeraw) with VMIN and VTIME. */
static void pty_raw(int fd, int vmin, int vtime)
{
	struct termios t;
	REQUIRE_OK(tcgetattr(fd, &t));
	cfmakeraw(&t);
	t.c_cc[VMIN] = vmin;
	t.c_cc[VTIME] = vtime;
	REQUIRE_OK(tcsetattr(fd, TCSANOW, &t));
}

/* pty_lflag turns the c_lflag bits on (on != 0) or off. */
static void pty_lflag(int fd, tcflag_t bits, int on)
{
	struct termios t;
	REQUIRE_OK(tcgetattr(fd, &t));
	if (on)
		t.c_lflag |= bits;
	else
		t.c_lflag &= ~bits;
	REQUIRE_OK(tcsetattr(fd, TCSANOW, &t));
}

/*
 * in_session runs fn in a child in a new session (the case itself leads a
 * process group and cannot call setsid) and returns its exit status: fn
 * returns 0 for success, C() failures return 1.
 */
static int in_session(int (*fn)(void))
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		if (setsid() < 0)
			_exit(200);
		_exit(fn());
	}
	return lt_wait_exit(pid);
}

/* C checks cond in an in_session function: it reports and returns 1. */
#define C(cond)                                                                \
	do {                                                                   \
		if (!(cond)) {                                                 \
			FAIL("%s is false (errno %d %s)", #cond, errno,        \
			     strerror(errno));                                 \
			return 1;                                              \
		}                                                              \
	} while (0)

/* child_pty is pty_open for in_session functions: -1 on failure. */
static int child_pty(int *s)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) || unlockpt(m))
		return -1;
	*s = open(ptsname(m), O_RDWR | O_NOCTTY);
	return *s < 0 ? -1 : m;
}

/* A pointer the compiler cannot see through (it warns about (void *)1). */
static void *volatile bad_ptr = (void *)1;

#endif /* LT_PTY_H */
