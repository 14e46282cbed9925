/* alarm: previous value, cancel, delivery, sharing ITIMER_REAL, fork and
 * exec. */
#include "lt.h"

#include <sys/time.h>
#include <time.h>

static sigset_t block_alrm(void)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGALRM);
	sigprocmask(SIG_BLOCK, &s, NULL);
	return s;
}

/* The harness arms alarm() for its own time limit: start from none. */
static void clear_alarm(void)
{
	alarm(0);
}

TEST(initially_none_after_clear)
{
	clear_alarm();
	CHECK_EQ(alarm(0), 0);
}

TEST(returns_previous_seconds)
{
	clear_alarm();
	CHECK_EQ(alarm(10), 0);
	CHECK_EQ(alarm(5), 10);
	CHECK_EQ(alarm(0), 5);
	CHECK_EQ(alarm(0), 0);
}

TEST(large_value)
{
	clear_alarm();
	CHECK_EQ(alarm(100000), 0);
	CHECK_EQ(alarm(0), 100000);
}

TEST(delivers_sigalrm)
{
	clear_alarm();
	sigset_t s = block_alrm();
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	CHECK_EQ(alarm(1), 0);
	siginfo_t si;
	CHECK_EQ(sigwaitinfo(&s, &si), SIGALRM);
	clock_gettime(CLOCK_MONOTONIC, &b);
	CHECK_GE((b.tv_sec - a.tv_sec) * 1000000000LL + b.tv_nsec - a.tv_nsec, 1000000000LL);
	CHECK_EQ(si.si_code, SI_KERNEL);
	/* One-shot: nothing left. */
	CHECK_EQ(alarm(0), 0);
}

TEST(cancel_prevents_signal)
{
	clear_alarm();
	sigset_t s = block_alrm();
	alarm(1);
	alarm(0);
	struct timespec ts = {1, 300000000};
	CHECK_ERR(sigtimedwait(&s, NULL, &ts), EAGAIN);
}

TEST(shares_itimer_real)
{
	clear_alarm();
	alarm(5);
	struct itimerval it;
	REQUIRE_OK(getitimer(ITIMER_REAL, &it));
	CHECK_LE(it.it_value.tv_sec, 5);
	CHECK_GE(it.it_value.tv_sec, 3);
	CHECK_EQ(it.it_interval.tv_sec, 0);
	CHECK_EQ(it.it_interval.tv_usec, 0);
	struct itimerval set = {.it_value = {3, 0}};
	REQUIRE_OK(setitimer(ITIMER_REAL, &set, NULL));
	CHECK_EQ(alarm(0), 3);
}

TEST(rounds_up_sub_second)
{
	clear_alarm();
	struct itimerval set = {.it_value = {0, 200000}};
	REQUIRE_OK(setitimer(ITIMER_REAL, &set, NULL));
	/* A pending fraction of a second reads as 1, not 0. */
	CHECK_EQ(alarm(0), 1);
}

TEST(not_inherited_by_fork)
{
	clear_alarm();
	alarm(50);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(alarm(0) == 0 ? 0 : 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_GT(alarm(0), 45);
}

__attribute__((constructor)) static void exec_probe(void)
{
	if (getenv("ALARM_EXEC_PROBE") == NULL)
		return;
	unsigned left = alarm(0);
	_exit(left >= 40 && left <= 50 ? 0 : 1);
}

TEST(kept_across_exec)
{
	clear_alarm();
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		alarm(50);
		setenv("ALARM_EXEC_PROBE", "1", 1);
		execl("/proc/self/exe", "probe", (char *)NULL);
		_exit(100);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(default_action_terminates)
{
	clear_alarm();
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		alarm(1);
		for (;;)
			pause();
	}
	CHECK_EQ(lt_wait_exit(pid), 128 + SIGALRM);
}

static volatile sig_atomic_t hits;
static void handler(int sig)
{
	(void)sig;
	hits++;
}

TEST(interrupts_pause)
{
	clear_alarm();
	signal(SIGALRM, handler);
	alarm(1);
	CHECK_ERR(pause(), EINTR);
	CHECK_EQ(hits, 1);
}
