/* /proc/PID/mounts, mountinfo and cgroup: parseable, with the facts that
 * hold on any Linux (/ and /proc present, /proc's type and flags). */
#include "lt.h"
#include "procfs.h"
#include <mntent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

struct mi {
	int id, parent;
	unsigned maj, min;
	char root[512], point[512], opts[256], fstype[64], source[256], super[256];
};

/* parse_mountinfo reads the line for mount point `point` (last wins, as
 * later mounts hide earlier ones). */
static int mountinfo_of(const char *point, struct mi *out)
{
	const char *s = slurp("/proc/self/mountinfo");
	if (s == NULL)
		return -1;
	int found = 0;
	for (const char *p = s; *p;) {
		struct mi m = {0};
		int n = 0;
		if (sscanf(p, "%d %d %u:%u %511s %511s %255s%n", &m.id, &m.parent, &m.maj, &m.min, m.root, m.point,
			   m.opts, &n) != 7)
			return -1;
		const char *dash = strstr(p + n, " - ");
		const char *eol = strchr(p, '\n');
		if (dash == NULL || eol == NULL || dash > eol)
			return -1;
		if (sscanf(dash + 3, "%63s %255s %255s", m.fstype, m.source, m.super) != 3)
			return -1;
		if (strcmp(m.point, point) == 0) {
			*out = m;
			found = 1;
		}
		p = eol + 1;
	}
	return found;
}

TEST(mounts_parses_with_getmntent)
{
	FILE *f = setmntent("/proc/self/mounts", "r");
	REQUIRE(f != NULL);
	int root = 0, proc = 0, n = 0;
	char procopts[256] = "";
	struct mntent *m;
	while ((m = getmntent(f)) != NULL) {
		n++;
		CHECK(m->mnt_fsname[0] != 0);
		CHECK(m->mnt_dir[0] == '/');
		CHECK(m->mnt_type[0] != 0);
		CHECK(strncmp(m->mnt_opts, "rw", 2) == 0 || strncmp(m->mnt_opts, "ro", 2) == 0);
		CHECK_EQ(m->mnt_freq, 0);
		CHECK_EQ(m->mnt_passno, 0);
		root += strcmp(m->mnt_dir, "/") == 0;
		if (strcmp(m->mnt_dir, "/proc") == 0) {
			proc++;
			CHECK_STREQ(m->mnt_type, "proc");
			snprintf(procopts, sizeof(procopts), "%s", m->mnt_opts);
		}
	}
	endmntent(f);
	CHECK_GE(root, 1);
	CHECK_GE(proc, 1);
	CHECK_GE(n, 3);
	/* The /proc in use (the last one mounted there) is the test's own,
	 * mounted nosuid,nodev,noexec. */
	CHECK(strstr(procopts, "nosuid") != NULL);
	CHECK(strstr(procopts, "nodev") != NULL);
	CHECK(strstr(procopts, "noexec") != NULL);
}

TEST(proc_mounts_is_self)
{
	char a[64];
	REQUIRE_GT(readlink("/proc/mounts", a, sizeof(a) - 1), 0);
	a[strlen("self/mounts")] = 0;
	CHECK_STREQ(a, "self/mounts");
	const char *x = slurp("/proc/mounts");
	REQUIRE(x != NULL);
	char *copy = strdup(x);
	const char *y = slurp("/proc/self/mounts");
	REQUIRE(y != NULL);
	CHECK_STREQ(copy, y);
}

TEST(mountinfo_proc_line)
{
	struct mi m;
	REQUIRE_EQ(mountinfo_of("/proc", &m), 1);
	CHECK_STREQ(m.fstype, "proc");
	CHECK_STREQ(m.root, "/");
	CHECK(strstr(m.opts, "nosuid") != NULL);
	CHECK(strstr(m.opts, "noexec") != NULL);
	struct stat st;
	REQUIRE_OK(stat("/proc", &st));
	/* The device numbers are those stat shows. */
	CHECK_EQ(m.maj, major(st.st_dev));
	CHECK_EQ(m.min, minor(st.st_dev));
}

