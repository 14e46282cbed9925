// Micro-benchmarks run natively and inside runsc-lite: each mode prints the
// mean cost of one operation in nanoseconds.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv) {
	if (argc < 3) {
		fprintf(stderr, "usage: micro getppid|openread|forkexec N [file]\n");
		return 2;
	}
	long n = atol(argv[2]);
	const char *mode = argv[1];
	double start = now();
	if (!strcmp(mode, "getppid")) {
		for (long i = 0; i < n; i++)
			syscall(SYS_getppid);
	} else if (!strcmp(mode, "openread")) {
		char buf[4096];
		for (long i = 0; i < n; i++) {
			int fd = open(argv[3], O_RDONLY);
			if (fd < 0 || read(fd, buf, sizeof buf) != sizeof buf) {
				perror("openread");
				return 1;
			}
			close(fd);
		}
	} else if (!strcmp(mode, "forkexec")) {
		for (long i = 0; i < n; i++) {
			pid_t p = fork();
			if (p == 0) {
				execl("/bin/true", "true", (char *)0);
				_exit(127);
			}
			int st;
			if (p < 0 || waitpid(p, &st, 0) != p || st != 0) {
				fprintf(stderr, "forkexec failed\n");
				return 1;
			}
		}
	} else {
		fprintf(stderr, "unknown mode %s\n", mode);
		return 2;
	}
	printf("%.0f\n", (now() - start) / n);
	return 0;
}
