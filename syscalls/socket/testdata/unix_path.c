// AF_UNIX over a pathname and an abstract name: bind/listen/accept/connect,
// echo between processes, names, errors.
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(x) do { if (!(x)) { printf("FAIL %s:%d %s errno=%d\n", __FILE__, __LINE__, #x, errno); exit(1); } } while (0)

static socklen_t mkaddr(struct sockaddr_un *a, const char *path, int abstract) {
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (abstract) {
		strcpy(a->sun_path + 1, path);
		return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(path);
	}
	strcpy(a->sun_path, path);
	return sizeof(*a);
}

static void echo(const char *path, int abstract, int type) {
	struct sockaddr_un a;
	socklen_t al = mkaddr(&a, path, abstract);
	int l = socket(AF_UNIX, type, 0);
	CHECK(l >= 0);
	CHECK(bind(l, (struct sockaddr *)&a, al) == 0);
	int l2 = socket(AF_UNIX, type, 0);
	CHECK(bind(l2, (struct sockaddr *)&a, al) < 0 && errno == EADDRINUSE);
	close(l2);
	CHECK(listen(l, 5) == 0);
	if (!abstract) {
		struct stat st;
		CHECK(stat(path, &st) == 0 && S_ISSOCK(st.st_mode));
		printf("stat: socket\n");
	}
	pid_t pid = fork();
	if (pid == 0) {
		int c = socket(AF_UNIX, type, 0);
		CHECK(connect(c, (struct sockaddr *)&a, al) == 0);
		struct sockaddr_un p;
		socklen_t pl = sizeof(p);
		CHECK(getpeername(c, (struct sockaddr *)&p, &pl) == 0);
		CHECK(pl == al || (!abstract && pl == offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1));
		CHECK(write(c, "hello", 5) == 5);
		char buf[16];
		int n = read(c, buf, sizeof(buf));
		CHECK(n == 5 && memcmp(buf, "HELLO", 5) == 0);
		close(c);
		_exit(0);
	}
	struct sockaddr_un p;
	socklen_t pl = sizeof(p);
	int s = accept(l, (struct sockaddr *)&p, &pl);
	CHECK(s >= 0);
	printf("accept peer len %d family %d\n", (int)pl, p.sun_family);
	struct sockaddr_un n;
	socklen_t nl = sizeof(n);
	CHECK(getsockname(s, (struct sockaddr *)&n, &nl) == 0);
	printf("accepted sockname matches: %d\n", abstract ? (nl == al && memcmp(n.sun_path, a.sun_path, al - 2) == 0) : strcmp(n.sun_path, path) == 0);
	char buf[16];
	int r = read(s, buf, sizeof(buf));
	CHECK(r == 5);
	for (int i = 0; i < r; i++) buf[i] -= 32;
	CHECK(write(s, buf, r) == r);
	CHECK(read(s, buf, sizeof(buf)) == 0);
	int st;
	waitpid(pid, &st, 0);
	printf("child exit %d\n", WEXITSTATUS(st));
	close(s);
	close(l);
	if (!abstract) {
		// The inode stays until unlinked; nobody listens.
		int c = socket(AF_UNIX, type, 0);
		CHECK(connect(c, (struct sockaddr *)&a, al) < 0 && errno == ECONNREFUSED);
		CHECK(unlink(path) == 0);
		CHECK(connect(c, (struct sockaddr *)&a, al) < 0 && errno == ENOENT);
		close(c);
		printf("after close: ECONNREFUSED, after unlink: ENOENT\n");
	} else {
		int c = socket(AF_UNIX, type, 0);
		CHECK(connect(c, (struct sockaddr *)&a, al) < 0 && errno == ECONNREFUSED);
		close(c);
		printf("abstract after close: ECONNREFUSED\n");
	}
}

int main(int argc, char **argv) {
	char path[200];
	snprintf(path, sizeof(path), "%s/sock", argc > 1 ? argv[1] : "/tmp");
	unlink(path);
	echo(path, 0, SOCK_STREAM);
	snprintf(path, sizeof(path), "%s/seq", argc > 1 ? argv[1] : "/tmp");
	unlink(path);
	echo(path, 0, SOCK_SEQPACKET);
	char name[64];
	snprintf(name, sizeof(name), "runsc-lite-test-%d", getpid());
	echo(name, 1, SOCK_STREAM);

	// Datagrams by path, with the sender's address.
	struct sockaddr_un a, b, from;
	snprintf(path, sizeof(path), "%s/dg", argc > 1 ? argv[1] : "/tmp");
	unlink(path);
	socklen_t al = mkaddr(&a, path, 0);
	int d = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK(bind(d, (struct sockaddr *)&a, al) == 0);
	int e = socket(AF_UNIX, SOCK_DGRAM, 0);
	snprintf(name, sizeof(name), "runsc-lite-dg-%d", getpid());
	socklen_t bl = mkaddr(&b, name, 1);
	CHECK(bind(e, (struct sockaddr *)&b, bl) == 0);
	CHECK(sendto(e, "one", 3, 0, (struct sockaddr *)&a, al) == 3);
	CHECK(sendto(e, "two!", 4, 0, (struct sockaddr *)&a, al) == 4);
	char buf[8];
	socklen_t fl = sizeof(from);
	int n = recvfrom(d, buf, 2, MSG_TRUNC, (struct sockaddr *)&from, &fl);
	printf("dgram trunc %d from-abstract %d\n", n, fl == bl && memcmp(&from, &b, bl) == 0);
	n = recv(d, buf, sizeof(buf), 0);
	printf("dgram %d %.4s\n", n, buf);
	CHECK(recv(d, buf, sizeof(buf), MSG_DONTWAIT) < 0 && errno == EAGAIN);
	unlink(path);
	// Autobind.
	int f = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK(bind(f, (struct sockaddr *)&a, sizeof(sa_family_t)) == 0);
	fl = sizeof(from);
	CHECK(getsockname(f, (struct sockaddr *)&from, &fl) == 0);
	printf("autobind len %d abstract %d\n", (int)fl, from.sun_path[0] == 0);
	printf("ok\n");
	return 0;
}
