/* lseek SEEK_DATA and SEEK_HOLE on sparse files: on the scratch file system and on tmpfs. */
#include "shm.h"

#define PG 4096

/* sparse makes a file with data in pages 1 and 4 of 8 (a hole at the end). */
static int sparse(const char *path)
{
	int fd = REQUIRE_OK(open(path, O_CREAT | O_RDWR | O_TRUNC, 0600));
	char buf[PG];
	memset(buf, 'x', sizeof(buf));
	REQUIRE_EQ(pwrite(fd, buf, PG, 1 * PG), PG);
	REQUIRE_EQ(pwrite(fd, buf, PG, 4 * PG), PG);
	REQUIRE_OK(ftruncate(fd, 8 * PG));
	REQUIRE_OK(fsync(fd));
	return fd;
}

static void check_sparse(const char *path)
{
	int fd = sparse(path);
	CHECK_EQ(lseek(fd, 0, SEEK_DATA), 1 * PG);
	CHECK_EQ(lseek(fd, 0, SEEK_HOLE), 0);
	CHECK_EQ(lseek(fd, 1 * PG, SEEK_HOLE), 2 * PG);
	CHECK_EQ(lseek(fd, 1 * PG + 10, SEEK_DATA), 1 * PG + 10);
	CHECK_EQ(lseek(fd, 2 * PG, SEEK_DATA), 4 * PG);
	CHECK_EQ(lseek(fd, 4 * PG, SEEK_HOLE), 5 * PG);
	/* No data after the last extent. */
	CHECK_ERR(lseek(fd, 5 * PG, SEEK_DATA), ENXIO);
	/* The offset moved to where the last success said. */
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 5 * PG);
}

TEST(sparse) { check_sparse(lt_path("f")); }
TEST(sparse_tmpfs) { check_sparse(lt_shm_path("f")); }

static void check_past_end(const char *path)
{
	int fd = sparse(path);
	CHECK_ERR(lseek(fd, 8 * PG, SEEK_DATA), ENXIO);
	CHECK_ERR(lseek(fd, 8 * PG, SEEK_HOLE), ENXIO);
	CHECK_ERR(lseek(fd, 100 * PG, SEEK_HOLE), ENXIO);
	CHECK_ERR(lseek(fd, -1, SEEK_DATA), ENXIO);
	CHECK_ERR(lseek(fd, -1, SEEK_HOLE), ENXIO);
	/* The virtual hole at the end of file. */
	CHECK_EQ(lseek(fd, 8 * PG - 1, SEEK_HOLE), 8 * PG - 1);
}

TEST(past_end_enxio) { check_past_end(lt_path("f")); }
TEST(past_end_enxio_tmpfs) { check_past_end(lt_shm_path("f")); }

static void check_dense(const char *path)
{
	int fd = REQUIRE_OK(open(path, O_CREAT | O_RDWR | O_TRUNC, 0600));
	REQUIRE_EQ(write(fd, "hello", 5), 5);
	CHECK_EQ(lseek(fd, 0, SEEK_DATA), 0);
	CHECK_EQ(lseek(fd, 0, SEEK_HOLE), 5);
	CHECK_EQ(lseek(fd, 3, SEEK_DATA), 3);
	CHECK_EQ(lseek(fd, 3, SEEK_HOLE), 5);
}

TEST(dense) { check_dense(lt_path("f")); }
TEST(dense_tmpfs) { check_dense(lt_shm_path("f")); }

static void check_empty(const char *path)
{
	int fd = REQUIRE_OK(open(path, O_CREAT | O_RDWR | O_TRUNC, 0600));
	CHECK_ERR(lseek(fd, 0, SEEK_DATA), ENXIO);
	CHECK_ERR(lseek(fd, 0, SEEK_HOLE), ENXIO);
}

TEST(empty) { check_empty(lt_path("f")); }
TEST(empty_tmpfs) { check_empty(lt_shm_path("f")); }

static void check_all_hole(const char *path)
{
	int fd = REQUIRE_OK(open(path, O_CREAT | O_RDWR | O_TRUNC, 0600));
	REQUIRE_OK(ftruncate(fd, 10 * PG));
	CHECK_ERR(lseek(fd, 0, SEEK_DATA), ENXIO);
	CHECK_EQ(lseek(fd, 0, SEEK_HOLE), 0);
	CHECK_EQ(lseek(fd, 3 * PG + 1, SEEK_HOLE), 3 * PG + 1);
}

TEST(all_hole) { check_all_hole(lt_path("f")); }
TEST(all_hole_tmpfs) { check_all_hole(lt_shm_path("f")); }

TEST(punched_hole_tmpfs)
{
	int fd = REQUIRE_OK(open(lt_shm_path("f"), O_CREAT | O_RDWR | O_TRUNC, 0600));
	char buf[4 * PG];
	memset(buf, 'y', sizeof(buf));
	REQUIRE_EQ(write(fd, buf, sizeof(buf)), (long)sizeof(buf));
	REQUIRE_OK(fallocate(fd, 3 /* PUNCH_HOLE|KEEP_SIZE */, PG, 2 * PG));
	CHECK_EQ(lseek(fd, 0, SEEK_HOLE), PG);
	CHECK_EQ(lseek(fd, PG, SEEK_DATA), 3 * PG);
	CHECK_EQ(lseek(fd, 3 * PG, SEEK_HOLE), 4 * PG);
}

TEST(non_seekable)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	CHECK_ERR(lseek(p[0], 0, SEEK_DATA), ESPIPE);
	CHECK_ERR(lseek(p[0], 0, SEEK_HOLE), ESPIPE);
}
