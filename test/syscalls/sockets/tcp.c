/*
 * TCP over IPv4 loopback: bind to port 0 and getsockname, listen, accept4,
 * connect, getpeername, ECONNREFUSED, EADDRINUSE and SO_REUSEADDR,
 * shutdown, MSG_PEEK, MSG_WAITALL, EOF and large transfers.
 */
#include "lt.h"
#include "lt_sock.h"
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>

/* tcp_pair returns a connected client and (in *srv) the accepted socket. */
static int tcp_pair(int *srv)
{
	int port;
	int l = in_listener(AF_INET, &port);
	int c = in_connect(AF_INET, SOCK_STREAM, port);
	*srv = REQUIRE_OK(accept(l, NULL, NULL));
	close(l);
	return c;
}

TEST(bind_port_zero_picks_port)
{
	int port;
	int s = in_bound(AF_INET, SOCK_STREAM, &port);
	CHECK_GT(port, 0);
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	REQUIRE_OK(getsockname(s, (struct sockaddr *)&a, &len));
	CHECK_EQ(len, sizeof(a));
	CHECK_EQ(a.sin_family, AF_INET);
	CHECK_EQ(a.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
}

TEST(unbound_getsockname)
{
	int s = REQUIRE_OK(socket(AF_INET, SOCK_STREAM, 0));
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	REQUIRE_OK(getsockname(s, (struct sockaddr *)&a, &len));
	CHECK_EQ(len, sizeof(a));
	CHECK_EQ(a.sin_port, 0);
	CHECK_EQ(a.sin_addr.s_addr, 0);
	CHECK_ERR(getpeername(s, (struct sockaddr *)&a, &len), ENOTCONN);
}

TEST(connect_accept_exchange)
{
	int a;
	int c = tcp_pair(&a);
	REQUIRE_EQ(write(c, "hello", 5), 5);
	char buf[16];
	CHECK_EQ(read(a, buf, sizeof(buf)), 5);
	CHECK_MEMEQ(buf, "hello", 5);
	REQUIRE_EQ(send(a, "world", 5, 0), 5);
	CHECK_EQ(recv(c, buf, 5, MSG_WAITALL), 5);
}

TEST(names_match_across_connection)
{
	int port;
	int l = in_listener(AF_INET, &port);
	int c = in_connect(AF_INET, SOCK_STREAM, port);
	struct sockaddr_in peer, from;
	socklen_t fl = sizeof(from);
	int a = REQUIRE_OK(accept(l, (struct sockaddr *)&from, &fl));
	CHECK_EQ(fl, sizeof(from));
	/* accept's address is the client's local address. */
	CHECK_EQ(ntohs(from.sin_port), in_port(c));
	socklen_t pl = sizeof(peer);
	REQUIRE_OK(getpeername(c, (struct sockaddr *)&peer, &pl));
	CHECK_EQ(ntohs(peer.sin_port), port);
	CHECK_EQ(in_port(a), port);
	pl = sizeof(peer);
	REQUIRE_OK(getpeername(a, (struct sockaddr *)&peer, &pl));
	CHECK_EQ(ntohs(peer.sin_port), in_port(c));
}

TEST(connect_refused)
{
	int port;
	/* A bound but not listening port refuses connections. */
	int s = in_bound(AF_INET, SOCK_STREAM, &port);
	struct sockaddr_storage ss;
	socklen_t len = in_loopback(&ss, AF_INET, port);
	int c = REQUIRE_OK(socket(AF_INET, SOCK_STREAM, 0));
	CHECK_ERR(connect(c, (struct sockaddr *)&ss, len), ECONNREFUSED);
	close(s);
}

TEST(accept4_flags_and_errors)
{
	int port;
	int l = in_listener(AF_INET, &port);
	in_connect(AF_INET, SOCK_STREAM, port);
	int a = REQUIRE_OK(accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC));
	CHECK(fcntl(a, F_GETFL) & O_NONBLOCK);
	CHECK_EQ(fcntl(a, F_GETFD), FD_CLOEXEC);
	CHECK_ERR(accept4(l, NULL, NULL, 0x40000000), EINVAL);
	int u = REQUIRE_OK(socket(AF_INET, SOCK_STREAM, 0));
	CHECK_ERR(accept(u, NULL, NULL), EINVAL);
	int d = REQUIRE_OK(socket(AF_INET, SOCK_DGRAM, 0));
	CHECK_ERR(accept(d, NULL, NULL), EOPNOTSUPP);
	CHECK_ERR(listen(d, 1), EOPNOTSUPP);
}

