/* /proc/PID/limits agrees with getrlimit/prlimit. */
#include "lt.h"
#include "procfs.h"
#include <sys/resource.h>

static const struct {
	int res;
	const char *name;
	const char *unit;
} rows[] = {
	{RLIMIT_CPU, "Max cpu time", "seconds"},
	{RLIMIT_FSIZE, "Max file size", "bytes"},
	{RLIMIT_DATA, "Max data size", "bytes"},
	{RLIMIT_STACK, "Max stack size", "bytes"},
	{RLIMIT_CORE, "Max core file size", "bytes"},
	{RLIMIT_RSS, "Max resident set", "bytes"},
	{RLIMIT_NPROC, "Max processes", "processes"},
	{RLIMIT_NOFILE, "Max open files", "files"},
	{RLIMIT_MEMLOCK, "Max locked memory", "bytes"},
	{RLIMIT_AS, "Max address space", "bytes"},
	{RLIMIT_LOCKS, "Max file locks", "locks"},
	{RLIMIT_SIGPENDING, "Max pending signals", "signals"},
	{RLIMIT_MSGQUEUE, "Max msgqueue size", "bytes"},
	{RLIMIT_NICE, "Max nice priority", ""},
	{RLIMIT_RTPRIO, "Max realtime priority", ""},
	{RLIMIT_RTTIME, "Max realtime timeout", "us"},
};

/* row finds a limits row and parses its soft and hard values (-1: unlimited). */
static int row(const char *text, const char *name, long long *soft, long long *hard, char *unit)
{
	for (const char *p = text; *p;) {
		const char *eol = strchr(p, '\n');
		if (eol == NULL)
			return 0;
		if (strncmp(p, name, strlen(name)) == 0 && p[strlen(name)] == ' ') {
			/* Columns: name (26 wide), soft (21), hard (21), unit. */
			if (eol - p < 26 + 21 + 21)
				return 0;
			char line[256], s[32], h[32];
			snprintf(line, sizeof(line), "%.*s", (int)(eol - p - 26), p + 26);
			unit[0] = 0;
			if (sscanf(line, "%31s %31s %31s", s, h, unit) < 2)
				return 0;
			*soft = strcmp(s, "unlimited") == 0 ? -1 : atoll(s);
			*hard = strcmp(h, "unlimited") == 0 ? -1 : atoll(h);
			return 1;
		}
		p = eol + 1;
	}
	return 0;
}

static long long lim(rlim_t v) { return v == RLIM_INFINITY ? -1 : (long long)v; }

TEST(header_line)
{
	const char *s = slurp("/proc/self/limits");
	REQUIRE(s != NULL);
	CHECK_EQ(strncmp(s, "Limit                     Soft Limit           Hard Limit           Units     \n", 79), 0);
}

TEST(every_row_matches_getrlimit)
{
	const char *s = slurp("/proc/self/limits");
	REQUIRE(s != NULL);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct rlimit rl;
		REQUIRE_OK(getrlimit(rows[i].res, &rl));
		long long soft, hard;
		char unit[32];
		if (!row(s, rows[i].name, &soft, &hard, unit)) {
			FAIL("no row %s", rows[i].name);
			continue;
		}
		CHECK_EQ(soft, lim(rl.rlim_cur));
		CHECK_EQ(hard, lim(rl.rlim_max));
		CHECK_STREQ(unit, rows[i].unit);
	}
}

TEST(setrlimit_shows)
{
	struct rlimit rl = {.rlim_cur = 123, .rlim_max = 456};
	REQUIRE_OK(setrlimit(RLIMIT_NOFILE, &rl));
	rl.rlim_cur = 4096;
	rl.rlim_max = RLIM_INFINITY;
	REQUIRE_OK(setrlimit(RLIMIT_CORE, &rl));
	const char *s = slurp("/proc/self/limits");
	REQUIRE(s != NULL);
	long long soft, hard;
	char unit[32];
	REQUIRE(row(s, "Max open files", &soft, &hard, unit));
	CHECK_EQ(soft, 123);
	CHECK_EQ(hard, 456);
	REQUIRE(row(s, "Max core file size", &soft, &hard, unit));
	CHECK_EQ(soft, 4096);
	CHECK_EQ(hard, -1);
}

TEST(prlimit_of_child_shows_in_its_file)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		pause();
		_exit(0);
	}
	struct rlimit rl = {.rlim_cur = 77, .rlim_max = 88};
	REQUIRE_OK(prlimit(pid, RLIMIT_NOFILE, &rl, NULL));
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/limits", pid);
	const char *s = slurp(path);
	REQUIRE(s != NULL);
	long long soft, hard;
	char unit[32];
	REQUIRE(row(s, "Max open files", &soft, &hard, unit));
	CHECK_EQ(soft, 77);
	CHECK_EQ(hard, 88);
	kill(pid, SIGKILL);
	lt_wait_exit(pid);
}

TEST(inherited_by_child)
{
	struct rlimit rl = {.rlim_cur = 1 << 20, .rlim_max = 1 << 21};
	REQUIRE_OK(setrlimit(RLIMIT_FSIZE, &rl));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		const char *s = slurp("/proc/self/limits");
		long long soft, hard;
		char unit[32];
		if (s == NULL || !row(s, "Max file size", &soft, &hard, unit))
			_exit(2);
		_exit(soft == 1 << 20 && hard == 1 << 21 ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(sixteen_rows)
{
	const char *s = slurp("/proc/self/limits");
	REQUIRE(s != NULL);
	int lines = 0;
	for (const char *p = s; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	CHECK_EQ(lines, 17);
}

TEST(readable_by_other_users)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		pause();
		_exit(0);
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/limits", pid);
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	struct stat st;
	REQUIRE_OK(stat(path, &st));
	CHECK_EQ(st.st_mode & 0777, 0444);
	CHECK_OK(open(path, O_RDONLY));
}
