// socketpair: SCM_RIGHTS between processes, SCM_CREDENTIALS, SO_PEERCRED,
// message boundaries, MSG_PEEK/TRUNC/WAITALL, shutdown, EPIPE, poll.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(x) do { if (!(x)) { printf("FAIL %s:%d %s errno=%d\n", __FILE__, __LINE__, #x, errno); exit(1); } } while (0)

static int sendfd(int s, int fd) {
	char c = 'F';
	struct iovec iov = {&c, 1};
	union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
	struct msghdr m = {0};
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.buf;
	m.msg_controllen = sizeof(u.buf);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(s, &m, 0);
}

// msg_flags of recvfd's last recvmsg: MSG_CMSG_CLOEXEC is echoed.
static int recvfd_msg_flags;

static int recvfd(int s, int flags) {
	char c;
	struct iovec iov = {&c, 1};
	union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
	struct msghdr m = {0};
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.buf;
	m.msg_controllen = sizeof(u.buf);
	if (recvmsg(s, &m, flags) != 1) return -1;
	recvfd_msg_flags = m.msg_flags;
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	if (!cm || cm->cmsg_type != SCM_RIGHTS) return -2;
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

int main(void) {
	signal(SIGPIPE, SIG_IGN);
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	// fd passing: the child makes a pipe, passes its read end, writes.
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		int p[2];
		CHECK(pipe(p) == 0);
		CHECK(sendfd(sv[1], p[0]) == 1);
		close(p[0]);
		CHECK(write(p[1], "through the passed fd", 21) == 21);
		close(p[1]);
		// Credentials.
		struct ucred uc = {getpid(), getuid(), getgid()};
		char c = 'C';
		struct iovec iov = {&c, 1};
		union { char buf[CMSG_SPACE(sizeof(uc))]; struct cmsghdr align; } u;
		struct msghdr m = {0};
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = u.buf;
		m.msg_controllen = sizeof(u.buf);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_CREDENTIALS;
		cm->cmsg_len = CMSG_LEN(sizeof(uc));
		memcpy(CMSG_DATA(cm), &uc, sizeof(uc));
		CHECK(sendmsg(sv[1], &m, 0) == 1);
		char pidbuf[16];
		int n = snprintf(pidbuf, sizeof(pidbuf), "%d", getpid());
		CHECK(write(sv[1], pidbuf, n) == n);
		_exit(0);
	}
	close(sv[1]);
	int fd = recvfd(sv[0], MSG_CMSG_CLOEXEC);
	CHECK(fd >= 0);
	int one = 1;
	CHECK(setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) == 0);
	printf("passed fd cloexec %d, msg_flags %#x\n", (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0, recvfd_msg_flags);
	char buf[64];
	int n = read(fd, buf, sizeof(buf));
	printf("read %d: %.*s\n", n, n, buf);
	close(fd);
	char c;
	struct iovec iov = {&c, 1};
	char cbuf[CMSG_SPACE(sizeof(struct ucred))];
	struct msghdr m = {0};
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = cbuf;
	m.msg_controllen = sizeof(cbuf);
	CHECK(recvmsg(sv[0], &m, 0) == 1 && c == 'C');
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	CHECK(cm && cm->cmsg_type == SCM_CREDENTIALS);
	struct ucred uc;
	memcpy(&uc, CMSG_DATA(cm), sizeof(uc));
	n = read(sv[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("creds pid matches %d uid matches %d\n", uc.pid == atoi(buf) && uc.pid == pid, uc.uid == getuid());
	struct ucred pc;
	socklen_t pcl = sizeof(pc);
	CHECK(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &pc, &pcl) == 0);
	printf("peercred pid is self %d uid %d\n", pc.pid == getpid(), pc.uid == getuid());
	waitpid(pid, NULL, 0);
	// EOF and poll after the peer is gone.
	struct pollfd pfd = {sv[0], POLLIN | POLLOUT | POLLRDHUP, 0};
	CHECK(poll(&pfd, 1, 1000) == 1);
	printf("poll after peer exit: in %d rdhup %d hup %d\n", !!(pfd.revents & POLLIN), !!(pfd.revents & POLLRDHUP), !!(pfd.revents & POLLHUP));
	CHECK(read(sv[0], buf, sizeof(buf)) == 0);
	CHECK(write(sv[0], "x", 1) < 0 && errno == EPIPE);
	printf("write to closed peer: EPIPE\n");
	close(sv[0]);

	// Seqpacket boundaries and MSG_TRUNC.
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	CHECK(send(sv[0], "abc", 3, 0) == 3 && send(sv[0], "defgh", 5, 0) == 5);
	struct msghdr mm = {0};
	struct iovec iv = {buf, 2};
	mm.msg_iov = &iv;
	mm.msg_iovlen = 1;
	n = recvmsg(sv[1], &mm, 0);
	printf("seqpacket: %d trunc %d\n", n, !!(mm.msg_flags & MSG_TRUNC));
	n = recv(sv[1], buf, sizeof(buf), MSG_PEEK);
	printf("seqpacket peek %d\n", n);
	n = recv(sv[1], buf, 2, MSG_TRUNC);
	printf("seqpacket trunc flag returns %d\n", n);
	// Shutdown.
	CHECK(shutdown(sv[0], SHUT_WR) == 0);
	CHECK(recv(sv[1], buf, sizeof(buf), 0) == 0);
	CHECK(send(sv[0], "x", 1, MSG_NOSIGNAL) < 0 && errno == EPIPE);
	CHECK(send(sv[1], "back", 4, 0) == 4);
	CHECK(recv(sv[0], buf, sizeof(buf), 0) == 4);
	printf("shutdown ok\n");
	close(sv[0]);
	close(sv[1]);

	// Stream: no boundaries, MSG_PEEK, MSG_WAITALL across writes.
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 10; i++) {
			CHECK(write(sv[1], "0123456789", 10) == 10);
			usleep(1000);
		}
		_exit(0);
	}
	n = recv(sv[0], buf, 4, MSG_PEEK);
	printf("stream peek %d %.4s\n", n, buf);
	char big[100];
	n = recv(sv[0], big, sizeof(big), MSG_WAITALL);
	printf("waitall %d last %c\n", n, big[99]);
	waitpid(pid, NULL, 0);
	int avail = -1;
	close(sv[1]);
	// Datagram pair.
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
	CHECK(send(sv[0], "", 0, 0) == 0);
	CHECK(send(sv[0], "xyz", 3, 0) == 3);
	n = recv(sv[1], buf, sizeof(buf), 0);
	printf("dgram empty %d\n", n);
	n = recv(sv[1], buf, sizeof(buf), 0);
	printf("dgram %d\n", n);
	(void)avail;
	printf("ok\n");
	return 0;
}
