/*
 * IPv6 over loopback: TCP and UDP on ::1, sockaddr_in6 lengths, IPV6_V6ONLY
 * and v4-mapped addresses, the any address, bind errors.
 */
#include "lt.h"
#include "lt_sock.h"
#include <sys/time.h>

static int v6only(int s)
{
	int v = -1;
	socklen_t l = sizeof(v);
	REQUIRE_OK(getsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v, &l));
	return v;
}

TEST(tcp6_loopback)
{
	int port;
	int l = in_listener(AF_INET6, &port);
	CHECK_GT(port, 0);
	int c = in_connect(AF_INET6, SOCK_STREAM, port);
	struct sockaddr_in6 from;
	socklen_t fl = sizeof(from);
	int a = REQUIRE_OK(accept(l, (struct sockaddr *)&from, &fl));
	CHECK_EQ(fl, sizeof(from));
	CHECK_EQ(from.sin6_family, AF_INET6);
	CHECK(IN6_IS_ADDR_LOOPBACK(&from.sin6_addr));
	CHECK_EQ(ntohs(from.sin6_port), in_port(c));
	REQUIRE_EQ(write(c, "six", 3), 3);
	char buf[4];
	CHECK_EQ(read(a, buf, sizeof(buf)), 3);
}

TEST(udp6_loopback)
{
	int port, cport;
	int s = in_bound(AF_INET6, SOCK_DGRAM, &port);
	int c = in_bound(AF_INET6, SOCK_DGRAM, &cport);
	struct sockaddr_storage ss;
	socklen_t len = in_loopback(&ss, AF_INET6, port);
	REQUIRE_EQ(sendto(c, "u6", 2, 0, (struct sockaddr *)&ss, len), 2);
	char buf[4];
	struct sockaddr_in6 from;
	socklen_t fl = sizeof(from);
	CHECK_EQ(recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl), 2);
	CHECK_EQ(fl, sizeof(from));
	CHECK_EQ(ntohs(from.sin6_port), cport);
}

TEST(v6only_default_off)
{
	int s = REQUIRE_OK(socket(AF_INET6, SOCK_STREAM, 0));
	CHECK_EQ(v6only(s), 0);
	int one = 1;
	REQUIRE_OK(setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)));
	CHECK_EQ(v6only(s), 1);
}

TEST(dual_stack_accepts_ipv4)
{
	struct sockaddr_in6 any = {.sin6_family = AF_INET6, .sin6_addr = in6addr_any};
	int l = REQUIRE_OK(socket(AF_INET6, SOCK_STREAM, 0));
	REQUIRE_OK(bind(l, (struct sockaddr *)&any, sizeof(any)));
	REQUIRE_OK(listen(l, 4));
	int port = in_port(l);
	int c = in_connect(AF_INET, SOCK_STREAM, port);
	struct sockaddr_in6 from;
	socklen_t fl = sizeof(from);
	REQUIRE_OK(accept(l, (struct sockaddr *)&from, &fl));
	/* The IPv4 client appears as ::ffff:127.0.0.1. */
	CHECK(IN6_IS_ADDR_V4MAPPED(&from.sin6_addr));
	CHECK_EQ(from.sin6_addr.s6_addr[15], 1);
	CHECK_EQ(from.sin6_addr.s6_addr[12], 127);
	(void)c;
}

TEST(v6only_refuses_ipv4)
{
	struct sockaddr_in6 any = {.sin6_family = AF_INET6, .sin6_addr = in6addr_any};
	int l = REQUIRE_OK(socket(AF_INET6, SOCK_STREAM, 0));
	int one = 1;
	REQUIRE_OK(setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)));
	REQUIRE_OK(bind(l, (struct sockaddr *)&any, sizeof(any)));
	REQUIRE_OK(listen(l, 4));
	struct sockaddr_storage ss;
	socklen_t len = in_loopback(&ss, AF_INET, in_port(l));
	int c = REQUIRE_OK(socket(AF_INET, SOCK_STREAM, 0));
	CHECK_ERR(connect(c, (struct sockaddr *)&ss, len), ECONNREFUSED);
	/* And an IPv4 socket can share the port. */
	int v4 = REQUIRE_OK(socket(AF_INET, SOCK_STREAM, 0));
	CHECK_OK(bind(v4, (struct sockaddr *)&ss, len));
}

TEST(v6only_after_bind_einval)
{
	int port;
	int s = in_bound(AF_INET6, SOCK_STREAM, &port);
	int one = 1;
	CHECK_ERR(setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)), EINVAL);
	int u = REQUIRE_OK(socket(AF_INET, SOCK_STREAM, 0));
	/* An IPv4 socket has no IPV6_V6ONLY. */
	CHECK_ERR(setsockopt(u, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)), ENOPROTOOPT);
}

TEST(mapped_address_on_v6_socket)
{
	int port;
	int l = in_listener(AF_INET, &port);
	struct sockaddr_in6 m = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &m.sin6_addr);
	int c = REQUIRE_OK(socket(AF_INET6, SOCK_STREAM, 0));
	CHECK_OK(connect(c, (struct sockaddr *)&m, sizeof(m)));
	CHECK_OK(accept(l, NULL, NULL));
}

TEST(bind6_errors)
{
	int s = REQUIRE_OK(socket(AF_INET6, SOCK_STREAM, 0));
	struct sockaddr_in6 a = {.sin6_family = AF_INET6};
	CHECK_ERR(bind(s, (struct sockaddr *)&a, sizeof(a) - 5), EINVAL);
	inet_pton(AF_INET6, "2001:db8::1", &a.sin6_addr);
	CHECK_ERR(bind(s, (struct sockaddr *)&a, sizeof(a)), EADDRNOTAVAIL);
	struct sockaddr_in v4 = {.sin_family = AF_INET};
	CHECK_ERR(bind(s, (struct sockaddr *)&v4, sizeof(v4)), EINVAL);
}

TEST(getsockname6_length)
{
	int s = REQUIRE_OK(socket(AF_INET6, SOCK_DGRAM, 0));
	struct sockaddr_in6 a;
	socklen_t len = sizeof(a);
	REQUIRE_OK(getsockname(s, (struct sockaddr *)&a, &len));
	CHECK_EQ(len, sizeof(a));
	CHECK_EQ(a.sin6_family, AF_INET6);
	CHECK(IN6_IS_ADDR_UNSPECIFIED(&a.sin6_addr));
	/* A short buffer is filled partly, the length is the full one. */
	char small[8];
	len = sizeof(small);
	REQUIRE_OK(getsockname(s, (struct sockaddr *)small, &len));
	CHECK_EQ(len, sizeof(a));
}

TEST(udp6_connect_refused)
{
	int port;
	int s = in_bound(AF_INET6, SOCK_DGRAM, &port);
	close(s);
	int c = in_connect(AF_INET6, SOCK_DGRAM, port);
	REQUIRE_EQ(send(c, "x", 1, 0), 1);
	char b;
	struct timeval tv = {.tv_sec = 5};
	REQUIRE_OK(setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	CHECK_ERR(recv(c, &b, 1, 0), ECONNREFUSED);
}
