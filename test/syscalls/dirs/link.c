/* link, linkat: hard links, link counts, AT_SYMLINK_FOLLOW, errors. */
#include "lt.h"
#include "files.h"


static nlink_t nlink(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return (nlink_t)-1;
	return st.st_nlink;
}


TEST(link_shares_inode)
{
	mkfile(lt_path("a"), "");
	CHECK_EQ(nlink(lt_path("a")), 1);
	REQUIRE_OK(link(lt_path("a"), lt_path("b")));
	CHECK_EQ(ino(lt_path("a")), ino(lt_path("b")));
	CHECK_EQ(nlink(lt_path("a")), 2);
	CHECK_EQ(nlink(lt_path("b")), 2);
}

TEST(link_data_shared)
{
	mkfile(lt_path("a"), "");
	REQUIRE_OK(link(lt_path("a"), lt_path("b")));
	int fd = REQUIRE_OK(open(lt_path("a"), O_WRONLY));
	REQUIRE_EQ(write(fd, "xyz", 3), 3);
	close(fd);
	char buf[8] = {0};
	fd = REQUIRE_OK(open(lt_path("b"), O_RDONLY));
	CHECK_EQ(read(fd, buf, sizeof(buf)), 3);
	CHECK_STREQ(buf, "xyz");
}

TEST(nlink_after_unlink)
{
	mkfile(lt_path("a"), "");
	REQUIRE_OK(link(lt_path("a"), lt_path("b")));
	REQUIRE_OK(link(lt_path("a"), lt_path("c")));
	CHECK_EQ(nlink(lt_path("c")), 3);
	REQUIRE_OK(unlink(lt_path("a")));
	CHECK_EQ(nlink(lt_path("b")), 2);
	int fd = REQUIRE_OK(open(lt_path("b"), O_RDONLY));
	REQUIRE_OK(unlink(lt_path("b")));
	REQUIRE_OK(unlink(lt_path("c")));
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_nlink, 0);
}

TEST(link_eexist)
{
	mkfile(lt_path("a"), "");
	mkfile(lt_path("b"), "");
	CHECK_ERR(link(lt_path("a"), lt_path("b")), EEXIST);
	REQUIRE_OK(symlink("nowhere", lt_path("l")));
	CHECK_ERR(link(lt_path("a"), lt_path("l")), EEXIST);
}

TEST(link_enoent)
{
	CHECK_ERR(link(lt_path("none"), lt_path("b")), ENOENT);
	mkfile(lt_path("a"), "");
	CHECK_ERR(link(lt_path("a"), lt_path("no/b")), ENOENT);
	CHECK_ERR(link("", lt_path("b")), ENOENT);
}

TEST(link_directory_eperm)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	CHECK_ERR(link(lt_path("d"), lt_path("d2")), EPERM);
}

TEST(link_enotdir)
{
	mkfile(lt_path("a"), "");
	CHECK_ERR(link(lt_path("a/x"), lt_path("b")), ENOTDIR);
	CHECK_ERR(link(lt_path("a"), lt_path("a/b")), ENOTDIR);
}

TEST(link_to_symlink_does_not_follow)
{
	mkfile(lt_path("target"), "");
	REQUIRE_OK(symlink("target", lt_path("l")));
	REQUIRE_OK(link(lt_path("l"), lt_path("h")));
	struct stat st;
	REQUIRE_OK(lstat(lt_path("h"), &st));
	CHECK(S_ISLNK(st.st_mode));
	CHECK_EQ(st.st_ino, lino(lt_path("l")));
	CHECK_EQ(nlink(lt_path("target")), 1);
}

TEST(linkat_symlink_follow)
{
	mkfile(lt_path("target"), "");
	REQUIRE_OK(symlink("target", lt_path("l")));
	REQUIRE_OK(linkat(AT_FDCWD, lt_path("l"), AT_FDCWD, lt_path("h"), AT_SYMLINK_FOLLOW));
	struct stat st;
	REQUIRE_OK(lstat(lt_path("h"), &st));
	CHECK(S_ISREG(st.st_mode));
	CHECK_EQ(st.st_ino, ino(lt_path("target")));
	CHECK_EQ(nlink(lt_path("target")), 2);
}

