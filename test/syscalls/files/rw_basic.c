/* read and write: offsets, short reads at EOF, zero-length calls, access modes and errors. */
#include "shm.h"

#include <sys/mman.h>
#include <sys/resource.h>

static void check_roundtrip(const char *path)
{
	int fd = lt_file(path, "");
	CHECK_EQ(write(fd, "hello ", 6), 6);
	CHECK_EQ(write(fd, "world", 5), 5);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 11);
	REQUIRE_EQ(lseek(fd, 0, SEEK_SET), 0);
	char buf[32] = {0};
	CHECK_EQ(read(fd, buf, 4), 4);
	CHECK_EQ(read(fd, buf + 4, sizeof(buf) - 5), 7);
	CHECK_STREQ(buf, "hello world");
	/* At EOF a read returns 0 and the offset stays. */
	CHECK_EQ(read(fd, buf, sizeof(buf)), 0);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 11);
}

TEST(roundtrip) { check_roundtrip(lt_path("f")); }
TEST(roundtrip_tmpfs) { check_roundtrip(lt_shm_path("f")); }

TEST(overwrite_middle)
{
	int fd = lt_file(lt_path("f"), "abcdefgh");
	REQUIRE_EQ(lseek(fd, 2, SEEK_SET), 2);
	CHECK_EQ(write(fd, "XY", 2), 2);
	char buf[9] = {0};
	CHECK_EQ(pread(fd, buf, 8, 0), 8);
	CHECK_STREQ(buf, "abXYefgh");
}

TEST(zero_length)
{
	int fd = lt_file(lt_path("f"), "abc");
	CHECK_EQ(write(fd, "", 0), 0);
	CHECK_EQ(read(fd, NULL, 0), 0);
	CHECK_EQ(write(fd, NULL, 0), 0);
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_size, 3);
}

TEST(bad_fd)
{
	char c;
	CHECK_ERR(read(-1, &c, 1), EBADF);
	CHECK_ERR(write(-1, &c, 1), EBADF);
	CHECK_ERR(read(10000, &c, 1), EBADF);
	int fd = lt_file(lt_path("f"), "abc");
	REQUIRE_OK(close(fd));
	CHECK_ERR(read(fd, &c, 1), EBADF);
}

TEST(wrong_access_mode)
{
	close(lt_file(lt_path("f"), "abc"));
	int ro = REQUIRE_OK(open(lt_path("f"), O_RDONLY));
	int wo = REQUIRE_OK(open(lt_path("f"), O_WRONLY));
	char c;
	CHECK_ERR(write(ro, "x", 1), EBADF);
	CHECK_ERR(read(wo, &c, 1), EBADF);
}

TEST(efault)
{
	int fd = lt_file(lt_path("f"), "abc");
	REQUIRE_EQ(lseek(fd, 0, SEEK_SET), 0);
	CHECK_ERR(read(fd, lt_bad, 3), EFAULT);
	CHECK_ERR(write(fd, lt_bad, 3), EFAULT);
	/* Nothing was consumed. */
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 0);
}

TEST(partial_efault_short_write)
{
	/* A buffer that runs into unmapped memory writes what it can. */
	long pg = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(p != MAP_FAILED);
	REQUIRE_OK(munmap(p + pg, pg));
	memset(p, 'q', pg);
	int fd = lt_file(lt_path("f"), "");
	CHECK_EQ(write(fd, p + pg - 10, 20), 10);
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_size, 10);
	/* A read into the same buffer stops at the boundary too. */
	REQUIRE_EQ(pwrite(fd, "0123456789abcdefghij", 20, 0), 20);
	REQUIRE_EQ(lseek(fd, 0, SEEK_SET), 0);
	CHECK_EQ(read(fd, p + pg - 10, 20), 10);
	CHECK_MEMEQ(p + pg - 10, "0123456789", 10);
}

TEST(directory_eisdir)
{
	int d = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	char c;
	CHECK_ERR(read(d, &c, 1), EISDIR);
	CHECK_ERR(write(d, &c, 1), EBADF);
}

