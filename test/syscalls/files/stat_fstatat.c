/* newfstatat: dirfd-relative paths, AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW, AT_NO_AUTOMOUNT, bad flags. */
#include "shm.h"

static int setup(void)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0755));
	int fd = REQUIRE_OK(open(lt_path("d/f"), O_CREAT | O_WRONLY, 0600));
	REQUIRE_EQ(write(fd, "abcd", 4), 4);
	close(fd);
	REQUIRE_OK(symlink("f", lt_path("d/l")));
	return REQUIRE_OK(open(lt_path("d"), O_RDONLY | O_DIRECTORY));
}

TEST(relative_to_dirfd)
{
	int d = setup();
	struct stat st;
	REQUIRE_OK(fstatat(d, "f", &st, 0));
	CHECK_EQ(st.st_size, 4);
	CHECK(S_ISREG(st.st_mode));
}

TEST(at_fdcwd)
{
	setup();
	REQUIRE_OK(chdir(lt_path("d")));
	struct stat st;
	REQUIRE_OK(fstatat(AT_FDCWD, "f", &st, 0));
	CHECK_EQ(st.st_size, 4);
}

TEST(absolute_ignores_dirfd)
{
	struct stat st;
	CHECK_OK(fstatat(-1, "/", &st, 0));
	CHECK_OK(fstatat(12345, "/dev/null", &st, 0));
	CHECK(S_ISCHR(st.st_mode));
}

TEST(symlink_nofollow)
{
	int d = setup();
	struct stat st;
	REQUIRE_OK(fstatat(d, "l", &st, AT_SYMLINK_NOFOLLOW));
	CHECK(S_ISLNK(st.st_mode));
	REQUIRE_OK(fstatat(d, "l", &st, 0));
	CHECK(S_ISREG(st.st_mode));
	CHECK_EQ(st.st_size, 4);
}

TEST(empty_path_file)
{
	int d = setup();
	int fd = REQUIRE_OK(openat(d, "f", O_RDONLY));
	struct stat st;
	REQUIRE_OK(fstatat(fd, "", &st, AT_EMPTY_PATH));
	CHECK_EQ(st.st_size, 4);
	CHECK_ERR(fstatat(fd, "", &st, 0), ENOENT);
}

TEST(empty_path_cwd)
{
	setup();
	REQUIRE_OK(chdir(lt_path("d")));
	struct stat st, want;
	REQUIRE_OK(fstatat(AT_FDCWD, "", &st, AT_EMPTY_PATH));
	REQUIRE_OK(stat(lt_path("d"), &want));
	CHECK_EQ(st.st_ino, want.st_ino);
	CHECK(S_ISDIR(st.st_mode));
}

TEST(empty_path_pipe)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	struct stat st;
	REQUIRE_OK(fstatat(p[1], "", &st, AT_EMPTY_PATH));
	CHECK(S_ISFIFO(st.st_mode));
}

TEST(empty_path_symlink_opath)
{
	int d = setup();
	int fd = REQUIRE_OK(openat(d, "l", O_PATH | O_NOFOLLOW));
	struct stat st;
	/* The link itself, whether or not AT_SYMLINK_NOFOLLOW is given. */
	REQUIRE_OK(fstatat(fd, "", &st, AT_EMPTY_PATH));
	CHECK(S_ISLNK(st.st_mode));
	REQUIRE_OK(fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW));
	CHECK(S_ISLNK(st.st_mode));
}

TEST(bad_dirfd)
{
	struct stat st;
	CHECK_ERR(fstatat(-1, "f", &st, 0), EBADF);
	CHECK_ERR(fstatat(12345, "f", &st, 0), EBADF);
	CHECK_ERR(fstatat(12345, "", &st, AT_EMPTY_PATH), EBADF);
	int d = setup();
	int fd = REQUIRE_OK(openat(d, "f", O_RDONLY));
	CHECK_ERR(fstatat(fd, "x", &st, 0), ENOTDIR);
}

TEST(bad_flags_einval)
{
	int d = setup();
	struct stat st;
	CHECK_ERR(fstatat(d, "f", &st, 0x8000000), EINVAL);
	CHECK_ERR(fstatat(d, "f", &st, AT_REMOVEDIR), EINVAL);
	CHECK_OK(fstatat(d, "f", &st, AT_NO_AUTOMOUNT));
}

TEST(efault)
{
	int d = setup();
	struct stat st;
	CHECK_ERR(fstatat(d, "f", (struct stat *)1, 0), EFAULT);
	CHECK_ERR(fstatat(d, (char *)1, &st, 0), EFAULT);
}

TEST(trailing_slash)
{
	int d = setup();
	struct stat st;
	REQUIRE_OK(mkdir(lt_path("d/sub"), 0700));
	REQUIRE_OK(symlink("sub", lt_path("d/sl")));
	/* A trailing slash makes the walk follow a final symlink. */
	REQUIRE_OK(fstatat(d, "sl/", &st, AT_SYMLINK_NOFOLLOW));
	CHECK(S_ISDIR(st.st_mode));
	CHECK_ERR(fstatat(d, "l/", &st, AT_SYMLINK_NOFOLLOW), ENOTDIR);
}

TEST(tmpfs_dirfd)
{
	int fd = REQUIRE_OK(open(lt_shm_path("f"), O_CREAT | O_RDWR, 0600));
	REQUIRE_EQ(write(fd, "xyz", 3), 3);
	int d = REQUIRE_OK(open(lt_shm_dir(), O_RDONLY | O_DIRECTORY));
	struct stat st;
	REQUIRE_OK(fstatat(d, "f", &st, 0));
	CHECK_EQ(st.st_size, 3);
	REQUIRE_OK(fstatat(fd, "", &st, AT_EMPTY_PATH));
	CHECK_EQ(st.st_size, 3);
}
