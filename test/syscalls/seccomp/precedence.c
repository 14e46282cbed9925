/* Several filters: the most restrictive action wins, whatever the order. */
#include "lt_seccomp.h"

#include <sys/resource.h>

static volatile int trapped = -1;

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	trapped = si->si_errno;
}

/*
 * outcome runs getppid in a child under filters answering a and then b
 * (each only for getppid) and describes what happened: "allow", "errno N",
 * "enosys" (TRACE/USER_NOTIF without a tracer), "trap N" (SIGSYS handled,
 * si_errno N) or "killed N" (the signal that killed the child).
 */
static void outcome(unsigned a, unsigned b, char *out, size_t n)
{
	int p[2];
	if (pipe(p) != 0)
		ABORT("pipe: %s", strerror(errno));
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		struct rlimit rl = {0, 0};
		setrlimit(RLIMIT_CORE, &rl);
		struct sigaction sa = {0};
		sa.sa_sigaction = on_sigsys;
		sa.sa_flags = SA_SIGINFO;
		sigaction(SIGSYS, &sa, NULL);
		lt_ret_for(SYS_getppid, a);
		lt_ret_for(SYS_getppid, b);
		errno = 0;
		long r = syscall(SYS_getppid);
		char msg[64];
		if (trapped >= 0)
			snprintf(msg, sizeof(msg), "trap %d", trapped);
		else if (r >= 0)
			snprintf(msg, sizeof(msg), "allow");
		else if (errno == ENOSYS)
			snprintf(msg, sizeof(msg), "enosys");
		else
			snprintf(msg, sizeof(msg), "errno %d", errno);
		write(p[1], msg, strlen(msg));
		_exit(0);
	}
	close(p[1]);
	ssize_t got = read(p[0], out, n - 1);
	close(p[0]);
	int st = lt_wait_exit(pid);
	if (got > 0)
		out[got] = 0;
	else
		snprintf(out, n, "killed %d", st - 128);
}

static void check_both_orders(unsigned a, unsigned b, const char *want)
{
	char got[64];
	outcome(a, b, got, sizeof(got));
	CHECK_STREQ(got, want);
	outcome(b, a, got, sizeof(got));
	CHECK_STREQ(got, want);
}

TEST(errno_beats_allow)
{
	check_both_orders(SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | 5, "errno 5");
}

TEST(errno_beats_log)
{
	check_both_orders(SECCOMP_RET_LOG, SECCOMP_RET_ERRNO | 6, "errno 6");
}

TEST(log_beats_allow)
{
	check_both_orders(SECCOMP_RET_LOG, SECCOMP_RET_ALLOW, "allow");
}

TEST(trace_beats_allow)
{
	check_both_orders(SECCOMP_RET_TRACE, SECCOMP_RET_ALLOW, "enosys");
}

TEST(errno_beats_trace)
{
	check_both_orders(SECCOMP_RET_TRACE, SECCOMP_RET_ERRNO | 7, "errno 7");
}

TEST(user_notif_without_listener)
{
	check_both_orders(SECCOMP_RET_USER_NOTIF, SECCOMP_RET_ALLOW, "enosys");
}

TEST(trap_beats_errno)
{
	check_both_orders(SECCOMP_RET_TRAP | 9, SECCOMP_RET_ERRNO | 8, "trap 9");
}

TEST(kill_thread_beats_trap)
{
	char want[32];
	snprintf(want, sizeof(want), "killed %d", SIGSYS);
	check_both_orders(SECCOMP_RET_TRAP, SECCOMP_RET_KILL_THREAD, want);
}

TEST(kill_process_beats_everything)
{
	char want[32];
	snprintf(want, sizeof(want), "killed %d", SIGSYS);
	check_both_orders(SECCOMP_RET_KILL_THREAD, SECCOMP_RET_KILL_PROCESS, want);
	check_both_orders(SECCOMP_RET_ALLOW, SECCOMP_RET_KILL_PROCESS, want);
}

TEST(same_action_newest_data)
{
	char got[64];
	outcome(SECCOMP_RET_ERRNO | 1, SECCOMP_RET_ERRNO | 2, got, sizeof(got));
	CHECK_STREQ(got, "errno 2");
	outcome(SECCOMP_RET_TRAP | 3, SECCOMP_RET_TRAP | 4, got, sizeof(got));
	CHECK_STREQ(got, "trap 4");
}

TEST(other_calls_unaffected)
{
	lt_ret_for(SYS_getppid, SECCOMP_RET_ERRNO | 1);
	lt_ret_for(SYS_getuid, SECCOMP_RET_ERRNO | 2);
	CHECK_ERR(syscall(SYS_getppid), 1);
	CHECK_ERR(syscall(SYS_getuid), 2);
	CHECK_EQ(syscall(SYS_getpid), getpid());
}