TEST(huge_count_efault)
{
	/* The whole range [buf, buf+count) must be user memory. */
	int fd = lt_file(lt_path("f"), "abc");
	REQUIRE_EQ(lseek(fd, 0, SEEK_SET), 0);
	char buf[8];
	volatile size_t huge = (size_t)-1 >> 1;
	CHECK_ERR(read(fd, buf, huge), EFAULT);
	CHECK_ERR(write(fd, buf, huge), EFAULT);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 0);
}

TEST(dev_zero_and_null)
{
	int z = REQUIRE_OK(open("/dev/zero", O_RDWR));
	char buf[64];
	memset(buf, 1, sizeof(buf));
	CHECK_EQ(read(z, buf, sizeof(buf)), 64);
	CHECK_EQ(buf[0] | buf[63], 0);
	CHECK_EQ(write(z, buf, 64), 64);
	int n = REQUIRE_OK(open("/dev/null", O_RDWR));
	CHECK_EQ(read(n, buf, sizeof(buf)), 0);
	CHECK_EQ(write(n, buf, sizeof(buf)), 64);
}

TEST(big_write_roundtrip_tmpfs)
{
	size_t sz = 3 << 20;
	char *w = malloc(sz), *r = malloc(sz);
	REQUIRE(w && r);
	for (size_t i = 0; i < sz; i++)
		w[i] = (char)(i * 7 + (i >> 12));
	int fd = lt_file(lt_shm_path("f"), "");
	CHECK_EQ(write(fd, w, sz), (long)sz);
	REQUIRE_EQ(lseek(fd, 0, SEEK_SET), 0);
	CHECK_EQ(read(fd, r, sz), (long)sz);
	CHECK_MEMEQ(w, r, sz);
}

TEST(rlimit_fsize_efbig)
{
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit rl = {100, 100};
	REQUIRE_OK(setrlimit(RLIMIT_FSIZE, &rl));
	int fd = lt_file(lt_path("f"), "");
	char buf[200] = {0};
	/* The write is cut at the limit, and the next fails. */
	CHECK_EQ(write(fd, buf, sizeof(buf)), 100);
	CHECK_ERR(write(fd, buf, 1), EFBIG);
}

TEST(rlimit_fsize_sigxfsz)
{
	struct rlimit rl = {10, 10};
	REQUIRE_OK(setrlimit(RLIMIT_FSIZE, &rl));
	int fd = lt_file(lt_path("f"), "0123456789");
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		signal(SIGXFSZ, SIG_DFL);
		write(fd, "x", 1);
		_exit(0);
	}
	CHECK_EQ(lt_wait_exit(pid), 128 + SIGXFSZ);
}

static void check_concurrent_appends(const char *path)
{
	/* O_APPEND writes from several processes never overwrite each other. */
	close(lt_file(path, ""));
	enum { PROCS = 3, RECS = 300, LEN = 64 };
	for (int p = 0; p < PROCS; p++) {
		pid_t pid = REQUIRE_OK(fork());
		if (pid == 0) {
			int fd = open(path, O_WRONLY | O_APPEND);
			char rec[LEN];
			memset(rec, 'a' + p, LEN - 1);
			rec[LEN - 1] = '\n';
			for (int i = 0; i < RECS; i++)
				if (write(fd, rec, LEN) != LEN)
					_exit(1);
			_exit(0);
		}
	}
	for (int p = 0; p < PROCS; p++)
		CHECK_EQ(wait(NULL) > 0, 1);
	int fd = REQUIRE_OK(open(path, O_RDONLY));
	static char buf[PROCS * RECS * LEN + 1];
	CHECK_EQ(read(fd, buf, sizeof(buf)), PROCS * RECS * LEN);
	int counts[PROCS] = {0};
	for (int r = 0; r < PROCS * RECS; r++) {
		char *rec = buf + r * LEN;
		int who = rec[0] - 'a';
		if (who < 0 || who >= PROCS || rec[LEN - 1] != '\n' || memchr(rec, 'a' + (who + 1) % PROCS, LEN - 1)) {
			FAIL("record %d is mixed", r);
			return;
		}
		counts[who]++;
	}
	for (int p = 0; p < PROCS; p++)
		CHECK_EQ(counts[p], RECS);
}

TEST(concurrent_appends) { check_concurrent_appends(lt_path("f")); }
TEST(concurrent_appends_tmpfs) { check_concurrent_appends(lt_shm_path("f")); }
