/* kill, tkill, tgkill: targets (self, child, group, 0, -1), signal 0,
 * permissions and errors. */
#include "lt.h"

#include <sys/syscall.h>

static pid_t sleeper(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static void block(int sig)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	sigprocmask(SIG_BLOCK, &s, NULL);
}

static int is_pending(int sig)
{
	sigset_t p;
	sigpending(&p);
	return sigismember(&p, sig);
}

TEST(signal_zero_checks_existence)
{
	CHECK_OK(kill(getpid(), 0));
	CHECK_OK(kill(1, 0));
	CHECK_ERR(kill(999999, 0), ESRCH);
	CHECK_ERR(kill(-999999, 0), ESRCH);
}

TEST(bad_signal_einval)
{
	CHECK_ERR(kill(getpid(), 65), EINVAL);
	CHECK_ERR(kill(getpid(), -1), EINVAL);
	CHECK_ERR(kill(getpid(), 1000), EINVAL);
}

TEST(kill_self_pending)
{
	block(SIGUSR1);
	REQUIRE_OK(kill(getpid(), SIGUSR1));
	CHECK_EQ(is_pending(SIGUSR1), 1);
}

TEST(kill_child_terminates)
{
	pid_t pid = REQUIRE_OK(sleeper());
	REQUIRE_OK(kill(pid, SIGTERM));
	CHECK_EQ(lt_wait_exit(pid), 128 + SIGTERM);
}

TEST(zombie_still_exists)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(3);
	siginfo_t si;
	REQUIRE_OK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	CHECK_OK(kill(pid, 0));
	CHECK_OK(kill(pid, SIGKILL));
	CHECK_EQ(lt_wait_exit(pid), 3);
	CHECK_ERR(kill(pid, 0), ESRCH);
}

TEST(kill_process_group)
{
	pid_t a = REQUIRE_OK(sleeper());
	REQUIRE_OK(setpgid(a, a));
	pid_t b = REQUIRE_OK(fork());
	if (b == 0) {
		setpgid(0, a);
		for (;;)
			pause();
	}
	setpgid(b, a);
	REQUIRE_OK(kill(-a, SIGTERM));
	CHECK_EQ(lt_wait_exit(a), 128 + SIGTERM);
	CHECK_EQ(lt_wait_exit(b), 128 + SIGTERM);
	CHECK_ERR(kill(-a, 0), ESRCH);
}

TEST(kill_zero_own_group)
{
	pid_t pid = REQUIRE_OK(sleeper());
	block(SIGUSR1);
	REQUIRE_OK(kill(0, SIGUSR1));
	CHECK_EQ(lt_wait_exit(pid), 128 + SIGUSR1);
	CHECK_EQ(is_pending(SIGUSR1), 1);
}

TEST(kill_zero_not_other_group)
{
	pid_t pid = REQUIRE_OK(sleeper());
	REQUIRE_OK(setpgid(pid, pid));
	block(SIGUSR1);
	REQUIRE_OK(kill(0, SIGUSR1));
	/* The child is alive: signal 0 still finds it. */
	CHECK_OK(kill(pid, 0));
	siginfo_t si;
	si.si_pid = 0;
	CHECK_OK(waitid(P_PID, pid, &si, WEXITED | WNOHANG));
	CHECK_EQ(si.si_pid, 0);
	kill(pid, SIGKILL);
	CHECK_EQ(lt_wait_exit(pid), 128 + SIGKILL);
}

TEST(kill_minus_one_spares_self)
{
	pid_t a = REQUIRE_OK(sleeper());
	pid_t b = REQUIRE_OK(sleeper());
	REQUIRE_OK(setpgid(b, b));
	block(SIGUSR2);
	REQUIRE_OK(kill(-1, SIGUSR2));
	CHECK_EQ(lt_wait_exit(a), 128 + SIGUSR2);
	CHECK_EQ(lt_wait_exit(b), 128 + SIGUSR2);
	CHECK_EQ(is_pending(SIGUSR2), 0);
	/* Init (this program's main process) is spared too. */
	CHECK_OK(kill(1, 0));
}

