/* /sys as a container has it (a read-only sysfs of its own network
 * namespace; the runner mounts one natively): the CPUs glibc, lscpu and
 * runtimes read, agreeing with sched_getaffinity, /proc/stat and
 * /proc/cpuinfo; the network interfaces; the usual directories; statfs;
 * and the errors of changes. */
#include "lt.h"
#include "procfs.h"
#include <dirent.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysinfo.h>

#define SYSFS_MAGIC 0x62656572
#define CPU "/sys/devices/system/cpu"

/* parse_list reads a CPU list ("0-3,6") into set; -1 if malformed. */
static int parse_list(const char *s, cpu_set_t *set)
{
	CPU_ZERO(set);
	if (s == NULL)
		return -1;
	while (*s && *s != '\n') {
		char *end;
		long a = strtol(s, &end, 10), b = a;
		if (end == s || a < 0 || a >= CPU_SETSIZE)
			return -1;
		s = end;
		if (*s == '-') {
			b = strtol(s + 1, &end, 10);
			if (end == s + 1 || b < a || b >= CPU_SETSIZE)
				return -1;
			s = end;
		}
		for (long i = a; i <= b; i++)
			CPU_SET(i, set);
		if (*s == ',')
			s++;
		else if (*s && *s != '\n')
			return -1;
	}
	return 0;
}

/* read_list parses the CPU list file at path; fails the case if it cannot. */
static void read_list(const char *path, cpu_set_t *set)
{
	const char *s = slurp(path);
	if (s == NULL)
		ABORT("read %s: %s", path, strerror(errno));
	if (parse_list(s, set) < 0)
		ABORT("%s: bad CPU list \"%s\"", path, s);
}

static int subset(cpu_set_t *a, cpu_set_t *b)
{
	cpu_set_t x;
	CPU_AND(&x, a, b);
	return CPU_EQUAL(&x, a);
}

TEST(top_level_directories)
{
	static const char *want[] = {"block", "bus", "class", "dev", "devices", "firmware",
				     "fs", "kernel", "module", "power"};
	int found[10] = {0};
	DIR *d = opendir("/sys");
	REQUIRE(d != NULL);
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		for (int i = 0; i < 10; i++)
			if (strcmp(e->d_name, want[i]) == 0) {
				found[i]++;
				CHECK_EQ(e->d_type, DT_DIR);
			}
	closedir(d);
	for (int i = 0; i < 10; i++)
		if (found[i] != 1)
			FAIL("/sys/%s listed %d times", want[i], found[i]);
}

TEST(statfs_magic_and_flags)
{
	struct statfs sf;
	REQUIRE_OK(statfs("/sys/devices/system/cpu", &sf));
	CHECK_EQ(sf.f_type, SYSFS_MAGIC);
	CHECK_EQ(sf.f_bsize, 4096);
	CHECK_EQ(sf.f_namelen, 255);
	struct statvfs sv;
	REQUIRE_OK(statvfs("/sys", &sv));
	CHECK(sv.f_flag & ST_RDONLY);
	CHECK(sv.f_flag & ST_NOSUID);
	CHECK(sv.f_flag & ST_NODEV);
	CHECK(sv.f_flag & ST_NOEXEC);
}

TEST(mounts_line)
{
	const char *s = slurp("/proc/self/mounts");
	REQUIRE(s != NULL);
	CHECK(strstr(s, "sysfs /sys sysfs ro,nosuid,nodev,noexec,relatime 0 0\n") != NULL);
}

/* online, possible and present nest, hold the CPUs the caller may run
 * on, and online is what /proc/stat and /proc/cpuinfo list and what
 * glibc counts. */
