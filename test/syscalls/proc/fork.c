/* fork, vfork, exit statuses and what a child inherits. */
#include "lt.h"
#include <sys/resource.h>
#include <sys/syscall.h>

TEST(fork_returns_child_pid)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		pid_t me = getpid();
		write(p[1], &me, sizeof(me));
		_exit(0);
	}
	pid_t got;
	CHECK_EQ(read(p[0], &got, sizeof(got)), sizeof(got));
	CHECK_EQ(got, pid);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(child_ppid_is_parent)
{
	pid_t parent = getpid();
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(getppid() == parent ? 0 : 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(exit_codes)
{
	int codes[] = {0, 1, 42, 255, 256, 257};
	for (unsigned i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		pid_t pid = REQUIRE_OK(fork());
		if (pid == 0)
			_exit(codes[i]);
		CHECK_EQ(lt_wait_exit(pid), codes[i] & 0xff);
	}
}

TEST(exit_group_from_thread_status)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		syscall(SYS_exit_group, 9);
		_exit(1);
	}
	CHECK_EQ(lt_wait_exit(pid), 9);
}

TEST(killed_by_signal_status)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		raise(SIGKILL);
		_exit(0);
	}
	int st;
	REQUIRE_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFSIGNALED(st));
	CHECK_EQ(WTERMSIG(st), SIGKILL);
	CHECK(!WCOREDUMP(st));
}

TEST(child_inherits_fds_and_offsets)
{
	int fd = REQUIRE_OK(open(lt_path("f"), O_RDWR | O_CREAT, 0600));
	REQUIRE_EQ(write(fd, "abc", 3), 3);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(write(fd, "de", 2) == 2 ? 0 : 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
	/* The child's write moved the shared offset. */
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 5);
}

TEST(child_inherits_signal_mask_and_handlers_not_pending)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	REQUIRE_OK(sigprocmask(SIG_BLOCK, &set, NULL));
	raise(SIGUSR1);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		sigset_t cur, pend;
		sigprocmask(SIG_BLOCK, NULL, &cur);
		sigpending(&pend);
		_exit(sigismember(&cur, SIGUSR1) && !sigismember(&pend, SIGUSR1) ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(child_inherits_rlimits)
{
	struct rlimit rl = {100, 200};
	REQUIRE_OK(setrlimit(RLIMIT_NOFILE, &rl));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		struct rlimit got;
		getrlimit(RLIMIT_NOFILE, &got);
		_exit(got.rlim_cur == 100 && got.rlim_max == 200 ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(vfork_shares_memory_until_exit)
{
	static volatile int v;
	v = 0;
	pid_t pid = vfork();
	if (pid == 0) {
		v = 5;
		_exit(3);
	}
	REQUIRE_GT(pid, 0);
	CHECK_EQ(v, 5);
	CHECK_EQ(lt_wait_exit(pid), 3);
}

TEST(vfork_then_exec)
{
	pid_t pid = vfork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", "exit 12", (char *)NULL);
		_exit(127);
	}
	REQUIRE_GT(pid, 0);
	CHECK_EQ(lt_wait_exit(pid), 12);
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
			read(p[0], &c, 1); /* until the parent has exited */
			pid_t pp = getppid();
			_exit(pp == 1 ? 0 : 1);
		}
		_exit(0);
	}
	CHECK_EQ(lt_wait_exit(mid), 0);
	close(p[1]);
	close(p[0]);
	/* The grandchild's status goes to init (PID 1, this program's main
	 * process), not to us; here we can only check it was not ours. */
	CHECK_ERR(waitpid(-1, NULL, WNOHANG), ECHILD);
}

TEST(many_children_all_reaped)
{
	pid_t pids[20];
	for (int i = 0; i < 20; i++) {
		pids[i] = REQUIRE_OK(fork());
		if (pids[i] == 0)
			_exit(i);
	}
	int seen = 0;
	for (int i = 0; i < 20; i++) {
		int st;
		pid_t r = waitpid(-1, &st, 0);
		REQUIRE_GT(r, 0);
		for (int j = 0; j < 20; j++)
			if (pids[j] == r && WEXITSTATUS(st) == j)
				seen |= 1 << j;
	}
	CHECK_EQ(seen, (1 << 20) - 1);
	CHECK_ERR(wait(NULL), ECHILD);
}
