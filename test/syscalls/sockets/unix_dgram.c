/*
 * AF_UNIX SOCK_DGRAM and SOCK_SEQPACKET: message boundaries, MSG_TRUNC,
 * sendto/recvfrom addresses, connected datagram sockets, EMSGSIZE, EOF.
 */
#include "lt.h"
#include "lt_sock.h"
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>

TEST(dgram_boundaries)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, p));
	REQUIRE_EQ(send(p[0], "abc", 3, 0), 3);
	REQUIRE_EQ(send(p[0], "defgh", 5, 0), 5);
	REQUIRE_EQ(send(p[0], "", 0, 0), 0);
	char buf[16];
	CHECK_EQ(recv(p[1], buf, sizeof(buf), 0), 3);
	CHECK_MEMEQ(buf, "abc", 3);
	CHECK_EQ(recv(p[1], buf, sizeof(buf), 0), 5);
	CHECK_MEMEQ(buf, "defgh", 5);
	/* An empty datagram is a message too. */
	CHECK_EQ(recv(p[1], buf, sizeof(buf), MSG_DONTWAIT), 0);
	CHECK_ERR(recv(p[1], buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
}

TEST(dgram_truncation)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, p));
	REQUIRE_EQ(send(p[0], "abcdef", 6, 0), 6);
	REQUIRE_EQ(send(p[0], "ghijkl", 6, 0), 6);
	REQUIRE_EQ(send(p[0], "next", 4, 0), 4);
	char buf[16];
	struct iovec iov = {buf, 2};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	/* The rest of a truncated datagram is dropped. */
	CHECK_EQ(recvmsg(p[1], &m, 0), 2);
	CHECK(m.msg_flags & MSG_TRUNC);
	CHECK_MEMEQ(buf, "ab", 2);
	/* MSG_TRUNC returns the real length. */
	CHECK_EQ(recv(p[1], buf, 3, MSG_TRUNC), 6);
	CHECK_MEMEQ(buf, "ghi", 3);
	m.msg_flags = 0;
	iov.iov_len = sizeof(buf);
	CHECK_EQ(recvmsg(p[1], &m, 0), 4);
	CHECK_EQ(m.msg_flags & MSG_TRUNC, 0);
}

TEST(dgram_peek_keeps_message)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, p));
	REQUIRE_EQ(send(p[0], "one", 3, 0), 3);
	REQUIRE_EQ(send(p[0], "two!", 4, 0), 4);
	char buf[16];
	CHECK_EQ(recv(p[1], buf, sizeof(buf), MSG_PEEK), 3);
	CHECK_EQ(recv(p[1], buf, 1, MSG_PEEK | MSG_TRUNC), 3);
	int q = 0;
	REQUIRE_OK(ioctl(p[1], FIONREAD, &q));
	/* FIONREAD on a datagram socket is the next message's size. */
	CHECK_EQ(q, 3);
	CHECK_EQ(recv(p[1], buf, sizeof(buf), 0), 3);
	CHECK_EQ(recv(p[1], buf, sizeof(buf), 0), 4);
}

TEST(sendto_recvfrom_addresses)
{
	int srv = un_bound(SOCK_DGRAM, "srv");
	int cli = un_bound(SOCK_DGRAM, "cli");
	struct sockaddr_un sa;
	socklen_t sl = un_path(&sa, "srv");
	REQUIRE_EQ(sendto(cli, "hi", 2, 0, (struct sockaddr *)&sa, sl), 2);
	char buf[8];
	struct sockaddr_un from;
	socklen_t fl = sizeof(from);
	CHECK_EQ(recvfrom(srv, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl), 2);
	CHECK_EQ(fl, offsetof(struct sockaddr_un, sun_path) + 4);
	CHECK_STREQ(from.sun_path, "cli");
	/* Reply to the address we were given. */
	REQUIRE_EQ(sendto(srv, "yo", 2, 0, (struct sockaddr *)&from, fl), 2);
	CHECK_EQ(recv(cli, buf, sizeof(buf), 0), 2);
}

TEST(recvfrom_unbound_sender)
{
	int srv = un_bound(SOCK_DGRAM, "srv");
	int cli = REQUIRE_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	struct sockaddr_un sa;
	socklen_t sl = un_path(&sa, "srv");
	REQUIRE_EQ(sendto(cli, "x", 1, 0, (struct sockaddr *)&sa, sl), 1);
	char c;
	struct sockaddr_un from;
	socklen_t fl = sizeof(from);
	CHECK_EQ(recvfrom(srv, &c, 1, 0, (struct sockaddr *)&from, &fl), 1);
	/* Linux reports an unbound sender's address with length 0. */
	CHECK_EQ(fl, 0);
}

TEST(dgram_send_unconnected_enotconn)
{
	int s = REQUIRE_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_ERR(send(s, "x", 1, 0), ENOTCONN);
	struct sockaddr_un a;
	socklen_t len = un_path(&a, "nobody");
	CHECK_ERR(sendto(s, "x", 1, 0, (struct sockaddr *)&a, len), ENOENT);
}

TEST(dgram_connected_peer_closed_econnrefused)
{
	int srv = un_bound(SOCK_DGRAM, "srv");
	struct sockaddr_un sa;
	socklen_t sl = un_path(&sa, "srv");
	int cli = REQUIRE_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	REQUIRE_OK(connect(cli, (struct sockaddr *)&sa, sl));
	REQUIRE_EQ(send(cli, "a", 1, 0), 1);
	close(srv);
	CHECK_ERR(send(cli, "b", 1, 0), ECONNREFUSED);
	/* After the refusal the socket is disconnected. */
	CHECK_ERR(send(cli, "b", 1, 0), ENOTCONN);
}