TEST(cpu_ranges)
{
	cpu_set_t online, possible, present, aff;
	read_list(CPU "/online", &online);
	read_list(CPU "/possible", &possible);
	read_list(CPU "/present", &present);
	REQUIRE_OK(sched_getaffinity(0, sizeof(aff), &aff));
	CHECK_GT(CPU_COUNT(&online), 0);
	CHECK(subset(&aff, &online));
	CHECK(subset(&online, &present));
	CHECK(subset(&present, &possible));
	CHECK_EQ(get_nprocs(), CPU_COUNT(&online));
	CHECK_EQ(sysconf(_SC_NPROCESSORS_ONLN), CPU_COUNT(&online));
	CHECK_EQ(get_nprocs_conf(), CPU_COUNT(&possible));

	/* /proc/stat's cpuN lines are the online CPUs. */
	cpu_set_t stat;
	CPU_ZERO(&stat);
	const char *s = slurp("/proc/stat");
	REQUIRE(s != NULL);
	for (const char *p = s; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		int n;
		/* Not the "cpu  " line of the totals (%d would skip blanks). */
		if (strncmp(p, "cpu", 3) == 0 && p[3] >= '0' && p[3] <= '9' && sscanf(p + 3, "%d", &n) == 1 &&
		    n < CPU_SETSIZE)
			CPU_SET(n, &stat);
	}
	CHECK(CPU_EQUAL(&stat, &online));
	/* So are /proc/cpuinfo's processors. */
	cpu_set_t info;
	CPU_ZERO(&info);
	s = slurp("/proc/cpuinfo");
	REQUIRE(s != NULL);
	for (const char *p = s; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		int n;
		if (sscanf(p, "processor : %d", &n) == 1 && n >= 0 && n < CPU_SETSIZE)
			CPU_SET(n, &info);
	}
	CHECK(CPU_EQUAL(&info, &online));
	/* No CPU is offline: offline is an empty list. */
	CHECK_STREQ(slurp(CPU "/offline"), "\n");
}

/* Each present CPU has its directory, with the topology lscpu reads. */
TEST(cpu_directories)
{
	cpu_set_t present, online, dirs;
	read_list(CPU "/present", &present);
	read_list(CPU "/online", &online);
	CPU_ZERO(&dirs);
	DIR *d = opendir(CPU);
	REQUIRE(d != NULL);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		int n, len = 0;
		if (sscanf(e->d_name, "cpu%d%n", &n, &len) == 1 && e->d_name[len] == 0 && n >= 0 && n < CPU_SETSIZE) {
			CHECK_EQ(e->d_type, DT_DIR);
			CPU_SET(n, &dirs);
		}
	}
	closedir(d);
	CHECK(CPU_EQUAL(&dirs, &present));
	for (int n = 0; n < CPU_SETSIZE; n++) {
		if (!CPU_ISSET(n, &online))
			continue;
		char p[256];
		struct stat st;
		snprintf(p, sizeof(p), CPU "/cpu%d", n);
		REQUIRE_OK(stat(p, &st));
		CHECK(S_ISDIR(st.st_mode));
		snprintf(p, sizeof(p), CPU "/cpu%d/topology/core_id", n);
		const char *s = slurp(p);
		CHECK(s != NULL && atoi(s) >= 0);
		snprintf(p, sizeof(p), CPU "/cpu%d/topology/physical_package_id", n);
		s = slurp(p);
		CHECK(s != NULL && atoi(s) >= 0);
		cpu_set_t sib;
		snprintf(p, sizeof(p), CPU "/cpu%d/topology/thread_siblings_list", n);
		read_list(p, &sib);
		CHECK(CPU_ISSET(n, &sib));
		snprintf(p, sizeof(p), CPU "/cpu%d/topology/core_siblings_list", n);
		read_list(p, &sib);
		CHECK(CPU_ISSET(n, &sib));
		/* The boot CPU of x86 cannot go offline and has no online file;
		 * the others say they are online. */
		snprintf(p, sizeof(p), CPU "/cpu%d/online", n);
		s = slurp(p);
		if (n > 0) {
			CHECK_STREQ(s, "1\n");
		}
#ifdef __x86_64__
		if (n == 0) {
			CHECK(s == NULL && errno == ENOENT);
		}
#endif
	}
}

