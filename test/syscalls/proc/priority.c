/* getpriority, setpriority and nice. */
#include "lt.h"
#include <sys/resource.h>
#include <sys/syscall.h>

TEST(default_zero)
{
	errno = 0;
	CHECK_EQ(getpriority(PRIO_PROCESS, 0), 0);
	CHECK_EQ(errno, 0);
	/* The raw call returns 20 - nice. */
	CHECK_EQ(syscall(SYS_getpriority, PRIO_PROCESS, 0), 20);
}

TEST(set_and_get)
{
	REQUIRE_OK(setpriority(PRIO_PROCESS, 0, 5));
	CHECK_EQ(getpriority(PRIO_PROCESS, 0), 5);
	CHECK_EQ(getpriority(PRIO_PROCESS, getpid()), 5);
	CHECK_EQ(syscall(SYS_getpriority, PRIO_PROCESS, 0), 15);
	errno = 0;
	CHECK_EQ(nice(2), 7);
	CHECK_EQ(getpriority(PRIO_PROCESS, 0), 7);
}

TEST(clamped_to_range)
{
	REQUIRE_OK(setpriority(PRIO_PROCESS, 0, 100));
	CHECK_EQ(getpriority(PRIO_PROCESS, 0), 19);
	REQUIRE_OK(setpriority(PRIO_PROCESS, 0, -100));
	CHECK_EQ(getpriority(PRIO_PROCESS, 0), -20);
}

TEST(child_inherits)
{
	REQUIRE_OK(setpriority(PRIO_PROCESS, 0, 3));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(getpriority(PRIO_PROCESS, 0) == 3 ? 0 : 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(other_process_and_group)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		char c;
		close(p[1]);
		(void)!read(p[0], &c, 1);
		_exit(getpriority(PRIO_PROCESS, 0) == 9 ? 0 : 1);
	}
	REQUIRE_OK(setpriority(PRIO_PROCESS, pid, 4));
	CHECK_EQ(getpriority(PRIO_PROCESS, pid), 4);
	/* The whole group (us and the child). */
	REQUIRE_OK(setpriority(PRIO_PGRP, 0, 9));
	CHECK_EQ(getpriority(PRIO_PGRP, 0), 9);
	CHECK_EQ(getpriority(PRIO_PROCESS, 0), 9);
	close(p[1]);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(prio_user)
{
	REQUIRE_OK(setpriority(PRIO_USER, 0, 2));
	CHECK_EQ(getpriority(PRIO_PROCESS, 0), 2);
	CHECK_EQ(getpriority(PRIO_USER, 0), 2);
}

TEST(errors)
{
	CHECK_ERR(setpriority(42, 0, 1), EINVAL);
	CHECK_ERR(getpriority(42, 0), EINVAL);
	CHECK_ERR(setpriority(PRIO_PROCESS, 999999, 1), ESRCH);
	CHECK_ERR(getpriority(PRIO_PROCESS, 999999), ESRCH);
	CHECK_ERR(getpriority(PRIO_PGRP, 999999), ESRCH);
}

TEST(unprivileged_rules)
{
	REQUIRE_OK(setpriority(PRIO_PROCESS, 0, 5));
	pid_t other = REQUIRE_OK(fork());
	if (other == 0) {
		pause();
		_exit(0);
	}
	REQUIRE_OK(setresuid(1000, 1000, 1000));
	/* Raising nice is fine, lowering it back needs CAP_SYS_NICE. */
	CHECK_OK(setpriority(PRIO_PROCESS, 0, 10));
	CHECK_ERR(setpriority(PRIO_PROCESS, 0, 5), EACCES);
	CHECK_EQ(getpriority(PRIO_PROCESS, 0), 10);
	/* Another user's process: EPERM. */
	CHECK_ERR(setpriority(PRIO_PROCESS, other, 12), EPERM);
	kill(other, SIGKILL);
}

TEST(shown_in_proc_stat)
{
	REQUIRE_OK(setpriority(PRIO_PROCESS, 0, 6));
	FILE *f = fopen("/proc/self/stat", "r");
	REQUIRE(f != NULL);
	char buf[1024];
	REQUIRE(fgets(buf, sizeof(buf), f) != NULL);
	fclose(f);
	/* Fields after the command: state is field 3; priority 18, nice 19. */
	char *p = strrchr(buf, ')');
	REQUIRE(p != NULL);
	long v[20];
	char state;
	int n = sscanf(p + 2, "%c %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld", &state,
		       &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10], &v[11], &v[12], &v[13],
		       &v[14], &v[15], &v[16], &v[17], &v[18], &v[19]);
	REQUIRE_EQ(n, 17);
	CHECK_EQ(v[19], 6);
	CHECK_EQ(v[18], 26);
}
