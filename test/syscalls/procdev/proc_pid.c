/* /proc/PID directories: life cycle, listing, ownership, self links. */
#include "lt.h"
#include "procfs.h"
#include <dirent.h>
#include <pthread.h>
#include <sys/syscall.h>

static pid_t sleeper(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid;
}

static int exists(pid_t pid)
{
	char p[64];
	struct stat st;
	snprintf(p, sizeof(p), "/proc/%d", pid);
	return stat(p, &st) == 0;
}

static int listed(const char *dir, pid_t pid)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return -1;
	int found = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (atoi(de->d_name) == pid && de->d_type == DT_DIR)
			found++;
	closedir(d);
	return found;
}

TEST(child_dir_lifecycle)
{
	pid_t pid = REQUIRE_OK(sleeper());
	CHECK(exists(pid));
	CHECK_EQ(listed("/proc", pid), 1);
	REQUIRE_OK(kill(pid, SIGKILL));
	siginfo_t si;
	REQUIRE_OK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	/* A zombie still has its directory. */
	CHECK(exists(pid));
	lt_wait_exit(pid);
	CHECK(!exists(pid));
	CHECK_EQ(listed("/proc", pid), 0);
}

TEST(open_dir_of_reaped_process)
{
	pid_t pid = REQUIRE_OK(sleeper());
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d", pid);
	int d = REQUIRE_OK(open(p, O_RDONLY | O_DIRECTORY));
	int s = REQUIRE_OK(openat(d, "stat", O_RDONLY));
	kill(pid, SIGKILL);
	lt_wait_exit(pid);
	/* The directory of a dead process lists nothing, not even ".". */
	char buf[1024];
	CHECK_ERR(syscall(SYS_getdents64, d, buf, sizeof(buf)), ENOENT);
	/* A file opened before reads ESRCH, and so do lookups in it. */
	CHECK_ERR(read(s, buf, sizeof(buf)), ESRCH);
	CHECK_ERR(openat(d, "status", O_RDONLY), ESRCH);
	struct stat st;
	CHECK_ERR(fstatat(d, "stat", &st, 0), ESRCH);
	/* The open directory itself still has its attributes; its path is gone. */
	CHECK_OK(fstat(d, &st));
	CHECK(S_ISDIR(st.st_mode));
	CHECK_ERR(stat(p, &st), ENOENT);
}

TEST(self_and_thread_self_links)
{
	char buf[64] = {0}, want[64];
	REQUIRE_GT(readlink("/proc/self", buf, sizeof(buf) - 1), 0);
	snprintf(want, sizeof(want), "%d", getpid());
	CHECK_STREQ(buf, want);
	memset(buf, 0, sizeof(buf));
	REQUIRE_GT(readlink("/proc/thread-self", buf, sizeof(buf) - 1), 0);
	snprintf(want, sizeof(want), "%d/task/%d", getpid(), gettid());
	CHECK_STREQ(buf, want);
}

static void *thread_self(void *arg)
{
	char *out = arg;
	if (readlink("/proc/thread-self", out, 63) < 0)
		out[0] = 0;
	*(pid_t *)(out + 64) = gettid();
	return NULL;
}

TEST(thread_self_in_thread)
{
	char buf[128] = {0};
	pthread_t t;
	REQUIRE_EQ(pthread_create(&t, NULL, thread_self, buf), 0);
	pthread_join(t, NULL);
	char want[64];
	snprintf(want, sizeof(want), "%d/task/%d", getpid(), *(pid_t *)(buf + 64));
	CHECK_STREQ(buf, want);
}

static void *park(void *arg)
{
	(void)arg;
	pause();
	return NULL;
}

TEST(task_dir_lists_threads)
{
	pthread_t t;
	REQUIRE_EQ(pthread_create(&t, NULL, park, NULL), 0);
	DIR *d = opendir("/proc/self/task");
	REQUIRE(d != NULL);
	int n = 0, me = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		n++;
		me += atoi(de->d_name) == getpid();
	}
	closedir(d);
	CHECK_EQ(n, 2);
	CHECK_EQ(me, 1);
}

