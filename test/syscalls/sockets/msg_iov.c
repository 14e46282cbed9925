/*
 * sendmsg/recvmsg with scattered buffers (iovecs), their limits and
 * errors, and the batch calls sendmmsg/recvmmsg (MSG_WAITFORONE, partial
 * batches, msg_len).
 */
#include "lt.h"
#include "lt_sock.h"
#include <limits.h>
#include <sys/uio.h>

TEST(sendmsg_gathers_iovecs)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, p));
	struct iovec iov[3] = {{"ab", 2}, {"", 0}, {"cde", 3}};
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = 3};
	CHECK_EQ(sendmsg(p[0], &m, 0), 5);
	char buf[8];
	CHECK_EQ(recv(p[1], buf, sizeof(buf), 0), 5);
	CHECK_MEMEQ(buf, "abcde", 5);
}

TEST(recvmsg_scatters_iovecs)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, p));
	REQUIRE_EQ(send(p[0], "0123456789", 10, 0), 10);
	char a[3], b[4], c[8];
	struct iovec iov[3] = {{a, 3}, {b, 4}, {c, 8}};
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = 3};
	CHECK_EQ(recvmsg(p[1], &m, 0), 10);
	CHECK_MEMEQ(a, "012", 3);
	CHECK_MEMEQ(b, "3456", 4);
	CHECK_MEMEQ(c, "789", 3);
	CHECK_EQ(m.msg_flags, 0);
}

TEST(stream_iovecs_over_tcp)
{
	int port;
	int l = in_listener(AF_INET, &port);
	int c = in_connect(AF_INET, SOCK_STREAM, port);
	int s = REQUIRE_OK(accept(l, NULL, NULL));
	struct iovec iov[2] = {{"hello ", 6}, {"world", 5}};
	CHECK_EQ(writev(c, iov, 2), 11);
	char x[5], y[6];
	struct iovec r[2] = {{x, 5}, {y, 6}};
	struct msghdr m = {.msg_iov = r, .msg_iovlen = 2};
	CHECK_EQ(recvmsg(s, &m, MSG_WAITALL), 11);
	CHECK_MEMEQ(x, "hello", 5);
	CHECK_MEMEQ(y, " world", 6);
}

TEST(msghdr_errors)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, p));
	struct iovec iov = {"x", 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = IOV_MAX + 1};
	CHECK_ERR(sendmsg(p[0], &m, 0), EMSGSIZE);
	m.msg_iovlen = 1;
	m.msg_iov = bad_ptr;
	CHECK_ERR(sendmsg(p[0], &m, 0), EFAULT);
	CHECK_ERR(sendmsg(p[0], bad_ptr, 0), EFAULT);
	struct iovec biov = {bad_ptr, 4};
	m.msg_iov = &biov;
	CHECK_ERR(sendmsg(p[0], &m, 0), EFAULT);
	CHECK_ERR(recvmsg(p[1], bad_ptr, 0), EFAULT);
	m.msg_iov = &iov;
	/* MSG_CMSG_COMPAT is for the kernel only. */
	CHECK_ERR(sendmsg(p[0], &m, 0x80000000), EINVAL);
	CHECK_ERR(recvmsg(p[1], &m, 0x80000000), EINVAL);
}

TEST(recvmsg_name_truncated_length)
{
	int s = un_bound(SOCK_DGRAM, "srv");
	int c = un_bound(SOCK_DGRAM, "a-long-client-name");
	struct sockaddr_un sa;
	socklen_t sl = un_path(&sa, "srv");
	REQUIRE_EQ(sendto(c, "x", 1, 0, (struct sockaddr *)&sa, sl), 1);
	char name[6], b;
	struct iovec iov = {&b, 1};
	struct msghdr m = {.msg_name = name, .msg_namelen = sizeof(name), .msg_iov = &iov, .msg_iovlen = 1};
	CHECK_EQ(recvmsg(s, &m, 0), 1);
	/* msg_namelen reports the full address length. */
	CHECK_EQ(m.msg_namelen, offsetof(struct sockaddr_un, sun_path) + strlen("a-long-client-name") + 1);
	CHECK_MEMEQ(name + 2, "a-lo", 4);
}

TEST(sendmmsg_batch)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, p));
	struct iovec iov[3] = {{"one", 3}, {"two!", 4}, {"three", 5}};
	struct mmsghdr mm[3];
	memset(mm, 0, sizeof(mm));
	for (int i = 0; i < 3; i++) {
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	CHECK_EQ(sendmmsg(p[0], mm, 3, 0), 3);
	CHECK_EQ(mm[0].msg_len, 3);
	CHECK_EQ(mm[1].msg_len, 4);
	CHECK_EQ(mm[2].msg_len, 5);
	char buf[8];
	CHECK_EQ(recv(p[1], buf, sizeof(buf), 0), 3);
	CHECK_EQ(recv(p[1], buf, sizeof(buf), 0), 4);
	CHECK_EQ(recv(p[1], buf, sizeof(buf), 0), 5);
}

