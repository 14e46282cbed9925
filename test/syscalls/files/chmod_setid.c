/* Set-ID bits: cleared by unprivileged writes, truncation and fallocate (set-group-ID only when group-executable), kept for CAP_FSETID; set-group-ID directories pass their group on. */
#include "shm.h"

#include <linux/falloc.h>
#include <sys/uio.h>

static mode_t mode_at(int d, const char *name)
{
	struct stat st;
	if (fstatat(d, name, &st, 0) < 0)
		ABORT("stat %s: %s", name, strerror(errno));
	return st.st_mode & 07777;
}

/* owned makes lt_path(name) a file of nobody with the given mode. */
static void owned(const char *name, mode_t mode)
{
	close(lt_file(lt_path(name), ""));
	REQUIRE_OK(chown(lt_path(name), 65534, 65534));
	REQUIRE_OK(chmod(lt_path(name), mode));
}

static int scratch(void)
{
	REQUIRE_OK(chmod(lt_tmpdir(), 0777));
	return REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
}

TEST(write_clears_setuid_and_setgid)
{
	int d = scratch();
	owned("f", 06777);
	lt_drop_privs();
	int fd = REQUIRE_OK(openat(d, "f", O_WRONLY));
	CHECK_EQ(mode_at(d, "f"), 06777); /* opening does not */
	CHECK_EQ(write(fd, "x", 1), 1);
	CHECK_EQ(mode_at(d, "f"), 0777);
}

TEST(setgid_without_group_exec_kept)
{
	int d = scratch();
	owned("f", 06767);
	lt_drop_privs();
	int fd = REQUIRE_OK(openat(d, "f", O_WRONLY));
	struct iovec v = {"xy", 2};
	CHECK_EQ(pwritev(fd, &v, 1, 10), 2);
	CHECK_EQ(mode_at(d, "f"), 02767);
}

TEST(truncate_clears)
{
	int d = scratch();
	owned("f", 04755);
	owned("g", 02775);
	lt_drop_privs();
	int fd = REQUIRE_OK(openat(d, "f", O_WRONLY));
	CHECK_OK(ftruncate(fd, 10));
	CHECK_EQ(mode_at(d, "f"), 0755);
	REQUIRE_OK(fchdir(d));
	CHECK_OK(truncate("g", 5));
	CHECK_EQ(mode_at(d, "g"), 0775);
}

TEST(fallocate_clears_tmpfs)
{
	int fd = lt_file(lt_shm_path("f"), "");
	REQUIRE_OK(fchown(fd, 65534, 65534));
	REQUIRE_OK(fchmod(fd, 06777));
	lt_drop_privs();
	CHECK_OK(fallocate(fd, 0, 0, 4096));
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_mode & 07777, 0777);
}

TEST(root_write_keeps_bits)
{
	int fd = lt_file(lt_path("f"), "");
	REQUIRE_OK(fchmod(fd, 06755));
	CHECK_EQ(write(fd, "x", 1), 1);
	CHECK_OK(ftruncate(fd, 0));
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_mode & 07777, 06755);
}

TEST(empty_write_keeps_bits)
{
	int d = scratch();
	owned("f", 06777);
	lt_drop_privs();
	int fd = REQUIRE_OK(openat(d, "f", O_WRONLY));
	CHECK_EQ(write(fd, "", 0), 0);
	CHECK_EQ(mode_at(d, "f"), 06777);
}

TEST(setgid_directory_passes_group)
{
	REQUIRE_OK(mkdir(lt_path("sg"), 0777));
	REQUIRE_OK(chown(lt_path("sg"), 0, 100));
	REQUIRE_OK(chmod(lt_path("sg"), 02777));
	close(lt_file(lt_path("sg/f"), ""));
	REQUIRE_OK(mkdir(lt_path("sg/sub"), 0755));
	struct stat st;
	REQUIRE_OK(stat(lt_path("sg/f"), &st));
	CHECK_EQ(st.st_gid, 100);
	CHECK_EQ(st.st_mode & 02000, 0);
	REQUIRE_OK(stat(lt_path("sg/sub"), &st));
	CHECK_EQ(st.st_gid, 100);
	/* Subdirectories inherit the set-group-ID bit. */
	CHECK_EQ(st.st_mode & 07777, 02755);
}

TEST(setgid_stripped_on_create_outside_group)
{
	REQUIRE_OK(mkdir(lt_path("sg"), 0777));
	REQUIRE_OK(chown(lt_path("sg"), 0, 100));
	REQUIRE_OK(chmod(lt_path("sg"), 02777));
	int d = scratch();
	lt_drop_privs();
	/* The new file's group is 100, which nobody is not in: S_ISGID is dropped. */
	close(REQUIRE_OK(openat(d, "sg/g", O_CREAT | O_WRONLY, 02755)));
	struct stat st;
	REQUIRE_OK(fstatat(d, "sg/g", &st, 0));
	CHECK_EQ(st.st_gid, 100);
	CHECK_EQ(st.st_mode & 07777, 0755);
	/* In its own group it stays. */
	close(REQUIRE_OK(openat(d, "own", O_CREAT | O_WRONLY, 02755)));
	CHECK_EQ(mode_at(d, "own"), 02755);
}
