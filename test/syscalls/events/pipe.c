/* pipe(2), pipe2(2): data, EOF, EPIPE/SIGPIPE, O_NONBLOCK, flags, errors. */
#include "lt.h"

#include <limits.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

TEST(read_what_was_written)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	CHECK_EQ(write(p[1], "hello", 5), 5);
	char buf[16] = {0};
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 5);
	CHECK_STREQ(buf, "hello");
}

TEST(lowest_descriptors)
{
	close(5);
	close(6);
	int p[2];
	REQUIRE_OK(pipe(p));
	int q[2];
	REQUIRE_OK(pipe(q));
	CHECK_EQ(q[0], p[1] + 1);
	CHECK_EQ(q[1], q[0] + 1);
}

TEST(eof_when_writers_closed)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	int w2 = REQUIRE_OK(dup(p[1]));
	CHECK_EQ(write(p[1], "x", 1), 1);
	CHECK_OK(close(p[1]));
	char c;
	CHECK_EQ(read(p[0], &c, 1), 1);
	/* A writer is still open: no EOF, just nothing to read. */
	CHECK_OK(fcntl(p[0], F_SETFL, O_NONBLOCK));
	CHECK_ERR(read(p[0], &c, 1), EAGAIN);
	CHECK_OK(close(w2));
	CHECK_EQ(read(p[0], &c, 1), 0);
}

TEST(eof_wakes_blocked_reader)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		close(p[1]);
		char c;
		_exit(read(p[0], &c, 1) == 0 ? 0 : 1);
	}
	usleep(20000);
	CHECK_OK(close(p[1]));
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(epipe_sigpipe_kills)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	CHECK_OK(close(p[0]));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		write(p[1], "x", 1);
		_exit(0);
	}
	CHECK_EQ(lt_wait_exit(pid), 128 + SIGPIPE);
}

TEST(epipe_sigpipe_ignored)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	CHECK_OK(close(p[0]));
	signal(SIGPIPE, SIG_IGN);
	CHECK_ERR(write(p[1], "x", 1), EPIPE);
}

static volatile int sigpipes;
static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

TEST(epipe_sigpipe_handled)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	CHECK_OK(close(p[0]));
	signal(SIGPIPE, on_sigpipe);
	CHECK_ERR(write(p[1], "x", 1), EPIPE);
	CHECK_EQ(sigpipes, 1);
}

TEST(epipe_sigpipe_blocked_stays_pending)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	CHECK_OK(close(p[0]));
	sigset_t s, pend;
	sigemptyset(&s);
	sigaddset(&s, SIGPIPE);
	REQUIRE_OK(sigprocmask(SIG_BLOCK, &s, NULL));
	CHECK_ERR(write(p[1], "x", 1), EPIPE);
	REQUIRE_OK(sigpending(&pend));
	CHECK_EQ(sigismember(&pend, SIGPIPE), 1);
}

TEST(nonblock_read_empty_eagain)
{
	int p[2];
	REQUIRE_OK(pipe2(p, O_NONBLOCK));
	char c;
	CHECK_ERR(read(p[0], &c, 1), EAGAIN);
}

TEST(nonblock_write_full_eagain)
{
	int p[2];
	REQUIRE_OK(pipe2(p, O_NONBLOCK));
	static char buf[4096];
	long total = 0;
	ssize_t n;
	while ((n = write(p[1], buf, sizeof(buf))) > 0)
		total += n;
	CHECK_EQ(n, -1);
	CHECK_EQ(errno, EAGAIN);
	CHECK_EQ(total, 65536);
	CHECK_ERR(write(p[1], "x", 1), EAGAIN);
}

