/* fcntl record locks (F_SETLK, F_SETLKW, F_GETLK) between processes: conflicts, ranges, merging, release on close, EDEADLK. */
#include "shm.h"

static int lock(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	return fcntl(fd, cmd, &fl);
}

/* getlk asks for a lock and returns what F_GETLK said (l_type F_UNLCK if free). */
static struct flock getlk(int fd, short type, off_t start, off_t len)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	if (fcntl(fd, F_GETLK, &fl) < 0)
		ABORT("F_GETLK: %s", strerror(errno));
	return fl;
}

/*
 * in_child runs fn in a forked child with a fresh descriptor on path and
 * returns its exit status.
 */
static int in_child(const char *path, int (*fn)(int fd))
{
	pid_t pid = fork();
	if (pid < 0)
		ABORT("fork: %s", strerror(errno));
	if (pid == 0) {
		int fd = open(path, O_RDWR);
		_exit(fd < 0 ? 100 : fn(fd));
	}
	return lt_wait_exit(pid);
}

static int try_write_lock_0_10(int fd)
{
	if (lock(fd, F_SETLK, F_WRLCK, 0, 10) == 0)
		return 0;
	return errno == EAGAIN || errno == EACCES ? 1 : 2;
}

static int try_read_lock_0_10(int fd)
{
	if (lock(fd, F_SETLK, F_RDLCK, 0, 10) == 0)
		return 0;
	return errno == EAGAIN || errno == EACCES ? 1 : 2;
}

static int try_write_lock_10_10(int fd)
{
	if (lock(fd, F_SETLK, F_WRLCK, 10, 10) == 0)
		return 0;
	return errno == EAGAIN || errno == EACCES ? 1 : 2;
}

static void check_conflicts(const char *path)
{
	int fd = lt_file(path, "");
	REQUIRE_OK(lock(fd, F_SETLK, F_WRLCK, 0, 10));
	CHECK_EQ(in_child(path, try_write_lock_0_10), 1);
	CHECK_EQ(in_child(path, try_read_lock_0_10), 1);
	/* A disjoint range is free. */
	CHECK_EQ(in_child(path, try_write_lock_10_10), 0);
	REQUIRE_OK(lock(fd, F_SETLK, F_UNLCK, 0, 10));
	CHECK_EQ(in_child(path, try_write_lock_0_10), 0);
}

TEST(write_lock_conflicts) { check_conflicts(lt_path("f")); }
TEST(write_lock_conflicts_tmpfs) { check_conflicts(lt_shm_path("f")); }

TEST(read_locks_share)
{
	int fd = lt_file(lt_path("f"), "");
	REQUIRE_OK(lock(fd, F_SETLK, F_RDLCK, 0, 10));
	CHECK_EQ(in_child(lt_path("f"), try_read_lock_0_10), 0);
	CHECK_EQ(in_child(lt_path("f"), try_write_lock_0_10), 1);
}

TEST(same_process_never_conflicts)
{
	int fd = lt_file(lt_path("f"), "");
	int fd2 = REQUIRE_OK(open(lt_path("f"), O_RDWR));
	REQUIRE_OK(lock(fd, F_SETLK, F_WRLCK, 0, 10));
	/* POSIX locks belong to the process: another descriptor may take it too. */
	CHECK_OK(lock(fd2, F_SETLK, F_WRLCK, 0, 10));
	struct flock fl = getlk(fd2, F_WRLCK, 0, 10);
	CHECK_EQ(fl.l_type, F_UNLCK);
}

TEST(close_any_fd_releases)
{
	int fd = lt_file(lt_path("f"), "");
	REQUIRE_OK(lock(fd, F_SETLK, F_WRLCK, 0, 0));
	int other = REQUIRE_OK(open(lt_path("f"), O_RDONLY));
	CHECK_EQ(in_child(lt_path("f"), try_write_lock_0_10), 1);
	/* Closing any descriptor of the file drops the process's locks on it. */
	REQUIRE_OK(close(other));
	CHECK_EQ(in_child(lt_path("f"), try_write_lock_0_10), 0);
}

