/* mprotect: changing permissions, splitting vmas, access checks. */
#include "lt.h"
#include "ltmem.h"

#define PG 4096

TEST(read_only_blocks_writes_keeps_data)
{
	char *p = lt_map_anon(1);
	p[0] = 'd';
	REQUIRE_OK(mprotect(p, PG, PROT_READ));
	CHECK_EQ(lt_probe(p, 0), 0);
	CHECK_EQ(p[0], 'd');
	CHECK_EQ(lt_probe(p, 1), SIGSEGV);
	CHECK_EQ(lt_fault_code(), SEGV_ACCERR);
	REQUIRE_OK(mprotect(p, PG, PROT_READ | PROT_WRITE));
	CHECK_EQ(lt_probe(p, 1), 0);
}

TEST(prot_none_then_restore)
{
	char *p = lt_map_anon(2);
	memset(p, 'n', 2 * PG);
	REQUIRE_OK(mprotect(p, 2 * PG, PROT_NONE));
	CHECK_EQ(lt_probe(p + PG, 0), SIGSEGV);
	CHECK_EQ(lt_fault_code(), SEGV_ACCERR);
	CHECK_EQ(lt_fault_addr(), p + PG);
	char perms[8];
	CHECK_EQ(lt_vmas(p, p + 2 * PG, perms), 1);
	CHECK_STREQ(perms, "---p");
	REQUIRE_OK(mprotect(p, 2 * PG, PROT_READ));
	CHECK_EQ(p[PG], 'n');
}

TEST(middle_page_splits_vma)
{
	char *p = lt_map_anon(3);
	REQUIRE_OK(mprotect(p + PG, PG, PROT_READ));
	CHECK_EQ(lt_vmas(p, p + 3 * PG, NULL), 3);
	char perms[8];
	lt_vmas(p + PG, p + 2 * PG, perms);
	CHECK_STREQ(perms, "r--p");
	CHECK_EQ(lt_probe(p, 1), 0);
	CHECK_EQ(lt_probe(p + 2 * PG, 1), 0);
	CHECK_EQ(lt_probe(p + PG, 1), SIGSEGV);
}

TEST(shared_read_only_file_write_eacces)
{
	int fd = lt_file_of("f", 1, O_RDONLY);
	char *p = REQUIRE_MAP(mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0));
	CHECK_ERR(mprotect(p, PG, PROT_READ | PROT_WRITE), EACCES);
	CHECK_OK(mprotect(p, PG, PROT_NONE));
	CHECK_OK(mprotect(p, PG, PROT_READ));
	CHECK_EQ(p[0], 'a');
}

TEST(private_read_only_file_write_ok)
{
	int fd = lt_file_of("f", 1, O_RDONLY);
	char *p = REQUIRE_MAP(mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0));
	REQUIRE_OK(mprotect(p, PG, PROT_READ | PROT_WRITE));
	p[0] = 'Z';
	char c;
	CHECK_EQ(pread(fd, &c, 1, 0), 1);
	CHECK_EQ(c, 'a');
}

TEST(shared_writable_then_write_reaches_file)
{
	int fd = lt_file_of("f", 1, O_RDWR);
	char *p = REQUIRE_MAP(mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0));
	CHECK_EQ(lt_probe(p, 1), SIGSEGV);
	REQUIRE_OK(mprotect(p, PG, PROT_READ | PROT_WRITE));
	p[0] = 'W';
	char c;
	CHECK_EQ(pread(fd, &c, 1, 0), 1);
	CHECK_EQ(c, 'W');
}

TEST(unaligned_einval)
{
	char *p = lt_map_anon(1);
	CHECK_ERR(mprotect(p + 1, PG, PROT_READ), EINVAL);
}

TEST(bad_prot_einval)
{
	char *p = lt_map_anon(1);
	CHECK_ERR(mprotect(p, PG, 0x100), EINVAL);
	CHECK_ERR(mprotect(p, PG, PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP),
		  EINVAL);
	/* PROT_GROWSDOWN needs a grows-down mapping. */
	CHECK_ERR(mprotect(p, PG, PROT_READ | PROT_GROWSDOWN), EINVAL);
}

TEST(unmapped_enomem)
{
	char *p = lt_map_anon(2);
	REQUIRE_OK(munmap(p + PG, PG));
	CHECK_ERR(mprotect(p + PG, PG, PROT_READ), ENOMEM);
	CHECK_ERR(mprotect((void *)-(long)PG, PG, PROT_READ), ENOMEM);
}

TEST(zero_length_ok)
{
	char *p = lt_map_anon(1);
	CHECK_OK(mprotect(p, 0, PROT_NONE));
	CHECK_EQ(lt_probe(p, 1), 0);
}

TEST(child_mprotect_leaves_parent)
{
	char *p = lt_map_anon(1);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(mprotect(p, PG, PROT_NONE) == 0 && lt_probe(p, 0) == SIGSEGV ?
			      0 : 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_EQ(lt_probe(p, 1), 0);
}

TEST(adjacent_same_prot_merge_in_maps)
{
	char *p = lt_map_anon(3);
	REQUIRE_OK(mprotect(p + PG, PG, PROT_READ));
	REQUIRE_EQ(lt_vmas(p, p + 3 * PG, NULL), 3);
	REQUIRE_OK(mprotect(p + PG, PG, PROT_READ | PROT_WRITE));
	CHECK_EQ(lt_vmas(p, p + 3 * PG, NULL), 1);
}
