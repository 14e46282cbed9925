/* execve and execveat: argument passing, limits, formats, errors, what exec resets. */
#include "lt.h"
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>

extern char **environ;

/*
 * When run with LT_EXEC_MODE set, this program is an exec target: the
 * constructor checks what the exec gave it and exits with 0 if right, or
 * the number of the first check that failed.
 */
static int exec_checks(const char *mode, int argc, char **argv)
{
	if (strcmp(mode, "argv") == 0) {
		if (argc != 4 || strcmp(argv[1], "one") || strcmp(argv[2], "") ||
		    strcmp(argv[3], "three"))
			return 2;
		const char *v = getenv("LT_VAR");
		return v != NULL && strcmp(v, "x=y") == 0 ? 0 : 3;
	}
	if (strcmp(mode, "shebang") == 0) {
		/* interpreter, its one argument, the script, the caller's args */
		if (argc != 4 || strcmp(argv[1], "a b") || strstr(argv[2], "script") == NULL ||
		    strcmp(argv[3], "tail"))
			return 2;
		return 0;
	}
	if (strcmp(mode, "fds") == 0) {
		if (fcntl(atoi(getenv("LT_KEEP")), F_GETFD) != 0)
			return 2;
		if (fcntl(atoi(getenv("LT_CLOSE")), F_GETFD) != -1 || errno != EBADF)
			return 3;
		return 0;
	}
	if (strcmp(mode, "signals") == 0) {
		struct sigaction sa;
		sigaction(SIGUSR1, NULL, &sa);
		if (sa.sa_handler != SIG_DFL)
			return 2;
		sigaction(SIGUSR2, NULL, &sa);
		if (sa.sa_handler != SIG_IGN)
			return 3;
		sigset_t cur;
		sigprocmask(SIG_BLOCK, NULL, &cur);
		return sigismember(&cur, SIGTERM) ? 0 : 4;
	}
	if (strcmp(mode, "pid") == 0) {
		if (getpid() != atoi(getenv("LT_PID")))
			return 2;
		FILE *f = fopen("/proc/self/status", "r");
		char line[256];
		int threads = -1;
		while (f && fgets(line, sizeof(line), f))
			sscanf(line, "Threads: %d", &threads);
		return threads == 1 ? 0 : 3;
	}
	if (strcmp(mode, "count") == 0)
		return argc == atoi(getenv("LT_ARGC")) ? 0 : 2;
	return 99;
}

__attribute__((constructor)) static void exec_target(int argc, char **argv)
{
	const char *mode = getenv("LT_EXEC_MODE");
	if (mode != NULL)
		_exit(exec_checks(mode, argc, argv));
}

static char self[4096];

static const char *self_path(void)
{
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		ABORT("readlink /proc/self/exe: %s", strerror(errno));
	self[n] = 0;
	return self;
}

/* run_self execs this program in a child with mode and extra env; returns its status. */
static int run_self(char **argv, const char *mode, char **extra)
{
	const char *path = self_path();
	pid_t pid = fork();
	if (pid < 0)
		ABORT("fork: %s", strerror(errno));
	if (pid == 0) {
		setenv("LT_EXEC_MODE", mode, 1);
		for (; extra && *extra; extra += 2)
			setenv(extra[0], extra[1], 1);
		execv(path, argv);
		_exit(100 + errno);
	}
	return lt_wait_exit(pid);
}

static void write_file(const char *path, const char *data, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0 || write(fd, data, strlen(data)) != (ssize_t)strlen(data))
		ABORT("write %s: %s", path, strerror(errno));
	close(fd);
	chmod(path, mode);
}

TEST(execve_replaces_image)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		char *argv[] = {"sh", "-c", "exit 7", NULL};
		execve("/bin/sh", argv, environ);
		_exit(100);
	}
	CHECK_EQ(lt_wait_exit(pid), 7);
}

TEST(argv_and_env_passed)
{
	char *argv[] = {"prog", "one", "", "three", NULL};
	char *env[] = {"LT_VAR", "x=y", NULL};
	CHECK_EQ(run_self(argv, "argv", env), 0);
}

TEST(large_argv_within_limit)
{
	int n = 5000;
	char **argv = calloc(n + 1, sizeof(char *));
	char *arg = malloc(200);
	memset(arg, 'a', 199);
	arg[199] = 0;
	argv[0] = "prog";
	for (int i = 1; i < n; i++)
		argv[i] = arg;
	char count[16];
	snprintf(count, sizeof(count), "%d", n);
	char *env[] = {"LT_ARGC", count, NULL};
	CHECK_EQ(run_self(argv, "count", env), 0);
}

TEST(argv_too_large_e2big)
{
	/* Default RLIMIT_STACK 8 MiB: the strings may take a quarter of it. */
	struct rlimit rl = {8 << 20, 8 << 20};
	REQUIRE_OK(setrlimit(RLIMIT_STACK, &rl));
	int n = 40000;
	char **argv = calloc(n + 1, sizeof(char *));
	char *arg = malloc(100);
	memset(arg, 'b', 99);
	arg[99] = 0;
	for (int i = 0; i < n; i++)
		argv[i] = arg;
	CHECK_ERR(execv("/bin/true", argv), E2BIG);
}

TEST(single_arg_too_long_e2big)
{
	size_t len = 128 * 1024 + 1; /* MAX_ARG_STRLEN is 32 pages */
	char *arg = malloc(len + 1);
	memset(arg, 'c', len);
	arg[len] = 0;
	char *argv[] = {"true", arg, NULL};
	CHECK_ERR(execv("/bin/true", argv), E2BIG);
}

