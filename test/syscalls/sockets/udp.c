/*
 * UDP over IPv4 loopback: sendto/recvfrom with addresses, connect and the
 * peer filter, AF_UNSPEC disconnect, ECONNREFUSED from ICMP, MSG_PEEK,
 * MSG_TRUNC, empty datagrams, FIONREAD, readiness and bind errors.
 */
#include "lt.h"
#include "lt_sock.h"
#include <poll.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>

static int readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

TEST(sendto_recvfrom)
{
	int port, cport;
	int s = in_bound(AF_INET, SOCK_DGRAM, &port);
	int c = in_bound(AF_INET, SOCK_DGRAM, &cport);
	struct sockaddr_storage ss;
	socklen_t len = in_loopback(&ss, AF_INET, port);
	REQUIRE_EQ(sendto(c, "dgram", 5, 0, (struct sockaddr *)&ss, len), 5);
	char buf[16];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	CHECK_EQ(recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl), 5);
	CHECK_EQ(fl, sizeof(from));
	CHECK_EQ(ntohs(from.sin_port), cport);
	CHECK_EQ(from.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
}

TEST(unbound_sender_autobinds)
{
	int port;
	int s = in_bound(AF_INET, SOCK_DGRAM, &port);
	int c = REQUIRE_OK(socket(AF_INET, SOCK_DGRAM, 0));
	CHECK_EQ(in_port(c), 0);
	struct sockaddr_storage ss;
	socklen_t len = in_loopback(&ss, AF_INET, port);
	REQUIRE_EQ(sendto(c, "x", 1, 0, (struct sockaddr *)&ss, len), 1);
	CHECK_GT(in_port(c), 0);
	char b;
	CHECK_EQ(recv(s, &b, 1, 0), 1);
}

TEST(boundaries_and_truncation)
{
	int port;
	int s = in_bound(AF_INET, SOCK_DGRAM, &port);
	int c = in_connect(AF_INET, SOCK_DGRAM, port);
	REQUIRE_EQ(send(c, "abcdef", 6, 0), 6);
	REQUIRE_EQ(send(c, "gh", 2, 0), 2);
	REQUIRE_EQ(send(c, "", 0, 0), 0);
	REQUIRE_EQ(send(c, "longer one", 10, 0), 10);
	char buf[16];
	struct iovec iov = {buf, 3};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	REQUIRE(readable(s, 5000));
	CHECK_EQ(recvmsg(s, &m, 0), 3);
	CHECK(m.msg_flags & MSG_TRUNC);
	CHECK_EQ(recv(s, buf, sizeof(buf), 0), 2);
	CHECK_EQ(recv(s, buf, sizeof(buf), 0), 0);
	/* MSG_TRUNC returns the datagram's real length. */
	CHECK_EQ(recv(s, buf, 4, MSG_TRUNC), 10);
}