TEST(dgram_connected_only_accepts_peer)
{
	int a = un_bound(SOCK_DGRAM, "a");
	int b = un_bound(SOCK_DGRAM, "b");
	int c = un_bound(SOCK_DGRAM, "c");
	struct sockaddr_un ba, aa;
	socklen_t bl = un_path(&ba, "b");
	socklen_t al = un_path(&aa, "a");
	/* a is connected to b: c may not send to a. */
	REQUIRE_OK(connect(a, (struct sockaddr *)&ba, bl));
	CHECK_ERR(sendto(c, "x", 1, 0, (struct sockaddr *)&aa, al), EPERM);
	/* b can. */
	CHECK_EQ(sendto(b, "y", 1, 0, (struct sockaddr *)&aa, al), 1);
	/* AF_UNSPEC dissolves the association. */
	struct sockaddr un = {.sa_family = AF_UNSPEC};
	REQUIRE_OK(connect(a, &un, sizeof(un)));
	CHECK_EQ(sendto(c, "z", 1, 0, (struct sockaddr *)&aa, al), 1);
}

TEST(dgram_emsgsize)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, p));
	int sz = 8192;
	REQUIRE_OK(setsockopt(p[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)));
	static char big[65536];
	CHECK_ERR(send(p[0], big, sizeof(big), 0), EMSGSIZE);
	CHECK_EQ(send(p[0], big, 1000, 0), 1000);
}

TEST(dgram_shutdown_wr)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, p));
	REQUIRE_OK(shutdown(p[0], SHUT_WR));
	signal(SIGPIPE, SIG_IGN);
	CHECK_ERR(send(p[0], "x", 1, 0), EPIPE);
	/* The peer can still send to it. */
	CHECK_EQ(send(p[1], "y", 1, 0), 1);
	char c;
	CHECK_EQ(recv(p[0], &c, 1, 0), 1);
}

TEST(seqpacket_boundaries_and_trunc)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, p));
	REQUIRE_EQ(send(p[0], "abcdef", 6, 0), 6);
	REQUIRE_EQ(send(p[0], "gh", 2, 0), 2);
	char buf[16];
	struct iovec iov = {buf, 4};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	CHECK_EQ(recvmsg(p[1], &m, 0), 4);
	CHECK(m.msg_flags & MSG_TRUNC);
	/* Linux does not report record ends on AF_UNIX receives. */
	CHECK_EQ(m.msg_flags & MSG_EOR, 0);
	CHECK_MEMEQ(buf, "abcd", 4);
	CHECK_EQ(recv(p[1], buf, sizeof(buf), 0), 2);
	CHECK_MEMEQ(buf, "gh", 2);
}

TEST(seqpacket_eof_and_epipe)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, p));
	REQUIRE_EQ(send(p[0], "last", 4, 0), 4);
	close(p[0]);
	char buf[8];
	CHECK_EQ(recv(p[1], buf, sizeof(buf), 0), 4);
	CHECK_EQ(recv(p[1], buf, sizeof(buf), 0), 0);
	CHECK_ERR(send(p[1], "x", 1, MSG_NOSIGNAL), EPIPE);
}

TEST(seqpacket_msg_trunc_flag_length)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, p));
	REQUIRE_EQ(send(p[0], "0123456789", 10, 0), 10);
	char buf[4];
	CHECK_EQ(recv(p[1], buf, sizeof(buf), MSG_TRUNC), 10);
}

TEST(seqpacket_sendto_on_connected)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, p));
	struct sockaddr_un a;
	socklen_t len = un_path(&a, "whatever");
	/* A connected seqpacket socket ignores the address. */
	CHECK_EQ(sendto(p[0], "x", 1, 0, (struct sockaddr *)&a, len), 1);
	int s[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	CHECK_ERR(sendto(s[0], "x", 1, 0, (struct sockaddr *)&a, len), EISCONN);
}

TEST(records_have_no_urgent_data)
{
	int types[] = {SOCK_DGRAM, SOCK_SEQPACKET};
	for (int i = 0; i < 2; i++) {
		int p[2];
		REQUIRE_OK(socketpair(AF_UNIX, types[i], 0, p));
		CHECK_ERR(send(p[0], "x", 1, MSG_OOB), EOPNOTSUPP);
		REQUIRE_EQ(send(p[0], "y", 1, 0), 1);
		char c;
		CHECK_ERR(recv(p[1], &c, 1, MSG_OOB), EOPNOTSUPP);
	}
}

TEST(seqpacket_empty_record)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, p));
	/* A zero-length record is delivered (and reads as 0). */
	CHECK_EQ(send(p[0], "", 0, 0), 0);
	char b[4];
	CHECK_EQ(recv(p[1], b, sizeof(b), MSG_DONTWAIT), 0);
	CHECK_ERR(recv(p[1], b, sizeof(b), MSG_DONTWAIT), EAGAIN);
}

TEST(bind_name_stops_at_nul)
{
	struct sockaddr_un a;
	un_path(&a, "");
	memcpy(a.sun_path, "name\0junk", 9);
	int s = REQUIRE_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	REQUIRE_OK(bind(s, (struct sockaddr *)&a, offsetof(struct sockaddr_un, sun_path) + 9));
	struct sockaddr_un g;
	socklen_t gl = sizeof(g);
	REQUIRE_OK(getsockname(s, (struct sockaddr *)&g, &gl));
	CHECK_EQ(gl, offsetof(struct sockaddr_un, sun_path) + 5);
	CHECK_STREQ(g.sun_path, "name");
	CHECK_OK(access("name", F_OK));
}
