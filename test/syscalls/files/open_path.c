/* O_PATH descriptors: what they allow (fstat, fchdir, *at, F_GETFL) and what they refuse (EBADF). */
#include "shm.h"

#include <dirent.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/uio.h>

TEST(io_is_ebadf)
{
	close(lt_file(lt_path("f"), "hello"));
	int fd = REQUIRE_OK(open(lt_path("f"), O_PATH));
	char buf[8];
	struct iovec iov = {buf, sizeof(buf)};
	CHECK_ERR(read(fd, buf, 1), EBADF);
	CHECK_ERR(write(fd, "x", 1), EBADF);
	CHECK_ERR(pread(fd, buf, 1, 0), EBADF);
	CHECK_ERR(readv(fd, &iov, 1), EBADF);
	CHECK_ERR(lseek(fd, 0, SEEK_SET), EBADF);
	CHECK_ERR(ftruncate(fd, 0), EBADF);
	CHECK_ERR(fchmod(fd, 0600), EBADF);
	CHECK_ERR(fchown(fd, 0, 0), EBADF);
	CHECK_ERR(fsync(fd), EBADF);
	CHECK_ERR(flock(fd, LOCK_SH), EBADF);
	CHECK_ERR(fallocate(fd, 0, 0, 10), EBADF);
	CHECK(mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED);
	CHECK_EQ(errno, EBADF);
}

TEST(fstat_works)
{
	close(lt_file(lt_path("f"), "hello"));
	int fd = REQUIRE_OK(open(lt_path("f"), O_PATH));
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK(S_ISREG(st.st_mode));
	CHECK_EQ(st.st_size, 5);
}

TEST(getfl_shows_o_path)
{
	close(lt_file(lt_path("f"), "x"));
	int fd = REQUIRE_OK(open(lt_path("f"), O_PATH | O_RDWR | O_APPEND));
	/* Other flags than O_PATH, O_CLOEXEC, O_DIRECTORY and O_NOFOLLOW are dropped. */
	CHECK_EQ(fcntl(fd, F_GETFL), O_PATH | O_LARGEFILE);
	int fd2 = REQUIRE_OK(open(lt_path("f"), O_PATH | O_CLOEXEC));
	CHECK_EQ(fcntl(fd2, F_GETFD), FD_CLOEXEC);
}

TEST(no_read_permission_needed)
{
	close(lt_file(lt_path("f"), "x"));
	REQUIRE_OK(chmod(lt_path("f"), 0));
	REQUIRE_OK(chmod(lt_tmpdir(), 0755));
	int dir = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	lt_drop_privs();
	CHECK_ERR(openat(dir, "f", O_RDONLY), EACCES);
	int fd = CHECK_OK(openat(dir, "f", O_PATH));
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_mode & 07777, 0);
}

TEST(dir_as_dirfd_and_fchdir)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0755));
	close(lt_file(lt_path("d/g"), "x"));
	int d = REQUIRE_OK(open(lt_path("d"), O_PATH | O_DIRECTORY));
	int fd = CHECK_OK(openat(d, "g", O_RDONLY));
	char c;
	CHECK_EQ(read(fd, &c, 1), 1);
	CHECK_OK(fchdir(d));
	CHECK_OK(access("g", R_OK));
	char buf[8];
	CHECK_ERR(getdents64(d, buf, sizeof(buf)), EBADF);
}

TEST(nofollow_opens_symlink_itself)
{
	REQUIRE_OK(symlink("target-does-not-exist", lt_path("l")));
	int fd = REQUIRE_OK(open(lt_path("l"), O_PATH | O_NOFOLLOW));
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK(S_ISLNK(st.st_mode));
	char buf[64];
	ssize_t n = CHECK_OK(readlinkat(fd, "", buf, sizeof(buf)));
	CHECK_EQ(n, 21);
	CHECK_MEMEQ(buf, "target-does-not-exist", 21);
	/* Without O_NOFOLLOW the dangling link is ENOENT. */
	CHECK_ERR(open(lt_path("l"), O_PATH), ENOENT);
}

TEST(empty_path_fstatat)
{
	close(lt_file(lt_path("f"), "abc"));
	int fd = REQUIRE_OK(open(lt_path("f"), O_PATH));
	struct stat st;
	REQUIRE_OK(fstatat(fd, "", &st, AT_EMPTY_PATH));
	CHECK_EQ(st.st_size, 3);
	CHECK_ERR(fstatat(fd, "", &st, 0), ENOENT);
}

TEST(reopen_via_proc_fd)
{
	close(lt_file(lt_path("f"), "abc"));
	int fd = REQUIRE_OK(open(lt_path("f"), O_PATH));
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	int rd = REQUIRE_OK(open(p, O_RDONLY));
	char buf[4] = {0};
	CHECK_EQ(read(rd, buf, 3), 3);
	CHECK_STREQ(buf, "abc");
}

TEST(dup_and_close)
{
	close(lt_file(lt_path("f"), "abc"));
	int fd = REQUIRE_OK(open(lt_path("f"), O_PATH));
	int d = REQUIRE_OK(dup(fd));
	CHECK_EQ(fcntl(d, F_GETFL), O_PATH | O_LARGEFILE);
	CHECK_OK(close(d));
	CHECK_OK(close(fd));
}

TEST(o_path_ignores_creat_trunc)
{
	close(lt_file(lt_path("f"), "abc"));
	int fd = CHECK_OK(open(lt_path("f"), O_PATH | O_TRUNC));
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_size, 3);
	/* O_CREAT is dropped with O_PATH: a missing file is ENOENT. */
	CHECK_ERR(open(lt_path("new"), O_PATH | O_CREAT, 0600), ENOENT);
}

TEST(fchdir_to_file_enotdir)
{
	close(lt_file(lt_path("f"), "abc"));
	int fd = REQUIRE_OK(open(lt_path("f"), O_PATH));
	CHECK_ERR(fchdir(fd), ENOTDIR);
	CHECK_ERR(openat(fd, "x", O_RDONLY), ENOTDIR);
}

TEST(tmpfs_file)
{
	int w = REQUIRE_OK(open(lt_shm_path("f"), O_RDWR | O_CREAT, 0600));
	REQUIRE_EQ(write(w, "abcd", 4), 4);
	int fd = REQUIRE_OK(open(lt_shm_path("f"), O_PATH));
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_size, 4);
	char c;
	CHECK_ERR(read(fd, &c, 1), EBADF);
}
