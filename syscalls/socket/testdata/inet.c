// TCP echo on 127.0.0.1 (and ::1 when the host has it) with a
#define _GNU_SOURCE
// non-blocking connect, poll and SO_ERROR; UDP on loopback.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(x) do { if (!(x)) { printf("FAIL %s:%d %s errno=%d\n", __FILE__, __LINE__, #x, errno); exit(1); } } while (0)

static void tcp(int family) {
	struct sockaddr_storage ss = {0};
	socklen_t sl;
	if (family == AF_INET) {
		struct sockaddr_in *a = (void *)&ss;
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (void *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		sl = sizeof(*a);
	}
	int l = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(l >= 0);
	int one = 1;
	CHECK(setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0);
	CHECK(bind(l, (struct sockaddr *)&ss, sl) == 0);
	CHECK(listen(l, 16) == 0);
	socklen_t gl = sizeof(ss);
	CHECK(getsockname(l, (struct sockaddr *)&ss, &gl) == 0 && gl == sl);
	int acc, al = sizeof(acc);
	CHECK(getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &acc, (socklen_t *)&al) == 0);
	printf("acceptconn %d\n", acc);

	pid_t pid = fork();
	if (pid == 0) {
		int c = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
		CHECK(c >= 0);
		int r = connect(c, (struct sockaddr *)&ss, sl);
		CHECK(r == 0 || errno == EINPROGRESS);
		struct pollfd p = {c, POLLOUT, 0};
		CHECK(poll(&p, 1, 5000) == 1 && (p.revents & POLLOUT));
		int err = -1;
		socklen_t el = sizeof(err);
		CHECK(getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0);
		CHECK(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0);
		char msg[100000];
		for (int i = 0; i < (int)sizeof(msg); i++) msg[i] = 'a' + i % 26;
		int off = 0;
		while (off < (int)sizeof(msg)) {
			int n = write(c, msg + off, sizeof(msg) - off);
			if (n < 0 && errno == EAGAIN) {
				p.events = POLLOUT;
				poll(&p, 1, 5000);
				continue;
			}
			CHECK(n > 0);
			off += n;
		}
		CHECK(shutdown(c, SHUT_WR) == 0);
		int flags = fcntl(c, F_GETFL);
		fcntl(c, F_SETFL, flags & ~O_NONBLOCK);
		long sum = 0, got = 0;
		char buf[4096];
		int n;
		while ((n = read(c, buf, sizeof(buf))) > 0) {
			for (int i = 0; i < n; i++) sum += buf[i];
			got += n;
		}
		CHECK(n == 0);
		printf("client got %ld sum %ld\n", got, sum);
		fflush(stdout);
		_exit(0);
	}
	struct sockaddr_storage peer;
	socklen_t pl = sizeof(peer);
	int s = accept4(l, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
	CHECK(s >= 0);
	printf("peer family ok %d len ok %d\n", peer.ss_family == family, pl == sl);
	char buf[8192];
	int n;
	long total = 0;
	while ((n = recv(s, buf, sizeof(buf), 0)) > 0) {
		CHECK(send(s, buf, n, MSG_NOSIGNAL) == n);
		total += n;
	}
	CHECK(n == 0);
	printf("server echoed %ld\n", total);
	close(s);
	int st;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(l);
	// Connection refused: the port is closed now.
	int c = socket(family, SOCK_STREAM, 0);
	CHECK(connect(c, (struct sockaddr *)&ss, sl) < 0);
	printf("connect to closed port: %s\n", errno == ECONNREFUSED ? "ECONNREFUSED" : strerror(errno));
	close(c);
}

static void udp(void) {
	struct sockaddr_in a = {0}, b;
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(bind(s, (struct sockaddr *)&a, sizeof(a)) == 0);
	socklen_t al = sizeof(a);
	CHECK(getsockname(s, (struct sockaddr *)&a, &al) == 0);
	int c = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(sendto(c, "datagram-one", 12, 0, (struct sockaddr *)&a, sizeof(a)) == 12);
	CHECK(connect(c, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(send(c, "two", 3, 0) == 3);
	struct pollfd p = {s, POLLIN, 0};
	CHECK(poll(&p, 1, 5000) == 1);
	int avail = 0;
	CHECK(ioctl(s, FIONREAD, &avail) == 0);
	printf("udp FIONREAD %d\n", avail);
	char buf[64];
	socklen_t bl = sizeof(b);
	int n = recvfrom(s, buf, 4, MSG_TRUNC, (struct sockaddr *)&b, &bl);
	printf("udp trunc %d from loopback %d\n", n, b.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
	struct iovec iov[2] = {{buf, 1}, {buf + 1, 10}};
	struct msghdr m = {0};
	m.msg_iov = iov;
	m.msg_iovlen = 2;
	n = recvmsg(s, &m, 0);
	printf("udp recvmsg %d %.3s\n", n, buf);
	struct timeval tv = {0, 100000};
	CHECK(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0);
	n = recv(s, buf, sizeof(buf), 0);
	printf("udp timeout %d %s\n", n, errno == EAGAIN ? "EAGAIN" : strerror(errno));
	close(s);
	close(c);
}

// UDP-Lite (IPPROTO_UDPLITE datagrams) with a checksum coverage option.
static void udplite(void) {
	struct sockaddr_in a = {0};
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int s = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE);
	if (s < 0) {
		printf("udplite: %s\n", strerror(errno));
		return;
	}
	int cov = 20, got = 0, proto = 0;
	socklen_t l = sizeof(got);
	CHECK(setsockopt(s, IPPROTO_UDPLITE, 10 /* UDPLITE_SEND_CSCOV */, &cov, sizeof(cov)) == 0);
	CHECK(getsockopt(s, IPPROTO_UDPLITE, 10, &got, &l) == 0);
	l = sizeof(proto);
	CHECK(getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &proto, &l) == 0);
	printf("udplite cscov %d protocol %d\n", got, proto);
	CHECK(bind(s, (struct sockaddr *)&a, sizeof(a)) == 0);
	socklen_t al = sizeof(a);
	CHECK(getsockname(s, (struct sockaddr *)&a, &al) == 0);
	int c = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE);
	CHECK(sendto(c, "lite", 4, 0, (struct sockaddr *)&a, sizeof(a)) == 4);
	char buf[16];
	int n = recv(s, buf, sizeof(buf), 0);
	printf("udplite recv %d %.4s\n", n, buf);
	close(s);
	close(c);
}

int main(void) {
	signal(SIGPIPE, SIG_IGN);
	tcp(AF_INET);
	int s6 = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 a6 = {0};
	a6.sin6_family = AF_INET6;
	a6.sin6_addr = in6addr_loopback;
	if (s6 >= 0 && bind(s6, (struct sockaddr *)&a6, sizeof(a6)) == 0) {
		close(s6);
		tcp(AF_INET6);
	} else {
		printf("no ipv6 loopback\n");
	}
	udp();
	udplite();
	// Errors.
	printf("bad family %d\n", socket(12345, SOCK_STREAM, 0) < 0 && errno == EAFNOSUPPORT);
	printf("bad type %d\n", socket(AF_INET, SOCK_SEQPACKET, 0) < 0 && errno == ESOCKTNOSUPPORT);
	printf("bad proto %d\n", socket(AF_INET, SOCK_STREAM, IPPROTO_UDP) < 0 && errno == EPROTONOSUPPORT);
	printf("bad flags %d\n", socket(AF_INET, SOCK_STREAM | 0x100000, 0) < 0 && errno == EINVAL);
	printf("notsock %d\n", listen(0, 1) < 0 && errno == ENOTSOCK);
	printf("ok\n");
	return 0;
}