TEST(threads_not_listed_in_proc_but_reachable)
{
	pid_t tid = 0;
	pthread_t t;
	REQUIRE_EQ(pthread_create(&t, NULL, park, NULL), 0);
	/* Find the other thread's id through the task directory. */
	DIR *d = opendir("/proc/self/task");
	REQUIRE(d != NULL);
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && atoi(de->d_name) != getpid())
			tid = atoi(de->d_name);
	closedir(d);
	REQUIRE_GT(tid, 0);
	CHECK_EQ(listed("/proc", tid), 0);
	/* /proc/TID works for a thread although readdir does not show it. */
	CHECK(exists(tid));
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/status", tid);
	const char *s = slurp(p);
	REQUIRE(s != NULL);
	CHECK_EQ(field_ll(s, "Tgid"), getpid());
}

TEST(owner_follows_credentials)
{
	int go[2];
	REQUIRE_OK(pipe(go));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		if (setresgid(1234, 1234, 1234) < 0 || setresuid(4321, 4321, 4321) < 0)
			_exit(1);
		close(go[1]);
		char c;
		(void)!read(go[0], &c, 1);
		_exit(0);
	}
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d", pid);
	struct stat st = {0};
	for (int i = 0; i < 2000; i++) {
		REQUIRE_OK(stat(p, &st));
		if (st.st_uid == 4321)
			break;
		usleep(5000);
	}
	CHECK_EQ(st.st_uid, 4321);
	CHECK_EQ(st.st_gid, 1234);
	CHECK(S_ISDIR(st.st_mode));
	CHECK_EQ(st.st_mode & 0777, 0555);
	close(go[1]);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(nonexistent_pid)
{
	struct stat st;
	CHECK_ERR(stat("/proc/999999", &st), ENOENT);
	CHECK_ERR(stat("/proc/999999/status", &st), ENOENT);
	CHECK_ERR(stat("/proc/0", &st), ENOENT);
	CHECK_ERR(stat("/proc/-1", &st), ENOENT);
}

TEST(pid_1_is_the_program)
{
	/* Natively and in the sandbox the test program runs as PID 1. */
	CHECK(exists(1));
	const char *s = slurp("/proc/1/status");
	REQUIRE(s != NULL);
	CHECK_EQ(field_ll(s, "PPid"), 0);
}

TEST(cwd_and_root_of_child)
{
	REQUIRE_OK(chdir("/proc"));
	pid_t pid = REQUIRE_OK(sleeper());
	char p[64], buf[256] = {0};
	snprintf(p, sizeof(p), "/proc/%d/cwd", pid);
	REQUIRE_GT(readlink(p, buf, sizeof(buf) - 1), 0);
	CHECK_STREQ(buf, "/proc");
	memset(buf, 0, sizeof(buf));
	snprintf(p, sizeof(p), "/proc/%d/root", pid);
	REQUIRE_GT(readlink(p, buf, sizeof(buf) - 1), 0);
	CHECK_STREQ(buf, "/");
	kill(pid, SIGKILL);
	lt_wait_exit(pid);
}

TEST(pid_dir_entries)
{
	const char *want[] = {"cmdline", "comm", "cwd", "environ", "exe", "fd", "fdinfo", "limits", "maps",
			      "mountinfo", "mounts", "root", "stat", "statm", "status", "task", "cgroup"};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char p[64];
		struct stat st;
		snprintf(p, sizeof(p), "/proc/self/%s", want[i]);
		if (lstat(p, &st) < 0)
			FAIL("%s: %s", p, strerror(errno));
	}
}

TEST(dir_not_writable)
{
	struct stat st;
	REQUIRE_OK(stat("/proc/self", &st));
	CHECK_ERR(mkdir("/proc/self/x", 0700), ENOENT);
	CHECK_ERR(open("/proc/self/newfile", O_CREAT | O_WRONLY, 0600), ENOENT);
	CHECK_ERR(unlink("/proc/self/status"), EPERM);
	CHECK_ERR(symlink("x", "/proc/self/newlink"), ENOENT);
	CHECK_ERR(mkdir("/proc/newdir", 0700), ENOENT);
}
