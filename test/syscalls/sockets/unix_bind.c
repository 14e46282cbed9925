/*
 * AF_UNIX addresses: pathname bind (the socket file, EADDRINUSE), abstract
 * names, autobind, getsockname lengths and bad addresses.
 */
#include "lt.h"
#include "lt_sock.h"


TEST(bind_path_creates_socket_file)
{
	struct sockaddr_un a;
	socklen_t len = un_path(&a, "sock");
	int s = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	REQUIRE_OK(bind(s, (struct sockaddr *)&a, len));
	struct stat st;
	REQUIRE_OK(stat("sock", &st));
	CHECK(S_ISSOCK(st.st_mode));
	/* The socket file stays after close; only unlink removes it. */
	CHECK_OK(close(s));
	CHECK_OK(stat("sock", &st));
	CHECK_OK(unlink("sock"));
}

TEST(bind_path_eaddrinuse)
{
	struct sockaddr_un a;
	socklen_t len = un_path(&a, "sock");
	int s = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	REQUIRE_OK(bind(s, (struct sockaddr *)&a, len));
	int t = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(bind(t, (struct sockaddr *)&a, len), EADDRINUSE);
	/* Even after the first socket is closed the file is in the way. */
	close(s);
	CHECK_ERR(bind(t, (struct sockaddr *)&a, len), EADDRINUSE);
	/* A regular file is in the way too. */
	struct sockaddr_un b;
	socklen_t blen = un_path(&b, "file");
	close(REQUIRE_OK(open("file", O_CREAT | O_WRONLY, 0600)));
	CHECK_ERR(bind(t, (struct sockaddr *)&b, blen), EADDRINUSE);
}

TEST(bind_path_after_unlink)
{
	struct sockaddr_un a;
	socklen_t len = un_path(&a, "sock");
	int s = REQUIRE_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	REQUIRE_OK(bind(s, (struct sockaddr *)&a, len));
	REQUIRE_OK(unlink("sock"));
	int t = REQUIRE_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_OK(bind(t, (struct sockaddr *)&a, len));
}

TEST(bind_twice_einval)
{
	struct sockaddr_un a, b;
	socklen_t la = un_path(&a, "one");
	socklen_t lb = un_path(&b, "two");
	int s = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	REQUIRE_OK(bind(s, (struct sockaddr *)&a, la));
	CHECK_ERR(bind(s, (struct sockaddr *)&b, lb), EINVAL);
	CHECK_ERR(access("two", F_OK), ENOENT);
}

TEST(bind_missing_dir_enoent)
{
	struct sockaddr_un a;
	socklen_t len = un_path(&a, "nodir/sock");
	int s = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(bind(s, (struct sockaddr *)&a, len), ENOENT);
	close(REQUIRE_OK(open("file", O_CREAT | O_WRONLY, 0600)));
	len = un_path(&a, "file/sock");
	CHECK_ERR(bind(s, (struct sockaddr *)&a, len), ENOTDIR);
}

TEST(bind_bad_address)
{
	struct sockaddr_un a;
	un_path(&a, "sock");
	int s = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(bind(s, (struct sockaddr *)&a, 1), EINVAL);
	CHECK_ERR(bind(s, (struct sockaddr *)&a, sizeof(a) + 1), EINVAL);
	a.sun_family = AF_INET;
	CHECK_ERR(bind(s, (struct sockaddr *)&a, sizeof(a)), EINVAL);
	CHECK_ERR(bind(s, (struct sockaddr *)1, sizeof(a)), EFAULT);
	CHECK_ERR(bind(12345, (struct sockaddr *)&a, sizeof(a)), EBADF);
	int fd = REQUIRE_OK(open("/dev/null", O_RDONLY));
	a.sun_family = AF_UNIX;
	CHECK_ERR(bind(fd, (struct sockaddr *)&a, sizeof(a)), ENOTSOCK);
}

TEST(getsockname_path_length)
{
	struct sockaddr_un a, got;
	socklen_t len = un_path(&a, "sock");
	int s = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	socklen_t gl = sizeof(got);
	REQUIRE_OK(getsockname(s, (struct sockaddr *)&got, &gl));
	CHECK_EQ(gl, sizeof(sa_family_t));
	CHECK_EQ(got.sun_family, AF_UNIX);
	REQUIRE_OK(bind(s, (struct sockaddr *)&a, len));
	gl = sizeof(got);
	REQUIRE_OK(getsockname(s, (struct sockaddr *)&got, &gl));
	CHECK_EQ(gl, len);
	CHECK_STREQ(got.sun_path, "sock");
	/* A short buffer is filled up to its size; the length says the whole. */
	char small[4];
	gl = sizeof(small);
	REQUIRE_OK(getsockname(s, (struct sockaddr *)small, &gl));
	CHECK_EQ(gl, len);
	CHECK_EQ(small[2], 's');
	CHECK_EQ(small[3], 'o');
}

TEST(getsockname_errors)
{
	int s = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	struct sockaddr_un got;
	socklen_t gl = sizeof(got);
	CHECK_ERR(getsockname(s, (struct sockaddr *)1, &gl), EFAULT);
	CHECK_ERR(getsockname(s, (struct sockaddr *)&got, (socklen_t *)1), EFAULT);
	gl = (socklen_t)-1;
	CHECK_ERR(getsockname(s, (struct sockaddr *)&got, &gl), EINVAL);
	gl = sizeof(got);
	CHECK_ERR(getsockname(99, (struct sockaddr *)&got, &gl), EBADF);
	CHECK_ERR(getsockname(0 + REQUIRE_OK(open("/dev/null", O_RDONLY)), (struct sockaddr *)&got, &gl), ENOTSOCK);
}

