/* chdir, fchdir, getcwd: the working directory and its errors. */
#include "lt.h"
#include <limits.h>
#include <sys/syscall.h>

TEST(chdir_and_getcwd)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	REQUIRE_OK(chdir(lt_path("d")));
	char buf[PATH_MAX];
	REQUIRE(getcwd(buf, sizeof(buf)) != NULL);
	/* The scratch path may itself contain symlinks; compare inodes too. */
	struct stat a, b;
	REQUIRE_OK(stat(buf, &a));
	REQUIRE_OK(stat(lt_path("d"), &b));
	CHECK_EQ(a.st_ino, b.st_ino);
	CHECK_EQ(a.st_dev, b.st_dev);
	size_t n = strlen(buf);
	CHECK_GE(n, 2);
	CHECK_STREQ(buf + n - 2, "/d");
}

TEST(getcwd_raw_returns_length_with_nul)
{
	REQUIRE_OK(chdir("/"));
	char buf[16];
	CHECK_EQ(syscall(SYS_getcwd, buf, sizeof(buf)), 2);
	CHECK_STREQ(buf, "/");
}

TEST(getcwd_erange)
{
	REQUIRE_OK(chdir("/proc"));
	char buf[16];
	CHECK_ERR(syscall(SYS_getcwd, buf, 5), ERANGE);
	CHECK_ERR(syscall(SYS_getcwd, buf, 0), ERANGE);
	CHECK_EQ(syscall(SYS_getcwd, buf, 6), 6);
	CHECK_STREQ(buf, "/proc");
}

TEST(getcwd_efault)
{
	CHECK_ERR(syscall(SYS_getcwd, (char *)1, 64), EFAULT);
}

TEST(getcwd_after_rmdir_enoent)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	REQUIRE_OK(chdir(lt_path("d")));
	REQUIRE_OK(rmdir(lt_path("d")));
	char buf[PATH_MAX];
	CHECK_ERR(syscall(SYS_getcwd, buf, sizeof(buf)), ENOENT);
	/* "." still names the removed directory. */
	struct stat st;
	REQUIRE_OK(stat(".", &st));
	CHECK_EQ(st.st_nlink, 0);
	CHECK_ERR(open("new", O_CREAT | O_WRONLY, 0600), ENOENT);
}

TEST(cwd_follows_rename)
{
	REQUIRE_OK(mkdir(lt_path("old"), 0700));
	REQUIRE_OK(chdir(lt_path("old")));
	REQUIRE_OK(rename(lt_path("old"), lt_path("new")));
	char buf[PATH_MAX];
	REQUIRE(getcwd(buf, sizeof(buf)) != NULL);
	size_t n = strlen(buf);
	CHECK_STREQ(buf + n - 4, "/new");
}

TEST(chdir_errors)
{
	int fd = REQUIRE_OK(open(lt_path("f"), O_CREAT | O_WRONLY, 0600));
	close(fd);
	CHECK_ERR(chdir(lt_path("f")), ENOTDIR);
	CHECK_ERR(chdir(lt_path("none")), ENOENT);
	CHECK_ERR(chdir(""), ENOENT);
	CHECK_ERR(chdir((char *)1), EFAULT);
}

TEST(chdir_eacces)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	REQUIRE_OK(chmod(lt_tmpdir(), 0755));
	REQUIRE_OK(chdir(lt_tmpdir()));
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	CHECK_ERR(chdir("d"), EACCES);
}

TEST(chdir_symlink_followed)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	REQUIRE_OK(symlink("d", lt_path("l")));
	REQUIRE_OK(chdir(lt_path("l")));
	char buf[PATH_MAX];
	REQUIRE(getcwd(buf, sizeof(buf)) != NULL);
	size_t n = strlen(buf);
	CHECK_STREQ(buf + n - 2, "/d");
}

TEST(fchdir_ok)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	int fd = REQUIRE_OK(open(lt_path("d"), O_RDONLY | O_DIRECTORY));
	REQUIRE_OK(chdir("/"));
	REQUIRE_OK(fchdir(fd));
	struct stat a, b;
	REQUIRE_OK(stat(".", &a));
	REQUIRE_OK(fstat(fd, &b));
	CHECK_EQ(a.st_ino, b.st_ino);
}

TEST(fchdir_opath_ok)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	int fd = REQUIRE_OK(open(lt_path("d"), O_PATH));
	CHECK_OK(fchdir(fd));
}

TEST(fchdir_errors)
{
	CHECK_ERR(fchdir(-1), EBADF);
	CHECK_ERR(fchdir(9999), EBADF);
	int fd = REQUIRE_OK(open(lt_path("f"), O_CREAT | O_RDWR, 0600));
	CHECK_ERR(fchdir(fd), ENOTDIR);
}

TEST(cwd_inherited_by_child)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	REQUIRE_OK(chdir(lt_path("d")));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		char buf[PATH_MAX];
		if (getcwd(buf, sizeof(buf)) == NULL)
			_exit(1);
		size_t n = strlen(buf);
		_exit(strcmp(buf + n - 2, "/d") == 0 ? 0 : 2);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(child_chdir_does_not_affect_parent)
{
	REQUIRE_OK(chdir("/"));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(chdir("/proc") == 0 ? 0 : 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
	char buf[16];
	CHECK_EQ(syscall(SYS_getcwd, buf, sizeof(buf)), 2);
}

TEST(proc_self_cwd)
{
	REQUIRE_OK(chdir("/proc"));
	char buf[64] = {0};
	CHECK_EQ(readlink("/proc/self/cwd", buf, sizeof(buf)), 5);
	CHECK_STREQ(buf, "/proc");
}
