/* Open file description locks (F_OFD_SETLK, F_OFD_SETLKW, F_OFD_GETLK): owned by the description, not the process. */
#include "shm.h"

static int ofd(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	return fcntl(fd, cmd, &fl);
}

static struct flock ofd_getlk(int fd, short type, off_t start, off_t len)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
		ABORT("F_OFD_GETLK: %s", strerror(errno));
	return fl;
}

static void check_two_opens_conflict(const char *path)
{
	int a = lt_file(path, "");
	int b = REQUIRE_OK(open(path, O_RDWR));
	REQUIRE_OK(ofd(a, F_OFD_SETLK, F_WRLCK, 0, 10));
	/* Unlike POSIX locks, two descriptions of one process conflict. */
	CHECK_ERR(ofd(b, F_OFD_SETLK, F_WRLCK, 0, 10), EAGAIN);
	CHECK_ERR(ofd(b, F_OFD_SETLK, F_RDLCK, 5, 1), EAGAIN);
	CHECK_OK(ofd(b, F_OFD_SETLK, F_WRLCK, 10, 10));
}

TEST(two_opens_conflict) { check_two_opens_conflict(lt_path("f")); }
TEST(two_opens_conflict_tmpfs) { check_two_opens_conflict(lt_shm_path("f")); }

TEST(dup_shares_lock)
{
	int a = lt_file(lt_path("f"), "");
	int d = REQUIRE_OK(dup(a));
	REQUIRE_OK(ofd(a, F_OFD_SETLK, F_WRLCK, 0, 10));
	CHECK_OK(ofd(d, F_OFD_SETLK, F_WRLCK, 0, 10));
	/* Closing one of the dups keeps the lock. */
	REQUIRE_OK(close(d));
	int b = REQUIRE_OK(open(lt_path("f"), O_RDWR));
	CHECK_ERR(ofd(b, F_OFD_SETLK, F_WRLCK, 0, 10), EAGAIN);
	/* Closing the last reference releases it. */
	REQUIRE_OK(close(a));
	CHECK_OK(ofd(b, F_OFD_SETLK, F_WRLCK, 0, 10));
}

TEST(getlk_pid_minus_one)
{
	int a = lt_file(lt_path("f"), "");
	int b = REQUIRE_OK(open(lt_path("f"), O_RDWR));
	REQUIRE_OK(ofd(a, F_OFD_SETLK, F_RDLCK, 3, 4));
	struct flock fl = ofd_getlk(b, F_WRLCK, 0, 0);
	CHECK_EQ(fl.l_type, F_RDLCK);
	CHECK_EQ(fl.l_start, 3);
	CHECK_EQ(fl.l_len, 4);
	CHECK_EQ(fl.l_pid, -1);
	fl = ofd_getlk(b, F_RDLCK, 0, 0);
	CHECK_EQ(fl.l_type, F_UNLCK);
}

TEST(l_pid_must_be_zero)
{
	int a = lt_file(lt_path("f"), "");
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 1, .l_pid = 1};
	CHECK_ERR(fcntl(a, F_OFD_SETLK, &fl), EINVAL);
	CHECK_ERR(fcntl(a, F_OFD_GETLK, &fl), EINVAL);
}

