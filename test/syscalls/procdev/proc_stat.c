/* /proc/PID/stat: the fields ps and top read. */
#include "lt.h"
#include "procfs.h"
#include <dirent.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>

/* stat_of reads /proc/PID/stat: the comm in comm, the fields after it in
 * f[3..] (numbered as in proc(5)); returns the number of the last field. */
static int stat_of(const char *path, char *comm, size_t commsz, char f[64][32])
{
	const char *s = slurp(path);
	if (s == NULL)
		return -1;
	const char *open = strchr(s, '(');
	const char *close = strrchr(s, ')');
	if (open == NULL || close == NULL || close < open)
		return -1;
	snprintf(comm, commsz, "%.*s", (int)(close - open - 1), open + 1);
	snprintf(f[1], 32, "%.*s", (int)(open - s - 1), s);
	int n = 2;
	for (const char *p = close + 1; *p && *p != '\n';) {
		while (*p == ' ')
			p++;
		if (!*p || *p == '\n')
			break;
		size_t l = strcspn(p, " \n");
		if (++n < 64)
			snprintf(f[n], 32, "%.*s", (int)l, p);
		p += l;
	}
	return n;
}

#define STAT(path)                                                             \
	char comm[64];                                                         \
	char f[64][32];                                                        \
	int nf = stat_of(path, comm, sizeof(comm), f);                         \
	REQUIRE_GT(nf, 0)

TEST(field_count)
{
	STAT("/proc/self/stat");
	CHECK_EQ(nf, 52);
}

TEST(pid_comm_state)
{
	STAT("/proc/self/stat");
	CHECK_EQ(atoi(f[1]), getpid());
	char name[16] = {0};
	REQUIRE_OK(prctl(PR_GET_NAME, name));
	CHECK_STREQ(comm, name);
	CHECK_STREQ(f[3], "R");
}

TEST(comm_with_spaces_and_parens)
{
	REQUIRE_OK(prctl(PR_SET_NAME, "a) (b c"));
	STAT("/proc/self/stat");
	CHECK_STREQ(comm, "a) (b c");
	CHECK_EQ(nf, 52);
	CHECK_STREQ(f[3], "R");
}

TEST(ppid_pgrp_session)
{
	STAT("/proc/self/stat");
	CHECK_EQ(atoi(f[4]), getppid());
	CHECK_EQ(atoi(f[5]), getpgrp());
	CHECK_EQ(atoi(f[6]), getsid(0));
	/* Every case runs in its own process group. */
	CHECK_EQ(atoi(f[5]), getpid());
}

TEST(new_session)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		if (setsid() < 0)
			_exit(1);
		char comm[64], f[64][32];
		if (stat_of("/proc/self/stat", comm, sizeof(comm), f) < 0)
			_exit(2);
		_exit(atoi(f[6]) == getpid() && atoi(f[5]) == getpid() && atoi(f[7]) == 0 ? 0 : 3);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

static void *sleeper(void *arg)
{
	(void)arg;
	pause();
	return NULL;
}

TEST(num_threads)
{
	STAT("/proc/self/stat");
	CHECK_EQ(atoi(f[20]), 1);
	pthread_t t[2];
	REQUIRE_EQ(pthread_create(&t[0], NULL, sleeper, NULL), 0);
	REQUIRE_EQ(pthread_create(&t[1], NULL, sleeper, NULL), 0);
	nf = stat_of("/proc/self/stat", comm, sizeof(comm), f);
	CHECK_EQ(atoi(f[20]), 3);
}

static volatile int spin_stop;

static void *spinner(void *arg)
{
	*(volatile pid_t *)arg = gettid();
	while (!spin_stop) {
	}
	return NULL;
}

/* thread_state returns the state letter of thread tid of this process. */
static char thread_state(pid_t tid)
{
	char path[64], comm[64], f[64][32];
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	return stat_of(path, comm, sizeof(comm), f) > 0 ? f[3][0] : '?';
}

/*
 * A thread running user code is R (running or runnable), one blocked in a
 * system call S: tests wait for S to know a thread is asleep in its call
 * (lt_wait_sleeping), so S must not be shown for a thread that is not.
 */
