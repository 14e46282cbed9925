/*
 * SCM_RIGHTS over AF_UNIX: passing several descriptors, shared file
 * descriptions, MSG_CTRUNC when the control buffer is short, MSG_CMSG_CLOEXEC
 * and bad control messages.
 */
#include "lt.h"
#include "lt_sock.h"
#include <sys/socket.h>

/* send_fds sends one byte with the n descriptors fds as SCM_RIGHTS. */
static ssize_t send_fds(int s, const int *fds, int n)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 16)];
	memset(cbuf, 0, sizeof(cbuf));
	struct iovec iov = {"x", 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1,
			   .msg_control = cbuf, .msg_controllen = CMSG_SPACE(sizeof(int) * n)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	return sendmsg(s, &m, 0);
}

/*
 * recv_fds receives one byte and up to max descriptors into fds with a
 * control buffer of clen bytes; it returns how many arrived and stores
 * msg_flags in *flags.
 */
static int recv_fds(int s, int *fds, int max, size_t clen, int rflags, int *flags)
{
	char cbuf[512];
	char b;
	struct iovec iov = {&b, 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1,
			   .msg_control = clen ? cbuf : NULL, .msg_controllen = clen};
	REQUIRE_EQ(recvmsg(s, &m, rflags), 1);
	*flags = m.msg_flags;
	int n = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (int i = 0; i < k && n < max; i++)
			memcpy(&fds[n++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
	}
	return n;
}

static int open_count(void)
{
	int n = 0;
	for (int fd = 0; fd < 256; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

TEST(pass_one_fd_shares_description)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, p));
	int fd = REQUIRE_OK(open(lt_path("f"), O_RDWR | O_CREAT, 0600));
	REQUIRE_EQ(write(fd, "hello", 5), 5);
	REQUIRE_EQ(send_fds(p[0], &fd, 1), 1);
	int got[4], fl;
	REQUIRE_EQ(recv_fds(p[1], got, 4, 512, 0, &fl), 1);
	CHECK_NE(got[0], fd);
	/* Same open file description: the offset is shared. */
	CHECK_EQ(lseek(got[0], 0, SEEK_CUR), 5);
	CHECK_EQ(lseek(got[0], 1, SEEK_SET), 1);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 1);
	CHECK_EQ(fl & MSG_CTRUNC, 0);
	CHECK_EQ(fcntl(got[0], F_GETFD), 0);
}

TEST(pass_several_fds)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, p));
	int pp[2];
	REQUIRE_OK(pipe(pp));
	int fds[3] = {pp[0], pp[1], REQUIRE_OK(open("/dev/null", O_RDONLY))};
	REQUIRE_EQ(send_fds(p[0], fds, 3), 1);
	int got[8], fl;
	REQUIRE_EQ(recv_fds(p[1], got, 8, 512, 0, &fl), 3);
	/* The received pipe ends talk to each other. */
	REQUIRE_EQ(write(got[1], "ok", 2), 2);
	char buf[4];
	CHECK_EQ(read(got[0], buf, sizeof(buf)), 2);
	struct stat a, b;
	REQUIRE_OK(fstat(fds[2], &a));
	REQUIRE_OK(fstat(got[2], &b));
	CHECK_EQ(a.st_ino, b.st_ino);
	CHECK_EQ(a.st_rdev, b.st_rdev);
}

TEST(pass_fd_after_sender_closes)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, p));
	int pp[2];
	REQUIRE_OK(pipe(pp));
	REQUIRE_EQ(send_fds(p[0], &pp[1], 1), 1);
	/* In flight, the file lives on without any descriptor. */
	close(pp[1]);
	int got, fl;
	REQUIRE_EQ(recv_fds(p[1], &got, 1, 512, 0, &fl), 1);
	REQUIRE_EQ(write(got, "z", 1), 1);
	char c;
	CHECK_EQ(read(pp[0], &c, 1), 1);
	close(got);
	CHECK_EQ(read(pp[0], &c, 1), 0);
}

TEST(ctrunc_when_control_too_small)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, p));
	int fds[4];
	for (int i = 0; i < 4; i++)
		fds[i] = REQUIRE_OK(open("/dev/null", O_RDONLY));
	REQUIRE_EQ(send_fds(p[0], fds, 4), 1);
	int before = open_count();
	int got[8], fl;
	/* Room for two descriptors: two arrive, the rest are closed. */
	int n = recv_fds(p[1], got, 8, CMSG_SPACE(2 * sizeof(int)), 0, &fl);
	CHECK_EQ(n, 2);
	CHECK(fl & MSG_CTRUNC);
	CHECK_EQ(open_count(), before + 2);
}

TEST(ctrunc_without_control_buffer)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, p));
	int fd = REQUIRE_OK(open("/dev/null", O_RDONLY));
	REQUIRE_EQ(send_fds(p[0], &fd, 1), 1);
	int before = open_count();
	int got, fl;
	CHECK_EQ(recv_fds(p[1], &got, 1, 0, 0, &fl), 0);
	CHECK(fl & MSG_CTRUNC);
	CHECK_EQ(open_count(), before);
}

