/* CPU affinity, scheduling policies and parameters, sched_yield, getcpu. */
#include "lt.h"
#include <sched.h>
#include <sys/syscall.h>

TEST(getaffinity_has_cpus)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	long n = CHECK_OK(syscall(SYS_sched_getaffinity, 0, sizeof(set), &set));
	CHECK_GT(n, 0);
	CHECK_EQ(n % sizeof(long), 0);
	CHECK_GE(CPU_COUNT(&set), 1);
	CHECK_LE(CPU_COUNT(&set), sysconf(_SC_NPROCESSORS_CONF));
}

TEST(getaffinity_errors)
{
	cpu_set_t set;
	CHECK_ERR(syscall(SYS_sched_getaffinity, 0, 1, &set), EINVAL);
	CHECK_ERR(syscall(SYS_sched_getaffinity, 0, 12, &set), EINVAL);
	CHECK_ERR(syscall(SYS_sched_getaffinity, 999999, sizeof(set), &set), ESRCH);
	CHECK_ERR(syscall(SYS_sched_getaffinity, 0, sizeof(set), (void *)1), EFAULT);
}

TEST(setaffinity_round_trip)
{
	cpu_set_t set, one, got;
	REQUIRE_OK(sched_getaffinity(0, sizeof(set), &set));
	int first = -1;
	for (int i = 0; i < CPU_SETSIZE && first < 0; i++)
		if (CPU_ISSET(i, &set))
			first = i;
	REQUIRE_GE(first, 0);
	CPU_ZERO(&one);
	CPU_SET(first, &one);
	REQUIRE_OK(sched_setaffinity(0, sizeof(one), &one));
	REQUIRE_OK(sched_getaffinity(0, sizeof(got), &got));
	CHECK_EQ(CPU_COUNT(&got), 1);
	CHECK(CPU_ISSET(first, &got));
	CHECK_EQ(sched_getcpu(), first);
	/* Inherited by a child. */
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		cpu_set_t c;
		sched_getaffinity(0, sizeof(c), &c);
		_exit(CPU_COUNT(&c) == 1 && CPU_ISSET(first, &c) ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_OK(sched_setaffinity(0, sizeof(set), &set));
}

TEST(setaffinity_errors)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CHECK_ERR(sched_setaffinity(0, sizeof(set), &set), EINVAL);
	CPU_SET(CPU_SETSIZE - 1, &set);
	CHECK_ERR(sched_setaffinity(0, sizeof(set), &set), EINVAL);
	CHECK_ERR(sched_setaffinity(999999, sizeof(set), &set), ESRCH);
	CHECK_ERR(syscall(SYS_sched_setaffinity, 0, sizeof(set), (void *)1), EFAULT);
}

TEST(yield)
{
	for (int i = 0; i < 10; i++)
		CHECK_OK(sched_yield());
}

TEST(scheduler_and_param)
{
	CHECK_EQ(sched_getscheduler(0), SCHED_OTHER);
	CHECK_EQ(sched_getscheduler(getpid()), SCHED_OTHER);
	struct sched_param sp = {.sched_priority = 7};
	REQUIRE_OK(sched_getparam(0, &sp));
	CHECK_EQ(sp.sched_priority, 0);
	sp.sched_priority = 0;
	CHECK_OK(sched_setscheduler(0, SCHED_OTHER, &sp));
	CHECK_OK(sched_setparam(0, &sp));
}

TEST(scheduler_errors)
{
	struct sched_param sp = {.sched_priority = 5};
	CHECK_ERR(sched_setscheduler(0, SCHED_OTHER, &sp), EINVAL);
	CHECK_ERR(sched_setscheduler(0, 42, &sp), EINVAL);
	CHECK_ERR(sched_getscheduler(-1), EINVAL);
	CHECK_ERR(sched_getscheduler(999999), ESRCH);
	CHECK_ERR(sched_getparam(0, NULL), EINVAL);
	CHECK_ERR(sched_getparam(999999, &sp), ESRCH);
	CHECK_ERR(syscall(SYS_sched_getparam, 0, (void *)1), EFAULT);
}

TEST(priority_ranges)
{
	CHECK_EQ(sched_get_priority_max(SCHED_FIFO), 99);
	CHECK_EQ(sched_get_priority_min(SCHED_FIFO), 1);
	CHECK_EQ(sched_get_priority_max(SCHED_RR), 99);
	CHECK_EQ(sched_get_priority_max(SCHED_OTHER), 0);
	CHECK_EQ(sched_get_priority_min(SCHED_OTHER), 0);
	CHECK_EQ(sched_get_priority_max(SCHED_BATCH), 0);
	CHECK_EQ(sched_get_priority_max(SCHED_IDLE), 0);
	CHECK_ERR(sched_get_priority_max(42), EINVAL);
	CHECK_ERR(sched_get_priority_min(-1), EINVAL);
}

TEST(batch_and_idle_policies)
{
	struct sched_param sp = {.sched_priority = 0};
	REQUIRE_OK(sched_setscheduler(0, SCHED_BATCH, &sp));
	CHECK_EQ(sched_getscheduler(0), SCHED_BATCH);
	REQUIRE_OK(sched_setscheduler(0, SCHED_IDLE, &sp));
	CHECK_EQ(sched_getscheduler(0), SCHED_IDLE);
	REQUIRE_OK(sched_setscheduler(0, SCHED_OTHER, &sp));
	CHECK_EQ(sched_getscheduler(0), SCHED_OTHER);
}

TEST(getcpu_in_range)
{
	unsigned cpu = 12345, node = 12345;
	REQUIRE_OK(syscall(SYS_getcpu, &cpu, &node, NULL));
	CHECK_LT(cpu, (unsigned)sysconf(_SC_NPROCESSORS_CONF));
	CHECK_EQ(node, 0);
	CHECK_OK(syscall(SYS_getcpu, NULL, NULL, NULL));
	CHECK_ERR(syscall(SYS_getcpu, (void *)1, NULL, NULL), EFAULT);
	int c = sched_getcpu();
	CHECK_GE(c, 0);
}