TEST(abstract_bind_and_name)
{
	struct sockaddr_un a, got;
	socklen_t len = un_abstract(&a, "lt-abstract-1");
	int s = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	REQUIRE_OK(bind(s, (struct sockaddr *)&a, len));
	socklen_t gl = sizeof(got);
	REQUIRE_OK(getsockname(s, (struct sockaddr *)&got, &gl));
	CHECK_EQ(gl, len);
	CHECK_EQ(got.sun_path[0], 0);
	CHECK_MEMEQ(got.sun_path + 1, "lt-abstract-1", 13);
	int t = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(bind(t, (struct sockaddr *)&a, len), EADDRINUSE);
	/* Abstract names vanish with their socket. */
	close(s);
	CHECK_OK(bind(t, (struct sockaddr *)&a, len));
}

TEST(abstract_names_differ_by_length)
{
	struct sockaddr_un a;
	socklen_t len = un_abstract(&a, "lt-ab");
	int s = REQUIRE_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	REQUIRE_OK(bind(s, (struct sockaddr *)&a, len));
	/* "\0lt-ab\0" is a different name from "\0lt-ab". */
	int t = REQUIRE_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_OK(bind(t, (struct sockaddr *)&a, len + 1));
}

TEST(abstract_connect)
{
	struct sockaddr_un a;
	socklen_t len = un_abstract(&a, "lt-abstract-conn");
	int l = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	REQUIRE_OK(bind(l, (struct sockaddr *)&a, len));
	REQUIRE_OK(listen(l, 1));
	int c = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_OK(connect(c, (struct sockaddr *)&a, len));
	int d = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(connect(d, (struct sockaddr *)&a, len - 1), ECONNREFUSED);
}

TEST(autobind_empty_address)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX}, got;
	int s = REQUIRE_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	REQUIRE_OK(bind(s, (struct sockaddr *)&a, sizeof(sa_family_t)));
	socklen_t gl = sizeof(got);
	REQUIRE_OK(getsockname(s, (struct sockaddr *)&got, &gl));
	/* Linux picks "\0" and five hex digits. */
	CHECK_EQ(gl, sizeof(sa_family_t) + 6);
	CHECK_EQ(got.sun_path[0], 0);
	for (int i = 1; i < 6; i++)
		CHECK(strchr("0123456789abcdef", got.sun_path[i]) != NULL);
	/* Autobinding a bound socket does nothing; a named bind fails. */
	CHECK_OK(bind(s, (struct sockaddr *)&a, sizeof(sa_family_t)));
	struct sockaddr_un again;
	socklen_t al = sizeof(again);
	REQUIRE_OK(getsockname(s, (struct sockaddr *)&again, &al));
	CHECK_EQ(al, gl);
	CHECK_MEMEQ(again.sun_path, got.sun_path, 6);
	struct sockaddr_un n;
	socklen_t nl = un_abstract(&n, "lt-autobound");
	CHECK_ERR(bind(s, (struct sockaddr *)&n, nl), EINVAL);
}

TEST(abstract_namespace_per_type)
{
	/* Each socket type has its own abstract namespace. */
	struct sockaddr_un a;
	socklen_t len = un_abstract(&a, "lt-per-type");
	int s = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	REQUIRE_OK(bind(s, (struct sockaddr *)&a, len));
	REQUIRE_OK(listen(s, 1));
	int d = REQUIRE_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_OK(bind(d, (struct sockaddr *)&a, len));
	int q = REQUIRE_OK(socket(AF_UNIX, SOCK_SEQPACKET, 0));
	/* No seqpacket socket has the name. */
	CHECK_ERR(connect(q, (struct sockaddr *)&a, len), ECONNREFUSED);
	int c = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_OK(connect(c, (struct sockaddr *)&a, len));
}

TEST(autobind_on_send_with_passcred)
{
	/* A datagram sender with SO_PASSCRED gets an autobound name, which the
	 * receiver sees as the source address. */
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, p));
	struct sockaddr_un got;
	socklen_t gl = sizeof(got);
	REQUIRE_OK(getsockname(p[0], (struct sockaddr *)&got, &gl));
	CHECK_EQ(gl, sizeof(sa_family_t));
	int one = 1;
	REQUIRE_OK(setsockopt(p[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)));
	REQUIRE_EQ(send(p[0], "x", 1, 0), 1);
	gl = sizeof(got);
	REQUIRE_OK(getsockname(p[0], (struct sockaddr *)&got, &gl));
	CHECK_EQ(gl, sizeof(sa_family_t) + 6);
}

TEST(unbound_peer_name_length)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, p));
	struct sockaddr_un got;
	socklen_t gl = sizeof(got);
	REQUIRE_OK(getpeername(p[0], (struct sockaddr *)&got, &gl));
	CHECK_EQ(gl, sizeof(sa_family_t));
	CHECK_EQ(got.sun_family, AF_UNIX);
}

TEST(path_too_long)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	/* sun_path filled without a NUL: Linux takes all 108 bytes as the name. */
	memset(a.sun_path, 'x', sizeof(a.sun_path));
	if (chdir(lt_tmpdir()) != 0)
		ABORT("chdir");
	int s = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	int r = bind(s, (struct sockaddr *)&a, sizeof(a));
	/* A 108-byte component is a fine file name. */
	CHECK_EQ(r, 0);
	char name[109];
	memset(name, 'x', 108);
	name[108] = 0;
	struct stat st;
	CHECK_OK(stat(name, &st));
	CHECK(S_ISSOCK(st.st_mode));
}