TEST(nonblock_partial_write_over_pipe_buf)
{
	int p[2];
	REQUIRE_OK(pipe2(p, O_NONBLOCK));
	static char buf[65536];
	/* Leave one page free. */
	REQUIRE_EQ(write(p[1], buf, 65536 - 4096), 65536 - 4096);
	/* Larger than PIPE_BUF: as much as fits. */
	CHECK_EQ(write(p[1], buf, PIPE_BUF + 1), PIPE_BUF);
	char c[8];
	REQUIRE_EQ(read(p[0], c, 8), 8);
	/* Up to PIPE_BUF is all or nothing. */
	CHECK_ERR(write(p[1], buf, 9), EAGAIN);
}

TEST(pipe2_flags)
{
	int p[2];
	REQUIRE_OK(pipe2(p, O_CLOEXEC | O_NONBLOCK));
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(fcntl(p[i], F_GETFD), FD_CLOEXEC);
		CHECK_EQ(fcntl(p[i], F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	}
	CHECK_EQ(fcntl(p[0], F_GETFL) & O_ACCMODE, O_RDONLY);
	CHECK_EQ(fcntl(p[1], F_GETFL) & O_ACCMODE, O_WRONLY);
	int q[2];
	REQUIRE_OK(pipe2(q, 0));
	CHECK_EQ(fcntl(q[0], F_GETFD), 0);
	CHECK_EQ(fcntl(q[0], F_GETFL) & O_NONBLOCK, 0);
}

TEST(pipe2_bad_flags_einval)
{
	int p[2];
	CHECK_ERR(pipe2(p, O_RDWR), EINVAL);
	CHECK_ERR(pipe2(p, O_APPEND), EINVAL);
	CHECK_ERR(pipe2(p, 1 << 30), EINVAL);
}

TEST(pipe_efault)
{
	CHECK_ERR(syscall(SYS_pipe, (void *)1), EFAULT);
	CHECK_ERR(syscall(SYS_pipe2, (void *)1, O_CLOEXEC), EFAULT);
}

TEST(wrong_end_ebadf)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	char c = 0;
	CHECK_ERR(write(p[0], &c, 1), EBADF);
	CHECK_ERR(read(p[1], &c, 1), EBADF);
}

TEST(not_seekable_espipe)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	char c = 0;
	CHECK_ERR(lseek(p[0], 0, SEEK_CUR), ESPIPE);
	CHECK_ERR(pread(p[0], &c, 1, 0), ESPIPE);
	CHECK_ERR(pwrite(p[1], &c, 1, 0), ESPIPE);
}

TEST(fstat_is_fifo)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	struct stat a, b;
	REQUIRE_OK(fstat(p[0], &a));
	REQUIRE_OK(fstat(p[1], &b));
	CHECK(S_ISFIFO(a.st_mode));
	CHECK_EQ(a.st_ino, b.st_ino);
	CHECK_EQ(a.st_mode & 0777, 0600);
}

TEST(proc_fd_link)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	struct stat st;
	REQUIRE_OK(fstat(p[0], &st));
	char path[64], link[64], want[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[1]);
	ssize_t n = REQUIRE_OK(readlink(path, link, sizeof(link) - 1));
	link[n] = 0;
	snprintf(want, sizeof(want), "pipe:[%lu]", (unsigned long)st.st_ino);
	CHECK_STREQ(link, want);
}

TEST(fionread)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	int n = -1;
	CHECK_OK(ioctl(p[0], FIONREAD, &n));
	CHECK_EQ(n, 0);
	REQUIRE_EQ(write(p[1], "abcdefg", 7), 7);
	CHECK_OK(ioctl(p[0], FIONREAD, &n));
	CHECK_EQ(n, 7);
	/* Both ends answer. */
	CHECK_OK(ioctl(p[1], FIONREAD, &n));
	CHECK_EQ(n, 7);
	char buf[3];
	REQUIRE_EQ(read(p[0], buf, 3), 3);
	CHECK_OK(ioctl(p[0], FIONREAD, &n));
	CHECK_EQ(n, 4);
}

TEST(short_read_returns_available)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	REQUIRE_EQ(write(p[1], "ab", 2), 2);
	REQUIRE_EQ(write(p[1], "cd", 2), 2);
	char buf[16];
	/* Reads do not wait to fill the buffer. */
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 4);
	CHECK_MEMEQ(buf, "abcd", 4);
}

