/* preadv2 and pwritev2: offset -1 (the file offset), RWF_APPEND, RWF_NOAPPEND, RWF_NOWAIT, RWF_[D]SYNC, RWF_HIPRI, unknown flags. */
#include "shm.h"

#include <sys/socket.h>
#include <sys/uio.h>

#ifndef RWF_NOAPPEND
#define RWF_NOAPPEND 0x20
#endif
#ifndef RWF_DONTCACHE
#define RWF_DONTCACHE 0x80
#endif

static ssize_t wr(int fd, const char *s, off_t off, int flags)
{
	struct iovec v = {(void *)s, strlen(s)};
	return pwritev2(fd, &v, 1, off, flags);
}

static ssize_t rd(int fd, char *buf, size_t n, off_t off, int flags)
{
	struct iovec v = {buf, n};
	return preadv2(fd, &v, 1, off, flags);
}

static void check_offset_minus_one(const char *path)
{
	int fd = lt_file(path, "0123456789");
	REQUIRE_EQ(lseek(fd, 3, SEEK_SET), 3);
	char buf[16] = {0};
	CHECK_EQ(rd(fd, buf, 2, -1, 0), 2);
	CHECK_STREQ(buf, "34");
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 5);
	CHECK_EQ(wr(fd, "ab", -1, 0), 2);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 7);
	/* An explicit offset leaves the file offset alone. */
	CHECK_EQ(rd(fd, buf, 2, 0, 0), 2);
	CHECK_EQ(wr(fd, "Z", 9, 0), 1);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 7);
	CHECK_EQ(pread(fd, buf, 10, 0), 10);
	CHECK_MEMEQ(buf, "01234ab78Z", 10);
}

TEST(offset_minus_one) { check_offset_minus_one(lt_path("f")); }
TEST(offset_minus_one_tmpfs) { check_offset_minus_one(lt_shm_path("f")); }

TEST(other_negative_offset_einval)
{
	int fd = lt_file(lt_path("f"), "abc");
	char c;
	CHECK_ERR(rd(fd, &c, 1, -2, 0), EINVAL);
	CHECK_ERR(wr(fd, "x", -2, 0), EINVAL);
}

static void check_rwf_append(const char *path)
{
	int fd = lt_file(path, "abc");
	/* With an explicit offset: appended, file offset unchanged. */
	REQUIRE_EQ(lseek(fd, 1, SEEK_SET), 1);
	CHECK_EQ(wr(fd, "XY", 0, RWF_APPEND), 2);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 1);
	/* At the file offset: appended, and the offset moves to the new end. */
	CHECK_EQ(wr(fd, "Z", -1, RWF_APPEND), 1);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 6);
	char buf[8] = {0};
	CHECK_EQ(pread(fd, buf, sizeof(buf), 0), 6);
	CHECK_STREQ(buf, "abcXYZ");
	/* The flag applies to this call only. */
	CHECK_EQ(fcntl(fd, F_GETFL) & O_APPEND, 0);
	CHECK_EQ(pwrite(fd, "_", 1, 0), 1);
}

TEST(rwf_append) { check_rwf_append(lt_path("f")); }
TEST(rwf_append_tmpfs) { check_rwf_append(lt_shm_path("f")); }

TEST(rwf_noappend_on_append_file)
{
	close(lt_file(lt_path("f"), "abcdef"));
	int fd = REQUIRE_OK(open(lt_path("f"), O_RDWR | O_APPEND));
	CHECK_EQ(wr(fd, "X", 1, RWF_NOAPPEND), 1);
	char buf[8] = {0};
	CHECK_EQ(pread(fd, buf, sizeof(buf), 0), 6);
	CHECK_STREQ(buf, "aXcdef");
	/* Both at once are EINVAL. */
	CHECK_ERR(wr(fd, "X", 1, RWF_NOAPPEND | RWF_APPEND), EINVAL);
}

TEST(rwf_nowait_pipe)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	char c;
	/* An empty blocking pipe: RWF_NOWAIT makes it EAGAIN instead of a wait. */
	CHECK_ERR(rd(p[0], &c, 1, -1, RWF_NOWAIT), EAGAIN);
	CHECK_EQ(fcntl(p[0], F_GETFL) & O_NONBLOCK, 0);
	REQUIRE_EQ(write(p[1], "q", 1), 1);
	CHECK_EQ(rd(p[0], &c, 1, -1, RWF_NOWAIT), 1);
	CHECK_EQ(c, 'q');
}

