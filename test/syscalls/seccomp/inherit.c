/* seccomp filters across fork, execve and threads; SECCOMP_FILTER_FLAG_TSYNC. */
#include "lt_seccomp.h"

#include <pthread.h>

#define EXEC_CHECK "LT_SECCOMP_EXEC_CHECK"

/*
 * Re-executed with EXEC_CHECK set, the program reports what getppid does
 * under the filter it inherited, before main: exit 0 if it fails with
 * ENOKEY, 1 otherwise.
 */
__attribute__((constructor)) static void exec_check(void)
{
	if (getenv(EXEC_CHECK) == NULL)
		return;
	errno = 0;
	long r = syscall(SYS_getppid);
	int mode = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
	int nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	_exit(r == -1 && errno == ENOKEY && mode == 2 && nnp == 1 ? 0 : 1);
}

TEST(fork_inherits)
{
	lt_ret_for(SYS_getppid, SECCOMP_RET_ERRNO | ENOKEY);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		long r = syscall(SYS_getppid);
		_exit(r == -1 && errno == ENOKEY && prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 2 ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(child_filter_does_not_affect_parent)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		lt_ret_for(SYS_getppid, SECCOMP_RET_ERRNO | ENOKEY);
		_exit(syscall(SYS_getppid) == -1 ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_EQ(prctl(PR_GET_SECCOMP, 0, 0, 0, 0), 0);
	CHECK_GE(syscall(SYS_getppid), 0);
}

TEST(execve_keeps_filter)
{
	char exe[4096];
	ssize_t n = REQUIRE_OK(readlink("/proc/self/exe", exe, sizeof(exe) - 1));
	exe[n] = 0;
	lt_ret_for(SYS_getppid, SECCOMP_RET_ERRNO | ENOKEY);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		char *argv[] = {exe, NULL};
		char *envp[] = {EXEC_CHECK "=1", NULL};
		execve(exe, argv, envp);
		_exit(2);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(execve_filtered)
{
	lt_ret_for(SYS_execve, SECCOMP_RET_ERRNO | EXDEV);
	char *argv[] = {"/bin/true", NULL};
	CHECK_ERR(execve("/bin/true", argv, environ), EXDEV);
}

TEST(no_new_privs_inherited_by_fork)
{
	REQUIRE_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_ERR(prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0), EINVAL);
}

static void *thread_getppid(void *arg)
{
	(void)arg;
	errno = 0;
	long r = syscall(SYS_getppid);
	return (void *)(long)(r == -1 ? errno : 0);
}

TEST(new_thread_inherits)
{
	lt_ret_for(SYS_getppid, SECCOMP_RET_ERRNO | ENOKEY);
	pthread_t th;
	REQUIRE_EQ(pthread_create(&th, NULL, thread_getppid, NULL), 0);
	void *r;
	REQUIRE_EQ(pthread_join(th, &r), 0);
	CHECK_EQ((long)r, ENOKEY);
}

/* A thread that waits for a go, then reports getppid's errno. */
struct waiter {
	pthread_t th;
	int go;
	int filter; /* install its own filter first */
	int ready;
};

static void *wait_then_getppid(void *arg)
{
	struct waiter *w = arg;
	if (w->filter)
		lt_ret_for(SYS_getpgid, SECCOMP_RET_ERRNO | EBADE);
	__atomic_store_n(&w->ready, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&w->go, __ATOMIC_SEQ_CST))
		usleep(1000);
	return thread_getppid(NULL);
}

static void start_waiter(struct waiter *w, int filter)
{
	w->go = 0;
	w->ready = 0;
	w->filter = filter;
	REQUIRE_EQ(pthread_create(&w->th, NULL, wait_then_getppid, w), 0);
	while (!__atomic_load_n(&w->ready, __ATOMIC_SEQ_CST))
		usleep(1000);
}

static long finish_waiter(struct waiter *w)
{
	__atomic_store_n(&w->go, 1, __ATOMIC_SEQ_CST);
	void *r;
	if (pthread_join(w->th, &r) != 0)
		return -1;
	return (long)r;
}

TEST(existing_thread_not_affected)
{
	static struct waiter w;
	start_waiter(&w, 0);
	lt_ret_for(SYS_getppid, SECCOMP_RET_ERRNO | ENOKEY);
	CHECK_EQ(finish_waiter(&w), 0);
	CHECK_ERR(syscall(SYS_getppid), ENOKEY);
}

/* getppid_enokey fails getppid with ENOKEY. */
static struct sock_filter getppid_enokey[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, LT_NR_OFF),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOKEY),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};

TEST(tsync_applies_to_all_threads)
{
	static struct waiter w;
	start_waiter(&w, 0);
	REQUIRE_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	CHECK_EQ(lt_filter_flags(getppid_enokey, 4, SECCOMP_FILTER_FLAG_TSYNC), 0);
	CHECK_EQ(finish_waiter(&w), ENOKEY);
}

TEST(tsync_fails_on_diverged_thread)
{
	static struct waiter w;
	start_waiter(&w, 1); /* the thread has a filter of its own */
	REQUIRE_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	/* The result is the TID of the thread that cannot follow. */
	long r = lt_filter_flags(getppid_enokey, 4, SECCOMP_FILTER_FLAG_TSYNC);
	CHECK_GT(r, 0);
	CHECK_NE(r, gettid());
	CHECK_ERR(lt_filter_flags(getppid_enokey, 4, SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_TSYNC_ESRCH), ESRCH);
	/* Nothing was installed, here or there. */
	CHECK_EQ(prctl(PR_GET_SECCOMP, 0, 0, 0, 0), 0);
	CHECK_EQ(finish_waiter(&w), 0);
}

TEST(tsync_over_common_ancestor)
{
	/* Threads created after a filter share it: TSYNC can extend it. */
	lt_ret_for(SYS_getpgid, SECCOMP_RET_ERRNO | EBADE);
	static struct waiter w;
	start_waiter(&w, 0);
	CHECK_EQ(lt_filter_flags(getppid_enokey, 4, SECCOMP_FILTER_FLAG_TSYNC), 0);
	CHECK_EQ(finish_waiter(&w), ENOKEY);
	CHECK_ERR(getpgid(0), EBADE);
}

TEST(filters_cannot_be_removed)
{
	lt_ret_for(SYS_getppid, SECCOMP_RET_ERRNO | ENOKEY);
	struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
	CHECK_EQ(lt_filter_flags(allow, 1, 0), 0);
	CHECK_ERR(syscall(SYS_getppid), ENOKEY);
}
