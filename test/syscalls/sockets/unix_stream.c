/*
 * AF_UNIX SOCK_STREAM data transfer over socketpair: shutdown, EPIPE and
 * SIGPIPE, MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL, EOF and large transfers.
 */
#include "lt.h"
#include "lt_sock.h"
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>

static void pair(int type, int p[2])
{
	REQUIRE_OK(socketpair(AF_UNIX, type, 0, p));
}

TEST(socketpair_basic)
{
	int p[2];
	pair(SOCK_STREAM, p);
	CHECK_NE(p[0], p[1]);
	REQUIRE_EQ(write(p[0], "hello", 5), 5);
	char buf[16];
	CHECK_EQ(read(p[1], buf, sizeof(buf)), 5);
	CHECK_MEMEQ(buf, "hello", 5);
	REQUIRE_EQ(write(p[1], "back", 4), 4);
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 4);
}

TEST(socketpair_errors)
{
	int p[2];
	CHECK_ERR(socketpair(AF_INET, SOCK_STREAM, 0, p), EOPNOTSUPP);
	/* Protocol 0 or PF_UNIX only. */
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, PF_UNIX, p));
	CHECK_ERR(socketpair(AF_UNIX, SOCK_STREAM, 2, p), EPROTONOSUPPORT);
	CHECK_ERR(socketpair(AF_UNIX, SOCK_RDM, 0, p), ESOCKTNOSUPPORT);
	CHECK_ERR(socketpair(AF_UNIX, 77, 0, p), EINVAL);
	CHECK_ERR(socketpair(AF_UNIX, SOCK_STREAM, 0, (int *)bad_ptr), EFAULT);
	CHECK_ERR(socketpair(AF_UNIX, SOCK_STREAM | 0x100000, 0, p), EINVAL);
}

TEST(socketpair_flags)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, p));
	for (int i = 0; i < 2; i++) {
		CHECK(fcntl(p[i], F_GETFL) & O_NONBLOCK);
		CHECK_EQ(fcntl(p[i], F_GETFD), FD_CLOEXEC);
	}
	char c;
	CHECK_ERR(read(p[0], &c, 1), EAGAIN);
}

TEST(stream_merges_writes)
{
	int p[2];
	pair(SOCK_STREAM, p);
	REQUIRE_EQ(write(p[0], "abc", 3), 3);
	REQUIRE_EQ(write(p[0], "defg", 4), 4);
	char buf[16];
	CHECK_EQ(read(p[1], buf, sizeof(buf)), 7);
	CHECK_MEMEQ(buf, "abcdefg", 7);
}

TEST(eof_after_peer_close)
{
	int p[2];
	pair(SOCK_STREAM, p);
	REQUIRE_EQ(write(p[0], "xy", 2), 2);
	close(p[0]);
	char buf[4];
	/* Queued data first, then EOF. */
	CHECK_EQ(read(p[1], buf, sizeof(buf)), 2);
	CHECK_EQ(read(p[1], buf, sizeof(buf)), 0);
	CHECK_EQ(read(p[1], buf, sizeof(buf)), 0);
}

TEST(write_after_peer_close_epipe_sigpipe)
{
	int p[2];
	pair(SOCK_STREAM, p);
	close(p[1]);
	signal(SIGPIPE, SIG_IGN);
	CHECK_ERR(write(p[0], "x", 1), EPIPE);
	CHECK_ERR(send(p[0], "x", 1, MSG_NOSIGNAL), EPIPE);
	signal(SIGPIPE, SIG_DFL);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		write(p[0], "x", 1);
		_exit(0);
	}
	CHECK_EQ(lt_wait_exit(pid), 128 + SIGPIPE);
}

