/* getrandom: sizes, flags, errors. */
#include "lt.h"
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>

#ifndef GRND_INSECURE
#define GRND_INSECURE 0x0004
#endif

TEST(fills_buffer)
{
	unsigned char a[64], b[64];
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	CHECK_EQ(getrandom(a, sizeof(a), 0), 64);
	CHECK_EQ(getrandom(b, sizeof(b), 0), 64);
	/* Two 512-bit draws are equal with negligible probability. */
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	int zero = 0;
	for (int i = 0; i < 64; i++)
		zero += a[i] == 0;
	CHECK_LT(zero, 16);
}

TEST(zero_length)
{
	CHECK_EQ(getrandom(NULL, 0, 0), 0);
}

TEST(flags_accepted)
{
	char buf[16];
	CHECK_EQ(getrandom(buf, sizeof(buf), GRND_NONBLOCK), 16);
	CHECK_EQ(getrandom(buf, sizeof(buf), GRND_RANDOM), 16);
	CHECK_EQ(getrandom(buf, sizeof(buf), GRND_RANDOM | GRND_NONBLOCK), 16);
	CHECK_EQ(getrandom(buf, sizeof(buf), GRND_INSECURE), 16);
}

TEST(bad_flags_einval)
{
	char buf[16];
	CHECK_ERR(getrandom(buf, sizeof(buf), 0x8), EINVAL);
	CHECK_ERR(getrandom(buf, sizeof(buf), -1), EINVAL);
	/* GRND_INSECURE and GRND_RANDOM together are contradictory. */
	CHECK_ERR(getrandom(buf, sizeof(buf), GRND_INSECURE | GRND_RANDOM), EINVAL);
}

TEST(bad_buffer_efault)
{
	CHECK_ERR(syscall(SYS_getrandom, (void *)1, 16, 0), EFAULT);
}

TEST(large_request)
{
	size_t n = 1 << 20;
	char *buf = malloc(n);
	REQUIRE(buf != NULL);
	long got = CHECK_OK(getrandom(buf, n, 0));
	/* Large reads may be cut short, but never below 256 bytes. */
	CHECK_GE(got, 256);
	CHECK_LE(got, (long)n);
}

/*
 * Linux fills up to MAX_RW_COUNT in one call (the sentry once stopped at
 * 32 MiB, after allocating that much itself).
 */
TEST(huge_request_filled)
{
	size_t n = 96 << 20;
	unsigned char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	REQUIRE(p != MAP_FAILED);
	CHECK_EQ(getrandom(p, n, 0), (long)n);
	/* The last page was written too. */
	int zero = 0;
	for (size_t i = n - 64; i < n; i++)
		zero += p[i] == 0;
	CHECK_LT(zero, 16);
	munmap(p, n);
}

/* A fault part way stops the fill: the bytes before it are returned. */
TEST(stops_at_fault)
{
	char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(p != MAP_FAILED);
	REQUIRE_OK(munmap(p + 2 * 4096, 4096));
	CHECK_EQ(getrandom(p, 1 << 20, 0), 2 * 4096);
	/* A length past MAX_RW_COUNT is cut to it first. */
	CHECK_EQ(syscall(SYS_getrandom, p, 1UL << 47, 0), 2 * 4096);
	munmap(p, 2 * 4096);
}

TEST(read_only_buffer_efault)
{
	char *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(p != MAP_FAILED);
	CHECK_ERR(getrandom(p, 16, 0), EFAULT);
}

TEST(parent_and_child_draw_differently)
{
	int pfd[2];
	REQUIRE_OK(pipe(pfd));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		unsigned char c[32];
		if (getrandom(c, sizeof(c), 0) != 32)
			_exit(1);
		(void)!write(pfd[1], c, sizeof(c));
		_exit(0);
	}
	unsigned char mine[32], theirs[32];
	CHECK_EQ(getrandom(mine, sizeof(mine), 0), 32);
	CHECK_EQ(read(pfd[0], theirs, sizeof(theirs)), 32);
	CHECK(memcmp(mine, theirs, sizeof(mine)) != 0);
	CHECK_EQ(lt_wait_exit(pid), 0);
}
