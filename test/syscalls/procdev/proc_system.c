/* System-wide /proc files as glibc, procps and python read them: uptime,
 * meminfo, cpuinfo, stat, loadavg, version, filesystems. */
#include "lt.h"
#include "procfs.h"
#include <sys/sysinfo.h>
#include <time.h>

TEST(uptime_format_and_monotonic)
{
	const char *s = slurp("/proc/uptime");
	REQUIRE(s != NULL);
	double up1, idle;
	char nl;
	REQUIRE_EQ(sscanf(s, "%lf %lf%c", &up1, &idle, &nl), 3);
	CHECK_EQ(nl, '\n');
	CHECK(up1 > 0);
	CHECK(idle >= 0);
	/* Two decimals, like Linux. */
	const char *dot = strchr(s, '.');
	REQUIRE(dot != NULL);
	CHECK_EQ(strspn(dot + 1, "0123456789"), 2);
	struct timespec ts = {0, 20000000};
	nanosleep(&ts, NULL);
	double up2;
	REQUIRE_EQ(sscanf(slurp("/proc/uptime"), "%lf", &up2), 1);
	CHECK(up2 >= up1);
}

TEST(uptime_agrees_with_boottime_clock)
{
	struct timespec bt;
	REQUIRE_OK(clock_gettime(CLOCK_BOOTTIME, &bt));
	double up;
	REQUIRE_EQ(sscanf(slurp("/proc/uptime"), "%lf", &up), 1);
	double b = bt.tv_sec + bt.tv_nsec / 1e9;
	CHECK(up >= b - 1 && up <= b + 1);
}

TEST(sysinfo_agrees_with_meminfo)
{
	struct sysinfo si;
	REQUIRE_OK(sysinfo(&si));
	const char *m = slurp("/proc/meminfo");
	REQUIRE(m != NULL);
	long long total = field_ll(m, "MemTotal");
	CHECK_EQ(total, (long long)(si.totalram * si.mem_unit / 1024));
}

TEST(meminfo_fields)
{
	const char *m = slurp("/proc/meminfo");
	REQUIRE(m != NULL);
	/* What free(1), top and psutil read. */
	const char *names[] = {"MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "SwapTotal", "SwapFree",
			       "Shmem", "SReclaimable", "Active", "Inactive", "Committed_AS", "VmallocTotal"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = field(m, names[i]);
		if (v == NULL) {
			FAIL("meminfo lacks %s", names[i]);
			continue;
		}
		CHECK(strstr(v, " kB") != NULL);
	}
	long long total = field_ll(m, "MemTotal"), avail = field_ll(m, "MemAvailable"), free = field_ll(m, "MemFree");
	CHECK_GT(total, 0);
	CHECK_LE(free, total);
	CHECK_LE(avail, total);
	CHECK_GE(field_ll(m, "SwapTotal"), field_ll(m, "SwapFree"));
	/* First line is MemTotal, values right-aligned in a fixed layout. */
	CHECK_EQ(strncmp(m, "MemTotal:", 9), 0);
	const char *nl = strchr(m, '\n');
	REQUIRE(nl != NULL);
	CHECK_EQ(nl - m, 27);
}

TEST(cpuinfo_processors_match_nprocs)
{
	const char *c = slurp("/proc/cpuinfo");
	REQUIRE(c != NULL);
	int procs = 0;
	for (const char *p = c; (p = strstr(p, "processor\t:")) != NULL; p++)
		procs++;
	CHECK_EQ(procs, get_nprocs_conf());
	CHECK_EQ(procs, sysconf(_SC_NPROCESSORS_CONF));
	CHECK(strstr(c, "vendor_id\t: ") != NULL);
	CHECK(strstr(c, "model name\t: ") != NULL);
	CHECK(strstr(c, "flags\t\t: ") != NULL);
	CHECK(strstr(c, "cpu MHz\t\t: ") != NULL);
	/* Each processor block ends with an empty line. */
	size_t n = strlen(c);
	CHECK(n > 2 && c[n - 1] == '\n' && c[n - 2] == '\n');
}

TEST(cpuinfo_flags_match_cpuid)
{
	const char *c = slurp("/proc/cpuinfo");
	REQUIRE(c != NULL);
	const char *f = strstr(c, "flags\t\t: ");
	REQUIRE(f != NULL);
	/* Every x86-64 CPU has these. */
	const char *must[] = {" fpu ", " sse2 ", " cx8 ", " lm "};
	char line[8192];
	snprintf(line, sizeof(line), " %.*s ", (int)strcspn(f + 9, "\n"), f + 9);
	for (size_t i = 0; i < 4; i++)
		CHECK(strstr(line, must[i]) != NULL);
	CHECK_EQ(__builtin_cpu_supports("avx2") != 0, strstr(line, " avx2 ") != NULL);
	CHECK_EQ(__builtin_cpu_supports("sse4.2") != 0, strstr(line, " sse4_2 ") != NULL);
}

