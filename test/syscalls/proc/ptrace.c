/*
 * ptrace(2) without a tracer: requests on tasks nobody traces. runsc-lite
 * implements no tracing (like Yama's ptrace_scope 3), so becoming a tracee
 * or a tracer is refused there; everything else agrees with Linux.
 */
#include "lt.h"

#include <sys/ptrace.h>

/* A child that waits to be killed. */
static pid_t idle_child(void) {
	pid_t pid = fork();
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static void reap(pid_t pid) {
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

TEST(peek_untraced_child_is_esrch) {
	pid_t pid = idle_child();
	REQUIRE_GT(pid, 0);
	errno = 0;
	CHECK_ERR(ptrace(PTRACE_PEEKDATA, pid, NULL, NULL), ESRCH);
	reap(pid);
}

TEST(cont_untraced_child_is_esrch) {
	pid_t pid = idle_child();
	REQUIRE_GT(pid, 0);
	CHECK_ERR(ptrace(PTRACE_CONT, pid, NULL, NULL), ESRCH);
	CHECK_ERR(ptrace(PTRACE_DETACH, pid, NULL, NULL), ESRCH);
	CHECK_ERR(ptrace(PTRACE_GETREGS, pid, NULL, NULL), ESRCH);
	reap(pid);
}

TEST(unknown_request_untraced_is_esrch) {
	pid_t pid = idle_child();
	REQUIRE_GT(pid, 0);
	CHECK_ERR(ptrace((enum __ptrace_request)0x7fff, pid, NULL, NULL), ESRCH);
	reap(pid);
}

TEST(no_such_process_is_esrch) {
	CHECK_ERR(ptrace(PTRACE_ATTACH, 999999, NULL, NULL), ESRCH);
	CHECK_ERR(ptrace(PTRACE_SEIZE, 999999, NULL, NULL), ESRCH);
	CHECK_ERR(ptrace(PTRACE_PEEKDATA, 999999, NULL, NULL), ESRCH);
	CHECK_ERR(ptrace(PTRACE_CONT, -1, NULL, NULL), ESRCH);
}

TEST(attach_to_own_thread_group_is_eperm) {
	CHECK_ERR(ptrace(PTRACE_ATTACH, getpid(), NULL, NULL), EPERM);
	CHECK_ERR(ptrace(PTRACE_SEIZE, getpid(), NULL, NULL), EPERM);
}

TEST(traceme_is_refused) {
	ONLY_SANDBOX("runsc-lite refuses tracing like Yama ptrace_scope 3; this host allows PTRACE_TRACEME");
	CHECK_ERR(ptrace(PTRACE_TRACEME, 0, NULL, NULL), EPERM);
}

TEST(attach_child_is_refused) {
	ONLY_SANDBOX("runsc-lite refuses tracing like Yama ptrace_scope 3; this host lets a parent attach");
	pid_t pid = idle_child();
	REQUIRE_GT(pid, 0);
	CHECK_ERR(ptrace(PTRACE_ATTACH, pid, NULL, NULL), EPERM);
	CHECK_ERR(ptrace(PTRACE_SEIZE, pid, NULL, NULL), EPERM);
	reap(pid);
}

/* A traced child stops at exec with SIGTRAP natively; in runsc-lite the
 * request fails and the exec goes ahead. Either way the child exits 0. */
TEST(traceme_then_exec_child_exits) {
	pid_t pid = fork();
	REQUIRE_GE(pid, 0);
	if (pid == 0) {
		long r = ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		if (r != 0 && errno != EPERM)
			_exit(3);
		execl("/bin/true", "true", (char *)NULL);
		_exit(4);
	}
	int st;
	REQUIRE_EQ(waitpid(pid, &st, 0), pid);
	if (WIFSTOPPED(st)) {
		CHECK_EQ(WSTOPSIG(st), SIGTRAP);
		CHECK_OK(ptrace(PTRACE_DETACH, pid, NULL, NULL));
		REQUIRE_EQ(waitpid(pid, &st, 0), pid);
	}
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}