TEST(shutdown_wr_gives_peer_eof)
{
	int p[2];
	pair(SOCK_STREAM, p);
	REQUIRE_EQ(write(p[0], "a", 1), 1);
	REQUIRE_OK(shutdown(p[0], SHUT_WR));
	char buf[4];
	CHECK_EQ(read(p[1], buf, sizeof(buf)), 1);
	CHECK_EQ(read(p[1], buf, sizeof(buf)), 0);
	CHECK_ERR(send(p[0], "b", 1, MSG_NOSIGNAL), EPIPE);
	/* The other direction still works. */
	REQUIRE_EQ(write(p[1], "c", 1), 1);
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 1);
}

TEST(shutdown_rd)
{
	int p[2];
	pair(SOCK_STREAM, p);
	REQUIRE_OK(shutdown(p[1], SHUT_RD));
	char buf[4];
	/* Reading a shut-down read side gives EOF at once. */
	CHECK_EQ(read(p[1], buf, sizeof(buf)), 0);
	/* The peer cannot send to it any more. */
	CHECK_ERR(send(p[0], "b", 1, MSG_NOSIGNAL), EPIPE);
}

TEST(shutdown_errors)
{
	int p[2];
	pair(SOCK_STREAM, p);
	CHECK_ERR(shutdown(p[0], 3), EINVAL);
	CHECK_ERR(shutdown(p[0], -1), EINVAL);
	CHECK_ERR(shutdown(99, SHUT_RD), EBADF);
	int f = REQUIRE_OK(open("/dev/null", O_RDONLY));
	CHECK_ERR(shutdown(f, SHUT_RD), ENOTSOCK);
	/* Linux's AF_UNIX shutdown does not require a connection. */
	int u = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_OK(shutdown(u, SHUT_RDWR));
	/* Shutting down twice is fine. */
	CHECK_OK(shutdown(p[0], SHUT_RDWR));
	CHECK_OK(shutdown(p[0], SHUT_RDWR));
}

TEST(msg_peek)
{
	int p[2];
	pair(SOCK_STREAM, p);
	REQUIRE_EQ(write(p[0], "peekaboo", 8), 8);
	char buf[16];
	CHECK_EQ(recv(p[1], buf, 4, MSG_PEEK), 4);
	CHECK_MEMEQ(buf, "peek", 4);
	CHECK_EQ(recv(p[1], buf, sizeof(buf), MSG_PEEK), 8);
	CHECK_EQ(recv(p[1], buf, 3, 0), 3);
	CHECK_MEMEQ(buf, "pee", 3);
	CHECK_EQ(recv(p[1], buf, sizeof(buf), 0), 5);
	CHECK_MEMEQ(buf, "kaboo", 5);
}

TEST(msg_dontwait)
{
	int p[2];
	pair(SOCK_STREAM, p);
	char c;
	CHECK_ERR(recv(p[1], &c, 1, MSG_DONTWAIT), EAGAIN);
	/* The file itself stays blocking. */
	CHECK_EQ(fcntl(p[1], F_GETFL) & O_NONBLOCK, 0);
	/* Fill the send buffer without blocking. */
	static char big[65536];
	long total = 0;
	for (;;) {
		ssize_t n = send(p[0], big, sizeof(big), MSG_DONTWAIT);
		if (n < 0) {
			CHECK_EQ(errno, EAGAIN);
			break;
		}
		total += n;
		if (total > (64 << 20))
			ABORT("send never filled the buffer");
	}
	CHECK_GT(total, 0);
	int q = 0;
	REQUIRE_OK(ioctl(p[1], FIONREAD, &q));
	CHECK_EQ(q, total);
}

TEST(msg_waitall)
{
	int p[2];
	pair(SOCK_STREAM, p);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		for (int i = 0; i < 4; i++) {
			usleep(20000);
			if (write(p[0], "ab", 2) != 2)
				_exit(1);
		}
		_exit(0);
	}
	char buf[8];
	CHECK_EQ(recv(p[1], buf, 8, MSG_WAITALL), 8);
	CHECK_MEMEQ(buf, "abababab", 8);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(msg_waitall_stops_at_eof)
{
	int p[2];
	pair(SOCK_STREAM, p);
	REQUIRE_EQ(write(p[0], "abc", 3), 3);
	close(p[0]);
	char buf[8];
	CHECK_EQ(recv(p[1], buf, 8, MSG_WAITALL), 3);
}

