/* open and openat: creation, O_EXCL, O_TRUNC, O_APPEND, O_DIRECTORY, O_NOFOLLOW, O_CLOEXEC and their errors. */
#include "shm.h"

#include <limits.h>

static void check_append(const char *path)
{
	close(lt_file(path, "abc"));
	int fd = REQUIRE_OK(open(path, O_RDWR | O_APPEND));
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	CHECK_EQ(write(fd, "de", 2), 2);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 5);
	/* pwrite on an O_APPEND file appends too (Linux ignores the offset). */
	CHECK_EQ(pwrite(fd, "f", 1, 0), 1);
	char buf[8] = {0};
	CHECK_EQ(pread(fd, buf, sizeof(buf), 0), 6);
	CHECK_STREQ(buf, "abcdef");
	CHECK_EQ(fcntl(fd, F_GETFL) & O_APPEND, O_APPEND);
}

TEST(append_writes_at_end) { check_append(lt_path("f")); }
TEST(append_writes_at_end_tmpfs) { check_append(lt_shm_path("f")); }

TEST(creat_mode_and_umask)
{
	umask(022);
	int fd = REQUIRE_OK(open(lt_path("f"), O_WRONLY | O_CREAT, 0777));
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_mode, S_IFREG | 0755);
	CHECK_EQ(st.st_size, 0);
	CHECK_EQ(st.st_uid, getuid());
	/* O_CREAT of an existing file keeps its mode. */
	int fd2 = REQUIRE_OK(open(lt_path("f"), O_RDONLY | O_CREAT, 0600));
	REQUIRE_OK(fstat(fd2, &st));
	CHECK_EQ(st.st_mode, S_IFREG | 0755);
}

TEST(creat_syscall_truncates)
{
	close(lt_file(lt_path("f"), "hello"));
	int fd = REQUIRE_OK(creat(lt_path("f"), 0600));
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_size, 0);
	CHECK_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_WRONLY);
	char c;
	CHECK_ERR(read(fd, &c, 1), EBADF);
}

TEST(excl_existing_eexist)
{
	close(lt_file(lt_path("f"), "x"));
	CHECK_ERR(open(lt_path("f"), O_RDWR | O_CREAT | O_EXCL, 0600), EEXIST);
	CHECK_OK(open(lt_path("g"), O_RDWR | O_CREAT | O_EXCL, 0600));
	CHECK_ERR(open(lt_path("g"), O_RDWR | O_CREAT | O_EXCL, 0600), EEXIST);
}

TEST(excl_dangling_symlink_eexist)
{
	/* O_CREAT|O_EXCL never follows a final symlink, even a dangling one. */
	REQUIRE_OK(symlink("target", lt_path("link")));
	CHECK_ERR(open(lt_path("link"), O_WRONLY | O_CREAT | O_EXCL, 0600), EEXIST);
	CHECK_ERR(access(lt_path("target"), F_OK), ENOENT);
	/* Without O_EXCL the dangling link's target is created. */
	CHECK_OK(open(lt_path("link"), O_WRONLY | O_CREAT, 0600));
	CHECK_OK(access(lt_path("target"), F_OK));
}

static void check_trunc(const char *path)
{
	close(lt_file(path, "hello world"));
	int fd = REQUIRE_OK(open(path, O_RDWR | O_TRUNC));
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_size, 0);
	char c;
	CHECK_EQ(read(fd, &c, 1), 0);
}

TEST(trunc_empties) { check_trunc(lt_path("f")); }
TEST(trunc_empties_tmpfs) { check_trunc(lt_shm_path("f")); }

TEST(trunc_rdonly_truncates)
{
	/* Linux truncates even with O_RDONLY when the caller may write. */
	close(lt_file(lt_path("f"), "hello"));
	int fd = REQUIRE_OK(open(lt_path("f"), O_RDONLY | O_TRUNC));
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_size, 0);
}

TEST(directory_flag)
{
	close(lt_file(lt_path("f"), "x"));
	CHECK_ERR(open(lt_path("f"), O_RDONLY | O_DIRECTORY), ENOTDIR);
	int fd = CHECK_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK(S_ISDIR(st.st_mode));
	/* O_DIRECTORY follows a symlink to a directory. */
	REQUIRE_OK(symlink(".", lt_path("dl")));
	CHECK_OK(open(lt_path("dl"), O_RDONLY | O_DIRECTORY));
	CHECK_ERR(open(lt_path("missing"), O_RDONLY | O_DIRECTORY), ENOENT);
}

TEST(directory_write_eisdir)
{
	CHECK_ERR(open(lt_tmpdir(), O_WRONLY), EISDIR);
	CHECK_ERR(open(lt_tmpdir(), O_RDWR), EISDIR);
	CHECK_ERR(open(lt_tmpdir(), O_RDONLY | O_TRUNC), EISDIR);
	CHECK_ERR(open(lt_tmpdir(), O_WRONLY | O_CREAT, 0600), EISDIR);
	int fd = CHECK_OK(open(lt_tmpdir(), O_RDONLY));
	char c;
	CHECK_ERR(read(fd, &c, 1), EISDIR);
}

TEST(creat_trailing_slash_eisdir)
{
	CHECK_ERR(open(lt_path("new/"), O_WRONLY | O_CREAT, 0600), EISDIR);
	close(lt_file(lt_path("f"), "x"));
	CHECK_ERR(open(lt_path("f/"), O_RDONLY), ENOTDIR);
}

TEST(creat_directory_einval)
{
	/* O_CREAT|O_DIRECTORY is EINVAL since Linux 6.4. */
	CHECK_ERR(open(lt_path("d"), O_RDONLY | O_CREAT | O_DIRECTORY, 0700), EINVAL);
	CHECK_ERR(access(lt_path("d"), F_OK), ENOENT);
}

