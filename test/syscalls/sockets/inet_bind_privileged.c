/*
 * Binding inet ports below net.ipv4.ip_unprivileged_port_start (1024 in a
 * fresh network namespace) needs CAP_NET_BIND_SERVICE: root binds them,
 * a caller without the capability gets EACCES (whatever its uid), one
 * holding only that capability binds them. Port 0 and ports from 1024 up
 * need nothing. Each case runs as root in a network namespace of its own.
 */
#include "lt.h"
#include "lt_sock.h"
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#define LOW_PORT 80

static int bind4(int type, int family_field, uint32_t addr, int port)
{
	int s = REQUIRE_OK(socket(AF_INET, type, 0));
	struct sockaddr_in a = { .sin_family = family_field, .sin_port = htons(port) };
	a.sin_addr.s_addr = htonl(addr);
	int r = bind(s, (struct sockaddr *)&a, sizeof(a));
	int e = errno;
	close(s);
	errno = e;
	return r;
}

static int bind6(int port)
{
	int s = REQUIRE_OK(socket(AF_INET6, SOCK_STREAM, 0));
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	a.sin6_addr = in6addr_loopback;
	int r = bind(s, (struct sockaddr *)&a, sizeof(a));
	int e = errno;
	close(s);
	errno = e;
	return r;
}

/* drop_cap removes cap (below 32) from the effective and permitted sets. */
static void drop_cap(int cap)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	REQUIRE_OK(syscall(SYS_capget, &h, d));
	d[0].effective &= ~(1u << cap);
	d[0].permitted &= ~(1u << cap);
	REQUIRE_OK(syscall(SYS_capset, &h, d));
}

/* only_cap makes cap (below 32) the only effective and permitted one. */
static void only_cap(int cap)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { { .effective = 1u << cap, .permitted = 1u << cap } };
	REQUIRE_OK(syscall(SYS_capset, &h, d));
}

TEST(root_binds_low_ports)
{
	CHECK_OK(bind4(SOCK_STREAM, AF_INET, INADDR_LOOPBACK, LOW_PORT));
	CHECK_OK(bind4(SOCK_DGRAM, AF_INET, INADDR_LOOPBACK, LOW_PORT));
	CHECK_OK(bind4(SOCK_STREAM, AF_INET, INADDR_ANY, 1));
	CHECK_OK(bind6(LOW_PORT));
}

TEST(no_cap_low_port_eacces)
{
	/* Everything but CAP_NET_BIND_SERVICE: uid 0 alone is not enough. */
	drop_cap(CAP_NET_BIND_SERVICE);
	CHECK_ERR(bind4(SOCK_STREAM, AF_INET, INADDR_LOOPBACK, LOW_PORT), EACCES);
	CHECK_ERR(bind4(SOCK_DGRAM, AF_INET, INADDR_LOOPBACK, LOW_PORT), EACCES);
	CHECK_ERR(bind4(SOCK_STREAM, AF_INET, INADDR_ANY, 1023), EACCES);
	CHECK_ERR(bind6(LOW_PORT), EACCES);
	/* AF_UNSPEC with INADDR_ANY is an AF_INET bind, checked the same. */
	CHECK_ERR(bind4(SOCK_STREAM, AF_UNSPEC, INADDR_ANY, LOW_PORT), EACCES);
}

TEST(no_cap_free_ports_ok)
{
	drop_cap(CAP_NET_BIND_SERVICE);
	CHECK_OK(bind4(SOCK_STREAM, AF_INET, INADDR_LOOPBACK, 0));
	CHECK_OK(bind4(SOCK_STREAM, AF_INET, INADDR_LOOPBACK, 1024));
	CHECK_OK(bind4(SOCK_DGRAM, AF_INET, INADDR_LOOPBACK, 40000));
	CHECK_OK(bind6(0));
}

TEST(no_cap_wrong_family_not_eacces)
{
	/* The address is refused before the port is looked at. */
	drop_cap(CAP_NET_BIND_SERVICE);
	CHECK_ERR(bind4(SOCK_STREAM, AF_UNSPEC, INADDR_LOOPBACK, LOW_PORT), EAFNOSUPPORT);
	CHECK_ERR(bind4(SOCK_STREAM, AF_INET6, INADDR_LOOPBACK, LOW_PORT), EAFNOSUPPORT);
}

TEST(nobody_low_port_eacces)
{
	REQUIRE_OK(setresgid(65534, 65534, 65534));
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	CHECK_ERR(bind4(SOCK_STREAM, AF_INET, INADDR_LOOPBACK, LOW_PORT), EACCES);
	CHECK_OK(bind4(SOCK_STREAM, AF_INET, INADDR_LOOPBACK, 2000));
}

TEST(nobody_with_cap_binds_low_port)
{
	REQUIRE_OK(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
	REQUIRE_OK(setresgid(65534, 65534, 65534));
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	only_cap(CAP_NET_BIND_SERVICE);
	CHECK_OK(bind4(SOCK_STREAM, AF_INET, INADDR_LOOPBACK, LOW_PORT));
	CHECK_OK(bind6(LOW_PORT));
}

TEST(no_cap_nonlocal_address_before_port)
{
	/*
	 * IPv4 looks at the address first: a non-local one is EADDRNOTAVAIL
	 * even on a low port, unless IP_FREEBIND lets it be bound; IPv6 looks
	 * at the port first.
	 */
	drop_cap(CAP_NET_BIND_SERVICE);
	uint32_t test_net = 0xcb007101; /* 203.0.113.1, TEST-NET-3 */
	CHECK_ERR(bind4(SOCK_STREAM, AF_INET, test_net, LOW_PORT), EADDRNOTAVAIL);
	CHECK_ERR(bind4(SOCK_DGRAM, AF_INET, test_net, LOW_PORT), EADDRNOTAVAIL);
	CHECK_ERR(bind4(SOCK_STREAM, AF_INET, test_net, 2000), EADDRNOTAVAIL);
	int s = REQUIRE_OK(socket(AF_INET, SOCK_STREAM, 0));
	int one = 1;
	REQUIRE_OK(setsockopt(s, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one)));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(LOW_PORT) };
	a.sin_addr.s_addr = htonl(test_net);
	CHECK_ERR(bind(s, (struct sockaddr *)&a, sizeof(a)), EACCES);
	close(s);
	int s6 = REQUIRE_OK(socket(AF_INET6, SOCK_STREAM, 0));
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(LOW_PORT) };
	inet_pton(AF_INET6, "2001:db8::1", &a6.sin6_addr);
	CHECK_ERR(bind(s6, (struct sockaddr *)&a6, sizeof(a6)), EACCES);
	a6.sin6_port = htons(2000);
	CHECK_ERR(bind(s6, (struct sockaddr *)&a6, sizeof(a6)), EADDRNOTAVAIL);
	close(s6);
}