TEST(msg_peek_and_fionread)
{
	int port;
	int s = in_bound(AF_INET, SOCK_DGRAM, &port);
	int c = in_connect(AF_INET, SOCK_DGRAM, port);
	REQUIRE_EQ(send(c, "first", 5, 0), 5);
	REQUIRE_EQ(send(c, "second!", 7, 0), 7);
	REQUIRE(readable(s, 5000));
	int n = -1;
	REQUIRE_OK(ioctl(s, FIONREAD, &n));
	/* FIONREAD on UDP is the size of the next datagram. */
	CHECK_EQ(n, 5);
	char buf[16];
	CHECK_EQ(recv(s, buf, sizeof(buf), MSG_PEEK), 5);
	CHECK_EQ(recv(s, buf, sizeof(buf), 0), 5);
	CHECK_MEMEQ(buf, "first", 5);
	CHECK_EQ(recv(s, buf, sizeof(buf), MSG_DONTWAIT), 7);
	CHECK_ERR(recv(s, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
}

TEST(connected_filters_sources)
{
	int p1, p2, p3;
	int a = in_bound(AF_INET, SOCK_DGRAM, &p1);
	int b = in_bound(AF_INET, SOCK_DGRAM, &p2);
	int other = in_bound(AF_INET, SOCK_DGRAM, &p3);
	struct sockaddr_storage ss;
	socklen_t len = in_loopback(&ss, AF_INET, p2);
	REQUIRE_OK(connect(a, (struct sockaddr *)&ss, len));
	struct sockaddr_storage to_a;
	socklen_t alen = in_loopback(&to_a, AF_INET, p1);
	/* Only the connected peer's datagrams arrive. */
	REQUIRE_EQ(sendto(other, "no", 2, 0, (struct sockaddr *)&to_a, alen), 2);
	REQUIRE_EQ(sendto(b, "yes", 3, 0, (struct sockaddr *)&to_a, alen), 3);
	char buf[8];
	CHECK_EQ(recv(a, buf, sizeof(buf), 0), 3);
	CHECK_MEMEQ(buf, "yes", 3);
	CHECK_ERR(recv(a, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	struct sockaddr_in peer;
	socklen_t pl = sizeof(peer);
	REQUIRE_OK(getpeername(a, (struct sockaddr *)&peer, &pl));
	CHECK_EQ(ntohs(peer.sin_port), p2);
}

TEST(af_unspec_disconnects)
{
	int p1, p2;
	int a = in_bound(AF_INET, SOCK_DGRAM, &p1);
	in_bound(AF_INET, SOCK_DGRAM, &p2);
	struct sockaddr_storage ss;
	socklen_t len = in_loopback(&ss, AF_INET, p2);
	REQUIRE_OK(connect(a, (struct sockaddr *)&ss, len));
	struct sockaddr un = {.sa_family = AF_UNSPEC};
	REQUIRE_OK(connect(a, &un, sizeof(un)));
	struct sockaddr_in peer;
	socklen_t pl = sizeof(peer);
	CHECK_ERR(getpeername(a, (struct sockaddr *)&peer, &pl), ENOTCONN);
	CHECK_ERR(send(a, "x", 1, 0), EDESTADDRREQ);
}

TEST(connected_refused_by_icmp)
{
	int port;
	int s = in_bound(AF_INET, SOCK_DGRAM, &port);
	close(s);
	int c = in_connect(AF_INET, SOCK_DGRAM, port);
	REQUIRE_EQ(send(c, "x", 1, 0), 1);
	/* The port unreachable error comes back on the connected socket. */
	struct pollfd p = {.fd = c, .events = POLLIN};
	REQUIRE_EQ(poll(&p, 1, 5000), 1);
	CHECK(p.revents & POLLERR);
	char b;
	CHECK_ERR(recv(c, &b, 1, 0), ECONNREFUSED);
	/* Reported once. */
	CHECK_ERR(recv(c, &b, 1, MSG_DONTWAIT), EAGAIN);
}

TEST(so_error_holds_icmp_error)
{
	int port;
	int s = in_bound(AF_INET, SOCK_DGRAM, &port);
	close(s);
	int c = in_connect(AF_INET, SOCK_DGRAM, port);
	REQUIRE_EQ(send(c, "x", 1, 0), 1);
	struct pollfd p = {.fd = c, .events = 0};
	REQUIRE_EQ(poll(&p, 1, 5000), 1);
	int v = 0;
	socklen_t vl = sizeof(v);
	REQUIRE_OK(getsockopt(c, SOL_SOCKET, SO_ERROR, &v, &vl));
	CHECK_EQ(v, ECONNREFUSED);
	REQUIRE_OK(getsockopt(c, SOL_SOCKET, SO_ERROR, &v, &vl));
	CHECK_EQ(v, 0);
}

TEST(send_unconnected_edestaddrreq)
{
	int s = REQUIRE_OK(socket(AF_INET, SOCK_DGRAM, 0));
	CHECK_ERR(send(s, "x", 1, 0), EDESTADDRREQ);
	struct sockaddr_in bad = {.sin_family = AF_INET};
	CHECK_ERR(sendto(s, "x", 1, 0, (struct sockaddr *)&bad, sizeof(bad) - 2), EINVAL);
	CHECK_ERR(sendto(s, "x", 1, 0, bad_ptr, sizeof(bad)), EFAULT);
}

TEST(emsgsize)
{
	int port;
	in_bound(AF_INET, SOCK_DGRAM, &port);
	int c = in_connect(AF_INET, SOCK_DGRAM, port);
	size_t big = 70000;
	char *b = calloc(1, big);
	CHECK_ERR(send(c, b, big, 0), EMSGSIZE);
	CHECK_EQ(send(c, b, 60000, 0), 60000);
}

TEST(udp_options)
{
	int s = REQUIRE_OK(socket(AF_INET, SOCK_DGRAM, 0));
	int v = -1;
	socklen_t vl = sizeof(v);
	REQUIRE_OK(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &vl));
	CHECK_EQ(v, SOCK_DGRAM);
	REQUIRE_OK(getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &v, &vl));
	CHECK_EQ(v, IPPROTO_UDP);
	int one = 1;
	REQUIRE_OK(setsockopt(s, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)));
	REQUIRE_OK(getsockopt(s, SOL_SOCKET, SO_BROADCAST, &v, &vl));
	CHECK_EQ(v, 1);
	CHECK_ERR(getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, &vl), EOPNOTSUPP);
}

