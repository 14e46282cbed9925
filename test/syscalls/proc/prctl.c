/* prctl: names, parent-death signal, subreaper, no_new_privs, dumpable, keepcaps. */
#include "lt.h"
#include <linux/capability.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

static void read_file(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	buf[0] = 0;
	if (f == NULL)
		ABORT("open %s: %s", path, strerror(errno));
	if (fgets(buf, n, f) == NULL)
		buf[0] = 0;
	fclose(f);
}

TEST(set_and_get_name)
{
	REQUIRE_OK(prctl(PR_SET_NAME, "lt-name"));
	char name[16] = "";
	REQUIRE_OK(prctl(PR_GET_NAME, name));
	CHECK_STREQ(name, "lt-name");
	char comm[64];
	read_file("/proc/self/comm", comm, sizeof(comm));
	CHECK_STREQ(comm, "lt-name\n");
}

TEST(name_truncated_to_15)
{
	REQUIRE_OK(prctl(PR_SET_NAME, "abcdefghijklmnopqrstuvwxyz"));
	char name[32];
	memset(name, 'x', sizeof(name));
	REQUIRE_OK(prctl(PR_GET_NAME, name));
	CHECK_STREQ(name, "abcdefghijklmno");
}

TEST(name_bad_pointer_efault)
{
	CHECK_ERR(prctl(PR_SET_NAME, (char *)1), EFAULT);
	CHECK_ERR(prctl(PR_GET_NAME, (char *)1), EFAULT);
}

static void *thread_name(void *arg)
{
	(void)arg;
	prctl(PR_SET_NAME, "lt-thread");
	return (void *)(long)syscall(SYS_gettid);
}

TEST(thread_name_is_per_thread)
{
	REQUIRE_OK(prctl(PR_SET_NAME, "lt-main"));
	pthread_t th;
	void *tid;
	REQUIRE_EQ(pthread_create(&th, NULL, thread_name, NULL), 0);
	REQUIRE_EQ(pthread_join(th, &tid), 0);
	char name[16];
	REQUIRE_OK(prctl(PR_GET_NAME, name));
	CHECK_STREQ(name, "lt-main");
}

TEST(name_in_proc_task_comm)
{
	REQUIRE_OK(prctl(PR_SET_NAME, "lt-task"));
	char path[64], comm[32];
	snprintf(path, sizeof(path), "/proc/self/task/%ld/comm", (long)syscall(SYS_gettid));
	read_file(path, comm, sizeof(comm));
	CHECK_STREQ(comm, "lt-task\n");
	/* Writing comm sets the name too. */
	int fd = REQUIRE_OK(open("/proc/self/comm", O_WRONLY));
	CHECK_EQ(write(fd, "lt-written", 10), 10);
	close(fd);
	char name[16];
	REQUIRE_OK(prctl(PR_GET_NAME, name));
	CHECK_STREQ(name, "lt-written");
}

static int deathpipe[2];

static void on_death(int sig)
{
	char c = (char)sig;
	(void)!write(deathpipe[1], &c, 1);
	_exit(0);
}

TEST(pdeathsig_delivered_when_parent_exits)
{
	REQUIRE_OK(pipe(deathpipe));
	int ready[2];
	REQUIRE_OK(pipe(ready));
	pid_t mid = REQUIRE_OK(fork());
	if (mid == 0) {
		pid_t gc = fork();
		if (gc == 0) {
			signal(SIGUSR1, on_death);
			prctl(PR_SET_PDEATHSIG, SIGUSR1);
			(void)!write(ready[1], "r", 1);
			for (;;)
				pause();
		}
		char c;
		(void)!read(ready[0], &c, 1);
		_exit(0);
	}
	CHECK_EQ(lt_wait_exit(mid), 0);
	char sig = 0;
	CHECK_EQ(read(deathpipe[0], &sig, 1), 1);
	CHECK_EQ(sig, SIGUSR1);
}