TEST(cmsg_cloexec)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, p));
	int fd = REQUIRE_OK(open("/dev/null", O_RDONLY));
	REQUIRE_EQ(send_fds(p[0], &fd, 1), 1);
	int got, fl;
	REQUIRE_EQ(recv_fds(p[1], &got, 1, 512, MSG_CMSG_CLOEXEC, &fl), 1);
	CHECK_EQ(fcntl(got, F_GETFD), FD_CLOEXEC);
}

TEST(peek_duplicates_rights)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, p));
	int fd = REQUIRE_OK(open("/dev/null", O_RDONLY));
	REQUIRE_EQ(send_fds(p[0], &fd, 1), 1);
	int a, b, fl;
	REQUIRE_EQ(recv_fds(p[1], &a, 1, 512, MSG_PEEK, &fl), 1);
	REQUIRE_EQ(recv_fds(p[1], &b, 1, 512, 0, &fl), 1);
	CHECK_NE(a, b);
	CHECK_OK(fcntl(a, F_GETFD));
	CHECK_OK(fcntl(b, F_GETFD));
}

TEST(bad_fd_in_rights_ebadf)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, p));
	int fds[2] = {REQUIRE_OK(open("/dev/null", O_RDONLY)), 999};
	CHECK_ERR(send_fds(p[0], fds, 2), EBADF);
	/* Nothing was sent. */
	char c;
	CHECK_ERR(recv(p[1], &c, 1, MSG_DONTWAIT), EAGAIN);
}

TEST(bad_control_messages)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, p));
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {"x", 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1,
			   .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	/* cmsg_len larger than the buffer. */
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = sizeof(cbuf) + 8;
	CHECK_ERR(sendmsg(p[0], &m, 0), EINVAL);
	/* An unknown SOL_SOCKET type. */
	c->cmsg_len = CMSG_LEN(sizeof(int));
	c->cmsg_type = 77;
	CHECK_ERR(sendmsg(p[0], &m, 0), EINVAL);
	/* A bad control pointer. */
	m.msg_control = bad_ptr;
	CHECK_ERR(sendmsg(p[0], &m, 0), EFAULT);
}

TEST(rights_end_stream_read)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, p));
	REQUIRE_EQ(write(p[0], "ab", 2), 2);
	int fd = REQUIRE_OK(open("/dev/null", O_RDONLY));
	REQUIRE_EQ(send_fds(p[0], &fd, 1), 1);
	REQUIRE_EQ(write(p[0], "cd", 2), 2);
	/* A read takes data up to and including the byte carrying rights,
	 * not beyond it. */
	char buf[16], cbuf[64];
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1,
			   .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	CHECK_EQ(recvmsg(p[1], &m, 0), 3);
	CHECK_MEMEQ(buf, "abx", 3);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	REQUIRE(c != NULL);
	CHECK_EQ(c->cmsg_type, SCM_RIGHTS);
	CHECK_EQ(read(p[1], buf, sizeof(buf)), 2);
}

TEST(read_discards_rights)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, p));
	int pp[2];
	REQUIRE_OK(pipe(pp));
	REQUIRE_EQ(send_fds(p[0], &pp[1], 1), 1);
	close(pp[1]);
	char c;
	/* A plain read closes the passed descriptors. */
	CHECK_EQ(read(p[1], &c, 1), 1);
	CHECK_EQ(read(pp[0], &c, 1), 0);
}

TEST(pass_socket_itself)
{
	int p[2], q[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, p));
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, q));
	/* Pass one end of q over p, then use it. */
	REQUIRE_EQ(send_fds(p[0], &q[0], 1), 1);
	close(q[0]);
	int got, fl;
	REQUIRE_EQ(recv_fds(p[1], &got, 1, 512, 0, &fl), 1);
	REQUIRE_EQ(write(got, "via", 3), 3);
	char buf[4];
	CHECK_EQ(read(q[1], buf, sizeof(buf)), 3);
	/* Closing a socket with rights queued on it frees them. */
	int r[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, r));
	REQUIRE_EQ(send_fds(r[0], &got, 1), 1);
	close(got);
	close(r[1]);
	CHECK_EQ(read(q[1], buf, sizeof(buf)), 0);
}

TEST(pass_across_fork)
{
	int p[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, p));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		int fd = open(lt_path("child"), O_RDWR | O_CREAT, 0600);
		if (fd < 0 || write(fd, "from child", 10) != 10)
			_exit(1);
		_exit(send_fds(p[0], &fd, 1) == 1 ? 0 : 1);
	}
	int got, fl;
	REQUIRE_EQ(recv_fds(p[1], &got, 1, 512, 0, &fl), 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
	char buf[16];
	CHECK_EQ(pread(got, buf, sizeof(buf), 0), 10);
	CHECK_MEMEQ(buf, "from child", 10);
}
