/*
 * NETLINK_ROUTE: RTM_GETLINK and RTM_GETADDR dumps, getifaddrs(),
 * if_nametoindex/if_indextoname, netlink addresses, errors, and the
 * interface ioctls built on the same information.
 */
#include "lt.h"
#include "lt_sock.h"
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/ioctl.h>

/* dump sends a dump request of type with an ifinfomsg/ifaddrmsg body and
 * reads the whole reply into buf; it returns the length. */
static int dump(int s, int type, int family, char *buf, int size)
{
	struct {
		struct nlmsghdr h;
		struct ifaddrmsg a; /* as long as ifinfomsg's head we need */
		char pad[16];
	} req;
	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(type == RTM_GETLINK ? sizeof(struct ifinfomsg) : sizeof(struct ifaddrmsg));
	req.h.nlmsg_type = type;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.h.nlmsg_seq = 42;
	req.a.ifa_family = family;
	REQUIRE_EQ(send(s, &req, req.h.nlmsg_len, 0), (ssize_t)req.h.nlmsg_len);
	int n = 0;
	for (;;) {
		ssize_t r = recv(s, buf + n, size - n, 0);
		REQUIRE_GT(r, 0);
		struct nlmsghdr *h = (struct nlmsghdr *)(buf + n);
		int done = 0;
		for (int len = r; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len))
			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)
				done = 1;
		n += r;
		if (done)
			return n;
		REQUIRE_GT(size - n, 4096);
	}
}

/* send_getlink sends an RTM_GETLINK request for link index. */
static void send_getlink(int s, int flags, int index, int seq)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req;
	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = sizeof(req);
	req.h.nlmsg_type = RTM_GETLINK;
	req.h.nlmsg_flags = NLM_F_REQUEST | flags;
	req.h.nlmsg_seq = seq;
	req.i.ifi_index = index;
	REQUIRE_EQ(send(s, &req, sizeof(req), 0), sizeof(req));
}

static int nl_socket(void)
{
	return REQUIRE_OK(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
}

TEST(getlink_dump_has_lo)
{
	int s = nl_socket();
	static char buf[1 << 16];
	int n = dump(s, RTM_GETLINK, AF_UNSPEC, buf, sizeof(buf));
	int found = 0, links = 0;
	for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_type != RTM_NEWLINK)
			continue;
		CHECK_EQ(h->nlmsg_seq, 42);
		links++;
		struct ifinfomsg *ifi = NLMSG_DATA(h);
		int alen = IFLA_PAYLOAD(h);
		for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
			if (a->rta_type == IFLA_IFNAME && strcmp(RTA_DATA(a), "lo") == 0) {
				found = 1;
				CHECK(ifi->ifi_flags & IFF_UP);
				CHECK(ifi->ifi_flags & IFF_LOOPBACK);
				CHECK_EQ(ifi->ifi_index, 1);
			}
	}
	CHECK_GE(links, 1);
	CHECK(found);
}

TEST(getaddr_dump_has_127_0_0_1)
{
	int s = nl_socket();
	static char buf[1 << 16];
	int n = dump(s, RTM_GETADDR, AF_INET, buf, sizeof(buf));
	int found = 0;
	for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_type != RTM_NEWADDR)
			continue;
		struct ifaddrmsg *ifa = NLMSG_DATA(h);
		CHECK_EQ(ifa->ifa_family, AF_INET);
		int alen = IFA_PAYLOAD(h);
		for (struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
			if (a->rta_type == IFA_LOCAL &&
			    *(uint32_t *)RTA_DATA(a) == htonl(INADDR_LOOPBACK)) {
				found = 1;
				CHECK_EQ(ifa->ifa_prefixlen, 8);
				CHECK_EQ(ifa->ifa_index, 1);
			}
	}
	CHECK(found);
}

TEST(getifaddrs_lists_lo)
{
	struct ifaddrs *ifs;
	REQUIRE_OK(getifaddrs(&ifs));
	int v4 = 0, v6 = 0;
	for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
		if (strcmp(i->ifa_name, "lo") != 0 || i->ifa_addr == NULL)
			continue;
		CHECK(i->ifa_flags & IFF_UP);
		if (i->ifa_addr->sa_family == AF_INET) {
			struct sockaddr_in *a = (struct sockaddr_in *)i->ifa_addr;
			struct sockaddr_in *m = (struct sockaddr_in *)i->ifa_netmask;
			CHECK_EQ(a->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
			CHECK_EQ(m->sin_addr.s_addr, htonl(0xff000000));
			v4++;
		}
		if (i->ifa_addr->sa_family == AF_INET6) {
			CHECK(IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr));
			v6++;
		}
	}
	freeifaddrs(ifs);
	CHECK_EQ(v4, 1);
	CHECK_EQ(v6, 1);
}

