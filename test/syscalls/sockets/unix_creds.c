/*
 * Credentials over AF_UNIX: SO_PEERCRED, SO_PASSCRED and SCM_CREDENTIALS
 * (default and explicit, privilege checks).
 */
#include "lt.h"
#include "lt_sock.h"

/* recv_creds receives into buf and returns the SCM_CREDENTIALS found (pid
 * -1 if none). */
static struct ucred recv_creds(int s, char *buf, size_t len, ssize_t *n)
{
	char cbuf[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = {buf, len};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1,
			   .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct ucred u = {.pid = -1};
	*n = recvmsg(s, &m, 0);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS)
			memcpy(&u, CMSG_DATA(c), sizeof(u));
	return u;
}

static ssize_t send_creds(int s, struct ucred u)
{
	char cbuf[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = {"c", 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1,
			   .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof(u));
	memcpy(CMSG_DATA(c), &u, sizeof(u));
	return sendmsg(s, &m, 0);
}

static void set_passcred(int s)
{
	int one = 1;
	REQUIRE_OK(setsockopt(s, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)));
}

TEST(peercred_socketpair)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, p));
	struct ucred u;
	socklen_t len = sizeof(u);
	REQUIRE_OK(getsockopt(p[0], SOL_SOCKET, SO_PEERCRED, &u, &len));
	CHECK_EQ(len, sizeof(u));
	CHECK_EQ(u.pid, getpid());
	CHECK_EQ(u.uid, geteuid());
	CHECK_EQ(u.gid, getegid());
}

TEST(peercred_connect_and_listen)
{
	int l = un_listener(SOCK_STREAM, "srv", 4);
	struct sockaddr_un sa;
	socklen_t sl = un_path(&sa, "srv");
	/* The child reaches the socket relative to the scratch dir. */
	REQUIRE_OK(chmod(".", 0777));
	REQUIRE_OK(chmod("srv", 0777));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		setresgid(123, 123, 123);
		setresuid(456, 456, 456);
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(c, (struct sockaddr *)&sa, sl) != 0)
			_exit(1);
		struct ucred u;
		socklen_t len = sizeof(u);
		/* The connector sees the listener's credentials at listen(). */
		if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &u, &len) != 0 || u.uid != 0 ||
		    u.pid != getppid())
			_exit(2);
		char b;
		read(c, &b, 1);
		_exit(0);
	}
	int a = REQUIRE_OK(accept(l, NULL, NULL));
	struct ucred u;
	socklen_t len = sizeof(u);
	REQUIRE_OK(getsockopt(a, SOL_SOCKET, SO_PEERCRED, &u, &len));
	CHECK_EQ(u.pid, pid);
	CHECK_EQ(u.uid, 456);
	CHECK_EQ(u.gid, 123);
	close(a);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(peercred_unconnected)
{
	int s = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	struct ucred u;
	socklen_t len = sizeof(u);
	REQUIRE_OK(getsockopt(s, SOL_SOCKET, SO_PEERCRED, &u, &len));
	CHECK_EQ(u.pid, 0);
	CHECK_EQ(u.uid, (uid_t)-1);
	CHECK_EQ(u.gid, (gid_t)-1);
}

TEST(passcred_default_credentials)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, p));
	set_passcred(p[1]);
	int v = 0;
	socklen_t vl = sizeof(v);
	REQUIRE_OK(getsockopt(p[1], SOL_SOCKET, SO_PASSCRED, &v, &vl));
	CHECK_EQ(v, 1);
	REQUIRE_EQ(send(p[0], "x", 1, 0), 1);
	char buf[4];
	ssize_t n;
	struct ucred u = recv_creds(p[1], buf, sizeof(buf), &n);
	CHECK_EQ(n, 1);
	CHECK_EQ(u.pid, getpid());
	CHECK_EQ(u.uid, getuid());
	CHECK_EQ(u.gid, getgid());
}

TEST(no_passcred_no_credentials)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, p));
	REQUIRE_EQ(send(p[0], "x", 1, 0), 1);
	char buf[4];
	ssize_t n;
	struct ucred u = recv_creds(p[1], buf, sizeof(buf), &n);
	CHECK_EQ(n, 1);
	CHECK_EQ(u.pid, -1);
}

TEST(explicit_credentials_root)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, p));
	set_passcred(p[1]);
	/* A privileged sender may claim any ids (but a real pid). */
	struct ucred mine = {.pid = getpid(), .uid = 1234, .gid = 5678};
	REQUIRE_EQ(send_creds(p[0], mine), 1);
	char buf[4];
	ssize_t n;
	struct ucred u = recv_creds(p[1], buf, sizeof(buf), &n);
	CHECK_EQ(n, 1);
	CHECK_EQ(u.pid, getpid());
	CHECK_EQ(u.uid, 1234);
	CHECK_EQ(u.gid, 5678);
}

TEST(explicit_credentials_unprivileged_eperm)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, p));
	REQUIRE_OK(setresgid(1000, 1000, 1000));
	REQUIRE_OK(setresuid(1000, 1000, 1000));
	struct ucred other = {.pid = getpid(), .uid = 0, .gid = 1000};
	CHECK_ERR(send_creds(p[0], other), EPERM);
	struct ucred own = {.pid = getpid(), .uid = 1000, .gid = 1000};
	CHECK_EQ(send_creds(p[0], own), 1);
	struct ucred badpid = {.pid = 1, .uid = 1000, .gid = 1000};
	CHECK_ERR(send_creds(p[0], badpid), EPERM);
}

TEST(passcred_on_stream_does_not_merge_senders)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, p));
	set_passcred(p[1]);
	REQUIRE_EQ(write(p[0], "ab", 2), 2);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(write(p[0], "cd", 2) == 2 ? 0 : 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
	char buf[8];
	ssize_t n;
	struct ucred u = recv_creds(p[1], buf, sizeof(buf), &n);
	CHECK_EQ(n, 2);
	CHECK_EQ(u.pid, getpid());
	u = recv_creds(p[1], buf, sizeof(buf), &n);
	CHECK_EQ(n, 2);
	CHECK_EQ(u.pid, pid);
}

TEST(passcred_receiver_without_room_gets_ctrunc)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, p));
	set_passcred(p[1]);
	REQUIRE_EQ(send(p[0], "x", 1, 0), 1);
	char b, cbuf[4];
	struct iovec iov = {&b, 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1,
			   .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	CHECK_EQ(recvmsg(p[1], &m, 0), 1);
	CHECK(m.msg_flags & MSG_CTRUNC);
	CHECK_EQ(m.msg_controllen, 0);
}

TEST(peercred_short_buffer)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, p));
	int small;
	socklen_t len = sizeof(small);
	/* Linux truncates to the caller's length. */
	CHECK_OK(getsockopt(p[0], SOL_SOCKET, SO_PEERCRED, &small, &len));
	CHECK_EQ(len, sizeof(small));
	CHECK_EQ(small, getpid());
}
