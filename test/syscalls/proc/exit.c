/* Process and thread exit: statuses, SIGCHLD, auto-reaping, zombies, what exit releases. */
#include "lt.h"
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>

static int hook_fd = -1;

static void on_exit_hook(void)
{
	(void)!write(hook_fd, "h", 1);
}

TEST(atexit_runs_on_exit_not_on__exit)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	for (int use_exit = 0; use_exit < 2; use_exit++) {
		pid_t pid = REQUIRE_OK(fork());
		if (pid == 0) {
			close(p[0]);
			hook_fd = p[1];
			atexit(on_exit_hook);
			if (use_exit)
				exit(0);
			_exit(0);
		}
		CHECK_EQ(lt_wait_exit(pid), 0);
	}
	close(p[1]);
	char buf[4];
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 1);
}

TEST(exit_closes_descriptors)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		(void)!write(p[1], "x", 1);
		pause();
	}
	close(p[1]);
	char c;
	CHECK_EQ(read(p[0], &c, 1), 1);
	kill(pid, SIGKILL);
	/* The child's write end went with it: end of file. */
	CHECK_EQ(read(p[0], &c, 1), 0);
	lt_wait_exit(pid);
}

static void *thread_exit(void *arg)
{
	(void)arg;
	syscall(SYS_exit, 5); /* this thread only */
	return NULL;
}

TEST(thread_exit_leaves_process)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		pthread_t th;
		pthread_create(&th, NULL, thread_exit, NULL);
		usleep(50 * 1000);
		_exit(7);
	}
	CHECK_EQ(lt_wait_exit(pid), 7);
}

static void *group_exit(void *arg)
{
	(void)arg;
	syscall(SYS_exit_group, 9);
	return NULL;
}

TEST(exit_group_from_thread_ends_all)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		pthread_t th;
		pthread_create(&th, NULL, group_exit, NULL);
		for (;;)
			pause();
	}
	CHECK_EQ(lt_wait_exit(pid), 9);
}

TEST(fatal_signals_status)
{
	struct rlimit none = {0, 0};
	REQUIRE_OK(setrlimit(RLIMIT_CORE, &none));
	int sigs[] = {SIGSEGV, SIGABRT, SIGTERM, SIGKILL};
	for (unsigned i = 0; i < 4; i++) {
		pid_t pid = REQUIRE_OK(fork());
		if (pid == 0) {
			if (sigs[i] == SIGSEGV)
				*(volatile int *)8 = 1;
			else if (sigs[i] == SIGABRT)
				abort();
			else
				raise(sigs[i]);
			_exit(0);
		}
		int st;
		REQUIRE_EQ(waitpid(pid, &st, 0), pid);
		CHECK(WIFSIGNALED(st));
		CHECK_EQ(WTERMSIG(st), sigs[i]);
		CHECK(!WCOREDUMP(st));
	}
}

static volatile sig_atomic_t chld_pid, chld_status, chld_code;

static void on_chld(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	chld_pid = si->si_pid;
	chld_status = si->si_status;
	chld_code = si->si_code;
}

TEST(sigchld_carries_pid_and_status)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_chld;
	sa.sa_flags = SA_SIGINFO;
	REQUIRE_OK(sigaction(SIGCHLD, &sa, NULL));
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &old);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(23);
	while (chld_pid == 0)
		sigsuspend(&old);
	CHECK_EQ(chld_pid, pid);
	CHECK_EQ(chld_status, 23);
	CHECK_EQ(chld_code, CLD_EXITED);
	CHECK_EQ(lt_wait_exit(pid), 23);
}

TEST(sigchld_ignored_autoreaps)
{
	signal(SIGCHLD, SIG_IGN);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(1);
	/* wait blocks until the child is gone, then finds no child. */
	CHECK_ERR(waitpid(pid, NULL, 0), ECHILD);
}

TEST(sa_nocldwait_autoreaps)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sa.sa_flags = SA_NOCLDWAIT;
	REQUIRE_OK(sigaction(SIGCHLD, &sa, NULL));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(1);
	CHECK_ERR(waitpid(-1, NULL, 0), ECHILD);
}

TEST(sa_nocldstop_no_signal_on_stop)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_chld;
	sa.sa_flags = SA_SIGINFO | SA_NOCLDSTOP;
	REQUIRE_OK(sigaction(SIGCHLD, &sa, NULL));
	chld_pid = 0;
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		for (;;)
			pause();
	}
	REQUIRE_OK(kill(pid, SIGSTOP));
	int st;
	REQUIRE_EQ(waitpid(pid, &st, WUNTRACED), pid);
	usleep(20 * 1000);
	CHECK_EQ(chld_pid, 0);
	kill(pid, SIGKILL);
	REQUIRE_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(chld_pid, pid); /* the death is still signalled */
}

TEST(zombie_until_reaped)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(0);
	siginfo_t si;
	REQUIRE_OK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	REQUIRE(f != NULL);
	REQUIRE(fgets(buf, sizeof(buf), f) != NULL);
	fclose(f);
	char *p = strrchr(buf, ')');
	REQUIRE(p != NULL);
	CHECK_EQ(p[2], 'Z');
	CHECK_EQ(kill(pid, 0), 0); /* a zombie still exists for kill */
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_ERR(kill(pid, 0), ESRCH);
}
