/* munmap: whole, partial and splitting unmaps, and its argument checks. */
#include "lt.h"
#include "ltmem.h"

#define PG 4096

TEST(whole_mapping_faults_after)
{
	char *p = lt_map_anon(2);
	p[0] = 1;
	REQUIRE_OK(munmap(p, 2 * PG));
	CHECK_EQ(lt_probe(p, 0), SIGSEGV);
	CHECK_EQ(lt_fault_code(), SEGV_MAPERR);
	CHECK_EQ(lt_probe(p + PG, 0), SIGSEGV);
	CHECK_EQ(lt_vmas(p, p + 2 * PG, NULL), 0);
}

TEST(middle_splits_vma)
{
	char *p = lt_map_anon(3);
	memset(p, 'x', 3 * PG);
	REQUIRE_OK(munmap(p + PG, PG));
	CHECK_EQ(p[0], 'x');
	CHECK_EQ(p[2 * PG], 'x');
	CHECK_EQ(lt_probe(p + PG, 0), SIGSEGV);
	CHECK_EQ(lt_vmas(p, p + 3 * PG, NULL), 2);
}

TEST(head_and_tail)
{
	char *p = lt_map_anon(4);
	memset(p, 'y', 4 * PG);
	REQUIRE_OK(munmap(p, PG));
	REQUIRE_OK(munmap(p + 3 * PG, PG));
	CHECK_EQ(lt_probe(p, 0), SIGSEGV);
	CHECK_EQ(lt_probe(p + 3 * PG, 0), SIGSEGV);
	CHECK_EQ(p[PG], 'y');
	CHECK_EQ(p[3 * PG - 1], 'y');
	CHECK_EQ(lt_vmas(p, p + 4 * PG, NULL), 1);
}

TEST(length_rounded_up)
{
	char *p = lt_map_anon(2);
	REQUIRE_OK(munmap(p, 1));
	CHECK_EQ(lt_probe(p + PG - 1, 0), SIGSEGV);
	CHECK_EQ(lt_probe(p + PG, 1), 0);
}

TEST(across_gap_and_several_mappings)
{
	char *p = lt_map_anon(5);
	REQUIRE_OK(munmap(p + PG, PG));
	REQUIRE_OK(mprotect(p + 3 * PG, PG, PROT_READ));
	/* Unmapping a range with holes and several vmas is fine. */
	REQUIRE_OK(munmap(p, 5 * PG));
	CHECK_EQ(lt_vmas(p, p + 5 * PG, NULL), 0);
}

TEST(unmapped_range_ok)
{
	char *p = lt_map_anon(1);
	REQUIRE_OK(munmap(p, PG));
	CHECK_OK(munmap(p, PG));
}

TEST(unaligned_addr_einval)
{
	char *p = lt_map_anon(2);
	CHECK_ERR(munmap(p + 1, PG), EINVAL);
	CHECK_ERR(munmap(p + PG / 2, PG), EINVAL);
	p[0] = 1; /* still mapped */
}

TEST(zero_length_einval)
{
	char *p = lt_map_anon(1);
	CHECK_ERR(munmap(p, 0), EINVAL);
	p[0] = 1;
}

TEST(beyond_address_space_einval)
{
	CHECK_ERR(munmap((void *)-(long)PG, PG), EINVAL);
	CHECK_ERR(munmap((void *)0x7ffffffff000UL, 2 * PG), EINVAL);
}

TEST(file_data_persists_after_unmap)
{
	int fd = lt_file_of("f", 1, O_RDWR);
	char *p = REQUIRE_MAP(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED,
				   fd, 0));
	memcpy(p, "kept", 4);
	REQUIRE_OK(munmap(p, PG));
	char buf[4];
	CHECK_EQ(pread(fd, buf, 4, 0), 4);
	CHECK_MEMEQ(buf, "kept", 4);
}

TEST(child_unmap_leaves_parent)
{
	char *p = lt_map_anon(1);
	p[0] = 'p';
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(munmap(p, PG) == 0 && lt_probe(p, 0) == SIGSEGV ? 0 : 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_EQ(p[0], 'p');
}

TEST(remap_after_unmap_is_zero)
{
	char *p = lt_map_anon(1);
	p[0] = 'a';
	REQUIRE_OK(munmap(p, PG));
	char *q = REQUIRE_MAP(mmap(p, PG, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	CHECK_EQ(q, p);
	CHECK_EQ(q[0], 0);
}