TEST(rwf_nowait_pipe_full)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	int sz = REQUIRE_OK(fcntl(p[1], F_GETPIPE_SZ));
	char *buf = calloc(1, sz);
	REQUIRE(buf != NULL);
	REQUIRE_OK(fcntl(p[1], F_SETFL, O_NONBLOCK));
	REQUIRE_EQ(write(p[1], buf, sz), sz);
	REQUIRE_OK(fcntl(p[1], F_SETFL, 0));
	CHECK_ERR(wr(p[1], "x", -1, RWF_NOWAIT), EAGAIN);
}

TEST(rwf_nowait_tmpfs_and_proc_eopnotsupp)
{
	/* tmpfs and proc files cannot do non-blocking I/O (no FMODE_NOWAIT). */
	int fd = lt_file(lt_shm_path("f"), "hello");
	char buf[8] = {0};
	CHECK_ERR(rd(fd, buf, 5, 0, RWF_NOWAIT), EOPNOTSUPP);
	CHECK_ERR(wr(fd, "x", 0, RWF_NOWAIT), EOPNOTSUPP);
	CHECK_EQ(rd(fd, buf, 5, 0, 0), 5);
	int p = REQUIRE_OK(open("/proc/self/stat", O_RDONLY));
	CHECK_ERR(rd(p, buf, 4, -1, RWF_NOWAIT), EOPNOTSUPP);
}

TEST(rwf_nowait_devices_and_sockets)
{
	int n = REQUIRE_OK(open("/dev/null", O_RDWR));
	char buf[8];
	CHECK_EQ(wr(n, "xy", -1, RWF_NOWAIT), 2);
	CHECK_EQ(rd(n, buf, 4, -1, RWF_NOWAIT), 0);
	int sv[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_EQ(wr(sv[0], "ab", -1, RWF_NOWAIT), 2);
	CHECK_EQ(rd(sv[1], buf, 4, -1, RWF_NOWAIT), 2);
	CHECK_ERR(rd(sv[1], buf, 4, -1, RWF_NOWAIT), EAGAIN);
}

TEST(rwf_sync_flags)
{
	int fd = lt_file(lt_path("f"), "");
	CHECK_EQ(wr(fd, "a", 0, RWF_DSYNC), 1);
	CHECK_EQ(wr(fd, "b", 1, RWF_SYNC), 1);
	CHECK_EQ(wr(fd, "c", 2, RWF_HIPRI), 1);
	char buf[4] = {0};
	CHECK_EQ(rd(fd, buf, 3, 0, RWF_HIPRI), 3);
	CHECK_STREQ(buf, "abc");
}

TEST(unknown_flags_eopnotsupp)
{
	int fd = lt_file(lt_path("f"), "abc");
	char c;
	CHECK_ERR(rd(fd, &c, 1, 0, 0x10000), EOPNOTSUPP);
	CHECK_ERR(wr(fd, "x", 0, 0x10000), EOPNOTSUPP);
	CHECK_ERR(rd(fd, &c, 1, 0, -1), EOPNOTSUPP);
}

TEST(dontcache_tmpfs_eopnotsupp)
{
	int fd = lt_file(lt_shm_path("f"), "abc");
	char c;
	CHECK_ERR(rd(fd, &c, 1, 0, RWF_DONTCACHE), EOPNOTSUPP);
}

TEST(bad_fd_and_pipe_offset)
{
	char c;
	CHECK_ERR(rd(-1, &c, 1, -1, 0), EBADF);
	int p[2];
	REQUIRE_OK(pipe(p));
	CHECK_ERR(wr(p[1], "x", 0, 0), ESPIPE);
	CHECK_EQ(wr(p[1], "x", -1, 0), 1);
	CHECK_EQ(rd(p[0], &c, 1, -1, 0), 1);
}

TEST(bad_fd_before_flags)
{
	/* The descriptor is looked up before the flags are checked. */
	char c;
	CHECK_ERR(rd(-1, &c, 1, 0, 0x10000), EBADF);
}

TEST(empty_vectors_skip_flag_check)
{
	/* With nothing to transfer Linux returns 0 before looking at the flags. */
	int fd = lt_file(lt_path("f"), "abc");
	char c;
	CHECK_EQ(rd(fd, &c, 0, 0, 0x10000), 0);
	CHECK_EQ(wr(fd, "", 0, 0x10000), 0);
}
