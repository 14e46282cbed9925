/* clone: what each CLONE_ flag shares, TID reporting, invalid combinations. */
#include "lt.h"
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>

#define STACK_SIZE (256 * 1024)

static volatile int shared_var;
static int child_fd = -1;

static pid_t spawn(int (*fn)(void *), int flags, void *arg, pid_t *ptid,
		   pid_t *ctid)
{
	char *stack = malloc(STACK_SIZE);
	if (stack == NULL)
		ABORT("malloc");
	return clone(fn, stack + STACK_SIZE, flags, arg, ptid, NULL, ctid);
}

static int set_var(void *arg)
{
	shared_var = (int)(intptr_t)arg;
	return 0;
}

TEST(vm_shares_memory)
{
	shared_var = 0;
	pid_t pid = REQUIRE_OK(spawn(set_var, CLONE_VM | SIGCHLD, (void *)42, NULL, NULL));
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_EQ(shared_var, 42);
}

TEST(no_vm_copies_memory)
{
	shared_var = 0;
	pid_t pid = REQUIRE_OK(spawn(set_var, SIGCHLD, (void *)42, NULL, NULL));
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_EQ(shared_var, 0);
}

static int open_fd(void *arg)
{
	(void)arg;
	child_fd = open("/dev/null", O_RDONLY);
	return child_fd < 0;
}

TEST(files_shares_fd_table)
{
	pid_t pid = REQUIRE_OK(spawn(open_fd, CLONE_VM | CLONE_FILES | SIGCHLD, NULL,
				     NULL, NULL));
	CHECK_EQ(lt_wait_exit(pid), 0);
	REQUIRE_GE(child_fd, 0);
	CHECK_OK(fcntl(child_fd, F_GETFD));
}

TEST(no_files_copies_fd_table)
{
	pid_t pid = REQUIRE_OK(spawn(open_fd, CLONE_VM | SIGCHLD, NULL, NULL, NULL));
	CHECK_EQ(lt_wait_exit(pid), 0);
	REQUIRE_GE(child_fd, 0);
	CHECK_ERR(fcntl(child_fd, F_GETFD), EBADF);
}

static int chdir_umask(void *arg)
{
	(void)arg;
	umask(0077);
	return chdir("/") != 0;
}

TEST(fs_shares_cwd_and_umask)
{
	REQUIRE_OK(chdir(lt_tmpdir()));
	umask(022);
	pid_t pid = REQUIRE_OK(spawn(chdir_umask, CLONE_VM | CLONE_FS | SIGCHLD, NULL,
				     NULL, NULL));
	CHECK_EQ(lt_wait_exit(pid), 0);
	char cwd[256];
	CHECK_STREQ(getcwd(cwd, sizeof(cwd)), "/");
	CHECK_EQ(umask(022), 0077);
}

TEST(no_fs_copies_cwd_and_umask)
{
	REQUIRE_OK(chdir(lt_tmpdir()));
	umask(022);
	pid_t pid = REQUIRE_OK(spawn(chdir_umask, CLONE_VM | SIGCHLD, NULL, NULL, NULL));
	CHECK_EQ(lt_wait_exit(pid), 0);
	char cwd[4096];
	CHECK_STREQ(getcwd(cwd, sizeof(cwd)), lt_tmpdir());
	CHECK_EQ(umask(022), 022);
}

static void handler(int sig) { (void)sig; }

static int set_handler(void *arg)
{
	(void)arg;
	return signal(SIGUSR1, handler) == SIG_ERR;
}

TEST(sighand_shares_handlers)
{
	signal(SIGUSR1, SIG_DFL);
	pid_t pid = REQUIRE_OK(spawn(set_handler, CLONE_VM | CLONE_SIGHAND | SIGCHLD,
				     NULL, NULL, NULL));
	CHECK_EQ(lt_wait_exit(pid), 0);
	struct sigaction sa;
	REQUIRE_OK(sigaction(SIGUSR1, NULL, &sa));
	CHECK_EQ(sa.sa_handler, handler);
}

TEST(no_sighand_copies_handlers)
{
	signal(SIGUSR1, SIG_DFL);
	pid_t pid = REQUIRE_OK(spawn(set_handler, CLONE_VM | SIGCHLD, NULL, NULL, NULL));
	CHECK_EQ(lt_wait_exit(pid), 0);
	struct sigaction sa;
	REQUIRE_OK(sigaction(SIGUSR1, NULL, &sa));
	CHECK_EQ(sa.sa_handler, SIG_DFL);
}

static int nothing(void *arg)
{
	(void)arg;
	return 0;
}

TEST(invalid_combinations_einval)
{
	CHECK_ERR(spawn(nothing, CLONE_SIGHAND | SIGCHLD, NULL, NULL, NULL), EINVAL);
	CHECK_ERR(spawn(nothing, CLONE_THREAD | CLONE_VM | SIGCHLD, NULL, NULL, NULL),
		  EINVAL);
	CHECK_ERR(spawn(nothing, CLONE_FS | CLONE_NEWNS | SIGCHLD, NULL, NULL, NULL),
		  EINVAL);
	CHECK_ERR(spawn(nothing, CLONE_NEWUSER | CLONE_FS | SIGCHLD, NULL, NULL, NULL),
		  EINVAL);
	CHECK_ERR(spawn(nothing, CLONE_THREAD | CLONE_SIGHAND | CLONE_VM | CLONE_NEWPID,
			NULL, NULL, NULL), EINVAL);
}

