/*
 * socket(2) and socketpair(2) argument checking: unknown families
 * (EAFNOSUPPORT), bad types (EINVAL), unsupported protocols
 * (EPROTONOSUPPORT, ESOCKTNOSUPPORT), flags, and calls on non-sockets.
 */
#include "lt.h"
#include "lt_sock.h"

TEST(bad_family)
{
	CHECK_ERR(socket(-1, SOCK_STREAM, 0), EAFNOSUPPORT);
	CHECK_ERR(socket(9999, SOCK_STREAM, 0), EAFNOSUPPORT);
	CHECK_ERR(socket(AF_MAX, SOCK_STREAM, 0), EAFNOSUPPORT);
}

TEST(bad_type)
{
	CHECK_ERR(socket(AF_INET, 77, 0), EINVAL);
	CHECK_ERR(socket(AF_INET, 11, 0), EINVAL);
	/* In range but not a type: ESOCKTNOSUPPORT. */
	CHECK_ERR(socket(AF_INET, 0, 0), ESOCKTNOSUPPORT);
	CHECK_ERR(socket(AF_UNIX, -1, 0), EINVAL);
	/* Unknown flag bits in the type. */
	CHECK_ERR(socket(AF_UNIX, SOCK_STREAM | 0x40000000, 0), EINVAL);
}

TEST(bad_protocol)
{
	CHECK_ERR(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
	CHECK_ERR(socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP), EPROTONOSUPPORT);
	CHECK_ERR(socket(AF_INET6, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
	CHECK_ERR(socket(AF_UNIX, SOCK_STREAM, 7), EPROTONOSUPPORT);
	CHECK_ERR(socket(AF_INET, SOCK_STREAM, -1), EINVAL);
}

TEST(unsupported_type_for_family)
{
	CHECK_ERR(socket(AF_UNIX, SOCK_RDM, 0), ESOCKTNOSUPPORT);
	CHECK_ERR(socket(AF_INET, SOCK_SEQPACKET, 0), ESOCKTNOSUPPORT);
	CHECK_ERR(socket(AF_NETLINK, SOCK_SEQPACKET, 0), ESOCKTNOSUPPORT);
}

TEST(explicit_protocols_accepted)
{
	CHECK_OK(socket(AF_INET, SOCK_STREAM, IPPROTO_TCP));
	CHECK_OK(socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP));
	CHECK_OK(socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP));
	CHECK_OK(socket(AF_UNIX, SOCK_DGRAM, PF_UNIX));
}

TEST(type_flags)
{
	int s = REQUIRE_OK(socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
	CHECK(fcntl(s, F_GETFL) & O_NONBLOCK);
	CHECK_EQ(fcntl(s, F_GETFD), FD_CLOEXEC);
	int t = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_EQ(fcntl(t, F_GETFL) & O_NONBLOCK, 0);
	CHECK_EQ(fcntl(t, F_GETFD), 0);
	/* O_RDWR is the status. */
	CHECK_EQ(fcntl(t, F_GETFL) & O_ACCMODE, O_RDWR);
}

TEST(socket_fstat)
{
	int s = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	struct stat st;
	REQUIRE_OK(fstat(s, &st));
	CHECK(S_ISSOCK(st.st_mode));
	char link[64], want[64];
	ssize_t n = readlink("/proc/self/fd/0", link, sizeof(link));
	(void)n;
	snprintf(want, sizeof(want), "/proc/self/fd/%d", s);
	n = readlink(want, link, sizeof(link) - 1);
	REQUIRE_GT(n, 0);
	link[n] = 0;
	snprintf(want, sizeof(want), "socket:[%lu]", (unsigned long)st.st_ino);
	CHECK_STREQ(link, want);
}

TEST(socket_calls_on_non_sockets)
{
	int f = REQUIRE_OK(open("/dev/null", O_RDWR));
	struct sockaddr_in a = {.sin_family = AF_INET};
	CHECK_ERR(connect(f, (struct sockaddr *)&a, sizeof(a)), ENOTSOCK);
	CHECK_ERR(send(f, "x", 1, 0), ENOTSOCK);
	char b;
	CHECK_ERR(recv(f, &b, 1, 0), ENOTSOCK);
	int v;
	socklen_t l = sizeof(v);
	CHECK_ERR(setsockopt(f, SOL_SOCKET, SO_REUSEADDR, &v, l), ENOTSOCK);
	CHECK_ERR(accept(f, NULL, NULL), ENOTSOCK);
}

TEST(socket_calls_bad_fd)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	CHECK_ERR(connect(-1, (struct sockaddr *)&a, sizeof(a)), EBADF);
	CHECK_ERR(send(1000, "x", 1, 0), EBADF);
	CHECK_ERR(shutdown(-5, SHUT_RD), EBADF);
	int p[2];
	CHECK_ERR(socketpair(AF_UNIX, SOCK_STREAM, 0, bad_ptr), EFAULT);
	CHECK_ERR(socketpair(AF_UNIX, SOCK_STREAM | 0x40000000, 0, p), EINVAL);
}

TEST(read_write_on_socket_file)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, p));
	/* Sockets are not seekable. */
	CHECK_ERR(lseek(p[0], 0, SEEK_SET), ESPIPE);
	CHECK_ERR(pwrite(p[0], "x", 1, 0), ESPIPE);
	char b;
	CHECK_ERR(pread(p[0], &b, 1, 0), ESPIPE);
}
