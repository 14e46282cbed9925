/* /proc/PID/status: identity, state, threads, memory and signal masks. */
#include "lt.h"
#include "procfs.h"
#include <grp.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

static const char *status(void)
{
	const char *s = slurp("/proc/self/status");
	if (s == NULL)
		ABORT("read /proc/self/status: %s", strerror(errno));
	return s;
}

/* mask reads a SigXxx: hex field. */
static unsigned long long mask(const char *s, const char *name)
{
	const char *v = field(s, name);
	return v ? strtoull(v, NULL, 16) : ~0ULL;
}

static unsigned long long bit(int sig) { return 1ULL << (sig - 1); }

TEST(name_state_ids)
{
	REQUIRE_OK(prctl(PR_SET_NAME, "status-test"));
	const char *s = status();
	CHECK_STREQ(field(s, "Name"), "status-test");
	CHECK_STREQ(field(s, "State"), "R (running)");
	CHECK_EQ(field_ll(s, "Pid"), getpid());
	CHECK_EQ(field_ll(s, "Tgid"), getpid());
	CHECK_EQ(field_ll(s, "PPid"), getppid());
	CHECK_EQ(field_ll(s, "TracerPid"), 0);
}

TEST(name_escapes_newline)
{
	REQUIRE_OK(prctl(PR_SET_NAME, "a\nb"));
	const char *s = status();
	CHECK_STREQ(field(s, "Name"), "a\\nb");
}

TEST(uid_gid_lines)
{
	REQUIRE_OK(setresgid(1, 2, 3));
	REQUIRE_OK(setresuid(4, 5, 6));
	const char *s = status();
	/* Real, effective, saved and file-system IDs. */
	CHECK_STREQ(field(s, "Uid"), "4\t5\t6\t5");
	CHECK_STREQ(field(s, "Gid"), "1\t2\t3\t2");
}

TEST(groups_line)
{
	gid_t g[2] = {10, 20};
	REQUIRE_OK(setgroups(2, g));
	const char *s = status();
	CHECK_STREQ(field(s, "Groups"), "10 20 ");
	REQUIRE_OK(setgroups(0, NULL));
	s = status();
	CHECK_STREQ(field(s, "Groups"), "");
}

static void *sleeper(void *arg)
{
	(void)arg;
	pause();
	return NULL;
}

TEST(threads)
{
	CHECK_EQ(field_ll(status(), "Threads"), 1);
	pthread_t t;
	REQUIRE_EQ(pthread_create(&t, NULL, sleeper, NULL), 0);
	REQUIRE_EQ(pthread_create(&t, NULL, sleeper, NULL), 0);
	CHECK_EQ(field_ll(status(), "Threads"), 3);
}

TEST(vm_fields)
{
	const char *s = status();
	long long rss = field_ll(s, "VmRSS");
	long long size = field_ll(s, "VmSize");
	CHECK_GT(rss, 0);
	CHECK_GE(size, rss);
	CHECK_GT(field_ll(s, "VmPeak"), 0);
	CHECK_GT(field_ll(s, "VmStk"), 0);
	CHECK_GT(field_ll(s, "VmExe"), 0);
	CHECK(strstr(field(s, "VmRSS"), " kB") != NULL);
	size_t len = 32 << 20;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(p != MAP_FAILED);
	for (size_t i = 0; i < len; i += 4096)
		p[i] = 1;
	s = status();
	CHECK_GE(field_ll(s, "VmRSS"), rss + 30 * 1024);
	CHECK_GE(field_ll(s, "VmSize"), size + 32 * 1024);
	CHECK_GE(field_ll(s, "VmHWM"), field_ll(s, "VmRSS"));
	CHECK_GE(field_ll(s, "RssAnon"), 30 * 1024);
}

TEST(sigblk_matches_mask)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGRTMIN + 1);
	REQUIRE_OK(sigprocmask(SIG_SETMASK, &set, NULL));
	const char *s = status();
	CHECK_EQ(mask(s, "SigBlk"), bit(SIGUSR1) | bit(SIGRTMIN + 1));
	CHECK_EQ(strlen(field(s, "SigBlk")), 16);
}

static void handler(int sig) { (void)sig; }

TEST(sigign_sigcgt_match_actions)
{
	/* Start from defaults for the signals checked. */
	for (int sig = 1; sig < 32; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	signal(SIGUSR2, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = {.sa_handler = handler};
	REQUIRE_OK(sigaction(SIGTERM, &sa, NULL));
	REQUIRE_OK(sigaction(SIGALRM, &sa, NULL));
	const char *s = status();
	/* Only signals 1-31 were reset above: 32 and up may arrive ignored
	 * from whoever started the run (make does, natively). */
	CHECK_EQ(mask(s, "SigIgn") & 0x7fffffffULL, bit(SIGUSR2) | bit(SIGPIPE));
	CHECK_EQ(mask(s, "SigCgt") & 0x7fffffffULL, bit(SIGTERM) | bit(SIGALRM));
}

TEST(sigpnd_and_shdpnd)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	REQUIRE_OK(sigprocmask(SIG_BLOCK, &set, NULL));
	REQUIRE_OK(kill(getpid(), SIGUSR1));
	union sigval v = {0};
	REQUIRE_OK(syscall(SYS_tgkill, getpid(), gettid(), SIGUSR2));
	(void)v;
	const char *s = status();
	CHECK_EQ(mask(s, "ShdPnd"), bit(SIGUSR1));
	CHECK_EQ(mask(s, "SigPnd"), bit(SIGUSR2));
}

TEST(capabilities_of_root_and_nobody)
{
	const char *s = status();
	unsigned long long eff = mask(s, "CapEff");
	CHECK_NE(eff, 0);
	CHECK_EQ(mask(s, "CapPrm"), eff);
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	s = status();
	CHECK_EQ(mask(s, "CapEff"), 0);
	CHECK_EQ(mask(s, "CapPrm"), 0);
}

TEST(nonewprivs_and_seccomp_lines)
{
	const char *s = status();
	CHECK(field(s, "NoNewPrivs") != NULL);
	CHECK(field(s, "Seccomp") != NULL);
	REQUIRE_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	CHECK_EQ(field_ll(status(), "NoNewPrivs"), 1);
}

TEST(child_status_sleeping_and_zombie)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		pause();
		_exit(0);
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	const char *s = NULL;
	for (int i = 0; i < 2000; i++) {
		s = slurp(path);
		if (s && strcmp(field(s, "State"), "S (sleeping)") == 0)
			break;
		usleep(5000);
	}
	REQUIRE(s != NULL);
	CHECK_STREQ(field(s, "State"), "S (sleeping)");
	CHECK_EQ(field_ll(s, "PPid"), getpid());
	REQUIRE_OK(kill(pid, SIGKILL));
	siginfo_t si;
	REQUIRE_OK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	s = slurp(path);
	REQUIRE(s != NULL);
	CHECK_STREQ(field(s, "State"), "Z (zombie)");
	lt_wait_exit(pid);
}

TEST(umask_line)
{
	umask(027);
	CHECK_STREQ(field(status(), "Umask"), "0027");
}

TEST(thread_status_in_task)
{
	pthread_t t;
	REQUIRE_EQ(pthread_create(&t, NULL, sleeper, NULL), 0);
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", gettid());
	const char *s = slurp(path);
	REQUIRE(s != NULL);
	CHECK_EQ(field_ll(s, "Pid"), gettid());
	CHECK_EQ(field_ll(s, "Tgid"), getpid());
	CHECK_EQ(field_ll(s, "Threads"), 2);
}