TEST(shutdown_udp)
{
	int port;
	int s = in_bound(AF_INET, SOCK_DGRAM, &port);
	/* Unconnected: ENOTCONN. */
	CHECK_ERR(shutdown(s, SHUT_RD), ENOTCONN);
	int c = in_connect(AF_INET, SOCK_DGRAM, port);
	CHECK_OK(shutdown(c, SHUT_WR));
	CHECK_ERR(send(c, "x", 1, MSG_NOSIGNAL), EPIPE);
}

TEST(reuseport_shares_port)
{
	int one = 1;
	struct sockaddr_storage ss;
	socklen_t len = in_loopback(&ss, AF_INET, 0);
	int a = REQUIRE_OK(socket(AF_INET, SOCK_DGRAM, 0));
	REQUIRE_OK(setsockopt(a, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)));
	REQUIRE_OK(bind(a, (struct sockaddr *)&ss, len));
	len = in_loopback(&ss, AF_INET, in_port(a));
	int b = REQUIRE_OK(socket(AF_INET, SOCK_DGRAM, 0));
	REQUIRE_OK(setsockopt(b, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)));
	CHECK_OK(bind(b, (struct sockaddr *)&ss, len));
	int c = REQUIRE_OK(socket(AF_INET, SOCK_DGRAM, 0));
	CHECK_ERR(bind(c, (struct sockaddr *)&ss, len), EADDRINUSE);
}

TEST(ip_pktinfo_control_message)
{
	int port;
	int s = in_bound(AF_INET, SOCK_DGRAM, &port);
	int one = 1;
	REQUIRE_OK(setsockopt(s, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)));
	int c = in_connect(AF_INET, SOCK_DGRAM, port);
	REQUIRE_EQ(send(c, "k", 1, 0), 1);
	char b[4], cbuf[256];
	struct iovec iov = {b, sizeof(b)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	REQUIRE(readable(s, 5000));
	CHECK_EQ(recvmsg(s, &m, 0), 1);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	REQUIRE(cm != NULL);
	CHECK_EQ(cm->cmsg_level, IPPROTO_IP);
	CHECK_EQ(cm->cmsg_type, IP_PKTINFO);
	struct in_pktinfo pi;
	memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
	CHECK_EQ(pi.ipi_addr.s_addr, htonl(INADDR_LOOPBACK));
	CHECK_EQ(pi.ipi_ifindex, 1);
}
