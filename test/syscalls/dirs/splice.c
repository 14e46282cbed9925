/* splice and tee: moving and duplicating pipe data, offsets, EINVAL cases. */
#include "lt.h"
#include <sys/syscall.h>

static int datafile(const char *name, const char *data)
{
	int fd = open(lt_path(name), O_CREAT | O_RDWR | O_TRUNC, 0600);
	if (fd < 0)
		ABORT("open: %s", strerror(errno));
	if (write(fd, data, strlen(data)) != (ssize_t)strlen(data))
		ABORT("write: %s", strerror(errno));
	lseek(fd, 0, SEEK_SET);
	return fd;
}

TEST(file_to_pipe_moves_file_offset)
{
	int fd = datafile("f", "hello world");
	int p[2];
	REQUIRE_OK(pipe(p));
	CHECK_EQ(splice(fd, NULL, p[1], NULL, 5, 0), 5);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 5);
	char buf[16] = {0};
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 5);
	CHECK_STREQ(buf, "hello");
}

TEST(file_to_pipe_with_offset)
{
	int fd = datafile("f", "hello world");
	int p[2];
	REQUIRE_OK(pipe(p));
	loff_t off = 6;
	CHECK_EQ(splice(fd, &off, p[1], NULL, 100, 0), 5);
	CHECK_EQ(off, 11);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 0);
	char buf[16] = {0};
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 5);
	CHECK_STREQ(buf, "world");
}

TEST(pipe_to_file_with_offset)
{
	int fd = datafile("f", "..........");
	int p[2];
	REQUIRE_OK(pipe(p));
	REQUIRE_EQ(write(p[1], "abc", 3), 3);
	loff_t off = 4;
	CHECK_EQ(splice(p[0], NULL, fd, &off, 3, 0), 3);
	CHECK_EQ(off, 7);
	char buf[16] = {0};
	CHECK_EQ(pread(fd, buf, sizeof(buf), 0), 10);
	CHECK_STREQ(buf, "....abc...");
}

TEST(pipe_to_pipe)
{
	int a[2], b[2];
	REQUIRE_OK(pipe(a));
	REQUIRE_OK(pipe(b));
	REQUIRE_EQ(write(a[1], "xyz", 3), 3);
	CHECK_EQ(splice(a[0], NULL, b[1], NULL, 10, 0), 3);
	char buf[8] = {0};
	CHECK_EQ(read(b[0], buf, sizeof(buf)), 3);
	CHECK_STREQ(buf, "xyz");
}

TEST(file_at_eof_returns_zero)
{
	int fd = datafile("f", "ab");
	int p[2];
	REQUIRE_OK(pipe(p));
	loff_t off = 2;
	CHECK_EQ(splice(fd, &off, p[1], NULL, 10, 0), 0);
}

TEST(empty_pipe_nonblock_eagain)
{
	int a[2], b[2];
	REQUIRE_OK(pipe(a));
	REQUIRE_OK(pipe(b));
	CHECK_ERR(splice(a[0], NULL, b[1], NULL, 10, SPLICE_F_NONBLOCK), EAGAIN);
}

TEST(writer_closed_returns_zero)
{
	int a[2], b[2];
	REQUIRE_OK(pipe(a));
	REQUIRE_OK(pipe(b));
	close(a[1]);
	CHECK_EQ(splice(a[0], NULL, b[1], NULL, 10, 0), 0);
}

TEST(no_pipe_einval)
{
	int f = datafile("f", "data");
	int g = datafile("g", "");
	CHECK_ERR(splice(f, NULL, g, NULL, 4, 0), EINVAL);
}

TEST(offset_on_pipe_espipe)
{
	int f = datafile("f", "data");
	int p[2];
	REQUIRE_OK(pipe(p));
	REQUIRE_EQ(write(p[1], "x", 1), 1);
	loff_t off = 0;
	CHECK_ERR(splice(p[0], &off, f, NULL, 1, 0), ESPIPE);
	CHECK_ERR(splice(f, NULL, p[1], &off, 1, 0), ESPIPE);
}

