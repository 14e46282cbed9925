/* sendfile and copy_file_range: offsets, lengths, pipes, EINVAL cases. */
#include "lt.h"
#include <sys/sendfile.h>
#include <sys/syscall.h>

/* datafile makes a file holding n bytes 0, 1, 2, ... (mod 251). */
static int datafile(const char *name, int n)
{
	int fd = open(lt_path(name), O_CREAT | O_RDWR | O_TRUNC, 0600);
	if (fd < 0)
		ABORT("open: %s", strerror(errno));
	for (int i = 0; i < n; i++) {
		unsigned char c = (unsigned char)(i % 251);
		if (write(fd, &c, 1) != 1)
			ABORT("write: %s", strerror(errno));
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static int check_pattern(const unsigned char *b, int n, int from)
{
	for (int i = 0; i < n; i++)
		if (b[i] != (unsigned char)((from + i) % 251))
			return 0;
	return 1;
}

TEST(sendfile_file_to_file_uses_and_moves_offset)
{
	int in = datafile("in", 1000);
	int out = REQUIRE_OK(open(lt_path("out"), O_CREAT | O_RDWR, 0600));
	REQUIRE_EQ(lseek(in, 100, SEEK_SET), 100);
	CHECK_EQ(sendfile(out, in, NULL, 300), 300);
	CHECK_EQ(lseek(in, 0, SEEK_CUR), 400);
	CHECK_EQ(lseek(out, 0, SEEK_CUR), 300);
	unsigned char buf[300];
	CHECK_EQ(pread(out, buf, 300, 0), 300);
	CHECK(check_pattern(buf, 300, 100));
}

TEST(sendfile_explicit_offset_leaves_file_offset)
{
	int in = datafile("in", 1000);
	int out = REQUIRE_OK(open(lt_path("out"), O_CREAT | O_RDWR, 0600));
	off_t off = 500;
	CHECK_EQ(sendfile(out, in, &off, 200), 200);
	CHECK_EQ(off, 700);
	CHECK_EQ(lseek(in, 0, SEEK_CUR), 0);
	unsigned char buf[200];
	CHECK_EQ(pread(out, buf, 200, 0), 200);
	CHECK(check_pattern(buf, 200, 500));
}

TEST(sendfile_short_at_eof)
{
	int in = datafile("in", 100);
	int out = REQUIRE_OK(open(lt_path("out"), O_CREAT | O_RDWR, 0600));
	off_t off = 80;
	CHECK_EQ(sendfile(out, in, &off, 1000), 20);
	CHECK_EQ(off, 100);
	CHECK_EQ(sendfile(out, in, &off, 1000), 0);
}

TEST(sendfile_to_pipe)
{
	int in = datafile("in", 4000);
	int p[2];
	REQUIRE_OK(pipe(p));
	CHECK_EQ(sendfile(p[1], in, NULL, 4000), 4000);
	unsigned char buf[4000];
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 4000);
	CHECK(check_pattern(buf, 4000, 0));
}

TEST(sendfile_zero_count)
{
	int in = datafile("in", 10);
	int out = REQUIRE_OK(open(lt_path("out"), O_CREAT | O_RDWR, 0600));
	CHECK_EQ(sendfile(out, in, NULL, 0), 0);
}

TEST(sendfile_errors)
{
	int in = datafile("in", 10);
	int out = REQUIRE_OK(open(lt_path("out"), O_CREAT | O_RDWR, 0600));
	CHECK_ERR(sendfile(-1, in, NULL, 10), EBADF);
	CHECK_ERR(sendfile(out, -1, NULL, 10), EBADF);
	int ro = REQUIRE_OK(open(lt_path("out"), O_RDONLY));
	CHECK_ERR(sendfile(ro, in, NULL, 10), EBADF);
	int wo = REQUIRE_OK(open(lt_path("in"), O_WRONLY));
	CHECK_ERR(sendfile(out, wo, NULL, 10), EBADF);
	off_t neg = -1;
	CHECK_ERR(sendfile(out, in, &neg, 10), EINVAL);
	CHECK_ERR(syscall(SYS_sendfile, out, in, (void *)1, 10), EFAULT);
}

TEST(sendfile_append_out_einval)
{
	int in = datafile("in", 10);
	int out = REQUIRE_OK(open(lt_path("out"), O_CREAT | O_WRONLY | O_APPEND, 0600));
	CHECK_ERR(sendfile(out, in, NULL, 10), EINVAL);
}

TEST(sendfile_from_pipe_einval)
{
	/* A pipe has no splice_read: it cannot be sendfile's source. */
	int p[2];
	REQUIRE_OK(pipe(p));
	REQUIRE_EQ(write(p[1], "pipe data", 9), 9);
	int out = REQUIRE_OK(open(lt_path("out"), O_CREAT | O_RDWR, 0600));
	CHECK_ERR(sendfile(out, p[0], NULL, 9), EINVAL);
	int q[2];
	REQUIRE_OK(pipe(q));
	CHECK_ERR(sendfile(q[1], p[0], NULL, 9), EINVAL);
	off_t off = 0;
	CHECK_ERR(sendfile(out, p[0], &off, 9), ESPIPE);
	/* Nothing was consumed. */
	char buf[16] = {0};
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 9);
}

