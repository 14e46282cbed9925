/* sigaction: old actions, flags (SA_NODEFER, SA_RESETHAND, SA_SIGINFO,
 * SA_ONSTACK), sa_mask, errors, and what exec keeps. */
#include "lt.h"

#include <stdint.h>
#include <sys/syscall.h>

static volatile sig_atomic_t hits, depth, max_depth, blocked_inside;

static void count_handler(int sig)
{
	(void)sig;
	hits++;
}

/* Raises its own signal once from inside; records the nesting depth. */
static void nesting_handler(int sig)
{
	depth++;
	if (depth > max_depth)
		max_depth = depth;
	if (hits++ == 0)
		raise(sig);
	depth--;
}

static void mask_probe_handler(int sig)
{
	sigset_t cur;
	sigprocmask(SIG_SETMASK, NULL, &cur);
	blocked_inside = sigismember(&cur, sig) * 1 + sigismember(&cur, SIGUSR2) * 2;
	hits++;
}

static int install(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

TEST(default_action_initially)
{
	struct sigaction old;
	REQUIRE_OK(sigaction(SIGUSR1, NULL, &old));
	CHECK_EQ(old.sa_handler, SIG_DFL);
}

TEST(old_action_returned)
{
	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = count_handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	REQUIRE_OK(sigaction(SIGUSR1, &sa, NULL));
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = 0;
	sigemptyset(&sa.sa_mask);
	REQUIRE_OK(sigaction(SIGUSR1, &sa, &old));
	CHECK_EQ(old.sa_handler, count_handler);
	CHECK(old.sa_flags & SA_RESTART);
	CHECK_EQ(sigismember(&old.sa_mask, SIGUSR2), 1);
	CHECK_EQ(sigismember(&old.sa_mask, SIGUSR1), 0);
	REQUIRE_OK(sigaction(SIGUSR1, NULL, &old));
	CHECK_EQ(old.sa_handler, SIG_IGN);
	CHECK_EQ(old.sa_flags & SA_RESTART, 0);
}

TEST(query_does_not_change)
{
	struct sigaction a, b;
	REQUIRE_OK(install(SIGUSR2, count_handler, SA_SIGINFO | SA_ONSTACK));
	REQUIRE_OK(sigaction(SIGUSR2, NULL, &a));
	REQUIRE_OK(sigaction(SIGUSR2, NULL, &b));
	CHECK_EQ(a.sa_handler, count_handler);
	CHECK_EQ(b.sa_handler, count_handler);
	CHECK(a.sa_flags & SA_SIGINFO);
	CHECK(a.sa_flags & SA_ONSTACK);
}

TEST(sigkill_sigstop_einval)
{
	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	CHECK_ERR(sigaction(SIGKILL, &sa, NULL), EINVAL);
	CHECK_ERR(sigaction(SIGSTOP, &sa, NULL), EINVAL);
	sa.sa_handler = SIG_DFL;
	CHECK_ERR(sigaction(SIGKILL, &sa, NULL), EINVAL);
	/* Querying them is fine. */
	CHECK_OK(sigaction(SIGKILL, NULL, &old));
	CHECK_EQ(old.sa_handler, SIG_DFL);
	CHECK_OK(sigaction(SIGSTOP, NULL, &old));
}

TEST(bad_signal_numbers)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	CHECK_ERR(syscall(SYS_rt_sigaction, 0, &sa, NULL, 8), EINVAL);
	CHECK_ERR(syscall(SYS_rt_sigaction, 65, &sa, NULL, 8), EINVAL);
	CHECK_ERR(syscall(SYS_rt_sigaction, -1, &sa, NULL, 8), EINVAL);
	CHECK_ERR(syscall(SYS_rt_sigaction, 65, NULL, NULL, 8), EINVAL);
}

TEST(bad_sigsetsize)
{
	CHECK_ERR(syscall(SYS_rt_sigaction, SIGUSR1, NULL, NULL, 4), EINVAL);
	CHECK_ERR(syscall(SYS_rt_sigaction, SIGUSR1, NULL, NULL, 16), EINVAL);
}

TEST(bad_pointers_efault)
{
	CHECK_ERR(syscall(SYS_rt_sigaction, SIGUSR1, (void *)1, NULL, 8), EFAULT);
	CHECK_ERR(syscall(SYS_rt_sigaction, SIGUSR1, NULL, (void *)1, 8), EFAULT);
	/* The action was not changed by the failed call. */
	struct sigaction old;
	CHECK_OK(sigaction(SIGUSR1, NULL, &old));
	CHECK_EQ(old.sa_handler, SIG_DFL);
}

