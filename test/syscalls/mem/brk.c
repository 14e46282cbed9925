/* brk: growing, shrinking and the limits of the program break. */
#include "lt.h"
#include "ltmem.h"
#include <sys/syscall.h>

#define PG 4096

static char *cur_brk(void)
{
	return (char *)syscall(SYS_brk, 0);
}

TEST(brk_zero_returns_current)
{
	char *b = cur_brk();
	CHECK_NE(b, NULL);
	CHECK_EQ(cur_brk(), b);
	CHECK_EQ(sbrk(0), b);
}

TEST(grow_gives_zeroed_memory)
{
	char *b = cur_brk();
	char *nb = (char *)syscall(SYS_brk, b + 3 * PG);
	REQUIRE_EQ(nb, b + 3 * PG);
	for (char *q = b; q < nb; q += 512)
		CHECK_EQ(*q, 0);
	b[3 * PG - 1] = 'h';
	CHECK_EQ(b[3 * PG - 1], 'h');
}

TEST(shrink_unmaps)
{
	char *b = cur_brk();
	char *aligned = (char *)(((unsigned long)b + PG - 1) & ~(PG - 1UL));
	REQUIRE_EQ((char *)syscall(SYS_brk, aligned + 4 * PG), aligned + 4 * PG);
	aligned[3 * PG] = 1;
	REQUIRE_EQ((char *)syscall(SYS_brk, aligned + PG), aligned + PG);
	CHECK_EQ(lt_probe(aligned + 3 * PG, 0), SIGSEGV);
	CHECK_EQ(lt_probe(aligned, 1), 0);
	/* Growing again gives zeroes, not the old data. */
	REQUIRE_EQ((char *)syscall(SYS_brk, aligned + 4 * PG), aligned + 4 * PG);
	CHECK_EQ(aligned[3 * PG], 0);
}

TEST(below_start_unchanged)
{
	char *b = cur_brk();
	CHECK_EQ((char *)syscall(SYS_brk, 4096), b);
	CHECK_EQ((char *)syscall(SYS_brk, 1), b);
	CHECK_EQ(cur_brk(), b);
}

TEST(huge_unchanged)
{
	char *b = cur_brk();
	CHECK_EQ((char *)syscall(SYS_brk, b + (1UL << 46)), b);
	CHECK_EQ((char *)syscall(SYS_brk, -4096L), b);
	CHECK_EQ(cur_brk(), b);
}

TEST(into_mapping_unchanged)
{
	char *b = cur_brk();
	char *top = (char *)(((unsigned long)b + PG - 1) & ~(PG - 1UL));
	char *m = REQUIRE_MAP(mmap(top + 2 * PG, PG, PROT_READ,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
				   -1, 0));
	REQUIRE_EQ(m, top + 2 * PG);
	CHECK_EQ((char *)syscall(SYS_brk, top + 4 * PG), b);
	/* A page must stay free below the next mapping. */
	CHECK_EQ((char *)syscall(SYS_brk, top + 2 * PG), b);
	CHECK_EQ((char *)syscall(SYS_brk, top + PG), top + PG);
}

TEST(heap_in_maps)
{
	char *b = cur_brk();
	REQUIRE_EQ((char *)syscall(SYS_brk, b + PG), b + PG);
	FILE *f = fopen("/proc/self/maps", "r");
	REQUIRE(f != NULL);
	char line[512];
	int found = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		if (strstr(line, "[heap]") && sscanf(line, "%lx-%lx", &lo, &hi) == 2 &&
		    lo <= (unsigned long)b && hi >= (unsigned long)b + PG)
			found = 1;
	}
	fclose(f);
	CHECK(found);
}

TEST(child_brk_independent)
{
	char *b = cur_brk();
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		char *nb = (char *)syscall(SYS_brk, b + 8 * PG);
		_exit(nb == b + 8 * PG ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_EQ(cur_brk(), b);
}

TEST(malloc_and_sbrk)
{
	char *b = sbrk(0);
	char *r = sbrk(PG);
	CHECK_EQ(r, b);
	CHECK_EQ(sbrk(0), b + PG);
	CHECK_EQ(sbrk(-PG), b + PG);
	CHECK_EQ(sbrk(0), b);
}
