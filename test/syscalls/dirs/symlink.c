/* symlink, symlinkat, readlink, readlinkat: contents, truncation, errors. */
#include "lt.h"
#include <limits.h>
#include <sys/syscall.h>

TEST(symlink_and_readlink)
{
	REQUIRE_OK(symlink("some/target", lt_path("l")));
	char buf[64];
	memset(buf, 'x', sizeof(buf));
	CHECK_EQ(readlink(lt_path("l"), buf, sizeof(buf)), 11);
	CHECK_MEMEQ(buf, "some/target", 11);
	/* readlink does not NUL-terminate. */
	CHECK_EQ(buf[11], 'x');
}

TEST(readlink_truncates)
{
	REQUIRE_OK(symlink("0123456789", lt_path("l")));
	char buf[16];
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(readlink(lt_path("l"), buf, 4), 4);
	CHECK_MEMEQ(buf, "0123", 4);
	CHECK_EQ(buf[4], 0);
}

TEST(readlink_zero_size_einval)
{
	REQUIRE_OK(symlink("t", lt_path("l")));
	char buf[4];
	CHECK_ERR(readlink(lt_path("l"), buf, 0), EINVAL);
}

TEST(readlink_not_a_link_einval)
{
	int fd = REQUIRE_OK(open(lt_path("f"), O_CREAT | O_WRONLY, 0600));
	close(fd);
	char buf[64];
	CHECK_ERR(readlink(lt_path("f"), buf, sizeof(buf)), EINVAL);
	CHECK_ERR(readlink(lt_tmpdir(), buf, sizeof(buf)), EINVAL);
}

TEST(readlink_enoent_enotdir)
{
	char buf[64];
	CHECK_ERR(readlink(lt_path("none"), buf, sizeof(buf)), ENOENT);
	int fd = REQUIRE_OK(open(lt_path("f"), O_CREAT | O_WRONLY, 0600));
	close(fd);
	CHECK_ERR(readlink(lt_path("f/x"), buf, sizeof(buf)), ENOTDIR);
}

TEST(readlink_efault)
{
	REQUIRE_OK(symlink("target", lt_path("l")));
	CHECK_ERR(syscall(SYS_readlink, lt_path("l"), (char *)1, 64), EFAULT);
	char buf[8];
	CHECK_ERR(readlink((char *)1, buf, sizeof(buf)), EFAULT);
}

TEST(symlink_dangling_ok)
{
	REQUIRE_OK(symlink("does-not-exist", lt_path("l")));
	struct stat st;
	REQUIRE_OK(lstat(lt_path("l"), &st));
	CHECK(S_ISLNK(st.st_mode));
	CHECK_EQ(st.st_size, 14);
	CHECK_ERR(stat(lt_path("l"), &st), ENOENT);
}

TEST(symlink_eexist)
{
	REQUIRE_OK(symlink("t", lt_path("l")));
	CHECK_ERR(symlink("u", lt_path("l")), EEXIST);
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	CHECK_ERR(symlink("u", lt_path("d")), EEXIST);
}

TEST(symlink_empty_target_enoent)
{
	CHECK_ERR(symlink("", lt_path("l")), ENOENT);
}

TEST(symlink_enoent_parent)
{
	CHECK_ERR(symlink("t", lt_path("no/l")), ENOENT);
}

TEST(symlink_follow_relative_to_link_dir)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	int fd = REQUIRE_OK(open(lt_path("d/f"), O_CREAT | O_WRONLY, 0600));
	REQUIRE_EQ(write(fd, "hi", 2), 2);
	close(fd);
	REQUIRE_OK(symlink("d/f", lt_path("l")));
	REQUIRE_OK(symlink("../d/f", lt_path("d/l2")));
	char buf[4] = {0};
	fd = REQUIRE_OK(open(lt_path("l"), O_RDONLY));
	CHECK_EQ(read(fd, buf, 3), 2);
	close(fd);
	fd = REQUIRE_OK(open(lt_path("d/l2"), O_RDONLY));
	CHECK_EQ(read(fd, buf, 3), 2);
	CHECK_STREQ(buf, "hi");
}

TEST(symlink_mode_is_0777)
{
	umask(077);
	REQUIRE_OK(symlink("t", lt_path("l")));
	struct stat st;
	REQUIRE_OK(lstat(lt_path("l"), &st));
	CHECK_EQ(st.st_mode & 0777, 0777);
}

TEST(symlinkat_and_readlinkat)
{
	int dfd = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	REQUIRE_OK(symlinkat("tgt", dfd, "l"));
	char buf[16] = {0};
	CHECK_EQ(readlinkat(dfd, "l", buf, sizeof(buf)), 3);
	CHECK_STREQ(buf, "tgt");
	CHECK_ERR(symlinkat("tgt", -1, "m"), EBADF);
	CHECK_ERR(readlinkat(-1, "l", buf, sizeof(buf)), EBADF);
	CHECK_ERR(symlinkat("tgt", 9999, "m"), EBADF);
}

TEST(readlinkat_empty_path_on_opath_fd)
{
	REQUIRE_OK(symlink("tgt", lt_path("l")));
	int fd = REQUIRE_OK(open(lt_path("l"), O_PATH | O_NOFOLLOW));
	char buf[16] = {0};
	CHECK_EQ(readlinkat(fd, "", buf, sizeof(buf)), 3);
	CHECK_STREQ(buf, "tgt");
}

TEST(readlinkat_empty_path_on_dir_enoent)
{
	int dfd = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	char buf[16];
	CHECK_ERR(readlinkat(dfd, "", buf, sizeof(buf)), ENOENT);
}

TEST(symlinkat_file_dirfd_enotdir)
{
	int fd = REQUIRE_OK(open(lt_path("f"), O_CREAT | O_RDWR, 0600));
	CHECK_ERR(symlinkat("t", fd, "l"), ENOTDIR);
	char buf[8];
	CHECK_ERR(readlinkat(fd, "l", buf, sizeof(buf)), ENOTDIR);
}

TEST(symlink_long_target)
{
	char target[PATH_MAX];
	memset(target, 'a', sizeof(target) - 1);
	target[sizeof(target) - 1] = 0;
	REQUIRE_OK(symlink(target, lt_path("l")));
	static char buf[PATH_MAX + 16];
	CHECK_EQ(readlink(lt_path("l"), buf, sizeof(buf)), PATH_MAX - 1);
	char longer[PATH_MAX + 1];
	memset(longer, 'b', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = 0;
	CHECK_ERR(symlink(longer, lt_path("m")), ENAMETOOLONG);
}

TEST(readlink_proc_self_exe)
{
	char buf[PATH_MAX];
	ssize_t n = CHECK_OK(readlink("/proc/self/exe", buf, sizeof(buf)));
	CHECK_GT(n, 1);
	CHECK_EQ(buf[0], '/');
}

TEST(lstat_symlink_size_and_ino)
{
	REQUIRE_OK(symlink("abcdef", lt_path("l")));
	struct stat st;
	REQUIRE_OK(lstat(lt_path("l"), &st));
	CHECK_EQ(st.st_size, 6);
	CHECK_NE(st.st_ino, 0);
	CHECK_EQ(st.st_nlink, 1);
}