TEST(linkat_dangling_follow_enoent)
{
	REQUIRE_OK(symlink("nowhere", lt_path("l")));
	CHECK_ERR(linkat(AT_FDCWD, lt_path("l"), AT_FDCWD, lt_path("h"), AT_SYMLINK_FOLLOW), ENOENT);
	CHECK_OK(linkat(AT_FDCWD, lt_path("l"), AT_FDCWD, lt_path("h"), 0));
}

TEST(linkat_dirfds)
{
	REQUIRE_OK(mkdir(lt_path("x"), 0700));
	REQUIRE_OK(mkdir(lt_path("y"), 0700));
	mkfile(lt_path("x/f"), "");
	int dx = REQUIRE_OK(open(lt_path("x"), O_RDONLY | O_DIRECTORY));
	int dy = REQUIRE_OK(open(lt_path("y"), O_RDONLY | O_DIRECTORY));
	REQUIRE_OK(linkat(dx, "f", dy, "g", 0));
	CHECK_EQ(ino(lt_path("x/f")), ino(lt_path("y/g")));
	CHECK_ERR(linkat(-1, "f", dy, "h", 0), EBADF);
	CHECK_ERR(linkat(dx, "f", 9999, "h", 0), EBADF);
}

TEST(linkat_bad_flags_einval)
{
	mkfile(lt_path("a"), "");
	CHECK_ERR(linkat(AT_FDCWD, lt_path("a"), AT_FDCWD, lt_path("b"), 0x8000000), EINVAL);
	CHECK_ERR(linkat(AT_FDCWD, lt_path("a"), AT_FDCWD, lt_path("b"), AT_REMOVEDIR), EINVAL);
}

TEST(linkat_empty_path_as_root)
{
	int fd = REQUIRE_OK(open(lt_path("a"), O_CREAT | O_RDWR, 0600));
	REQUIRE_OK(linkat(fd, "", AT_FDCWD, lt_path("b"), AT_EMPTY_PATH));
	CHECK_EQ(ino(lt_path("a")), ino(lt_path("b")));
	CHECK_ERR(linkat(fd, "", AT_FDCWD, lt_path("c"), 0), ENOENT);
}

TEST(linkat_tmpfile)
{
	int fd = open(lt_tmpdir(), O_TMPFILE | O_RDWR, 0600);
	if (fd < 0 && errno == EOPNOTSUPP)
		return; /* the host file system lacks O_TMPFILE */
	REQUIRE_OK(fd);
	REQUIRE_EQ(write(fd, "t", 1), 1);
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_nlink, 0);
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	REQUIRE_OK(linkat(AT_FDCWD, proc, AT_FDCWD, lt_path("named"), AT_SYMLINK_FOLLOW));
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_nlink, 1);
	CHECK_EQ(ino(lt_path("named")), st.st_ino);
}

TEST(link_efault)
{
	mkfile(lt_path("a"), "");
	CHECK_ERR(link((char *)1, lt_path("b")), EFAULT);
	CHECK_ERR(link(lt_path("a"), (char *)1), EFAULT);
}

TEST(link_ctime_changes)
{
	mkfile(lt_path("a"), "");
	struct stat st;
	REQUIRE_OK(stat(lt_path("a"), &st));
	struct timespec t[2] = {{0, 0}, {0, 0}};
	REQUIRE_OK(utimensat(AT_FDCWD, lt_path("a"), t, 0));
	struct stat st0;
	REQUIRE_OK(stat(lt_path("a"), &st0));
	REQUIRE_OK(link(lt_path("a"), lt_path("b")));
	REQUIRE_OK(stat(lt_path("a"), &st));
	CHECK_EQ(st.st_mtime, 0);
	CHECK(st.st_ctim.tv_sec > st0.st_ctim.tv_sec ||
	      (st.st_ctim.tv_sec == st0.st_ctim.tv_sec && st.st_ctim.tv_nsec >= st0.st_ctim.tv_nsec));
}
