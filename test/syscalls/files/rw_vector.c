/* readv and writev: scatter/gather order, iovec validation, IOV_MAX, partial faults. */
#include "shm.h"

#include <limits.h>
#include <sys/mman.h>
#include <sys/uio.h>

static void check_gather_scatter(const char *path)
{
	int fd = lt_file(path, "");
	struct iovec w[3] = {{"abc", 3}, {"", 0}, {"defgh", 5}};
	CHECK_EQ(writev(fd, w, 3), 8);
	REQUIRE_EQ(lseek(fd, 0, SEEK_SET), 0);
	char a[2], b[4], c[8] = {0};
	struct iovec r[3] = {{a, 2}, {b, 4}, {c, sizeof(c)}};
	CHECK_EQ(readv(fd, r, 3), 8);
	CHECK_MEMEQ(a, "ab", 2);
	CHECK_MEMEQ(b, "cdef", 4);
	CHECK_MEMEQ(c, "gh", 2);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 8);
}

TEST(gather_scatter) { check_gather_scatter(lt_path("f")); }
TEST(gather_scatter_tmpfs) { check_gather_scatter(lt_shm_path("f")); }

TEST(zero_iovecs)
{
	int fd = lt_file(lt_path("f"), "abc");
	CHECK_EQ(writev(fd, NULL, 0), 0);
	CHECK_EQ(readv(fd, NULL, 0), 0);
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_size, 3);
}

TEST(iovcnt_limits)
{
	int fd = lt_file(lt_path("f"), "");
	static struct iovec v[IOV_MAX + 1];
	static char byte = 'z';
	for (int i = 0; i <= IOV_MAX; i++)
		v[i] = (struct iovec){&byte, 1};
	CHECK_EQ(writev(fd, v, IOV_MAX), IOV_MAX);
	CHECK_ERR(writev(fd, v, IOV_MAX + 1), EINVAL);
	volatile int neg = -1;
	CHECK_ERR(writev(fd, v, neg), EINVAL);
	CHECK_ERR(readv(fd, v, IOV_MAX + 1), EINVAL);
}

TEST(negative_len_einval)
{
	int fd = lt_file(lt_path("f"), "");
	char buf[4];
	struct iovec v[2] = {{buf, 1}, {buf, (size_t)-1}};
	CHECK_ERR(writev(fd, v, 2), EINVAL);
	CHECK_ERR(readv(fd, v, 2), EINVAL);
}

TEST(bad_iovec_array_efault)
{
	int fd = lt_file(lt_path("f"), "abc");
	CHECK_ERR(writev(fd, lt_bad, 1), EFAULT);
	CHECK_ERR(readv(fd, lt_bad, 1), EFAULT);
}

TEST(bad_first_buffer_efault)
{
	int fd = lt_file(lt_path("f"), "abc");
	struct iovec v[2] = {{lt_bad, 2}, {"xy", 2}};
	CHECK_ERR(writev(fd, v, 2), EFAULT);
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_size, 3);
}

TEST(bad_later_buffer_partial)
{
	/* What was transferred before the faulting segment counts. */
	int fd = lt_file(lt_path("f"), "");
	struct iovec w[2] = {{"abcd", 4}, {lt_bad, 4}};
	CHECK_EQ(writev(fd, w, 2), 4);
	REQUIRE_EQ(pwrite(fd, "0123456789", 10, 0), 10);
	REQUIRE_EQ(lseek(fd, 0, SEEK_SET), 0);
	char a[3];
	struct iovec r[2] = {{a, 3}, {lt_bad, 4}};
	CHECK_EQ(readv(fd, r, 2), 3);
	CHECK_MEMEQ(a, "012", 3);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 3);
}

TEST(short_read_at_eof)
{
	int fd = lt_file(lt_path("f"), "12345");
	REQUIRE_EQ(lseek(fd, 0, SEEK_SET), 0);
	char a[4], b[4];
	struct iovec r[2] = {{a, 4}, {b, 4}};
	CHECK_EQ(readv(fd, r, 2), 5);
	CHECK_EQ(b[0], '5');
	CHECK_EQ(readv(fd, r, 2), 0);
}

TEST(append_mode)
{
	int fd = lt_file(lt_path("f"), "abc");
	int a = REQUIRE_OK(open(lt_path("f"), O_WRONLY | O_APPEND));
	struct iovec w[2] = {{"12", 2}, {"34", 2}};
	CHECK_EQ(writev(a, w, 2), 4);
	char buf[8] = {0};
	CHECK_EQ(pread(fd, buf, sizeof(buf), 0), 7);
	CHECK_STREQ(buf, "abc1234");
}

TEST(pipe_atomic_writev)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	struct iovec w[3] = {{"a", 1}, {"bc", 2}, {"def", 3}};
	CHECK_EQ(writev(p[1], w, 3), 6);
	char buf[8] = {0};
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 6);
	CHECK_STREQ(buf, "abcdef");
}

TEST(bad_fd_and_mode)
{
	struct iovec v = {"a", 1};
	CHECK_ERR(writev(-1, &v, 1), EBADF);
	int fd = lt_file(lt_path("f"), "x");
	int ro = REQUIRE_OK(open(lt_path("f"), O_RDONLY));
	CHECK_ERR(writev(ro, &v, 1), EBADF);
	int wo = REQUIRE_OK(open(lt_path("f"), O_WRONLY));
	char c;
	struct iovec r = {&c, 1};
	CHECK_ERR(readv(wo, &r, 1), EBADF);
	CHECK_OK(fd);
}

TEST(many_segments_large_tmpfs)
{
	/* 64 segments of 64 KiB: 4 MiB in one call, in order. */
	enum { N = 64, SZ = 65536 };
	char *buf = malloc(N * SZ);
	REQUIRE(buf != NULL);
	struct iovec v[N];
	for (int i = 0; i < N; i++) {
		memset(buf + i * SZ, 'A' + i % 26, SZ);
		v[i] = (struct iovec){buf + i * SZ, SZ};
	}
	int fd = lt_file(lt_shm_path("f"), "");
	CHECK_EQ(writev(fd, v, N), N * SZ);
	char c;
	CHECK_EQ(pread(fd, &c, 1, 37 * SZ + 5), 1);
	CHECK_EQ(c, 'A' + 37 % 26);
}

TEST(zero_length_vectors_on_directory)
{
	/* readv with only empty segments returns 0 without asking the file. */
	int d = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	char c;
	struct iovec v = {&c, 0};
	CHECK_EQ(readv(d, &v, 1), 0);
	CHECK_ERR(read(d, &c, 0), EISDIR);
}
