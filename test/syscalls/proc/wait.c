/* wait4 and waitid: selection, options, statuses, rusage. */
#include "lt.h"
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>

static pid_t child_exiting(int code)
{
	pid_t pid = fork();
	if (pid < 0)
		ABORT("fork: %s", strerror(errno));
	if (pid == 0)
		_exit(code);
	return pid;
}

static pid_t child_pausing(void)
{
	pid_t pid = fork();
	if (pid < 0)
		ABORT("fork: %s", strerror(errno));
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

TEST(no_children_echild)
{
	CHECK_ERR(wait(NULL), ECHILD);
	CHECK_ERR(waitpid(-1, NULL, WNOHANG), ECHILD);
	siginfo_t si;
	CHECK_ERR(waitid(P_ALL, 0, &si, WEXITED), ECHILD);
	CHECK_ERR(waitpid(1, NULL, 0), ECHILD);
}

TEST(wnohang_running_child)
{
	pid_t pid = child_pausing();
	CHECK_EQ(waitpid(pid, NULL, WNOHANG), 0);
	siginfo_t si;
	memset(&si, 0xff, sizeof(si));
	CHECK_OK(waitid(P_PID, pid, &si, WEXITED | WNOHANG));
	CHECK_EQ(si.si_pid, 0);
	kill(pid, SIGKILL);
	CHECK_EQ(waitpid(pid, NULL, 0), pid);
}

TEST(exit_status_and_signal_status)
{
	pid_t a = child_exiting(3);
	int st;
	CHECK_EQ(waitpid(a, &st, 0), a);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 3);
	pid_t b = child_pausing();
	kill(b, SIGTERM);
	CHECK_EQ(waitpid(b, &st, 0), b);
	CHECK(WIFSIGNALED(st));
	CHECK_EQ(WTERMSIG(st), SIGTERM);
}

TEST(wuntraced_and_wcontinued)
{
	pid_t pid = child_pausing();
	REQUIRE_OK(kill(pid, SIGSTOP));
	int st;
	CHECK_EQ(waitpid(pid, &st, WUNTRACED), pid);
	CHECK(WIFSTOPPED(st));
	CHECK_EQ(WSTOPSIG(st), SIGSTOP);
	/* Reported once. */
	CHECK_EQ(waitpid(pid, &st, WUNTRACED | WNOHANG), 0);
	REQUIRE_OK(kill(pid, SIGCONT));
	CHECK_EQ(waitpid(pid, &st, WCONTINUED), pid);
	CHECK(WIFCONTINUED(st));
	kill(pid, SIGKILL);
	CHECK_EQ(waitpid(pid, &st, 0), pid);
}

TEST(stopped_not_reported_without_wuntraced)
{
	pid_t pid = child_pausing();
	REQUIRE_OK(kill(pid, SIGSTOP));
	siginfo_t si;
	REQUIRE_OK(waitid(P_PID, pid, &si, WSTOPPED));
	CHECK_EQ(si.si_code, CLD_STOPPED);
	CHECK_EQ(waitpid(pid, NULL, WNOHANG), 0);
	kill(pid, SIGKILL);
	CHECK_EQ(waitpid(pid, NULL, 0), pid);
}

TEST(waitid_siginfo_exited_and_killed)
{
	pid_t a = child_exiting(5);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	REQUIRE_OK(waitid(P_PID, a, &si, WEXITED));
	CHECK_EQ(si.si_signo, SIGCHLD);
	CHECK_EQ(si.si_code, CLD_EXITED);
	CHECK_EQ(si.si_pid, a);
	CHECK_EQ(si.si_status, 5);
	CHECK_EQ(si.si_uid, getuid());
	pid_t b = child_pausing();
	kill(b, SIGKILL);
	REQUIRE_OK(waitid(P_PID, b, &si, WEXITED));
	CHECK_EQ(si.si_code, CLD_KILLED);
	CHECK_EQ(si.si_status, SIGKILL);
}

TEST(waitid_wnowait_leaves_zombie)
{
	pid_t pid = child_exiting(8);
	siginfo_t si;
	REQUIRE_OK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	CHECK_EQ(si.si_pid, pid);
	REQUIRE_OK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	CHECK_EQ(si.si_status, 8);
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(WEXITSTATUS(st), 8);
}

TEST(waitid_p_pgid_and_wait4_negative_pid)
{
	pid_t a = REQUIRE_OK(fork());
	if (a == 0) {
		setpgid(0, 0);
		_exit(1);
	}
	setpgid(a, a); /* whichever runs first */
	pid_t other = child_exiting(2);
	siginfo_t si;
	REQUIRE_OK(waitid(P_PGID, a, &si, WEXITED));
	CHECK_EQ(si.si_pid, a);
	/* The other child is in our group: pid 0 and -pgrp select it. */
	int st;
	CHECK_EQ(waitpid(-getpgrp(), &st, 0), other);
	CHECK_ERR(waitpid(0, &st, WNOHANG), ECHILD);
}

TEST(waitpid_zero_is_own_group)
{
	pid_t a = REQUIRE_OK(fork());
	if (a == 0) {
		setpgid(0, 0);
		usleep(20000);
		_exit(1);
	}
	setpgid(a, a);
	pid_t b = child_exiting(2);
	int st;
	CHECK_EQ(waitpid(0, &st, 0), b);
	CHECK_EQ(waitpid(0, &st, WNOHANG), -1);
	CHECK_EQ(waitpid(a, &st, 0), a);
}

TEST(waitid_p_all_any_child)
{
	pid_t pid = child_exiting(4);
	siginfo_t si;
	REQUIRE_OK(waitid(P_ALL, 12345, &si, WEXITED));
	CHECK_EQ(si.si_pid, pid);
	CHECK_EQ(si.si_status, 4);
}

TEST(invalid_arguments_einval)
{
	siginfo_t si;
	CHECK_ERR(waitid(P_ALL, 0, &si, 0), EINVAL);
	CHECK_ERR(waitid(P_ALL, 0, &si, WNOHANG), EINVAL);
	CHECK_ERR(waitid((idtype_t)42, 0, &si, WEXITED), EINVAL);
	CHECK_ERR(waitid(P_PID, 0, &si, WEXITED), EINVAL);
	CHECK_ERR(waitpid(-1, NULL, 0x1000000), EINVAL);
}

TEST(bad_status_pointer_efault_reaps)
{
	pid_t pid = child_exiting(0);
	usleep(20000);
	CHECK_ERR(syscall(SYS_wait4, pid, (int *)1, 0, NULL), EFAULT);
	CHECK_ERR(waitpid(pid, NULL, WNOHANG), ECHILD);
}

static double cpu_seconds(struct rusage *ru)
{
	return ru->ru_utime.tv_sec + ru->ru_stime.tv_sec +
	       (ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1e6;
}

TEST(wait4_rusage_counts_child_cpu)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		struct timespec ts;
		do
			clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
		while (ts.tv_sec == 0 && ts.tv_nsec < 60 * 1000 * 1000);
		_exit(0);
	}
	struct rusage ru;
	memset(&ru, 0, sizeof(ru));
	int st;
	REQUIRE_EQ(wait4(pid, &st, 0, &ru), pid);
	CHECK_GE(cpu_seconds(&ru), 0.03);
	struct rusage ch;
	REQUIRE_OK(getrusage(RUSAGE_CHILDREN, &ch));
	CHECK_GE(cpu_seconds(&ch), 0.03);
}
