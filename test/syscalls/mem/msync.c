/* msync and mincore: flags, ranges, residency. */
#include "lt.h"
#include "ltmem.h"

#define PG 4096

TEST(msync_sync_writes_file)
{
	int fd = lt_file_of("f", 2, O_RDWR);
	char *p = REQUIRE_MAP(mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
				   MAP_SHARED, fd, 0));
	memcpy(p + PG, "synced", 6);
	REQUIRE_OK(msync(p, 2 * PG, MS_SYNC));
	char buf[6];
	CHECK_EQ(pread(fd, buf, 6, PG), 6);
	CHECK_MEMEQ(buf, "synced", 6);
}

TEST(msync_async_and_invalidate)
{
	int fd = lt_file_of("f", 1, O_RDWR);
	char *p = REQUIRE_MAP(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED,
				   fd, 0));
	p[0] = 'A';
	CHECK_OK(msync(p, PG, MS_ASYNC));
	CHECK_OK(msync(p, PG, MS_INVALIDATE));
	CHECK_OK(msync(p, PG, MS_SYNC | MS_INVALIDATE));
	CHECK_OK(msync(p, PG, MS_ASYNC | MS_INVALIDATE));
	CHECK_EQ(p[0], 'A');
	CHECK_OK(msync(p, PG, 0));
}

TEST(msync_anonymous_and_partial_length)
{
	char *p = lt_map_anon(2);
	CHECK_OK(msync(p, 2 * PG, MS_SYNC));
	CHECK_OK(msync(p, 1, MS_SYNC));
	CHECK_OK(msync(p, 0, MS_SYNC));
}

TEST(msync_sync_and_async_einval)
{
	char *p = lt_map_anon(1);
	CHECK_ERR(msync(p, PG, MS_SYNC | MS_ASYNC), EINVAL);
}

TEST(msync_bad_flags_einval)
{
	char *p = lt_map_anon(1);
	CHECK_ERR(msync(p, PG, 0x10), EINVAL);
	CHECK_ERR(msync(p + 1, PG, MS_SYNC), EINVAL);
}

TEST(msync_unmapped_enomem)
{
	char *p = lt_map_anon(2);
	REQUIRE_OK(munmap(p + PG, PG));
	CHECK_ERR(msync(p, 2 * PG, MS_SYNC), ENOMEM);
	CHECK_ERR(msync(p + PG, PG, MS_ASYNC), ENOMEM);
}

TEST(mincore_touched_pages)
{
	/* Far apart: the kernel may make a touched page's neighbours present. */
	char *p = lt_map_anon(64);
	p[0] = 1;
	p[32 * PG] = 1;
	unsigned char vec[64];
	REQUIRE_OK(mincore(p, 64 * PG, vec));
	CHECK_EQ(vec[0] & 1, 1);
	CHECK_EQ(vec[20] & 1, 0);
	CHECK_EQ(vec[32] & 1, 1);
	CHECK_EQ(vec[63] & 1, 0);
}

TEST(mincore_after_dontneed)
{
	char *p = lt_map_anon(1);
	p[0] = 1;
	unsigned char v;
	REQUIRE_OK(mincore(p, PG, &v));
	CHECK_EQ(v & 1, 1);
	REQUIRE_OK(madvise(p, PG, MADV_DONTNEED));
	REQUIRE_OK(mincore(p, PG, &v));
	CHECK_EQ(v & 1, 0);
}

TEST(mincore_partial_page_length)
{
	char *p = lt_map_anon(2);
	p[0] = 1;
	p[PG] = 1;
	REQUIRE_OK(madvise(p, PG, MADV_DONTNEED));
	unsigned char vec[2] = {0xff, 0xff};
	REQUIRE_OK(mincore(p, PG + 1, vec));
	CHECK_EQ(vec[0] & 1, 0);
	CHECK_EQ(vec[1] & 1, 1);
	CHECK_OK(mincore(p, 0, vec));
}

TEST(mincore_prot_none_ok)
{
	char *p = REQUIRE_MAP(mmap(NULL, PG, PROT_NONE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	unsigned char v = 0xff;
	CHECK_OK(mincore(p, PG, &v));
	CHECK_EQ(v & 1, 0);
}

TEST(mincore_errors)
{
	char *p = lt_map_anon(2);
	unsigned char vec[2];
	CHECK_ERR(mincore(p + 1, PG, vec), EINVAL);
	CHECK_ERR(mincore(p, PG, (unsigned char *)1), EFAULT);
	REQUIRE_OK(munmap(p + PG, PG));
	CHECK_ERR(mincore(p, 2 * PG, vec), ENOMEM);
}
