/* times and getrusage: own, children's and thread CPU times. */
#include "lt.h"

#include <pthread.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <time.h>

static int64_t tv_us(struct timeval tv)
{
	return tv.tv_sec * 1000000LL + tv.tv_usec;
}

/* burn spins in user mode until the thread has used ns of CPU. */
static void burn(int64_t ns)
{
	struct timespec a, b;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	do {
		for (volatile int i = 0; i < 100000; i++)
			;
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	} while ((b.tv_sec - a.tv_sec) * 1000000000LL + b.tv_nsec - a.tv_nsec < ns);
}

TEST(times_returns_ticks_and_grows)
{
	struct tms t0, t1;
	clock_t c0 = times(&t0);
	CHECK_NE(c0, (clock_t)-1);
	burn(100000000);
	clock_t c1 = times(&t1);
	CHECK_GE(c1, c0);
	long hz = sysconf(_SC_CLK_TCK);
	CHECK_EQ(hz, 100);
	/* 100 ms of CPU is about 10 ticks of user+system time. */
	CHECK_GE((t1.tms_utime + t1.tms_stime) - (t0.tms_utime + t0.tms_stime), 5);
}

TEST(times_null_buffer)
{
	CHECK_NE(syscall(SYS_times, NULL), -1);
}

TEST(times_efault)
{
	CHECK_ERR(syscall(SYS_times, (void *)1), EFAULT);
}

TEST(times_children_after_wait)
{
	struct tms t;
	times(&t);
	CHECK_EQ(t.tms_cutime + t.tms_cstime, 0);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		burn(100000000);
		_exit(0);
	}
	/* Not counted before the wait... */
	siginfo_t si;
	REQUIRE_OK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	times(&t);
	CHECK_EQ(t.tms_cutime + t.tms_cstime, 0);
	/* ...but after it. */
	CHECK_EQ(lt_wait_exit(pid), 0);
	times(&t);
	CHECK_GE(t.tms_cutime + t.tms_cstime, 5);
}

TEST(rusage_self_grows)
{
	struct rusage a, b;
	REQUIRE_OK(getrusage(RUSAGE_SELF, &a));
	burn(50000000);
	REQUIRE_OK(getrusage(RUSAGE_SELF, &b));
	int64_t d = tv_us(b.ru_utime) + tv_us(b.ru_stime) - tv_us(a.ru_utime) - tv_us(a.ru_stime);
	CHECK_GE(d, 40000);
	CHECK_GT(b.ru_maxrss, 0);
	CHECK_GE(b.ru_utime.tv_usec, 0);
	CHECK_LT(b.ru_utime.tv_usec, 1000000);
}

TEST(rusage_children)
{
	struct rusage r;
	REQUIRE_OK(getrusage(RUSAGE_CHILDREN, &r));
	CHECK_EQ(tv_us(r.ru_utime) + tv_us(r.ru_stime), 0);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		burn(100000000);
		_exit(0);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
	REQUIRE_OK(getrusage(RUSAGE_CHILDREN, &r));
	CHECK_GE(tv_us(r.ru_utime) + tv_us(r.ru_stime), 80000);
}

TEST(rusage_grandchildren_via_wait)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		pid_t gc = fork();
		if (gc == 0) {
			burn(100000000);
			_exit(0);
		}
		waitpid(gc, NULL, 0);
		_exit(0);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
	struct rusage r;
	REQUIRE_OK(getrusage(RUSAGE_CHILDREN, &r));
	/* A waited-for child brings its own waited-for children's time. */
	CHECK_GE(tv_us(r.ru_utime) + tv_us(r.ru_stime), 80000);
}

static void *burner(void *arg)
{
	(void)arg;
	burn(100000000);
	return NULL;
}

TEST(rusage_thread_vs_self)
{
	pthread_t th;
	REQUIRE_EQ(pthread_create(&th, NULL, burner, NULL), 0);
	pthread_join(th, NULL);
	struct rusage self, thread;
	REQUIRE_OK(getrusage(RUSAGE_SELF, &self));
	REQUIRE_OK(getrusage(RUSAGE_THREAD, &thread));
	/* The exited thread's time stays in the process total. */
	CHECK_GE(tv_us(self.ru_utime) + tv_us(self.ru_stime), 80000);
	CHECK_LT(tv_us(thread.ru_utime) + tv_us(thread.ru_stime),
		 tv_us(self.ru_utime) + tv_us(self.ru_stime));
}

TEST(process_clock_keeps_exited_thread_time)
{
	pthread_t th;
	REQUIRE_EQ(pthread_create(&th, NULL, burner, NULL), 0);
	pthread_join(th, NULL);
	struct timespec ts;
	REQUIRE_OK(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts));
	CHECK_GE(ts.tv_sec * 1000000000LL + ts.tv_nsec, 100000000);
}

TEST(rusage_errors)
{
	struct rusage r;
	CHECK_ERR(getrusage(5, &r), EINVAL);
	CHECK_ERR(getrusage(-3, &r), EINVAL);
	CHECK_ERR(syscall(SYS_getrusage, RUSAGE_SELF, (void *)1), EFAULT);
}

TEST(rusage_both_is_einval_for_getrusage)
{
	/* RUSAGE_BOTH (-2) is only for wait4's internal use. */
	struct rusage r;
	CHECK_ERR(getrusage(-2, &r), EINVAL);
}

TEST(wait4_rusage_of_child)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		burn(100000000);
		_exit(0);
	}
	struct rusage r;
	int st;
	REQUIRE_EQ(wait4(pid, &st, 0, &r), pid);
	CHECK_GE(tv_us(r.ru_utime) + tv_us(r.ru_stime), 80000);
}
