/*
 * Non-blocking TCP and readiness: connect giving EINPROGRESS then SO_ERROR,
 * EALREADY/EISCONN, refused non-blocking connects, accept EAGAIN, poll and
 * epoll readiness of listeners and connections, POLLHUP/POLLRDHUP,
 * SO_RCVTIMEO.
 */
#include "lt.h"
#include "lt_sock.h"
#include <poll.h>
#include <sys/epoll.h>
#include <sys/time.h>

static short revents(int fd, short events, int ms)
{
	struct pollfd p = {.fd = fd, .events = events};
	REQUIRE_OK(poll(&p, 1, ms));
	return p.revents;
}

static int so_error(int s)
{
	int v = -1;
	socklen_t l = sizeof(v);
	REQUIRE_OK(getsockopt(s, SOL_SOCKET, SO_ERROR, &v, &l));
	return v;
}

TEST(nonblocking_connect_completes)
{
	int port;
	int l = in_listener(AF_INET, &port);
	struct sockaddr_storage ss;
	socklen_t len = in_loopback(&ss, AF_INET, port);
	int c = REQUIRE_OK(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	CHECK_ERR(connect(c, (struct sockaddr *)&ss, len), EINPROGRESS);
	CHECK(revents(c, POLLOUT, 5000) & POLLOUT);
	CHECK_EQ(so_error(c), 0);
	/* Linux: connecting again reports the completed connection once,
	 * then EISCONN. */
	CHECK_OK(connect(c, (struct sockaddr *)&ss, len));
	CHECK_ERR(connect(c, (struct sockaddr *)&ss, len), EISCONN);
	CHECK_OK(accept(l, NULL, NULL));
}

TEST(nonblocking_connect_refused_so_error)
{
	int port;
	int b = in_bound(AF_INET, SOCK_STREAM, &port);
	struct sockaddr_storage ss;
	socklen_t len = in_loopback(&ss, AF_INET, port);
	int c = REQUIRE_OK(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	int r = connect(c, (struct sockaddr *)&ss, len);
	if (r < 0 && errno == EINPROGRESS) {
		short ev = revents(c, POLLOUT, 5000);
		CHECK(ev & (POLLOUT | POLLERR));
		CHECK_EQ(so_error(c), ECONNREFUSED);
	} else {
		CHECK_EQ(r, -1);
		CHECK_EQ(errno, ECONNREFUSED);
	}
	/* SO_ERROR is cleared by reading it. */
	CHECK_EQ(so_error(c), 0);
	close(b);
}

TEST(accept_nonblocking_eagain)
{
	int port;
	int l = in_listener(AF_INET, &port);
	REQUIRE_OK(fcntl(l, F_SETFL, O_NONBLOCK));
	CHECK_ERR(accept(l, NULL, NULL), EAGAIN);
	CHECK_EQ(revents(l, POLLIN, 0), 0);
	in_connect(AF_INET, SOCK_STREAM, port);
	CHECK_EQ(revents(l, POLLIN, 5000), POLLIN);
	CHECK_OK(accept(l, NULL, NULL));
	CHECK_ERR(accept(l, NULL, NULL), EAGAIN);
}

TEST(read_nonblocking_eagain)
{
	int port;
	int l = in_listener(AF_INET, &port);
	int c = in_connect(AF_INET, SOCK_STREAM, port);
	int a = REQUIRE_OK(accept4(l, NULL, NULL, SOCK_NONBLOCK));
	char b;
	CHECK_ERR(read(a, &b, 1), EAGAIN);
	CHECK_ERR(recv(c, &b, 1, MSG_DONTWAIT), EAGAIN);
	CHECK_EQ(revents(a, POLLIN | POLLOUT, 0), POLLOUT);
	REQUIRE_EQ(write(c, "z", 1), 1);
	CHECK_EQ(revents(a, POLLIN | POLLOUT, 5000), POLLIN | POLLOUT);
}

TEST(poll_hup_after_both_shutdown)
{
	int port;
	int l = in_listener(AF_INET, &port);
	int c = in_connect(AF_INET, SOCK_STREAM, port);
	int a = REQUIRE_OK(accept(l, NULL, NULL));
	REQUIRE_OK(shutdown(c, SHUT_WR));
	/* The peer's FIN: readable EOF and RDHUP. */
	short ev = revents(a, POLLIN | POLLRDHUP, 5000);
	CHECK(ev & POLLIN);
	for (int i = 0; i < 100 && !(ev & POLLRDHUP); i++) {
		usleep(10000);
		ev = revents(a, POLLIN | POLLRDHUP, 0);
	}
	CHECK(ev & POLLRDHUP);
	CHECK_EQ(ev & POLLHUP, 0);
	REQUIRE_OK(shutdown(a, SHUT_WR));
	for (int i = 0; i < 100 && !(ev & POLLHUP); i++) {
		usleep(10000);
		ev = revents(a, POLLIN, 0);
	}
	CHECK(ev & POLLHUP);
}

TEST(unconnected_tcp_poll)
{
	int s = REQUIRE_OK(socket(AF_INET, SOCK_STREAM, 0));
	/* A fresh TCP socket is "hung up" and writable per Linux's tcp_poll. */
	CHECK_EQ(revents(s, POLLIN | POLLOUT, 0), POLLOUT | POLLHUP);
}

TEST(epoll_listener_and_connection)
{
	int port;
	int l = in_listener(AF_INET, &port);
	int ep = REQUIRE_OK(epoll_create1(EPOLL_CLOEXEC));
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = l};
	REQUIRE_OK(epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev));
	struct epoll_event out[4];
	CHECK_EQ(epoll_wait(ep, out, 4, 0), 0);
	int c = in_connect(AF_INET, SOCK_STREAM, port);
	REQUIRE_EQ(epoll_wait(ep, out, 4, 5000), 1);
	CHECK_EQ(out[0].data.fd, l);
	int a = REQUIRE_OK(accept(l, NULL, NULL));
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.fd = a;
	REQUIRE_OK(epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev));
	CHECK_EQ(epoll_wait(ep, out, 4, 0), 0);
	REQUIRE_EQ(write(c, "m", 1), 1);
	REQUIRE_EQ(epoll_wait(ep, out, 4, 5000), 1);
	CHECK_EQ(out[0].data.fd, a);
	CHECK_EQ(out[0].events, EPOLLIN);
	char b;
	REQUIRE_EQ(read(a, &b, 1), 1);
	close(c);
	REQUIRE_EQ(epoll_wait(ep, out, 4, 5000), 1);
	CHECK(out[0].events & EPOLLRDHUP);
}

