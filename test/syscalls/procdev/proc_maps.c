/* /proc/PID/maps (and smaps): lines match the real mappings. */
#include "lt.h"
#include "procfs.h"
#include <sys/mman.h>

struct line {
	unsigned long start, end, off;
	char perms[8];
	unsigned dmaj, dmin;
	unsigned long ino;
	char path[512];
};

/* find returns the maps line containing addr. */
static int find(const char *maps, unsigned long addr, struct line *out)
{
	for (const char *p = maps; p && *p;) {
		struct line l = {0};
		int used = 0;
		if (sscanf(p, "%lx-%lx %7s %lx %x:%x %lu%n", &l.start, &l.end, l.perms, &l.off, &l.dmaj, &l.dmin,
			   &l.ino, &used) < 7)
			return 0;
		const char *q = p + used;
		while (*q == ' ')
			q++;
		size_t n = strcspn(q, "\n");
		snprintf(l.path, sizeof(l.path), "%.*s", (int)n, q);
		if (addr >= l.start && addr < l.end) {
			*out = l;
			return 1;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return 0;
}

static const char *maps(void)
{
	const char *m = slurp("/proc/self/maps");
	if (m == NULL)
		ABORT("read maps: %s", strerror(errno));
	return m;
}

TEST(anonymous_mapping_perms)
{
	char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(p != MAP_FAILED);
	struct line l;
	REQUIRE(find(maps(), (unsigned long)p, &l));
	CHECK_EQ(l.start, (unsigned long)p);
	CHECK_GE(l.end, (unsigned long)p + 3 * 4096);
	CHECK_STREQ(l.perms, "rw-p");
	CHECK_EQ(l.off, 0);
	CHECK_EQ(l.ino, 0);
	CHECK_STREQ(l.path, "");
}

TEST(mprotect_splits)
{
	char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(p != MAP_FAILED);
	REQUIRE_OK(mprotect(p + 4096, 4096, PROT_READ | PROT_EXEC));
	struct line l;
	REQUIRE(find(maps(), (unsigned long)p + 4096, &l));
	CHECK_EQ(l.start, (unsigned long)p + 4096);
	CHECK_EQ(l.end, (unsigned long)p + 2 * 4096);
	CHECK_STREQ(l.perms, "r-xp");
	REQUIRE(find(maps(), (unsigned long)p + 2 * 4096, &l));
	CHECK_EQ(l.start, (unsigned long)p + 2 * 4096);
	CHECK_STREQ(l.perms, "rw-p");
}

TEST(prot_none_and_shared)
{
	char *a = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *b = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE(a != MAP_FAILED && b != MAP_FAILED);
	struct line l;
	REQUIRE(find(maps(), (unsigned long)a, &l));
	CHECK_STREQ(l.perms, "---p");
	REQUIRE(find(maps(), (unsigned long)b, &l));
	CHECK_STREQ(l.perms, "rw-s");
	/* Shared anonymous memory is a deleted /dev/zero file. */
	CHECK_STREQ(l.path, "/dev/zero (deleted)");
	CHECK_NE(l.ino, 0);
}

TEST(file_mapping_offset_and_path)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s", lt_path("mapped"));
	int fd = REQUIRE_OK(open(path, O_CREAT | O_RDWR, 0600));
	REQUIRE_OK(ftruncate(fd, 4 * 4096));
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	char *p = mmap(NULL, 2 * 4096, PROT_READ, MAP_PRIVATE, fd, 2 * 4096);
	REQUIRE(p != MAP_FAILED);
	struct line l;
	REQUIRE(find(maps(), (unsigned long)p, &l));
	CHECK_EQ(l.start, (unsigned long)p);
	CHECK_EQ(l.end, (unsigned long)p + 2 * 4096);
	CHECK_STREQ(l.perms, "r--p");
	CHECK_EQ(l.off, 2 * 4096);
	CHECK_EQ(l.ino, st.st_ino);
	/* The scratch path may go through symlinks; compare the name. */
	const char *base = strrchr(l.path, '/');
	CHECK(base != NULL && strcmp(base, "/mapped") == 0);
}

TEST(shared_file_mapping_rw)
{
	int fd = REQUIRE_OK(open(lt_path("m"), O_CREAT | O_RDWR, 0600));
	REQUIRE_OK(ftruncate(fd, 4096));
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE(p != MAP_FAILED);
	struct line l;
	REQUIRE(find(maps(), (unsigned long)p, &l));
	CHECK_STREQ(l.perms, "rw-s");
}

TEST(deleted_file_marked)
{
	int fd = REQUIRE_OK(open(lt_path("gone"), O_CREAT | O_RDWR, 0600));
	REQUIRE_OK(ftruncate(fd, 4096));
	char *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	REQUIRE(p != MAP_FAILED);
	REQUIRE_OK(unlink(lt_path("gone")));
	struct line l;
	REQUIRE(find(maps(), (unsigned long)p, &l));
	size_t n = strlen(l.path);
	CHECK(n > 10 && strcmp(l.path + n - 10, " (deleted)") == 0);
}

TEST(munmap_removes)
{
	char *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(p != MAP_FAILED);
	struct line l;
	REQUIRE(find(maps(), (unsigned long)p, &l));
	REQUIRE_OK(munmap(p, 4096));
	if (find(maps(), (unsigned long)p, &l))
		FAIL("%p still mapped: %lx-%lx", p, l.start, l.end);
}

TEST(special_regions)
{
	const char *m = maps();
	CHECK(strstr(m, "[stack]") != NULL);
	CHECK(strstr(m, "[vdso]") != NULL);
	int x;
	struct line l;
	REQUIRE(find(m, (unsigned long)&x, &l));
	CHECK_STREQ(l.path, "[stack]");
	CHECK_STREQ(l.perms, "rw-p");
	void *h = malloc(100);
	REQUIRE(find(maps(), (unsigned long)h, &l));
	CHECK_STREQ(l.path, "[heap]");
	free(h);
}

TEST(executable_text_mapped_from_exe)
{
	char exe[4096] = {0};
	REQUIRE_GT(readlink("/proc/self/exe", exe, sizeof(exe) - 1), 0);
	struct line l;
	REQUIRE(find(maps(), (unsigned long)&find, &l));
	CHECK_STREQ(l.path, exe);
	CHECK_EQ(l.perms[2], 'x');
	CHECK_EQ(l.perms[3], 'p');
}

TEST(lines_sorted_and_disjoint)
{
	const char *m = maps();
	unsigned long prev = 0;
	int lines = 0;
	for (const char *p = m; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		unsigned long s, e;
		REQUIRE_EQ(sscanf(p, "%lx-%lx", &s, &e), 2);
		/* Unsigned: [vsyscall] lies at the top of the address space. */
		CHECK(s < e);
		CHECK(s >= prev);
		CHECK_EQ(s % 4096, 0);
		prev = e;
		lines++;
	}
	CHECK_GT(lines, 5);
}

TEST(child_maps_readable_by_parent)
{
	char *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(p != MAP_FAILED);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		pause();
		_exit(0);
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	const char *m = slurp(path);
	REQUIRE(m != NULL);
	struct line l;
	REQUIRE(find(m, (unsigned long)p, &l));
	CHECK_STREQ(l.perms, "r-xp");
	kill(pid, SIGKILL);
	lt_wait_exit(pid);
}

TEST(smaps_size_and_rss)
{
	size_t len = 8 * 4096;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(p != MAP_FAILED);
	/* A guard page of another protection keeps the vma separate. */
	REQUIRE_OK(mprotect(p + len - 4096, 4096, PROT_NONE));
	for (int i = 0; i < 3; i++)
		p[i * 4096] = 1;
	const char *s = slurp("/proc/self/smaps");
	REQUIRE(s != NULL);
	char hdr[64];
	snprintf(hdr, sizeof(hdr), "%lx-", (unsigned long)p);
	const char *at = strstr(s, hdr);
	REQUIRE(at != NULL);
	CHECK_EQ(field_ll(at, "Size"), 28);
	/* The touched pages at least (a kernel may map some ahead). */
	CHECK_GE(field_ll(at, "Rss"), 12);
	CHECK_LE(field_ll(at, "Rss"), 28);
	CHECK_GE(field_ll(at, "Anonymous"), 12);
	CHECK_EQ(field_ll(at, "KernelPageSize"), 4);
}
