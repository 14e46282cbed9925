/* lseek: SEEK_SET/CUR/END, past the end, negative offsets, non-seekable files. */
#include "shm.h"

#include <sys/socket.h>

static void check_whences(const char *path)
{
	int fd = lt_file(path, "0123456789");
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 10);
	CHECK_EQ(lseek(fd, 3, SEEK_SET), 3);
	CHECK_EQ(lseek(fd, 2, SEEK_CUR), 5);
	CHECK_EQ(lseek(fd, -1, SEEK_CUR), 4);
	CHECK_EQ(lseek(fd, -2, SEEK_END), 8);
	char c;
	CHECK_EQ(read(fd, &c, 1), 1);
	CHECK_EQ(c, '8');
	CHECK_EQ(lseek(fd, 0, SEEK_END), 10);
}

TEST(whences) { check_whences(lt_path("f")); }
TEST(whences_tmpfs) { check_whences(lt_shm_path("f")); }

TEST(past_end_then_write_makes_hole)
{
	int fd = lt_file(lt_path("f"), "ab");
	CHECK_EQ(lseek(fd, 100, SEEK_END), 102);
	CHECK_EQ(write(fd, "z", 1), 1);
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_size, 103);
	char buf[4];
	CHECK_EQ(pread(fd, buf, 4, 50), 4);
	CHECK_EQ(buf[0], 0);
	/* Reading past the end returns 0. */
	CHECK_EQ(lseek(fd, 1000, SEEK_SET), 1000);
	CHECK_EQ(read(fd, buf, 4), 0);
}

TEST(negative_result_einval)
{
	int fd = lt_file(lt_path("f"), "abc");
	CHECK_EQ(lseek(fd, 1, SEEK_SET), 1);
	CHECK_ERR(lseek(fd, -1, SEEK_SET), EINVAL);
	CHECK_ERR(lseek(fd, -5, SEEK_CUR), EINVAL);
	CHECK_ERR(lseek(fd, -4, SEEK_END), EINVAL);
	/* A failed seek leaves the offset alone. */
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 1);
}

TEST(bad_whence_einval)
{
	int fd = lt_file(lt_path("f"), "abc");
	CHECK_ERR(lseek(fd, 0, 5), EINVAL);
	CHECK_ERR(lseek(fd, 0, -1), EINVAL);
	CHECK_ERR(lseek(fd, 0, 100), EINVAL);
}

TEST(overflow_tmpfs)
{
	/* tmpfs files may be as large as an loff_t; ext4's limit is lower. */
	int fd = lt_file(lt_shm_path("f"), "abc");
	CHECK_EQ(lseek(fd, 0x7fffffffffffff00LL, SEEK_SET), 0x7fffffffffffff00LL);
	CHECK_ERR(lseek(fd, 0x1000, SEEK_CUR), EINVAL);
	CHECK_ERR(lseek(fd, 0x7fffffffffffffffLL, SEEK_END), EINVAL);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 0x7fffffffffffff00LL);
	char c;
	CHECK_EQ(read(fd, &c, 1), 0);
}

TEST(bad_fd)
{
	CHECK_ERR(lseek(-1, 0, SEEK_SET), EBADF);
	CHECK_ERR(lseek(4321, 0, SEEK_SET), EBADF);
}

TEST(pipe_and_socket_espipe)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	CHECK_ERR(lseek(p[0], 0, SEEK_CUR), ESPIPE);
	CHECK_ERR(lseek(p[1], 0, SEEK_SET), ESPIPE);
	int sv[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_ERR(lseek(sv[0], 0, SEEK_CUR), ESPIPE);
	REQUIRE_OK(mkfifo(lt_path("fifo"), 0600));
	int fifo = REQUIRE_OK(open(lt_path("fifo"), O_RDWR));
	CHECK_ERR(lseek(fifo, 0, SEEK_CUR), ESPIPE);
}

TEST(dev_null_and_zero)
{
	int n = REQUIRE_OK(open("/dev/null", O_RDWR));
	CHECK_EQ(lseek(n, 100, SEEK_SET), 0);
	CHECK_EQ(lseek(n, 100, SEEK_END), 0);
	int z = REQUIRE_OK(open("/dev/zero", O_RDONLY));
	CHECK_EQ(lseek(z, 100, SEEK_SET), 0);
}

TEST(directory_rewind)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	int d = REQUIRE_OK(open(lt_path("d"), O_RDONLY | O_DIRECTORY));
	CHECK_EQ(lseek(d, 0, SEEK_SET), 0);
	CHECK_EQ(lseek(d, 0, SEEK_CUR), 0);
}

TEST(shared_across_fork)
{
	int fd = lt_file(lt_path("f"), "0123456789");
	CHECK_EQ(lseek(fd, 2, SEEK_SET), 2);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(lseek(fd, 7, SEEK_SET) == 7 ? 0 : 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 7);
}

TEST(independent_opens)
{
	int a = lt_file(lt_path("f"), "0123456789");
	int b = REQUIRE_OK(open(lt_path("f"), O_RDONLY));
	CHECK_EQ(lseek(a, 4, SEEK_SET), 4);
	CHECK_EQ(lseek(b, 0, SEEK_CUR), 0);
}

TEST(proc_file_seek)
{
	int fd = REQUIRE_OK(open("/proc/self/stat", O_RDONLY));
	char buf[8];
	CHECK_EQ(read(fd, buf, 4), 4);
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	char again[8];
	CHECK_EQ(read(fd, again, 4), 4);
	CHECK_MEMEQ(buf, again, 4);
}