TEST(if_nametoindex_lo)
{
	CHECK_EQ(if_nametoindex("lo"), 1);
	CHECK_EQ(if_nametoindex("no-such-if0"), 0);
	char name[IF_NAMESIZE];
	REQUIRE(if_indextoname(1, name) != NULL);
	CHECK_STREQ(name, "lo");
	CHECK(if_indextoname(9999, name) == NULL);
	CHECK_EQ(errno, ENXIO);
}

TEST(if_nameindex_list)
{
	struct if_nameindex *l = if_nameindex();
	REQUIRE(l != NULL);
	int lo = 0;
	for (struct if_nameindex *p = l; p->if_index; p++)
		if (strcmp(p->if_name, "lo") == 0 && p->if_index == 1)
			lo = 1;
	if_freenameindex(l);
	CHECK(lo);
}

TEST(siocgifflags_and_index)
{
	int s = REQUIRE_OK(socket(AF_INET, SOCK_DGRAM, 0));
	struct ifreq r;
	memset(&r, 0, sizeof(r));
	strcpy(r.ifr_name, "lo");
	REQUIRE_OK(ioctl(s, SIOCGIFFLAGS, &r));
	CHECK(r.ifr_flags & IFF_UP);
	CHECK(r.ifr_flags & IFF_LOOPBACK);
	REQUIRE_OK(ioctl(s, SIOCGIFINDEX, &r));
	CHECK_EQ(r.ifr_ifindex, 1);
	strcpy(r.ifr_name, "nope0");
	CHECK_ERR(ioctl(s, SIOCGIFFLAGS, &r), ENODEV);
	CHECK_ERR(ioctl(s, SIOCGIFFLAGS, bad_ptr), EFAULT);
}

TEST(netlink_bind_and_name)
{
	int s = nl_socket();
	struct sockaddr_nl a = {.nl_family = AF_NETLINK};
	REQUIRE_OK(bind(s, (struct sockaddr *)&a, sizeof(a)));
	struct sockaddr_nl got;
	socklen_t len = sizeof(got);
	REQUIRE_OK(getsockname(s, (struct sockaddr *)&got, &len));
	CHECK_EQ(len, sizeof(got));
	CHECK_EQ(got.nl_family, AF_NETLINK);
	/* The kernel assigns a port id (the first socket gets the pid). */
	CHECK_NE(got.nl_pid, 0);
	int v = -1;
	socklen_t vl = sizeof(v);
	REQUIRE_OK(getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &v, &vl));
	CHECK_EQ(v, NETLINK_ROUTE);
	REQUIRE_OK(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &vl));
	CHECK_EQ(v, SOCK_RAW);
}

TEST(netlink_error_reply)
{
	int s = nl_socket();
	send_getlink(s, NLM_F_ACK, 9999, 7); /* no such link */
	char buf[4096];
	ssize_t n = recv(s, buf, sizeof(buf), 0);
	REQUIRE_GT(n, 0);
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	CHECK_EQ(h->nlmsg_type, NLMSG_ERROR);
	CHECK_EQ(h->nlmsg_seq, 7);
	struct nlmsgerr *e = NLMSG_DATA(h);
	CHECK_EQ(e->error, -ENODEV);
}

TEST(netlink_unsupported)
{
	int s = nl_socket();
	CHECK_ERR(listen(s, 1), EOPNOTSUPP);
	CHECK_ERR(accept(s, NULL, NULL), EOPNOTSUPP);
	/* NETLINK_ROUTE is SOCK_RAW or SOCK_DGRAM only. */
	CHECK_ERR(socket(AF_NETLINK, SOCK_STREAM, NETLINK_ROUTE), ESOCKTNOSUPPORT);
	int d = CHECK_OK(socket(AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE));
	close(d);
}

TEST(getlink_dump_with_recvmsg_trunc)
{
	int s = nl_socket();
	send_getlink(s, NLM_F_DUMP, 0, 1);
	char b[16];
	/* MSG_PEEK|MSG_TRUNC tells the size of the pending reply. */
	ssize_t n = recv(s, b, sizeof(b), MSG_PEEK | MSG_TRUNC);
	CHECK_GT(n, (ssize_t)sizeof(struct nlmsghdr));
	char *full = malloc(n);
	CHECK_EQ(recv(s, full, n, 0), n);
}
