/* seccomp SECCOMP_RET_KILL_PROCESS and SECCOMP_RET_KILL_THREAD. */
#include "lt_seccomp.h"

#include <pthread.h>
#include <sys/resource.h>

static void no_core(void)
{
	struct rlimit rl = {0, 0};
	setrlimit(RLIMIT_CORE, &rl);
}

static void kill_process_getpid(void)
{
	no_core();
	lt_ret_for(SYS_getpid, SECCOMP_RET_KILL_PROCESS);
	syscall(SYS_getpid);
	_exit(3);
}

TEST(kill_process_sigsys)
{
	CHECK_EQ(lt_child_status(kill_process_getpid), 128 + SIGSYS);
}

static void kill_thread_single(void)
{
	no_core();
	lt_ret_for(SYS_getpid, SECCOMP_RET_KILL_THREAD);
	syscall(SYS_getpid);
	_exit(3);
}

TEST(kill_thread_last_thread_kills_process)
{
	CHECK_EQ(lt_child_status(kill_thread_single), 128 + SIGSYS);
}

static void unknown_action(void)
{
	no_core();
	lt_ret_for(SYS_getpid, 0x00010000);
	syscall(SYS_getpid);
	_exit(3);
}

TEST(unknown_action_kills_process)
{
	CHECK_EQ(lt_child_status(unknown_action), 128 + SIGSYS);
}

static void ignored_sigsys(void)
{
	no_core();
	signal(SIGSYS, SIG_IGN);
	lt_ret_for(SYS_getpid, SECCOMP_RET_KILL_PROCESS);
	syscall(SYS_getpid);
	_exit(3);
}

TEST(kill_ignores_sigsys_disposition)
{
	CHECK_EQ(lt_child_status(ignored_sigsys), 128 + SIGSYS);
}

static void *call_getpid(void *arg)
{
	(void)arg;
	syscall(SYS_getpid);
	return (void *)1;
}

static void kill_thread_multi(void)
{
	no_core();
	lt_ret_for(SYS_getpid, SECCOMP_RET_KILL_THREAD);
	pthread_t th;
	if (pthread_create(&th, NULL, call_getpid, NULL) != 0)
		_exit(4);
	/* The thread dies alone (its TID clears), the process goes on. */
	void *r = NULL;
	if (pthread_join(th, &r) != 0 || r != NULL)
		_exit(5);
	_exit(0);
}

TEST(kill_thread_other_threads_survive)
{
	CHECK_EQ(lt_child_status(kill_thread_multi), 0);
}

static void *sleep_forever(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void kill_process_multi(void)
{
	no_core();
	lt_ret_for(SYS_getpid, SECCOMP_RET_KILL_PROCESS);
	pthread_t th;
	if (pthread_create(&th, NULL, sleep_forever, NULL) != 0)
		_exit(4);
	pthread_t th2;
	if (pthread_create(&th2, NULL, call_getpid, NULL) != 0)
		_exit(4);
	pthread_join(th2, NULL);
	_exit(5);
}

TEST(kill_process_from_thread_kills_all)
{
	CHECK_EQ(lt_child_status(kill_process_multi), 128 + SIGSYS);
}

static void kill_on_exit_group(void)
{
	no_core();
	lt_ret_for(SYS_exit_group, SECCOMP_RET_KILL_PROCESS);
	_exit(0);
}

TEST(kill_on_exit_group)
{
	CHECK_EQ(lt_child_status(kill_on_exit_group), 128 + SIGSYS);
}

static void kill_wins_over_errno(void)
{
	no_core();
	lt_ret_for(SYS_getpid, SECCOMP_RET_ERRNO | EPERM);
	lt_ret_for(SYS_getpid, SECCOMP_RET_KILL_THREAD);
	lt_ret_for(SYS_getpid, SECCOMP_RET_ALLOW);
	syscall(SYS_getpid);
	_exit(3);
}

TEST(most_restrictive_filter_wins)
{
	CHECK_EQ(lt_child_status(kill_wins_over_errno), 128 + SIGSYS);
}

TEST(waitid_reports_sigsys)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		kill_process_getpid();
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	REQUIRE_OK(waitid(P_PID, pid, &si, WEXITED));
	CHECK_EQ(si.si_signo, SIGCHLD);
	CHECK(si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED);
	CHECK_EQ(si.si_status, SIGSYS);
	CHECK_EQ(si.si_pid, pid);
}