TEST(thread_states)
{
	volatile pid_t tid = 0;
	pthread_t th;
	REQUIRE_EQ(pthread_create(&th, NULL, spinner, (void *)&tid), 0);
	while (tid == 0)
		usleep(1000);
	/* It never sleeps: R whenever we look. */
	for (int i = 0; i < 20; i++) {
		CHECK_EQ(thread_state(tid), 'R');
		usleep(1000);
	}
	CHECK_EQ(thread_state(gettid()), 'R');
	spin_stop = 1;
	pthread_join(th, NULL);

	REQUIRE_EQ(pthread_create(&th, NULL, sleeper, NULL), 0);
	/* The sleeper is the thread other than us. */
	pid_t other = 0;
	for (int i = 0; i < 2000 && other == 0; i++) {
		DIR *d = opendir("/proc/self/task");
		REQUIRE(d != NULL);
		struct dirent *e;
		while ((e = readdir(d)) != NULL)
			if (atoi(e->d_name) > 0 && atoi(e->d_name) != gettid())
				other = atoi(e->d_name);
		closedir(d);
	}
	REQUIRE_GT(other, 0);
	CHECK_EQ(lt_wait_sleeping(getpid(), other), 0);
	CHECK_EQ(thread_state(other), 'S');
}

static volatile pid_t vforker;

