/* /dev/null, zero, full, random, urandom: device numbers and semantics. */
#include "lt.h"
#include <poll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

static void check_dev(const char *path, unsigned maj, unsigned min)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		FAIL("stat %s: %s", path, strerror(errno));
		return;
	}
	CHECK(S_ISCHR(st.st_mode));
	CHECK_EQ(major(st.st_rdev), maj);
	CHECK_EQ(minor(st.st_rdev), min);
	CHECK_EQ(st.st_mode & 0777, 0666);
}

TEST(device_numbers)
{
	check_dev("/dev/null", 1, 3);
	check_dev("/dev/zero", 1, 5);
	check_dev("/dev/full", 1, 7);
	check_dev("/dev/random", 1, 8);
	check_dev("/dev/urandom", 1, 9);
	check_dev("/dev/tty", 5, 0);
}

TEST(null_reads_eof_writes_vanish)
{
	int fd = REQUIRE_OK(open("/dev/null", O_RDWR));
	char buf[16];
	CHECK_EQ(read(fd, buf, sizeof(buf)), 0);
	CHECK_EQ(write(fd, "discard", 7), 7);
	CHECK_EQ(pwrite(fd, "x", 1, 1000), 1);
	CHECK_EQ(lseek(fd, 123, SEEK_SET), 0);
	static char big[1 << 20];
	CHECK_EQ(write(fd, big, sizeof(big)), sizeof(big));
}

TEST(zero_reads_zeros)
{
	int fd = REQUIRE_OK(open("/dev/zero", O_RDWR));
	char buf[4096];
	memset(buf, 0xff, sizeof(buf));
	CHECK_EQ(read(fd, buf, sizeof(buf)), sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		if (buf[i] != 0)
			ABORT("byte %zu is %d", i, buf[i]);
	CHECK_EQ(write(fd, "x", 1), 1);
	CHECK_EQ(pread(fd, buf, 10, 1 << 20), 10);
}

TEST(zero_mmap_private_and_shared)
{
	int fd = REQUIRE_OK(open("/dev/zero", O_RDWR));
	char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	REQUIRE(p != MAP_FAILED);
	CHECK_EQ(p[0], 0);
	CHECK_EQ(p[8191], 0);
	p[0] = 1;
	char *s = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE(s != MAP_FAILED);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		s[0] = 42;
		_exit(0);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
	/* Shared /dev/zero memory is shared with the child. */
	CHECK_EQ(s[0], 42);
}

TEST(full_write_enospc)
{
	int fd = REQUIRE_OK(open("/dev/full", O_RDWR));
	CHECK_ERR(write(fd, "x", 1), ENOSPC);
	/* Even a write of nothing. */
	CHECK_ERR(write(fd, "", 0), ENOSPC);
	char buf[64];
	memset(buf, 1, sizeof(buf));
	CHECK_EQ(read(fd, buf, sizeof(buf)), sizeof(buf));
	CHECK_EQ(buf[0], 0);
	CHECK_EQ(buf[63], 0);
	CHECK_EQ(lseek(fd, 0, SEEK_END), 0);
}

TEST(urandom_reads_varied_bytes)
{
	int fd = REQUIRE_OK(open("/dev/urandom", O_RDONLY));
	unsigned char a[256], b[256];
	CHECK_EQ(read(fd, a, sizeof(a)), sizeof(a));
	CHECK_EQ(read(fd, b, sizeof(b)), sizeof(b));
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	int counts[256] = {0};
	for (size_t i = 0; i < sizeof(a); i++)
		counts[a[i]]++;
	int distinct = 0;
	for (int i = 0; i < 256; i++)
		distinct += counts[i] > 0;
	/* 256 random bytes show well over 100 distinct values. */
	CHECK_GT(distinct, 100);
}

TEST(random_large_read)
{
	int fd = REQUIRE_OK(open("/dev/random", O_RDONLY));
	static unsigned char buf[1 << 16];
	ssize_t n = CHECK_OK(read(fd, buf, sizeof(buf)));
	CHECK_GT(n, 0);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	CHECK_EQ(poll(&p, 1, 0), 1);
	CHECK(p.revents & POLLIN);
}

TEST(random_write_accepted)
{
	/* Writing mixes into the pool (no privilege needed). */
	int fd = REQUIRE_OK(open("/dev/urandom", O_WRONLY));
	CHECK_EQ(write(fd, "seed", 4), 4);
}

TEST(null_poll_ready)
{
	int fd = REQUIRE_OK(open("/dev/null", O_RDWR));
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
	CHECK_EQ(poll(&p, 1, 0), 1);
	CHECK_EQ(p.revents, POLLIN | POLLOUT);
}

TEST(efault_on_read_into_bad_buffer)
{
	int fd = REQUIRE_OK(open("/dev/zero", O_RDONLY));
	CHECK_ERR(syscall(SYS_read, fd, (void *)1, 16), EFAULT);
	int u = REQUIRE_OK(open("/dev/urandom", O_RDONLY));
	CHECK_ERR(syscall(SYS_read, u, (void *)1, 16), EFAULT);
}

TEST(null_ftruncate_and_fstat)
{
	int fd = REQUIRE_OK(open("/dev/null", O_WRONLY | O_TRUNC));
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK(S_ISCHR(st.st_mode));
	CHECK_EQ(st.st_size, 0);
	CHECK_ERR(ftruncate(fd, 0), EINVAL);
}

TEST(mknod_null_elsewhere_works)
{
	REQUIRE_OK(mknod(lt_path("mynull"), S_IFCHR | 0666, makedev(1, 3)));
	int fd = REQUIRE_OK(open(lt_path("mynull"), O_RDWR));
	char c;
	CHECK_EQ(read(fd, &c, 1), 0);
	CHECK_EQ(write(fd, "x", 1), 1);
}

TEST(unprivileged_mknod_eperm)
{
	REQUIRE_OK(chmod(lt_tmpdir(), 0777));
	REQUIRE_OK(chdir(lt_tmpdir()));
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	CHECK_ERR(mknod("n", S_IFCHR | 0666, makedev(1, 3)), EPERM);
	/* A FIFO needs no privilege. */
	CHECK_OK(mknod("p", S_IFIFO | 0666, 0));
}