TEST(garbage_enoexec)
{
	const char *p = lt_path("garbage");
	write_file(p, "\x01\x02\x03\x04garbage, not a program\n", 0755);
	char *argv[] = {"garbage", NULL};
	CHECK_ERR(execv(p, argv), ENOEXEC);
}

TEST(truncated_elf_enoexec_or_eio)
{
	const char *p = lt_path("elf");
	write_file(p, "\x7f" "ELF", 0755);
	char *argv[] = {"elf", NULL};
	errno = 0;
	CHECK_EQ(execv(p, argv), -1);
	CHECK(errno == ENOEXEC || errno == EIO);
}

TEST(shebang_with_argument)
{
	char script[4200];
	snprintf(script, sizeof(script), "#!%s a b\n", self_path());
	const char *p = lt_path("script");
	write_file(p, script, 0755);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		setenv("LT_EXEC_MODE", "shebang", 1);
		char *argv[] = {"script", "tail", NULL};
		execv(p, argv);
		_exit(100 + errno);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(shebang_shell_script)
{
	const char *p = lt_path("sh");
	write_file(p, "#!/bin/sh\nexit $(( $# + 40 ))\n", 0755);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		char *argv[] = {"sh", "x", "y", NULL};
		execv(p, argv);
		_exit(100);
	}
	CHECK_EQ(lt_wait_exit(pid), 42);
}

TEST(missing_file_and_interpreter_enoent)
{
	char *argv[] = {"x", NULL};
	CHECK_ERR(execv("/nonexistent/prog", argv), ENOENT);
	const char *p = lt_path("noint");
	write_file(p, "#!/nonexistent/interp\n", 0755);
	CHECK_ERR(execv(p, argv), ENOENT);
	CHECK_ERR(execv("", argv), ENOENT);
}

TEST(not_executable_eacces)
{
	const char *p = lt_path("plain");
	write_file(p, "#!/bin/sh\nexit 0\n", 0644);
	char *argv[] = {"plain", NULL};
	CHECK_ERR(execv(p, argv), EACCES);
	CHECK_ERR(execv(lt_tmpdir(), argv), EACCES);
}

TEST(path_through_file_enotdir)
{
	char *argv[] = {"x", NULL};
	CHECK_ERR(execv("/bin/sh/x", argv), ENOTDIR);
}

TEST(bad_pointers_efault)
{
	char *argv[] = {"x", NULL};
	CHECK_ERR(syscall(SYS_execve, (char *)1, argv, environ), EFAULT);
	CHECK_ERR(syscall(SYS_execve, "/bin/true", (char **)1, environ), EFAULT);
	char *bad[] = {"x", (char *)1, NULL};
	CHECK_ERR(syscall(SYS_execve, "/bin/true", bad, environ), EFAULT);
}

TEST(close_on_exec)
{
	int keep = REQUIRE_OK(open("/dev/null", O_RDONLY));
	int gone = REQUIRE_OK(open("/dev/null", O_RDONLY | O_CLOEXEC));
	char k[16], g[16];
	snprintf(k, sizeof(k), "%d", keep);
	snprintf(g, sizeof(g), "%d", gone);
	char *argv[] = {"prog", NULL};
	char *env[] = {"LT_KEEP", k, "LT_CLOSE", g, NULL};
	CHECK_EQ(run_self(argv, "fds", env), 0);
}

static void on_usr1(int s) { (void)s; }

TEST(exec_resets_handlers_keeps_ignored_and_mask)
{
	signal(SIGUSR1, on_usr1);
	signal(SIGUSR2, SIG_IGN);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	char *argv[] = {"prog", NULL};
	CHECK_EQ(run_self(argv, "signals", NULL), 0);
}

static void *exec_from_thread(void *arg)
{
	char *argv[] = {"prog", NULL};
	execv((char *)arg, argv);
	_exit(100 + errno);
}

TEST(exec_from_thread_keeps_pid_kills_threads)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		char p[16];
		snprintf(p, sizeof(p), "%d", getpid());
		setenv("LT_PID", p, 1);
		setenv("LT_EXEC_MODE", "pid", 1);
		pthread_t th;
		pthread_create(&th, NULL, exec_from_thread, (void *)self_path());
		pause();
		_exit(101);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(execveat_empty_path_fd)
{
	int fd = REQUIRE_OK(open("/bin/sh", O_RDONLY | O_CLOEXEC));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		char *argv[] = {"sh", "-c", "exit 21", NULL};
		syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
		_exit(100 + errno);
	}
	CHECK_EQ(lt_wait_exit(pid), 21);
}

TEST(execveat_relative_to_dirfd)
{
	int dir = REQUIRE_OK(open("/bin", O_RDONLY | O_DIRECTORY));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		char *argv[] = {"sh", "-c", "exit 22", NULL};
		syscall(SYS_execveat, dir, "sh", argv, environ, 0);
		_exit(100 + errno);
	}
	CHECK_EQ(lt_wait_exit(pid), 22);
}

TEST(execveat_errors)
{
	char *argv[] = {"x", NULL};
	int fd = REQUIRE_OK(open("/bin/sh", O_RDONLY));
	CHECK_ERR(syscall(SYS_execveat, fd, "", argv, environ, 0), ENOENT);
	int dir = REQUIRE_OK(open("/bin", O_RDONLY | O_DIRECTORY));
	CHECK_ERR(syscall(SYS_execveat, dir, "sh", argv, environ, 0x4), EINVAL);
	CHECK_ERR(syscall(SYS_execveat, fd, "sh", argv, environ, 0), ENOTDIR);
	CHECK_ERR(syscall(SYS_execveat, 999, "sh", argv, environ, 0), EBADF);
}
