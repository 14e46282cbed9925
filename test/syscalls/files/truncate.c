/* truncate and ftruncate: growing with zeros, shrinking, offsets, permissions and errors. */
#include "shm.h"

#include <limits.h>
#include <sys/mman.h>
#include <sys/resource.h>

static off_t size_of(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		ABORT("stat %s: %s", path, strerror(errno));
	return st.st_size;
}

static void check_shrink_grow(const char *path)
{
	int fd = lt_file(path, "0123456789");
	REQUIRE_OK(ftruncate(fd, 4));
	CHECK_EQ(size_of(path), 4);
	REQUIRE_OK(ftruncate(fd, 8));
	char buf[8];
	CHECK_EQ(pread(fd, buf, 8, 0), 8);
	/* Bytes cut off do not come back: growing adds zeros. */
	CHECK_MEMEQ(buf, "0123\0\0\0\0", 8);
	/* The file offset is not changed. */
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 10);
}

TEST(shrink_and_grow) { check_shrink_grow(lt_path("f")); }
TEST(shrink_and_grow_tmpfs) { check_shrink_grow(lt_shm_path("f")); }

static void check_by_path(const char *path)
{
	close(lt_file(path, "hello world"));
	REQUIRE_OK(truncate(path, 5));
	CHECK_EQ(size_of(path), 5);
	REQUIRE_OK(truncate(path, 0));
	CHECK_EQ(size_of(path), 0);
	REQUIRE_OK(truncate(path, 1 << 20));
	CHECK_EQ(size_of(path), 1 << 20);
}

TEST(by_path) { check_by_path(lt_path("f")); }
TEST(by_path_tmpfs) { check_by_path(lt_shm_path("f")); }

TEST(updates_mtime_ctime)
{
	int fd = lt_file(lt_path("f"), "abc");
	struct timespec old[2] = {{100, 0}, {100, 0}};
	REQUIRE_OK(futimens(fd, old));
	REQUIRE_OK(ftruncate(fd, 1));
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_GT(st.st_mtime, 100);
	CHECK_GT(st.st_ctime, 100);
}

TEST(same_size_keeps_mtime_for_ftruncate)
{
	/* truncate(2) to the same size still updates the times. */
	close(lt_file(lt_path("f"), "abc"));
	struct timespec old[2] = {{100, 0}, {100, 0}};
	REQUIRE_OK(utimensat(AT_FDCWD, lt_path("f"), old, 0));
	REQUIRE_OK(truncate(lt_path("f"), 3));
	struct stat st;
	REQUIRE_OK(stat(lt_path("f"), &st));
	CHECK_GT(st.st_mtime, 100);
}

TEST(negative_length_einval)
{
	int fd = lt_file(lt_path("f"), "abc");
	CHECK_ERR(ftruncate(fd, -1), EINVAL);
	CHECK_ERR(truncate(lt_path("f"), -1), EINVAL);
}

TEST(read_only_fd_einval)
{
	close(lt_file(lt_path("f"), "abc"));
	int ro = REQUIRE_OK(open(lt_path("f"), O_RDONLY));
	CHECK_ERR(ftruncate(ro, 0), EINVAL);
	CHECK_EQ(size_of(lt_path("f")), 3);
}

TEST(not_regular)
{
	int d = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	CHECK_ERR(ftruncate(d, 0), EINVAL);
	CHECK_ERR(truncate(lt_tmpdir(), 0), EISDIR);
	int p[2];
	REQUIRE_OK(pipe(p));
	CHECK_ERR(ftruncate(p[1], 0), EINVAL);
	CHECK_ERR(ftruncate(-1, 0), EBADF);
}

TEST(path_errors)
{
	CHECK_ERR(truncate(lt_path("missing"), 0), ENOENT);
	close(lt_file(lt_path("f"), "abc"));
	CHECK_ERR(truncate(lt_path("f/x"), 0), ENOTDIR);
	CHECK_ERR(truncate(lt_bad, 0), EFAULT);
	CHECK_ERR(truncate("", 0), ENOENT);
}

TEST(follows_symlink)
{
	close(lt_file(lt_path("f"), "0123456789"));
	REQUIRE_OK(symlink("f", lt_path("l")));
	REQUIRE_OK(truncate(lt_path("l"), 2));
	CHECK_EQ(size_of(lt_path("f")), 2);
}

TEST(needs_write_permission)
{
	close(lt_file(lt_path("f"), "abc"));
	REQUIRE_OK(chmod(lt_path("f"), 0444));
	REQUIRE_OK(chmod(lt_tmpdir(), 0755));
	REQUIRE_OK(chdir(lt_tmpdir()));
	lt_drop_privs();
	CHECK_ERR(truncate("f", 0), EACCES);
	int fd = REQUIRE_OK(open("f", O_RDONLY));
	CHECK_ERR(ftruncate(fd, 0), EINVAL);
}

TEST(o_path_ebadf)
{
	close(lt_file(lt_path("f"), "abc"));
	int fd = REQUIRE_OK(open(lt_path("f"), O_PATH));
	CHECK_ERR(ftruncate(fd, 0), EBADF);
}

TEST(rlimit_fsize_efbig)
{
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit rl = {1000, 1000};
	REQUIRE_OK(setrlimit(RLIMIT_FSIZE, &rl));
	int fd = lt_file(lt_path("f"), "");
	CHECK_OK(ftruncate(fd, 1000));
	CHECK_ERR(ftruncate(fd, 1001), EFBIG);
	CHECK_ERR(truncate(lt_path("f"), 5000), EFBIG);
	/* Shrinking is always allowed. */
	CHECK_OK(ftruncate(fd, 10));
}

TEST(largest_size_tmpfs)
{
	/* tmpfs files may be as large as an loff_t, and stay sparse. */
	int fd = lt_file(lt_shm_path("f"), "");
	CHECK_OK(ftruncate(fd, LLONG_MAX));
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_size, LLONG_MAX);
	CHECK_EQ(st.st_blocks, 0);
	char c;
	CHECK_EQ(pread(fd, &c, 1, LLONG_MAX - 1), 1);
	CHECK_EQ(c, 0);
}

TEST(shrink_zeroes_mapped_tail_tmpfs)
{
	int fd = lt_file(lt_shm_path("f"), "");
	REQUIRE_OK(ftruncate(fd, 8192));
	char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE(m != MAP_FAILED);
	memset(m, 'z', 8192);
	REQUIRE_OK(ftruncate(fd, 100));
	REQUIRE_OK(ftruncate(fd, 4096));
	/* The bytes past the old end within the page read back as zero. */
	CHECK_EQ(m[99], 'z');
	CHECK_EQ(m[100], 0);
	CHECK_EQ(m[4095], 0);
}