TEST(getlk_reports_holder)
{
	int fd = lt_file(lt_path("f"), "");
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		int c = open(lt_path("f"), O_RDWR);
		if (c < 0 || lock(c, F_SETLK, F_WRLCK, 5, 20) < 0)
			_exit(1);
		pause();
		_exit(0);
	}
	/* Wait for the child's lock to show. */
	struct flock fl;
	for (int i = 0; i < 2000; i++) {
		fl = getlk(fd, F_RDLCK, 0, 0);
		if (fl.l_type != F_UNLCK)
			break;
		usleep(1000);
	}
	CHECK_EQ(fl.l_type, F_WRLCK);
	CHECK_EQ(fl.l_pid, pid);
	CHECK_EQ(fl.l_start, 5);
	CHECK_EQ(fl.l_len, 20);
	CHECK_EQ(fl.l_whence, SEEK_SET);
	/* A range that misses the lock is free. */
	fl = getlk(fd, F_WRLCK, 25, 5);
	CHECK_EQ(fl.l_type, F_UNLCK);
	kill(pid, SIGKILL);
	lt_wait_exit(pid);
	/* The lock died with its process. */
	fl = getlk(fd, F_WRLCK, 0, 0);
	CHECK_EQ(fl.l_type, F_UNLCK);
}

TEST(setlkw_waits_for_release)
{
	int fd = lt_file(lt_path("f"), "");
	REQUIRE_OK(lock(fd, F_SETLK, F_WRLCK, 0, 1));
	int p[2];
	REQUIRE_OK(pipe(p));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		int c = open(lt_path("f"), O_RDWR);
		if (c < 0 || lock(c, F_SETLKW, F_WRLCK, 0, 1) < 0)
			_exit(1);
		write(p[1], "L", 1);
		_exit(0);
	}
	/* The child is blocked: nothing arrives while the lock is held. */
	REQUIRE_OK(fcntl(p[0], F_SETFL, O_NONBLOCK));
	usleep(50000);
	char c;
	CHECK_ERR(read(p[0], &c, 1), EAGAIN);
	REQUIRE_OK(lock(fd, F_SETLK, F_UNLCK, 0, 1));
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_EQ(read(p[0], &c, 1), 1);
}

static void on_alarm(int sig) { (void)sig; }

