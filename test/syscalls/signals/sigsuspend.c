/* sigsuspend and pause: temporary masks, EINTR, what wakes them. */
#include "lt.h"

#include <sys/syscall.h>

static volatile sig_atomic_t hits, inside_mask_usr1, inside_mask_usr2, last_sig;

static void handler(int sig)
{
	sigset_t cur;
	sigprocmask(SIG_SETMASK, NULL, &cur);
	inside_mask_usr1 = sigismember(&cur, SIGUSR1);
	inside_mask_usr2 = sigismember(&cur, SIGUSR2);
	last_sig = sig;
	hits++;
}

static void install(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static sigset_t set_of(int a, int b)
{
	sigset_t s;
	sigemptyset(&s);
	if (a)
		sigaddset(&s, a);
	if (b)
		sigaddset(&s, b);
	return s;
}

/* signal_later forks a child that sends sigs to the caller once it sleeps. */
static pid_t signal_later(int sig1, int sig2)
{
	pid_t parent = getpid(), pid = fork();
	if (pid == 0) {
		lt_wait_sleeping(parent, parent);
		kill(parent, sig1);
		if (sig2) {
			usleep(20000);
			kill(parent, sig2);
		}
		_exit(0);
	}
	return pid;
}

TEST(pending_delivered_immediately_eintr)
{
	install(SIGUSR1);
	sigset_t b = set_of(SIGUSR1, 0), empty = set_of(0, 0);
	REQUIRE_OK(sigprocmask(SIG_BLOCK, &b, NULL));
	REQUIRE_OK(raise(SIGUSR1));
	CHECK_ERR(sigsuspend(&empty), EINTR);
	CHECK_EQ(hits, 1);
	/* The old mask is back. */
	sigset_t cur;
	sigprocmask(SIG_SETMASK, NULL, &cur);
	CHECK_EQ(sigismember(&cur, SIGUSR1), 1);
}

TEST(handler_sees_suspend_mask)
{
	install(SIGUSR1);
	sigset_t b = set_of(SIGUSR1, 0), susp = set_of(SIGUSR2, 0);
	REQUIRE_OK(sigprocmask(SIG_BLOCK, &b, NULL));
	REQUIRE_OK(raise(SIGUSR1));
	CHECK_ERR(sigsuspend(&susp), EINTR);
	CHECK_EQ(hits, 1);
	CHECK_EQ(inside_mask_usr1, 1); /* the signal being handled */
	CHECK_EQ(inside_mask_usr2, 1); /* from the suspend mask */
	sigset_t cur;
	sigprocmask(SIG_SETMASK, NULL, &cur);
	CHECK_EQ(sigismember(&cur, SIGUSR2), 0);
}

TEST(woken_by_signal_from_child)
{
	install(SIGUSR1);
	sigset_t b = set_of(SIGUSR1, 0), empty = set_of(0, 0);
	REQUIRE_OK(sigprocmask(SIG_BLOCK, &b, NULL));
	pid_t pid = REQUIRE_OK(signal_later(SIGUSR1, 0));
	CHECK_ERR(sigsuspend(&empty), EINTR);
	CHECK_EQ(hits, 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(masked_signal_does_not_wake)
{
	install(SIGUSR1);
	install(SIGUSR2);
	sigset_t b = set_of(SIGUSR1, SIGUSR2), susp = set_of(SIGUSR2, 0);
	REQUIRE_OK(sigprocmask(SIG_BLOCK, &b, NULL));
	pid_t pid = REQUIRE_OK(signal_later(SIGUSR2, SIGUSR1));
	CHECK_ERR(sigsuspend(&susp), EINTR);
	CHECK_EQ(hits, 1);
	CHECK_EQ(last_sig, SIGUSR1);
	sigset_t p;
	sigpending(&p);
	CHECK_EQ(sigismember(&p, SIGUSR2), 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(ignored_signal_does_not_wake)
{
	install(SIGUSR1);
	signal(SIGUSR2, SIG_IGN);
	sigset_t b = set_of(SIGUSR1, 0), empty = set_of(0, 0);
	REQUIRE_OK(sigprocmask(SIG_BLOCK, &b, NULL));
	/* SIGUSR2 (ignored) and then SIGWINCH (default: ignore) come first. */
	pid_t pid = REQUIRE_OK(signal_later(SIGUSR2, SIGUSR1));
	CHECK_ERR(sigsuspend(&empty), EINTR);
	CHECK_EQ(hits, 1);
	CHECK_EQ(last_sig, SIGUSR1);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(default_ignored_signal_does_not_wake)
{
	install(SIGUSR1);
	sigset_t b = set_of(SIGUSR1, 0), empty = set_of(0, 0);
	REQUIRE_OK(sigprocmask(SIG_BLOCK, &b, NULL));
	pid_t pid = REQUIRE_OK(signal_later(SIGWINCH, SIGUSR1));
	CHECK_ERR(sigsuspend(&empty), EINTR);
	CHECK_EQ(last_sig, SIGUSR1);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(pause_eintr)
{
	install(SIGUSR1);
	pid_t pid = REQUIRE_OK(signal_later(SIGUSR1, 0));
	CHECK_ERR(pause(), EINTR);
	CHECK_EQ(hits, 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(sigkill_cannot_be_suspended_out)
{
	/* A mask of everything still lets SIGKILL end the process. */
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		sigset_t all;
		sigfillset(&all);
		sigsuspend(&all);
		_exit(0);
	}
	lt_wait_sleeping(pid, pid);
	REQUIRE_OK(kill(pid, SIGKILL));
	CHECK_EQ(lt_wait_exit(pid), 128 + SIGKILL);
}

TEST(terminating_signal_during_suspend)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		sigset_t empty;
		sigemptyset(&empty);
		sigsuspend(&empty);
		_exit(0);
	}
	lt_wait_sleeping(pid, pid);
	REQUIRE_OK(kill(pid, SIGTERM));
	CHECK_EQ(lt_wait_exit(pid), 128 + SIGTERM);
}

TEST(bad_args)
{
	unsigned long long m = 0;
	CHECK_ERR(syscall(SYS_rt_sigsuspend, &m, 4), EINVAL);
	CHECK_ERR(syscall(SYS_rt_sigsuspend, &m, 16), EINVAL);
	CHECK_ERR(syscall(SYS_rt_sigsuspend, (void *)1, 8), EFAULT);
}
