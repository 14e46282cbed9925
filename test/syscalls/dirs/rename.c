/* rename, renameat, renameat2: replacing, flags, and the error cases. */
#include "lt.h"
#include "files.h"
#include <stdio.h>
#include <sys/syscall.h>

static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static int ren2(const char *a, const char *b, unsigned flags)
{
	return syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, flags);
}

TEST(rename_file)
{
	mkfile(lt_path("a"), "A");
	struct stat before, after;
	REQUIRE_OK(stat(lt_path("a"), &before));
	REQUIRE_OK(rename(lt_path("a"), lt_path("b")));
	CHECK(!exists(lt_path("a")));
	REQUIRE_OK(stat(lt_path("b"), &after));
	CHECK_EQ(after.st_ino, before.st_ino);
	CHECK_STREQ(content(lt_path("b")), "A");
}

TEST(rename_over_existing_file)
{
	mkfile(lt_path("a"), "A");
	mkfile(lt_path("b"), "B");
	REQUIRE_OK(rename(lt_path("a"), lt_path("b")));
	CHECK(!exists(lt_path("a")));
	CHECK_STREQ(content(lt_path("b")), "A");
}

TEST(rename_keeps_open_file_of_replaced)
{
	mkfile(lt_path("a"), "A");
	mkfile(lt_path("b"), "B");
	int fd = REQUIRE_OK(open(lt_path("b"), O_RDONLY));
	REQUIRE_OK(rename(lt_path("a"), lt_path("b")));
	char buf[4] = {0};
	CHECK_EQ(read(fd, buf, 3), 1);
	CHECK_STREQ(buf, "B");
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_nlink, 0);
}

TEST(rename_same_file_noop)
{
	mkfile(lt_path("a"), "A");
	REQUIRE_OK(link(lt_path("a"), lt_path("h")));
	/* Two links to one inode: rename does nothing and succeeds. */
	CHECK_OK(rename(lt_path("a"), lt_path("h")));
	CHECK(exists(lt_path("a")));
	CHECK(exists(lt_path("h")));
	CHECK_OK(rename(lt_path("a"), lt_path("a")));
}

TEST(rename_dir_over_empty_dir)
{
	REQUIRE_OK(mkdir(lt_path("d1"), 0700));
	mkfile(lt_path("d1/f"), "F");
	REQUIRE_OK(mkdir(lt_path("d2"), 0700));
	REQUIRE_OK(rename(lt_path("d1"), lt_path("d2")));
	CHECK(!exists(lt_path("d1")));
	CHECK_STREQ(content(lt_path("d2/f")), "F");
}

TEST(rename_dir_over_nonempty_dir)
{
	REQUIRE_OK(mkdir(lt_path("d1"), 0700));
	REQUIRE_OK(mkdir(lt_path("d2"), 0700));
	mkfile(lt_path("d2/f"), "F");
	errno = 0;
	CHECK_EQ(rename(lt_path("d1"), lt_path("d2")), -1);
	CHECK(errno == ENOTEMPTY || errno == EEXIST);
}

TEST(rename_dir_over_file_enotdir)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	mkfile(lt_path("f"), "F");
	CHECK_ERR(rename(lt_path("d"), lt_path("f")), ENOTDIR);
}

TEST(rename_file_over_dir_eisdir)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	mkfile(lt_path("f"), "F");
	CHECK_ERR(rename(lt_path("f"), lt_path("d")), EISDIR);
}

TEST(rename_into_own_subdir_einval)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	REQUIRE_OK(mkdir(lt_path("d/sub"), 0700));
	CHECK_ERR(rename(lt_path("d"), lt_path("d/sub/x")), EINVAL);
	CHECK_ERR(rename(lt_path("d"), lt_path("d/x")), EINVAL);
}

TEST(rename_dotdot_updates)
{
	REQUIRE_OK(mkdir(lt_path("p1"), 0700));
	REQUIRE_OK(mkdir(lt_path("p2"), 0700));
	REQUIRE_OK(mkdir(lt_path("p1/c"), 0700));
	struct stat p1, p2, dd;
	REQUIRE_OK(stat(lt_path("p1"), &p1));
	CHECK_EQ(p1.st_nlink, 3);
	REQUIRE_OK(rename(lt_path("p1/c"), lt_path("p2/c")));
	REQUIRE_OK(stat(lt_path("p1"), &p1));
	REQUIRE_OK(stat(lt_path("p2"), &p2));
	REQUIRE_OK(stat(lt_path("p2/c/.."), &dd));
	CHECK_EQ(p1.st_nlink, 2);
	CHECK_EQ(p2.st_nlink, 3);
	CHECK_EQ(dd.st_ino, p2.st_ino);
}

TEST(rename_enoent)
{
	CHECK_ERR(rename(lt_path("none"), lt_path("b")), ENOENT);
	mkfile(lt_path("a"), "A");
	CHECK_ERR(rename(lt_path("a"), lt_path("no/b")), ENOENT);
	CHECK_ERR(rename("", lt_path("b")), ENOENT);
}

