/* chmod, fchmod, fchmodat (and fchmodat2): modes, ownership checks, set-gid clearing, symlinks, errors. */
#include "shm.h"

#include <sys/syscall.h>

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

static mode_t mode_of(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		ABORT("lstat %s: %s", path, strerror(errno));
	return st.st_mode;
}

static void check_chmod(const char *path)
{
	close(lt_file(path, ""));
	REQUIRE_OK(chmod(path, 0701));
	CHECK_EQ(mode_of(path), S_IFREG | 0701);
	/* File type bits in the mode are ignored. */
	REQUIRE_OK(chmod(path, S_IFDIR | 0640));
	CHECK_EQ(mode_of(path), S_IFREG | 0640);
	REQUIRE_OK(chmod(path, 07777));
	CHECK_EQ(mode_of(path), S_IFREG | 07777);
}

TEST(chmod_sets_mode) { check_chmod(lt_path("f")); }
TEST(chmod_sets_mode_tmpfs) { check_chmod(lt_shm_path("f")); }

TEST(fchmod_and_fchmodat)
{
	int fd = lt_file(lt_path("f"), "");
	REQUIRE_OK(fchmod(fd, 0600));
	CHECK_EQ(mode_of(lt_path("f")), S_IFREG | 0600);
	int d = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	REQUIRE_OK(fchmodat(d, "f", 0604, 0));
	CHECK_EQ(mode_of(lt_path("f")), S_IFREG | 0604);
	/* A read-only descriptor is enough. */
	int ro = REQUIRE_OK(open(lt_path("f"), O_RDONLY));
	CHECK_OK(fchmod(ro, 0644));
}

TEST(updates_ctime)
{
	int fd = lt_file(lt_path("f"), "");
	struct timespec old[2] = {{100, 0}, {100, 0}};
	REQUIRE_OK(futimens(fd, old));
	struct stat a;
	REQUIRE_OK(fstat(fd, &a));
	REQUIRE_OK(fchmod(fd, 0600));
	struct stat b;
	REQUIRE_OK(fstat(fd, &b));
	CHECK_EQ(b.st_mtime, 100);
	CHECK(b.st_ctim.tv_sec > a.st_ctim.tv_sec ||
	      (b.st_ctim.tv_sec == a.st_ctim.tv_sec && b.st_ctim.tv_nsec >= a.st_ctim.tv_nsec));
}

TEST(follows_symlinks)
{
	close(lt_file(lt_path("f"), ""));
	REQUIRE_OK(symlink("f", lt_path("l")));
	REQUIRE_OK(chmod(lt_path("l"), 0611));
	CHECK_EQ(mode_of(lt_path("f")), S_IFREG | 0611);
	CHECK_EQ(mode_of(lt_path("l")) & 0777, 0777);
}

TEST(fchmodat_nofollow_eopnotsupp)
{
	close(lt_file(lt_path("f"), ""));
	REQUIRE_OK(symlink("f", lt_path("l")));
	/* Links have no mode of their own. */
	CHECK_ERR(syscall(SYS_fchmodat2, AT_FDCWD, lt_path("l"), 0600, AT_SYMLINK_NOFOLLOW), EOPNOTSUPP);
	/* On a non-link AT_SYMLINK_NOFOLLOW is fine. */
	CHECK_OK(syscall(SYS_fchmodat2, AT_FDCWD, lt_path("f"), 0600, AT_SYMLINK_NOFOLLOW));
	CHECK_EQ(mode_of(lt_path("f")), S_IFREG | 0600);
}

TEST(fchmodat2_empty_path)
{
	int fd = lt_file(lt_path("f"), "");
	CHECK_OK(syscall(SYS_fchmodat2, fd, "", 0640, AT_EMPTY_PATH));
	CHECK_EQ(mode_of(lt_path("f")), S_IFREG | 0640);
	CHECK_ERR(syscall(SYS_fchmodat2, fd, "", 0600, 0), ENOENT);
	CHECK_ERR(syscall(SYS_fchmodat2, AT_FDCWD, lt_path("f"), 0600, 0x1), EINVAL);
}

TEST(fchmodat_flags_einval)
{
	close(lt_file(lt_path("f"), ""));
	/* The old syscall has no flags argument: raw, any extra value is ignored. */
	CHECK_OK(syscall(SYS_fchmodat, AT_FDCWD, lt_path("f"), 0600, 0x1234));
}

TEST(not_owner_eperm)
{
	close(lt_file(lt_path("f"), ""));
	REQUIRE_OK(chmod(lt_tmpdir(), 0755));
	REQUIRE_OK(chmod(lt_path("f"), 0666));
	int d = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	lt_drop_privs();
	CHECK_ERR(fchmodat(d, "f", 0600, 0), EPERM);
	/* Even with a writable descriptor. */
	int fd = REQUIRE_OK(openat(d, "f", O_RDWR));
	CHECK_ERR(fchmod(fd, 0600), EPERM);
}

TEST(owner_may_chmod)
{
	close(lt_file(lt_path("f"), ""));
	REQUIRE_OK(chmod(lt_tmpdir(), 0755));
	REQUIRE_OK(chown(lt_path("f"), 65534, 65534));
	int d = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	lt_drop_privs();
	CHECK_OK(fchmodat(d, "f", 0, 0));
	CHECK_OK(fchmodat(d, "f", 04755, 0));
	struct stat st;
	REQUIRE_OK(fstatat(d, "f", &st, 0));
	CHECK_EQ(st.st_mode & 07777, 04755);
}

TEST(setgid_cleared_outside_group)
{
	/* A non-member owner setting S_ISGID on a file gets it silently dropped. */
	close(lt_file(lt_path("f"), ""));
	REQUIRE_OK(chmod(lt_tmpdir(), 0755));
	REQUIRE_OK(chown(lt_path("f"), 65534, 0));
	int d = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	lt_drop_privs();
	REQUIRE_OK(fchmodat(d, "f", 02755, 0));
	struct stat st;
	REQUIRE_OK(fstatat(d, "f", &st, 0));
	CHECK_EQ(st.st_mode & 07777, 0755);
}

TEST(errors)
{
	CHECK_ERR(chmod(lt_path("missing"), 0600), ENOENT);
	CHECK_ERR(chmod(lt_bad, 0600), EFAULT);
	CHECK_ERR(fchmod(-1, 0600), EBADF);
	CHECK_ERR(fchmodat(12345, "x", 0600, 0), EBADF);
	close(lt_file(lt_path("f"), ""));
	CHECK_ERR(chmod(lt_path("f/x"), 0600), ENOTDIR);
	int p = REQUIRE_OK(open(lt_path("f"), O_PATH));
	CHECK_ERR(fchmod(p, 0600), EBADF);
}

TEST(directory_and_pipe)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	REQUIRE_OK(chmod(lt_path("d"), 01777));
	CHECK_EQ(mode_of(lt_path("d")), S_IFDIR | 01777);
	int p[2];
	REQUIRE_OK(pipe(p));
	/* A pipe's anonymous inode can be chmod'ed. */
	CHECK_OK(fchmod(p[0], 0640));
	struct stat st;
	REQUIRE_OK(fstat(p[1], &st));
	CHECK_EQ(st.st_mode & 0777, 0640);
}
