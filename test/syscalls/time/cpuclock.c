/* CPU-time clocks named by clock_getcpuclockid and pthread_getcpuclockid:
 * of self, of another process, of a thread; errors. */
#include "lt.h"

#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>

static int64_t ns(struct timespec ts)
{
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	if (syscall(SYS_clock_gettime, id, &ts) != 0)
		return -1;
	return ns(ts);
}

static void burn_cpu(int64_t want_ns)
{
	int64_t a = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	while (clock_ns(CLOCK_THREAD_CPUTIME_ID) - a < want_ns)
		;
}

/* Linux's encoding of CPU clock IDs (include/linux/posix-timers.h). */
#define CPUCLOCK_PROF 0
#define CPUCLOCK_VIRT 1
#define CPUCLOCK_SCHED 2
#define CPUCLOCK_PERTHREAD_MASK 4
static clockid_t make_clock(pid_t pid, int type, int thread)
{
	return ((~(clockid_t)pid) << 3) | type | (thread ? CPUCLOCK_PERTHREAD_MASK : 0);
}

TEST(getcpuclockid_self_encoding)
{
	clockid_t cid;
	REQUIRE_EQ(clock_getcpuclockid(getpid(), &cid), 0);
	CHECK_EQ(cid, make_clock(getpid(), CPUCLOCK_SCHED, 0));
	REQUIRE_EQ(clock_getcpuclockid(0, &cid), 0);
	CHECK_EQ(cid, make_clock(0, CPUCLOCK_SCHED, 0));
}

TEST(self_clock_tracks_process_cputime)
{
	clockid_t cid;
	REQUIRE_EQ(clock_getcpuclockid(getpid(), &cid), 0);
	burn_cpu(30000000);
	int64_t a = clock_ns(cid), p = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	int64_t b = clock_ns(cid);
	CHECK_GE(a, 30000000);
	CHECK_LE(a, p);
	CHECK_LE(p, b);
}

TEST(pid_zero_means_self)
{
	int64_t a = clock_ns(make_clock(0, CPUCLOCK_SCHED, 0));
	CHECK_GE(a, 0);
	CHECK_LE(a, clock_ns(CLOCK_PROCESS_CPUTIME_ID));
}

TEST(other_process_clock)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		burn_cpu(100000000);
		write(p[1], "x", 1);
		for (;;)
			pause();
	}
	char c;
	REQUIRE_EQ(read(p[0], &c, 1), 1);
	clockid_t cid;
	REQUIRE_EQ(clock_getcpuclockid(pid, &cid), 0);
	int64_t t = clock_ns(cid);
	CHECK_GE(t, 100000000);
	/* Our own CPU time is unrelated: we mostly slept. */
	kill(pid, SIGKILL);
	lt_wait_exit(pid);
	/* Gone: its clock is invalid. */
	struct timespec ts;
	CHECK_ERR(syscall(SYS_clock_gettime, cid, &ts), EINVAL);
}

TEST(nonexistent_pid)
{
	clockid_t cid;
	CHECK_EQ(clock_getcpuclockid(999999, &cid), ESRCH);
	struct timespec ts;
	CHECK_ERR(syscall(SYS_clock_gettime, make_clock(999999, CPUCLOCK_SCHED, 0), &ts), EINVAL);
	CHECK_ERR(syscall(SYS_clock_getres, make_clock(999999, CPUCLOCK_SCHED, 0), &ts), EINVAL);
}

TEST(prof_and_virt_clocks)
{
	burn_cpu(30000000);
	int64_t prof = clock_ns(make_clock(getpid(), CPUCLOCK_PROF, 0));
	int64_t virt = clock_ns(make_clock(getpid(), CPUCLOCK_VIRT, 0));
	int64_t sched = clock_ns(make_clock(getpid(), CPUCLOCK_SCHED, 0));
	CHECK_GE(prof, 0);
	CHECK_GE(virt, 0);
	CHECK_LE(virt, prof + 20000000); /* user <= user+system (tick-granular) */
	CHECK_GE(sched, 30000000);
}

TEST(invalid_clock_type_einval)
{
	struct timespec ts;
	/* Type 3 does not exist. */
	CHECK_ERR(syscall(SYS_clock_gettime, make_clock(getpid(), 3, 0), &ts), EINVAL);
}

static void *burner(void *arg)
{
	volatile int *stop = arg;
	while (!*stop)
		;
	return NULL;
}

TEST(pthread_getcpuclockid_of_thread)
{
	volatile int stop = 0;
	pthread_t th;
	REQUIRE_EQ(pthread_create(&th, NULL, burner, (void *)&stop), 0);
	clockid_t cid;
	REQUIRE_EQ(pthread_getcpuclockid(th, &cid), 0);
	CHECK_LT(cid, 0);
	CHECK_EQ(cid & CPUCLOCK_PERTHREAD_MASK, CPUCLOCK_PERTHREAD_MASK);
	int64_t a = clock_ns(cid);
	int64_t deadline = clock_ns(CLOCK_MONOTONIC) + 10000000000LL;
	while (clock_ns(cid) - a < 20000000 && clock_ns(CLOCK_MONOTONIC) < deadline)
		usleep(1000);
	int64_t b = clock_ns(cid);
	CHECK_GE(b - a, 20000000);
	stop = 1;
	pthread_join(th, NULL);
}

TEST(own_thread_clock)
{
	clockid_t cid;
	REQUIRE_EQ(pthread_getcpuclockid(pthread_self(), &cid), 0);
	burn_cpu(10000000);
	int64_t a = clock_ns(cid);
	int64_t b = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	CHECK_GE(a, 10000000);
	CHECK_LE(a, b);
	/* And the raw encoding of our TID. */
	CHECK_GE(clock_ns(make_clock(gettid(), CPUCLOCK_SCHED, 1)), a);
}

TEST(thread_clock_of_other_process_einval)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		for (;;)
			pause();
	}
	struct timespec ts;
	/* A thread clock must name a thread of the caller's process. */
	CHECK_ERR(syscall(SYS_clock_gettime, make_clock(pid, CPUCLOCK_SCHED, 1), &ts), EINVAL);
	kill(pid, SIGKILL);
	lt_wait_exit(pid);
}