TEST(node0)
{
	struct stat st;
	REQUIRE_OK(stat("/sys/devices/system/node/node0", &st));
	if (stat("/sys/devices/system/node/node1", &st) == 0)
		return; /* several nodes: node0 has some of the CPUs only */
	cpu_set_t online, node;
	read_list(CPU "/online", &online);
	read_list("/sys/devices/system/node/node0/cpulist", &node);
	CHECK(CPU_EQUAL(&online, &node));
	CHECK_STREQ(slurp("/sys/devices/system/node/online"), "0\n");
	const char *s = slurp("/sys/devices/system/node/node0/meminfo");
	REQUIRE(s != NULL);
	long long total = -1;
	CHECK(sscanf(s, "Node 0 MemTotal: %lld kB", &total) == 1);
	CHECK_GT(total, 0);
}

TEST(transparent_hugepage)
{
	const char *s = slurp("/sys/kernel/mm/transparent_hugepage/enabled");
	REQUIRE(s != NULL);
	/* One of the settings is chosen: "always [madvise] never". */
	int chosen = 0;
	chosen += strstr(s, "[always]") != NULL;
	chosen += strstr(s, "[madvise]") != NULL;
	chosen += strstr(s, "[never]") != NULL;
	CHECK_EQ(chosen, 1);
	s = slurp("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size");
	REQUIRE(s != NULL);
	long long size = atoll(s);
	CHECK_GE(size, 4096);
	CHECK_EQ(size & (size - 1), 0);
}

TEST(cgroup_mount_point)
{
	struct stat st;
	REQUIRE_OK(stat("/sys/fs/cgroup", &st));
	CHECK(S_ISDIR(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0555);
	/* A permanently empty directory: nothing can be made in it. */
	CHECK_ERR(mkdir("/sys/fs/cgroup/x", 0755), ENOENT);
	DIR *d = opendir("/sys/fs/cgroup");
	REQUIRE(d != NULL);
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	CHECK_EQ(n, 0);
}

/* check_read_only makes every kind of change and expects EROFS. */
static void check_read_only(void)
{
	CHECK_ERR(open(CPU "/online", O_WRONLY), EROFS);
	CHECK_ERR(open(CPU "/online", O_RDWR), EROFS);
	CHECK_ERR(open(CPU "/cpu1/online", O_WRONLY), EROFS);
	CHECK_ERR(open("/sys/kernel/lt_new", O_WRONLY | O_CREAT, 0644), EROFS);
	CHECK_ERR(mkdir("/sys/kernel/lt_dir", 0755), EROFS);
	CHECK_ERR(unlink(CPU "/online"), EROFS);
	CHECK_ERR(rmdir("/sys/block"), EROFS);
	CHECK_ERR(rename(CPU "/online", CPU "/lt_moved"), EROFS);
	CHECK_ERR(symlink("x", "/sys/kernel/lt_link"), EROFS);
	CHECK_ERR(chmod(CPU "/online", 0666), EROFS);
	CHECK_ERR(truncate(CPU "/online", 0), EROFS);
	CHECK_ERR(access(CPU "/online", W_OK), EROFS);
	CHECK_OK(access(CPU "/online", R_OK));
}

TEST(read_only_as_root)
{
	check_read_only();
}

/* A container's /sys is a read-only superblock: a user without
 * permission gets EROFS too, not EACCES. */
TEST(read_only_as_user)
{
	REQUIRE_OK(setgid(65534));
	REQUIRE_OK(setuid(65534));
	check_read_only();
}

TEST(attribute_file)
{
	struct stat st;
	REQUIRE_OK(stat(CPU "/online", &st));
	CHECK(S_ISREG(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0444);
	CHECK_EQ(st.st_size, 4096);
	CHECK_EQ(st.st_uid, 0);
	CHECK_EQ(st.st_nlink, 1);
	int fd = REQUIRE_OK(open(CPU "/online", O_RDONLY));
	char all[64], piece[64];
	ssize_t n = REQUIRE_OK(read(fd, all, sizeof(all)));
	REQUIRE_GT(n, 1);
	CHECK_EQ(all[n - 1], '\n');
	CHECK_EQ(read(fd, piece, sizeof(piece)), 0);
	/* Partial reads continue where they were. */
	CHECK_EQ(pread(fd, piece, 1, 0), 1);
	CHECK_EQ(pread(fd, piece + 1, sizeof(piece) - 1, 1), n - 1);
	CHECK_MEMEQ(piece, all, n);
	/* Seeks are relative to the size stat shows. */
	CHECK_EQ(lseek(fd, 0, SEEK_END), 4096);
	CHECK_EQ(lseek(fd, 5000, SEEK_SET), 5000);
	CHECK_EQ(read(fd, piece, sizeof(piece)), 0);
	close(fd);
	/* Directories: 2 links plus their subdirectories. */
	REQUIRE_OK(stat("/sys/fs/cgroup", &st));
	CHECK_EQ(st.st_nlink, 2);
	REQUIRE_OK(stat("/sys", &st));
	CHECK_EQ(st.st_mode & 07777, 0555);
	CHECK_GE(st.st_nlink, 12);
}

TEST(getdents_inodes_match_stat)
{
	DIR *d = opendir(CPU);
	REQUIRE(d != NULL);
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, "..") == 0)
			continue;
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			FAIL("stat %s: %s", e->d_name, strerror(errno));
			continue;
		}
		CHECK_EQ(st.st_ino, e->d_ino);
		n++;
	}
	closedir(d);
	CHECK_GE(n, 4);
}

