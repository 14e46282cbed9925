/*
 * AF_UNIX socket options (SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ERROR,
 * SO_SNDBUF, SO_RCVBUF, SO_ACCEPTCONN, errors) and readiness through poll
 * and epoll (POLLIN, POLLOUT, POLLHUP, POLLRDHUP).
 */
#include "lt.h"
#include "lt_sock.h"
#include <poll.h>
#include <sys/epoll.h>

static int getint(int s, int level, int name)
{
	int v = -12345;
	socklen_t len = sizeof(v);
	REQUIRE_OK(getsockopt(s, level, name, &v, &len));
	REQUIRE_EQ(len, sizeof(int));
	return v;
}

static short revents(int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};
	REQUIRE_OK(poll(&p, 1, 0));
	return p.revents;
}

TEST(so_type_domain_protocol)
{
	int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
	for (int i = 0; i < 3; i++) {
		int s = REQUIRE_OK(socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0));
		CHECK_EQ(getint(s, SOL_SOCKET, SO_TYPE), types[i]);
		CHECK_EQ(getint(s, SOL_SOCKET, SO_DOMAIN), AF_UNIX);
		CHECK_EQ(getint(s, SOL_SOCKET, SO_PROTOCOL), 0);
		close(s);
	}
}

TEST(so_error_clear)
{
	int s = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_EQ(getint(s, SOL_SOCKET, SO_ERROR), 0);
	/* SO_ERROR is read-only. */
	int v = 1;
	CHECK_ERR(setsockopt(s, SOL_SOCKET, SO_ERROR, &v, sizeof(v)), ENOPROTOOPT);
}

TEST(so_acceptconn)
{
	int l = un_bound(SOCK_STREAM, "srv");
	CHECK_EQ(getint(l, SOL_SOCKET, SO_ACCEPTCONN), 0);
	REQUIRE_OK(listen(l, 1));
	CHECK_EQ(getint(l, SOL_SOCKET, SO_ACCEPTCONN), 1);
}

TEST(so_sndbuf_rcvbuf_doubled)
{
	int s = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_GT(getint(s, SOL_SOCKET, SO_SNDBUF), 0);
	CHECK_GT(getint(s, SOL_SOCKET, SO_RCVBUF), 0);
	int v = 65536;
	REQUIRE_OK(setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)));
	CHECK_EQ(getint(s, SOL_SOCKET, SO_SNDBUF), 2 * 65536);
	REQUIRE_OK(setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)));
	CHECK_EQ(getint(s, SOL_SOCKET, SO_RCVBUF), 2 * 65536);
	/* Tiny values are raised to a minimum. */
	v = 1;
	REQUIRE_OK(setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)));
	CHECK_GE(getint(s, SOL_SOCKET, SO_SNDBUF), 2048);
}

TEST(sockopt_errors)
{
	int s = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	int v;
	socklen_t len = sizeof(v);
	CHECK_ERR(getsockopt(s, SOL_SOCKET, 9999, &v, &len), ENOPROTOOPT);
	CHECK_ERR(getsockopt(s, SOL_SOCKET, SO_TYPE, bad_ptr, &len), EFAULT);
	CHECK_ERR(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, (socklen_t *)bad_ptr), EFAULT);
	len = -1;
	CHECK_ERR(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len), EINVAL);
	CHECK_ERR(setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, 2), EINVAL);
	CHECK_ERR(setsockopt(s, SOL_SOCKET, SO_SNDBUF, bad_ptr, 4), EFAULT);
	len = sizeof(v);
	CHECK_ERR(getsockopt(99, SOL_SOCKET, SO_TYPE, &v, &len), EBADF);
	int f = REQUIRE_OK(open("/dev/null", O_RDONLY));
	CHECK_ERR(getsockopt(f, SOL_SOCKET, SO_TYPE, &v, &len), ENOTSOCK);
}

TEST(sockopt_short_length)
{
	int s = REQUIRE_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	char c = 0x55;
	socklen_t len = 1;
	/* Linux copies the low byte of an int option into a short buffer. */
	REQUIRE_OK(getsockopt(s, SOL_SOCKET, SO_TYPE, &c, &len));
	CHECK_EQ(len, 1);
	CHECK_EQ(c, SOCK_DGRAM);
}

