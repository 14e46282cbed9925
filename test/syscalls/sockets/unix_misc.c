/*
 * AF_UNIX corners: SCM_MAX_FD, datagram queue limits and POLLOUT,
 * datagrams to oneself, SIOCOUTQ/SIOCINQ, a socket in flight inside its
 * own queue, listen on a connected socket, backlog changes, SO_PEEK_OFF.
 */
#include "lt.h"
#include "lt_sock.h"
#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>

static ssize_t send_fds(int s, const int *fds, int n)
{
	size_t clen = CMSG_SPACE(sizeof(int) * n);
	char *cbuf = calloc(1, clen);
	struct iovec iov = {"x", 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = clen};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	ssize_t r = sendmsg(s, &m, 0);
	free(cbuf);
	return r;
}

TEST(scm_max_fd)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, p));
	int fds[254];
	for (int i = 0; i < 254; i++)
		fds[i] = 0;
	/* At most 253 descriptors per message. */
	CHECK_EQ(send_fds(p[0], fds, 253), 1);
	CHECK_ERR(send_fds(p[0], fds, 254), EINVAL);
}

TEST(dgram_to_self)
{
	int s = un_bound(SOCK_DGRAM, "me");
	struct sockaddr_un a;
	socklen_t len = un_path(&a, "me");
	CHECK_EQ(sendto(s, "loop", 4, 0, (struct sockaddr *)&a, len), 4);
	char buf[8];
	CHECK_EQ(recv(s, buf, sizeof(buf), 0), 4);
	/* Connected to itself, too. */
	REQUIRE_OK(connect(s, (struct sockaddr *)&a, len));
	CHECK_EQ(send(s, "again", 5, 0), 5);
	CHECK_EQ(recv(s, buf, sizeof(buf), 0), 5);
}

TEST(dgram_queue_full_eagain_and_pollout)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, p));
	int n = 0;
	/* The receive queue holds a bounded number of datagrams. */
	while (send(p[0], "d", 1, MSG_DONTWAIT) == 1)
		if (++n > 100000)
			ABORT("queue never filled");
	CHECK_EQ(errno, EAGAIN);
	CHECK_GT(n, 0);
	struct pollfd pf = {.fd = p[0], .events = POLLOUT};
	CHECK_EQ(poll(&pf, 1, 0), 0);
	/* Emptied, the queue takes datagrams again. */
	char c;
	while (recv(p[1], &c, 1, MSG_DONTWAIT) == 1)
		;
	CHECK_EQ(poll(&pf, 1, 2000), 1);
	CHECK_EQ(send(p[0], "d", 1, MSG_DONTWAIT), 1);
}

TEST(siocinq_siocoutq_stream)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, p));
	REQUIRE_EQ(write(p[0], "12345", 5), 5);
	int n = -1;
	/* SIOCOUTQ counts what the peer has not read (Linux counts it in
	 * buffer memory, so only "some" is certain). */
	REQUIRE_OK(ioctl(p[0], SIOCOUTQ, &n));
	CHECK_GE(n, 5);
	REQUIRE_OK(ioctl(p[1], SIOCINQ, &n));
	CHECK_EQ(n, 5);
	char b[5];
	REQUIRE_EQ(read(p[1], b, 5), 5);
	REQUIRE_OK(ioctl(p[0], SIOCOUTQ, &n));
	CHECK_EQ(n, 0);
}

TEST(socket_in_its_own_queue)
{
	/* A socket sent over itself and closed: the cycle is collected, the
	 * peer sees the connection end. */
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, p));
	REQUIRE_EQ(send_fds(p[0], &p[1], 1), 1);
	close(p[1]);
	int q[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, q));
	REQUIRE_EQ(send_fds(q[0], &q[0], 1), 1);
	close(q[0]);
	char c;
	/* q[0] lives on inside q[1]'s queue: no EOF for q[1] yet. */
	REQUIRE_OK(fcntl(q[1], F_SETFL, O_NONBLOCK));
	CHECK_EQ(read(q[1], &c, 1), 1);
}

TEST(listen_on_connected_einval)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, p));
	CHECK_ERR(listen(p[0], 1), EINVAL);
}

