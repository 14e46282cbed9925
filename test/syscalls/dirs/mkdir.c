/* mkdir, mkdirat, rmdir: creation, modes, and every error path. */
#include "lt.h"

TEST(mkdir_creates_directory)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0755));
	struct stat st;
	REQUIRE_OK(stat(lt_path("d"), &st));
	CHECK(S_ISDIR(st.st_mode));
	CHECK_EQ(st.st_nlink, 2);
}

TEST(mkdir_mode_respects_umask)
{
	umask(022);
	REQUIRE_OK(mkdir(lt_path("d"), 0777));
	struct stat st;
	REQUIRE_OK(stat(lt_path("d"), &st));
	CHECK_EQ(st.st_mode & 07777, 0755);
	umask(0);
	REQUIRE_OK(mkdir(lt_path("e"), 01777));
	REQUIRE_OK(stat(lt_path("e"), &st));
	CHECK_EQ(st.st_mode & 07777, 01777);
}

TEST(mkdir_parent_nlink_grows)
{
	struct stat st;
	REQUIRE_OK(stat(lt_tmpdir(), &st));
	nlink_t before = st.st_nlink;
	REQUIRE_OK(mkdir(lt_path("a"), 0700));
	REQUIRE_OK(mkdir(lt_path("b"), 0700));
	REQUIRE_OK(stat(lt_tmpdir(), &st));
	CHECK_EQ(st.st_nlink, before + 2);
	REQUIRE_OK(rmdir(lt_path("a")));
	REQUIRE_OK(stat(lt_tmpdir(), &st));
	CHECK_EQ(st.st_nlink, before + 1);
}

TEST(mkdir_eexist)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	CHECK_ERR(mkdir(lt_path("d"), 0700), EEXIST);
	int fd = REQUIRE_OK(open(lt_path("f"), O_CREAT | O_WRONLY, 0600));
	close(fd);
	CHECK_ERR(mkdir(lt_path("f"), 0700), EEXIST);
	REQUIRE_OK(symlink("dangling", lt_path("l")));
	CHECK_ERR(mkdir(lt_path("l"), 0700), EEXIST);
}

TEST(mkdir_enoent_and_enotdir)
{
	CHECK_ERR(mkdir(lt_path("no/such"), 0700), ENOENT);
	CHECK_ERR(mkdir("", 0700), ENOENT);
	int fd = REQUIRE_OK(open(lt_path("f"), O_CREAT | O_WRONLY, 0600));
	close(fd);
	CHECK_ERR(mkdir(lt_path("f/sub"), 0700), ENOTDIR);
}

TEST(mkdir_trailing_slash)
{
	char p[4200];
	snprintf(p, sizeof(p), "%s/", lt_path("d"));
	REQUIRE_OK(mkdir(p, 0700));
	struct stat st;
	REQUIRE_OK(stat(lt_path("d"), &st));
	CHECK(S_ISDIR(st.st_mode));
}

TEST(mkdir_efault)
{
	CHECK_ERR(mkdir((char *)1, 0700), EFAULT);
}

TEST(mkdir_eacces_unprivileged)
{
	/* Relative paths: the scratch directory's parents may be 0700. */
	REQUIRE_OK(chmod(lt_tmpdir(), 0755));
	REQUIRE_OK(chdir(lt_tmpdir()));
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	CHECK_ERR(mkdir("d", 0700), EACCES);
	CHECK_OK(mkdir("/dev/shm/lt-mkdir-eacces", 0700));
	CHECK_OK(rmdir("/dev/shm/lt-mkdir-eacces"));
}

TEST(mkdirat_relative_to_dirfd)
{
	REQUIRE_OK(mkdir(lt_path("base"), 0700));
	int dfd = REQUIRE_OK(open(lt_path("base"), O_RDONLY | O_DIRECTORY));
	REQUIRE_OK(mkdirat(dfd, "child", 0700));
	struct stat st;
	REQUIRE_OK(stat(lt_path("base/child"), &st));
	CHECK(S_ISDIR(st.st_mode));
	/* An absolute path ignores dirfd. */
	REQUIRE_OK(mkdirat(-1, lt_path("abs"), 0700));
	REQUIRE_OK(stat(lt_path("abs"), &st));
}

