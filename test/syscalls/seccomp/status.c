/* /proc/PID/status: NoNewPrivs, Seccomp and Seccomp_filters. */
#include "lt_seccomp.h"

#include <pthread.h>

/* field returns the value of a field of a status file, or -1. */
static long field(const char *path, const char *name)
{
	char buf[4096], key[64];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	snprintf(key, sizeof(key), "\n%s:\t", name);
	char *p = strstr(buf, key);
	return p ? atol(p + strlen(key)) : -1;
}

/* status_field reads a field of /proc/PID/status. */
static long status_field(pid_t pid, const char *name)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	return field(path, name);
}

static struct sock_filter allow_all[] = {
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};

TEST(no_filter)
{
	CHECK_EQ(status_field(getpid(), "Seccomp"), 0);
	CHECK_EQ(status_field(getpid(), "Seccomp_filters"), 0);
	CHECK_EQ(status_field(getpid(), "NoNewPrivs"), 0);
}

TEST(no_new_privs_shown)
{
	REQUIRE_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	CHECK_EQ(status_field(getpid(), "NoNewPrivs"), 1);
	CHECK_EQ(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 1);
}

TEST(filters_counted)
{
	REQUIRE_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	for (int i = 1; i <= 3; i++) {
		REQUIRE_EQ(LT_FILTER(allow_all), 0);
		CHECK_EQ(status_field(getpid(), "Seccomp"), 2);
		CHECK_EQ(status_field(getpid(), "Seccomp_filters"), i);
	}
}

TEST(failed_install_not_counted)
{
	REQUIRE_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	struct sock_filter bad[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0)};
	CHECK_ERR(LT_FILTER(bad), EINVAL);
	CHECK_EQ(status_field(getpid(), "Seccomp_filters"), 0);
}

TEST(child_seen_by_parent)
{
	int ready[2], done[2];
	REQUIRE_OK(pipe(ready));
	REQUIRE_OK(pipe(done));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		LT_FILTER(allow_all);
		LT_FILTER(allow_all);
		write(ready[1], "r", 1);
		char c;
		read(done[0], &c, 1);
		_exit(0);
	}
	char c;
	REQUIRE_EQ(read(ready[0], &c, 1), 1);
	CHECK_EQ(status_field(pid, "Seccomp"), 2);
	CHECK_EQ(status_field(pid, "Seccomp_filters"), 2);
	CHECK_EQ(status_field(pid, "NoNewPrivs"), 1);
	/* The parent has none of it. */
	CHECK_EQ(status_field(getpid(), "Seccomp"), 0);
	REQUIRE_EQ(write(done[1], "d", 1), 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(fork_inherits_count)
{
	REQUIRE_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	REQUIRE_EQ(LT_FILTER(allow_all), 0);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(status_field(getpid(), "Seccomp_filters") == 1 && status_field(getpid(), "Seccomp") == 2 ? 0 : 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(strict_mode_shown)
{
	int ready[2], done[2];
	REQUIRE_OK(pipe(ready));
	REQUIRE_OK(pipe(done));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0) != 0)
			syscall(SYS_exit, 1);
		write(ready[1], "r", 1);
		char c;
		read(done[0], &c, 1);
		syscall(SYS_exit, 0);
	}
	char c;
	REQUIRE_EQ(read(ready[0], &c, 1), 1);
	CHECK_EQ(status_field(pid, "Seccomp"), 1);
	CHECK_EQ(status_field(pid, "Seccomp_filters"), 0);
	REQUIRE_EQ(write(done[1], "d", 1), 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

static volatile pid_t other_tid;
static volatile int other_stop;

static void *park(void *arg)
{
	(void)arg;
	other_tid = gettid();
	while (!other_stop)
		usleep(1000);
	return NULL;
}

/* task_field reads a field of /proc/self/task/TID/status. */
static long task_field(pid_t tid, const char *name)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
	return field(path, name);
}

TEST(per_thread_and_tsync)
{
	pthread_t th;
	REQUIRE_EQ(pthread_create(&th, NULL, park, NULL), 0);
	while (!other_tid)
		usleep(1000);
	REQUIRE_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	REQUIRE_EQ(LT_FILTER(allow_all), 0);
	/* Without TSYNC the other thread has no filter... */
	CHECK_EQ(task_field(gettid(), "Seccomp_filters"), 1);
	CHECK_EQ(task_field(other_tid, "Seccomp_filters"), 0);
	CHECK_EQ(task_field(other_tid, "Seccomp"), 0);
	/* no_new_privs was set for the calling thread only. */
	CHECK_EQ(task_field(other_tid, "NoNewPrivs"), 0);
	/* ...with it, it gets the caller's chain and no_new_privs. */
	CHECK_EQ(lt_filter_flags(allow_all, 1, SECCOMP_FILTER_FLAG_TSYNC), 0);
	CHECK_EQ(task_field(other_tid, "Seccomp_filters"), 2);
	CHECK_EQ(task_field(other_tid, "Seccomp"), 2);
	CHECK_EQ(task_field(other_tid, "NoNewPrivs"), 1);
	other_stop = 1;
	pthread_join(th, NULL);
}
