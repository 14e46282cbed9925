/* /proc/PID/cmdline, environ, exe, comm: what ps and libraries read. */
#include "lt.h"
#include "procfs.h"
#include <sys/prctl.h>

/* readall reads a file that may hold NULs; returns its length. */
static ssize_t readall(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	size_t n = 0;
	ssize_t r;
	while (n < size && (r = read(fd, buf + n, size - n)) > 0)
		n += r;
	close(fd);
	return n;
}

/* spawn_sleeper starts argv with envp and returns once it has exec'd. */
static pid_t spawn_sleeper(char *const argv[], char *const envp[])
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		execve(argv[0], argv, envp);
		_exit(127);
	}
	close(p[1]);
	char c;
	/* The write end closes at exec. */
	(void)!read(p[0], &c, 1);
	close(p[0]);
	/*
	 * Linux closes close-on-exec files before it sets the new image's
	 * argument area: until then cmdline reads empty (seen natively on a
	 * loaded machine). Wait for it, up to about 2 s.
	 */
	char path[64], buf[16];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	for (int i = 0; i < 2000 && readall(path, buf, sizeof(buf)) == 0; i++)
		usleep(1000);
	return pid;
}

TEST(cmdline_is_argv)
{
	char *argv[] = {"/bin/sleep", "1000", "1s", NULL};
	char *envp[] = {"A=1", NULL};
	pid_t pid = REQUIRE_OK(spawn_sleeper(argv, envp));
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	ssize_t n = readall(path, buf, sizeof(buf));
	const char want[] = "/bin/sleep\0" "1000\0" "1s";
	CHECK_EQ(n, sizeof(want));
	CHECK_MEMEQ(buf, want, sizeof(want));
	kill(pid, SIGKILL);
	lt_wait_exit(pid);
}

TEST(environ_is_envp)
{
	char *argv[] = {"/bin/sleep", "1000", NULL};
	char *envp[] = {"FOO=bar", "EMPTY=", "X=y z", NULL};
	pid_t pid = REQUIRE_OK(spawn_sleeper(argv, envp));
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	ssize_t n = readall(path, buf, sizeof(buf));
	const char want[] = "FOO=bar\0" "EMPTY=\0" "X=y z";
	CHECK_EQ(n, sizeof(want));
	CHECK_MEMEQ(buf, want, sizeof(want));
	kill(pid, SIGKILL);
	lt_wait_exit(pid);
}

TEST(self_environ_contains_our_env)
{
	static char buf[1 << 16];
	ssize_t n = readall("/proc/self/environ", buf, sizeof(buf));
	REQUIRE_GT(n, 0);
	/* LT_SANDBOX was in the environment at exec. */
	int found = 0;
	for (ssize_t off = 0; off < n; off += strlen(buf + off) + 1)
		found += strncmp(buf + off, "LT_SANDBOX=", 11) == 0;
	CHECK_EQ(found, 1);
	CHECK_EQ(buf[n - 1], 0);
}

TEST(cmdline_of_self_ends_with_nul)
{
	char buf[4096];
	ssize_t n = readall("/proc/self/cmdline", buf, sizeof(buf));
	REQUIRE_GT(n, 0);
	CHECK_EQ(buf[n - 1], 0);
	char exe[4096] = {0};
	REQUIRE_GT(readlink("/proc/self/exe", exe, sizeof(exe) - 1), 0);
	/* argv[0] names this program; exe is its absolute path. */
	const char *b1 = strrchr(buf, '/') ? strrchr(buf, '/') + 1 : buf;
	const char *b2 = strrchr(exe, '/') + 1;
	CHECK_STREQ(b1, b2);
}

TEST(cmdline_small_reads)
{
	char *argv[] = {"/bin/sleep", "1000", NULL};
	char *envp[] = {NULL};
	pid_t pid = REQUIRE_OK(spawn_sleeper(argv, envp));
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	int fd = REQUIRE_OK(open(path, O_RDONLY));
	char buf[32] = {0};
	size_t n = 0;
	ssize_t r;
	while ((r = read(fd, buf + n, 3)) > 0)
		n += r;
	CHECK_EQ(n, 16);
	CHECK_MEMEQ(buf, "/bin/sleep\0" "1000", 16);
	kill(pid, SIGKILL);
	lt_wait_exit(pid);
}