TEST(parent_settid)
{
	pid_t ptid = 0;
	pid_t pid = REQUIRE_OK(spawn(nothing, CLONE_PARENT_SETTID | SIGCHLD, NULL, &ptid,
				     NULL));
	CHECK_EQ(ptid, pid);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

static volatile pid_t ctid_word;

static int report_ctid(void *arg)
{
	(void)arg;
	return ctid_word == syscall(SYS_gettid) ? 0 : 1;
}

TEST(child_settid_and_cleartid)
{
	ctid_word = -1;
	pid_t pid = REQUIRE_OK(spawn(report_ctid,
				     CLONE_VM | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID |
					     SIGCHLD,
				     NULL, NULL, (pid_t *)&ctid_word));
	CHECK_EQ(lt_wait_exit(pid), 0);
	/* The child's exit cleared the word in the shared memory. */
	CHECK_EQ(ctid_word, 0);
}

static int slow_set(void *arg)
{
	(void)arg;
	usleep(100 * 1000);
	shared_var = 7;
	_exit(0);
}

TEST(vfork_suspends_parent)
{
	shared_var = 0;
	pid_t pid = REQUIRE_OK(spawn(slow_set, CLONE_VM | CLONE_VFORK | SIGCHLD, NULL,
				     NULL, NULL));
	/* Back here only once the child has exited (or exec'd). */
	CHECK_EQ(shared_var, 7);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(exit_signal_other_than_sigchld_needs_wclone)
{
	signal(SIGUSR2, SIG_IGN);
	pid_t pid = REQUIRE_OK(spawn(nothing, SIGUSR2, NULL, NULL, NULL));
	int st;
	/* A "clone" child is not waited for without __WCLONE or __WALL. */
	usleep(50 * 1000);
	CHECK_ERR(waitpid(pid, &st, WNOHANG), ECHILD);
	CHECK_EQ(waitpid(pid, &st, __WCLONE), pid);
	CHECK(WIFEXITED(st));
}

TEST(wall_waits_for_clone_children)
{
	pid_t pid = REQUIRE_OK(spawn(nothing, 0, NULL, NULL, NULL));
	int st;
	CHECK_EQ(waitpid(pid, &st, __WALL), pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static int report_ppid(void *arg)
{
	return getppid() == (pid_t)(intptr_t)arg ? 0 : 1;
}

TEST(clone_parent_makes_sibling)
{
	pid_t mid = REQUIRE_OK(fork());
	if (mid == 0) {
		pid_t gp = getppid();
		pid_t pid = spawn(report_ppid, CLONE_PARENT | SIGCHLD, (void *)(intptr_t)gp,
				  NULL, NULL);
		if (pid < 0)
			_exit(2);
		/* Not our child: our parent waits for it. */
		_exit(waitpid(pid, NULL, WNOHANG) < 0 && errno == ECHILD ? pid : 0);
	}
	int st;
	REQUIRE_EQ(waitpid(mid, &st, 0), mid);
	REQUIRE(WIFEXITED(st));
	/* The grandchild was reparented to us: wait for any child. */
	pid_t r = waitpid(-1, &st, 0);
	CHECK_GT(r, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void *thread_ids(void *arg)
{
	pid_t *out = arg;
	out[0] = getpid();
	out[1] = syscall(SYS_gettid);
	out[2] = getppid();
	return NULL;
}

TEST(thread_shares_pid_not_tid)
{
	pthread_t th;
	pid_t ids[3];
	REQUIRE_EQ(pthread_create(&th, NULL, thread_ids, ids), 0);
	REQUIRE_EQ(pthread_join(th, NULL), 0);
	CHECK_EQ(ids[0], getpid());
	CHECK_NE(ids[1], getpid());
	CHECK_NE(ids[1], syscall(SYS_gettid));
	CHECK_EQ(ids[2], getppid());
	CHECK_EQ(syscall(SYS_gettid), getpid());
}

TEST(clone3_fork_like)
{
	struct clone_args ca;
	memset(&ca, 0, sizeof(ca));
	ca.exit_signal = SIGCHLD;
	long pid = syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid == 0)
		_exit(33);
	REQUIRE_GT(pid, 0);
	CHECK_EQ(lt_wait_exit(pid), 33);
}

TEST(clone3_parent_tid_and_errors)
{
	struct clone_args ca;
	pid_t ptid = 0;
	memset(&ca, 0, sizeof(ca));
	ca.flags = CLONE_PARENT_SETTID;
	ca.parent_tid = (uintptr_t)&ptid;
	ca.exit_signal = SIGCHLD;
	long pid = syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid == 0)
		_exit(0);
	REQUIRE_GT(pid, 0);
	CHECK_EQ(ptid, pid);
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_ERR(syscall(SYS_clone3, &ca, 8), EINVAL);
	CHECK_ERR(syscall(SYS_clone3, (void *)1, sizeof(ca)), EFAULT);
	ca.exit_signal = 200;
	CHECK_ERR(syscall(SYS_clone3, &ca, sizeof(ca)), EINVAL);
	memset(&ca, 0, sizeof(ca));
	ca.flags = CLONE_SIGHAND;
	CHECK_ERR(syscall(SYS_clone3, &ca, sizeof(ca)), EINVAL);
}
