/* fcntl F_DUPFD and F_DUPFD_CLOEXEC: lowest free descriptor at or above the argument, limits. */
#include "shm.h"

#include <sys/resource.h>
#include <sys/syscall.h>

TEST(dupfd_min)
{
	int fd = REQUIRE_OK(open("/dev/null", O_RDONLY));
	CHECK_EQ(fcntl(fd, F_DUPFD, 100), 100);
	CHECK_EQ(fcntl(fd, F_DUPFD, 100), 101);
	REQUIRE_OK(close(100));
	CHECK_EQ(fcntl(fd, F_DUPFD, 100), 100);
	/* Below the start: lowest free. */
	int low = REQUIRE_OK(fcntl(fd, F_DUPFD, 0));
	CHECK_LT(low, 100);
}

TEST(dupfd_shares_description)
{
	int fd = lt_file(lt_path("f"), "0123456789");
	int d = REQUIRE_OK(fcntl(fd, F_DUPFD, 50));
	REQUIRE_EQ(lseek(fd, 3, SEEK_SET), 3);
	CHECK_EQ(lseek(d, 0, SEEK_CUR), 3);
	REQUIRE_OK(fcntl(d, F_SETFL, O_APPEND));
	CHECK_EQ(fcntl(fd, F_GETFL) & O_APPEND, O_APPEND);
}

TEST(dupfd_clears_cloexec)
{
	int fd = REQUIRE_OK(open("/dev/null", O_RDONLY | O_CLOEXEC));
	int d = REQUIRE_OK(fcntl(fd, F_DUPFD, 0));
	CHECK_EQ(fcntl(d, F_GETFD), 0);
}

TEST(dupfd_cloexec_sets_it)
{
	int fd = REQUIRE_OK(open("/dev/null", O_RDONLY));
	int d = REQUIRE_OK(fcntl(fd, F_DUPFD_CLOEXEC, 20));
	CHECK_GE(d, 20);
	CHECK_EQ(fcntl(d, F_GETFD), FD_CLOEXEC);
	CHECK_EQ(fcntl(fd, F_GETFD), 0);
}

TEST(negative_min_einval)
{
	int fd = REQUIRE_OK(open("/dev/null", O_RDONLY));
	CHECK_ERR(fcntl(fd, F_DUPFD, -1), EINVAL);
	CHECK_ERR(fcntl(fd, F_DUPFD_CLOEXEC, -5), EINVAL);
}

TEST(min_at_rlimit_einval)
{
	struct rlimit rl = {64, 64};
	REQUIRE_OK(setrlimit(RLIMIT_NOFILE, &rl));
	int fd = REQUIRE_OK(open("/dev/null", O_RDONLY));
	CHECK_ERR(fcntl(fd, F_DUPFD, 64), EINVAL);
	CHECK_ERR(fcntl(fd, F_DUPFD, 1 << 30), EINVAL);
	CHECK_EQ(fcntl(fd, F_DUPFD, 63), 63);
	/* Nothing free at or above 63 any more. */
	CHECK_ERR(fcntl(fd, F_DUPFD, 63), EMFILE);
}

TEST(bad_fd)
{
	CHECK_ERR(fcntl(-1, F_DUPFD, 0), EBADF);
	CHECK_ERR(fcntl(999, F_DUPFD_CLOEXEC, 0), EBADF);
}

TEST(huge_arg_truncated_to_int)
{
	/* The argument is an unsigned long read as int: 2^32 + 7 is 7. */
	int fd = REQUIRE_OK(open("/dev/null", O_RDONLY));
	long r = syscall(SYS_fcntl, fd, F_DUPFD, (1UL << 32) + 70);
	CHECK_EQ(r, 70);
}

TEST(dup_of_pipe_end_keeps_it_open)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	int w = REQUIRE_OK(fcntl(p[1], F_DUPFD, 0));
	REQUIRE_OK(close(p[1]));
	REQUIRE_EQ(write(w, "x", 1), 1);
	REQUIRE_OK(close(w));
	char buf[2];
	CHECK_EQ(read(p[0], buf, 2), 1);
	CHECK_EQ(read(p[0], buf, 2), 0);
}