TEST(zombie_cmdline_empty)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(0);
	siginfo_t si;
	REQUIRE_OK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	char path[64], buf[64];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	CHECK_EQ(readall(path, buf, sizeof(buf)), 0);
	lt_wait_exit(pid);
}

TEST(exe_link)
{
	char *argv[] = {"/bin/sleep", "1000", NULL};
	char *envp[] = {NULL};
	pid_t pid = REQUIRE_OK(spawn_sleeper(argv, envp));
	char path[64], buf[4096] = {0};
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	REQUIRE_GT(readlink(path, buf, sizeof(buf) - 1), 0);
	/* /bin may be a link to /usr/bin: compare the files. */
	struct stat a, b;
	REQUIRE_OK(stat(buf, &a));
	REQUIRE_OK(stat("/bin/sleep", &b));
	CHECK_EQ(a.st_ino, b.st_ino);
	CHECK_EQ(buf[0], '/');
	/* Opening the link opens the executable. */
	int fd = REQUIRE_OK(open(path, O_RDONLY));
	char elf[4];
	CHECK_EQ(read(fd, elf, 4), 4);
	CHECK_MEMEQ(elf, "\177ELF", 4);
	kill(pid, SIGKILL);
	lt_wait_exit(pid);
}

TEST(exe_after_fork_same)
{
	char a[4096] = {0}, b[4096] = {0};
	REQUIRE_GT(readlink("/proc/self/exe", a, sizeof(a) - 1), 0);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		pause();
		_exit(0);
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	REQUIRE_GT(readlink(path, b, sizeof(b) - 1), 0);
	CHECK_STREQ(a, b);
	kill(pid, SIGKILL);
	lt_wait_exit(pid);
}

TEST(comm_read_write)
{
	char buf[32] = {0};
	REQUIRE_OK(prctl(PR_SET_NAME, "abc"));
	CHECK_EQ(readall("/proc/self/comm", buf, sizeof(buf)), 4);
	CHECK_STREQ(buf, "abc\n");
	int fd = REQUIRE_OK(open("/proc/self/comm", O_WRONLY));
	CHECK_EQ(write(fd, "newname-that-is-too-long", 24), 24);
	close(fd);
	char name[17] = {0};
	REQUIRE_OK(prctl(PR_GET_NAME, name));
	CHECK_STREQ(name, "newname-that-is");
}

TEST(comm_after_exec_is_basename)
{
	char *argv[] = {"/bin/sleep", "1000", NULL};
	char *envp[] = {NULL};
	pid_t pid = REQUIRE_OK(spawn_sleeper(argv, envp));
	char path[64], buf[32] = {0};
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	CHECK_GT(readall(path, buf, sizeof(buf)), 0);
	CHECK_STREQ(buf, "sleep\n");
	kill(pid, SIGKILL);
	lt_wait_exit(pid);
}

TEST(environ_unreadable_by_other_user)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		pause();
		_exit(0);
	}
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	CHECK_ERR(open(path, O_RDONLY), EACCES);
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	CHECK_OK(open(path, O_RDONLY));
}

TEST(cmdline_after_argv_rewrite)
{
	/* Programs like nginx overwrite argv[0] in place to set a title;
	 * cmdline reads the memory at arg_start (stat field 48). */
	static char buf[4096];
	ssize_t n = readall("/proc/self/cmdline", buf, sizeof(buf));
	REQUIRE_GT(n, 2);
	const char *line = slurp("/proc/self/stat");
	REQUIRE(line != NULL);
	/* Fields 4.. follow ") S ". */
	char *p = strrchr(line, ')') + 4;
	unsigned long long v = 0;
	for (int i = 4; i <= 48; i++)
		v = strtoull(p, &p, 10);
	char *start = (char *)(unsigned long)v;
	REQUIRE(start != NULL);
	CHECK_STREQ(start, buf);
	start[0] = 'Z';
	n = readall("/proc/self/cmdline", buf, sizeof(buf));
	CHECK_EQ(buf[0], 'Z');
}