TEST(blocking_read_wakes_on_write)
{
	int p[2];
	pair(SOCK_STREAM, p);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		usleep(50000);
		_exit(write(p[0], "w", 1) == 1 ? 0 : 1);
	}
	char c;
	CHECK_EQ(read(p[1], &c, 1), 1);
	CHECK_EQ(c, 'w');
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(large_transfer)
{
	int p[2];
	pair(SOCK_STREAM, p);
	const size_t total = 4 << 20;
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		char *b = malloc(total);
		for (size_t i = 0; i < total; i++)
			b[i] = (char)(i * 7);
		size_t off = 0;
		while (off < total) {
			ssize_t n = write(p[0], b + off, total - off);
			if (n <= 0)
				_exit(1);
			off += n;
		}
		_exit(0);
	}
	close(p[0]);
	char *got = malloc(total);
	size_t off = 0;
	for (;;) {
		ssize_t n = read(p[1], got + off, total - off > 0 ? total - off : 1);
		if (n <= 0)
			break;
		off += n;
		if (off == total)
			break;
	}
	CHECK_EQ(off, total);
	size_t bad = 0;
	for (size_t i = 0; i < off; i++)
		if (got[i] != (char)(i * 7))
			bad++;
	CHECK_EQ(bad, 0);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(read_write_bad_buffer_efault)
{
	int p[2];
	pair(SOCK_STREAM, p);
	CHECK_ERR(write(p[0], bad_ptr, 4), EFAULT);
	REQUIRE_EQ(write(p[0], "abcd", 4), 4);
	CHECK_ERR(read(p[1], bad_ptr, 4), EFAULT);
}

TEST(zero_length_write)
{
	int p[2];
	pair(SOCK_STREAM, p);
	CHECK_EQ(write(p[0], "", 0), 0);
	struct pollfd pf = {.fd = p[1], .events = POLLIN};
	/* A zero-length stream write sends nothing. */
	CHECK_EQ(poll(&pf, 1, 0), 0);
}

