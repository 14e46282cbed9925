/* fallocate: allocation, FALLOC_FL_KEEP_SIZE, PUNCH_HOLE, ZERO_RANGE, and the errors. */
#include "shm.h"

#include <linux/falloc.h>
#include <sys/socket.h>

static int make(const char *path, size_t size)
{
	int fd = REQUIRE_OK(open(path, O_CREAT | O_RDWR | O_TRUNC, 0600));
	char buf[4096];
	memset(buf, 'a', sizeof(buf));
	for (size_t off = 0; off < size; off += sizeof(buf))
		REQUIRE_EQ(pwrite(fd, buf, sizeof(buf), off), (long)sizeof(buf));
	return fd;
}

static off_t size_of(int fd)
{
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	return st.st_size;
}

static void check_extends(const char *path)
{
	int fd = make(path, 0);
	REQUIRE_OK(fallocate(fd, 0, 0, 10000));
	CHECK_EQ(size_of(fd), 10000);
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_GE(st.st_blocks * 512, 10000);
	char buf[16];
	CHECK_EQ(pread(fd, buf, sizeof(buf), 5000), 16);
	char zero[16] = {0};
	CHECK_MEMEQ(buf, zero, 16);
	/* Allocating inside the file changes nothing visible. */
	REQUIRE_OK(fallocate(fd, 0, 100, 100));
	CHECK_EQ(size_of(fd), 10000);
}

TEST(extends_size) { check_extends(lt_path("f")); }
TEST(extends_size_tmpfs) { check_extends(lt_shm_path("f")); }

static void check_keep_size(const char *path)
{
	int fd = make(path, 4096);
	REQUIRE_OK(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 65536));
	CHECK_EQ(size_of(fd), 4096);
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_GE(st.st_blocks * 512, 65536);
}

TEST(keep_size) { check_keep_size(lt_path("f")); }
TEST(keep_size_tmpfs) { check_keep_size(lt_shm_path("f")); }

static void check_punch(const char *path)
{
	int fd = make(path, 16384);
	REQUIRE_OK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 8192));
	CHECK_EQ(size_of(fd), 16384);
	char buf[16384];
	REQUIRE_EQ(pread(fd, buf, sizeof(buf), 0), 16384);
	CHECK_EQ(buf[4095], 'a');
	CHECK_EQ(buf[4096], 0);
	CHECK_EQ(buf[12287], 0);
	CHECK_EQ(buf[12288], 'a');
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_blocks * 512, 8192);
}

TEST(punch_hole) { check_punch(lt_path("f")); }
TEST(punch_hole_tmpfs) { check_punch(lt_shm_path("f")); }

static void check_punch_partial(const char *path)
{
	/* An unaligned punch zeroes the partial pages' bytes. */
	int fd = make(path, 8192);
	REQUIRE_OK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 10, 20));
	char buf[40];
	REQUIRE_EQ(pread(fd, buf, sizeof(buf), 0), 40);
	CHECK_EQ(buf[9], 'a');
	CHECK_EQ(buf[10], 0);
	CHECK_EQ(buf[29], 0);
	CHECK_EQ(buf[30], 'a');
	/* A punch past the end is harmless and does not extend. */
	REQUIRE_OK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100000, 4096));
	CHECK_EQ(size_of(fd), 8192);
}

TEST(punch_partial) { check_punch_partial(lt_path("f")); }
TEST(punch_partial_tmpfs) { check_punch_partial(lt_shm_path("f")); }

TEST(punch_needs_keep_size)
{
	int fd = make(lt_path("f"), 8192);
	CHECK_ERR(fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096), EOPNOTSUPP);
	int t = make(lt_shm_path("f"), 8192);
	CHECK_ERR(fallocate(t, FALLOC_FL_PUNCH_HOLE, 0, 4096), EOPNOTSUPP);
}

TEST(zero_range_tmpfs_unsupported)
{
	/* tmpfs supports only KEEP_SIZE and PUNCH_HOLE. */
	int fd = make(lt_shm_path("f"), 8192);
	CHECK_ERR(fallocate(fd, FALLOC_FL_ZERO_RANGE, 100, 200), EOPNOTSUPP);
	CHECK_ERR(fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, 4096), EOPNOTSUPP);
	CHECK_ERR(fallocate(fd, FALLOC_FL_INSERT_RANGE, 0, 4096), EOPNOTSUPP);
}

TEST(bad_arguments_einval)
{
	int fd = make(lt_path("f"), 0);
	CHECK_ERR(fallocate(fd, 0, -1, 10), EINVAL);
	CHECK_ERR(fallocate(fd, 0, 0, 0), EINVAL);
	CHECK_ERR(fallocate(fd, 0, 0, -1), EINVAL);
	CHECK_ERR(fallocate(fd, 0x1000, 0, 10), EOPNOTSUPP);
}

TEST(too_big_efbig)
{
	int fd = make(lt_path("f"), 0);
	CHECK_ERR(fallocate(fd, 0, 0x7fffffffffffff00LL, 0x1000), EFBIG);
}

TEST(bad_fd_and_mode)
{
	CHECK_ERR(fallocate(-1, 0, 0, 10), EBADF);
	int fd = make(lt_path("f"), 0);
	int ro = REQUIRE_OK(open(lt_path("f"), O_RDONLY));
	CHECK_ERR(fallocate(ro, 0, 0, 10), EBADF);
	CHECK_OK(fd);
}

TEST(not_regular)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	CHECK_ERR(fallocate(p[1], 0, 0, 10), ESPIPE);
	int d = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	CHECK_ERR(fallocate(d, 0, 0, 10), EBADF);
	int n = REQUIRE_OK(open("/dev/null", O_RDWR));
	CHECK_ERR(fallocate(n, 0, 0, 10), ENODEV);
}

TEST(append_only_fd)
{
	/* O_APPEND on the descriptor (unlike the append-only attribute) does not stop fallocate. */
	int fd = make(lt_path("f"), 8192);
	int a = REQUIRE_OK(open(lt_path("f"), O_WRONLY | O_APPEND));
	CHECK_OK(fallocate(a, 0, 0, 16384));
	CHECK_EQ(size_of(fd), 16384);
	CHECK_OK(fallocate(a, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096));
	char c;
	CHECK_EQ(pread(fd, &c, 1, 0), 1);
	CHECK_EQ(c, 0);
}

TEST(socket_enodev)
{
	int sv[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_ERR(fallocate(sv[0], 0, 0, 10), ENODEV);
}

TEST(updates_mtime_tmpfs)
{
	int fd = make(lt_shm_path("f"), 4096);
	struct timespec old[2] = {{100, 0}, {100, 0}};
	int modes[] = {0, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE};
	for (int i = 0; i < 3; i++) {
		REQUIRE_OK(futimens(fd, old));
		REQUIRE_OK(fallocate(fd, modes[i], 0, 8192));
		struct stat st;
		REQUIRE_OK(fstat(fd, &st));
		if (st.st_mtime == 100)
			FAIL("mode %#x: mtime not updated", modes[i]);
	}
}
