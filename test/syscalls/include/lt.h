/*
 * lt.h: the conformance suite's assertion header (test/syscalls).
 *
 * A test program is one C file that includes this header and defines cases:
 *
 *     #include "lt.h"
 *
 *     TEST(pipe_eof) {
 *         int p[2];
 *         REQUIRE_OK(pipe(p));
 *         CHECK_OK(close(p[1]));
 *         char c;
 *         CHECK_EQ(read(p[0], &c, 1), 0);
 *     }
 *
 * The header supplies main(). Every case runs in a forked child with its own
 * time limit, so a crash or a hang fails that case only. A program prints one
 * line per case, which the Go runner (syscalls_test.go) parses:
 *
 *     ok NAME
 *     FAIL NAME: FILE:LINE: what went wrong
 *     MARK NAME native-only: REASON      (case skipped in the sandbox)
 *     MARK NAME sandbox-only: REASON     (case skipped natively)
 *
 * and exits 1 if any case failed. `prog -l` lists the cases; `prog NAME...`
 * runs only those. The runner sets LT_SANDBOX=1 inside the sandbox and
 * LT_TMPDIR to an empty directory that the program may use.
 *
 * CHECK_* records a failure and lets the case go on; REQUIRE_* ends the case.
 * Values are compared as long long, so pointers and sizes compare too.
 */
#ifndef LT_H
#define LT_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define LT_MAX_CASES 512

struct lt_case {
	const char *name;
	void (*fn)(void);
	int timeout; /* seconds */
};

static struct lt_case lt_cases[LT_MAX_CASES];
static int lt_ncases;
static int lt_failed;		/* failures in the running case */
static const char *lt_current;	/* name of the running case */

static void lt_register(const char *name, void (*fn)(void), int timeout)
{
	if (lt_ncases == LT_MAX_CASES) {
		fprintf(stderr, "lt.h: more than %d cases\n", LT_MAX_CASES);
		exit(2);
	}
	lt_cases[lt_ncases].name = name;
	lt_cases[lt_ncases].fn = fn;
	lt_cases[lt_ncases].timeout = timeout;
	lt_ncases++;
}

/* TEST(name) defines a case with the default time limit of 20 seconds. */
#define TEST(name) TEST_TIMEOUT(name, 20)