TEST(so_rcvtimeo_applies_to_read)
{
	int p[2];
	pair(SOCK_STREAM, p);
	struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
	REQUIRE_OK(setsockopt(p[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	char c;
	CHECK_ERR(read(p[0], &c, 1), EAGAIN);
	CHECK_ERR(recv(p[0], &c, 1, 0), EAGAIN);
	struct iovec iov = {&c, 1};
	CHECK_ERR(readv(p[0], &iov, 1), EAGAIN);
}

TEST(so_sndtimeo_applies_to_write)
{
	int p[2];
	pair(SOCK_STREAM, p);
	struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
	REQUIRE_OK(setsockopt(p[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
	static char big[65536];
	ssize_t n;
	long total = 0;
	/* Blocking writes fill the buffer, then time out: a partial count or
	 * EAGAIN. */
	while ((n = write(p[0], big, sizeof(big))) == sizeof(big))
		if ((total += n) > (64 << 20))
			ABORT("the buffer never filled");
	if (n >= 0)
		n = write(p[0], big, sizeof(big));
	CHECK_EQ(n, -1);
	CHECK_EQ(errno, EAGAIN);
}

TEST(zero_length_recv_waits_for_data)
{
	int p[2];
	pair(SOCK_STREAM, p);
	char b[4];
	/* Linux: a zero-length receive still wants one byte to be there. */
	CHECK_ERR(recv(p[0], b, 0, MSG_DONTWAIT), EAGAIN);
	REQUIRE_EQ(write(p[1], "d", 1), 1);
	CHECK_EQ(recv(p[0], b, 0, MSG_DONTWAIT), 0);
	CHECK_EQ(recv(p[0], b, sizeof(b), 0), 1);
}

TEST(so_rcvlowat_stored)
{
	int p[2];
	pair(SOCK_STREAM, p);
	int v = 5;
	REQUIRE_OK(setsockopt(p[0], SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v)));
	v = 0;
	socklen_t l = sizeof(v);
	REQUIRE_OK(getsockopt(p[0], SOL_SOCKET, SO_RCVLOWAT, &v, &l));
	CHECK_EQ(v, 5);
}

TEST(peek_waitall_does_not_wait)
{
	int p[2];
	pair(SOCK_STREAM, p);
	REQUIRE_EQ(write(p[0], "ab", 2), 2);
	REQUIRE_EQ(write(p[0], "cd", 2), 2);
	char buf[8];
	/* Unlike TCP, an AF_UNIX peek returns what is queued (all of it,
	 * across writes) without waiting for more. */
	CHECK_EQ(recv(p[1], buf, 8, MSG_PEEK | MSG_WAITALL), 4);
	CHECK_MEMEQ(buf, "abcd", 4);
	CHECK_EQ(recv(p[1], buf, sizeof(buf), MSG_DONTWAIT), 4);
}

TEST(peek_waitall_stops_at_eof)
{
	int p[2];
	pair(SOCK_STREAM, p);
	REQUIRE_EQ(write(p[0], "abc", 3), 3);
	close(p[0]);
	char buf[8];
	CHECK_EQ(recv(p[1], buf, 8, MSG_PEEK | MSG_WAITALL), 3);
}

TEST(peek_waitall_timeout_returns_partial)
{
	int p[2];
	pair(SOCK_STREAM, p);
	struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
	REQUIRE_OK(setsockopt(p[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	REQUIRE_EQ(write(p[0], "abc", 3), 3);
	char buf[8];
	CHECK_EQ(recv(p[1], buf, 8, MSG_PEEK | MSG_WAITALL), 3);
}

TEST(write_faulting_source_sends_nothing)
{
	int p[2];
	pair(SOCK_STREAM, p);
	char *map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(map != MAP_FAILED);
	REQUIRE_OK(munmap(map + 4096, 4096));
	/* The buffer runs into unmapped memory: EFAULT, and nothing of it is
	 * sent (unlike a pipe, which takes the part before the fault). */
	CHECK_ERR(write(p[0], map + 4090, 10), EFAULT);
	struct iovec iov[2] = {{map, 16}, {map + 4096, 4}};
	CHECK_ERR(writev(p[0], iov, 2), EFAULT);
	char b[32];
	CHECK_ERR(recv(p[1], b, sizeof(b), MSG_DONTWAIT), EAGAIN);
}

TEST(read_faulting_destination_keeps_data)
{
	int p[2];
	pair(SOCK_STREAM, p);
	char *map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(map != MAP_FAILED);
	REQUIRE_OK(munmap(map + 4096, 4096));
	REQUIRE_EQ(write(p[0], "abcdefgh", 8), 8);
	/* A stream receive that cannot copy its data leaves it queued. */
	CHECK_ERR(read(p[1], bad_ptr, 8), EFAULT);
	CHECK_ERR(read(p[1], map + 4092, 8), EFAULT);
	CHECK_ERR(recv(p[1], map + 4092, 8, 0), EFAULT);
	char b[16];
	CHECK_EQ(recv(p[1], b, sizeof(b), MSG_DONTWAIT), 8);
	CHECK_MEMEQ(b, "abcdefgh", 8);
}

TEST(dgram_read_fault_drops_datagram)
{
	int p[2];
	pair(SOCK_DGRAM, p);
	REQUIRE_EQ(send(p[0], "one", 3, 0), 3);
	REQUIRE_EQ(send(p[0], "two", 3, 0), 3);
	/* A datagram whose copy faulted is gone. */
	CHECK_ERR(read(p[1], bad_ptr, 8), EFAULT);
	char b[8];
	CHECK_EQ(recv(p[1], b, sizeof(b), MSG_DONTWAIT), 3);
	CHECK_MEMEQ(b, "two", 3);
}
