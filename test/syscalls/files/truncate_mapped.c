/* Shrinking and hole punching under shared and private mappings: mappings see the file as it is now (zeros, SIGBUS past the end), in every process. */
#include "shm.h"

#include <linux/falloc.h>
#include <setjmp.h>
#include <sys/mman.h>

#define PG 4096

static char *map_file(int fd, size_t len, int flags)
{
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (m == MAP_FAILED)
		ABORT("mmap: %s", strerror(errno));
	return m;
}

static int filled(const char *path, size_t len)
{
	int fd = lt_file(path, "");
	REQUIRE_OK(ftruncate(fd, len));
	char *m = map_file(fd, len, MAP_SHARED);
	memset(m, 'q', len);
	REQUIRE_OK(munmap(m, len));
	return fd;
}

static void check_punch_shared(const char *path)
{
	int fd = filled(path, 4 * PG);
	char *m = map_file(fd, 4 * PG, MAP_SHARED);
	CHECK_EQ(m[PG + 1], 'q');
	REQUIRE_OK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, PG, 2 * PG));
	CHECK_EQ(m[PG + 1], 0);
	CHECK_EQ(m[3 * PG - 1], 0);
	CHECK_EQ(m[PG - 1], 'q');
	CHECK_EQ(m[3 * PG], 'q');
	/* A write through the mapping lands in the file again. */
	m[PG + 7] = 'w';
	char c;
	CHECK_EQ(pread(fd, &c, 1, PG + 7), 1);
	CHECK_EQ(c, 'w');
}

TEST(punch_under_shared_mapping) { check_punch_shared(lt_path("f")); }
TEST(punch_under_shared_mapping_tmpfs) { check_punch_shared(lt_shm_path("f")); }

static void check_punch_partial_page(const char *path)
{
	int fd = filled(path, 2 * PG);
	char *m = map_file(fd, 2 * PG, MAP_SHARED);
	CHECK_EQ(m[100], 'q');
	REQUIRE_OK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100, 50));
	CHECK_EQ(m[99], 'q');
	CHECK_EQ(m[100], 0);
	CHECK_EQ(m[149], 0);
	CHECK_EQ(m[150], 'q');
}

TEST(punch_partial_page_mapped) { check_punch_partial_page(lt_path("f")); }
TEST(punch_partial_page_mapped_tmpfs) { check_punch_partial_page(lt_shm_path("f")); }

static void check_shrink_regrow(const char *path)
{
	int fd = filled(path, 3 * PG);
	char *m = map_file(fd, 3 * PG, MAP_SHARED);
	CHECK_EQ(m[2 * PG], 'q');
	REQUIRE_OK(ftruncate(fd, PG + 10));
	REQUIRE_OK(ftruncate(fd, 3 * PG));
	/* The tail of the partial page and the pages past it read as zeros. */
	CHECK_EQ(m[PG + 9], 'q');
	CHECK_EQ(m[PG + 10], 0);
	CHECK_EQ(m[2 * PG], 0);
}

TEST(shrink_and_regrow_mapped) { check_shrink_regrow(lt_path("f")); }
TEST(shrink_and_regrow_mapped_tmpfs) { check_shrink_regrow(lt_shm_path("f")); }

static sigjmp_buf jb;
static void on_bus(int sig)
{
	(void)sig;
	siglongjmp(jb, 1);
}

static void check_sigbus_after_shrink(const char *path)
{
	int fd = filled(path, 3 * PG);
	char *m = map_file(fd, 3 * PG, MAP_SHARED);
	CHECK_EQ(m[2 * PG], 'q');
	REQUIRE_OK(ftruncate(fd, PG));
	struct sigaction sa = {.sa_handler = on_bus};
	REQUIRE_OK(sigaction(SIGBUS, &sa, NULL));
	volatile int got = 0;
	if (sigsetjmp(jb, 1) == 0)
		got = *(volatile char *)(m + 2 * PG);
	else
		got = -1;
	CHECK_EQ(got, -1);
}

TEST(sigbus_past_new_end) { check_sigbus_after_shrink(lt_path("f")); }
TEST(sigbus_past_new_end_tmpfs) { check_sigbus_after_shrink(lt_shm_path("f")); }

TEST(other_process_sees_punch_tmpfs)
{
	int fd = filled(lt_shm_path("f"), 2 * PG);
	char *m = map_file(fd, 2 * PG, MAP_SHARED);
	CHECK_EQ(m[PG], 'q');
	int go[2], done[2];
	REQUIRE_OK(pipe(go));
	REQUIRE_OK(pipe(done));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		/* The child's inherited mapping has the page present. */
		char c = m[PG];
		write(done[1], &c, 1);
		read(go[0], &c, 1);
		_exit(m[PG] == 0 ? 0 : 1);
	}
	char c;
	REQUIRE_EQ(read(done[0], &c, 1), 1);
	CHECK_EQ(c, 'q');
	REQUIRE_OK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, PG, PG));
	REQUIRE_EQ(write(go[1], "g", 1), 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(private_copies_survive_punch_tmpfs)
{
	int fd = filled(lt_shm_path("f"), 8 * PG);
	char *p = map_file(fd, 8 * PG, MAP_PRIVATE);
	CHECK_EQ(p[7 * PG], 'q'); /* page 7 read from the file, not copied */
	p[10] = 'x';              /* a private copy of page 0 */
	REQUIRE_OK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 8 * PG));
	/* The copy is the process's own; the file page shows the hole. */
	CHECK_EQ(p[10], 'x');
	CHECK_EQ(p[11], 'q');
	CHECK_EQ(p[7 * PG], 0);
}

TEST(madvise_remove_other_mapping_tmpfs)
{
	int fd = filled(lt_shm_path("f"), 2 * PG);
	char *a = map_file(fd, 2 * PG, MAP_SHARED);
	char *b = map_file(fd, 2 * PG, MAP_SHARED);
	CHECK_EQ(b[PG], 'q');
	REQUIRE_OK(madvise(a, 2 * PG, MADV_REMOVE));
	CHECK_EQ(a[PG], 0);
	CHECK_EQ(b[PG], 0);
	char c;
	CHECK_EQ(pread(fd, &c, 1, PG), 1);
	CHECK_EQ(c, 0);
}