/* TEST_TIMEOUT(name, seconds) defines a case with its own time limit. */
#define TEST_TIMEOUT(name, secs)                                               \
	static void lt_case_##name(void);                                      \
	__attribute__((constructor)) static void lt_reg_##name(void)           \
	{                                                                      \
		lt_register(#name, lt_case_##name, secs);                      \
	}                                                                      \
	static void lt_case_##name(void)

/* lt_in_sandbox reports whether the program runs under runsc-lite. */
static inline int lt_in_sandbox(void)
{
	const char *s = getenv("LT_SANDBOX");
	return s != NULL && strcmp(s, "1") == 0;
}

/*
 * ONLY_NATIVE / ONLY_SANDBOX end the case where it cannot hold, with a
 * reason. The runner counts and reports every such mark.
 */
#define ONLY_NATIVE(reason)                                                    \
	do {                                                                   \
		if (lt_in_sandbox()) {                                         \
			printf("MARK %s native-only: %s\n", lt_current, reason); \
			fflush(stdout);                                        \
			_exit(77);                                             \
		}                                                              \
	} while (0)
#define ONLY_SANDBOX(reason)                                                   \
	do {                                                                   \
		if (!lt_in_sandbox()) {                                        \
			printf("MARK %s sandbox-only: %s\n", lt_current, reason); \
			fflush(stdout);                                        \
			_exit(77);                                             \
		}                                                              \
	} while (0)

static void lt_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void lt_fail(const char *file, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One line per failure: newlines in messages would confuse the runner. */
	for (char *p = msg; *p; p++)
		if (*p == '\n')
			*p = ' ';
	printf("FAIL %s: %s:%d: %s\n", lt_current, file, line, msg);
	fflush(stdout);
	lt_failed++;
}

/* FAIL records a failure with a printf-style message. */
#define FAIL(...) lt_fail(__FILE__, __LINE__, __VA_ARGS__)
/* ABORT records a failure and ends the case. */
#define ABORT(...)                                                             \
	do {                                                                   \
		FAIL(__VA_ARGS__);                                             \
		_exit(1);                                                      \
	} while (0)

#define LT_CHECK(fatal, cond)                                                  \
	do {                                                                   \
		if (!(cond)) {                                                 \
			FAIL("%s is false (errno %d %s)", #cond, errno,        \
			     strerror(errno));                                 \
			if (fatal)                                             \
				_exit(1);                                      \
		}                                                              \
	} while (0)

#define LT_CMP(fatal, a, op, b)                                                \
	do {                                                                   \
		int lt_e0 = errno;                                             \
		long long lt_a = (long long)(a), lt_b = (long long)(b);        \
		if (!(lt_a op lt_b)) {                                         \
			FAIL("%s %s %s: got %lld, want %lld (errno %d %s)",    \
			     #a, #op, #b, lt_a, lt_b, lt_e0,                   \
			     strerror(lt_e0));                                 \
			if (fatal)                                             \
				_exit(1);                                      \
		}                                                              \
	} while (0)

/* The call succeeded: it did not return -1 (or MAP_FAILED). */
#define LT_OK(fatal, expr)                                                     \
	({                                                                     \
		errno = 0;                                                     \
		long long lt_r = (long long)(expr);                            \
		if (lt_r == -1) {                                              \
			int lt_e = errno;                                      \
			FAIL("%s failed: errno %d (%s)", #expr, lt_e,          \
			     strerror(lt_e));                                  \
			if (fatal)                                             \
				_exit(1);                                      \
		}                                                              \
		lt_r;                                                          \
	})

/* The call failed with -1 and errno err. */
#define LT_ERR(fatal, expr, err)                                               \
	do {                                                                   \
		errno = 0;                                                     \
		long long lt_r = (long long)(expr);                            \
		int lt_e = errno;                                              \
		if (lt_r != -1 || lt_e != (err)) {                             \
			FAIL("%s: got %lld errno %d (%s), want -1 errno %d (%s)", \
			     #expr, lt_r, lt_e, strerror(lt_e), (int)(err),    \
			     strerror(err));                                   \
			if (fatal)                                             \
				_exit(1);                                      \
		}                                                              \
	} while (0)

#define CHECK(cond) LT_CHECK(0, cond)
#define REQUIRE(cond) LT_CHECK(1, cond)
#define CHECK_EQ(a, b) LT_CMP(0, a, ==, b)
#define CHECK_NE(a, b) LT_CMP(0, a, !=, b)
#define CHECK_LT(a, b) LT_CMP(0, a, <, b)
#define CHECK_LE(a, b) LT_CMP(0, a, <=, b)
#define CHECK_GT(a, b) LT_CMP(0, a, >, b)
#define CHECK_GE(a, b) LT_CMP(0, a, >=, b)
#define REQUIRE_EQ(a, b) LT_CMP(1, a, ==, b)
#define REQUIRE_NE(a, b) LT_CMP(1, a, !=, b)
#define REQUIRE_GT(a, b) LT_CMP(1, a, >, b)
#define REQUIRE_GE(a, b) LT_CMP(1, a, >=, b)
#define CHECK_OK(expr) LT_OK(0, expr)
#define REQUIRE_OK(expr) LT_OK(1, expr)
#define CHECK_ERR(expr, err) LT_ERR(0, expr, err)
#define REQUIRE_ERR(expr, err) LT_ERR(1, expr, err)

/* CHECK_STREQ compares C strings (NULL-safe). */
#define CHECK_STREQ(a, b)                                                      \
	do {                                                                   \
		const char *lt_sa = (a), *lt_sb = (b);                         \
		if (lt_sa == NULL || lt_sb == NULL || strcmp(lt_sa, lt_sb))    \
			FAIL("%s == %s: got \"%s\", want \"%s\"", #a, #b,      \
			     lt_sa ? lt_sa : "(null)",                         \
			     lt_sb ? lt_sb : "(null)");                        \
	} while (0)

/* CHECK_MEMEQ compares n bytes. */
#define CHECK_MEMEQ(a, b, n)                                                   \
	do {                                                                   \
		if (memcmp((a), (b), (n)) != 0)                                \
			FAIL("%s and %s differ in their first %zu bytes", #a,  \
			     #b, (size_t)(n));                                 \
	} while (0)

/*
 * lt_tmpdir returns a fresh empty directory for the running case, under
 * LT_TMPDIR (or /tmp).
 */
static inline const char *lt_tmpdir(void)
{
	static char dir[4096];
	if (dir[0])
		return dir;
	const char *base = getenv("LT_TMPDIR");
	if (base == NULL || *base == 0)
		base = "/tmp";
	snprintf(dir, sizeof(dir), "%s/%s.XXXXXX", base, lt_current);
	if (mkdtemp(dir) == NULL) {
		FAIL("mkdtemp %s: %s", dir, strerror(errno));
		_exit(1);
	}
	return dir;
}

/* lt_path returns lt_tmpdir()/name in a static buffer (one of 8 in turn). */
static inline const char *lt_path(const char *name)
{
	static char bufs[8][4096];
	static int next;
	char *b = bufs[next++ % 8];
	/* Using the result also keeps gcc's -Wformat-truncation quiet. */
	if (snprintf(b, 4096, "%s/%s", lt_tmpdir(), name) >= 4096) {
		FAIL("lt_path: %s: name too long", name);
		_exit(1);
	}
	return b;
}

/*
 * lt_wait_exit waits for pid and returns its exit status, or 128+signal if a
 * signal killed it; -1 if waitpid fails.
 */
static inline int lt_wait_exit(pid_t pid)
{
	int st;
	pid_t r;
	do
		r = waitpid(pid, &st, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return -1;
}

/*
 * lt_wait_sleeping waits (up to about 2 s) until thread tid of process pid
 * is in an interruptible sleep (state S in /proc/PID/task/TID/stat), so
 * that a signal sent next finds it blocked in its system call. It returns
 * 0 once it is, -1 if it never was or has gone.
 */
static inline int lt_wait_sleeping(pid_t pid, pid_t tid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	for (int i = 0; i < 2000; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -1;
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = 0;
			char *p = strrchr(buf, ')');
			if (p && p[1] == ' ' && p[2] == 'S')
				return 0;
		}
		usleep(1000);
	}
	return -1;
}

/* lt_run_case runs one case in a child and prints its result line. */
static int lt_run_case(struct lt_case *c)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		printf("FAIL %s: fork: %s\n", c->name, strerror(errno));
		return 1;
	}
	if (pid == 0) {
		lt_current = c->name;
		lt_failed = 0;
		/* The child's own process group lets a case signal its group. */
		setpgid(0, 0);
		alarm(c->timeout);
		c->fn();
		fflush(stdout);
		_exit(lt_failed ? 1 : 0);
	}
	int st;
	pid_t r;
	do
		r = waitpid(pid, &st, 0);
	while (r < 0 && errno == EINTR);
	/* Reap whatever the case left behind in its group. */
	kill(-pid, SIGKILL);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	if (r < 0) {
		printf("FAIL %s: waitpid: %s\n", c->name, strerror(errno));
		return 1;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		printf("ok %s\n", c->name);
		return 0;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
		return 0; /* marked: the case printed its MARK line */
	if (WIFEXITED(st) && WEXITSTATUS(st) == 1)
		return 1; /* the case printed its FAIL lines */
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)
		printf("FAIL %s: timed out after %d s\n", c->name, c->timeout);
	else if (WIFSIGNALED(st))
		printf("FAIL %s: killed by signal %d (%s)\n", c->name,
		       WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		printf("FAIL %s: exit status %d\n", c->name, WEXITSTATUS(st));
	return 1;
}

#ifndef LT_NO_MAIN
int main(int argc, char **argv)
{
	int failed = 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && strcmp(argv[1], "-l") == 0) {
		for (int i = 0; i < lt_ncases; i++)
			printf("%s\n", lt_cases[i].name);
		return 0;
	}
	for (int i = 0; i < lt_ncases; i++) {
		int want = argc == 1;
		for (int j = 1; j < argc && !want; j++)
			want = strcmp(argv[j], lt_cases[i].name) == 0;
		if (want)
			failed += lt_run_case(&lt_cases[i]);
	}
	return failed ? 1 : 0;
}
#endif

#endif /* LT_H */
