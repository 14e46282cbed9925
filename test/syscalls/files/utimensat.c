/* utimensat and futimens: explicit times, UTIME_NOW, UTIME_OMIT, NULL, symlinks, permissions, errors. */
#include "shm.h"

#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <utime.h>

static struct stat st_of(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		ABORT("lstat %s: %s", path, strerror(errno));
	return st;
}

static void check_explicit(const char *path)
{
	close(lt_file(path, ""));
	struct timespec ts[2] = {{1000, 123456789}, {2000, 987654321}};
	REQUIRE_OK(utimensat(AT_FDCWD, path, ts, 0));
	struct stat st = st_of(path);
	CHECK_EQ(st.st_atim.tv_sec, 1000);
	CHECK_EQ(st.st_atim.tv_nsec, 123456789);
	CHECK_EQ(st.st_mtim.tv_sec, 2000);
	CHECK_EQ(st.st_mtim.tv_nsec, 987654321);
}

TEST(explicit_times) { check_explicit(lt_path("f")); }
TEST(explicit_times_tmpfs) { check_explicit(lt_shm_path("f")); }

TEST(omit_leaves_alone)
{
	close(lt_file(lt_path("f"), ""));
	struct timespec ts[2] = {{1000, 0}, {2000, 0}};
	REQUIRE_OK(utimensat(AT_FDCWD, lt_path("f"), ts, 0));
	struct timespec om[2] = {{5, UTIME_OMIT}, {3000, 0}};
	REQUIRE_OK(utimensat(AT_FDCWD, lt_path("f"), om, 0));
	struct stat st = st_of(lt_path("f"));
	CHECK_EQ(st.st_atime, 1000);
	CHECK_EQ(st.st_mtime, 3000);
	/* Both omitted: nothing changes, not even ctime. */
	struct timespec both[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
	struct stat before = st_of(lt_path("f"));
	usleep(20000);
	REQUIRE_OK(utimensat(AT_FDCWD, lt_path("f"), both, 0));
	struct stat after = st_of(lt_path("f"));
	CHECK_EQ(after.st_ctim.tv_sec, before.st_ctim.tv_sec);
	CHECK_EQ(after.st_ctim.tv_nsec, before.st_ctim.tv_nsec);
}

TEST(now_and_null)
{
	close(lt_file(lt_path("f"), ""));
	struct timespec ts[2] = {{1000, 0}, {2000, 0}};
	REQUIRE_OK(utimensat(AT_FDCWD, lt_path("f"), ts, 0));
	time_t t0 = time(NULL);
	struct timespec now[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
	REQUIRE_OK(utimensat(AT_FDCWD, lt_path("f"), now, 0));
	struct stat st = st_of(lt_path("f"));
	CHECK_GE(st.st_atime, t0 - 1);
	CHECK_EQ(st.st_mtime, 2000);
	REQUIRE_OK(utimensat(AT_FDCWD, lt_path("f"), NULL, 0));
	st = st_of(lt_path("f"));
	CHECK_GE(st.st_mtime, t0 - 1);
	CHECK_GE(st.st_atime, t0 - 1);
}

TEST(futimens_fd)
{
	int fd = lt_file(lt_path("f"), "");
	struct timespec ts[2] = {{111, 0}, {222, 0}};
	REQUIRE_OK(futimens(fd, ts));
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_atime, 111);
	CHECK_EQ(st.st_mtime, 222);
	/* futimens is utimensat(fd, NULL): a read-only descriptor is fine for root. */
	int ro = REQUIRE_OK(open(lt_path("f"), O_RDONLY));
	CHECK_OK(futimens(ro, ts));
}

TEST(symlink_nofollow)
{
	close(lt_file(lt_path("f"), ""));
	REQUIRE_OK(symlink("f", lt_path("l")));
	struct timespec ts[2] = {{333, 0}, {444, 0}};
	REQUIRE_OK(utimensat(AT_FDCWD, lt_path("l"), ts, AT_SYMLINK_NOFOLLOW));
	CHECK_EQ(st_of(lt_path("l")).st_mtime, 444);
	CHECK_NE(st_of(lt_path("f")).st_mtime, 444);
	REQUIRE_OK(utimensat(AT_FDCWD, lt_path("l"), ts, 0));
	CHECK_EQ(st_of(lt_path("f")).st_mtime, 444);
}

TEST(empty_path)
{
	int fd = lt_file(lt_path("f"), "");
	struct timespec ts[2] = {{555, 0}, {666, 0}};
	REQUIRE_OK(utimensat(fd, "", ts, AT_EMPTY_PATH));
	CHECK_EQ(st_of(lt_path("f")).st_mtime, 666);
	CHECK_ERR(utimensat(fd, "", ts, 0), ENOENT);
}

TEST(bad_nsec_einval)
{
	close(lt_file(lt_path("f"), ""));
	struct timespec ts[2] = {{0, 1000000000}, {0, 0}};
	CHECK_ERR(utimensat(AT_FDCWD, lt_path("f"), ts, 0), EINVAL);
	struct timespec neg[2] = {{0, 0}, {0, -1}};
	CHECK_ERR(utimensat(AT_FDCWD, lt_path("f"), neg, 0), EINVAL);
}

TEST(bad_flags_einval)
{
	close(lt_file(lt_path("f"), ""));
	CHECK_ERR(utimensat(AT_FDCWD, lt_path("f"), NULL, 0x1), EINVAL);
	CHECK_ERR(utimensat(AT_FDCWD, lt_path("f"), NULL, AT_REMOVEDIR), EINVAL);
}

TEST(null_path_uses_fd)
{
	/* The raw syscall with a NULL path and no flags works on the descriptor (what futimens does). */
	int fd = lt_file(lt_path("f"), "");
	struct timespec ts[2] = {{777, 0}, {888, 0}};
	CHECK_OK(syscall(SYS_utimensat, fd, NULL, ts, 0));
	CHECK_EQ(st_of(lt_path("f")).st_mtime, 888);
	CHECK_ERR(syscall(SYS_utimensat, AT_FDCWD, NULL, ts, 0), EFAULT);
	CHECK_ERR(syscall(SYS_utimensat, fd, NULL, ts, AT_SYMLINK_NOFOLLOW), EINVAL);
}

TEST(unprivileged_rules)
{
	close(lt_file(lt_path("w"), ""));
	REQUIRE_OK(chmod(lt_path("w"), 0666));
	close(lt_file(lt_path("r"), ""));
	REQUIRE_OK(chmod(lt_path("r"), 0644));
	REQUIRE_OK(chmod(lt_tmpdir(), 0755));
	int d = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	lt_drop_privs();
	/* Setting to now needs write access; explicit times need ownership. */
	CHECK_OK(utimensat(d, "w", NULL, 0));
	struct timespec now[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
	CHECK_OK(utimensat(d, "w", now, 0));
	struct timespec ts[2] = {{1, 0}, {2, 0}};
	CHECK_ERR(utimensat(d, "w", ts, 0), EPERM);
	CHECK_ERR(utimensat(d, "r", NULL, 0), EACCES);
	CHECK_ERR(utimensat(d, "r", ts, 0), EPERM);
	/* Omitting both is allowed without any permission. */
	struct timespec om[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
	CHECK_OK(utimensat(d, "r", om, 0));
}

TEST(legacy_utime_utimes)
{
	close(lt_file(lt_path("f"), ""));
	struct utimbuf ub = {10, 20};
	REQUIRE_OK(utime(lt_path("f"), &ub));
	CHECK_EQ(st_of(lt_path("f")).st_mtime, 20);
	struct timeval tv[2] = {{30, 5}, {40, 999999}};
	REQUIRE_OK(utimes(lt_path("f"), tv));
	struct stat st = st_of(lt_path("f"));
	CHECK_EQ(st.st_atime, 30);
	CHECK_EQ(st.st_mtim.tv_nsec, 999999000);
	struct timeval bad[2] = {{0, 1000000}, {0, 0}};
	CHECK_ERR(utimes(lt_path("f"), bad), EINVAL);
}

TEST(errors)
{
	struct timespec ts[2] = {{1, 0}, {2, 0}};
	CHECK_ERR(utimensat(AT_FDCWD, lt_path("missing"), ts, 0), ENOENT);
	CHECK_ERR(utimensat(12345, "x", ts, 0), EBADF);
	CHECK_ERR(futimens(-1, ts), EBADF);
	close(lt_file(lt_path("f"), ""));
	CHECK_ERR(utimensat(AT_FDCWD, lt_path("f"), lt_bad, 0), EFAULT);
	CHECK_ERR(utimensat(AT_FDCWD, lt_bad, ts, 0), EFAULT);
}

TEST(negative_and_large_seconds)
{
	close(lt_file(lt_path("f"), ""));
	struct timespec ts[2] = {{-100, 0}, {4000000000LL, 0}};
	REQUIRE_OK(utimensat(AT_FDCWD, lt_path("f"), ts, 0));
	struct stat st = st_of(lt_path("f"));
	CHECK_EQ(st.st_atime, -100);
	CHECK_EQ(st.st_mtime, 4000000000LL);
}

TEST(now_and_omit_mixed_needs_owner)
{
	/* Only "both now" (or NULL) is a touch that write access allows; NOW with OMIT sets times. */
	close(lt_file(lt_path("g"), ""));
	REQUIRE_OK(chown(lt_path("g"), 0, 65534));
	REQUIRE_OK(chmod(lt_path("g"), 0664));
	REQUIRE_OK(chmod(lt_tmpdir(), 0755));
	int d = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	int fd = REQUIRE_OK(open(lt_path("g"), O_RDONLY));
	lt_drop_privs();
	struct timespec now[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
	struct timespec mix[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
	CHECK_OK(futimens(fd, NULL));
	CHECK_OK(futimens(fd, now));
	CHECK_OK(utimensat(d, "g", now, 0));
	CHECK_ERR(futimens(fd, mix), EPERM);
	CHECK_ERR(utimensat(d, "g", mix, 0), EPERM);
}

TEST(truncate_by_writer_not_owner)
{
	/* A truncation's mtime update needs no ownership. */
	close(lt_file(lt_path("g"), "abc"));
	REQUIRE_OK(chmod(lt_path("g"), 0666));
	REQUIRE_OK(chmod(lt_tmpdir(), 0755));
	int d = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	lt_drop_privs();
	int fd = REQUIRE_OK(openat(d, "g", O_WRONLY));
	CHECK_OK(ftruncate(fd, 1));
	REQUIRE_OK(fchdir(d));
	CHECK_OK(truncate("g", 0));
}
