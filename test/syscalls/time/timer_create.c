/* POSIX timers (raw timer_create & co.): notifications, values,
 * intervals, overruns, absolute times, deletion and errors. */
#include "lt.h"

#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

static int tcreate(clockid_t clock, struct sigevent *sev, int *id)
{
	return syscall(SYS_timer_create, clock, sev, id);
}

static int tset(int id, int flags, int64_t value_ns, int64_t interval_ns, struct itimerspec *old)
{
	struct itimerspec its = {
		.it_interval = {interval_ns / 1000000000, interval_ns % 1000000000},
		.it_value = {value_ns / 1000000000, value_ns % 1000000000},
	};
	return syscall(SYS_timer_settime, id, flags, &its, old);
}

static int64_t its_value(struct itimerspec its)
{
	return its.it_value.tv_sec * 1000000000LL + its.it_value.tv_nsec;
}

static int64_t now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static sigset_t block(int sig)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	sigprocmask(SIG_BLOCK, &s, NULL);
	return s;
}

static struct sigevent sig_event(int sig, int value)
{
	struct sigevent sev;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = sig;
	sev.sigev_value.sival_int = value;
	return sev;
}

TEST(signal_with_value_and_timerid)
{
	sigset_t s = block(SIGRTMIN);
	struct sigevent sev = sig_event(SIGRTMIN, 77);
	int id = -1;
	REQUIRE_OK(tcreate(CLOCK_MONOTONIC, &sev, &id));
	CHECK_GE(id, 0);
	REQUIRE_OK(tset(id, 0, 10000000, 0, NULL));
	siginfo_t si;
	REQUIRE_EQ(sigwaitinfo(&s, &si), SIGRTMIN);
	CHECK_EQ(si.si_code, SI_TIMER);
	CHECK_EQ(si.si_value.sival_int, 77);
	CHECK_EQ(si.si_timerid, id);
	CHECK_EQ(si.si_overrun, 0);
}

TEST(null_sigevent_is_sigalrm_with_id)
{
	alarm(0);
	sigset_t s = block(SIGALRM);
	int id = -1;
	REQUIRE_OK(tcreate(CLOCK_REALTIME, NULL, &id));
	REQUIRE_OK(tset(id, 0, 10000000, 0, NULL));
	siginfo_t si;
	REQUIRE_EQ(sigwaitinfo(&s, &si), SIGALRM);
	CHECK_EQ(si.si_code, SI_TIMER);
	CHECK_EQ(si.si_value.sival_int, id);
}

TEST(sigev_none_counts_down_silently)
{
	sigset_t s = block(SIGALRM);
	struct sigevent sev;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_NONE;
	int id;
	REQUIRE_OK(tcreate(CLOCK_MONOTONIC, &sev, &id));
	REQUIRE_OK(tset(id, 0, 30000000, 0, NULL));
	struct itimerspec cur;
	REQUIRE_OK(syscall(SYS_timer_gettime, id, &cur));
	CHECK_GT(its_value(cur), 0);
	CHECK_LE(its_value(cur), 30000000);
	usleep(60000);
	REQUIRE_OK(syscall(SYS_timer_gettime, id, &cur));
	CHECK_EQ(its_value(cur), 0);
	struct timespec z = {0, 0};
	CHECK_ERR(sigtimedwait(&s, NULL, &z), EAGAIN);
}

static volatile pid_t waiter_tid;
static volatile int waiter_got;
static void *thread_waiter(void *arg)
{
	sigset_t *s = arg;
	waiter_tid = gettid();
	siginfo_t si;
	waiter_got = sigwaitinfo(s, &si) == SIGRTMIN + 1 ? si.si_value.sival_int : -1;
	return NULL;
}

TEST(sigev_thread_id_targets_thread)
{
	sigset_t s = block(SIGRTMIN + 1);
	pthread_t th;
	REQUIRE_EQ(pthread_create(&th, NULL, thread_waiter, &s), 0);
	while (waiter_tid == 0)
		usleep(1000);
	struct sigevent sev = sig_event(SIGRTMIN + 1, 5);
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_notify_thread_id = waiter_tid;
	int id;
	REQUIRE_OK(tcreate(CLOCK_MONOTONIC, &sev, &id));
	REQUIRE_OK(tset(id, 0, 10000000, 0, NULL));
	pthread_join(th, NULL);
	CHECK_EQ(waiter_got, 5);
	sigset_t p;
	sigpending(&p);
	CHECK_EQ(sigismember(&p, SIGRTMIN + 1), 0);
}

TEST(sigev_thread_id_other_process_einval)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		for (;;)
			pause();
	}
	struct sigevent sev = sig_event(SIGRTMIN, 0);
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_notify_thread_id = pid;
	int id;
	CHECK_ERR(tcreate(CLOCK_MONOTONIC, &sev, &id), EINVAL);
	kill(pid, SIGKILL);
	lt_wait_exit(pid);
}