TEST(bad_fds)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	CHECK_ERR(splice(-1, NULL, p[1], NULL, 1, 0), EBADF);
	CHECK_ERR(splice(p[0], NULL, -1, NULL, 1, 0), EBADF);
	int f = datafile("f", "data");
	int ro = REQUIRE_OK(open(lt_path("f"), O_RDONLY));
	REQUIRE_EQ(write(p[1], "x", 1), 1);
	CHECK_ERR(splice(p[0], NULL, ro, NULL, 1, 0), EBADF);
	/* The pipe's write end cannot be read. */
	CHECK_ERR(splice(p[1], NULL, f, NULL, 1, 0), EBADF);
}

TEST(negative_offset_einval)
{
	int f = datafile("f", "data");
	int p[2];
	REQUIRE_OK(pipe(p));
	loff_t off = -1;
	CHECK_ERR(splice(f, &off, p[1], NULL, 1, 0), EINVAL);
}

TEST(append_file_out_einval)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	REQUIRE_EQ(write(p[1], "x", 1), 1);
	int fd = REQUIRE_OK(open(lt_path("a"), O_CREAT | O_WRONLY | O_APPEND, 0600));
	CHECK_ERR(splice(p[0], NULL, fd, NULL, 1, 0), EINVAL);
}

TEST(same_pipe_einval)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	REQUIRE_EQ(write(p[1], "x", 1), 1);
	CHECK_ERR(splice(p[0], NULL, p[1], NULL, 1, 0), EINVAL);
}

TEST(tee_duplicates_without_consuming)
{
	int a[2], b[2];
	REQUIRE_OK(pipe(a));
	REQUIRE_OK(pipe(b));
	REQUIRE_EQ(write(a[1], "teedata", 7), 7);
	CHECK_EQ(tee(a[0], b[1], 100, 0), 7);
	char buf[16] = {0};
	CHECK_EQ(read(b[0], buf, sizeof(buf)), 7);
	CHECK_STREQ(buf, "teedata");
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(read(a[0], buf, sizeof(buf)), 7);
	CHECK_STREQ(buf, "teedata");
}

TEST(tee_partial_length)
{
	int a[2], b[2];
	REQUIRE_OK(pipe(a));
	REQUIRE_OK(pipe(b));
	REQUIRE_EQ(write(a[1], "abcdef", 6), 6);
	CHECK_EQ(tee(a[0], b[1], 2, 0), 2);
	char buf[8] = {0};
	CHECK_EQ(read(b[0], buf, sizeof(buf)), 2);
	CHECK_STREQ(buf, "ab");
}

TEST(tee_errors)
{
	int a[2], b[2];
	REQUIRE_OK(pipe(a));
	REQUIRE_OK(pipe(b));
	int f = datafile("f", "data");
	CHECK_ERR(tee(f, b[1], 1, 0), EINVAL);
	CHECK_ERR(tee(a[0], f, 1, 0), EINVAL);
	CHECK_ERR(tee(a[0], a[1], 1, 0), EINVAL);
	CHECK_ERR(tee(-1, b[1], 1, 0), EBADF);
	CHECK_ERR(tee(a[0], b[1], 1, SPLICE_F_NONBLOCK), EAGAIN);
}

TEST(tee_writer_closed_zero)
{
	int a[2], b[2];
	REQUIRE_OK(pipe(a));
	REQUIRE_OK(pipe(b));
	close(a[1]);
	CHECK_EQ(tee(a[0], b[1], 10, 0), 0);
}

TEST(bad_flags_einval)
{
	int a[2], b[2];
	REQUIRE_OK(pipe(a));
	REQUIRE_OK(pipe(b));
	REQUIRE_EQ(write(a[1], "x", 1), 1);
	CHECK_ERR(splice(a[0], NULL, b[1], NULL, 1, 0x100), EINVAL);
	CHECK_ERR(tee(a[0], b[1], 1, 0x100), EINVAL);
}

TEST(zero_length)
{
	int a[2], b[2];
	REQUIRE_OK(pipe(a));
	REQUIRE_OK(pipe(b));
	CHECK_EQ(splice(a[0], NULL, b[1], NULL, 0, 0), 0);
	CHECK_EQ(tee(a[0], b[1], 0, 0), 0);
}

TEST(efault_offset)
{
	int f = datafile("f", "data");
	int p[2];
	REQUIRE_OK(pipe(p));
	CHECK_ERR(syscall(SYS_splice, f, (void *)1, p[1], NULL, 1, 0), EFAULT);
}
