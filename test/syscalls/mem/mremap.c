/* mremap: shrinking, growing in place, moving, MREMAP_FIXED, DONTUNMAP. */
#include "lt.h"
#include "ltmem.h"

#define PG 4096

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

TEST(shrink_in_place)
{
	char *p = lt_map_anon(3);
	memset(p, 's', 3 * PG);
	char *q = REQUIRE_MAP(mremap(p, 3 * PG, PG, 0));
	CHECK_EQ(q, p);
	CHECK_EQ(p[PG - 1], 's');
	CHECK_EQ(lt_probe(p + PG, 0), SIGSEGV);
	CHECK_EQ(lt_probe(p + 2 * PG, 0), SIGSEGV);
}

TEST(grow_in_place_when_free)
{
	char *p = lt_map_anon(4);
	REQUIRE_OK(munmap(p + PG, 3 * PG));
	p[0] = 'g';
	char *q = REQUIRE_MAP(mremap(p, PG, 4 * PG, 0));
	CHECK_EQ(q, p);
	CHECK_EQ(p[0], 'g');
	CHECK_EQ(p[3 * PG], 0);
	p[3 * PG] = 1;
}

TEST(grow_blocked_enomem)
{
	char *p = lt_map_anon(2);
	REQUIRE_OK(mprotect(p + PG, PG, PROT_READ)); /* another vma next to it */
	CHECK_ERR(mremap(p, PG, 2 * PG, 0), ENOMEM);
	CHECK_EQ(lt_probe(p, 1), 0);
}

TEST(maymove_moves_data)
{
	char *p = lt_map_anon(2);
	REQUIRE_OK(mprotect(p + PG, PG, PROT_READ));
	memcpy(p, "moved", 5);
	char *q = REQUIRE_MAP(mremap(p, PG, 3 * PG, MREMAP_MAYMOVE));
	CHECK_NE(q, p);
	CHECK_MEMEQ(q, "moved", 5);
	CHECK_EQ(q[2 * PG], 0);
	CHECK_EQ(lt_probe(p, 0), SIGSEGV);
	CHECK_EQ(lt_probe(p + PG, 0), 0); /* the neighbour stays */
}

TEST(fixed_moves_to_address_replacing)
{
	char *p = lt_map_anon(1);
	char *dst = lt_map_anon(2);
	memset(dst, 'o', 2 * PG);
	memcpy(p, "fixed", 5);
	char *q = REQUIRE_MAP(mremap(p, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst));
	CHECK_EQ(q, dst);
	CHECK_MEMEQ(dst, "fixed", 5);
	CHECK_EQ(dst[PG], 'o');
	CHECK_EQ(lt_probe(p, 0), SIGSEGV);
}

TEST(fixed_without_maymove_einval)
{
	char *p = lt_map_anon(1);
	char *dst = lt_map_anon(1);
	CHECK_ERR(mremap(p, PG, PG, MREMAP_FIXED, dst), EINVAL);
}

TEST(fixed_overlapping_einval)
{
	char *p = lt_map_anon(3);
	CHECK_ERR(mremap(p, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, p + PG),
		  EINVAL);
	CHECK_ERR(mremap(p, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, p + 1), EINVAL);
}

TEST(argument_errors)
{
	char *p = lt_map_anon(2);
	CHECK_ERR(mremap(p + 1, PG, PG, 0), EINVAL);
	CHECK_ERR(mremap(p, PG, 0, MREMAP_MAYMOVE), EINVAL);
	CHECK_ERR(mremap(p, PG, PG, 0x40), EINVAL);
	/* A private mapping cannot be duplicated with old size 0. */
	CHECK_ERR(mremap(p, 0, PG, MREMAP_MAYMOVE), EINVAL);
}

TEST(unmapped_efault)
{
	char *p = lt_map_anon(2);
	REQUIRE_OK(munmap(p, 2 * PG));
	CHECK_ERR(mremap(p, PG, 2 * PG, MREMAP_MAYMOVE), EFAULT);
	/* The old range must lie in one mapping. */
	char *r = lt_map_anon(2);
	REQUIRE_OK(mprotect(r + PG, PG, PROT_READ));
	CHECK_ERR(mremap(r, 2 * PG, 3 * PG, MREMAP_MAYMOVE), EFAULT);
}

TEST(file_mapping_grows_with_file_data)
{
	int fd = lt_file_of("f", 3, O_RDWR);
	char *p = REQUIRE_MAP(mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0));
	char *q = REQUIRE_MAP(mremap(p, PG, 3 * PG, MREMAP_MAYMOVE));
	CHECK_EQ(q[0], 'a');
	CHECK_EQ(q[PG], 'b');
	CHECK_EQ(q[2 * PG], 'c');
}

TEST(shared_anon_duplicate_with_old_size_zero)
{
	char *p = REQUIRE_MAP(mmap(NULL, PG, PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0));
	char *q = REQUIRE_MAP(mremap(p, 0, PG, MREMAP_MAYMOVE));
	CHECK_NE(q, p);
	p[0] = 'd';
	CHECK_EQ(q[0], 'd');
	q[1] = 'e';
	CHECK_EQ(p[1], 'e');
}

TEST(dontunmap_leaves_empty_old_range)
{
	char *p = lt_map_anon(2);
	memset(p, 'k', 2 * PG);
	char *dst = lt_map_anon(2);
	char *q = REQUIRE_MAP(mremap(p, 2 * PG, 2 * PG,
				     MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP,
				     dst));
	CHECK_EQ(q, dst);
	CHECK_EQ(q[0], 'k');
	CHECK_EQ(q[2 * PG - 1], 'k');
	/* The old range is still mapped, and empty. */
	CHECK_EQ(lt_probe(p, 0), 0);
	CHECK_EQ(p[0], 0);
	CHECK_EQ(p[PG], 0);
}

TEST(dontunmap_argument_errors)
{
	char *p = lt_map_anon(2);
	CHECK_ERR(mremap(p, PG, PG, MREMAP_DONTUNMAP), EINVAL);
	CHECK_ERR(mremap(p, PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP), EINVAL);
}

TEST(moved_private_stays_private_after_fork)
{
	char *p = lt_map_anon(1);
	p[0] = 'a';
	char *q = REQUIRE_MAP(mremap(p, PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED,
				     lt_map_anon(2)));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		q[0] = 'c';
		_exit(0);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_EQ(q[0], 'a');
}
