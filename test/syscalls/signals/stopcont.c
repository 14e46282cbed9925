/* SIGSTOP/SIGCONT and the job-control stops of a child, as seen by
 * waitpid(WUNTRACED/WCONTINUED), waitid and SIGCHLD. */
#include "lt.h"

static pid_t sleeper(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static int wait_status(pid_t pid, int opts)
{
	int st = -1;
	pid_t r;
	do
		r = waitpid(pid, &st, opts);
	while (r < 0 && errno == EINTR);
	return r == pid ? st : -1;
}

TEST(sigstop_reported_by_wuntraced)
{
	pid_t pid = REQUIRE_OK(sleeper());
	REQUIRE_OK(kill(pid, SIGSTOP));
	int st = wait_status(pid, WUNTRACED);
	CHECK(WIFSTOPPED(st));
	CHECK_EQ(WSTOPSIG(st), SIGSTOP);
	REQUIRE_OK(kill(pid, SIGKILL));
	CHECK_EQ(lt_wait_exit(pid), 128 + SIGKILL);
}

TEST(stop_reported_once)
{
	pid_t pid = REQUIRE_OK(sleeper());
	REQUIRE_OK(kill(pid, SIGSTOP));
	int st = wait_status(pid, WUNTRACED);
	CHECK(WIFSTOPPED(st));
	/* Already reported: nothing more to say. */
	CHECK_EQ(waitpid(pid, &st, WUNTRACED | WNOHANG), 0);
	kill(pid, SIGKILL);
	lt_wait_exit(pid);
}

TEST(stop_not_reported_without_wuntraced)
{
	pid_t pid = REQUIRE_OK(sleeper());
	REQUIRE_OK(kill(pid, SIGSTOP));
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	REQUIRE_OK(waitid(P_PID, pid, &si, WSTOPPED | WNOWAIT));
	int st;
	CHECK_EQ(waitpid(pid, &st, WNOHANG), 0);
	kill(pid, SIGKILL);
	lt_wait_exit(pid);
}

TEST(sigcont_reported_by_wcontinued)
{
	pid_t pid = REQUIRE_OK(sleeper());
	REQUIRE_OK(kill(pid, SIGSTOP));
	REQUIRE(WIFSTOPPED(wait_status(pid, WUNTRACED)));
	REQUIRE_OK(kill(pid, SIGCONT));
	int st = wait_status(pid, WCONTINUED);
	CHECK(WIFCONTINUED(st));
	CHECK_EQ(st, 0xffff);
	kill(pid, SIGKILL);
	lt_wait_exit(pid);
}

TEST(sigtstp_stops_with_its_number)
{
	pid_t pid = REQUIRE_OK(sleeper());
	REQUIRE_OK(kill(pid, SIGTSTP));
	int st = wait_status(pid, WUNTRACED);
	CHECK(WIFSTOPPED(st));
	CHECK_EQ(WSTOPSIG(st), SIGTSTP);
	kill(pid, SIGKILL);
	lt_wait_exit(pid);
}

TEST(sigttin_sigttou_stop)
{
	int sigs[] = {SIGTTIN, SIGTTOU};
	for (int i = 0; i < 2; i++) {
		pid_t pid = REQUIRE_OK(sleeper());
		REQUIRE_OK(kill(pid, sigs[i]));
		int st = wait_status(pid, WUNTRACED);
		CHECK(WIFSTOPPED(st));
		CHECK_EQ(WSTOPSIG(st), sigs[i]);
		kill(pid, SIGKILL);
		lt_wait_exit(pid);
	}
}

TEST(sigtstp_with_handler_does_not_stop)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		signal(SIGTSTP, SIG_IGN);
		write(p[1], "x", 1);
		for (;;)
			pause();
	}
	char c;
	REQUIRE_EQ(read(p[0], &c, 1), 1);
	REQUIRE_OK(kill(pid, SIGTSTP));
	/* Not stopped: signal 0 and a WNOHANG wait see it running. */
	usleep(50000);
	int st;
	CHECK_EQ(waitpid(pid, &st, WUNTRACED | WNOHANG), 0);
	kill(pid, SIGKILL);
	CHECK_EQ(lt_wait_exit(pid), 128 + SIGKILL);
}

TEST(sigkill_ends_stopped_child)
{
	pid_t pid = REQUIRE_OK(sleeper());
	REQUIRE_OK(kill(pid, SIGSTOP));
	REQUIRE(WIFSTOPPED(wait_status(pid, WUNTRACED)));
	REQUIRE_OK(kill(pid, SIGKILL));
	CHECK_EQ(lt_wait_exit(pid), 128 + SIGKILL);
}

TEST(signal_to_stopped_child_waits_for_cont)
{
	pid_t pid = REQUIRE_OK(sleeper());
	REQUIRE_OK(kill(pid, SIGSTOP));
	REQUIRE(WIFSTOPPED(wait_status(pid, WUNTRACED)));
	REQUIRE_OK(kill(pid, SIGTERM));
	usleep(50000);
	int st;
	CHECK_EQ(waitpid(pid, &st, WNOHANG), 0); /* still stopped */
	REQUIRE_OK(kill(pid, SIGCONT));
	CHECK_EQ(lt_wait_exit(pid), 128 + SIGTERM);
}