TEST(mountinfo_root_present_and_ids_link)
{
	struct mi root, proc;
	REQUIRE_EQ(mountinfo_of("/", &root), 1);
	REQUIRE_EQ(mountinfo_of("/proc", &proc), 1);
	CHECK_NE(root.id, proc.id);
	/* /proc is mounted on the root mount (or on one below it). */
	CHECK_NE(proc.parent, 0);
	struct stat st;
	REQUIRE_OK(stat("/", &st));
	CHECK_EQ(root.maj, major(st.st_dev));
	CHECK_EQ(root.min, minor(st.st_dev));
}

TEST(mountinfo_ids_unique)
{
	const char *s = slurp("/proc/self/mountinfo");
	REQUIRE(s != NULL);
	int ids[512], n = 0;
	for (const char *p = s; *p && n < 512; p = strchr(p, '\n') + 1) {
		REQUIRE_EQ(sscanf(p, "%d", &ids[n]), 1);
		for (int i = 0; i < n; i++)
			CHECK_NE(ids[i], ids[n]);
		n++;
		if (!strchr(p, '\n'))
			break;
	}
	CHECK_GE(n, 3);
}

TEST(mountinfo_mnt_id_matches_fdinfo)
{
	int fd = REQUIRE_OK(open("/proc/self/status", O_RDONLY));
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fdinfo/%d", fd);
	const char *s = slurp(p);
	REQUIRE(s != NULL);
	long long id = field_ll(s, "mnt_id");
	struct mi m;
	REQUIRE_EQ(mountinfo_of("/proc", &m), 1);
	CHECK_EQ(id, m.id);
}

TEST(dev_shm_is_tmpfs)
{
	struct mi m;
	REQUIRE_EQ(mountinfo_of("/dev/shm", &m), 1);
	CHECK_STREQ(m.fstype, "tmpfs");
	CHECK_STREQ(m.source, "tmpfs");
	struct stat st;
	REQUIRE_OK(stat("/dev/shm", &st));
	CHECK_EQ(m.maj, major(st.st_dev));
	CHECK_EQ(m.min, minor(st.st_dev));
}

TEST(statx_mnt_id_matches)
{
	struct statx sx;
	REQUIRE_OK(statx(AT_FDCWD, "/proc", 0, STATX_MNT_ID, &sx));
	REQUIRE(sx.stx_mask & STATX_MNT_ID);
	struct mi m;
	REQUIRE_EQ(mountinfo_of("/proc", &m), 1);
	CHECK_EQ(sx.stx_mnt_id, m.id);
}

TEST(cgroup_format)
{
	const char *s = slurp("/proc/self/cgroup");
	REQUIRE(s != NULL);
	/* hierarchy-ID:controllers:path, one per line; cgroup v2 is "0::PATH". */
	int lines = 0;
	for (const char *p = s; *p;) {
		const char *eol = strchr(p, '\n');
		REQUIRE(eol != NULL);
		int id = -1, n = 0;
		REQUIRE_EQ(sscanf(p, "%d:%n", &id, &n), 1);
		CHECK_GE(id, 0);
		const char *c2 = memchr(p + n, ':', eol - p - n);
		REQUIRE(c2 != NULL);
		CHECK_EQ(c2[1], '/');
		lines++;
		p = eol + 1;
	}
	CHECK_GE(lines, 1);
}

TEST(cgroup_same_for_child)
{
	char *mine = strdup(slurp("/proc/self/cgroup"));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		pause();
		_exit(0);
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	CHECK_STREQ(slurp(path), mine);
	kill(pid, SIGKILL);
	lt_wait_exit(pid);
}

TEST(mounts_escape_spaces)
{
	/* A mount point with a space is written with \040. */
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", lt_path("a b"));
	REQUIRE_OK(mkdir(dir, 0700));
	const char *s = slurp("/proc/self/mounts");
	REQUIRE(s != NULL);
	/* Nothing is mounted there, so it must not appear unescaped. */
	CHECK(strstr(s, " a b ") == NULL);
}