TEST(eaddrinuse_and_reuseaddr)
{
	int port;
	in_listener(AF_INET, &port);
	struct sockaddr_storage ss;
	socklen_t len = in_loopback(&ss, AF_INET, port);
	int t = REQUIRE_OK(socket(AF_INET, SOCK_STREAM, 0));
	CHECK_ERR(bind(t, (struct sockaddr *)&ss, len), EADDRINUSE);
	/* SO_REUSEADDR does not allow binding over a listener. */
	int one = 1;
	REQUIRE_OK(setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	CHECK_ERR(bind(t, (struct sockaddr *)&ss, len), EADDRINUSE);
	int v = 0;
	socklen_t vl = sizeof(v);
	REQUIRE_OK(getsockopt(t, SOL_SOCKET, SO_REUSEADDR, &v, &vl));
	CHECK_EQ(v, 1);
}

TEST(reuseaddr_after_connection)
{
	int one = 1;
	struct sockaddr_storage ss;
	socklen_t len = in_loopback(&ss, AF_INET, 0);
	int l = REQUIRE_OK(socket(AF_INET, SOCK_STREAM, 0));
	REQUIRE_OK(setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	REQUIRE_OK(bind(l, (struct sockaddr *)&ss, len));
	REQUIRE_OK(listen(l, 1));
	int port = in_port(l);
	int c = in_connect(AF_INET, SOCK_STREAM, port);
	int a = REQUIRE_OK(accept(l, NULL, NULL));
	close(l);
	close(a);
	close(c);
	/* The old connection's socket still holds the port: without
	 * SO_REUSEADDR a new bind fails, with it the bind succeeds. */
	len = in_loopback(&ss, AF_INET, port);
	int t = REQUIRE_OK(socket(AF_INET, SOCK_STREAM, 0));
	CHECK_ERR(bind(t, (struct sockaddr *)&ss, len), EADDRINUSE);
	REQUIRE_OK(setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	CHECK_OK(bind(t, (struct sockaddr *)&ss, len));
	CHECK_OK(listen(t, 1));
}

TEST(bind_errors)
{
	int s = REQUIRE_OK(socket(AF_INET, SOCK_STREAM, 0));
	struct sockaddr_in a = {.sin_family = AF_INET};
	CHECK_ERR(bind(s, (struct sockaddr *)&a, sizeof(a) - 1), EINVAL);
	CHECK_ERR(bind(s, bad_ptr, sizeof(a)), EFAULT);
	/* An address that is not ours. */
	a.sin_addr.s_addr = inet_addr("192.0.2.1");
	CHECK_ERR(bind(s, (struct sockaddr *)&a, sizeof(a)), EADDRNOTAVAIL);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	REQUIRE_OK(bind(s, (struct sockaddr *)&a, sizeof(a)));
	CHECK_ERR(bind(s, (struct sockaddr *)&a, sizeof(a)), EINVAL);
	/* Ports below 1024 need privilege. */
	int t = REQUIRE_OK(socket(AF_INET, SOCK_STREAM, 0));
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	a.sin_port = htons(80);
	CHECK_ERR(bind(t, (struct sockaddr *)&a, sizeof(a)), EACCES);
}

TEST(shutdown_wr_eof_and_epipe)
{
	int a;
	int c = tcp_pair(&a);
	REQUIRE_OK(shutdown(c, SHUT_WR));
	char b;
	CHECK_EQ(read(a, &b, 1), 0);
	CHECK_ERR(send(c, "x", 1, MSG_NOSIGNAL), EPIPE);
	REQUIRE_EQ(write(a, "y", 1), 1);
	CHECK_EQ(read(c, &b, 1), 1);
	int u = REQUIRE_OK(socket(AF_INET, SOCK_STREAM, 0));
	CHECK_ERR(shutdown(u, SHUT_RDWR), ENOTCONN);
	CHECK_ERR(shutdown(c, 7), EINVAL);
}

TEST(peer_close_eof_then_reset)
{
	int a;
	int c = tcp_pair(&a);
	close(a);
	char b;
	CHECK_EQ(read(c, &b, 1), 0);
	/* Writing to a closed peer: the first write gets through, the RST
	 * that answers it makes later writes EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	CHECK_EQ(write(c, "x", 1), 1);
	int err = 0;
	for (int i = 0; i < 200; i++) {
		if (write(c, "x", 1) < 0) {
			err = errno;
			break;
		}
		usleep(10000);
	}
	CHECK(err == EPIPE || err == ECONNRESET);
}

TEST(msg_peek)
{
	int a;
	int c = tcp_pair(&a);
	REQUIRE_EQ(write(c, "peek", 4), 4);
	char buf[8];
	CHECK_EQ(recv(a, buf, 4, MSG_PEEK | MSG_WAITALL), 4);
	CHECK_EQ(recv(a, buf, 2, MSG_PEEK), 2);
	CHECK_EQ(recv(a, buf, sizeof(buf), 0), 4);
	CHECK_MEMEQ(buf, "peek", 4);
	CHECK_ERR(recv(a, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
}

TEST(large_transfer)
{
	int a;
	int c = tcp_pair(&a);
	const size_t total = 8 << 20;
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		char *b = malloc(1 << 16);
		size_t off = 0;
		while (off < total) {
			size_t n = total - off < (1 << 16) ? total - off : (1 << 16);
			for (size_t i = 0; i < n; i++)
				b[i] = (char)((off + i) % 251);
			ssize_t w = write(c, b, n);
			if (w <= 0)
				_exit(1);
			off += w;
		}
		_exit(0);
	}
	close(c);
	char *b = malloc(1 << 16);
	size_t off = 0, bad = 0;
	for (;;) {
		ssize_t n = read(a, b, 1 << 16);
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			if (b[i] != (char)((off + i) % 251))
				bad++;
		off += n;
	}
	CHECK_EQ(off, total);
	CHECK_EQ(bad, 0);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(tcp_options)
{
	int a;
	int c = tcp_pair(&a);
	int v = -1;
	socklen_t vl = sizeof(v);
	REQUIRE_OK(getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, &vl));
	CHECK_EQ(v, 0);
	int one = 1;
	REQUIRE_OK(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
	REQUIRE_OK(getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, &vl));
	CHECK_EQ(v, 1);
	REQUIRE_OK(setsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)));
	REQUIRE_OK(getsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &v, &vl));
	CHECK_EQ(v, 1);
	REQUIRE_OK(getsockopt(c, SOL_SOCKET, SO_TYPE, &v, &vl));
	CHECK_EQ(v, SOCK_STREAM);
	REQUIRE_OK(getsockopt(c, SOL_SOCKET, SO_PROTOCOL, &v, &vl));
	CHECK_EQ(v, IPPROTO_TCP);
	REQUIRE_OK(getsockopt(c, SOL_SOCKET, SO_DOMAIN, &v, &vl));
	CHECK_EQ(v, AF_INET);
	CHECK_ERR(getsockopt(c, IPPROTO_TCP, 9999, &v, &vl), ENOPROTOOPT);
}

TEST(so_linger)
{
	int a;
	int c = tcp_pair(&a);
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	REQUIRE_OK(setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	struct linger got;
	socklen_t gl = sizeof(got);
	REQUIRE_OK(getsockopt(c, SOL_SOCKET, SO_LINGER, &got, &gl));
	CHECK_EQ(got.l_onoff, 1);
	CHECK_EQ(got.l_linger, 0);
	/* Linger 0: close resets the connection. */
	close(c);
	char b;
	CHECK_ERR(read(a, &b, 1), ECONNRESET);
}

TEST(fionread_and_siocoutq)
{
	int a;
	int c = tcp_pair(&a);
	REQUIRE_EQ(write(c, "12345", 5), 5);
	struct pollfd p = {.fd = a, .events = POLLIN};
	REQUIRE_EQ(poll(&p, 1, 5000), 1);
	int n = -1;
	REQUIRE_OK(ioctl(a, FIONREAD, &n));
	CHECK_EQ(n, 5);
}

TEST(tcp_info_state)
{
	int a;
	int c = tcp_pair(&a);
	struct tcp_info ti;
	socklen_t l = sizeof(ti);
	REQUIRE_OK(getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &l));
	CHECK_EQ(ti.tcpi_state, TCP_ESTABLISHED);
	CHECK_GT(l, 0);
	/* TCP_INFO is read-only. */
	CHECK_ERR(setsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, l), ENOPROTOOPT);
}

TEST(urgent_data)
{
	int a;
	int c = tcp_pair(&a);
	REQUIRE_EQ(send(c, "o", 1, MSG_OOB), 1);
	struct pollfd p = {.fd = a, .events = POLLPRI};
	REQUIRE_EQ(poll(&p, 1, 5000), 1);
	CHECK(p.revents & POLLPRI);
	char b;
	CHECK_EQ(recv(a, &b, 1, MSG_OOB), 1);
	CHECK_EQ(b, 'o');
	int at = -1;
	/* No ordinary data came before the urgent byte: at the mark. */
	REQUIRE_OK(ioctl(a, SIOCATMARK, &at));
	CHECK_EQ(at, 1);
	CHECK_ERR(recv(a, &b, 1, MSG_OOB), EINVAL);
}

TEST(sendto_connected_ignores_address)
{
	int a;
	int c = tcp_pair(&a);
	struct sockaddr_storage ss;
	socklen_t len = in_loopback(&ss, AF_INET, 9);
	CHECK_EQ(sendto(c, "s", 1, 0, (struct sockaddr *)&ss, len), 1);
	char b;
	CHECK_EQ(read(a, &b, 1), 1);
	int u = REQUIRE_OK(socket(AF_INET, SOCK_STREAM, 0));
	CHECK_ERR(send(u, "x", 1, MSG_NOSIGNAL), EPIPE);
}

TEST(peek_waitall_waits_for_everything)
{
	int a;
	int c = tcp_pair(&a);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		for (int i = 0; i < 3; i++) {
			usleep(20000);
			if (write(c, "xy", 2) != 2)
				_exit(1);
		}
		_exit(0);
	}
	char buf[8];
	CHECK_EQ(recv(a, buf, 6, MSG_PEEK | MSG_WAITALL), 6);
	CHECK_EQ(recv(a, buf, sizeof(buf), 0), 6);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(peek_waitall_ends_at_fin_or_timeout)
{
	int a;
	int c = tcp_pair(&a);
	REQUIRE_EQ(write(c, "abc", 3), 3);
	struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
	REQUIRE_OK(setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	char buf[8];
	/* The timeout ends the wait with what can be peeked. */
	CHECK_EQ(recv(a, buf, 8, MSG_PEEK | MSG_WAITALL), 3);
	tv.tv_usec = 0;
	tv.tv_sec = 0;
	REQUIRE_OK(setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	/* So does the peer's FIN. */
	REQUIRE_OK(shutdown(c, SHUT_WR));
	CHECK_EQ(recv(a, buf, 8, MSG_PEEK | MSG_WAITALL), 3);
	CHECK_EQ(recv(a, buf, 8, MSG_WAITALL), 3);
}

TEST(write_faulting_source_sends_nothing)
{
	int a;
	int c = tcp_pair(&a);
	char *map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(map != MAP_FAILED);
	REQUIRE_OK(munmap(map + 4096, 4096));
	CHECK_ERR(write(c, map + 4000, 200), EFAULT);
	REQUIRE_EQ(write(c, "ok", 2), 2);
	char b[300];
	struct pollfd p = {.fd = a, .events = POLLIN};
	REQUIRE_EQ(poll(&p, 1, 5000), 1);
	CHECK_EQ(recv(a, b, sizeof(b), 0), 2);
}
