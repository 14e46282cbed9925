/* unlink, unlinkat (AT_REMOVEDIR): removing names and the error cases. */
#include "lt.h"
#include "files.h"


TEST(unlink_removes_name)
{
	mkfile(lt_path("f"), "");
	REQUIRE_OK(unlink(lt_path("f")));
	struct stat st;
	CHECK_ERR(stat(lt_path("f"), &st), ENOENT);
	CHECK_ERR(unlink(lt_path("f")), ENOENT);
}

TEST(unlink_open_file_still_readable)
{
	int fd = REQUIRE_OK(open(lt_path("f"), O_CREAT | O_RDWR, 0600));
	REQUIRE_EQ(write(fd, "data", 4), 4);
	REQUIRE_OK(unlink(lt_path("f")));
	char buf[8] = {0};
	CHECK_EQ(pread(fd, buf, sizeof(buf), 0), 4);
	CHECK_STREQ(buf, "data");
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_nlink, 0);
	/* A new file of the same name is a different file. */
	int fd2 = REQUIRE_OK(open(lt_path("f"), O_CREAT | O_RDWR, 0600));
	struct stat st2;
	REQUIRE_OK(fstat(fd2, &st2));
	CHECK_EQ(st2.st_size, 0);
	CHECK_EQ(st2.st_nlink, 1);
}

TEST(unlink_directory_eisdir)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	CHECK_ERR(unlink(lt_path("d")), EISDIR);
}

TEST(unlink_symlink_not_target)
{
	mkfile(lt_path("t"), "");
	REQUIRE_OK(symlink("t", lt_path("l")));
	REQUIRE_OK(unlink(lt_path("l")));
	struct stat st;
	CHECK_OK(stat(lt_path("t"), &st));
	CHECK_ERR(lstat(lt_path("l"), &st), ENOENT);
}

TEST(unlink_symlink_to_dir)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	REQUIRE_OK(symlink("d", lt_path("l")));
	CHECK_OK(unlink(lt_path("l")));
}

TEST(unlink_enotdir)
{
	mkfile(lt_path("f"), "");
	CHECK_ERR(unlink(lt_path("f/x")), ENOTDIR);
	char p[4200];
	snprintf(p, sizeof(p), "%s/", lt_path("f"));
	CHECK_ERR(unlink(p), ENOTDIR);
}

TEST(unlink_enoent_cases)
{
	CHECK_ERR(unlink(""), ENOENT);
	CHECK_ERR(unlink(lt_path("no/such")), ENOENT);
}

TEST(unlink_efault)
{
	CHECK_ERR(unlink((char *)1), EFAULT);
}

TEST(unlink_eacces_no_write_on_dir)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0755));
	mkfile(lt_path("d/f"), "");
	REQUIRE_OK(chmod(lt_tmpdir(), 0755));
	REQUIRE_OK(chdir(lt_tmpdir()));
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	CHECK_ERR(unlink("d/f"), EACCES);
}

TEST(unlink_sticky_eperm)
{
	REQUIRE_OK(chmod(lt_tmpdir(), 01777));
	mkfile(lt_path("f"), "");
	REQUIRE_OK(chdir(lt_tmpdir()));
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	CHECK_ERR(unlink("f"), EPERM);
}

TEST(unlinkat_file)
{
	int dfd = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	mkfile(lt_path("f"), "");
	REQUIRE_OK(unlinkat(dfd, "f", 0));
	CHECK_ERR(unlinkat(dfd, "f", 0), ENOENT);
}

TEST(unlinkat_removedir)
{
	int dfd = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	CHECK_ERR(unlinkat(dfd, "d", 0), EISDIR);
	REQUIRE_OK(unlinkat(dfd, "d", AT_REMOVEDIR));
	struct stat st;
	CHECK_ERR(stat(lt_path("d"), &st), ENOENT);
}

TEST(unlinkat_removedir_on_file_enotdir)
{
	int dfd = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	mkfile(lt_path("f"), "");
	CHECK_ERR(unlinkat(dfd, "f", AT_REMOVEDIR), ENOTDIR);
}

TEST(unlinkat_removedir_nonempty)
{
	int dfd = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	mkfile(lt_path("d/f"), "");
	CHECK_ERR(unlinkat(dfd, "d", AT_REMOVEDIR), ENOTEMPTY);
	CHECK_ERR(unlinkat(dfd, ".", AT_REMOVEDIR), EINVAL);
}

TEST(unlinkat_bad_flags)
{
	int dfd = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	mkfile(lt_path("f"), "");
	CHECK_ERR(unlinkat(dfd, "f", AT_SYMLINK_NOFOLLOW), EINVAL);
	CHECK_ERR(unlinkat(dfd, "f", 0x1), EINVAL);
	struct stat st;
	CHECK_OK(stat(lt_path("f"), &st));
}

TEST(unlinkat_bad_dirfd)
{
	CHECK_ERR(unlinkat(-1, "f", 0), EBADF);
	CHECK_ERR(unlinkat(9999, "f", 0), EBADF);
	int fd = REQUIRE_OK(open(lt_path("f"), O_CREAT | O_RDWR, 0600));
	CHECK_ERR(unlinkat(fd, "x", 0), ENOTDIR);
}

TEST(unlink_parent_mtime_changes)
{
	mkfile(lt_path("f"), "");
	struct timespec t[2] = {{1, 0}, {1, 0}};
	REQUIRE_OK(utimensat(AT_FDCWD, lt_tmpdir(), t, 0));
	REQUIRE_OK(unlink(lt_path("f")));
	struct stat st;
	REQUIRE_OK(stat(lt_tmpdir(), &st));
	CHECK_GT(st.st_mtime, 1);
	CHECK_GT(st.st_ctime, 1);
}
