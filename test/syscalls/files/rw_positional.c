/* pread64, pwrite64, preadv, pwritev: explicit offsets that leave the file offset alone. */
#include "shm.h"

#include <sys/uio.h>

static void check_pread_pwrite(const char *path)
{
	int fd = lt_file(path, "0123456789");
	REQUIRE_EQ(lseek(fd, 2, SEEK_SET), 2);
	char buf[5] = {0};
	CHECK_EQ(pread(fd, buf, 4, 5), 4);
	CHECK_STREQ(buf, "5678");
	CHECK_EQ(pwrite(fd, "AB", 2, 0), 2);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 2);
	CHECK_EQ(pread(fd, buf, 4, 0), 4);
	CHECK_STREQ(buf, "AB23");
}

TEST(leave_offset) { check_pread_pwrite(lt_path("f")); }
TEST(leave_offset_tmpfs) { check_pread_pwrite(lt_shm_path("f")); }

TEST(pread_past_eof)
{
	int fd = lt_file(lt_path("f"), "abc");
	char buf[4];
	CHECK_EQ(pread(fd, buf, 4, 3), 0);
	CHECK_EQ(pread(fd, buf, 4, 1000), 0);
	CHECK_EQ(pread(fd, buf, 4, 2), 1);
}

TEST(pwrite_past_eof_extends)
{
	int fd = lt_file(lt_shm_path("f"), "abc");
	CHECK_EQ(pwrite(fd, "z", 1, 10), 1);
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_size, 11);
	char buf[11];
	CHECK_EQ(pread(fd, buf, 11, 0), 11);
	CHECK_EQ(buf[5], 0);
	CHECK_EQ(buf[10], 'z');
}

TEST(negative_offset_einval)
{
	int fd = lt_file(lt_path("f"), "abc");
	char buf[4];
	CHECK_ERR(pread(fd, buf, 1, -1), EINVAL);
	CHECK_ERR(pwrite(fd, buf, 1, -1), EINVAL);
	struct iovec v = {buf, 1};
	CHECK_ERR(preadv(fd, &v, 1, -1), EINVAL);
	CHECK_ERR(pwritev(fd, &v, 1, -5), EINVAL);
}

TEST(offset_overflow)
{
	int fd = lt_file(lt_shm_path("f"), "abc");
	char buf[16] = {0};
	/* offset + count past the largest loff_t. */
	CHECK_ERR(pwrite(fd, buf, 16, 0x7ffffffffffffff8LL), EINVAL);
	CHECK_ERR(pread(fd, buf, 16, 0x7ffffffffffffff8LL), EINVAL);
}

TEST(pipe_espipe)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	char c = 'x';
	CHECK_ERR(pwrite(p[1], &c, 1, 0), ESPIPE);
	CHECK_ERR(pread(p[0], &c, 1, 0), ESPIPE);
	struct iovec v = {&c, 1};
	CHECK_ERR(pwritev(p[1], &v, 1, 0), ESPIPE);
	CHECK_ERR(preadv(p[0], &v, 1, 0), ESPIPE);
}

TEST(preadv_pwritev)
{
	int fd = lt_file(lt_path("f"), "..........");
	struct iovec w[2] = {{"ab", 2}, {"cd", 2}};
	CHECK_EQ(pwritev(fd, w, 2, 3), 4);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 10);
	char x[3] = {0}, y[3] = {0};
	struct iovec r[2] = {{x, 2}, {y, 2}};
	CHECK_EQ(preadv(fd, r, 2, 2), 4);
	CHECK_STREQ(x, ".a");
	CHECK_STREQ(y, "bc");
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 10);
}

TEST(concurrent_threads_independent)
{
	/* Positional writes from two processes to disjoint ranges never mix. */
	int fd = lt_file(lt_shm_path("f"), "");
	pid_t pid = REQUIRE_OK(fork());
	char buf[256];
	memset(buf, pid == 0 ? 'c' : 'p', sizeof(buf));
	for (int i = 0; i < 64; i++)
		if (pwrite(fd, buf, sizeof(buf), (pid == 0 ? 0 : 64 * 256) + i * 256) != 256)
			ABORT("pwrite");
	if (pid == 0)
		_exit(0);
	CHECK_EQ(lt_wait_exit(pid), 0);
	char c;
	CHECK_EQ(pread(fd, &c, 1, 63 * 256), 1);
	CHECK_EQ(c, 'c');
	CHECK_EQ(pread(fd, &c, 1, 64 * 256), 1);
	CHECK_EQ(c, 'p');
}

TEST(bad_fd_and_efault)
{
	char c;
	CHECK_ERR(pread(-1, &c, 1, 0), EBADF);
	CHECK_ERR(pwrite(999, &c, 1, 0), EBADF);
	int fd = lt_file(lt_path("f"), "abc");
	CHECK_ERR(pread(fd, lt_bad, 1, 0), EFAULT);
	CHECK_ERR(pwrite(fd, lt_bad, 1, 0), EFAULT);
	CHECK_ERR(preadv(fd, lt_bad, 1, 0), EFAULT);
}

TEST(directory_eisdir)
{
	int d = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	char c;
	CHECK_ERR(pread(d, &c, 1, 0), EISDIR);
}

TEST(dev_zero_pread)
{
	int z = REQUIRE_OK(open("/dev/zero", O_RDONLY));
	char buf[8] = {1, 1, 1, 1, 1, 1, 1, 1};
	CHECK_EQ(pread(z, buf, 8, 12345), 8);
	CHECK_EQ(buf[7], 0);
}