TEST(unprivileged_other_user_eperm)
{
	pid_t parent = getpid();
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		if (setresuid(65534, 65534, 65534) != 0)
			_exit(10);
		int r = 0;
		if (kill(parent, 0) != -1 || errno != EPERM)
			r |= 1;
		if (kill(parent, SIGUSR1) != -1 || errno != EPERM)
			r |= 2;
		if (kill(1, SIGTERM) != -1 || errno != EPERM)
			r |= 4;
		/* Nonexistent is still ESRCH. */
		if (kill(999999, 0) != -1 || errno != ESRCH)
			r |= 8;
		_exit(r);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(sigcont_allowed_in_same_session)
{
	pid_t parent = getpid();
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		if (setresuid(65534, 65534, 65534) != 0)
			_exit(10);
		_exit(kill(parent, SIGCONT) == 0 ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(same_user_allowed)
{
	pid_t a = REQUIRE_OK(fork());
	if (a == 0) {
		if (setresuid(65534, 65534, 65534) != 0)
			_exit(10);
		for (;;)
			pause();
	}
	pid_t b = REQUIRE_OK(fork());
	if (b == 0) {
		/* Real uid matches the target's: allowed. */
		if (setresuid(65534, 1000, 1000) != 0)
			_exit(10);
		for (int i = 0; i < 1000; i++) {
			if (kill(a, 0) == 0)
				break;
			usleep(1000);
		}
		_exit(kill(a, SIGTERM) == 0 ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(b), 0);
	CHECK_EQ(lt_wait_exit(a), 128 + SIGTERM);
}

TEST(group_kill_partial_permission)
{
	/* Signalling a group succeeds if any member could be signalled. */
	pid_t parent = getpid();
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		if (setresuid(65534, 65534, 65534) != 0)
			_exit(10);
		signal(SIGUSR1, SIG_IGN);
		/* Our group holds us (allowed) and the parent (not). */
		int r = kill(0, SIGUSR1) == 0 ? 0 : 1;
		if (kill(-getpgid(parent), 0) != 0)
			r |= 2;
		_exit(r);
	}
	signal(SIGUSR1, SIG_IGN);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(tgkill_and_tkill_self)
{
	block(SIGUSR1);
	CHECK_OK(syscall(SYS_tgkill, getpid(), gettid(), 0));
	CHECK_OK(syscall(SYS_tkill, gettid(), 0));
	REQUIRE_OK(syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1));
	CHECK_EQ(is_pending(SIGUSR1), 1);
}

TEST(tgkill_errors)
{
	CHECK_ERR(syscall(SYS_tgkill, 0, gettid(), 0), EINVAL);
	CHECK_ERR(syscall(SYS_tgkill, getpid(), 0, 0), EINVAL);
	CHECK_ERR(syscall(SYS_tgkill, -1, gettid(), 0), EINVAL);
	CHECK_ERR(syscall(SYS_tgkill, getpid(), -5, 0), EINVAL);
	CHECK_ERR(syscall(SYS_tgkill, getpid(), gettid(), 65), EINVAL);
	CHECK_ERR(syscall(SYS_tgkill, getpid(), 999999, 0), ESRCH);
	CHECK_ERR(syscall(SYS_tgkill, 999999, gettid(), 0), ESRCH);
	CHECK_ERR(syscall(SYS_tgkill, 1, gettid(), 0), ESRCH);
}

TEST(tkill_errors)
{
	CHECK_ERR(syscall(SYS_tkill, 0, 0), EINVAL);
	CHECK_ERR(syscall(SYS_tkill, -1, SIGUSR1), EINVAL);
	CHECK_ERR(syscall(SYS_tkill, gettid(), 65), EINVAL);
	CHECK_ERR(syscall(SYS_tkill, 999999, 0), ESRCH);
}

TEST(tkill_child)
{
	pid_t pid = REQUIRE_OK(sleeper());
	REQUIRE_OK(syscall(SYS_tkill, pid, SIGTERM));
	CHECK_EQ(lt_wait_exit(pid), 128 + SIGTERM);
}

TEST(tgkill_unprivileged_eperm)
{
	pid_t parent = getpid();
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		if (setresuid(65534, 65534, 65534) != 0)
			_exit(10);
		_exit(syscall(SYS_tgkill, parent, parent, SIGUSR1) == -1 && errno == EPERM ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(sigqueue_unprivileged_eperm)
{
	pid_t parent = getpid();
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		if (setresuid(65534, 65534, 65534) != 0)
			_exit(10);
		_exit(sigqueue(parent, SIGUSR1, (union sigval){0}) == -1 && errno == EPERM ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}
