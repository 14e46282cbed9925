/* chown, fchown, lchown, fchownat: owners and groups, -1, set-id clearing, permission rules, symlinks, errors. */
#include "shm.h"

static struct stat st_of(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		ABORT("lstat %s: %s", path, strerror(errno));
	return st;
}

static void check_chown(const char *path)
{
	close(lt_file(path, ""));
	REQUIRE_OK(chown(path, 1234, 5678));
	struct stat st = st_of(path);
	CHECK_EQ(st.st_uid, 1234);
	CHECK_EQ(st.st_gid, 5678);
	/* -1 leaves that id unchanged. */
	REQUIRE_OK(chown(path, -1, 42));
	st = st_of(path);
	CHECK_EQ(st.st_uid, 1234);
	CHECK_EQ(st.st_gid, 42);
	REQUIRE_OK(chown(path, 7, -1));
	st = st_of(path);
	CHECK_EQ(st.st_uid, 7);
	CHECK_EQ(st.st_gid, 42);
}

TEST(chown_sets_ids) { check_chown(lt_path("f")); }
TEST(chown_sets_ids_tmpfs) { check_chown(lt_shm_path("f")); }

TEST(fchown_and_fchownat)
{
	int fd = lt_file(lt_path("f"), "");
	REQUIRE_OK(fchown(fd, 11, 12));
	struct stat st = st_of(lt_path("f"));
	CHECK_EQ(st.st_uid, 11);
	CHECK_EQ(st.st_gid, 12);
	int d = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	REQUIRE_OK(fchownat(d, "f", 13, 14, 0));
	st = st_of(lt_path("f"));
	CHECK_EQ(st.st_uid, 13);
	CHECK_EQ(st.st_gid, 14);
}

TEST(lchown_changes_the_link)
{
	close(lt_file(lt_path("f"), ""));
	REQUIRE_OK(symlink("f", lt_path("l")));
	REQUIRE_OK(lchown(lt_path("l"), 21, 22));
	CHECK_EQ(st_of(lt_path("l")).st_uid, 21);
	CHECK_EQ(st_of(lt_path("f")).st_uid, 0);
	REQUIRE_OK(chown(lt_path("l"), 31, 32));
	CHECK_EQ(st_of(lt_path("f")).st_uid, 31);
	CHECK_EQ(st_of(lt_path("l")).st_uid, 21);
	REQUIRE_OK(fchownat(AT_FDCWD, lt_path("l"), 41, 42, AT_SYMLINK_NOFOLLOW));
	CHECK_EQ(st_of(lt_path("l")).st_gid, 42);
}

TEST(fchownat_empty_path)
{
	int fd = lt_file(lt_path("f"), "");
	REQUIRE_OK(fchownat(fd, "", 51, 52, AT_EMPTY_PATH));
	CHECK_EQ(st_of(lt_path("f")).st_uid, 51);
	CHECK_ERR(fchownat(fd, "", 51, 52, 0), ENOENT);
	/* O_PATH descriptors work with AT_EMPTY_PATH. */
	int p = REQUIRE_OK(open(lt_path("f"), O_PATH));
	CHECK_OK(fchownat(p, "", 61, 62, AT_EMPTY_PATH));
	CHECK_ERR(fchown(p, 1, 1), EBADF);
}

TEST(fchownat_bad_flags_einval)
{
	close(lt_file(lt_path("f"), ""));
	CHECK_ERR(fchownat(AT_FDCWD, lt_path("f"), 1, 1, 0x1), EINVAL);
	CHECK_ERR(fchownat(AT_FDCWD, lt_path("f"), 1, 1, AT_REMOVEDIR), EINVAL);
}

TEST(clears_setuid_setgid)
{
	close(lt_file(lt_path("f"), ""));
	REQUIRE_OK(chmod(lt_path("f"), 06755));
	REQUIRE_OK(chown(lt_path("f"), 1, 1));
	CHECK_EQ(st_of(lt_path("f")).st_mode & 07777, 0755);
	/* set-gid without group execute is mandatory locking, kept. */
	REQUIRE_OK(chmod(lt_path("f"), 02745));
	REQUIRE_OK(chown(lt_path("f"), 2, 2));
	CHECK_EQ(st_of(lt_path("f")).st_mode & 07777, 02745);
}

TEST(noop_chown_keeps_setuid_for_dirs)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0755));
	REQUIRE_OK(chmod(lt_path("d"), 02755));
	REQUIRE_OK(chown(lt_path("d"), 3, 3));
	/* Directories keep S_ISGID. */
	CHECK_EQ(st_of(lt_path("d")).st_mode & 07777, 02755);
}

TEST(unprivileged_cannot_give_away)
{
	close(lt_file(lt_path("f"), ""));
	REQUIRE_OK(chmod(lt_tmpdir(), 0755));
	REQUIRE_OK(chown(lt_path("f"), 65534, 65534));
	int d = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	lt_drop_privs();
	CHECK_ERR(fchownat(d, "f", 0, -1, 0), EPERM);
	/* To a group the owner is not in. */
	CHECK_ERR(fchownat(d, "f", -1, 0, 0), EPERM);
	/* No change at all is allowed. */
	CHECK_OK(fchownat(d, "f", 65534, 65534, 0));
	CHECK_OK(fchownat(d, "f", -1, -1, 0));
}

TEST(unprivileged_not_owner_eperm)
{
	close(lt_file(lt_path("f"), ""));
	REQUIRE_OK(chmod(lt_tmpdir(), 0755));
	int d = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	lt_drop_privs();
	CHECK_ERR(fchownat(d, "f", -1, 65534, 0), EPERM);
}

TEST(unprivileged_owner_to_own_group)
{
	close(lt_file(lt_path("f"), ""));
	REQUIRE_OK(chmod(lt_tmpdir(), 0755));
	REQUIRE_OK(chown(lt_path("f"), 65534, 0));
	REQUIRE_OK(chmod(lt_path("f"), 02775));
	int d = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	lt_drop_privs();
	CHECK_OK(fchownat(d, "f", -1, 65534, 0));
	struct stat st;
	REQUIRE_OK(fstatat(d, "f", &st, 0));
	CHECK_EQ(st.st_gid, 65534);
	/* An unprivileged chown clears set-gid. */
	CHECK_EQ(st.st_mode & 07777, 0775);
}

TEST(errors)
{
	CHECK_ERR(chown(lt_path("missing"), 1, 1), ENOENT);
	CHECK_ERR(lchown(lt_bad, 1, 1), EFAULT);
	CHECK_ERR(fchown(-1, 1, 1), EBADF);
	CHECK_ERR(fchownat(12345, "f", 1, 1, 0), EBADF);
	close(lt_file(lt_path("f"), ""));
	CHECK_ERR(chown(lt_path("f/"), 1, 1), ENOTDIR);
}

TEST(updates_ctime_only)
{
	int fd = lt_file(lt_path("f"), "");
	struct timespec old[2] = {{100, 0}, {100, 0}};
	REQUIRE_OK(futimens(fd, old));
	REQUIRE_OK(fchown(fd, 5, 5));
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_mtime, 100);
	CHECK_EQ(st.st_atime, 100);
	CHECK_GT(st.st_ctime, 100);
}
