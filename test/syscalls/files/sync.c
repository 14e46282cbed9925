/* sync, syncfs, fsync, fdatasync, sync_file_range: success on files, errors on bad descriptors and arguments. */
#include "shm.h"

#include <sys/socket.h>
#include <sys/uio.h>

static void check_fsync(const char *path)
{
	int fd = lt_file(path, "data");
	CHECK_OK(fsync(fd));
	CHECK_OK(fdatasync(fd));
	int ro = REQUIRE_OK(open(path, O_RDONLY));
	/* A read-only descriptor may be synced too. */
	CHECK_OK(fsync(ro));
	CHECK_OK(fdatasync(ro));
	char buf[5] = {0};
	CHECK_EQ(pread(ro, buf, 4, 0), 4);
	CHECK_STREQ(buf, "data");
}

TEST(fsync_file) { check_fsync(lt_path("f")); }
TEST(fsync_file_tmpfs) { check_fsync(lt_shm_path("f")); }

TEST(fsync_directory)
{
	int d = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	CHECK_OK(fsync(d));
	CHECK_OK(fdatasync(d));
}

TEST(fsync_bad_fd)
{
	CHECK_ERR(fsync(-1), EBADF);
	CHECK_ERR(fdatasync(4567), EBADF);
	close(lt_file(lt_path("f"), ""));
	int p = REQUIRE_OK(open(lt_path("f"), O_PATH));
	CHECK_ERR(fsync(p), EBADF);
}

TEST(fsync_pipe_and_socket_einval)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	CHECK_ERR(fsync(p[0]), EINVAL);
	CHECK_ERR(fdatasync(p[1]), EINVAL);
	int sv[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_ERR(fsync(sv[0]), EINVAL);
	int n = REQUIRE_OK(open("/dev/null", O_WRONLY));
	CHECK_ERR(fsync(n), EINVAL);
}

TEST(fsync_proc_einval)
{
	/* proc files and directories have nothing to sync and no fsync: EINVAL. */
	int p = REQUIRE_OK(open("/proc/self/stat", O_RDONLY));
	CHECK_ERR(fsync(p), EINVAL);
	CHECK_ERR(fdatasync(p), EINVAL);
	int d = REQUIRE_OK(open("/proc/self", O_RDONLY | O_DIRECTORY));
	CHECK_ERR(fsync(d), EINVAL);
	int z = REQUIRE_OK(open("/dev/zero", O_RDONLY));
	CHECK_ERR(fsync(z), EINVAL);
}

TEST(sync_flags_on_pipe_write)
{
	/* O_SYNC-style writes to a pipe do not try to sync it. */
	int p[2];
	REQUIRE_OK(pipe(p));
	struct iovec v = {"ab", 2};
	CHECK_EQ(pwritev2(p[1], &v, 1, -1, RWF_SYNC), 2);
	CHECK_EQ(pwritev2(p[1], &v, 1, -1, RWF_DSYNC), 2);
}

TEST(sync_always_succeeds)
{
	sync();
	int fd = lt_file(lt_path("f"), "x");
	sync();
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_size, 1);
}

TEST(syncfs_any_fd)
{
	int fd = lt_file(lt_path("f"), "x");
	CHECK_OK(syncfs(fd));
	int t = lt_file(lt_shm_path("f"), "x");
	CHECK_OK(syncfs(t));
	int p[2];
	REQUIRE_OK(pipe(p));
	CHECK_OK(syncfs(p[0]));
	CHECK_ERR(syncfs(-1), EBADF);
}

TEST(sync_file_range_ok)
{
	int fd = lt_file(lt_path("f"), "0123456789");
	CHECK_OK(sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE));
	CHECK_OK(sync_file_range(fd, 0, 5, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER));
	CHECK_OK(sync_file_range(fd, 100, 100, 0));
	int t = lt_file(lt_shm_path("f"), "abc");
	CHECK_OK(sync_file_range(t, 0, 0, SYNC_FILE_RANGE_WRITE));
}

TEST(sync_file_range_einval)
{
	int fd = lt_file(lt_path("f"), "0123456789");
	CHECK_ERR(sync_file_range(fd, 0, 0, 8), EINVAL);
	CHECK_ERR(sync_file_range(fd, -1, 0, 0), EINVAL);
	CHECK_ERR(sync_file_range(fd, 0, -1, 0), EINVAL);
	CHECK_ERR(sync_file_range(fd, 0x7ffffffffffffff0LL, 0x100, 0), EINVAL);
}

TEST(sync_file_range_espipe_ebadf)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	CHECK_ERR(sync_file_range(p[1], 0, 0, SYNC_FILE_RANGE_WRITE), ESPIPE);
	CHECK_ERR(sync_file_range(-1, 0, 0, 0), EBADF);
	/* The descriptor is checked before the arguments. */
	CHECK_ERR(sync_file_range(-1, -1, 0, 8), EBADF);
	int d = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	CHECK_OK(sync_file_range(d, 0, 0, SYNC_FILE_RANGE_WAIT_AFTER));
	int n = REQUIRE_OK(open("/dev/null", O_WRONLY));
	CHECK_ERR(sync_file_range(n, 0, 0, 0), ESPIPE);
}

TEST(o_sync_writes)
{
	close(lt_file(lt_path("f"), ""));
	int fd = REQUIRE_OK(open(lt_path("f"), O_WRONLY | O_SYNC));
	CHECK_EQ(write(fd, "abc", 3), 3);
	int d = REQUIRE_OK(open(lt_path("f"), O_WRONLY | O_DSYNC | O_APPEND));
	CHECK_EQ(write(d, "de", 2), 2);
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_size, 5);
}