TEST(nofollow)
{
	close(lt_file(lt_path("f"), "x"));
	REQUIRE_OK(symlink("f", lt_path("l")));
	CHECK_ERR(open(lt_path("l"), O_RDONLY | O_NOFOLLOW), ELOOP);
	/* Only the last component is affected. */
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	close(lt_file(lt_path("d/g"), "y"));
	REQUIRE_OK(symlink("d", lt_path("dl")));
	CHECK_OK(open(lt_path("dl/g"), O_RDONLY | O_NOFOLLOW));
	CHECK_OK(open(lt_path("f"), O_RDONLY | O_NOFOLLOW));
}

TEST(symlink_loop_eloop)
{
	REQUIRE_OK(symlink("b", lt_path("a")));
	REQUIRE_OK(symlink("a", lt_path("b")));
	CHECK_ERR(open(lt_path("a"), O_RDONLY), ELOOP);
	CHECK_ERR(open(lt_path("a"), O_WRONLY | O_CREAT, 0600), ELOOP);
}

TEST(cloexec_flag)
{
	int fd = REQUIRE_OK(open("/dev/null", O_RDONLY | O_CLOEXEC));
	CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	/* O_CLOEXEC is a descriptor flag: F_GETFL does not show it. */
	CHECK_EQ(fcntl(fd, F_GETFL) & O_CLOEXEC, 0);
	int fd2 = REQUIRE_OK(open("/dev/null", O_RDONLY));
	CHECK_EQ(fcntl(fd2, F_GETFD), 0);
}

TEST(cloexec_closed_on_exec)
{
	int fd = REQUIRE_OK(open("/dev/null", O_RDONLY | O_CLOEXEC));
	int keep = REQUIRE_OK(open("/dev/null", O_RDONLY));
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "test -e /proc/self/fd/%d || test ! -e /proc/self/fd/%d", keep, fd);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		/* exit 0 iff fd is closed and keep is open. */
		snprintf(cmd, sizeof(cmd), "test ! -e /proc/self/fd/%d && test -e /proc/self/fd/%d", fd, keep);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(99);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(enoent_and_enotdir)
{
	CHECK_ERR(open(lt_path("missing"), O_RDONLY), ENOENT);
	CHECK_ERR(open(lt_path("missing/x"), O_RDONLY | O_CREAT, 0600), ENOENT);
	close(lt_file(lt_path("f"), "x"));
	CHECK_ERR(open(lt_path("f/x"), O_RDONLY), ENOTDIR);
	CHECK_ERR(open(lt_path("f/x"), O_RDONLY | O_CREAT, 0600), ENOTDIR);
	CHECK_ERR(open("", O_RDONLY), ENOENT);
}

TEST(bad_pointer_efault)
{
	CHECK_ERR(open((char *)1, O_RDONLY), EFAULT);
	CHECK_ERR(openat(AT_FDCWD, (char *)1, O_RDONLY), EFAULT);
}

TEST(name_too_long)
{
	char name[NAME_MAX + 2];
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	CHECK_ERR(open(lt_path(name), O_RDONLY | O_CREAT, 0600), ENAMETOOLONG);
	static char path[PATH_MAX + 10];
	memset(path, '/', sizeof(path) - 1);
	CHECK_ERR(open(path, O_RDONLY), ENAMETOOLONG);
}

TEST(access_mode_checks)
{
	close(lt_file(lt_path("f"), "x"));
	int fd = REQUIRE_OK(open(lt_path("f"), O_WRONLY));
	char c;
	CHECK_ERR(read(fd, &c, 1), EBADF);
	fd = REQUIRE_OK(open(lt_path("f"), O_RDONLY));
	CHECK_ERR(write(fd, "y", 1), EBADF);
	/* Access mode 3 is accepted by open and permits neither. */
	fd = REQUIRE_OK(open(lt_path("f"), 3));
	CHECK_ERR(read(fd, &c, 1), EBADF);
	CHECK_ERR(write(fd, "y", 1), EBADF);
}

TEST(permission_denied_unprivileged)
{
	close(lt_file(lt_path("ro"), "x"));
	REQUIRE_OK(chmod(lt_path("ro"), 0444));
	REQUIRE_OK(chmod(lt_tmpdir(), 0755));
	REQUIRE_OK(mkdir(lt_path("closed"), 0700));
	/* The scratch directory's parents may be closed to others: walk from a descriptor. */
	int dir = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	lt_drop_privs();
	CHECK_OK(openat(dir, "ro", O_RDONLY));
	CHECK_ERR(openat(dir, "ro", O_WRONLY), EACCES);
	CHECK_ERR(openat(dir, "ro", O_RDONLY | O_TRUNC), EACCES);
	CHECK_ERR(openat(dir, "new", O_WRONLY | O_CREAT, 0600), EACCES);
	CHECK_ERR(openat(dir, "closed/x", O_RDONLY), EACCES);
	CHECK_ERR(openat(dir, "closed", O_RDONLY), EACCES);
}

TEST(unknown_flags_ignored)
{
	/* open ignores unknown flag bits (openat2 does not). */
	close(lt_file(lt_path("f"), "x"));
	CHECK_OK(open(lt_path("f"), O_RDONLY | 0x40000000));
}

TEST(fd_is_lowest_free)
{
	int a = REQUIRE_OK(open("/dev/null", O_RDONLY));
	int b = REQUIRE_OK(open("/dev/null", O_RDONLY));
	REQUIRE_OK(close(a));
	CHECK_EQ(open("/dev/null", O_RDONLY), a);
	CHECK_GT(b, a);
}
