/*
 * AF_UNIX connections: listen, connect (ECONNREFUSED, ENOENT, EPROTOTYPE,
 * EACCES), accept4 flags and addresses, the backlog, getpeername.
 */
#include "lt.h"
#include "lt_sock.h"

TEST(connect_accept_roundtrip)
{
	int l = un_listener(SOCK_STREAM, "srv", 5);
	int c = un_connect(SOCK_STREAM, "srv");
	int a = REQUIRE_OK(accept(l, NULL, NULL));
	REQUIRE_EQ(write(c, "ping", 4), 4);
	char buf[8];
	CHECK_EQ(read(a, buf, sizeof(buf)), 4);
	CHECK_MEMEQ(buf, "ping", 4);
	REQUIRE_EQ(write(a, "pong", 4), 4);
	CHECK_EQ(read(c, buf, sizeof(buf)), 4);
	CHECK_MEMEQ(buf, "pong", 4);
}

TEST(connect_missing_path_enoent)
{
	struct sockaddr_un a;
	socklen_t len = un_path(&a, "nothing");
	int c = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(connect(c, (struct sockaddr *)&a, len), ENOENT);
	int d = REQUIRE_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_ERR(sendto(d, "x", 1, 0, (struct sockaddr *)&a, len), ENOENT);
}

TEST(connect_closed_listener_econnrefused)
{
	struct sockaddr_un a;
	socklen_t len = un_path(&a, "srv");
	int l = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	REQUIRE_OK(bind(l, (struct sockaddr *)&a, len));
	int c = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	/* Bound but not listening. */
	CHECK_ERR(connect(c, (struct sockaddr *)&a, len), ECONNREFUSED);
	close(l);
	/* The file remains, nobody is behind it. */
	CHECK_ERR(connect(c, (struct sockaddr *)&a, len), ECONNREFUSED);
}

TEST(connect_regular_file_econnrefused)
{
	struct sockaddr_un a;
	socklen_t len = un_path(&a, "file");
	close(REQUIRE_OK(open("file", O_CREAT | O_WRONLY, 0600)));
	int c = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(connect(c, (struct sockaddr *)&a, len), ECONNREFUSED);
}

TEST(connect_wrong_type_eprototype)
{
	un_listener(SOCK_STREAM, "srv", 5);
	struct sockaddr_un a;
	socklen_t len = un_path(&a, "srv");
	int c = REQUIRE_OK(socket(AF_UNIX, SOCK_SEQPACKET, 0));
	CHECK_ERR(connect(c, (struct sockaddr *)&a, len), EPROTOTYPE);
	int d = REQUIRE_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_ERR(connect(d, (struct sockaddr *)&a, len), EPROTOTYPE);
}

TEST(connect_eisconn_and_listening_einval)
{
	int l = un_listener(SOCK_STREAM, "srv", 5);
	int c = un_connect(SOCK_STREAM, "srv");
	struct sockaddr_un a;
	socklen_t len = un_path(&a, "srv");
	CHECK_ERR(connect(c, (struct sockaddr *)&a, len), EISCONN);
	CHECK_ERR(connect(l, (struct sockaddr *)&a, len), EINVAL);
}

TEST(connect_eacces_without_write_permission)
{
	un_listener(SOCK_STREAM, "srv", 5);
	REQUIRE_OK(chmod("srv", 0755));
	REQUIRE_OK(chmod(lt_tmpdir(), 0777));
	struct sockaddr_un a;
	socklen_t len = un_path(&a, "srv");
	REQUIRE_OK(setresgid(65534, 65534, 65534));
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	int c = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(connect(c, (struct sockaddr *)&a, len), EACCES);
}

TEST(listen_unbound_and_dgram)
{
	int s = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(listen(s, 1), EINVAL);
	int d = REQUIRE_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_ERR(listen(d, 1), EOPNOTSUPP);
	CHECK_ERR(listen(99, 1), EBADF);
	int f = REQUIRE_OK(open("/dev/null", O_RDONLY));
	CHECK_ERR(listen(f, 1), ENOTSOCK);
}

TEST(accept_errors)
{
	int s = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(accept(s, NULL, NULL), EINVAL);
	int d = REQUIRE_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_ERR(accept(d, NULL, NULL), EOPNOTSUPP);
	int l = un_listener(SOCK_STREAM, "srv", 5);
	CHECK_ERR(accept4(l, NULL, NULL, 0x40000000), EINVAL);
	CHECK_ERR(accept(99, NULL, NULL), EBADF);
	int fl = fcntl(l, F_GETFL);
	REQUIRE_OK(fcntl(l, F_SETFL, fl | O_NONBLOCK));
	CHECK_ERR(accept(l, NULL, NULL), EAGAIN);
}

TEST(accept4_flags)
{
	int l = un_listener(SOCK_STREAM, "srv", 5);
	un_connect(SOCK_STREAM, "srv");
	un_connect(SOCK_STREAM, "srv");
	int a = REQUIRE_OK(accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC));
	CHECK(fcntl(a, F_GETFL) & O_NONBLOCK);
	CHECK_EQ(fcntl(a, F_GETFD), FD_CLOEXEC);
	char c;
	CHECK_ERR(read(a, &c, 1), EAGAIN);
	int b = REQUIRE_OK(accept4(l, NULL, NULL, 0));
	CHECK_EQ(fcntl(b, F_GETFL) & O_NONBLOCK, 0);
	CHECK_EQ(fcntl(b, F_GETFD), 0);
}