TEST(poll_pair_readiness)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, p));
	CHECK_EQ(revents(p[0], POLLIN | POLLOUT), POLLOUT);
	REQUIRE_EQ(write(p[1], "x", 1), 1);
	CHECK_EQ(revents(p[0], POLLIN | POLLOUT), POLLIN | POLLOUT);
}

TEST(poll_peer_close_pollhup)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, p));
	close(p[1]);
	short r = revents(p[0], POLLIN | POLLOUT | POLLRDHUP);
	CHECK(r & POLLIN);
	CHECK(r & POLLHUP);
	CHECK(r & POLLRDHUP);
}

TEST(poll_shutdown_wr_rdhup)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, p));
	REQUIRE_OK(shutdown(p[1], SHUT_WR));
	/* The peer's write side is gone: readable (EOF), RDHUP, not HUP. */
	CHECK_EQ(revents(p[0], POLLIN | POLLOUT | POLLRDHUP), POLLIN | POLLOUT | POLLRDHUP);
	/* The shut-down side can still read but not write. */
	CHECK_EQ(revents(p[1], POLLIN | POLLOUT), POLLOUT);
	REQUIRE_OK(shutdown(p[0], SHUT_WR));
	CHECK(revents(p[0], POLLIN) & POLLHUP);
}

TEST(poll_listener_readable_on_connect)
{
	int l = un_listener(SOCK_STREAM, "srv", 4);
	CHECK_EQ(revents(l, POLLIN | POLLOUT), 0);
	un_connect(SOCK_STREAM, "srv");
	CHECK_EQ(revents(l, POLLIN | POLLOUT), POLLIN);
}

TEST(poll_unconnected_stream)
{
	int s = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	/* Linux reports an unconnected stream socket as hung up and writable. */
	CHECK_EQ(revents(s, POLLIN | POLLOUT), POLLOUT | POLLHUP);
	int d = REQUIRE_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_EQ(revents(d, POLLIN | POLLOUT), POLLOUT);
}

TEST(poll_stream_full_not_writable)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p));
	static char big[65536];
	while (write(p[0], big, sizeof(big)) > 0)
		;
	CHECK_EQ(errno, EAGAIN);
	CHECK_EQ(revents(p[0], POLLOUT), 0);
	/* Draining makes it writable again. */
	while (read(p[1], big, sizeof(big)) > 0)
		;
	CHECK_EQ(revents(p[0], POLLOUT), POLLOUT);
}

TEST(poll_blocks_until_data)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, p));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		usleep(50000);
		_exit(write(p[1], "x", 1) == 1 ? 0 : 1);
	}
	struct pollfd pf = {.fd = p[0], .events = POLLIN};
	CHECK_EQ(poll(&pf, 1, 10000), 1);
	CHECK_EQ(pf.revents, POLLIN);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(epoll_edge_triggered)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, p));
	int ep = REQUIRE_OK(epoll_create1(0));
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u32 = 7};
	REQUIRE_OK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	struct epoll_event out[2];
	CHECK_EQ(epoll_wait(ep, out, 2, 0), 0);
	REQUIRE_EQ(write(p[1], "a", 1), 1);
	REQUIRE_EQ(epoll_wait(ep, out, 2, 0), 1);
	CHECK_EQ(out[0].data.u32, 7);
	CHECK_EQ(out[0].events, EPOLLIN);
	/* Edge-triggered: no new edge, no event. */
	CHECK_EQ(epoll_wait(ep, out, 2, 0), 0);
	REQUIRE_EQ(write(p[1], "b", 1), 1);
	CHECK_EQ(epoll_wait(ep, out, 2, 0), 1);
}

TEST(epoll_hup_on_close)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, p));
	int ep = REQUIRE_OK(epoll_create1(0));
	struct epoll_event ev = {.events = EPOLLRDHUP};
	REQUIRE_OK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	struct epoll_event out;
	CHECK_EQ(epoll_wait(ep, &out, 1, 0), 0);
	close(p[1]);
	REQUIRE_EQ(epoll_wait(ep, &out, 1, 1000), 1);
	/* EPOLLHUP is always reported. */
	CHECK_EQ(out.events, EPOLLRDHUP | EPOLLHUP);
}