TEST(recvmmsg_batch)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, p));
	REQUIRE_EQ(send(p[0], "aa", 2, 0), 2);
	REQUIRE_EQ(send(p[0], "bbb", 3, 0), 3);
	char b[4][8];
	struct iovec iov[4];
	struct mmsghdr mm[4];
	memset(mm, 0, sizeof(mm));
	for (int i = 0; i < 4; i++) {
		iov[i].iov_base = b[i];
		iov[i].iov_len = 8;
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	/* Non-blocking: returns the two that are there. */
	CHECK_EQ(recvmmsg(p[1], mm, 4, MSG_DONTWAIT, NULL), 2);
	CHECK_EQ(mm[0].msg_len, 2);
	CHECK_EQ(mm[1].msg_len, 3);
	CHECK_MEMEQ(b[1], "bbb", 3);
	CHECK_ERR(recvmmsg(p[1], mm, 4, MSG_DONTWAIT, NULL), EAGAIN);
}

TEST(recvmmsg_waitforone)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, p));
	REQUIRE_EQ(send(p[0], "x", 1, 0), 1);
	char b[2][4];
	struct iovec iov[2] = {{b[0], 4}, {b[1], 4}};
	struct mmsghdr mm[2];
	memset(mm, 0, sizeof(mm));
	mm[0].msg_hdr.msg_iov = &iov[0];
	mm[0].msg_hdr.msg_iovlen = 1;
	mm[1].msg_hdr.msg_iov = &iov[1];
	mm[1].msg_hdr.msg_iovlen = 1;
	/* Blocking for the first only, then what is there. */
	CHECK_EQ(recvmmsg(p[1], mm, 2, MSG_WAITFORONE, NULL), 1);
}

TEST(mmsg_errors)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, p));
	CHECK_ERR(sendmmsg(p[0], bad_ptr, 1, 0), EFAULT);
	CHECK_ERR(recvmmsg(p[1], bad_ptr, 1, MSG_DONTWAIT, NULL), EFAULT);
	struct mmsghdr mm;
	memset(&mm, 0, sizeof(mm));
	CHECK_EQ(sendmmsg(p[0], &mm, 0, 0), 0);
	CHECK_ERR(sendmmsg(99, &mm, 1, 0), EBADF);
	struct timespec bad = {.tv_sec = 0, .tv_nsec = 2000000000};
	CHECK_ERR(recvmmsg(p[1], &mm, 1, 0, &bad), EINVAL);
}

TEST(sendmmsg_stops_at_error)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, p));
	struct iovec good = {"ok", 2}, bad = {bad_ptr, 2};
	struct mmsghdr mm[3];
	memset(mm, 0, sizeof(mm));
	mm[0].msg_hdr.msg_iov = &good;
	mm[0].msg_hdr.msg_iovlen = 1;
	mm[1].msg_hdr.msg_iov = &bad;
	mm[1].msg_hdr.msg_iovlen = 1;
	mm[2].msg_hdr.msg_iov = &good;
	mm[2].msg_hdr.msg_iovlen = 1;
	/* The first went out: the count, not the error. */
	CHECK_EQ(sendmmsg(p[0], mm, 3, 0), 1);
	char b[4];
	CHECK_EQ(recv(p[1], b, sizeof(b), MSG_DONTWAIT), 2);
	CHECK_ERR(recv(p[1], b, sizeof(b), MSG_DONTWAIT), EAGAIN);
}

TEST(udp_sendmmsg_recvmmsg_with_names)
{
	int port, cport;
	int s = in_bound(AF_INET, SOCK_DGRAM, &port);
	int c = in_bound(AF_INET, SOCK_DGRAM, &cport);
	struct sockaddr_storage to;
	socklen_t tl = in_loopback(&to, AF_INET, port);
	struct iovec iov[2] = {{"u1", 2}, {"u22", 3}};
	struct mmsghdr mm[2];
	memset(mm, 0, sizeof(mm));
	for (int i = 0; i < 2; i++) {
		mm[i].msg_hdr.msg_name = &to;
		mm[i].msg_hdr.msg_namelen = tl;
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	REQUIRE_EQ(sendmmsg(c, mm, 2, 0), 2);
	char b[2][8];
	struct sockaddr_in from[2];
	struct iovec r[2] = {{b[0], 8}, {b[1], 8}};
	memset(mm, 0, sizeof(mm));
	for (int i = 0; i < 2; i++) {
		mm[i].msg_hdr.msg_name = &from[i];
		mm[i].msg_hdr.msg_namelen = sizeof(from[i]);
		mm[i].msg_hdr.msg_iov = &r[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	struct timespec ts = {.tv_sec = 5};
	CHECK_EQ(recvmmsg(s, mm, 2, MSG_WAITFORONE, &ts) >= 1, 1);
	CHECK_EQ(ntohs(from[0].sin_port), cport);
	CHECK_EQ(mm[0].msg_hdr.msg_namelen, sizeof(struct sockaddr_in));
	CHECK_EQ(mm[0].msg_len, 2);
}
