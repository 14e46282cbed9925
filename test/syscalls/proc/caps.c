/* capget and capset, and how UID changes move capabilities. */
#include "lt.h"
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

static int capget_(struct __user_cap_header_struct *h, struct __user_cap_data_struct *d)
{
	return syscall(SYS_capget, h, d);
}

static int capset_(struct __user_cap_header_struct *h, struct __user_cap_data_struct *d)
{
	return syscall(SYS_capset, h, d);
}

/* caps returns the effective (which 0) or permitted (1) set, low 64 bits. */
static unsigned long long caps(int which)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	if (capget_(&h, d) < 0)
		ABORT("capget: %s", strerror(errno));
	if (which == 0)
		return d[0].effective | (unsigned long long)d[1].effective << 32;
	return d[0].permitted | (unsigned long long)d[1].permitted << 32;
}

TEST(root_has_all_caps)
{
	unsigned long long eff = caps(0);
	CHECK_EQ(eff & (1ULL << CAP_SYS_ADMIN), 1ULL << CAP_SYS_ADMIN);
	CHECK_EQ(eff & (1ULL << CAP_CHOWN), 1ULL << CAP_CHOWN);
	CHECK_EQ(caps(1), eff);
}

TEST(version_probe_and_bad_version)
{
	struct __user_cap_header_struct h = {0x12345678, 0};
	struct __user_cap_data_struct d[2];
	CHECK_ERR(capget_(&h, d), EINVAL);
	CHECK_EQ(h.version, _LINUX_CAPABILITY_VERSION_3);
	/* With no data pointer a bad version is a query: it succeeds. */
	h.version = 0;
	CHECK_OK(capget_(&h, NULL));
	CHECK_EQ(h.version, _LINUX_CAPABILITY_VERSION_3);
	/* A known version with no data pointer only checks the header. */
	h.version = _LINUX_CAPABILITY_VERSION_3;
	CHECK_OK(capget_(&h, NULL));
}

TEST(capget_other_and_missing_pid)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, getppid()};
	struct __user_cap_data_struct d[2];
	CHECK_OK(capget_(&h, d));
	h.pid = 999999;
	CHECK_ERR(capget_(&h, d), ESRCH);
	h.pid = 0;
	CHECK_ERR(capget_(&h, (void *)1), EFAULT);
}

TEST(v1_is_32_bits)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_1, 0};
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	d[1].effective = 0x5a5a;
	REQUIRE_OK(capget_(&h, d));
	CHECK_NE(d[0].effective, 0);
	CHECK_EQ(d[1].effective, 0x5a5a); /* untouched */
}

TEST(capset_drop_effective_chown_fails)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	REQUIRE_OK(capget_(&h, d));
	d[0].effective &= ~(1U << CAP_CHOWN);
	REQUIRE_OK(capset_(&h, d));
	CHECK_EQ(caps(0) & (1ULL << CAP_CHOWN), 0);
	CHECK_EQ(caps(1) & (1ULL << CAP_CHOWN), 1ULL << CAP_CHOWN);
	int fd = REQUIRE_OK(open(lt_path("f"), O_CREAT | O_WRONLY, 0600));
	CHECK_ERR(fchown(fd, 1234, -1), EPERM);
	/* Raise it again from permitted. */
	d[0].effective |= 1U << CAP_CHOWN;
	REQUIRE_OK(capset_(&h, d));
	CHECK_OK(fchown(fd, 1234, -1));
}

TEST(capset_beyond_permitted_eperm)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	REQUIRE_OK(capget_(&h, d));
	d[0].permitted &= ~(1U << CAP_KILL);
	d[0].effective &= ~(1U << CAP_KILL);
	REQUIRE_OK(capset_(&h, d));
	d[0].effective |= 1U << CAP_KILL;
	CHECK_ERR(capset_(&h, d), EPERM);
	d[0].permitted |= 1U << CAP_KILL;
	CHECK_ERR(capset_(&h, d), EPERM);
}

TEST(capset_other_pid_eperm)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, getppid()};
	struct __user_cap_data_struct d[2];
	h.pid = 0;
	REQUIRE_OK(capget_(&h, d));
	h.pid = getppid();
	CHECK_ERR(capset_(&h, d), EPERM);
}

TEST(setuid_drops_all_caps)
{
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	CHECK_EQ(caps(0), 0);
	CHECK_EQ(caps(1), 0);
}

TEST(effective_uid_change_drops_effective_only)
{
	REQUIRE_OK(setresuid(0, 65534, 0));
	CHECK_EQ(caps(0), 0);
	CHECK_NE(caps(1), 0);
	REQUIRE_OK(setresuid(-1, 0, -1));
	CHECK_EQ(caps(0), caps(1));
}

TEST(keepcaps_keeps_permitted)
{
	REQUIRE_OK(prctl(PR_SET_KEEPCAPS, 1));
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	CHECK_EQ(caps(0), 0);
	CHECK_NE(caps(1), 0);
}

TEST(status_shows_caps)
{
	REQUIRE_OK(setresuid(0, 65534, 0));
	FILE *f = fopen("/proc/self/status", "r");
	REQUIRE(f != NULL);
	char line[256];
	unsigned long long eff = 1, prm = 0;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "CapEff: %llx", &eff);
		sscanf(line, "CapPrm: %llx", &prm);
	}
	fclose(f);
	CHECK_EQ(eff, 0);
	CHECK_EQ(prm, caps(1));
}
