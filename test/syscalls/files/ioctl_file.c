/* The generic file ioctls: FIOCLEX/FIONCLEX, FIONBIO, FIONREAD, FIOQSIZE, FIGETBSZ, and ENOTTY for the rest. */
#include "shm.h"

#include <linux/fs.h>
#include <sys/ioctl.h>

TEST(fioclex_fionclex)
{
	int fd = lt_file(lt_path("f"), "");
	REQUIRE_OK(ioctl(fd, FIOCLEX));
	CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	REQUIRE_OK(ioctl(fd, FIONCLEX));
	CHECK_EQ(fcntl(fd, F_GETFD), 0);
}

TEST(fionbio)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	int on = 1, off = 0;
	REQUIRE_OK(ioctl(p[0], FIONBIO, &on));
	CHECK_EQ(fcntl(p[0], F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	char c;
	CHECK_ERR(read(p[0], &c, 1), EAGAIN);
	REQUIRE_OK(ioctl(p[0], FIONBIO, &off));
	CHECK_EQ(fcntl(p[0], F_GETFL) & O_NONBLOCK, 0);
	CHECK_ERR(ioctl(p[0], FIONBIO, lt_bad), EFAULT);
}

TEST(fionread_regular_file_tmpfs)
{
	int fd = lt_file(lt_shm_path("f"), "hello");
	int n = -1;
	REQUIRE_EQ(lseek(fd, 1, SEEK_SET), 1);
	REQUIRE_OK(ioctl(fd, FIONREAD, &n));
	CHECK_EQ(n, 4);
	/* Past the end the difference is negative. */
	REQUIRE_EQ(lseek(fd, 100, SEEK_SET), 100);
	REQUIRE_OK(ioctl(fd, FIONREAD, &n));
	CHECK_EQ(n, -95);
}

TEST(fionread_pipe)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	int n = -1;
	REQUIRE_OK(ioctl(p[0], FIONREAD, &n));
	CHECK_EQ(n, 0);
	REQUIRE_EQ(write(p[1], "abc", 3), 3);
	REQUIRE_OK(ioctl(p[0], FIONREAD, &n));
	CHECK_EQ(n, 3);
}

TEST(fionread_directory_enotty)
{
	int d = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	int n;
	CHECK_ERR(ioctl(d, FIONREAD, &n), ENOTTY);
}

TEST(fioqsize_is_allocated_bytes_tmpfs)
{
	/* FIOQSIZE reports the bytes allocated (one page here), not the size. */
	int fd = lt_file(lt_shm_path("f"), "hello");
	loff_t q = -1;
	REQUIRE_OK(ioctl(fd, FIOQSIZE, &q));
	CHECK_EQ(q, 4096);
	REQUIRE_OK(ftruncate(fd, 1 << 20));
	REQUIRE_OK(ioctl(fd, FIOQSIZE, &q));
	CHECK_EQ(q, 4096);
	REQUIRE_OK(mkdir(lt_shm_path("d"), 0700));
	int d = REQUIRE_OK(open(lt_shm_path("d"), O_RDONLY));
	REQUIRE_OK(ioctl(d, FIOQSIZE, &q));
	CHECK_EQ(q, 0);
}

TEST(fioqsize_pipe_enotty)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	loff_t q;
	CHECK_ERR(ioctl(p[0], FIOQSIZE, &q), ENOTTY);
}

TEST(figetbsz)
{
	int fd = lt_file(lt_shm_path("f"), "");
	int b = -1;
	REQUIRE_OK(ioctl(fd, FIGETBSZ, &b));
	CHECK_EQ(b, 4096);
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(b, st.st_blksize);
	CHECK_ERR(ioctl(fd, FIGETBSZ, lt_bad), EFAULT);
}

TEST(unknown_enotty_and_bad_fd)
{
	int fd = lt_file(lt_path("f"), "");
	CHECK_ERR(ioctl(fd, 0x12345678, 0), ENOTTY);
	CHECK_ERR(ioctl(-1, FIOCLEX), EBADF);
	int p = REQUIRE_OK(open(lt_path("f"), O_PATH));
	CHECK_ERR(ioctl(p, FIOCLEX), EBADF);
}