TEST(gettime_disarmed_and_old_value)
{
	struct sigevent sev = sig_event(SIGRTMIN, 0);
	int id;
	REQUIRE_OK(tcreate(CLOCK_MONOTONIC, &sev, &id));
	struct itimerspec cur = {{1, 1}, {1, 1}}, old;
	REQUIRE_OK(syscall(SYS_timer_gettime, id, &cur));
	CHECK_EQ(its_value(cur), 0);
	CHECK_EQ(cur.it_interval.tv_sec, 0);
	REQUIRE_OK(tset(id, 0, 5000000000LL, 2000000000LL, NULL));
	REQUIRE_OK(tset(id, 0, 0, 0, &old));
	CHECK_GT(its_value(old), 4000000000LL);
	CHECK_LE(its_value(old), 5000000000LL);
	CHECK_EQ(old.it_interval.tv_sec, 2);
	REQUIRE_OK(syscall(SYS_timer_gettime, id, &cur));
	CHECK_EQ(its_value(cur), 0);
}

TEST(interval_repeats)
{
	sigset_t s = block(SIGRTMIN);
	struct sigevent sev = sig_event(SIGRTMIN, 1);
	int id;
	REQUIRE_OK(tcreate(CLOCK_MONOTONIC, &sev, &id));
	REQUIRE_OK(tset(id, 0, 10000000, 10000000, NULL));
	for (int i = 0; i < 3; i++)
		CHECK_EQ(sigwaitinfo(&s, NULL), SIGRTMIN);
	struct itimerspec cur;
	REQUIRE_OK(syscall(SYS_timer_gettime, id, &cur));
	CHECK_EQ(cur.it_interval.tv_nsec, 10000000);
}

TEST(overrun_counted_not_queued)
{
	sigset_t s = block(SIGRTMIN);
	struct sigevent sev = sig_event(SIGRTMIN, 1);
	int id;
	REQUIRE_OK(tcreate(CLOCK_MONOTONIC, &sev, &id));
	REQUIRE_OK(tset(id, 0, 1000000, 1000000, NULL));
	usleep(100000);
	/* One signal stands for all those expirations. */
	siginfo_t si;
	struct timespec z = {0, 0};
	REQUIRE_EQ(sigtimedwait(&s, &si, &z), SIGRTMIN);
	CHECK_GT(si.si_overrun, 10);
	CHECK_EQ(syscall(SYS_timer_getoverrun, id), si.si_overrun);
}

TEST(absolute_monotonic)
{
	sigset_t s = block(SIGRTMIN);
	struct sigevent sev = sig_event(SIGRTMIN, 1);
	int id;
	REQUIRE_OK(tcreate(CLOCK_MONOTONIC, &sev, &id));
	int64_t target = now_ns(CLOCK_MONOTONIC) + 30000000;
	REQUIRE_OK(tset(id, TIMER_ABSTIME, target, 0, NULL));
	CHECK_EQ(sigwaitinfo(&s, NULL), SIGRTMIN);
	CHECK_GE(now_ns(CLOCK_MONOTONIC), target);
}

TEST(absolute_realtime)
{
	sigset_t s = block(SIGRTMIN);
	struct sigevent sev = sig_event(SIGRTMIN, 1);
	int id;
	REQUIRE_OK(tcreate(CLOCK_REALTIME, &sev, &id));
	int64_t target = now_ns(CLOCK_REALTIME) + 30000000;
	REQUIRE_OK(tset(id, TIMER_ABSTIME, target, 0, NULL));
	CHECK_EQ(sigwaitinfo(&s, NULL), SIGRTMIN);
	CHECK_GE(now_ns(CLOCK_REALTIME), target);
}

TEST(absolute_in_past_fires_at_once)
{
	sigset_t s = block(SIGRTMIN);
	struct sigevent sev = sig_event(SIGRTMIN, 1);
	int id;
	REQUIRE_OK(tcreate(CLOCK_MONOTONIC, &sev, &id));
	REQUIRE_OK(tset(id, TIMER_ABSTIME, 1000, 0, NULL));
	struct timespec ts = {5, 0};
	CHECK_EQ(sigtimedwait(&s, NULL, &ts), SIGRTMIN);
}

TEST(delete_then_einval)
{
	struct sigevent sev = sig_event(SIGRTMIN, 1);
	int id;
	REQUIRE_OK(tcreate(CLOCK_MONOTONIC, &sev, &id));
	REQUIRE_OK(syscall(SYS_timer_delete, id));
	struct itimerspec cur;
	CHECK_ERR(syscall(SYS_timer_gettime, id, &cur), EINVAL);
	CHECK_ERR(tset(id, 0, 1000000, 0, NULL), EINVAL);
	CHECK_ERR(syscall(SYS_timer_getoverrun, id), EINVAL);
	CHECK_ERR(syscall(SYS_timer_delete, id), EINVAL);
}