TEST(inherited_across_fork)
{
	int a = lt_file(lt_path("f"), "");
	REQUIRE_OK(ofd(a, F_OFD_SETLK, F_WRLCK, 0, 10));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		/* The child shares the description, hence the lock. */
		if (ofd(a, F_OFD_SETLK, F_WRLCK, 0, 10) < 0)
			_exit(1);
		int b = open(lt_path("f"), O_RDWR);
		_exit(ofd(b, F_OFD_SETLK, F_WRLCK, 0, 10) < 0 && errno == EAGAIN ? 0 : 2);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(conflicts_with_posix_locks)
{
	int a = lt_file(lt_path("f"), "");
	REQUIRE_OK(ofd(a, F_OFD_SETLK, F_WRLCK, 0, 10));
	int b = REQUIRE_OK(open(lt_path("f"), O_RDWR));
	/* A classic lock of the same process conflicts with the OFD lock. */
	CHECK_ERR(ofd(b, F_SETLK, F_WRLCK, 0, 10), EAGAIN);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	REQUIRE_OK(fcntl(b, F_GETLK, &fl));
	CHECK_EQ(fl.l_type, F_WRLCK);
	CHECK_EQ(fl.l_pid, -1);
}

TEST(setlkw_waits)
{
	int a = lt_file(lt_path("f"), "");
	REQUIRE_OK(ofd(a, F_OFD_SETLK, F_WRLCK, 0, 1));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		int b = open(lt_path("f"), O_RDWR);
		_exit(ofd(b, F_OFD_SETLKW, F_WRLCK, 0, 1) == 0 ? 0 : 1);
	}
	usleep(50000);
	REQUIRE_OK(ofd(a, F_OFD_SETLK, F_UNLCK, 0, 1));
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(setlkw_woken_by_last_close)
{
	/* A blocked F_OFD_SETLKW is woken when the holding description is released. */
	int a = lt_file(lt_path("f"), "");
	REQUIRE_OK(ofd(a, F_OFD_SETLK, F_WRLCK, 0, 0));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		close(a); /* the child's reference to the description */
		int b = open(lt_path("f"), O_RDWR);
		_exit(ofd(b, F_OFD_SETLKW, F_RDLCK, 100, 1) == 0 ? 0 : 1);
	}
	usleep(50000);
	REQUIRE_OK(close(a));
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(getlk_unlck_reports_own_lock)
{
	/* F_OFD_GETLK accepts F_UNLCK and then reports the description's own lock. */
	int a = lt_file(lt_path("f"), "");
	int b = REQUIRE_OK(open(lt_path("f"), O_RDWR));
	REQUIRE_OK(ofd(a, F_OFD_SETLK, F_WRLCK, 10, 5));
	struct flock fl = ofd_getlk(a, F_UNLCK, 0, 0);
	CHECK_EQ(fl.l_type, F_WRLCK);
	CHECK_EQ(fl.l_start, 10);
	CHECK_EQ(fl.l_len, 5);
	CHECK_EQ(fl.l_pid, -1);
	fl = ofd_getlk(b, F_UNLCK, 0, 0);
	CHECK_EQ(fl.l_type, F_UNLCK);
	fl = ofd_getlk(a, F_UNLCK, 20, 5);
	CHECK_EQ(fl.l_type, F_UNLCK);
}

TEST(bad_arguments)
{
	int a = lt_file(lt_path("f"), "");
	CHECK_ERR(ofd(a, F_OFD_SETLK, 9, 0, 1), EINVAL);
	CHECK_ERR(fcntl(a, F_OFD_SETLK, lt_bad), EFAULT);
	CHECK_ERR(ofd(-1, F_OFD_SETLK, F_WRLCK, 0, 1), EBADF);
	int ro = REQUIRE_OK(open(lt_path("f"), O_RDONLY));
	CHECK_ERR(ofd(ro, F_OFD_SETLK, F_WRLCK, 0, 1), EBADF);
	CHECK_ERR(ofd(a, F_OFD_GETLK, 5, 0, 1), EINVAL);
}

TEST(unlock_range_partial)
{
	int a = lt_file(lt_path("f"), "");
	int b = REQUIRE_OK(open(lt_path("f"), O_RDWR));
	REQUIRE_OK(ofd(a, F_OFD_SETLK, F_WRLCK, 0, 30));
	REQUIRE_OK(ofd(a, F_OFD_SETLK, F_UNLCK, 10, 10));
	CHECK_OK(ofd(b, F_OFD_SETLK, F_WRLCK, 10, 10));
	CHECK_ERR(ofd(b, F_OFD_SETLK, F_WRLCK, 20, 1), EAGAIN);
	CHECK_ERR(ofd(b, F_OFD_SETLK, F_WRLCK, 9, 1), EAGAIN);
}
