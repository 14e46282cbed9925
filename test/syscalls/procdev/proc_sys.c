/* /proc/sys as glibc and python read it: hostname, osrelease, pid_max,
 * random/uuid, fs and vm limits. */
#include "lt.h"
#include "procfs.h"
#include <ctype.h>
#include <sys/resource.h>
#include <sys/utsname.h>

/* line reads a one-line /proc/sys file without its newline. */
static const char *line(const char *path)
{
	const char *s = slurp(path);
	if (s == NULL)
		return NULL;
	static char buf[4096];
	snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(s, "\n"), s);
	return buf;
}

static int put(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, v, strlen(v));
	close(fd);
	return n == (ssize_t)strlen(v) ? 0 : -1;
}

static int is_uuid(const char *s)
{
	if (strlen(s) != 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}

TEST(hostname_matches_uname)
{
	struct utsname u;
	REQUIRE_OK(uname(&u));
	CHECK_STREQ(line("/proc/sys/kernel/hostname"), u.nodename);
	char h[256];
	REQUIRE_OK(gethostname(h, sizeof(h)));
	CHECK_STREQ(h, u.nodename);
}

TEST(hostname_write_changes_uname)
{
	REQUIRE_OK(put("/proc/sys/kernel/hostname", "lt-proc-host\n"));
	struct utsname u;
	REQUIRE_OK(uname(&u));
	CHECK_STREQ(u.nodename, "lt-proc-host");
	REQUIRE_OK(sethostname("via-syscall", 11));
	CHECK_STREQ(line("/proc/sys/kernel/hostname"), "via-syscall");
}

TEST(domainname)
{
	REQUIRE_OK(setdomainname("lt.domain", 9));
	CHECK_STREQ(line("/proc/sys/kernel/domainname"), "lt.domain");
	struct utsname u;
	REQUIRE_OK(uname(&u));
	CHECK_STREQ(u.domainname, "lt.domain");
}

TEST(hostname_write_unprivileged_eacces)
{
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	CHECK_ERR(open("/proc/sys/kernel/hostname", O_WRONLY), EACCES);
	CHECK_ERR(sethostname("x", 1), EPERM);
}

TEST(ostype_osrelease_version)
{
	struct utsname u;
	REQUIRE_OK(uname(&u));
	CHECK_STREQ(line("/proc/sys/kernel/ostype"), "Linux");
	CHECK_STREQ(u.sysname, "Linux");
	CHECK_STREQ(line("/proc/sys/kernel/osrelease"), u.release);
	CHECK_STREQ(line("/proc/sys/kernel/version"), u.version);
	/* /proc/version names the same release. */
	char want[128];
	snprintf(want, sizeof(want), "Linux version %s ", u.release);
	CHECK_EQ(strncmp(slurp("/proc/version"), want, strlen(want)), 0);
}

TEST(pid_max_bounds_pids)
{
	const char *v = line("/proc/sys/kernel/pid_max");
	REQUIRE(v != NULL);
	long max = atol(v);
	CHECK_GE(max, 32768);
	CHECK_LT(getpid(), max);
}

TEST(ngroups_max_matches_sysconf)
{
	const char *v = line("/proc/sys/kernel/ngroups_max");
	REQUIRE(v != NULL);
	CHECK_EQ(atol(v), sysconf(_SC_NGROUPS_MAX));
	CHECK_EQ(atol(v), 65536);
}

TEST(boot_id_stable_uuid_changes)
{
	char a[64], b[64];
	snprintf(a, sizeof(a), "%s", line("/proc/sys/kernel/random/boot_id"));
	snprintf(b, sizeof(b), "%s", line("/proc/sys/kernel/random/boot_id"));
	CHECK(is_uuid(a));
	CHECK_STREQ(a, b);
	snprintf(a, sizeof(a), "%s", line("/proc/sys/kernel/random/uuid"));
	snprintf(b, sizeof(b), "%s", line("/proc/sys/kernel/random/uuid"));
	CHECK(is_uuid(a));
	CHECK(is_uuid(b));
	CHECK(strcmp(a, b) != 0);
	/* Version 4: the 15th character is 4. */
	CHECK_EQ(a[14], '4');
}

TEST(entropy_avail_and_poolsize)
{
	const char *v = line("/proc/sys/kernel/random/entropy_avail");
	REQUIRE(v != NULL);
	CHECK_EQ(atol(v), 256);
	v = line("/proc/sys/kernel/random/poolsize");
	REQUIRE(v != NULL);
	CHECK_EQ(atol(v), 256);
}

TEST(nr_open_bounds_nofile)
{
	const char *v = line("/proc/sys/fs/nr_open");
	REQUIRE(v != NULL);
	long nr = atol(v);
	CHECK_GE(nr, 1024);
	struct rlimit rl;
	REQUIRE_OK(getrlimit(RLIMIT_NOFILE, &rl));
	CHECK_LE(rl.rlim_max, nr);
	/* Above nr_open is refused even with CAP_SYS_RESOURCE. */
	rl.rlim_cur = rl.rlim_max = nr + 1;
	CHECK_ERR(setrlimit(RLIMIT_NOFILE, &rl), EPERM);
}

TEST(file_max_and_nr)
{
	const char *v = line("/proc/sys/fs/file-max");
	REQUIRE(v != NULL);
	CHECK_GT(atoll(v), 0);
	const char *n = line("/proc/sys/fs/file-nr");
	REQUIRE(n != NULL);
	long long a, b, c;
	CHECK_EQ(sscanf(n, "%lld %lld %lld", &a, &b, &c), 3);
}

TEST(vm_overcommit)
{
	const char *v = line("/proc/sys/vm/overcommit_memory");
	REQUIRE(v != NULL);
	int m = atoi(v);
	CHECK(m >= 0 && m <= 2);
	CHECK(line("/proc/sys/vm/max_map_count") != NULL);
	CHECK_GT(atol(line("/proc/sys/vm/max_map_count")), 0);
}

TEST(inotify_limits)
{
	CHECK_GT(atol(line("/proc/sys/fs/inotify/max_user_watches")), 0);
	CHECK_GT(atol(line("/proc/sys/fs/inotify/max_user_instances")), 0);
	CHECK_GT(atol(line("/proc/sys/fs/inotify/max_queued_events")), 0);
}

TEST(somaxconn_and_port_range)
{
	const char *v = line("/proc/sys/net/core/somaxconn");
	REQUIRE(v != NULL);
	CHECK_GE(atol(v), 128);
	v = line("/proc/sys/net/ipv4/ip_local_port_range");
	REQUIRE(v != NULL);
	int lo, hi;
	REQUIRE_EQ(sscanf(v, "%d %d", &lo, &hi), 2);
	CHECK_LT(lo, hi);
	CHECK_LE(hi, 65535);
}

TEST(sys_files_modes)
{
	struct stat st;
	REQUIRE_OK(stat("/proc/sys/kernel/hostname", &st));
	CHECK_EQ(st.st_mode & 0777, 0644);
	REQUIRE_OK(stat("/proc/sys/kernel/osrelease", &st));
	CHECK_EQ(st.st_mode & 0777, 0444);
	REQUIRE_OK(stat("/proc/sys/kernel", &st));
	CHECK(S_ISDIR(st.st_mode));
	CHECK_EQ(st.st_mode & 0777, 0555);
}
