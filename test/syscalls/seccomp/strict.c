/* SECCOMP_MODE_STRICT: only read, write, exit and rt_sigreturn. */
#include "lt_seccomp.h"

#include <pthread.h>

static void enter_strict_prctl(void)
{
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0) != 0)
		syscall(SYS_exit, 10);
}

static void enter_strict_seccomp(void)
{
	if (lt_seccomp(SECCOMP_SET_MODE_STRICT, 0, NULL) != 0)
		syscall(SYS_exit, 10);
}

static int fds[2];

static void read_write_exit(void)
{
	enter_strict_prctl();
	char c;
	if (write(fds[1], "ab", 2) != 2 || read(fds[0], &c, 1) != 1 || c != 'a')
		syscall(SYS_exit, 11);
	syscall(SYS_exit, 7);
}

TEST(read_write_exit_allowed)
{
	REQUIRE_OK(pipe(fds));
	CHECK_EQ(lt_child_status(read_write_exit), 7);
}

static void calls_getpid(void)
{
	enter_strict_seccomp();
	syscall(SYS_getpid);
	syscall(SYS_exit, 3);
}

TEST(other_call_sigkill)
{
	CHECK_EQ(lt_child_status(calls_getpid), 128 + SIGKILL);
}

static void calls_exit_group(void)
{
	enter_strict_prctl();
	syscall(SYS_exit_group, 3);
}

TEST(exit_group_not_allowed)
{
	CHECK_EQ(lt_child_status(calls_exit_group), 128 + SIGKILL);
}

static void calls_prctl_get(void)
{
	enter_strict_prctl();
	prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
	syscall(SYS_exit, 3);
}

TEST(get_seccomp_in_strict_sigkill)
{
	CHECK_EQ(lt_child_status(calls_prctl_get), 128 + SIGKILL);
}

static void calls_seccomp_filter(void)
{
	enter_strict_prctl();
	struct sock_filter f[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
	lt_filter_flags(f, 1, 0);
	syscall(SYS_exit, 3);
}

TEST(cannot_leave_strict)
{
	CHECK_EQ(lt_child_status(calls_seccomp_filter), 128 + SIGKILL);
}

static void on_usr1(int sig)
{
	(void)sig;
	static const char m[] = "h";
	write(fds[1], m, 1);
}

static void handler_returns(void)
{
	signal(SIGUSR1, on_usr1);
	enter_strict_prctl();
	/* The handler runs and returns with rt_sigreturn, which is allowed;
	 * the signal comes from the parent while this task waits in read. */
	char c;
	if (write(fds[1], "r", 1) != 1)
		syscall(SYS_exit, 11);
	if (read(fds[0], &c, 1) != 1)
		syscall(SYS_exit, 12);
	syscall(SYS_exit, 5);
}

TEST(signal_handler_returns)
{
	int ready[2];
	REQUIRE_OK(pipe(fds));
	REQUIRE_OK(pipe(ready));
	/* The child reads fds[0]: its own "r" first, then the handler's "h". */
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		dup2(ready[1], fds[1]);
		handler_returns();
	}
	char c;
	REQUIRE_EQ(read(ready[0], &c, 1), 1);
	CHECK_EQ(c, 'r');
	CHECK_OK(kill(pid, SIGUSR1));
	CHECK_EQ(read(ready[0], &c, 1), 1);
	CHECK_EQ(c, 'h');
	CHECK_EQ(write(fds[1], "x", 1), 1);
	CHECK_EQ(lt_wait_exit(pid), 5);
}

static void *strict_thread(void *arg)
{
	(void)arg;
	enter_strict_prctl();
	syscall(SYS_getpid);
	return NULL;
}

static void strict_is_per_thread(void)
{
	pthread_t th;
	if (pthread_create(&th, NULL, strict_thread, NULL) != 0)
		_exit(4);
	/* Only the strict thread dies; this one is not in strict mode. */
	pthread_join(th, NULL);
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 0)
		_exit(5);
	_exit(0);
}

TEST(strict_mode_is_per_thread)
{
	CHECK_EQ(lt_child_status(strict_is_per_thread), 0);
}

static void strict_twice(void)
{
	enter_strict_prctl();
	/* prctl itself is not allowed any more. */
	prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0);
	syscall(SYS_exit, 3);
}

TEST(strict_prctl_again_sigkill)
{
	CHECK_EQ(lt_child_status(strict_twice), 128 + SIGKILL);
}