TEST(pdeathsig_get_and_errors)
{
	int sig = -1;
	REQUIRE_OK(prctl(PR_GET_PDEATHSIG, &sig));
	CHECK_EQ(sig, 0);
	REQUIRE_OK(prctl(PR_SET_PDEATHSIG, SIGTERM));
	REQUIRE_OK(prctl(PR_GET_PDEATHSIG, &sig));
	CHECK_EQ(sig, SIGTERM);
	CHECK_ERR(prctl(PR_SET_PDEATHSIG, 65), EINVAL);
	CHECK_ERR(prctl(PR_GET_PDEATHSIG, (int *)1), EFAULT);
	/* Not inherited by a child. */
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		int s = -1;
		prctl(PR_GET_PDEATHSIG, &s);
		_exit(s == 0 ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
	REQUIRE_OK(prctl(PR_SET_PDEATHSIG, 0));
}

TEST(child_subreaper_adopts_orphans)
{
	int on = -1;
	REQUIRE_OK(prctl(PR_GET_CHILD_SUBREAPER, &on));
	CHECK_EQ(on, 0);
	REQUIRE_OK(prctl(PR_SET_CHILD_SUBREAPER, 1));
	REQUIRE_OK(prctl(PR_GET_CHILD_SUBREAPER, &on));
	CHECK_EQ(on, 1);
	pid_t me = getpid();
	int p[2];
	REQUIRE_OK(pipe(p));
	pid_t mid = REQUIRE_OK(fork());
	if (mid == 0) {
		pid_t gc = fork();
		if (gc == 0) {
			char c;
			close(p[1]);
			(void)!read(p[0], &c, 1); /* until mid has exited */
			_exit(getppid() == me ? 17 : 1);
		}
		_exit(gc > 0 ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(mid), 0);
	close(p[1]);
	close(p[0]);
	int st;
	pid_t r = waitpid(-1, &st, 0);
	CHECK_GT(r, 0);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 17);
}

TEST(no_new_privs)
{
	CHECK_EQ(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 0);
	CHECK_ERR(prctl(PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0), EINVAL);
	REQUIRE_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	CHECK_EQ(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 1);
	/* It cannot be unset, and it is inherited. */
	CHECK_ERR(prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0), EINVAL);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
	char line[128];
	FILE *f = fopen("/proc/self/status", "r");
	REQUIRE(f != NULL);
	int nnp = -1;
	while (fgets(line, sizeof(line), f))
		sscanf(line, "NoNewPrivs: %d", &nnp);
	fclose(f);
	CHECK_EQ(nnp, 1);
}

TEST(dumpable)
{
	CHECK_EQ(prctl(PR_GET_DUMPABLE), 1);
	REQUIRE_OK(prctl(PR_SET_DUMPABLE, 0));
	CHECK_EQ(prctl(PR_GET_DUMPABLE), 0);
	REQUIRE_OK(prctl(PR_SET_DUMPABLE, 1));
	CHECK_EQ(prctl(PR_GET_DUMPABLE), 1);
	CHECK_ERR(prctl(PR_SET_DUMPABLE, 2), EINVAL);
}

TEST(dumpable_cleared_by_uid_change)
{
	REQUIRE_OK(prctl(PR_SET_DUMPABLE, 1));
	REQUIRE_OK(setresuid(0, 65534, 0));
	CHECK_EQ(prctl(PR_GET_DUMPABLE), 0);
	/* A fork keeps it; exec would set it again. */
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(prctl(PR_GET_DUMPABLE));
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(keepcaps)
{
	CHECK_EQ(prctl(PR_GET_KEEPCAPS), 0);
	REQUIRE_OK(prctl(PR_SET_KEEPCAPS, 1));
	CHECK_EQ(prctl(PR_GET_KEEPCAPS), 1);
	CHECK_ERR(prctl(PR_SET_KEEPCAPS, 2), EINVAL);
}

TEST(capbset_read)
{
	CHECK_EQ(prctl(PR_CAPBSET_READ, CAP_CHOWN), 1);
	CHECK_EQ(prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN), 1);
	CHECK_ERR(prctl(PR_CAPBSET_READ, 200), EINVAL);
}

TEST(unknown_option_einval)
{
	CHECK_ERR(prctl(0x7fff0000), EINVAL);
	CHECK_ERR(prctl(-1), EINVAL);
}
