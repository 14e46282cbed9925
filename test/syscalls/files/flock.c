/* flock: shared and exclusive locks on open file descriptions, LOCK_NB, conversion, release. */
#include "shm.h"

#include <sys/file.h>

static int child_try(const char *path, int op)
{
	pid_t pid = fork();
	if (pid < 0)
		ABORT("fork: %s", strerror(errno));
	if (pid == 0) {
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			_exit(100);
		if (flock(fd, op | LOCK_NB) == 0)
			_exit(0);
		_exit(errno == EWOULDBLOCK ? 1 : 2);
	}
	return lt_wait_exit(pid);
}

static void check_exclusive(const char *path)
{
	int fd = lt_file(path, "");
	REQUIRE_OK(flock(fd, LOCK_EX));
	CHECK_EQ(child_try(path, LOCK_EX), 1);
	CHECK_EQ(child_try(path, LOCK_SH), 1);
	REQUIRE_OK(flock(fd, LOCK_UN));
	CHECK_EQ(child_try(path, LOCK_EX), 0);
}

TEST(exclusive_excludes) { check_exclusive(lt_path("f")); }
TEST(exclusive_excludes_tmpfs) { check_exclusive(lt_shm_path("f")); }

TEST(shared_shares)
{
	int fd = lt_file(lt_path("f"), "");
	REQUIRE_OK(flock(fd, LOCK_SH));
	CHECK_EQ(child_try(lt_path("f"), LOCK_SH), 0);
	CHECK_EQ(child_try(lt_path("f"), LOCK_EX), 1);
}

TEST(separate_opens_conflict_in_one_process)
{
	int a = lt_file(lt_path("f"), "");
	int b = REQUIRE_OK(open(lt_path("f"), O_RDONLY));
	REQUIRE_OK(flock(a, LOCK_EX));
	CHECK_ERR(flock(b, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	CHECK_ERR(flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK);
}

TEST(dup_shares_and_close_keeps)
{
	int a = lt_file(lt_path("f"), "");
	int d = REQUIRE_OK(dup(a));
	REQUIRE_OK(flock(a, LOCK_EX));
	/* Locking through a dup is a no-op conversion, not a conflict. */
	CHECK_OK(flock(d, LOCK_EX | LOCK_NB));
	REQUIRE_OK(close(d));
	CHECK_EQ(child_try(lt_path("f"), LOCK_EX), 1);
	REQUIRE_OK(close(a));
	CHECK_EQ(child_try(lt_path("f"), LOCK_EX), 0);
}

TEST(inherited_by_fork_child)
{
	int a = lt_file(lt_path("f"), "");
	REQUIRE_OK(flock(a, LOCK_EX));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		/* The child's unlock through the shared description unlocks for both. */
		_exit(flock(a, LOCK_UN) == 0 ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_EQ(child_try(lt_path("f"), LOCK_EX), 0);
}

TEST(convert_shared_to_exclusive)
{
	int a = lt_file(lt_path("f"), "");
	REQUIRE_OK(flock(a, LOCK_SH));
	CHECK_OK(flock(a, LOCK_EX | LOCK_NB));
	CHECK_EQ(child_try(lt_path("f"), LOCK_SH), 1);
	CHECK_OK(flock(a, LOCK_SH));
	CHECK_EQ(child_try(lt_path("f"), LOCK_SH), 0);
}

TEST(conversion_blocked_by_other_reader)
{
	int a = lt_file(lt_path("f"), "");
	int b = REQUIRE_OK(open(lt_path("f"), O_RDONLY));
	REQUIRE_OK(flock(a, LOCK_SH));
	REQUIRE_OK(flock(b, LOCK_SH));
	CHECK_ERR(flock(a, LOCK_EX | LOCK_NB), EWOULDBLOCK);
}

TEST(blocking_waits_for_unlock)
{
	int a = lt_file(lt_path("f"), "");
	REQUIRE_OK(flock(a, LOCK_EX));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		int fd = open(lt_path("f"), O_RDONLY);
		_exit(flock(fd, LOCK_SH) == 0 ? 0 : 1);
	}
	usleep(50000);
	REQUIRE_OK(flock(a, LOCK_UN));
	CHECK_EQ(lt_wait_exit(pid), 0);
}

static void on_alarm(int sig) { (void)sig; }

TEST(blocking_interrupted_eintr)
{
	int a = lt_file(lt_path("f"), "");
	REQUIRE_OK(flock(a, LOCK_EX));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		struct sigaction sa = {.sa_handler = on_alarm};
		sigaction(SIGALRM, &sa, NULL);
		int fd = open(lt_path("f"), O_RDONLY);
		alarm(1);
		int r = flock(fd, LOCK_EX);
		_exit(r < 0 && errno == EINTR ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(bad_operation_einval)
{
	int a = lt_file(lt_path("f"), "");
	CHECK_ERR(flock(a, 0), EINVAL);
	CHECK_ERR(flock(a, LOCK_NB), EINVAL);
	CHECK_ERR(flock(a, LOCK_SH | LOCK_EX), EINVAL);
	CHECK_ERR(flock(a, 0x40), EINVAL);
	CHECK_ERR(flock(-1, LOCK_SH), EBADF);
	/* LOCK_UN without a lock succeeds. */
	CHECK_OK(flock(a, LOCK_UN));
}

TEST(independent_of_posix_locks)
{
	int a = lt_file(lt_path("f"), "");
	REQUIRE_OK(flock(a, LOCK_EX));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		int fd = open(lt_path("f"), O_RDWR);
		struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
		_exit(fcntl(fd, F_SETLK, &fl) == 0 ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(any_access_mode_and_directories)
{
	close(lt_file(lt_path("f"), ""));
	int ro = REQUIRE_OK(open(lt_path("f"), O_RDONLY));
	CHECK_OK(flock(ro, LOCK_EX));
	int d = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	CHECK_OK(flock(d, LOCK_EX | LOCK_NB));
	int d2 = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	CHECK_ERR(flock(d2, LOCK_SH | LOCK_NB), EWOULDBLOCK);
}

TEST(pipe_flock)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	CHECK_OK(flock(p[0], LOCK_EX | LOCK_NB));
}

TEST(lock_mand_ignored)
{
	/* LOCK_MAND requests are accepted and ignored, even on a bad descriptor. */
	int a = lt_file(lt_path("f"), "");
	CHECK_OK(flock(a, LOCK_MAND | LOCK_READ));
	CHECK_OK(flock(-1, LOCK_MAND | LOCK_SH));
	CHECK_EQ(child_try(lt_path("f"), LOCK_EX), 0);
}

TEST(access_mode_three_ebadf)
{
	/* Open mode 3 grants neither read nor write: no lock can be taken. */
	close(lt_file(lt_path("f"), ""));
	int fd = REQUIRE_OK(open(lt_path("f"), 3));
	CHECK_ERR(flock(fd, LOCK_SH | LOCK_NB), EBADF);
	CHECK_OK(flock(fd, LOCK_UN));
	int p = REQUIRE_OK(open(lt_path("f"), O_PATH));
	CHECK_ERR(flock(p, LOCK_SH), EBADF);
}
