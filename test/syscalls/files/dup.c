/* dup, dup2, dup3: descriptor numbers, shared offsets, close-on-exec. */
#include "lt.h"

TEST(dup_lowest_free)
{
	int fd = REQUIRE_OK(open("/dev/null", O_RDONLY));
	int lowest = fd;
	close(fd);
	fd = REQUIRE_OK(dup(0));
	CHECK_EQ(fd, lowest);
	CHECK_OK(close(fd));
}

TEST(dup_shares_offset)
{
	int fd = REQUIRE_OK(open(lt_path("f"), O_RDWR | O_CREAT, 0600));
	REQUIRE_EQ(write(fd, "hello", 5), 5);
	int fd2 = REQUIRE_OK(dup(fd));
	CHECK_EQ(lseek(fd2, 0, SEEK_CUR), 5);
	CHECK_EQ(lseek(fd, 1, SEEK_SET), 1);
	CHECK_EQ(lseek(fd2, 0, SEEK_CUR), 1);
}

TEST(dup_bad_fd)
{
	CHECK_ERR(dup(-1), EBADF);
	CHECK_ERR(dup(12345), EBADF);
}

TEST(dup2_same_fd)
{
	CHECK_EQ(dup2(1, 1), 1);
	CHECK_ERR(dup2(12345, 12345), EBADF);
}

TEST(dup3_same_fd_einval)
{
	CHECK_ERR(dup3(1, 1, 0), EINVAL);
}

TEST(dup3_bad_flags)
{
	CHECK_ERR(dup3(1, 50, O_NONBLOCK), EINVAL);
}

TEST(dup3_cloexec)
{
	CHECK_EQ(dup3(1, 50, O_CLOEXEC), 50);
	CHECK_EQ(fcntl(50, F_GETFD), FD_CLOEXEC);
	CHECK_EQ(dup2(1, 51), 51);
	CHECK_EQ(fcntl(51, F_GETFD), 0);
}
