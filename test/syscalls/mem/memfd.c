/* memfd_create and file seals. */
#include "lt.h"
#include "ltmem.h"
#include <sys/syscall.h>

#define PG 4096

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

static int sealable(void)
{
	int fd = memfd_create("lt", MFD_ALLOW_SEALING);
	if (fd < 0)
		ABORT("memfd_create: %s", strerror(errno));
	return fd;
}

TEST(read_write_truncate)
{
	int fd = REQUIRE_OK(memfd_create("rw", 0));
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_size, 0);
	CHECK(S_ISREG(st.st_mode));
	CHECK_EQ(write(fd, "hello", 5), 5);
	char buf[8] = {0};
	CHECK_EQ(pread(fd, buf, 8, 0), 5);
	CHECK_STREQ(buf, "hello");
	CHECK_OK(ftruncate(fd, 3 * PG));
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_size, 3 * PG);
}

TEST(cloexec_flag)
{
	int a = REQUIRE_OK(memfd_create("a", MFD_CLOEXEC));
	int b = REQUIRE_OK(memfd_create("b", 0));
	CHECK_EQ(fcntl(a, F_GETFD), FD_CLOEXEC);
	CHECK_EQ(fcntl(b, F_GETFD), 0);
}

TEST(proc_fd_name)
{
	int fd = REQUIRE_OK(memfd_create("lt-name", 0));
	char path[64], target[256];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ssize_t n = REQUIRE_OK(readlink(path, target, sizeof(target) - 1));
	target[n] = 0;
	CHECK_STREQ(target, "/memfd:lt-name (deleted)");
}

TEST(proc_fd_reopen_same_file)
{
	int fd = REQUIRE_OK(memfd_create("re", 0));
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int fd2 = REQUIRE_OK(open(path, O_RDWR));
	CHECK_EQ(write(fd2, "xy", 2), 2);
	char buf[2];
	CHECK_EQ(pread(fd, buf, 2, 0), 2);
	CHECK_MEMEQ(buf, "xy", 2);
}

TEST(mode_and_noexec_seal)
{
	int fd = REQUIRE_OK(memfd_create("m", 0));
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_mode & 07777, 0777);
	int ne = REQUIRE_OK(memfd_create("ne", MFD_NOEXEC_SEAL));
	REQUIRE_OK(fstat(ne, &st));
	CHECK_EQ(st.st_mode & 07777, 0666);
	int seals = CHECK_OK(fcntl(ne, F_GET_SEALS));
	CHECK_EQ(seals & F_SEAL_EXEC, F_SEAL_EXEC);
	CHECK_EQ(seals & F_SEAL_SEAL, 0);
}

TEST(create_errors)
{
	char name[300];
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	CHECK_ERR(memfd_create(name, 0), EINVAL);
	name[249] = 0; /* the longest name */
	int fd = CHECK_OK(memfd_create(name, 0));
	if (fd >= 0)
		close(fd);
	CHECK_ERR(memfd_create("x", 0x1000), EINVAL);
	CHECK_ERR(syscall(SYS_memfd_create, (void *)1, 0), EFAULT);
}

TEST(shared_mapping_across_fork)
{
	int fd = REQUIRE_OK(memfd_create("shm", 0));
	REQUIRE_OK(ftruncate(fd, PG));
	char *p = REQUIRE_MAP(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED,
				   fd, 0));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		strcpy(p, "from child");
		_exit(0);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_STREQ(p, "from child");
	char buf[10];
	CHECK_EQ(pread(fd, buf, 10, 0), 10);
	CHECK_MEMEQ(buf, "from child", 10);
}

TEST(no_sealing_without_allow)
{
	int fd = REQUIRE_OK(memfd_create("ns", 0));
	CHECK_EQ(fcntl(fd, F_GET_SEALS), F_SEAL_SEAL);
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
}

TEST(seals_start_empty_and_accumulate)
{
	int fd = sealable();
	CHECK_EQ(fcntl(fd, F_GET_SEALS), 0);
	CHECK_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
	CHECK_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
	CHECK_EQ(fcntl(fd, F_GET_SEALS), F_SEAL_SHRINK | F_SEAL_GROW);
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, 0x1000), EINVAL);
}

TEST(seal_shrink)
{
	int fd = sealable();
	REQUIRE_OK(ftruncate(fd, 2 * PG));
	REQUIRE_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
	CHECK_ERR(ftruncate(fd, PG), EPERM);
	CHECK_OK(ftruncate(fd, 3 * PG));
	CHECK_EQ(pwrite(fd, "w", 1, 0), 1);
}

TEST(seal_grow)
{
	int fd = sealable();
	REQUIRE_OK(ftruncate(fd, PG));
	REQUIRE_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
	CHECK_ERR(ftruncate(fd, 2 * PG), EPERM);
	CHECK_ERR(pwrite(fd, "x", 1, PG), EPERM);
	CHECK_EQ(pwrite(fd, "x", 1, PG - 1), 1);
	CHECK_OK(ftruncate(fd, 10));
}

TEST(seal_write)
{
	int fd = sealable();
	REQUIRE_OK(ftruncate(fd, PG));
	REQUIRE_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	CHECK_ERR(write(fd, "x", 1), EPERM);
	CHECK_ERR(pwrite(fd, "x", 1, 0), EPERM);
	CHECK_ERR(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EPERM);
	char *r = CHECK_MAP(mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0));
	if (r != MAP_FAILED)
		CHECK_ERR(mprotect(r, PG, PROT_READ | PROT_WRITE), EACCES);
	/* A private mapping may be written: the file is not. */
	char *p = CHECK_MAP(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE,
				 fd, 0));
	if (p != MAP_FAILED)
		p[0] = 'p';
	char c;
	CHECK_EQ(pread(fd, &c, 1, 0), 1);
	CHECK_EQ(c, 0);
}

TEST(seal_write_busy_with_writable_mapping)
{
	int fd = sealable();
	REQUIRE_OK(ftruncate(fd, PG));
	char *p = REQUIRE_MAP(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED,
				   fd, 0));
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EBUSY);
	REQUIRE_OK(munmap(p, PG));
	CHECK_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
}

TEST(future_write_keeps_existing_mapping)
{
	int fd = sealable();
	REQUIRE_OK(ftruncate(fd, PG));
	char *p = REQUIRE_MAP(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED,
				   fd, 0));
	REQUIRE_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
	p[0] = 'f';
	char c;
	CHECK_EQ(pread(fd, &c, 1, 0), 1);
	CHECK_EQ(c, 'f');
	CHECK_ERR(pwrite(fd, "x", 1, 0), EPERM);
	CHECK_ERR(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EPERM);
}

TEST(seal_seal)
{
	int fd = sealable();
	REQUIRE_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, 0), EPERM);
	CHECK_EQ(fcntl(fd, F_GET_SEALS), F_SEAL_SEAL);
}

TEST(seals_need_writable_fd)
{
	int fd = sealable();
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int ro = REQUIRE_OK(open(path, O_RDONLY));
	CHECK_ERR(fcntl(ro, F_ADD_SEALS, F_SEAL_SHRINK), EPERM);
	CHECK_EQ(fcntl(ro, F_GET_SEALS), 0);
}

TEST(get_seals_non_memfd_einval)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	CHECK_ERR(fcntl(p[0], F_GET_SEALS), EINVAL);
	CHECK_ERR(fcntl(p[1], F_ADD_SEALS, F_SEAL_SEAL), EINVAL);
	/* A descriptor not open for writing is EPERM first. */
	CHECK_ERR(fcntl(p[0], F_ADD_SEALS, F_SEAL_SEAL), EPERM);
}
