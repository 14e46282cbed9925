/* eventfd(2): counter, EFD_SEMAPHORE, EFD_NONBLOCK, overflow, buffer sizes. */
#include "lt.h"

#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>

static uint64_t rd(int fd)
{
	uint64_t v = 0;
	if (read(fd, &v, 8) != 8)
		return (uint64_t)-1;
	return v;
}

static ssize_t wr(int fd, uint64_t v)
{
	return write(fd, &v, 8);
}

TEST(initial_value_and_reset)
{
	int fd = REQUIRE_OK(eventfd(5, 0));
	CHECK_EQ(rd(fd), 5);
	/* Reading resets the counter: the next read would block. */
	CHECK_OK(fcntl(fd, F_SETFL, O_NONBLOCK));
	uint64_t v;
	CHECK_ERR(read(fd, &v, 8), EAGAIN);
}

TEST(writes_add)
{
	int fd = REQUIRE_OK(eventfd(0, EFD_NONBLOCK));
	CHECK_EQ(wr(fd, 3), 8);
	CHECK_EQ(wr(fd, 4), 8);
	CHECK_EQ(rd(fd), 7);
}

TEST(semaphore_reads_one)
{
	int fd = REQUIRE_OK(eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK));
	CHECK_EQ(rd(fd), 1);
	CHECK_EQ(rd(fd), 1);
	CHECK_EQ(rd(fd), 1);
	uint64_t v;
	CHECK_ERR(read(fd, &v, 8), EAGAIN);
}

TEST(nonblock_read_zero_eagain)
{
	int fd = REQUIRE_OK(eventfd(0, EFD_NONBLOCK));
	uint64_t v;
	CHECK_ERR(read(fd, &v, 8), EAGAIN);
	CHECK_EQ(fcntl(fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
}

TEST(overflow_write_eagain)
{
	int fd = REQUIRE_OK(eventfd(0, EFD_NONBLOCK));
	/* The counter holds at most 2^64-2. */
	CHECK_EQ(wr(fd, UINT64_MAX - 1), 8);
	CHECK_ERR(wr(fd, 1), EAGAIN);
	CHECK_EQ(wr(fd, 0), 8);
	CHECK_EQ(rd(fd), UINT64_MAX - 1);
}

TEST(write_max_einval)
{
	int fd = REQUIRE_OK(eventfd(0, EFD_NONBLOCK));
	CHECK_ERR(wr(fd, UINT64_MAX), EINVAL);
}

TEST(short_buffers_einval)
{
	int fd = REQUIRE_OK(eventfd(1, EFD_NONBLOCK));
	uint64_t v = 1;
	CHECK_ERR(read(fd, &v, 7), EINVAL);
	CHECK_ERR(read(fd, &v, 0), EINVAL);
	CHECK_ERR(write(fd, &v, 7), EINVAL);
	/* Longer reads use 8 bytes; writes must be exactly 8. */
	uint64_t big[2] = {0, 0};
	CHECK_EQ(read(fd, big, sizeof(big)), 8);
	CHECK_EQ(big[0], 1);
	CHECK_ERR(write(fd, big, sizeof(big)), EINVAL);
	CHECK_ERR(read(fd, big, sizeof(big)), EAGAIN);
}

TEST(bad_buffer_efault)
{
	int fd = REQUIRE_OK(eventfd(1, EFD_NONBLOCK));
	void *volatile bad = (void *)1; /* volatile: gcc would see through it */
	CHECK_ERR(read(fd, bad, 8), EFAULT);
	CHECK_ERR(write(fd, bad, 8), EFAULT);
	/* Like Linux, the read consumed the count before failing to copy it. */
	uint64_t v;
	CHECK_ERR(read(fd, &v, 8), EAGAIN);
}

TEST(flags)
{
	int fd = REQUIRE_OK(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
	CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	CHECK_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
	CHECK_ERR(eventfd(0, 2), EINVAL);
	CHECK_ERR(eventfd(0, O_APPEND), EINVAL);
}

TEST(eventfd_syscall_without_flags)
{
	/* eventfd (not eventfd2) takes no flags. */
	int fd = REQUIRE_OK(syscall(SYS_eventfd, 2));
	CHECK_EQ(fcntl(fd, F_GETFD), 0);
	CHECK_EQ(rd(fd), 2);
}

TEST(poll_readiness)
{
	int fd = REQUIRE_OK(eventfd(0, EFD_NONBLOCK));
	struct pollfd p = {fd, POLLIN | POLLOUT, 0};
	CHECK_EQ(poll(&p, 1, 0), 1);
	CHECK_EQ(p.revents, POLLOUT);
	CHECK_EQ(wr(fd, 1), 8);
	CHECK_EQ(poll(&p, 1, 0), 1);
	CHECK_EQ(p.revents, POLLIN | POLLOUT);
	CHECK_EQ(wr(fd, UINT64_MAX - 2), 8);
	CHECK_EQ(poll(&p, 1, 0), 1);
	CHECK_EQ(p.revents, POLLIN);
}

TEST(blocking_read_woken_by_write)
{
	int fd = REQUIRE_OK(eventfd(0, 0));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		usleep(30000);
		_exit(wr(fd, 9) == 8 ? 0 : 1);
	}
	CHECK_EQ(rd(fd), 9);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(blocking_write_woken_by_read)
{
	int fd = REQUIRE_OK(eventfd(0, 0));
	REQUIRE_EQ(wr(fd, UINT64_MAX - 1), 8);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		usleep(30000);
		_exit(rd(fd) == UINT64_MAX - 1 ? 0 : 1);
	}
	/* Blocks until the child's read makes room. */
	CHECK_EQ(wr(fd, 5), 8);
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_EQ(rd(fd), 5);
}

TEST(proc_fdinfo_count)
{
	int fd = REQUIRE_OK(eventfd(0x1234, 0));
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	int info = REQUIRE_OK(open(path, O_RDONLY));
	ssize_t n = REQUIRE_OK(read(info, buf, sizeof(buf) - 1));
	buf[n] = 0;
	CHECK(strstr(buf, "\neventfd-count:             1234\n") != NULL);
	CHECK(strstr(buf, "\neventfd-semaphore: 0\n") != NULL);
	char link[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = REQUIRE_OK(readlink(path, link, sizeof(link) - 1));
	link[n] = 0;
	CHECK_STREQ(link, "anon_inode:[eventfd]");
}
