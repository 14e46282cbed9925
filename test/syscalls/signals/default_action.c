/* Default actions: which signals terminate, dump core, are ignored or
 * stop, and the wait statuses they leave. */
#include "lt.h"

#include <pthread.h>
#include <sys/resource.h>

/* run_raise forks a child that raises sig with the default action and
 * returns its wait status (or -1); the child exits 0 if it survives. */
static int run_raise(int sig)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct rlimit rl = {0, 0};
		setrlimit(RLIMIT_CORE, &rl);
		signal(sig, SIG_DFL);
		raise(sig);
		_exit(0);
	}
	int st;
	if (waitpid(pid, &st, WUNTRACED) != pid)
		return -1;
	if (WIFSTOPPED(st)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return st;
}

static void check_term(int sig)
{
	int st = run_raise(sig);
	if (!WIFSIGNALED(st) || WTERMSIG(st) != sig)
		FAIL("signal %d: status %#x, want killed by it", sig, st);
}

TEST(terminating_signals)
{
	int sigs[] = {SIGHUP, SIGINT, SIGPIPE, SIGALRM, SIGTERM, SIGUSR1,
		      SIGUSR2, SIGPROF, SIGVTALRM, SIGIO, SIGSTKFLT, SIGPWR};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		check_term(sigs[i]);
}

TEST(realtime_signals_terminate)
{
	for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig += 7)
		check_term(sig);
	check_term(SIGRTMAX);
}

TEST(core_signals_terminate)
{
	/* Whether a core is dumped depends on the host: check the signal. */
	int sigs[] = {SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE,
		      SIGSEGV, SIGXCPU, SIGXFSZ, SIGSYS};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		check_term(sigs[i]);
}

TEST(term_signals_do_not_dump_core)
{
	int st = run_raise(SIGTERM);
	CHECK(WIFSIGNALED(st));
	CHECK_EQ(WCOREDUMP(st), 0);
	st = run_raise(SIGKILL);
	CHECK(WIFSIGNALED(st));
	CHECK_EQ(WCOREDUMP(st), 0);
}

TEST(ignored_by_default)
{
	int sigs[] = {SIGCHLD, SIGURG, SIGWINCH, SIGCONT};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		int st = run_raise(sigs[i]);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			FAIL("signal %d: status %#x, want exit 0", sigs[i], st);
	}
}

TEST(stop_signals_stop)
{
	int sigs[] = {SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		int st = run_raise(sigs[i]);
		if (!WIFSTOPPED(st) || WSTOPSIG(st) != sigs[i])
			FAIL("signal %d: status %#x, want stopped by it", sigs[i], st);
	}
}

TEST(sigkill_status)
{
	int st = run_raise(SIGKILL);
	CHECK(WIFSIGNALED(st));
	CHECK_EQ(WTERMSIG(st), SIGKILL);
	CHECK_EQ(st & 0x7f, SIGKILL);
}

TEST(exit_status_values)
{
	int codes[] = {0, 1, 42, 127, 255, 256, -1};
	int want[] = {0, 1, 42, 127, 255, 0, 255};
	for (int i = 0; i < 7; i++) {
		pid_t pid = REQUIRE_OK(fork());
		if (pid == 0)
			_exit(codes[i]);
		int st;
		REQUIRE_EQ(waitpid(pid, &st, 0), pid);
		CHECK(WIFEXITED(st));
		CHECK_EQ(WEXITSTATUS(st), want[i]);
		CHECK_EQ(st, want[i] << 8);
	}
}

TEST(abort_terminates_despite_handler_return)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		struct rlimit rl = {0, 0};
		setrlimit(RLIMIT_CORE, &rl);
		signal(SIGABRT, SIG_IGN);
		abort();
	}
	int st;
	REQUIRE_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFSIGNALED(st));
	CHECK_EQ(WTERMSIG(st), SIGABRT);
}

TEST(blocked_then_unblocked_terminates)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, SIGTERM);
		sigprocmask(SIG_BLOCK, &s, NULL);
		raise(SIGTERM);
		sigprocmask(SIG_UNBLOCK, &s, NULL);
		_exit(0);
	}
	CHECK_EQ(lt_wait_exit(pid), 128 + SIGTERM);
}

TEST(ignored_sigterm_survives)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		signal(SIGTERM, SIG_IGN);
		raise(SIGTERM);
		kill(getpid(), SIGTERM);
		_exit(9);
	}
	CHECK_EQ(lt_wait_exit(pid), 9);
}

TEST(ignore_survives_exec_probe)
{
	/* /bin/sh -c 'kill -TERM $$; exit 3' with SIGTERM ignored survives. */
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		signal(SIGTERM, SIG_IGN);
		execl("/bin/sh", "sh", "-c", "kill -TERM $$; exit 3", (char *)NULL);
		_exit(100);
	}
	CHECK_EQ(lt_wait_exit(pid), 3);
}

static void *raise_term(void *arg)
{
	(void)arg;
	raise(SIGTERM); /* directed at this thread, fatal to all */
	return NULL;
}

TEST(fatal_signal_in_thread_kills_process)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		pthread_t th;
		pthread_create(&th, NULL, raise_term, NULL);
		for (;;)
			pause();
	}
	CHECK_EQ(lt_wait_exit(pid), 128 + SIGTERM);
}