TEST(listen_twice_changes_backlog)
{
	int l = un_listener(SOCK_STREAM, "srv", 1);
	CHECK_OK(listen(l, 10));
	for (int i = 0; i < 5; i++) {
		int c = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0));
		struct sockaddr_un a;
		socklen_t len = un_path(&a, "srv");
		CHECK_OK(connect(c, (struct sockaddr *)&a, len));
	}
}

TEST(so_peek_off)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, p));
	int off = 0;
	REQUIRE_OK(setsockopt(p[1], SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off)));
	REQUIRE_EQ(write(p[0], "abcdef", 6), 6);
	char buf[4];
	/* Each peek continues where the last one stopped. */
	CHECK_EQ(recv(p[1], buf, 2, MSG_PEEK), 2);
	CHECK_MEMEQ(buf, "ab", 2);
	CHECK_EQ(recv(p[1], buf, 2, MSG_PEEK), 2);
	CHECK_MEMEQ(buf, "cd", 2);
	int v = -1;
	socklen_t vl = sizeof(v);
	REQUIRE_OK(getsockopt(p[1], SOL_SOCKET, SO_PEEK_OFF, &v, &vl));
	CHECK_EQ(v, 4);
	/* A real read consumes from the start and moves the offset back. */
	CHECK_EQ(recv(p[1], buf, 3, 0), 3);
	CHECK_MEMEQ(buf, "abc", 3);
	REQUIRE_OK(getsockopt(p[1], SOL_SOCKET, SO_PEEK_OFF, &v, &vl));
	CHECK_EQ(v, 1);
	CHECK_EQ(recv(p[1], buf, 4, MSG_PEEK), 2);
	CHECK_MEMEQ(buf, "ef", 2);
	/* Past the data: nothing to peek yet. */
	CHECK_ERR(recv(p[1], buf, 4, MSG_PEEK | MSG_DONTWAIT), EAGAIN);
}

TEST(so_peek_off_dgram)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, p));
	int off = 0;
	REQUIRE_OK(setsockopt(p[1], SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off)));
	REQUIRE_EQ(send(p[0], "abc", 3, 0), 3);
	REQUIRE_EQ(send(p[0], "def", 3, 0), 3);
	char buf[4];
	CHECK_EQ(recv(p[1], buf, 2, MSG_PEEK), 2);
	CHECK_MEMEQ(buf, "ab", 2);
	/* The rest of the first datagram, then into the second. */
	CHECK_EQ(recv(p[1], buf, 4, MSG_PEEK), 1);
	CHECK_EQ(buf[0], 'c');
	CHECK_EQ(recv(p[1], buf, 2, MSG_PEEK), 2);
	CHECK_MEMEQ(buf, "de", 2);
	CHECK_EQ(recv(p[1], buf, 4, 0), 3);
	CHECK_MEMEQ(buf, "abc", 3);
	CHECK_EQ(recv(p[1], buf, 4, MSG_PEEK), 1);
	CHECK_EQ(buf[0], 'f');
	/* A negative offset turns peeking at an offset off. */
	off = -1;
	REQUIRE_OK(setsockopt(p[1], SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off)));
	CHECK_EQ(recv(p[1], buf, 4, MSG_PEEK), 3);
}

TEST(so_peek_off_default_off)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, p));
	int v = 0;
	socklen_t vl = sizeof(v);
	REQUIRE_OK(getsockopt(p[1], SOL_SOCKET, SO_PEEK_OFF, &v, &vl));
	CHECK_EQ(v, -1);
}

TEST(dgram_connect_to_stream_path)
{
	un_listener(SOCK_STREAM, "srv", 1);
	struct sockaddr_un a;
	socklen_t len = un_path(&a, "srv");
	int d = REQUIRE_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_ERR(sendto(d, "x", 1, 0, (struct sockaddr *)&a, len), EPROTOTYPE);
}

TEST(stream_sendto_unconnected)
{
	int s = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	struct sockaddr_un a;
	socklen_t len = un_path(&a, "x");
	CHECK_ERR(sendto(s, "x", 1, MSG_NOSIGNAL, (struct sockaddr *)&a, len), EOPNOTSUPP);
	CHECK_ERR(send(s, "x", 1, MSG_NOSIGNAL), ENOTCONN);
	char c;
	CHECK_ERR(recv(s, &c, 1, 0), EINVAL);
}
