// regress: one small case per sentry bug that syscallfuzz found. Run as
// `regress NAME` (in the sandbox, as its init); a case prints "ok" and
// exits 0 when the kernel behaves. `regress list` names the cases.
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
#include <sys/syscall.h>
#include <sys/wait.h>
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

struct tcase {
	const char *name;
	int (*fn)(void);
};

static struct tcase cases[] = {
	{"exit_signal_reparent", exit_signal_reparent},
	{"shared_anon_after_fork", shared_anon_after_fork},
};

int main(int argc, char **argv) {
	if (argc != 2) {
		fprintf(stderr, "usage: %s list|NAME\n", argv[0]);
		return 2;
	}
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