TEST(stat_cpu_lines)
{
	const char *s = slurp("/proc/stat");
	REQUIRE(s != NULL);
	CHECK_EQ(strncmp(s, "cpu  ", 5), 0);
	unsigned long long v[10];
	REQUIRE_EQ(sscanf(s + 5, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
			  &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]),
		   10);
	int cpus = 0;
	for (const char *p = s; (p = strstr(p, "\ncpu")) != NULL; p++)
		cpus++;
	CHECK_EQ(cpus, get_nprocs_conf());
}

TEST(stat_btime_procs)
{
	const char *s = slurp("/proc/stat");
	REQUIRE(s != NULL);
	const char *b = strstr(s, "\nbtime ");
	REQUIRE(b != NULL);
	long long btime = atoll(b + 7);
	double up;
	REQUIRE_EQ(sscanf(slurp("/proc/uptime"), "%lf", &up), 1);
	s = slurp("/proc/stat");
	b = strstr(s, "\nbtime ");
	/* btime + uptime is now. */
	long long now = time(NULL);
	CHECK(btime + (long long)up >= now - 2 && btime + (long long)up <= now + 2);
	CHECK(strstr(s, "\nprocesses ") != NULL);
	CHECK(strstr(s, "\nprocs_running ") != NULL);
	CHECK(strstr(s, "\nprocs_blocked ") != NULL);
	CHECK(strstr(s, "\nctxt ") != NULL);
	CHECK(strstr(s, "\nintr ") != NULL);
}

TEST(stat_procs_running_at_least_one)
{
	const char *s = slurp("/proc/stat");
	REQUIRE(s != NULL);
	const char *r = strstr(s, "\nprocs_running ");
	REQUIRE(r != NULL);
	CHECK_GE(atoi(r + 15), 1);
}

TEST(loadavg_format)
{
	const char *s = slurp("/proc/loadavg");
	REQUIRE(s != NULL);
	double a, b, c;
	int running, total, last;
	REQUIRE_EQ(sscanf(s, "%lf %lf %lf %d/%d %d", &a, &b, &c, &running, &total, &last), 6);
	CHECK_GE(a, 0);
	CHECK_GE(running, 1);
	CHECK_GE(total, running);
	CHECK_GT(last, 0);
	double g[3];
	CHECK_EQ(getloadavg(g, 3), 3);
}

TEST(loadavg_last_pid_after_fork)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(0);
	lt_wait_exit(pid);
	const char *s = slurp("/proc/loadavg");
	REQUIRE(s != NULL);
	int last = 0;
	REQUIRE_EQ(sscanf(s, "%*f %*f %*f %*d/%*d %d", &last), 1);
	CHECK_GE(last, pid);
}

TEST(version_and_filesystems)
{
	const char *v = slurp("/proc/version");
	REQUIRE(v != NULL);
	CHECK_EQ(strncmp(v, "Linux version ", 14), 0);
	const char *f = slurp("/proc/filesystems");
	REQUIRE(f != NULL);
	CHECK(strstr(f, "nodev\tproc\n") != NULL);
	CHECK(strstr(f, "nodev\ttmpfs\n") != NULL);
}

TEST(self_stat_starttime_before_uptime)
{
	double up;
	REQUIRE_EQ(sscanf(slurp("/proc/uptime"), "%lf", &up), 1);
	const char *s = slurp("/proc/1/stat");
	REQUIRE(s != NULL);
	const char *p = strrchr(s, ')') + 2;
	unsigned long long v = 0;
	/* Field 22 is starttime; fields after ")" start at 3. */
	for (int i = 3; i <= 22; i++) {
		if (i == 3) {
			p += 2;
			continue;
		}
		v = strtoull(p, (char **)&p, 10);
	}
	CHECK_LE(v, (unsigned long long)(up * 100) + 1);
}

TEST(files_are_read_only)
{
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	CHECK_ERR(open("/proc/uptime", O_WRONLY), EACCES);
	CHECK_ERR(open("/proc/meminfo", O_RDWR), EACCES);
	struct stat st;
	REQUIRE_OK(stat("/proc/cpuinfo", &st));
	CHECK_EQ(st.st_mode & 0777, 0444);
	CHECK_EQ(st.st_size, 0);
}
