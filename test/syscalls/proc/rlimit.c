/* getrlimit, setrlimit, prlimit64 and the limits the kernel enforces. */
#include "lt.h"
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>

static void set_nofile(rlim_t cur)
{
	struct rlimit rl = {cur, cur};
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		ABORT("setrlimit: %s", strerror(errno));
}

TEST(set_get_round_trip)
{
	struct rlimit rl = {50, 60}, got;
	REQUIRE_OK(setrlimit(RLIMIT_NOFILE, &rl));
	REQUIRE_OK(getrlimit(RLIMIT_NOFILE, &got));
	CHECK_EQ(got.rlim_cur, 50);
	CHECK_EQ(got.rlim_max, 60);
	struct rlimit inf = {RLIM_INFINITY, RLIM_INFINITY};
	REQUIRE_OK(setrlimit(RLIMIT_CORE, &inf));
	REQUIRE_OK(getrlimit(RLIMIT_CORE, &got));
	CHECK_EQ(got.rlim_cur, RLIM_INFINITY);
}

TEST(nofile_enforced_by_open_dup_pipe)
{
	set_nofile(10);
	int fds[16], n = 0;
	for (;;) {
		int fd = open("/dev/null", O_RDONLY);
		if (fd < 0) {
			CHECK_EQ(errno, EMFILE);
			break;
		}
		fds[n++] = fd;
		REQUIRE(n < 16);
	}
	CHECK_EQ(fds[n - 1], 9);
	CHECK_ERR(dup(0), EMFILE);
	int p[2];
	CHECK_ERR(pipe(p), EMFILE);
	close(fds[n - 1]);
	CHECK_EQ(dup(0), 9);
}

TEST(nofile_bounds_dup2_and_dupfd)
{
	set_nofile(10);
	CHECK_ERR(dup2(0, 10), EBADF);
	CHECK_EQ(dup2(0, 9), 9);
	CHECK_ERR(fcntl(0, F_DUPFD, 10), EINVAL);
	CHECK_ERR(fcntl(0, F_DUPFD_CLOEXEC, 100), EINVAL);
}

TEST(nofile_above_nr_open_eperm)
{
	struct rlimit rl = {1 << 30, 1 << 30};
	CHECK_ERR(setrlimit(RLIMIT_NOFILE, &rl), EPERM);
}

TEST(fsize_sigxfsz_kills)
{
	int fd = REQUIRE_OK(open(lt_path("f"), O_WRONLY | O_CREAT, 0600));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		struct rlimit rl = {10, 10};
		setrlimit(RLIMIT_FSIZE, &rl);
		(void)!write(fd, "0123456789abcdef", 16);
		(void)!write(fd, "x", 1);
		_exit(0);
	}
	int st;
	REQUIRE_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFSIGNALED(st));
	CHECK_EQ(WTERMSIG(st), SIGXFSZ);
	struct stat sb;
	REQUIRE_OK(fstat(fd, &sb));
	CHECK_EQ(sb.st_size, 10);
}

TEST(fsize_efbig_when_ignored)
{
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit rl = {10, 10};
	REQUIRE_OK(setrlimit(RLIMIT_FSIZE, &rl));
	int fd = REQUIRE_OK(open(lt_path("f"), O_WRONLY | O_CREAT, 0600));
	/* A write crossing the limit is cut short; one starting at it fails. */
	CHECK_EQ(write(fd, "0123456789abcdef", 16), 10);
	CHECK_ERR(write(fd, "x", 1), EFBIG);
	CHECK_ERR(pwrite(fd, "x", 1, 100), EFBIG);
	CHECK_ERR(ftruncate(fd, 11), EFBIG);
	CHECK_OK(ftruncate(fd, 5));
}

TEST(stack_reported)
{
	struct rlimit rl;
	REQUIRE_OK(getrlimit(RLIMIT_STACK, &rl));
	CHECK_GT(rl.rlim_cur, 0);
	struct rlimit set = {4 << 20, rl.rlim_max};
	REQUIRE_OK(setrlimit(RLIMIT_STACK, &set));
	REQUIRE_OK(getrlimit(RLIMIT_STACK, &rl));
	CHECK_EQ(rl.rlim_cur, 4 << 20);
	FILE *f = fopen("/proc/self/limits", "r");
	REQUIRE(f != NULL);
	char line[256];
	long soft = -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "Max stack size", 14) == 0)
			sscanf(line + 26, "%ld", &soft);
	fclose(f);
	CHECK_EQ(soft, 4 << 20);
}