TEST(delete_armed_timer_no_signal)
{
	sigset_t s = block(SIGRTMIN);
	struct sigevent sev = sig_event(SIGRTMIN, 1);
	int id;
	REQUIRE_OK(tcreate(CLOCK_MONOTONIC, &sev, &id));
	REQUIRE_OK(tset(id, 0, 20000000, 0, NULL));
	REQUIRE_OK(syscall(SYS_timer_delete, id));
	struct timespec ts = {0, 100000000};
	CHECK_ERR(sigtimedwait(&s, NULL, &ts), EAGAIN);
}

TEST(ids_distinct_and_not_inherited)
{
	struct sigevent sev = sig_event(SIGRTMIN, 1);
	int a, b;
	REQUIRE_OK(tcreate(CLOCK_MONOTONIC, &sev, &a));
	REQUIRE_OK(tcreate(CLOCK_MONOTONIC, &sev, &b));
	CHECK_NE(a, b);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		struct itimerspec cur;
		_exit(syscall(SYS_timer_gettime, a, &cur) == -1 && errno == EINVAL ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(create_errors)
{
	struct sigevent sev = sig_event(SIGRTMIN, 1);
	int id;
	CHECK_ERR(tcreate(12345, &sev, &id), EINVAL);
	sev.sigev_notify = 99;
	CHECK_ERR(tcreate(CLOCK_MONOTONIC, &sev, &id), EINVAL);
	sev = sig_event(0, 1);
	CHECK_ERR(tcreate(CLOCK_MONOTONIC, &sev, &id), EINVAL);
	sev = sig_event(65, 1);
	CHECK_ERR(tcreate(CLOCK_MONOTONIC, &sev, &id), EINVAL);
	sev = sig_event(SIGRTMIN, 1);
	CHECK_ERR(tcreate(CLOCK_MONOTONIC, (void *)1, &id), EFAULT);
	CHECK_ERR(tcreate(CLOCK_MONOTONIC, &sev, (void *)1), EFAULT);
}

TEST(settime_errors)
{
	struct sigevent sev = sig_event(SIGRTMIN, 1);
	int id;
	REQUIRE_OK(tcreate(CLOCK_MONOTONIC, &sev, &id));
	struct itimerspec its = {.it_value = {0, 1000000000}};
	CHECK_ERR(syscall(SYS_timer_settime, id, 0, &its, NULL), EINVAL);
	its.it_value.tv_nsec = 0;
	its.it_interval.tv_nsec = -1;
	CHECK_ERR(syscall(SYS_timer_settime, id, 0, &its, NULL), EINVAL);
	CHECK_ERR(syscall(SYS_timer_settime, id, 0, (void *)1, NULL), EFAULT);
	CHECK_ERR(syscall(SYS_timer_settime, id, 0, NULL, NULL), EINVAL);
	CHECK_ERR(syscall(SYS_timer_settime, 9999, 0, &its, NULL), EINVAL);
}

/* timer_gettime of an absolute setting reads the time left on the clock
 * the caller computed it from: never more than what was asked. */
TEST(gettime_absolute_reads_relative_repeatedly)
{
	clockid_t ids[] = {CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME};
	for (int c = 0; c < 3; c++) {
		struct sigevent sev;
		memset(&sev, 0, sizeof(sev));
		sev.sigev_notify = SIGEV_NONE;
		int id;
		REQUIRE_OK(tcreate(ids[c], &sev, &id));
		for (int i = 0; i < 300; i++) {
			REQUIRE_OK(tset(id, TIMER_ABSTIME, now_ns(ids[c]) + 3000000000LL, 0, NULL));
			struct itimerspec cur;
			REQUIRE_OK(syscall(SYS_timer_gettime, id, &cur));
			if (its_value(cur) > 3000000000LL || its_value(cur) <= 2000000000LL) {
				FAIL("clock %d, round %d: %lld ns left of 3 s", (int)ids[c], i,
				     (long long)its_value(cur));
				break;
			}
		}
		REQUIRE_OK(syscall(SYS_timer_delete, id));
	}
}

/* An absolute timer never fires before its clock reaches the time. */
TEST(absolute_never_early)
{
	sigset_t s = block(SIGRTMIN);
	clockid_t ids[] = {CLOCK_MONOTONIC, CLOCK_REALTIME};
	for (int c = 0; c < 2; c++) {
		struct sigevent sev = sig_event(SIGRTMIN, 1);
		int id;
		REQUIRE_OK(tcreate(ids[c], &sev, &id));
		for (int i = 0; i < 100; i++) {
			int64_t target = now_ns(ids[c]) + 20000 + (i * 37 % 500) * 1000;
			REQUIRE_OK(tset(id, TIMER_ABSTIME, target, 0, NULL));
			REQUIRE_EQ(sigwaitinfo(&s, NULL), SIGRTMIN);
			int64_t now = now_ns(ids[c]);
			if (now < target) {
				FAIL("clock %d, round %d: fired %lld ns before its time", (int)ids[c], i,
				     (long long)(target - now));
				break;
			}
		}
		REQUIRE_OK(syscall(SYS_timer_delete, id));
	}
}
