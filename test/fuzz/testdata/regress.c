// regress: one small case per sentry bug that syscallfuzz found. Run as
// `regress NAME DIR` (in the sandbox, as its init, DIR an empty directory
// of a volume); a case prints "ok" and exits 0 when the kernel behaves.
// `regress list` names the cases. A case about host state the guest
// cannot see stops at checkpoints as syscallfuzz -k does (DIR/ckpt.N,
// then wait for DIR/ckpt.N.ack) and the test checks the sandbox's host
// state between them.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK(c) do { if (!(c)) { printf("FAIL %s:%d: %s (errno %d)\n", __FILE__, __LINE__, #c, errno); exit(1); } } while (0)

// A clone()d child whose exit signal is SIGFPE outlives its parent and is
// reparented to init: Linux resets the exit signal to SIGCHLD, the sentry
// sent SIGFPE to init and the whole sandbox died with status 136.
static int exit_signal_reparent(void) {
	pid_t mid = fork();
	CHECK(mid >= 0);
	if (mid == 0) {
		long c = syscall(SYS_clone, SIGFPE, 0, 0, 0, 0);
		if (c == 0) {
			usleep(100000); // outlive the parent
			_exit(0);
		}
		_exit(c > 0 ? 0 : 1);
	}
	int st;
	CHECK(waitpid(mid, &st, 0) == mid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	usleep(300000);
	// The orphan is now our child (we are init): reap it.
	while (waitpid(-1, &st, __WALL | WNOHANG) > 0) {
	}
	// init's own clone child with a fatal exit signal: init drops a signal
	// that would take its default action.
	long c = syscall(SYS_clone, SIGSEGV, 0, 0, 0, 0);
	if (c == 0) _exit(0);
	CHECK(c > 0);
	CHECK(waitpid(c, &st, __WALL) == c);
	return 0;
}

// A MAP_SHARED|MAP_ANONYMOUS page first touched after fork is shared:
// the sentry allocated it separately in parent and child.
static int shared_anon_after_fork(void) {
	volatile int *p = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	p[0] = 1;
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		p[0] = 42;
		p[1024] = 43; // second page, untouched before fork
		_exit(0);
	}
	int st;
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st));
	CHECK(p[0] == 42 && p[1024] == 43);
	return 0;
}

static const char *dir; // the case's directory on a volume

// checkpoint hands over to the test (see the top) and waits for its ack.
static int checkpoint(int n) {
	char path[4096], tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s/ckpt.%d.tmp", dir, n);
	snprintf(path, sizeof(path), "%s/ckpt.%d", dir, n);
	FILE *f = fopen(tmp, "w");
	CHECK(f != NULL);
	// The memory file's pages in use (MemTotal - MemFree), as syscallfuzz.
	long total = -1, free = -1;
	char line[256];
	FILE *m = fopen("/proc/meminfo", "r");
	CHECK(m != NULL);
	while (fgets(line, sizeof(line), m)) {
		sscanf(line, "MemTotal: %ld", &total);
		sscanf(line, "MemFree: %ld", &free);
	}
	fclose(m);
	fprintf(f, "syscalls 0\nfinal 0\nmem_used_kb %ld\n", total - free);
	CHECK(fclose(f) == 0 && rename(tmp, path) == 0);
	snprintf(path, sizeof(path), "%s/ckpt.%d.ack", dir, n);
	struct stat st;
	for (int i = 0; stat(path, &st) != 0; i++) {
		CHECK(i < 12000); // 2 minutes
		usleep(10000);
	}
	return 0;
}

// make_remove_dirs makes, enters, leaves and removes n directories (with
// a subdirectory each) in dir, as the fuzzer's workers do on a volume.
static int make_remove_dirs(int n) {
	char d[4000], sub[4100];
	for (int i = 0; i < n; i++) {
		snprintf(d, sizeof(d), "%s/r.%d", dir, i);
		snprintf(sub, sizeof(sub), "%s/sub", d);
		CHECK(mkdir(d, 0777) == 0 && mkdir(sub, 0777) == 0);
		CHECK(chdir(sub) == 0 && chdir("/") == 0);
		CHECK(rmdir(sub) == 0 && rmdir(d) == 0);
	}
	return 0;
}

// A directory removed from a volume (goferfs) kept its host FD in the
// sentry until 1024 newer directories pushed it out of the directory FD
// cache: the fuzzer's checkpoints saw the sentry's FDs grow with every
// worker that had worked on the volume. The test bounds the sentry's FD
// growth from checkpoint 1 to 2.
static int volume_rmdir_fds(void) {
	CHECK(dir != NULL);
	make_remove_dirs(20);
	checkpoint(1);
	make_remove_dirs(1500);
	checkpoint(2);
	return 0;
}

// getrandom filled at most 32 MiB, in a buffer of the sentry's as large
// as the request: a few threads asking for 2 GiB had the sentry allocate
// 32 MiB each. Linux fills up to MAX_RW_COUNT.
static int getrandom_huge(void) {
	size_t n = 80 << 20;
	char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(p != MAP_FAILED);
	CHECK(getrandom(p, n, 0) == (ssize_t)n);
	munmap(p, n);
	return 0;
}

struct tcase {
	const char *name;
	int (*fn)(void);
};

static struct tcase cases[] = {
	{"exit_signal_reparent", exit_signal_reparent},
	{"shared_anon_after_fork", shared_anon_after_fork},
	{"volume_rmdir_fds", volume_rmdir_fds},
	{"getrandom_huge", getrandom_huge},
};

int main(int argc, char **argv) {
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s list|NAME [DIR]\n", argv[0]);
		return 2;
	}
	if (argc == 3) dir = argv[2];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strcmp(argv[1], "list") == 0) {
			printf("%s\n", cases[i].name);
		} else if (strcmp(argv[1], cases[i].name) == 0) {
			int r = cases[i].fn();
			if (r == 0) printf("ok\n");
			return r;
		}
	}
	return strcmp(argv[1], "list") == 0 ? 0 : 2;
}