TEST(accept_peer_address)
{
	int l = un_listener(SOCK_STREAM, "srv", 5);
	/* A bound client shows its name to accept; an unbound one shows just
	 * the family. */
	struct sockaddr_un ca;
	socklen_t clen = un_path(&ca, "cli");
	int c = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	REQUIRE_OK(bind(c, (struct sockaddr *)&ca, clen));
	struct sockaddr_un sa;
	socklen_t slen = un_path(&sa, "srv");
	REQUIRE_OK(connect(c, (struct sockaddr *)&sa, slen));
	un_connect(SOCK_STREAM, "srv");
	struct sockaddr_un got;
	socklen_t gl = sizeof(got);
	int a = REQUIRE_OK(accept(l, (struct sockaddr *)&got, &gl));
	CHECK_EQ(gl, clen);
	CHECK_STREQ(got.sun_path, "cli");
	gl = sizeof(got);
	REQUIRE_OK(accept(l, (struct sockaddr *)&got, &gl));
	CHECK_EQ(gl, sizeof(sa_family_t));
	/* The accepted socket's own name is the listener's. */
	gl = sizeof(got);
	REQUIRE_OK(getsockname(a, (struct sockaddr *)&got, &gl));
	CHECK_EQ(gl, slen);
	CHECK_STREQ(got.sun_path, "srv");
}

TEST(getpeername_both_ends)
{
	int l = un_listener(SOCK_STREAM, "srv", 5);
	int c = un_connect(SOCK_STREAM, "srv");
	int a = REQUIRE_OK(accept(l, NULL, NULL));
	struct sockaddr_un got;
	socklen_t gl = sizeof(got);
	REQUIRE_OK(getpeername(c, (struct sockaddr *)&got, &gl));
	CHECK_STREQ(got.sun_path, "srv");
	gl = sizeof(got);
	REQUIRE_OK(getpeername(a, (struct sockaddr *)&got, &gl));
	CHECK_EQ(gl, sizeof(sa_family_t));
	gl = sizeof(got);
	CHECK_ERR(getpeername(l, (struct sockaddr *)&got, &gl), ENOTCONN);
	int u = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(getpeername(u, (struct sockaddr *)&got, &gl), ENOTCONN);
}

TEST(backlog_full_nonblocking_eagain)
{
	int l = un_listener(SOCK_STREAM, "srv", 0);
	struct sockaddr_un a;
	socklen_t len = un_path(&a, "srv");
	int n = 0, r;
	/* Linux lets backlog+1 connections queue, then a non-blocking connect
	 * gets EAGAIN. */
	for (;;) {
		int c = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0));
		r = connect(c, (struct sockaddr *)&a, len);
		if (r < 0)
			break;
		if (++n > 100)
			break;
	}
	CHECK_EQ(r, -1);
	CHECK_EQ(errno, EAGAIN);
	CHECK_EQ(n, 1);
	/* Accepting one makes room. */
	REQUIRE_OK(accept(l, NULL, NULL));
	int c = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0));
	CHECK_OK(connect(c, (struct sockaddr *)&a, len));
}

TEST(blocking_connect_waits_for_accept)
{
	int l = un_listener(SOCK_STREAM, "srv", 0);
	un_connect(SOCK_STREAM, "srv");
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		/* The queue is full: this blocks until the parent accepts. */
		int c = un_connect(SOCK_STREAM, "srv");
		_exit(write(c, "z", 1) == 1 ? 0 : 1);
	}
	usleep(100000);
	int a1 = REQUIRE_OK(accept(l, NULL, NULL));
	int a2 = REQUIRE_OK(accept(l, NULL, NULL));
	char c;
	CHECK_EQ(read(a2, &c, 1), 1);
	CHECK_EQ(c, 'z');
	CHECK_EQ(lt_wait_exit(pid), 0);
	close(a1);
}

TEST(seqpacket_connect_accept)
{
	int l = un_listener(SOCK_SEQPACKET, "srv", 5);
	int c = un_connect(SOCK_SEQPACKET, "srv");
	int a = REQUIRE_OK(accept(l, NULL, NULL));
	int type;
	socklen_t tl = sizeof(type);
	REQUIRE_OK(getsockopt(a, SOL_SOCKET, SO_TYPE, &type, &tl));
	CHECK_EQ(type, SOCK_SEQPACKET);
	REQUIRE_EQ(send(c, "ab", 2, 0), 2);
	REQUIRE_EQ(send(c, "cde", 3, 0), 3);
	char buf[16];
	CHECK_EQ(recv(a, buf, sizeof(buf), 0), 2);
	CHECK_EQ(recv(a, buf, sizeof(buf), 0), 3);
}

TEST(shut_down_listener_refuses)
{
	int l = un_listener(SOCK_STREAM, "srv", 5);
	REQUIRE_OK(shutdown(l, SHUT_RD));
	struct sockaddr_un a;
	socklen_t len = un_path(&a, "srv");
	int c = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(connect(c, (struct sockaddr *)&a, len), ECONNREFUSED);
	REQUIRE_OK(fcntl(l, F_SETFL, O_NONBLOCK));
	CHECK_ERR(accept(l, NULL, NULL), EAGAIN);
}