static void *vfork_thread(void *arg)
{
	(void)arg;
	vforker = gettid();
	pid_t c = vfork();
	if (c == 0) {
		usleep(300000);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	return NULL;
}

/* A thread waiting for its vfork child is in an uninterruptible sleep. */
TEST(vfork_parent_disk_sleep)
{
	pthread_t th;
	REQUIRE_EQ(pthread_create(&th, NULL, vfork_thread, NULL), 0);
	while (vforker == 0)
		usleep(1000);
	char s = '?';
	for (int i = 0; i < 200 && s != 'D'; i++) {
		usleep(1000);
		s = thread_state(vforker);
	}
	CHECK_EQ(s, 'D');
	pthread_join(th, NULL);
}

TEST(vsize_grows_with_mmap)
{
	STAT("/proc/self/stat");
	unsigned long long before = strtoull(f[23], NULL, 10);
	CHECK_GT(before, 0);
	size_t len = 64 << 20;
	void *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(p != MAP_FAILED);
	nf = stat_of("/proc/self/stat", comm, sizeof(comm), f);
	unsigned long long after = strtoull(f[23], NULL, 10);
	CHECK_GE(after, before + len);
	munmap(p, len);
	nf = stat_of("/proc/self/stat", comm, sizeof(comm), f);
	CHECK_LT(strtoull(f[23], NULL, 10), after);
}

TEST(rss_grows_when_touched)
{
	STAT("/proc/self/stat");
	long before = atol(f[24]);
	CHECK_GT(before, 0);
	size_t len = 16 << 20;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(p != MAP_FAILED);
	for (size_t i = 0; i < len; i += 4096)
		p[i] = 1;
	nf = stat_of("/proc/self/stat", comm, sizeof(comm), f);
	long pages = len / 4096;
	CHECK_GE(atol(f[24]), before + pages * 9 / 10);
}

TEST(starttime_plausible)
{
	STAT("/proc/self/stat");
	unsigned long long start = strtoull(f[22], NULL, 10);
	double up = 0;
	const char *u = slurp("/proc/uptime");
	REQUIRE(u != NULL);
	REQUIRE_EQ(sscanf(u, "%lf", &up), 1);
	long hz = sysconf(_SC_CLK_TCK);
	CHECK_EQ(hz, 100);
	/* Started since boot, not in the future. */
	CHECK_LE(start, (unsigned long long)(up * hz) + 1);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		char c2[64], f2[64][32];
		if (stat_of("/proc/self/stat", c2, sizeof(c2), f2) < 0)
			_exit(2);
		_exit(strtoull(f2[22], NULL, 10) >= start ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(nice_and_priority)
{
	REQUIRE_OK(setpriority(PRIO_PROCESS, 0, 7));
	STAT("/proc/self/stat");
	CHECK_EQ(atoi(f[19]), 7);
	CHECK_EQ(atoi(f[18]), 27);
}

TEST(cpu_time_accumulates)
{
	struct timespec ts;
	do
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	while (ts.tv_sec == 0 && ts.tv_nsec < 300000000);
	STAT("/proc/self/stat");
	long ticks = atol(f[14]) + atol(f[15]);
	/* 300 ms of CPU are 30 ticks; allow for rounding. */
	CHECK_GE(ticks, 20);
}

TEST(child_states)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		pause();
		_exit(0);
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	char comm[64], f[64][32];
	/* Wait until it sleeps in pause. */
	for (int i = 0; i < 2000; i++) {
		if (stat_of(path, comm, sizeof(comm), f) > 0 && strcmp(f[3], "S") == 0)
			break;
		usleep(5000);
	}
	CHECK_STREQ(f[3], "S");
	CHECK_EQ(atoi(f[4]), getpid());
	CHECK_EQ(atoi(f[38]), SIGCHLD);
	REQUIRE_OK(kill(pid, SIGSTOP));
	for (int i = 0; i < 2000; i++) {
		if (stat_of(path, comm, sizeof(comm), f) > 0 && strcmp(f[3], "T") == 0)
			break;
		usleep(5000);
	}
	CHECK_STREQ(f[3], "T");
	REQUIRE_OK(kill(pid, SIGKILL));
	siginfo_t si;
	REQUIRE_OK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	stat_of(path, comm, sizeof(comm), f);
	CHECK_STREQ(f[3], "Z");
	CHECK_EQ(lt_wait_exit(pid), 128 + SIGKILL);
}

TEST(thread_stat_in_task_dir)
{
	pthread_t t;
	REQUIRE_EQ(pthread_create(&t, NULL, sleeper, NULL), 0);
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", getpid());
	STAT(path);
	CHECK_EQ(atoi(f[1]), getpid());
	CHECK_EQ(atoi(f[20]), 2);
}

TEST(self_is_pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", getpid());
	char c1[64], c2[64], f1[64][32], f2[64][32];
	REQUIRE_GT(stat_of(path, c1, sizeof(c1), f1), 0);
	REQUIRE_GT(stat_of("/proc/self/stat", c2, sizeof(c2), f2), 0);
	CHECK_STREQ(f1[1], f2[1]);
	CHECK_STREQ(c1, c2);
	CHECK_STREQ(f1[22], f2[22]);
}

TEST(statm_consistent_with_stat)
{
	STAT("/proc/self/stat");
	const char *s = slurp("/proc/self/statm");
	REQUIRE(s != NULL);
	unsigned long size, resident;
	REQUIRE_EQ(sscanf(s, "%lu %lu", &size, &resident), 2);
	/* statm's size is in pages; stat's vsize in bytes. */
	unsigned long long vsize = strtoull(f[23], NULL, 10);
	CHECK_LE(size * 4096 > vsize ? size * 4096 - vsize : vsize - size * 4096, 64 << 10);
	CHECK_GT(resident, 0);
}

TEST(nice_inherited_and_raw_getpriority)
{
	REQUIRE_OK(setpriority(PRIO_PROCESS, 0, 3));
	/* The raw system call returns 20 - nice. */
	CHECK_EQ(syscall(SYS_getpriority, PRIO_PROCESS, 0), 17);
	errno = 0;
	CHECK_EQ(getpriority(PRIO_PROCESS, 0), 3);
	CHECK_EQ(errno, 0);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		char comm[64], f[64][32];
		stat_of("/proc/self/stat", comm, sizeof(comm), f);
		_exit(atoi(f[19]) == 3 && getpriority(PRIO_PROCESS, 0) == 3 ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
	/* Out-of-range values are clamped. */
	REQUIRE_OK(setpriority(PRIO_PROCESS, 0, 100));
	CHECK_EQ(getpriority(PRIO_PROCESS, 0), 19);
}

TEST(nice_of_group_and_user)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		pause();
		_exit(0);
	}
	/* The child is in the case's process group. */
	REQUIRE_OK(setpriority(PRIO_PGRP, 0, 5));
	CHECK_EQ(getpriority(PRIO_PROCESS, pid), 5);
	CHECK_EQ(getpriority(PRIO_PGRP, getpgrp()), 5);
	REQUIRE_OK(setpriority(PRIO_PROCESS, pid, 9));
	/* The group's value is its highest priority (lowest nice). */
	CHECK_EQ(getpriority(PRIO_PGRP, 0), 5);
	CHECK_GE(getpriority(PRIO_USER, 0), -20);
	kill(pid, SIGKILL);
	lt_wait_exit(pid);
}

TEST(priority_errors)
{
	CHECK_ERR(setpriority(7, 0, 0), EINVAL);
	CHECK_ERR(syscall(SYS_getpriority, 7, 0), EINVAL);
	CHECK_ERR(setpriority(PRIO_PROCESS, 999999, 0), ESRCH);
	CHECK_ERR(syscall(SYS_getpriority, PRIO_PROCESS, 999999), ESRCH);
	CHECK_ERR(syscall(SYS_getpriority, PRIO_PGRP, 999999), ESRCH);
}

TEST(unprivileged_nice)
{
	pid_t other = REQUIRE_OK(fork());
	if (other == 0) {
		pause();
		_exit(0);
	}
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	REQUIRE_OK(setpriority(PRIO_PROCESS, 0, 5));
	/* Raising the nice value is allowed, lowering it again is not. */
	CHECK_ERR(setpriority(PRIO_PROCESS, 0, 2), EACCES);
	CHECK_EQ(getpriority(PRIO_PROCESS, 0), 5);
	/* Another user's process (root's child) cannot be changed. */
	CHECK_ERR(setpriority(PRIO_PROCESS, other, 10), EPERM);
}