TEST(rename_dot_einval_or_ebusy)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	char p[4200];
	snprintf(p, sizeof(p), "%s/.", lt_path("d"));
	errno = 0;
	CHECK_EQ(rename(p, lt_path("x")), -1);
	CHECK(errno == EINVAL || errno == EBUSY);
	CHECK_EQ(errno, EBUSY);
}

TEST(rename_trailing_slash_on_file_enotdir)
{
	mkfile(lt_path("a"), "A");
	char p[4200];
	snprintf(p, sizeof(p), "%s/", lt_path("b"));
	CHECK_ERR(rename(lt_path("a"), p), ENOTDIR);
	snprintf(p, sizeof(p), "%s/", lt_path("a"));
	CHECK_ERR(rename(p, lt_path("b")), ENOTDIR);
}

TEST(rename_symlink_itself)
{
	mkfile(lt_path("target"), "T");
	REQUIRE_OK(symlink("target", lt_path("l")));
	REQUIRE_OK(rename(lt_path("l"), lt_path("m")));
	char buf[64] = {0};
	CHECK_EQ(readlink(lt_path("m"), buf, sizeof(buf)), 6);
	CHECK_STREQ(buf, "target");
	CHECK(exists(lt_path("target")));
}

TEST(renameat_dirfds)
{
	REQUIRE_OK(mkdir(lt_path("x"), 0700));
	REQUIRE_OK(mkdir(lt_path("y"), 0700));
	mkfile(lt_path("x/f"), "F");
	int dx = REQUIRE_OK(open(lt_path("x"), O_RDONLY | O_DIRECTORY));
	int dy = REQUIRE_OK(open(lt_path("y"), O_RDONLY | O_DIRECTORY));
	REQUIRE_OK(renameat(dx, "f", dy, "g"));
	CHECK_STREQ(content(lt_path("y/g")), "F");
	CHECK_ERR(renameat(-1, "g", dy, "h"), EBADF);
	CHECK_ERR(renameat(dy, "g", 9999, "h"), EBADF);
}

TEST(renameat2_noreplace)
{
	mkfile(lt_path("a"), "A");
	mkfile(lt_path("b"), "B");
	CHECK_ERR(ren2(lt_path("a"), lt_path("b"), RENAME_NOREPLACE), EEXIST);
	CHECK_STREQ(content(lt_path("b")), "B");
	CHECK_OK(ren2(lt_path("a"), lt_path("c"), RENAME_NOREPLACE));
	CHECK_STREQ(content(lt_path("c")), "A");
}

TEST(renameat2_exchange_files)
{
	mkfile(lt_path("a"), "A");
	mkfile(lt_path("b"), "B");
	REQUIRE_OK(ren2(lt_path("a"), lt_path("b"), RENAME_EXCHANGE));
	CHECK_STREQ(content(lt_path("a")), "B");
	CHECK_STREQ(content(lt_path("b")), "A");
}

TEST(renameat2_exchange_file_and_dir)
{
	mkfile(lt_path("f"), "F");
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	mkfile(lt_path("d/inner"), "I");
	REQUIRE_OK(ren2(lt_path("f"), lt_path("d"), RENAME_EXCHANGE));
	struct stat st;
	REQUIRE_OK(stat(lt_path("f"), &st));
	CHECK(S_ISDIR(st.st_mode));
	CHECK_STREQ(content(lt_path("f/inner")), "I");
	CHECK_STREQ(content(lt_path("d")), "F");
}

TEST(renameat2_exchange_missing_enoent)
{
	mkfile(lt_path("a"), "A");
	CHECK_ERR(ren2(lt_path("a"), lt_path("none"), RENAME_EXCHANGE), ENOENT);
	CHECK_STREQ(content(lt_path("a")), "A");
}

TEST(renameat2_bad_flags_einval)
{
	mkfile(lt_path("a"), "A");
	mkfile(lt_path("b"), "B");
	CHECK_ERR(ren2(lt_path("a"), lt_path("b"), RENAME_NOREPLACE | RENAME_EXCHANGE), EINVAL);
	CHECK_ERR(ren2(lt_path("a"), lt_path("b"), 0x80), EINVAL);
	CHECK(exists(lt_path("a")));
}

TEST(renameat2_zero_flags_is_rename)
{
	mkfile(lt_path("a"), "A");
	mkfile(lt_path("b"), "B");
	REQUIRE_OK(ren2(lt_path("a"), lt_path("b"), 0));
	CHECK_STREQ(content(lt_path("b")), "A");
}

TEST(rename_efault)
{
	mkfile(lt_path("a"), "A");
	CHECK_ERR(rename((char *)1, lt_path("b")), EFAULT);
	CHECK_ERR(rename(lt_path("a"), (char *)1), EFAULT);
}

TEST(rename_sticky_dir_eperm)
{
	REQUIRE_OK(chmod(lt_tmpdir(), 01777));
	mkfile(lt_path("rootfile"), "R");
	REQUIRE_OK(chdir(lt_tmpdir()));
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	CHECK_ERR(rename("rootfile", "mine"), EPERM);
	mkfile("own", "O");
	CHECK_OK(rename("own", "own2"));
}