TEST(sendfile_from_dir_einval)
{
	int d = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	int out = REQUIRE_OK(open(lt_path("out"), O_CREAT | O_RDWR, 0600));
	errno = 0;
	CHECK_EQ(sendfile(out, d, NULL, 10), -1);
	CHECK(errno == EISDIR || errno == EINVAL);
}

TEST(cfr_basic_with_offsets)
{
	int in = datafile("in", 1000);
	int out = REQUIRE_OK(open(lt_path("out"), O_CREAT | O_RDWR, 0600));
	loff_t ioff = 10, ooff = 20;
	CHECK_EQ(copy_file_range(in, &ioff, out, &ooff, 100, 0), 100);
	CHECK_EQ(ioff, 110);
	CHECK_EQ(ooff, 120);
	CHECK_EQ(lseek(in, 0, SEEK_CUR), 0);
	CHECK_EQ(lseek(out, 0, SEEK_CUR), 0);
	unsigned char buf[120];
	CHECK_EQ(pread(out, buf, 120, 0), 120);
	for (int i = 0; i < 20; i++)
		CHECK_EQ(buf[i], 0);
	CHECK(check_pattern(buf + 20, 100, 10));
}

TEST(cfr_uses_file_offsets)
{
	int in = datafile("in", 1000);
	int out = REQUIRE_OK(open(lt_path("out"), O_CREAT | O_RDWR, 0600));
	REQUIRE_EQ(lseek(in, 300, SEEK_SET), 300);
	CHECK_EQ(copy_file_range(in, NULL, out, NULL, 50, 0), 50);
	CHECK_EQ(lseek(in, 0, SEEK_CUR), 350);
	CHECK_EQ(lseek(out, 0, SEEK_CUR), 50);
}

TEST(cfr_past_eof_returns_zero)
{
	int in = datafile("in", 100);
	int out = REQUIRE_OK(open(lt_path("out"), O_CREAT | O_RDWR, 0600));
	loff_t ioff = 200;
	CHECK_EQ(copy_file_range(in, &ioff, out, NULL, 50, 0), 0);
	ioff = 90;
	CHECK_EQ(copy_file_range(in, &ioff, out, NULL, 50, 0), 10);
}

TEST(cfr_flags_einval)
{
	int in = datafile("in", 10);
	int out = REQUIRE_OK(open(lt_path("out"), O_CREAT | O_RDWR, 0600));
	CHECK_ERR(copy_file_range(in, NULL, out, NULL, 10, 1), EINVAL);
}

TEST(cfr_overlapping_same_file_einval)
{
	int fd = datafile("in", 100);
	loff_t a = 0, b = 50;
	CHECK_ERR(copy_file_range(fd, &a, fd, &b, 60, 0), EINVAL);
	a = 0;
	b = 50;
	CHECK_EQ(copy_file_range(fd, &a, fd, &b, 50, 0), 50);
}

TEST(cfr_errors)
{
	int in = datafile("in", 10);
	int out = REQUIRE_OK(open(lt_path("out"), O_CREAT | O_RDWR, 0600));
	CHECK_ERR(copy_file_range(-1, NULL, out, NULL, 10, 0), EBADF);
	CHECK_ERR(copy_file_range(in, NULL, -1, NULL, 10, 0), EBADF);
	int ro = REQUIRE_OK(open(lt_path("out"), O_RDONLY));
	CHECK_ERR(copy_file_range(in, NULL, ro, NULL, 10, 0), EBADF);
	int d = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	CHECK_ERR(copy_file_range(d, NULL, out, NULL, 10, 0), EISDIR);
	int p[2];
	REQUIRE_OK(pipe(p));
	CHECK_ERR(copy_file_range(in, NULL, p[1], NULL, 10, 0), EINVAL);
	int app = REQUIRE_OK(open(lt_path("app"), O_CREAT | O_WRONLY | O_APPEND, 0600));
	CHECK_ERR(copy_file_range(in, NULL, app, NULL, 10, 0), EBADF);
}

TEST(cfr_across_file_systems_exdev)
{
	char p[64];
	snprintf(p, sizeof(p), "/dev/shm/lt-cfr-%d", getpid());
	int in = datafile("in", 5000);
	int out = REQUIRE_OK(open(p, O_CREAT | O_RDWR | O_TRUNC, 0600));
	unlink(p);
	CHECK_ERR(copy_file_range(in, NULL, out, NULL, 5000, 0), EXDEV);
	CHECK_ERR(copy_file_range(in, NULL, out, NULL, 0, 0), EXDEV);
	/* sendfile copies across file systems. */
	CHECK_EQ(sendfile(out, in, NULL, 5000), 5000);
	unsigned char buf[5000];
	CHECK_EQ(pread(out, buf, sizeof(buf), 0), 5000);
	CHECK(check_pattern(buf, 5000, 0));
}
