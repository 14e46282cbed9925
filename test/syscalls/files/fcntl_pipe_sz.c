/* F_GETPIPE_SZ and F_SETPIPE_SZ: default size, rounding, limits, shrinking below the contents. */
#include "shm.h"

#include <linux/capability.h>
#include <sys/syscall.h>

static int pipe_max(void)
{
	FILE *f = fopen("/proc/sys/fs/pipe-max-size", "r");
	int v = -1;
	if (f == NULL || fscanf(f, "%d", &v) != 1)
		ABORT("read pipe-max-size: %s", strerror(errno));
	fclose(f);
	return v;
}

/* drop_cap removes cap from the effective set (native runs may lack it anyway). */
static void drop_cap(int cap)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	REQUIRE_OK(syscall(SYS_capget, &h, d));
	d[cap / 32].effective &= ~(1u << (cap % 32));
	REQUIRE_OK(syscall(SYS_capset, &h, d));
}

TEST(default_size)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	CHECK_EQ(fcntl(p[0], F_GETPIPE_SZ), 65536);
	CHECK_EQ(fcntl(p[1], F_GETPIPE_SZ), 65536);
}

TEST(set_rounds_up_to_power_of_two_pages)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, 100000), 131072);
	CHECK_EQ(fcntl(p[0], F_GETPIPE_SZ), 131072);
	CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, 1), 4096);
	CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, 0), 4096);
	CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, 3 * 4096), 4 * 4096);
}

TEST(capacity_is_the_size)
{
	int p[2];
	REQUIRE_OK(pipe2(p, O_NONBLOCK));
	REQUIRE_EQ(fcntl(p[1], F_SETPIPE_SZ, 8192), 8192);
	char buf[16384];
	memset(buf, 'x', sizeof(buf));
	CHECK_EQ(write(p[1], buf, sizeof(buf)), 8192);
	CHECK_ERR(write(p[1], buf, 1), EAGAIN);
}

TEST(shrink_below_contents_ebusy)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	char buf[3 * 4096];
	memset(buf, 'x', sizeof(buf));
	REQUIRE_EQ(write(p[1], buf, sizeof(buf)), (long)sizeof(buf));
	CHECK_ERR(fcntl(p[1], F_SETPIPE_SZ, 4096), EBUSY);
	CHECK_EQ(fcntl(p[1], F_GETPIPE_SZ), 65536);
	/* Large enough for what is buffered is fine. */
	CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, 4 * 4096), 4 * 4096);
	char out[3 * 4096];
	CHECK_EQ(read(p[0], out, sizeof(out)), (long)sizeof(out));
}

TEST(above_max_eperm_unprivileged)
{
	int max = pipe_max();
	int p[2];
	REQUIRE_OK(pipe(p));
	lt_drop_privs();
	CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, max), max);
	CHECK_ERR(fcntl(p[1], F_SETPIPE_SZ, max + 1), EPERM);
}

TEST(above_max_needs_cap_sys_resource)
{
	int max = pipe_max();
	int p[2];
	REQUIRE_OK(pipe(p));
	drop_cap(CAP_SYS_RESOURCE);
	CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, max), max);
	CHECK_ERR(fcntl(p[1], F_SETPIPE_SZ, max + 1), EPERM);
	CHECK_ERR(fcntl(p[1], F_SETPIPE_SZ, 0x7fffffff), EPERM);
	CHECK_EQ(fcntl(p[1], F_GETPIPE_SZ), max);
}

TEST(beyond_two_gib_einval)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	/* The argument is an unsigned int; above 2^31 it cannot be rounded. */
	CHECK_ERR(fcntl(p[1], F_SETPIPE_SZ, (int)0x80000001u), EINVAL);
	CHECK_ERR(fcntl(p[1], F_SETPIPE_SZ, -1), EINVAL);
}

TEST(not_a_pipe_ebadf)
{
	int fd = lt_file(lt_path("f"), "");
	CHECK_ERR(fcntl(fd, F_GETPIPE_SZ), EBADF);
	CHECK_ERR(fcntl(fd, F_SETPIPE_SZ, 4096), EBADF);
	CHECK_ERR(fcntl(-1, F_GETPIPE_SZ), EBADF);
}

TEST(fifo_size)
{
	REQUIRE_OK(mkfifo(lt_path("fifo"), 0600));
	int fd = REQUIRE_OK(open(lt_path("fifo"), O_RDWR));
	CHECK_EQ(fcntl(fd, F_GETPIPE_SZ), 65536);
	CHECK_EQ(fcntl(fd, F_SETPIPE_SZ, 8192), 8192);
	int fd2 = REQUIRE_OK(open(lt_path("fifo"), O_RDONLY | O_NONBLOCK));
	CHECK_EQ(fcntl(fd2, F_GETPIPE_SZ), 8192);
}

TEST(shared_by_both_ends)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	REQUIRE_EQ(fcntl(p[0], F_SETPIPE_SZ, 1 << 20), 1 << 20);
	CHECK_EQ(fcntl(p[1], F_GETPIPE_SZ), 1 << 20);
}
