/* madvise: MADV_DONTNEED, MADV_FREE, fork advice, and argument checks. */
#include "lt.h"
#include "ltmem.h"

#define PG 4096

#ifndef MADV_FREE
#define MADV_FREE 8
#endif

TEST(dontneed_private_anon_zero_fills)
{
	char *p = lt_map_anon(3);
	memset(p, 'x', 3 * PG);
	REQUIRE_OK(madvise(p, 2 * PG, MADV_DONTNEED));
	CHECK_EQ(p[0], 0);
	CHECK_EQ(p[PG], 0);
	CHECK_EQ(p[2 * PG], 'x');
}

TEST(dontneed_private_file_rereads_file)
{
	int fd = lt_file_of("f", 2, O_RDWR);
	char *p = REQUIRE_MAP(mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE, fd, 0));
	p[0] = 'X';
	p[PG] = 'Y';
	REQUIRE_OK(madvise(p, PG, MADV_DONTNEED));
	CHECK_EQ(p[0], 'a');
	CHECK_EQ(p[PG], 'Y');
}

TEST(dontneed_shared_file_keeps_data)
{
	int fd = lt_file_of("f", 1, O_RDWR);
	char *p = REQUIRE_MAP(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED,
				   fd, 0));
	p[0] = 'S';
	REQUIRE_OK(madvise(p, PG, MADV_DONTNEED));
	CHECK_EQ(p[0], 'S');
}

TEST(dontneed_shared_anon_keeps_data)
{
	char *p = REQUIRE_MAP(mmap(NULL, PG, PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0));
	p[0] = 'S';
	REQUIRE_OK(madvise(p, PG, MADV_DONTNEED));
	CHECK_EQ(p[0], 'S');
}

TEST(dontneed_after_fork_keeps_parent)
{
	char *p = lt_map_anon(1);
	p[0] = 'p';
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(madvise(p, PG, MADV_DONTNEED) == 0 && p[0] == 0 ? 0 : 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_EQ(p[0], 'p');
}

TEST(free_private_anon)
{
	char *p = lt_map_anon(2);
	memset(p, 'f', 2 * PG);
	REQUIRE_OK(madvise(p, 2 * PG, MADV_FREE));
	/* The contents may be kept or zeroed; a later write sticks. */
	CHECK(p[0] == 'f' || p[0] == 0);
	p[0] = 'w';
	CHECK_EQ(p[0], 'w');
}

TEST(free_file_or_shared_einval)
{
	int fd = lt_file_of("f", 1, O_RDWR);
	char *p = REQUIRE_MAP(mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0));
	CHECK_ERR(madvise(p, PG, MADV_FREE), EINVAL);
	char *s = REQUIRE_MAP(mmap(NULL, PG, PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0));
	CHECK_ERR(madvise(s, PG, MADV_FREE), EINVAL);
}

TEST(remove_private_einval)
{
	char *p = lt_map_anon(1);
	CHECK_ERR(madvise(p, PG, MADV_REMOVE), EINVAL);
}

TEST(remove_shared_anon_zeroes)
{
	char *p = REQUIRE_MAP(mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0));
	memset(p, 'r', 2 * PG);
	REQUIRE_OK(madvise(p, PG, MADV_REMOVE));
	CHECK_EQ(p[0], 0);
	CHECK_EQ(p[PG], 'r');
}

TEST(dontfork_child_lacks_mapping)
{
	char *p = lt_map_anon(1);
	p[0] = 1;
	REQUIRE_OK(madvise(p, PG, MADV_DONTFORK));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(lt_probe(p, 0) == SIGSEGV ? 0 : 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_EQ(p[0], 1);
	REQUIRE_OK(madvise(p, PG, MADV_DOFORK));
	pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(lt_probe(p, 0) == 0 && p[0] == 1 ? 0 : 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(wipeonfork_child_sees_zero)
{
	char *p = lt_map_anon(1);
	p[0] = 'w';
	REQUIRE_OK(madvise(p, PG, MADV_WIPEONFORK));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(p[0] == 0 ? 0 : 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_EQ(p[0], 'w');
}

TEST(wipeonfork_shared_einval)
{
	char *s = REQUIRE_MAP(mmap(NULL, PG, PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0));
	CHECK_ERR(madvise(s, PG, MADV_WIPEONFORK), EINVAL);
}

TEST(hints_accepted)
{
	char *p = lt_map_anon(2);
	CHECK_OK(madvise(p, 2 * PG, MADV_NORMAL));
	CHECK_OK(madvise(p, 2 * PG, MADV_RANDOM));
	CHECK_OK(madvise(p, 2 * PG, MADV_SEQUENTIAL));
	CHECK_OK(madvise(p, 2 * PG, MADV_WILLNEED));
	CHECK_OK(madvise(p, 0, MADV_DONTNEED));
}

TEST(argument_errors)
{
	char *p = lt_map_anon(2);
	CHECK_ERR(madvise(p + 1, PG, MADV_DONTNEED), EINVAL);
	CHECK_ERR(madvise(p, PG, 999), EINVAL);
	CHECK_ERR(madvise(p, PG, -1), EINVAL);
}

TEST(unmapped_enomem)
{
	char *p = lt_map_anon(2);
	REQUIRE_OK(munmap(p + PG, PG));
	CHECK_ERR(madvise(p + PG, PG, MADV_WILLNEED), ENOMEM);
	CHECK_ERR(madvise(p, 2 * PG, MADV_NORMAL), ENOMEM);
}