TEST(epoll_edge_triggered_out)
{
	int port;
	int l = in_listener(AF_INET, &port);
	int c = REQUIRE_OK(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	int ep = REQUIRE_OK(epoll_create1(0));
	struct epoll_event ev = {.events = EPOLLOUT | EPOLLET, .data.u32 = 1};
	REQUIRE_OK(epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev));
	struct sockaddr_storage ss;
	socklen_t len = in_loopback(&ss, AF_INET, port);
	connect(c, (struct sockaddr *)&ss, len);
	struct epoll_event out;
	/* The connection completing is an edge. */
	REQUIRE_EQ(epoll_wait(ep, &out, 1, 5000), 1);
	CHECK(out.events & EPOLLOUT);
	CHECK_EQ(so_error(c), 0);
	(void)l;
}

TEST(so_rcvtimeo)
{
	int port;
	int l = in_listener(AF_INET, &port);
	int c = in_connect(AF_INET, SOCK_STREAM, port);
	/* 100 ms: a whole number of jiffies at any HZ. */
	struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
	REQUIRE_OK(setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	struct timeval got;
	socklen_t gl = sizeof(got);
	REQUIRE_OK(getsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &got, &gl));
	CHECK_EQ(got.tv_sec, 0);
	CHECK_EQ(got.tv_usec, 100000);
	char b;
	CHECK_ERR(read(c, &b, 1), EAGAIN);
	tv.tv_usec = 2000000;
	CHECK_ERR(setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), EDOM);
	(void)l;
}

TEST(blocking_connect_then_accept_in_child)
{
	int port;
	int l = in_listener(AF_INET, &port);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		int a = accept(l, NULL, NULL);
		if (a < 0)
			_exit(1);
		char buf[4];
		_exit(read(a, buf, 4) == 4 && memcmp(buf, "ping", 4) == 0 ? 0 : 2);
	}
	int c = in_connect(AF_INET, SOCK_STREAM, port);
	REQUIRE_EQ(write(c, "ping", 4), 4);
	CHECK_EQ(lt_wait_exit(pid), 0);
}