TEST(handler_runs_and_signal_blocked_inside)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = mask_probe_handler;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	REQUIRE_OK(sigaction(SIGUSR1, &sa, NULL));
	REQUIRE_OK(raise(SIGUSR1));
	CHECK_EQ(hits, 1);
	CHECK_EQ(blocked_inside, 3); /* the signal itself and sa_mask */
	sigset_t cur;
	CHECK_OK(sigprocmask(SIG_SETMASK, NULL, &cur));
	CHECK_EQ(sigismember(&cur, SIGUSR1), 0);
	CHECK_EQ(sigismember(&cur, SIGUSR2), 0);
}

TEST(without_nodefer_no_nesting)
{
	REQUIRE_OK(install(SIGUSR1, nesting_handler, 0));
	REQUIRE_OK(raise(SIGUSR1));
	CHECK_EQ(hits, 2);	/* delivered again after the handler */
	CHECK_EQ(max_depth, 1); /* but not inside it */
}

TEST(nodefer_nests)
{
	REQUIRE_OK(install(SIGUSR1, nesting_handler, SA_NODEFER));
	REQUIRE_OK(raise(SIGUSR1));
	CHECK_EQ(hits, 2);
	CHECK_EQ(max_depth, 2);
}

TEST(nodefer_mask_probe)
{
	REQUIRE_OK(install(SIGUSR1, mask_probe_handler, SA_NODEFER));
	REQUIRE_OK(raise(SIGUSR1));
	CHECK_EQ(hits, 1);
	CHECK_EQ(blocked_inside, 0);
}

TEST(resethand_resets_to_default)
{
	REQUIRE_OK(install(SIGUSR1, mask_probe_handler, SA_RESETHAND));
	REQUIRE_OK(raise(SIGUSR1));
	CHECK_EQ(hits, 1);
	struct sigaction old;
	REQUIRE_OK(sigaction(SIGUSR1, NULL, &old));
	CHECK_EQ(old.sa_handler, SIG_DFL);
	/* A second SIGUSR1 now terminates: check it in a child. */
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		raise(SIGUSR1);
		_exit(0);
	}
	CHECK_EQ(lt_wait_exit(pid), 128 + SIGUSR1);
}

static volatile sig_atomic_t got_signo, got_code, got_pid, got_uid, got_int;

static void info_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_signo = si->si_signo;
	got_code = si->si_code;
	got_pid = si->si_pid;
	got_uid = si->si_uid;
	got_int = si->si_value.sival_int;
	hits += sig == si->si_signo;
}

static int install_info(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = info_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

TEST(siginfo_from_kill)
{
	REQUIRE_OK(install_info(SIGUSR1));
	REQUIRE_OK(kill(getpid(), SIGUSR1));
	CHECK_EQ(hits, 1);
	CHECK_EQ(got_signo, SIGUSR1);
	CHECK_EQ(got_code, SI_USER);
	CHECK_EQ(got_pid, getpid());
	CHECK_EQ(got_uid, getuid());
}

TEST(siginfo_from_sigqueue)
{
	REQUIRE_OK(install_info(SIGUSR2));
	union sigval v = {.sival_int = 4242};
	REQUIRE_OK(sigqueue(getpid(), SIGUSR2, v));
	CHECK_EQ(hits, 1);
	CHECK_EQ(got_code, SI_QUEUE);
	CHECK_EQ(got_pid, getpid());
	CHECK_EQ(got_uid, getuid());
	CHECK_EQ(got_int, 4242);
}

TEST(siginfo_from_tgkill)
{
	REQUIRE_OK(install_info(SIGUSR1));
	REQUIRE_OK(syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1));
	CHECK_EQ(hits, 1);
	CHECK_EQ(got_code, SI_TKILL);
	CHECK_EQ(got_pid, getpid());
}

TEST(siginfo_from_child_uid)
{
	REQUIRE_OK(install_info(SIGUSR1));
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	REQUIRE_OK(sigprocmask(SIG_BLOCK, &set, &old));
	pid_t parent = getpid();
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		/* Real uid 65534 but effective uid 0: allowed to signal,
		 * and si_uid is the real uid. */
		if (setresuid(65534, 0, 0) != 0)
			_exit(2);
		_exit(kill(parent, SIGUSR1) == 0 ? 0 : 3);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
	REQUIRE_OK(sigprocmask(SIG_SETMASK, &old, NULL));
	CHECK_EQ(hits, 1);
	CHECK_EQ(got_pid, pid);
	CHECK_EQ(got_uid, 65534); /* the sender's real uid */
}