TEST(setlkw_interrupted_eintr)
{
	int fd = lt_file(lt_path("f"), "");
	REQUIRE_OK(lock(fd, F_SETLK, F_WRLCK, 0, 1));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		struct sigaction sa = {.sa_handler = on_alarm};
		sigaction(SIGALRM, &sa, NULL);
		int c = open(lt_path("f"), O_RDWR);
		alarm(1);
		int r = lock(c, F_SETLKW, F_WRLCK, 0, 1);
		_exit(r < 0 && errno == EINTR ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(deadlock_edeadlk)
{
	int fd = lt_file(lt_path("f"), "");
	REQUIRE_OK(lock(fd, F_SETLK, F_WRLCK, 0, 1));
	int p[2];
	REQUIRE_OK(pipe(p));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		int c = open(lt_path("f"), O_RDWR);
		if (c < 0 || lock(c, F_SETLK, F_WRLCK, 1, 1) < 0)
			_exit(1);
		write(p[1], "L", 1);
		/* Blocks on the parent's byte 0. */
		lock(c, F_SETLKW, F_WRLCK, 0, 1);
		_exit(0);
	}
	char c;
	REQUIRE_EQ(read(p[0], &c, 1), 1);
	/* Wait until the child blocks on byte 0 (it shows in F_GETLK as holding byte 1 meanwhile). */
	usleep(100000);
	CHECK_ERR(lock(fd, F_SETLKW, F_WRLCK, 1, 1), EDEADLK);
	REQUIRE_OK(lock(fd, F_SETLK, F_UNLCK, 0, 1));
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(split_and_merge)
{
	int fd = lt_file(lt_path("f"), "");
	REQUIRE_OK(lock(fd, F_SETLK, F_WRLCK, 0, 100));
	/* Unlocking the middle splits the lock in two. */
	REQUIRE_OK(lock(fd, F_SETLK, F_UNLCK, 40, 20));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		int c = open(lt_path("f"), O_RDWR);
		struct flock a = getlk(c, F_WRLCK, 0, 0);
		struct flock b = getlk(c, F_WRLCK, 50, 0);
		struct flock m = getlk(c, F_WRLCK, 40, 20);
		_exit((a.l_start == 0 && a.l_len == 40 ? 0 : 1) | (b.l_start == 60 && b.l_len == 40 ? 0 : 2) |
		      (m.l_type == F_UNLCK ? 0 : 4));
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
	/* Adjacent locks of the same type merge. */
	REQUIRE_OK(lock(fd, F_SETLK, F_WRLCK, 40, 20));
	pid = REQUIRE_OK(fork());
	if (pid == 0) {
		int c = open(lt_path("f"), O_RDWR);
		struct flock a = getlk(c, F_WRLCK, 0, 0);
		_exit(a.l_start == 0 && a.l_len == 100 ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(whence_and_negative_len)
{
	int fd = lt_file(lt_path("f"), "0123456789");
	/* SEEK_CUR with a negative length covers the bytes before start. */
	REQUIRE_EQ(lseek(fd, 10, SEEK_SET), 10);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_CUR, .l_start = 0, .l_len = -4};
	REQUIRE_OK(fcntl(fd, F_SETLK, &fl));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		int c = open(lt_path("f"), O_RDWR);
		struct flock a = getlk(c, F_WRLCK, 0, 0);
		_exit(a.l_start == 6 && a.l_len == 4 ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
	/* SEEK_END is relative to the size. */
	fl = (struct flock){.l_type = F_UNLCK, .l_whence = SEEK_END, .l_start = -4, .l_len = 4};
	REQUIRE_OK(fcntl(fd, F_SETLK, &fl));
	pid = REQUIRE_OK(fork());
	if (pid == 0) {
		int c = open(lt_path("f"), O_RDWR);
		struct flock a = getlk(c, F_WRLCK, 0, 0);
		_exit(a.l_type == F_UNLCK ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(bad_arguments)
{
	int fd = lt_file(lt_path("f"), "");
	CHECK_ERR(lock(fd, F_SETLK, 7, 0, 1), EINVAL);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = 3};
	CHECK_ERR(fcntl(fd, F_SETLK, &fl), EINVAL);
	CHECK_ERR(lock(fd, F_SETLK, F_WRLCK, -1, 1), EINVAL);
	CHECK_ERR(lock(fd, F_SETLK, F_WRLCK, 0, -1), EINVAL);
	CHECK_ERR(fcntl(fd, F_SETLK, lt_bad), EFAULT);
	CHECK_ERR(fcntl(fd, F_GETLK, lt_bad), EFAULT);
	CHECK_ERR(lock(-1, F_SETLK, F_WRLCK, 0, 1), EBADF);
	/* F_GETLK asks about a lock to take: F_UNLCK is not one. */
	CHECK_ERR(lock(fd, F_GETLK, F_UNLCK, 0, 1), EINVAL);
}

TEST(access_mode_must_match)
{
	close(lt_file(lt_path("f"), ""));
	int ro = REQUIRE_OK(open(lt_path("f"), O_RDONLY));
	int wo = REQUIRE_OK(open(lt_path("f"), O_WRONLY));
	CHECK_ERR(lock(ro, F_SETLK, F_WRLCK, 0, 1), EBADF);
	CHECK_ERR(lock(wo, F_SETLK, F_RDLCK, 0, 1), EBADF);
	CHECK_OK(lock(ro, F_SETLK, F_RDLCK, 0, 1));
	CHECK_OK(lock(wo, F_SETLK, F_WRLCK, 5, 1));
	/* F_GETLK needs no particular mode. */
	struct flock fl = getlk(ro, F_WRLCK, 0, 0);
	CHECK_EQ(fl.l_type, F_UNLCK);
}

TEST(upgrade_and_downgrade)
{
	int fd = lt_file(lt_path("f"), "");
	REQUIRE_OK(lock(fd, F_SETLK, F_RDLCK, 0, 10));
	CHECK_OK(lock(fd, F_SETLK, F_WRLCK, 0, 10));
	CHECK_EQ(in_child(lt_path("f"), try_read_lock_0_10), 1);
	CHECK_OK(lock(fd, F_SETLK, F_RDLCK, 0, 10));
	CHECK_EQ(in_child(lt_path("f"), try_read_lock_0_10), 0);
}

TEST(not_inherited_by_fork)
{
	int fd = lt_file(lt_path("f"), "");
	REQUIRE_OK(lock(fd, F_SETLK, F_WRLCK, 0, 10));
	/* The child's inherited descriptor holds no lock: it conflicts with the parent. */
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(try_write_lock_0_10(fd));
	CHECK_EQ(lt_wait_exit(pid), 1);
}
