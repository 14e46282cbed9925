/* statx: the mask, each field against stat, flags, sync modes and errors. */
#include "shm.h"

#include <sys/syscall.h>
#include <sys/sysmacros.h>

static void check_against_stat(const char *path)
{
	close(lt_file(path, "hello"));
	struct statx sx;
	struct stat st;
	REQUIRE_OK(statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, &sx));
	REQUIRE_OK(stat(path, &st));
	CHECK_EQ(sx.stx_mask & STATX_BASIC_STATS, STATX_BASIC_STATS);
	CHECK_EQ(sx.stx_mode, st.st_mode);
	CHECK_EQ(sx.stx_size, 5);
	CHECK_EQ(sx.stx_nlink, st.st_nlink);
	CHECK_EQ(sx.stx_uid, st.st_uid);
	CHECK_EQ(sx.stx_gid, st.st_gid);
	CHECK_EQ(sx.stx_ino, st.st_ino);
	CHECK_EQ(sx.stx_blocks, st.st_blocks);
	CHECK_EQ(sx.stx_blksize, st.st_blksize);
	CHECK_EQ(makedev(sx.stx_dev_major, sx.stx_dev_minor), st.st_dev);
	CHECK_EQ(sx.stx_mtime.tv_sec, st.st_mtim.tv_sec);
	CHECK_EQ(sx.stx_mtime.tv_nsec, st.st_mtim.tv_nsec);
	CHECK_EQ(sx.stx_atime.tv_sec, st.st_atim.tv_sec);
	CHECK_EQ(sx.stx_ctime.tv_nsec, st.st_ctim.tv_nsec);
}

TEST(matches_stat) { check_against_stat(lt_path("f")); }
TEST(matches_stat_tmpfs) { check_against_stat(lt_shm_path("f")); }

TEST(device_numbers)
{
	struct statx sx;
	REQUIRE_OK(statx(AT_FDCWD, "/dev/null", 0, STATX_TYPE, &sx));
	CHECK(S_ISCHR(sx.stx_mode));
	CHECK_EQ(sx.stx_rdev_major, 1);
	CHECK_EQ(sx.stx_rdev_minor, 3);
}

TEST(mask_zero_still_fills)
{
	close(lt_file(lt_path("f"), "abc"));
	struct statx sx;
	memset(&sx, 0xff, sizeof(sx));
	REQUIRE_OK(statx(AT_FDCWD, lt_path("f"), 0, 0, &sx));
	/* Unasked fields may be filled anyway; the reserved bit never. */
	CHECK_EQ(sx.stx_mask & STATX__RESERVED, 0);
	CHECK_EQ(sx.__spare0[0], 0);
}

TEST(reserved_mask_einval)
{
	close(lt_file(lt_path("f"), "abc"));
	struct statx sx;
	CHECK_ERR(statx(AT_FDCWD, lt_path("f"), 0, STATX__RESERVED, &sx), EINVAL);
}

TEST(bad_flags_einval)
{
	close(lt_file(lt_path("f"), "abc"));
	struct statx sx;
	CHECK_ERR(statx(AT_FDCWD, lt_path("f"), 0x10000000, STATX_ALL, &sx), EINVAL);
	/* FORCE_SYNC and DONT_SYNC together are invalid. */
	CHECK_ERR(statx(AT_FDCWD, lt_path("f"), AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC, STATX_ALL, &sx),
		  EINVAL);
	CHECK_OK(statx(AT_FDCWD, lt_path("f"), AT_STATX_FORCE_SYNC, STATX_ALL, &sx));
	CHECK_OK(statx(AT_FDCWD, lt_path("f"), AT_STATX_DONT_SYNC, STATX_ALL, &sx));
}

TEST(symlink_nofollow)
{
	close(lt_file(lt_path("f"), "abc"));
	REQUIRE_OK(symlink("f", lt_path("l")));
	struct statx sx;
	REQUIRE_OK(statx(AT_FDCWD, lt_path("l"), AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_SIZE, &sx));
	CHECK(S_ISLNK(sx.stx_mode));
	CHECK_EQ(sx.stx_size, 1);
	REQUIRE_OK(statx(AT_FDCWD, lt_path("l"), 0, STATX_TYPE | STATX_SIZE, &sx));
	CHECK(S_ISREG(sx.stx_mode));
	CHECK_EQ(sx.stx_size, 3);
}

TEST(empty_path)
{
	close(lt_file(lt_path("f"), "abcdef"));
	int fd = REQUIRE_OK(open(lt_path("f"), O_RDONLY));
	struct statx sx;
	REQUIRE_OK(statx(fd, "", AT_EMPTY_PATH, STATX_SIZE, &sx));
	CHECK_EQ(sx.stx_size, 6);
	CHECK_ERR(statx(fd, "", 0, STATX_SIZE, &sx), ENOENT);
	CHECK_ERR(statx(fd, "x", 0, STATX_SIZE, &sx), ENOTDIR);
}

TEST(btime_if_reported)
{
	close(lt_file(lt_path("f"), "abc"));
	struct statx sx;
	REQUIRE_OK(statx(AT_FDCWD, lt_path("f"), 0, STATX_BTIME | STATX_MTIME, &sx));
	if (sx.stx_mask & STATX_BTIME) {
		CHECK_GT(sx.stx_btime.tv_sec, 0);
		CHECK_LE(sx.stx_btime.tv_sec, sx.stx_mtime.tv_sec);
	}
	CHECK_NE(sx.stx_mask & STATX_MTIME, 0);
}