TEST(mkdirat_bad_dirfd)
{
	CHECK_ERR(mkdirat(-1, "rel", 0700), EBADF);
	CHECK_ERR(mkdirat(9999, "rel", 0700), EBADF);
	int fd = REQUIRE_OK(open(lt_path("f"), O_CREAT | O_WRONLY, 0600));
	CHECK_ERR(mkdirat(fd, "rel", 0700), ENOTDIR);
}

TEST(mkdirat_at_fdcwd)
{
	REQUIRE_OK(chdir(lt_tmpdir()));
	REQUIRE_OK(mkdirat(AT_FDCWD, "here", 0700));
	struct stat st;
	REQUIRE_OK(stat(lt_path("here"), &st));
	CHECK(S_ISDIR(st.st_mode));
}

TEST(rmdir_removes)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	REQUIRE_OK(rmdir(lt_path("d")));
	struct stat st;
	CHECK_ERR(stat(lt_path("d"), &st), ENOENT);
	CHECK_ERR(rmdir(lt_path("d")), ENOENT);
}

TEST(rmdir_enotempty)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	int fd = REQUIRE_OK(open(lt_path("d/f"), O_CREAT | O_WRONLY, 0600));
	close(fd);
	errno = 0;
	int r = rmdir(lt_path("d"));
	CHECK_EQ(r, -1);
	CHECK(errno == ENOTEMPTY || errno == EEXIST);
	CHECK_EQ(errno, ENOTEMPTY);
	REQUIRE_OK(unlink(lt_path("d/f")));
	CHECK_OK(rmdir(lt_path("d")));
}

TEST(rmdir_dot_einval)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	char p[4200];
	snprintf(p, sizeof(p), "%s/.", lt_path("d"));
	CHECK_ERR(rmdir(p), EINVAL);
	REQUIRE_OK(chdir(lt_path("d")));
	CHECK_ERR(rmdir("."), EINVAL);
}

TEST(rmdir_dotdot_enotempty)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	char p[4200];
	snprintf(p, sizeof(p), "%s/..", lt_path("d"));
	CHECK_ERR(rmdir(p), ENOTEMPTY);
}

TEST(rmdir_enotdir)
{
	int fd = REQUIRE_OK(open(lt_path("f"), O_CREAT | O_WRONLY, 0600));
	close(fd);
	CHECK_ERR(rmdir(lt_path("f")), ENOTDIR);
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	REQUIRE_OK(symlink(lt_path("d"), lt_path("l")));
	/* rmdir does not follow a final symlink. */
	CHECK_ERR(rmdir(lt_path("l")), ENOTDIR);
}

TEST(rmdir_trailing_slash_ok)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	char p[4200];
	snprintf(p, sizeof(p), "%s/", lt_path("d"));
	CHECK_OK(rmdir(p));
}

TEST(rmdir_root_ebusy)
{
	CHECK_ERR(rmdir("/"), EBUSY);
}

TEST(rmdir_sticky_eperm)
{
	REQUIRE_OK(chmod(lt_tmpdir(), 01777));
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	REQUIRE_OK(chdir(lt_tmpdir()));
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	CHECK_ERR(rmdir("d"), EPERM);
	/* Its own directory it may remove. */
	REQUIRE_OK(mkdir("mine", 0700));
	CHECK_OK(rmdir("mine"));
}

TEST(mkdir_after_rmdir_of_parent_enoent)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	REQUIRE_OK(chdir(lt_path("d")));
	REQUIRE_OK(rmdir(lt_path("d")));
	CHECK_ERR(mkdir("x", 0700), ENOENT);
}
