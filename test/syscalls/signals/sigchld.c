/* SIGCHLD on child exit, and automatic reaping with SIG_IGN or
 * SA_NOCLDWAIT. */
#include "lt.h"

#include <sys/syscall.h>
#include <time.h>

static sigset_t block_chld(void)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGCHLD);
	sigprocmask(SIG_BLOCK, &s, NULL);
	return s;
}

TEST(sigchld_on_exit_with_info)
{
	sigset_t s = block_chld();
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(7);
	siginfo_t si;
	REQUIRE_EQ(sigwaitinfo(&s, &si), SIGCHLD);
	CHECK_EQ(si.si_code, CLD_EXITED);
	CHECK_EQ(si.si_pid, pid);
	CHECK_EQ(si.si_status, 7);
	CHECK_EQ(si.si_uid, getuid());
	CHECK_EQ(lt_wait_exit(pid), 7);
}

TEST(sigchld_on_kill_with_info)
{
	sigset_t s = block_chld();
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		for (;;)
			pause();
	}
	REQUIRE_OK(kill(pid, SIGTERM));
	siginfo_t si;
	REQUIRE_EQ(sigwaitinfo(&s, &si), SIGCHLD);
	CHECK_EQ(si.si_code, CLD_KILLED);
	CHECK_EQ(si.si_status, SIGTERM);
	CHECK_EQ(lt_wait_exit(pid), 128 + SIGTERM);
}

TEST(sigchld_uid_of_child)
{
	sigset_t s = block_chld();
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		setresuid(65534, 65534, 65534);
		_exit(0);
	}
	siginfo_t si;
	REQUIRE_EQ(sigwaitinfo(&s, &si), SIGCHLD);
	CHECK_EQ(si.si_uid, 65534);
	lt_wait_exit(pid);
}

TEST(default_sigchld_is_ignored_but_child_waitable)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(5);
	/* SIG_DFL does not reap: the zombie stays for wait. */
	siginfo_t si;
	REQUIRE_OK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	CHECK_EQ(lt_wait_exit(pid), 5);
}

TEST(sig_ign_autoreaps)
{
	signal(SIGCHLD, SIG_IGN);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(5);
	/* wait blocks until the child is gone and then fails with ECHILD. */
	int st;
	CHECK_ERR(waitpid(pid, &st, 0), ECHILD);
	CHECK_ERR(kill(pid, 0), ESRCH);
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
		_exit(5);
	int st;
	CHECK_ERR(waitpid(-1, &st, 0), ECHILD);
	CHECK_ERR(kill(pid, 0), ESRCH);
}

static volatile sig_atomic_t chld_hits;
static void chld_handler(int sig)
{
	(void)sig;
	chld_hits++;
}

TEST(sa_nocldwait_with_handler_still_signals)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = chld_handler;
	sa.sa_flags = SA_NOCLDWAIT;
	sigemptyset(&sa.sa_mask);
	REQUIRE_OK(sigaction(SIGCHLD, &sa, NULL));
	sigset_t s = block_chld();
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(0);
	siginfo_t si;
	/* Linux still sends SIGCHLD to a handler even when it reaps. */
	REQUIRE_EQ(sigwaitinfo(&s, &si), SIGCHLD);
	CHECK_EQ(si.si_pid, pid);
	int st;
	CHECK_ERR(waitpid(pid, &st, 0), ECHILD);
}

TEST(sig_ign_after_zombie_does_not_reap_it)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(4);
	siginfo_t si;
	REQUIRE_OK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	signal(SIGCHLD, SIG_IGN);
	/* An existing zombie is not reaped by the change. */
	CHECK_EQ(lt_wait_exit(pid), 4);
}

TEST(handler_runs_on_exit)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = chld_handler;
	sigemptyset(&sa.sa_mask);
	REQUIRE_OK(sigaction(SIGCHLD, &sa, NULL));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(0);
	CHECK_EQ(lt_wait_exit(pid), 0);
	/* The signal may come just after wait returns. */
	for (int i = 0; i < 1000 && chld_hits == 0; i++)
		usleep(1000);
	CHECK_EQ(chld_hits, 1);
}

TEST(exit_signal_of_clone_child)
{
	/* A raw clone with exit signal SIGUSR1 notifies with that signal. */
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigprocmask(SIG_BLOCK, &s, NULL);
	pid_t pid = REQUIRE_OK(syscall(SYS_clone, SIGUSR1, NULL, NULL, NULL, 0));
	if (pid == 0)
		_exit(3);
	siginfo_t si;
	REQUIRE_EQ(sigwaitinfo(&s, &si), SIGUSR1);
	CHECK_EQ(si.si_pid, pid);
	CHECK_EQ(si.si_code, CLD_EXITED);
	CHECK_EQ(si.si_status, 3);
	int st;
	/* Not a SIGCHLD child: wait needs __WALL or __WCLONE. */
	CHECK_ERR(waitpid(pid, &st, WNOHANG), ECHILD);
	CHECK_EQ(waitpid(pid, &st, __WALL), pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3);
}

TEST(exit_signal_zero_no_signal)
{
	sigset_t s = block_chld();
	pid_t pid = REQUIRE_OK(syscall(SYS_clone, 0, NULL, NULL, NULL, 0));
	if (pid == 0)
		_exit(2);
	int st;
	CHECK_EQ(waitpid(pid, &st, __WALL), pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2);
	struct timespec z = {0, 0};
	CHECK_ERR(sigtimedwait(&s, NULL, &z), EAGAIN);
}

TEST(orphan_reparented_to_init)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	pid_t mid = REQUIRE_OK(fork());
	if (mid == 0) {
		pid_t gc = fork();
		if (gc == 0) {
			char c;
			close(p[1]);
			read(p[0], &c, 1); /* until the middle process is gone */
			_exit(getppid() == 1 ? 0 : 1);
		}
		_exit(0);
	}
	close(p[0]);
	CHECK_EQ(lt_wait_exit(mid), 0);
	close(p[1]);
	/* The grandchild is init's now; nothing left for us to wait for. */
	int st;
	CHECK_ERR(waitpid(-1, &st, 0), ECHILD);
}