static char altstack[65536];
static volatile uintptr_t handler_sp;

static void sp_handler(int sig)
{
	int local;
	(void)sig;
	handler_sp = (uintptr_t)&local;
	hits++;
}

TEST(onstack_uses_altstack)
{
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
	REQUIRE_OK(sigaltstack(&ss, NULL));
	REQUIRE_OK(install(SIGUSR1, sp_handler, SA_ONSTACK));
	REQUIRE_OK(raise(SIGUSR1));
	CHECK_EQ(hits, 1);
	CHECK_GE(handler_sp, (uintptr_t)altstack);
	CHECK_LT(handler_sp, (uintptr_t)altstack + sizeof(altstack));
}

TEST(no_onstack_uses_normal_stack)
{
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
	REQUIRE_OK(sigaltstack(&ss, NULL));
	REQUIRE_OK(install(SIGUSR1, sp_handler, 0));
	REQUIRE_OK(raise(SIGUSR1));
	CHECK_EQ(hits, 1);
	CHECK(handler_sp < (uintptr_t)altstack ||
	      handler_sp >= (uintptr_t)altstack + sizeof(altstack));
}

TEST(sig_ign_discards_and_drops_pending)
{
	sigset_t set, pend;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	REQUIRE_OK(sigprocmask(SIG_BLOCK, &set, NULL));
	REQUIRE_OK(raise(SIGUSR1));
	REQUIRE_OK(sigpending(&pend));
	CHECK_EQ(sigismember(&pend, SIGUSR1), 1);
	REQUIRE_OK(install(SIGUSR1, SIG_IGN, 0));
	REQUIRE_OK(sigpending(&pend));
	CHECK_EQ(sigismember(&pend, SIGUSR1), 0);
	/* Unblocked and ignored: raise is a no-op. */
	REQUIRE_OK(sigprocmask(SIG_UNBLOCK, &set, NULL));
	CHECK_OK(raise(SIGUSR1));
}

TEST(signal_returns_previous)
{
	CHECK_EQ(signal(SIGUSR1, count_handler), SIG_DFL);
	CHECK_EQ(signal(SIGUSR1, SIG_IGN), count_handler);
	CHECK_EQ(signal(SIGUSR1, SIG_DFL), SIG_IGN);
	CHECK_EQ(signal(SIGKILL, SIG_IGN), SIG_ERR);
	CHECK_EQ(errno, EINVAL);
}

TEST(rt_signal_handler)
{
	REQUIRE_OK(install(SIGRTMIN + 3, count_handler, 0));
	REQUIRE_OK(raise(SIGRTMIN + 3));
	CHECK_EQ(hits, 1);
	REQUIRE_OK(install(SIGRTMAX, count_handler, 0));
	REQUIRE_OK(raise(SIGRTMAX));
	CHECK_EQ(hits, 2);
}

/*
 * Exec: caught signals reset to SIG_DFL, ignored ones stay ignored, the
 * mask and pending signals are kept. The program re-executes itself with
 * SIGACTION_EXEC_PROBE set; this constructor then reports by exit status.
 */
__attribute__((constructor)) static void exec_probe(void)
{
	if (getenv("SIGACTION_EXEC_PROBE") == NULL)
		return;
	struct sigaction a;
	sigset_t mask, pend;
	int r = 0;
	sigaction(SIGUSR1, NULL, &a);
	if (a.sa_handler != SIG_DFL)
		r |= 1;
	sigaction(SIGUSR2, NULL, &a);
	if (a.sa_handler != SIG_IGN)
		r |= 2;
	sigprocmask(SIG_SETMASK, NULL, &mask);
	if (!sigismember(&mask, SIGUSR1) || sigismember(&mask, SIGUSR2))
		r |= 4;
	sigpending(&pend);
	if (!sigismember(&pend, SIGUSR1))
		r |= 8;
	_exit(r);
}

TEST(exec_resets_handlers_keeps_mask)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		install(SIGUSR1, count_handler, 0);
		install(SIGUSR2, SIG_IGN, 0);
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		raise(SIGUSR1);
		setenv("SIGACTION_EXEC_PROBE", "1", 1);
		execl("/proc/self/exe", "probe", (char *)NULL);
		_exit(100 + errno);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}