TEST(waitid_stopped_and_continued_codes)
{
	pid_t pid = REQUIRE_OK(sleeper());
	REQUIRE_OK(kill(pid, SIGSTOP));
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	REQUIRE_OK(waitid(P_PID, pid, &si, WSTOPPED));
	CHECK_EQ(si.si_pid, pid);
	CHECK_EQ(si.si_code, CLD_STOPPED);
	CHECK_EQ(si.si_status, SIGSTOP);
	CHECK_EQ(si.si_signo, SIGCHLD);
	REQUIRE_OK(kill(pid, SIGCONT));
	memset(&si, 0, sizeof(si));
	REQUIRE_OK(waitid(P_PID, pid, &si, WCONTINUED));
	CHECK_EQ(si.si_code, CLD_CONTINUED);
	CHECK_EQ(si.si_status, SIGCONT);
	kill(pid, SIGKILL);
	lt_wait_exit(pid);
}

static volatile sig_atomic_t chld_code[4], nchld;
static void chld_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (nchld < 4)
		chld_code[nchld++] = si->si_code;
}

TEST(sigchld_for_stop_and_continue)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = chld_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	REQUIRE_OK(sigaction(SIGCHLD, &sa, NULL));
	sigset_t s, old;
	sigemptyset(&s);
	sigaddset(&s, SIGCHLD);
	REQUIRE_OK(sigprocmask(SIG_BLOCK, &s, &old));
	pid_t pid = REQUIRE_OK(sleeper());
	REQUIRE_OK(kill(pid, SIGSTOP));
	siginfo_t si;
	REQUIRE_OK(sigwaitinfo(&s, &si));
	CHECK_EQ(si.si_code, CLD_STOPPED);
	CHECK_EQ(si.si_pid, pid);
	CHECK_EQ(si.si_uid, getuid());
	CHECK_EQ(si.si_status, SIGSTOP);
	REQUIRE_OK(kill(pid, SIGCONT));
	REQUIRE_OK(sigwaitinfo(&s, &si));
	CHECK_EQ(si.si_code, CLD_CONTINUED);
	CHECK_EQ(si.si_uid, getuid());
	CHECK_EQ(si.si_status, SIGCONT);
	kill(pid, SIGKILL);
	REQUIRE_OK(sigwaitinfo(&s, &si));
	CHECK_EQ(si.si_code, CLD_KILLED);
	CHECK_EQ(si.si_status, SIGKILL);
	lt_wait_exit(pid);
}

TEST(nocldstop_suppresses_stop_sigchld)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = chld_handler;
	sa.sa_flags = SA_SIGINFO | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	REQUIRE_OK(sigaction(SIGCHLD, &sa, NULL));
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGCHLD);
	REQUIRE_OK(sigprocmask(SIG_BLOCK, &s, NULL));
	pid_t pid = REQUIRE_OK(sleeper());
	REQUIRE_OK(kill(pid, SIGSTOP));
	REQUIRE(WIFSTOPPED(wait_status(pid, WUNTRACED)));
	REQUIRE_OK(kill(pid, SIGCONT));
	REQUIRE(WIFCONTINUED(wait_status(pid, WCONTINUED)));
	sigset_t p;
	sigpending(&p);
	CHECK_EQ(sigismember(&p, SIGCHLD), 0);
	kill(pid, SIGKILL);
	siginfo_t si;
	REQUIRE_OK(sigwaitinfo(&s, &si));
	CHECK_EQ(si.si_code, CLD_KILLED); /* exits are still reported */
	lt_wait_exit(pid);
}

TEST(sigcont_to_running_child_no_event)
{
	pid_t pid = REQUIRE_OK(sleeper());
	REQUIRE_OK(kill(pid, SIGCONT));
	usleep(20000);
	int st;
	CHECK_EQ(waitpid(pid, &st, WCONTINUED | WNOHANG), 0);
	kill(pid, SIGKILL);
	lt_wait_exit(pid);
}

TEST(stop_and_cont_cancel_pending)
{
	/* SIGCONT discards a pending stop signal and vice versa. */
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, SIGTSTP);
		sigaddset(&s, SIGCONT);
		sigprocmask(SIG_BLOCK, &s, NULL);
		raise(SIGTSTP);
		raise(SIGCONT);
		sigset_t p;
		sigpending(&p);
		int r = sigismember(&p, SIGTSTP) == 0 && sigismember(&p, SIGCONT) == 1 ? 0 : 1;
		raise(SIGTSTP);
		sigpending(&p);
		if (sigismember(&p, SIGCONT) != 0 || sigismember(&p, SIGTSTP) != 1)
			r |= 2;
		_exit(r);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}
