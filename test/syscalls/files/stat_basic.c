/* stat, lstat, fstat: file types, sizes, links, owners, block counts and their errors. */
#include "shm.h"

#include <limits.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/un.h>

static void make(const char *path, size_t size)
{
	int fd = REQUIRE_OK(open(path, O_CREAT | O_WRONLY | O_TRUNC, 0640));
	if (size)
		REQUIRE_OK(ftruncate(fd, size));
	close(fd);
}

static void check_regular(const char *path)
{
	make(path, 0);
	int fd = REQUIRE_OK(open(path, O_WRONLY));
	REQUIRE_EQ(write(fd, "0123456789", 10), 10);
	struct stat st;
	REQUIRE_OK(stat(path, &st));
	CHECK_EQ(st.st_mode, S_IFREG | 0640);
	CHECK_EQ(st.st_size, 10);
	CHECK_EQ(st.st_nlink, 1);
	CHECK_EQ(st.st_uid, geteuid());
	CHECK_EQ(st.st_gid, getegid());
	CHECK_GT(st.st_blksize, 0);
	CHECK_GT(st.st_blocks, 0);
	CHECK_NE(st.st_ino, 0);
	struct stat fst;
	REQUIRE_OK(fstat(fd, &fst));
	CHECK_EQ(fst.st_ino, st.st_ino);
	CHECK_EQ(fst.st_dev, st.st_dev);
	CHECK_EQ(fst.st_size, 10);
}

TEST(regular_file) { check_regular(lt_path("f")); }
TEST(regular_file_tmpfs) { check_regular(lt_shm_path("f")); }

TEST(directory)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0751));
	REQUIRE_OK(mkdir(lt_path("d/a"), 0700));
	REQUIRE_OK(mkdir(lt_path("d/b"), 0700));
	struct stat st;
	REQUIRE_OK(stat(lt_path("d"), &st));
	CHECK_EQ(st.st_mode, S_IFDIR | 0751);
	CHECK(S_ISDIR(st.st_mode));
	struct stat a;
	REQUIRE_OK(stat(lt_path("d/a/.."), &a));
	CHECK_EQ(a.st_ino, st.st_ino);
}

TEST(lstat_symlink)
{
	make(lt_path("f"), 100);
	REQUIRE_OK(symlink("f", lt_path("l")));
	struct stat st;
	REQUIRE_OK(lstat(lt_path("l"), &st));
	CHECK(S_ISLNK(st.st_mode));
	CHECK_EQ(st.st_mode & 0777, 0777);
	CHECK_EQ(st.st_size, 1); /* the length of the target */
	REQUIRE_OK(stat(lt_path("l"), &st));
	CHECK(S_ISREG(st.st_mode));
	CHECK_EQ(st.st_size, 100);
	/* lstat follows links in the middle of the path. */
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	REQUIRE_OK(symlink("d", lt_path("dl")));
	make(lt_path("d/g"), 7);
	REQUIRE_OK(lstat(lt_path("dl/g"), &st));
	CHECK_EQ(st.st_size, 7);
}

TEST(hard_links_count)
{
	make(lt_path("f"), 0);
	REQUIRE_OK(link(lt_path("f"), lt_path("g")));
	struct stat st, st2;
	REQUIRE_OK(stat(lt_path("f"), &st));
	CHECK_EQ(st.st_nlink, 2);
	REQUIRE_OK(stat(lt_path("g"), &st2));
	CHECK_EQ(st2.st_ino, st.st_ino);
	REQUIRE_OK(unlink(lt_path("f")));
	REQUIRE_OK(stat(lt_path("g"), &st));
	CHECK_EQ(st.st_nlink, 1);
}

TEST(fstat_unlinked)
{
	make(lt_path("f"), 3);
	int fd = REQUIRE_OK(open(lt_path("f"), O_RDONLY));
	REQUIRE_OK(unlink(lt_path("f")));
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_nlink, 0);
	CHECK_EQ(st.st_size, 3);
}