TEST(as_limits_mmap)
{
	struct rlimit rl = {512 << 20, 512 << 20};
	FILE *f = fopen("/proc/self/status", "r");
	REQUIRE(f != NULL);
	char line[256];
	long vm_kb = -1;
	while (fgets(line, sizeof(line), f))
		sscanf(line, "VmSize: %ld kB", &vm_kb);
	fclose(f);
	REQUIRE_GT(vm_kb, 0);
	rl.rlim_cur = rl.rlim_max = vm_kb * 1024 + (32 << 20);
	REQUIRE_OK(setrlimit(RLIMIT_AS, &rl));
	CHECK_ERR(mmap(NULL, 64 << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
		  ENOMEM);
	CHECK(mmap(NULL, 1 << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) !=
	      MAP_FAILED);
}

TEST(as_limits_brk_and_mremap)
{
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(p != MAP_FAILED);
	FILE *f = fopen("/proc/self/status", "r");
	REQUIRE(f != NULL);
	char line[256];
	long vm_kb = -1;
	while (fgets(line, sizeof(line), f))
		sscanf(line, "VmSize: %ld kB", &vm_kb);
	fclose(f);
	struct rlimit rl;
	rl.rlim_cur = rl.rlim_max = vm_kb * 1024 + (8 << 20);
	REQUIRE_OK(setrlimit(RLIMIT_AS, &rl));
	CHECK_ERR(mremap(p, 4096, 64 << 20, MREMAP_MAYMOVE), ENOMEM);
	char *b = (char *)syscall(SYS_brk, 0);
	CHECK_EQ((char *)syscall(SYS_brk, b + (64 << 20)), b);
	CHECK_EQ((char *)syscall(SYS_brk, b + 4096), b + 4096);
}

TEST(cur_above_max_einval)
{
	struct rlimit rl = {100, 50};
	CHECK_ERR(setrlimit(RLIMIT_NOFILE, &rl), EINVAL);
	CHECK_ERR(setrlimit(99, &rl), EINVAL);
	CHECK_ERR(getrlimit(99, &rl), EINVAL);
	CHECK_ERR(getrlimit(RLIMIT_NOFILE, (struct rlimit *)1), EFAULT);
}

TEST(unprivileged_cannot_raise_max)
{
	struct rlimit rl = {100, 200};
	REQUIRE_OK(setrlimit(RLIMIT_NOFILE, &rl));
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	struct rlimit up = {100, 300};
	CHECK_ERR(setrlimit(RLIMIT_NOFILE, &up), EPERM);
	struct rlimit down = {50, 150};
	CHECK_OK(setrlimit(RLIMIT_NOFILE, &down));
	struct rlimit back = {50, 200};
	CHECK_ERR(setrlimit(RLIMIT_NOFILE, &back), EPERM);
}

TEST(prlimit_other_process)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		char c;
		close(p[1]);
		(void)!read(p[0], &c, 1);
		struct rlimit rl;
		getrlimit(RLIMIT_NOFILE, &rl);
		_exit(rl.rlim_cur == 77 && rl.rlim_max == 88 ? 0 : 1);
	}
	struct rlimit nl = {77, 88}, old;
	REQUIRE_OK(prlimit(pid, RLIMIT_NOFILE, &nl, &old));
	CHECK_GT(old.rlim_cur, 0);
	struct rlimit got;
	REQUIRE_OK(prlimit(pid, RLIMIT_NOFILE, NULL, &got));
	CHECK_EQ(got.rlim_cur, 77);
	close(p[1]);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(prlimit_errors)
{
	struct rlimit rl;
	CHECK_ERR(prlimit(999999, RLIMIT_NOFILE, NULL, &rl), ESRCH);
	CHECK_OK(prlimit(0, RLIMIT_NOFILE, NULL, &rl));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		pause();
		_exit(0);
	}
	pid_t me = REQUIRE_OK(fork());
	if (me == 0) {
		/* Another user's process may not be read or changed. */
		if (setresuid(65534, 65534, 65534) < 0)
			_exit(2);
		_exit(prlimit(pid, RLIMIT_NOFILE, NULL, &rl) == -1 && errno == EPERM ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(me), 0);
	kill(pid, SIGKILL);
	lt_wait_exit(pid);
}
