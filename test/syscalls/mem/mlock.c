/* mlock, mlock2, munlock, mlockall, munlockall. */
#include "lt.h"
#include "ltmem.h"
#include <sys/resource.h>
#include <sys/syscall.h>

#define PG 4096

#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif
#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif

TEST(mlock_populates)
{
	char *p = lt_map_anon(4);
	REQUIRE_OK(mlock(p, 4 * PG));
	unsigned char vec[4];
	REQUIRE_OK(mincore(p, 4 * PG, vec));
	for (int i = 0; i < 4; i++)
		CHECK_EQ(vec[i] & 1, 1);
	CHECK_EQ(p[3 * PG], 0);
	CHECK_OK(munlock(p, 4 * PG));
}

TEST(mlock_unaligned_rounds)
{
	char *p = lt_map_anon(2);
	CHECK_OK(mlock(p + 100, 10));
	CHECK_OK(munlock(p + 100, 10));
	CHECK_OK(mlock(p, 0));
}

TEST(mlock_unmapped_enomem)
{
	char *p = lt_map_anon(2);
	REQUIRE_OK(munmap(p + PG, PG));
	CHECK_ERR(mlock(p, 2 * PG), ENOMEM);
	CHECK_ERR(munlock(p + PG, PG), ENOMEM);
}

TEST(mlock2_flags)
{
	char *p = lt_map_anon(2);
	CHECK_OK(syscall(SYS_mlock2, p, 2 * PG, MLOCK_ONFAULT));
	CHECK_OK(syscall(SYS_mlock2, p, 2 * PG, 0));
	CHECK_ERR(syscall(SYS_mlock2, p, 2 * PG, 2), EINVAL);
}

TEST(mlockall_flags)
{
	CHECK_OK(mlockall(MCL_CURRENT));
	CHECK_OK(munlockall());
	CHECK_OK(mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT));
	CHECK_OK(munlockall());
	CHECK_ERR(mlockall(0), EINVAL);
	CHECK_ERR(mlockall(MCL_ONFAULT), EINVAL);
	CHECK_ERR(mlockall(8), EINVAL);
}

TEST(mlock_zero_rlimit_unprivileged_eperm)
{
	struct rlimit rl = {0, 0};
	REQUIRE_OK(setrlimit(RLIMIT_MEMLOCK, &rl));
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	char *p = lt_map_anon(1);
	CHECK_ERR(mlock(p, PG), EPERM);
	CHECK_ERR(mlockall(MCL_CURRENT), EPERM);
	/* munlock needs no privilege. */
	CHECK_OK(munlock(p, PG));
}

TEST(mlock_over_rlimit_unprivileged_enomem)
{
	struct rlimit rl = {PG, PG};
	REQUIRE_OK(setrlimit(RLIMIT_MEMLOCK, &rl));
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	char *p = lt_map_anon(4);
	CHECK_ERR(mlock(p, 4 * PG), ENOMEM);
	CHECK_OK(mlock(p, PG));
}

TEST(mlock_root_ignores_rlimit)
{
	struct rlimit rl = {0, 0};
	REQUIRE_OK(setrlimit(RLIMIT_MEMLOCK, &rl));
	char *p = lt_map_anon(2);
	CHECK_OK(mlock(p, 2 * PG));
}

TEST(vmlck_in_status)
{
	char *p = lt_map_anon(4);
	REQUIRE_OK(mlock(p, 4 * PG));
	FILE *f = fopen("/proc/self/status", "r");
	REQUIRE(f != NULL);
	char line[256];
	long kb = -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	fclose(f);
	CHECK_GE(kb, 16);
	REQUIRE_OK(munlock(p, 4 * PG));
}