TEST(special_files)
{
	struct stat st;
	REQUIRE_OK(stat("/dev/null", &st));
	CHECK(S_ISCHR(st.st_mode));
	CHECK_EQ(major(st.st_rdev), 1);
	CHECK_EQ(minor(st.st_rdev), 3);
	int p[2];
	REQUIRE_OK(pipe(p));
	REQUIRE_OK(fstat(p[0], &st));
	CHECK(S_ISFIFO(st.st_mode));
	REQUIRE_OK(mkfifo(lt_path("fifo"), 0600));
	REQUIRE_OK(stat(lt_path("fifo"), &st));
	CHECK_EQ(st.st_mode, S_IFIFO | 0600);
	int s = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	REQUIRE_OK(fstat(s, &st));
	CHECK(S_ISSOCK(st.st_mode));
}

TEST(sparse_blocks)
{
	make(lt_path("f"), 1 << 20);
	struct stat st;
	REQUIRE_OK(stat(lt_path("f"), &st));
	CHECK_EQ(st.st_size, 1 << 20);
	CHECK_EQ(st.st_blocks, 0);
}

TEST(sparse_blocks_tmpfs)
{
	make(lt_shm_path("f"), 1 << 20);
	struct stat st;
	REQUIRE_OK(stat(lt_shm_path("f"), &st));
	CHECK_EQ(st.st_blocks, 0);
	int fd = REQUIRE_OK(open(lt_shm_path("f"), O_WRONLY));
	REQUIRE_EQ(pwrite(fd, "x", 1, 8192), 1);
	REQUIRE_OK(fstat(fd, &st));
	/* One page, counted in 512-byte units. */
	CHECK_EQ(st.st_blocks, 8);
}

TEST(errors)
{
	struct stat st;
	CHECK_ERR(stat(lt_path("missing"), &st), ENOENT);
	CHECK_ERR(lstat(lt_path("missing"), &st), ENOENT);
	CHECK_ERR(stat("", &st), ENOENT);
	make(lt_path("f"), 0);
	CHECK_ERR(stat(lt_path("f/x"), &st), ENOTDIR);
	CHECK_ERR(stat(lt_path("f/"), &st), ENOTDIR);
	CHECK_ERR(fstat(-1, &st), EBADF);
	CHECK_ERR(fstat(9999, &st), EBADF);
}

TEST(efault)
{
	struct stat st;
	make(lt_path("f"), 0);
	CHECK_ERR(stat(lt_path("f"), (struct stat *)1), EFAULT);
	CHECK_ERR(stat((char *)1, &st), EFAULT);
	CHECK_ERR(lstat(lt_path("f"), (struct stat *)1), EFAULT);
	int fd = REQUIRE_OK(open(lt_path("f"), O_RDONLY));
	CHECK_ERR(fstat(fd, (struct stat *)1), EFAULT);
}

TEST(search_permission_eacces)
{
	REQUIRE_OK(chmod(lt_tmpdir(), 0755));
	REQUIRE_OK(mkdir(lt_path("closed"), 0700));
	make(lt_path("closed/f"), 0);
	int dir = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	lt_drop_privs();
	struct stat st;
	CHECK_OK(fstatat(dir, "closed", &st, 0));
	CHECK_ERR(fstatat(dir, "closed/f", &st, 0), EACCES);
}

TEST(name_too_long)
{
	char name[NAME_MAX + 2];
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	struct stat st;
	CHECK_ERR(stat(lt_path(name), &st), ENAMETOOLONG);
}

TEST(times_follow_writes)
{
	make(lt_path("f"), 0);
	struct stat a, b;
	REQUIRE_OK(stat(lt_path("f"), &a));
	struct timespec ts[2] = {{1000, 0}, {2000, 0}};
	REQUIRE_OK(utimensat(AT_FDCWD, lt_path("f"), ts, 0));
	int fd = REQUIRE_OK(open(lt_path("f"), O_WRONLY));
	REQUIRE_EQ(write(fd, "x", 1), 1);
	REQUIRE_OK(fstat(fd, &b));
	CHECK_GT(b.st_mtime, 2000);
	CHECK_GE(b.st_ctime, a.st_ctime);
	CHECK_EQ(b.st_atime, 1000);
}
