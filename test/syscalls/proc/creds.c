/* User and group IDs: setresuid/setresgid, setuid, setreuid, groups, fsuid. */
#include "lt.h"
#include <grp.h>
#include <linux/capability.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>

static void resuid(uid_t *r, uid_t *e, uid_t *s)
{
	if (getresuid(r, e, s) < 0)
		ABORT("getresuid: %s", strerror(errno));
}

TEST(root_ids)
{
	uid_t r, e, s;
	resuid(&r, &e, &s);
	CHECK_EQ(r, 0);
	CHECK_EQ(e, 0);
	CHECK_EQ(s, 0);
	gid_t gr, ge, gs;
	REQUIRE_OK(getresgid(&gr, &ge, &gs));
	CHECK_EQ(gr, 0);
	CHECK_EQ(getuid(), 0);
	CHECK_EQ(geteuid(), 0);
}

TEST(setresuid_and_rules_after)
{
	REQUIRE_OK(setresuid(1000, 2000, 3000));
	uid_t r, e, s;
	resuid(&r, &e, &s);
	CHECK_EQ(r, 1000);
	CHECK_EQ(e, 2000);
	CHECK_EQ(s, 3000);
	/* Unprivileged: any of the three may go anywhere among the three. */
	CHECK_OK(setresuid(-1, 3000, -1));
	CHECK_OK(setresuid(3000, -1, 1000));
	CHECK_ERR(setresuid(-1, 4000, -1), EPERM);
	CHECK_ERR(setresuid(0, -1, -1), EPERM);
	CHECK_ERR(setresuid(-1, -1, 2000), EPERM);
	resuid(&r, &e, &s);
	CHECK_EQ(r, 3000);
	CHECK_EQ(e, 3000);
	CHECK_EQ(s, 1000);
}

TEST(setresgid_and_rules_after)
{
	REQUIRE_OK(setresgid(100, 200, 300));
	gid_t r, e, s;
	REQUIRE_OK(getresgid(&r, &e, &s));
	CHECK_EQ(r, 100);
	CHECK_EQ(e, 200);
	CHECK_EQ(s, 300);
	REQUIRE_OK(setresuid(1000, 1000, 1000));
	CHECK_OK(setresgid(300, -1, -1));
	CHECK_ERR(setresgid(-1, 400, -1), EPERM);
}

TEST(setuid_root_sets_all)
{
	REQUIRE_OK(setuid(1234));
	uid_t r, e, s;
	resuid(&r, &e, &s);
	CHECK_EQ(r, 1234);
	CHECK_EQ(e, 1234);
	CHECK_EQ(s, 1234);
	CHECK_ERR(setuid(0), EPERM);
	CHECK_OK(setuid(1234));
}

TEST(setuid_unprivileged_back_to_saved)
{
	REQUIRE_OK(setresuid(1000, 1000, 0));
	CHECK_EQ(geteuid(), 1000);
	/* Only the effective ID changes: the caller is not privileged now. */
	REQUIRE_OK(setuid(0));
	uid_t r, e, s;
	resuid(&r, &e, &s);
	CHECK_EQ(r, 1000);
	CHECK_EQ(e, 0);
	CHECK_EQ(s, 0);
}

TEST(setreuid_sets_saved)
{
	REQUIRE_OK(setreuid(1000, 2000));
	uid_t r, e, s;
	resuid(&r, &e, &s);
	CHECK_EQ(r, 1000);
	CHECK_EQ(e, 2000);
	/* The real ID changed: saved becomes the new effective. */
	CHECK_EQ(s, 2000);
	CHECK_ERR(setreuid(3000, -1), EPERM);
}

TEST(groups_set_and_get)
{
	gid_t set[] = {10, 20, 30};
	REQUIRE_OK(setgroups(3, set));
	CHECK_EQ(getgroups(0, NULL), 3);
	gid_t got[8];
	REQUIRE_EQ(getgroups(8, got), 3);
	CHECK_EQ(got[0], 10);
	CHECK_EQ(got[2], 30);
	CHECK_ERR(getgroups(2, got), EINVAL);
	REQUIRE_OK(setgroups(0, NULL));
	CHECK_EQ(getgroups(0, NULL), 0);
}

