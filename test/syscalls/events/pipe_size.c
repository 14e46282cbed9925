/* Pipe capacity: F_GETPIPE_SZ/F_SETPIPE_SZ, PIPE_BUF atomicity, large transfers. */
#include "lt.h"

#include <limits.h>
#include <sys/ioctl.h>

/* fill writes to a non-blocking pipe until it is full; returns the count. */
static long fill(int fd)
{
	static char buf[4096];
	long total = 0;
	ssize_t n;
	while ((n = write(fd, buf, sizeof(buf))) > 0)
		total += n;
	return total;
}

TEST(default_size)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	CHECK_EQ(fcntl(p[0], F_GETPIPE_SZ), 65536);
	CHECK_EQ(fcntl(p[1], F_GETPIPE_SZ), 65536);
}

TEST(setpipe_sz_rounds_to_power_of_two_pages)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, 5000), 8192);
	CHECK_EQ(fcntl(p[0], F_GETPIPE_SZ), 8192);
	CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, 3 * 4096), 16384);
	CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, 1), 4096);
	CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, 0), 4096);
	CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, 1 << 20), 1 << 20);
}

TEST(capacity_follows_size)
{
	int p[2];
	REQUIRE_OK(pipe2(p, O_NONBLOCK));
	CHECK_EQ(fill(p[1]), 65536);
	int q[2];
	REQUIRE_OK(pipe2(q, O_NONBLOCK));
	REQUIRE_EQ(fcntl(q[1], F_SETPIPE_SZ, 16384), 16384);
	CHECK_EQ(fill(q[1]), 16384);
	int r[2];
	REQUIRE_OK(pipe2(r, O_NONBLOCK));
	REQUIRE_EQ(fcntl(r[1], F_SETPIPE_SZ, 262144), 262144);
	CHECK_EQ(fill(r[1]), 262144);
}

TEST(shrink_below_contents_ebusy)
{
	int p[2];
	REQUIRE_OK(pipe2(p, O_NONBLOCK));
	static char buf[20000];
	REQUIRE_EQ(write(p[1], buf, sizeof(buf)), (long)sizeof(buf));
	CHECK_ERR(fcntl(p[1], F_SETPIPE_SZ, 8192), EBUSY);
	CHECK_EQ(fcntl(p[1], F_GETPIPE_SZ), 65536);
	CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, 32768), 32768);
}

TEST(over_max_size_unprivileged_eperm)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	char buf[32] = {0};
	int fd = REQUIRE_OK(open("/proc/sys/fs/pipe-max-size", O_RDONLY));
	REQUIRE_GT(read(fd, buf, sizeof(buf) - 1), 0);
	long max = atol(buf);
	CHECK_EQ(max, 1048576);
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	CHECK_ERR(fcntl(p[1], F_SETPIPE_SZ, max * 2), EPERM);
	CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, max), max);
}

TEST(setpipe_sz_too_large_einval)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	/* The size is an unsigned int: 2^32 is 0, the smallest size. */
	CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, 1L << 32), 4096);
	CHECK_ERR(fcntl(p[1], F_SETPIPE_SZ, 0x80000001L), EINVAL);
	CHECK_EQ(fcntl(p[1], F_GETPIPE_SZ), 4096);
}

TEST(getpipe_sz_not_pipe_ebadf_einval)
{
	int fd = REQUIRE_OK(open("/dev/null", O_RDONLY));
	CHECK_ERR(fcntl(fd, F_GETPIPE_SZ), EBADF);
	CHECK_ERR(fcntl(fd, F_SETPIPE_SZ, 4096), EBADF);
	CHECK_ERR(fcntl(-1, F_GETPIPE_SZ), EBADF);
}

#define WRITERS 4
#define MSGS 64

TEST(pipe_buf_writes_atomic)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	for (int w = 0; w < WRITERS; w++) {
		pid_t pid = REQUIRE_OK(fork());
		if (pid == 0) {
			char msg[PIPE_BUF];
			memset(msg, 'a' + w, sizeof(msg));
			for (int i = 0; i < MSGS; i++)
				if (write(p[1], msg, sizeof(msg)) != sizeof(msg))
					_exit(1);
			_exit(0);
		}
	}
	CHECK_OK(close(p[1]));
	/* Every PIPE_BUF-sized record read back is from one writer. */
	static char rec[PIPE_BUF];
	int counts[WRITERS] = {0};
	for (;;) {
		size_t got = 0;
		while (got < sizeof(rec)) {
			ssize_t n = read(p[0], rec + got, sizeof(rec) - got);
			if (n <= 0)
				break;
			got += n;
		}
		if (got == 0)
			break;
		REQUIRE_EQ(got, sizeof(rec));
		int w = rec[0] - 'a';
		REQUIRE(w >= 0 && w < WRITERS);
		for (size_t i = 1; i < sizeof(rec); i++)
			if (rec[i] != rec[0])
				ABORT("record interleaved at byte %zu", i);
		counts[w]++;
	}
	for (int w = 0; w < WRITERS; w++)
		CHECK_EQ(counts[w], MSGS);
	for (int w = 0; w < WRITERS; w++) {
		int st;
		REQUIRE_GT(wait(&st), 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
}

TEST(large_write_blocks_until_read)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	const size_t total = 1 << 20;
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		close(p[0]);
		char *buf = malloc(total);
		for (size_t i = 0; i < total; i++)
			buf[i] = (char)(i * 7);
		/* One blocking write of 1 MiB: it completes as the reader drains. */
		_exit(write(p[1], buf, total) == (ssize_t)total ? 0 : 1);
	}
	CHECK_OK(close(p[1]));
	static char buf[65536];
	size_t got = 0;
	int bad = 0;
	ssize_t n;
	while ((n = read(p[0], buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != (char)((got + i) * 7))
				bad++;
		got += n;
	}
	CHECK_EQ(got, total);
	CHECK_EQ(bad, 0);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(blocked_writer_epipe_when_reader_closes)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		signal(SIGPIPE, SIG_IGN);
		close(p[0]);
		static char buf[200000];
		ssize_t n = write(p[1], buf, sizeof(buf));
		/* Partly written before the reader left, or EPIPE. */
		_exit((n > 0 && n < (ssize_t)sizeof(buf)) || (n < 0 && errno == EPIPE) ? 0 : 1);
	}
	/* Wait until the pipe is full, then close the only reader. */
	int avail = 0;
	for (int i = 0; i < 5000 && avail < 65536; i++) {
		usleep(1000);
		if (ioctl(p[0], FIONREAD, &avail) != 0)
			break;
	}
	CHECK_EQ(avail, 65536);
	CHECK_OK(close(p[0]));
	CHECK_EQ(lt_wait_exit(pid), 0);
}