TEST(zero_length_io)
{
	int p[2];
	REQUIRE_OK(pipe2(p, O_NONBLOCK));
	char c;
	CHECK_EQ(write(p[1], &c, 0), 0);
	/* A zero-length read of an empty pipe returns 0 at once. */
	CHECK_EQ(read(p[0], &c, 0), 0);
}

TEST(sigpipe_not_sent_while_reader_open_elsewhere)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		/* The child keeps a reader open; the parent's writes succeed. */
		close(p[1]);
		char c;
		_exit(read(p[0], &c, 1) == 1 && c == 'q' ? 0 : 1);
	}
	CHECK_OK(close(p[0]));
	CHECK_EQ(write(p[1], "q", 1), 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
	signal(SIGPIPE, SIG_IGN);
	CHECK_ERR(write(p[1], "q", 1), EPIPE);
}

TEST(packet_mode_o_direct)
{
	int p[2];
	REQUIRE_OK(pipe2(p, O_DIRECT | O_NONBLOCK));
	/* The write end makes packets; only it shows O_DIRECT. */
	CHECK_EQ(fcntl(p[1], F_GETFL) & O_DIRECT, O_DIRECT);
	CHECK_EQ(fcntl(p[0], F_GETFL) & O_DIRECT, 0);
	REQUIRE_EQ(write(p[1], "abc", 3), 3);
	REQUIRE_EQ(write(p[1], "defgh", 5), 5);
	char buf[16];
	/* Each read returns one packet... */
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 3);
	CHECK_MEMEQ(buf, "abc", 3);
	/* ...and drops what does not fit. */
	CHECK_EQ(read(p[0], buf, 2), 2);
	CHECK_MEMEQ(buf, "de", 2);
	CHECK_ERR(read(p[0], buf, sizeof(buf)), EAGAIN);
}

TEST(packet_mode_one_slot_per_packet)
{
	int p[2];
	REQUIRE_OK(pipe2(p, O_DIRECT | O_NONBLOCK));
	int n = 0;
	while (write(p[1], "x", 1) == 1 && n < 100)
		n++;
	/* 16 page-sized slots, one per packet however small. */
	CHECK_EQ(n, 16);
	CHECK_EQ(errno, EAGAIN);
	int avail;
	CHECK_OK(ioctl(p[0], FIONREAD, &avail));
	CHECK_EQ(avail, 16);
}

TEST(packet_mode_large_write_split)
{
	int p[2];
	REQUIRE_OK(pipe2(p, O_DIRECT | O_NONBLOCK));
	static char big[3 * PIPE_BUF + 10];
	CHECK_EQ(write(p[1], big, sizeof(big)), (long)sizeof(big));
	static char buf[2 * PIPE_BUF];
	CHECK_EQ(read(p[0], buf, sizeof(buf)), PIPE_BUF);
	CHECK_EQ(read(p[0], buf, sizeof(buf)), PIPE_BUF);
	CHECK_EQ(read(p[0], buf, sizeof(buf)), PIPE_BUF);
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 10);
}

TEST(packet_mode_set_by_fcntl)
{
	int p[2];
	REQUIRE_OK(pipe2(p, O_NONBLOCK));
	REQUIRE_OK(fcntl(p[1], F_SETFL, O_NONBLOCK | O_DIRECT));
	REQUIRE_EQ(write(p[1], "ab", 2), 2);
	REQUIRE_EQ(write(p[1], "cd", 2), 2);
	char buf[8];
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 2);
	REQUIRE_OK(fcntl(p[1], F_SETFL, O_NONBLOCK));
	REQUIRE_EQ(write(p[1], "ef", 2), 2);
	REQUIRE_EQ(write(p[1], "gh", 2), 2);
	/* The packet, then the ordinary data merged. */
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 2);
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 4);
	CHECK_MEMEQ(buf, "efgh", 4);
}