TEST(groups_errors)
{
	gid_t g = 1;
	CHECK_ERR(setgroups(65537, &g), EINVAL);
	CHECK_ERR(setgroups(1, (gid_t *)1), EFAULT);
	CHECK_ERR(syscall(SYS_getgroups, -1, NULL), EINVAL);
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	CHECK_ERR(setgroups(1, &g), EPERM);
}

TEST(fsuid_query_and_set)
{
	CHECK_EQ(setfsuid(-1), 0);
	CHECK_EQ(setfsuid(1234), 0);
	CHECK_EQ(setfsuid(-1), 1234);
	CHECK_EQ(setfsgid(77), 0);
	CHECK_EQ(setfsgid(-1), 77);
}

TEST(fsuid_owns_created_files)
{
	REQUIRE_OK(chmod(lt_tmpdir(), 0777));
	REQUIRE_OK(chdir(lt_tmpdir())); /* the ancestors are root's, 0700 */
	setfsgid(77);
	setfsuid(1234);
	int fd = REQUIRE_OK(open("f", O_CREAT | O_WRONLY, 0600));
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_uid, 1234);
	CHECK_EQ(st.st_gid, 77);
	/* The real and effective IDs did not change. */
	CHECK_EQ(geteuid(), 0);
}

static unsigned effective_caps(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		ABORT("capget: %s", strerror(errno));
	return d[0].effective;
}

TEST(fsuid_change_drops_fs_caps)
{
	unsigned fs = 1U << CAP_DAC_OVERRIDE | 1U << CAP_DAC_READ_SEARCH | 1U << CAP_CHOWN |
		      1U << CAP_FOWNER;
	const char *dir = lt_tmpdir();
	CHECK_EQ(effective_caps() & fs, fs);
	setfsuid(1234);
	CHECK_EQ(effective_caps() & fs, 0);
	CHECK_NE(effective_caps() & (1U << CAP_SYS_ADMIN), 0);
	/* Dropped for the fs uid: a root-only directory cannot be searched. */
	char path[4200];
	snprintf(path, sizeof(path), "%s/x", dir);
	CHECK_ERR(open(path, O_RDONLY), EACCES);
	setfsuid(0);
	CHECK_EQ(effective_caps() & fs, fs);
}

TEST(fsuid_unprivileged_unchanged)
{
	REQUIRE_OK(setresuid(1000, 1000, 1000));
	CHECK_EQ(setfsuid(5), 1000);
	CHECK_EQ(setfsuid(-1), 1000);
}

TEST(dropped_root_eperm_everywhere)
{
	int fd = REQUIRE_OK(open(lt_path("f"), O_CREAT | O_WRONLY, 0600));
	REQUIRE_OK(setresgid(65534, 65534, 65534));
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	CHECK_ERR(setuid(0), EPERM);
	CHECK_ERR(setgid(0), EPERM);
	CHECK_ERR(sethostname("x", 1), EPERM);
	CHECK_ERR(fchown(fd, 65534, 65534), EPERM);
	CHECK_ERR(kill(1, 0), EPERM);
}

TEST(ids_in_proc_status)
{
	REQUIRE_OK(setresgid(5, 6, 7));
	REQUIRE_OK(setresuid(1, 2, 3));
	FILE *f = fopen("/proc/self/status", "r");
	REQUIRE(f != NULL);
	char line[256];
	int u[4] = {-1, -1, -1, -1}, g[4] = {-1, -1, -1, -1};
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "Uid: %d %d %d %d", &u[0], &u[1], &u[2], &u[3]);
		sscanf(line, "Gid: %d %d %d %d", &g[0], &g[1], &g[2], &g[3]);
	}
	fclose(f);
	CHECK_EQ(u[0], 1);
	CHECK_EQ(u[1], 2);
	CHECK_EQ(u[2], 3);
	CHECK_EQ(u[3], 2);
	CHECK_EQ(g[0], 5);
	CHECK_EQ(g[3], 6);
}
