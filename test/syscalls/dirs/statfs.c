/* statfs, fstatfs: file system types and fields glibc and df rely on. */
#include "lt.h"
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>

#define TMPFS_MAGIC 0x01021994
#define PROC_SUPER_MAGIC 0x9fa0
#define DEVPTS_SUPER_MAGIC 0x1cd1

TEST(tmpfs_type)
{
	struct statfs sf;
	REQUIRE_OK(statfs("/dev/shm", &sf));
	CHECK_EQ(sf.f_type, TMPFS_MAGIC);
	CHECK_GT(sf.f_bsize, 0);
	CHECK_GT(sf.f_blocks, 0);
	CHECK_LE(sf.f_bfree, sf.f_blocks);
	CHECK_LE(sf.f_bavail, sf.f_bfree);
	CHECK_EQ(sf.f_namelen, 255);
}

TEST(proc_type)
{
	struct statfs sf;
	REQUIRE_OK(statfs("/proc", &sf));
	CHECK_EQ(sf.f_type, PROC_SUPER_MAGIC);
	REQUIRE_OK(statfs("/proc/self/status", &sf));
	CHECK_EQ(sf.f_type, PROC_SUPER_MAGIC);
}

TEST(devpts_type)
{
	struct statfs sf;
	REQUIRE_OK(statfs("/dev/pts", &sf));
	CHECK_EQ(sf.f_type, DEVPTS_SUPER_MAGIC);
}

TEST(dev_is_tmpfs_like)
{
	struct statfs sf;
	REQUIRE_OK(statfs("/dev/null", &sf));
	CHECK_EQ(sf.f_type, TMPFS_MAGIC);
}

TEST(fstatfs_matches_statfs)
{
	struct statfs a, b;
	REQUIRE_OK(statfs("/dev/shm", &a));
	int fd = REQUIRE_OK(open("/dev/shm", O_RDONLY | O_DIRECTORY));
	REQUIRE_OK(fstatfs(fd, &b));
	CHECK_EQ(a.f_type, b.f_type);
	CHECK_EQ(a.f_bsize, b.f_bsize);
	CHECK_EQ(a.f_blocks, b.f_blocks);
	CHECK_EQ(a.f_namelen, b.f_namelen);
}

TEST(fstatfs_on_opath_fd)
{
	int fd = REQUIRE_OK(open("/proc", O_PATH));
	struct statfs sf;
	REQUIRE_OK(fstatfs(fd, &sf));
	CHECK_EQ(sf.f_type, PROC_SUPER_MAGIC);
}

TEST(scratch_fs_sane)
{
	struct statfs sf;
	REQUIRE_OK(statfs(lt_tmpdir(), &sf));
	CHECK_NE(sf.f_type, 0);
	CHECK_GT(sf.f_bsize, 0);
	CHECK_GT(sf.f_namelen, 0);
	CHECK_LE(sf.f_bfree, sf.f_blocks);
}

TEST(tmpfs_usage_grows)
{
	char p[64];
	snprintf(p, sizeof(p), "/dev/shm/lt-statfs-%d", getpid());
	struct statfs before, after;
	REQUIRE_OK(statfs("/dev/shm", &before));
	int fd = REQUIRE_OK(open(p, O_CREAT | O_RDWR | O_TRUNC, 0600));
	unlink(p);
	static char buf[1 << 20];
	memset(buf, 1, sizeof(buf));
	for (int i = 0; i < 8; i++)
		REQUIRE_EQ(write(fd, buf, sizeof(buf)), sizeof(buf));
	REQUIRE_OK(statfs("/dev/shm", &after));
	/* 8 MiB fewer free blocks, give or take other users of /dev/shm. */
	long long used = (long long)(before.f_bfree - after.f_bfree) * after.f_bsize;
	CHECK_GE(used, 6 << 20);
	close(fd);
}

TEST(errors)
{
	struct statfs sf;
	CHECK_ERR(statfs(lt_path("none"), &sf), ENOENT);
	CHECK_ERR(statfs("", &sf), ENOENT);
	CHECK_ERR(fstatfs(-1, &sf), EBADF);
	CHECK_ERR(fstatfs(9999, &sf), EBADF);
	int fd = REQUIRE_OK(open(lt_path("f"), O_CREAT | O_RDWR, 0600));
	close(fd);
	char p[4200];
	snprintf(p, sizeof(p), "%s/x", lt_path("f"));
	CHECK_ERR(statfs(p, &sf), ENOTDIR);
}

TEST(efault)
{
	CHECK_ERR(syscall(SYS_statfs, "/", (void *)1), EFAULT);
	CHECK_ERR(syscall(SYS_statfs, (char *)1, (void *)&(struct statfs){0}), EFAULT);
	int fd = REQUIRE_OK(open("/", O_RDONLY));
	CHECK_ERR(syscall(SYS_fstatfs, fd, (void *)1), EFAULT);
}

TEST(statvfs_proc_flags)
{
	struct statvfs sv;
	REQUIRE_OK(statvfs("/proc", &sv));
	CHECK(sv.f_flag & ST_NOSUID);
	CHECK(sv.f_flag & ST_NODEV);
	CHECK(sv.f_flag & ST_NOEXEC);
	CHECK_EQ(sv.f_namemax, 255);
}

TEST(pipe_fstatfs)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	struct statfs sf;
	REQUIRE_OK(fstatfs(p[0], &sf));
	CHECK_EQ(sf.f_type, 0x50495045); /* PIPEFS_MAGIC */
}
