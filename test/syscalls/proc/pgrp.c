/* Process groups and sessions: setpgid, getpgid, setsid, getsid. */
#include "lt.h"

/* A child that waits for a byte on fd then runs fn, exiting with its result. */
static pid_t child_waiting(int *wfd, int (*fn)(void))
{
	int p[2];
	if (pipe(p) < 0)
		ABORT("pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		ABORT("fork: %s", strerror(errno));
	if (pid == 0) {
		char c;
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(0);
		_exit(fn ? fn() : 0);
	}
	close(p[0]);
	*wfd = p[1];
	return pid;
}

static void release(int wfd) { (void)!write(wfd, "x", 1); }

TEST(getpgrp_forms_agree)
{
	/* Every case runs in a group of its own. */
	CHECK_EQ(getpgrp(), getpid());
	CHECK_EQ(getpgid(0), getpid());
	CHECK_EQ(getpgid(getpid()), getpid());
	CHECK_ERR(getpgid(999999), ESRCH);
}

TEST(child_inherits_group)
{
	int w;
	pid_t pid = child_waiting(&w, NULL);
	CHECK_EQ(getpgid(pid), getpgrp());
	release(w);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(setpgid_child_new_group_and_back)
{
	int w;
	pid_t pid = child_waiting(&w, NULL);
	REQUIRE_OK(setpgid(pid, 0));
	CHECK_EQ(getpgid(pid), pid);
	/* Back into our group: same session. */
	REQUIRE_OK(setpgid(pid, getpgrp()));
	CHECK_EQ(getpgid(pid), getpgrp());
	release(w);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

static int join_parent_group(void)
{
	return setpgid(0, getpgid(getppid())) == 0 && getpgrp() == getpgid(getppid()) ? 0 : 1;
}

TEST(child_joins_existing_group)
{
	int w;
	pid_t pid = child_waiting(&w, join_parent_group);
	REQUIRE_OK(setpgid(pid, pid));
	release(w);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(setpgid_errors)
{
	CHECK_ERR(setpgid(0, -1), EINVAL);
	CHECK_ERR(setpgid(999999, 0), ESRCH);
	/* Not our child. */
	CHECK_ERR(setpgid(getppid(), 0), ESRCH);
	int w;
	pid_t pid = child_waiting(&w, NULL);
	/* No such group in our session. */
	CHECK_ERR(setpgid(pid, 999999), EPERM);
	release(w);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

static int do_exec(void)
{
	execl("/bin/sh", "sh", "-c", "read x; exit 0", (char *)NULL);
	return 99;
}

TEST(setpgid_after_exec_eacces)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		dup2(p[0], 0);
		close(p[1]);
		_exit(do_exec());
	}
	close(p[0]);
	/* Wait until the child has exec'd: its /proc comm becomes "sh". */
	char path[64], comm[32] = "";
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	for (int i = 0; i < 10000 && strcmp(comm, "sh\n") != 0; i++) {
		FILE *f = fopen(path, "r");
		if (f) {
			if (!fgets(comm, sizeof(comm), f))
				comm[0] = 0;
			fclose(f);
		}
		usleep(1000);
	}
	REQUIRE(strcmp(comm, "sh\n") == 0);
	CHECK_ERR(setpgid(pid, pid), EACCES);
	close(p[1]);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

static int new_session(void)
{
	pid_t sid = setsid();
	if (sid != getpid())
		return 2;
	if (getsid(0) != getpid() || getpgrp() != getpid())
		return 3;
	/* A session leader cannot change its group. */
	if (setpgid(0, 0) != -1 || errno != EPERM)
		return 4;
	/* No controlling terminal yet. */
	if (open("/dev/tty", O_RDWR) != -1 || errno != ENXIO)
		return 5;
	return 0;
}

TEST(setsid_in_non_leader)
{
	int w;
	pid_t pid = child_waiting(&w, new_session);
	release(w);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(setsid_group_leader_eperm)
{
	CHECK_ERR(setsid(), EPERM);
}

static int setsid_then_wait(void)
{
	if (setsid() < 0)
		return 2;
	pause();
	return 0;
}

TEST(other_session_rules)
{
	int w;
	pid_t pid = child_waiting(&w, setsid_then_wait);
	release(w);
	for (int i = 0; i < 10000 && getsid(pid) != pid; i++)
		usleep(1000);
	REQUIRE_EQ(getsid(pid), pid);
	CHECK_NE(getsid(0), pid);
	/* A child in another session: its group cannot be changed. */
	CHECK_ERR(setpgid(pid, pid), EPERM);
	CHECK_ERR(setpgid(pid, getpgrp()), EPERM);
	kill(pid, SIGKILL);
	lt_wait_exit(pid);
}

TEST(getsid_forms)
{
	CHECK_EQ(getsid(0), getsid(getpid()));
	CHECK_EQ(getsid(getppid()), getsid(0));
	CHECK_ERR(getsid(999999), ESRCH);
}

static pid_t other_leader;

static int join_other_session_group(void)
{
	return setpgid(0, other_leader) == -1 && errno == EPERM ? 0 : 1;
}

TEST(join_group_of_other_session_eperm)
{
	int w1, w2;
	other_leader = child_waiting(&w1, setsid_then_wait);
	release(w1);
	for (int i = 0; i < 10000 && getsid(other_leader) != other_leader; i++)
		usleep(1000);
	REQUIRE_EQ(getsid(other_leader), other_leader);
	pid_t pid = child_waiting(&w2, join_other_session_group);
	release(w2);
	CHECK_EQ(lt_wait_exit(pid), 0);
	kill(other_leader, SIGKILL);
	lt_wait_exit(other_leader);
}