/* /sys/class/net lists the interfaces of the network namespace, each a
 * link to its device, whose attributes agree with the ioctls. */
TEST(class_net)
{
	struct if_nameindex *ifs = if_nameindex();
	REQUIRE(ifs != NULL);
	int want = 0;
	for (struct if_nameindex *i = ifs; i->if_index; i++)
		want++;
	int sock = REQUIRE_OK(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	DIR *d = opendir("/sys/class/net");
	REQUIRE(d != NULL);
	struct dirent *e;
	int got = 0, lo = 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		got++;
		lo += strcmp(e->d_name, "lo") == 0;
		CHECK_EQ(e->d_type, DT_LNK);
		char p[256], target[256], want_target[256];
		snprintf(p, sizeof(p), "/sys/class/net/%s", e->d_name);
		ssize_t n = readlink(p, target, sizeof(target) - 1);
		REQUIRE_GT(n, 0);
		target[n] = 0;
		/* Virtual devices: the sandbox's and a fresh namespace's. */
		snprintf(want_target, sizeof(want_target), "../../devices/virtual/net/%s", e->d_name);
		CHECK_STREQ(target, want_target);
		snprintf(p, sizeof(p), "/sys/class/net/%s/ifindex", e->d_name);
		const char *s = slurp(p);
		CHECK(s != NULL && (unsigned)atoi(s) == if_nametoindex(e->d_name));
		struct ifreq ifr = {0};
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", e->d_name);
		REQUIRE_OK(ioctl(sock, SIOCGIFMTU, &ifr));
		snprintf(p, sizeof(p), "/sys/class/net/%s/mtu", e->d_name);
		s = slurp(p);
		CHECK(s != NULL && atoi(s) == ifr.ifr_mtu);
		REQUIRE_OK(ioctl(sock, SIOCGIFFLAGS, &ifr));
		snprintf(p, sizeof(p), "/sys/class/net/%s/flags", e->d_name);
		s = slurp(p);
		/* The attribute has the device's flags, the ioctl adds the
		 * operational state (IFF_RUNNING). */
		CHECK(s != NULL && strtol(s, NULL, 16) == (ifr.ifr_flags & 0xffff & ~IFF_RUNNING));
	}
	closedir(d);
	CHECK_EQ(got, want);
	CHECK_EQ(lo, 1);
	CHECK_STREQ(slurp("/sys/class/net/lo/type"), "772\n");
	CHECK_STREQ(slurp("/sys/class/net/lo/address"), "00:00:00:00:00:00\n");
	CHECK_STREQ(slurp("/sys/class/net/lo/operstate"), "unknown\n");
	CHECK_STREQ(slurp("/sys/devices/virtual/net/lo/ifindex"), "1\n");
	if_freenameindex(ifs);
	close(sock);
}