TEST(directory_and_attributes)
{
	struct statx sx;
	REQUIRE_OK(statx(AT_FDCWD, lt_tmpdir(), 0, STATX_ALL, &sx));
	CHECK(S_ISDIR(sx.stx_mode));
	CHECK_GE(sx.stx_nlink, 2);
	/* Reported attributes are a subset of the supported ones. */
	CHECK_EQ(sx.stx_attributes & ~sx.stx_attributes_mask, 0);
}

TEST(mount_id)
{
	struct statx a, b;
	REQUIRE_OK(statx(AT_FDCWD, "/", 0, STATX_MNT_ID, &a));
	REQUIRE_OK(statx(AT_FDCWD, "/proc", 0, STATX_MNT_ID, &b));
	if ((a.stx_mask & STATX_MNT_ID) && (b.stx_mask & STATX_MNT_ID))
		CHECK_NE(a.stx_mnt_id, b.stx_mnt_id);
	else
		FAIL("STATX_MNT_ID not reported (mask %#x)", a.stx_mask);
}

TEST(errors)
{
	struct statx sx;
	CHECK_ERR(statx(AT_FDCWD, lt_path("missing"), 0, STATX_ALL, &sx), ENOENT);
	CHECK_ERR(statx(12345, "x", 0, STATX_ALL, &sx), EBADF);
	CHECK_ERR(statx(AT_FDCWD, lt_tmpdir(), 0, STATX_ALL, (struct statx *)1), EFAULT);
	CHECK_ERR(statx(AT_FDCWD, (char *)1, 0, STATX_ALL, &sx), EFAULT);
}

TEST(pipe_via_empty_path)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	struct statx sx;
	REQUIRE_OK(statx(p[0], "", AT_EMPTY_PATH, STATX_TYPE, &sx));
	CHECK(S_ISFIFO(sx.stx_mode));
}

TEST(null_path_with_empty_path)
{
	/* Since Linux 6.11 a NULL path with AT_EMPTY_PATH means the fd itself. */
	close(lt_file(lt_path("f"), "ab"));
	int fd = REQUIRE_OK(open(lt_path("f"), O_RDONLY));
	struct statx sx;
	REQUIRE_OK(syscall(SYS_statx, fd, NULL, AT_EMPTY_PATH, STATX_SIZE, &sx));
	CHECK_EQ(sx.stx_size, 2);
}

TEST(mount_root_attribute)
{
	struct statx sx;
	REQUIRE_OK(statx(AT_FDCWD, "/proc", 0, STATX_BASIC_STATS, &sx));
	CHECK_NE(sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT, 0);
	CHECK_NE(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT, 0);
	REQUIRE_OK(statx(AT_FDCWD, "/proc/self", 0, STATX_BASIC_STATS, &sx));
	CHECK_EQ(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT, 0);
	REQUIRE_OK(statx(AT_FDCWD, lt_tmpdir(), 0, STATX_BASIC_STATS, &sx));
	CHECK_EQ(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT, 0);
}

TEST(tmpfs_attributes_mask)
{
	int fd = lt_file(lt_shm_path("f"), "");
	struct statx sx;
	REQUIRE_OK(statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx));
	unsigned long long want = STATX_ATTR_APPEND | STATX_ATTR_IMMUTABLE | STATX_ATTR_NODUMP | STATX_ATTR_MOUNT_ROOT;
	CHECK_EQ(sx.stx_attributes_mask & want, want);
	CHECK_EQ(sx.stx_attributes, 0);
	REQUIRE_OK(statx(AT_FDCWD, "/dev/shm", 0, STATX_BASIC_STATS, &sx));
	CHECK_NE(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT, 0);
}

TEST(btime_only_when_requested_tmpfs)
{
	int fd = lt_file(lt_shm_path("f"), "");
	struct statx sx;
	memset(&sx, 0xff, sizeof(sx));
	REQUIRE_OK(statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx));
	CHECK_EQ(sx.stx_mask & STATX_BTIME, 0);
	CHECK_EQ(sx.stx_btime.tv_sec, 0);
	REQUIRE_OK(statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_BTIME, &sx));
	CHECK_NE(sx.stx_mask & STATX_BTIME, 0);
	CHECK_GT(sx.stx_btime.tv_sec, 0);
}

TEST(mnt_id_unique_on_request)
{
	struct statx a, b;
	REQUIRE_OK(statx(AT_FDCWD, "/proc", 0, STATX_BASIC_STATS | 0x4000 /* STATX_MNT_ID_UNIQUE */, &a));
	CHECK_EQ(a.stx_mask & (0x4000 | STATX_MNT_ID), 0x4000);
	REQUIRE_OK(statx(AT_FDCWD, "/proc/self", 0, STATX_BASIC_STATS | 0x4000, &b));
	CHECK_EQ(a.stx_mnt_id, b.stx_mnt_id);
	REQUIRE_OK(statx(AT_FDCWD, "/", 0, STATX_BASIC_STATS | 0x4000, &b));
	CHECK_NE(a.stx_mnt_id, b.stx_mnt_id);
}
