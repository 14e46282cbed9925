/* FIFOs: mkfifo, mknod, open blocking rules, ENXIO, data, EOF. */
#include "lt.h"

#include <poll.h>
#include <sys/time.h>

TEST(mkfifo_creates_fifo)
{
	umask(022);
	const char *f = lt_path("f");
	REQUIRE_OK(mkfifo(f, 0666));
	struct stat st;
	REQUIRE_OK(stat(f, &st));
	CHECK(S_ISFIFO(st.st_mode));
	CHECK_EQ(st.st_mode & 0777, 0644);
	CHECK_EQ(st.st_size, 0);
}

TEST(mkfifo_errors)
{
	const char *f = lt_path("f");
	REQUIRE_OK(mkfifo(f, 0600));
	CHECK_ERR(mkfifo(f, 0600), EEXIST);
	CHECK_ERR(mkfifo(lt_path("missing/f"), 0600), ENOENT);
	CHECK_ERR(mkfifo((char *)1, 0600), EFAULT);
	int fd = REQUIRE_OK(open(lt_path("file"), O_CREAT | O_WRONLY, 0600));
	close(fd);
	CHECK_ERR(mkfifo(lt_path("file/f"), 0600), ENOTDIR);
}

TEST(mknod_fifo)
{
	const char *f = lt_path("n");
	REQUIRE_OK(mknod(f, S_IFIFO | 0600, 0));
	struct stat st;
	REQUIRE_OK(lstat(f, &st));
	CHECK(S_ISFIFO(st.st_mode));
}

TEST(nonblock_write_open_without_reader_enxio)
{
	const char *f = lt_path("f");
	REQUIRE_OK(mkfifo(f, 0600));
	CHECK_ERR(open(f, O_WRONLY | O_NONBLOCK), ENXIO);
	int r = REQUIRE_OK(open(f, O_RDONLY | O_NONBLOCK));
	int w = CHECK_OK(open(f, O_WRONLY | O_NONBLOCK));
	CHECK_EQ(write(w, "x", 1), 1);
	char c;
	CHECK_EQ(read(r, &c, 1), 1);
}

TEST(nonblock_read_open_without_writer)
{
	const char *f = lt_path("f");
	REQUIRE_OK(mkfifo(f, 0600));
	int r = REQUIRE_OK(open(f, O_RDONLY | O_NONBLOCK));
	char c;
	/* No writer: end of file. */
	CHECK_EQ(read(r, &c, 1), 0);
	/* No writer has come and gone yet: no POLLHUP. */
	struct pollfd p = {r, POLLIN, 0};
	CHECK_EQ(poll(&p, 1, 0), 0);
	CHECK_EQ(p.revents, 0);
}

TEST(rdwr_open_never_blocks)
{
	const char *f = lt_path("f");
	REQUIRE_OK(mkfifo(f, 0600));
	int fd = REQUIRE_OK(open(f, O_RDWR));
	CHECK_EQ(write(fd, "ab", 2), 2);
	char buf[2];
	CHECK_EQ(read(fd, buf, 2), 2);
	CHECK_MEMEQ(buf, "ab", 2);
}

TEST(blocking_read_open_waits_for_writer)
{
	const char *f = lt_path("f");
	REQUIRE_OK(mkfifo(f, 0600));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		usleep(50000);
		int w = open(f, O_WRONLY);
		_exit(w >= 0 && write(w, "hi", 2) == 2 ? 0 : 1);
	}
	int r = REQUIRE_OK(open(f, O_RDONLY));
	char buf[2];
	CHECK_EQ(read(r, buf, 2), 2);
	CHECK_MEMEQ(buf, "hi", 2);
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_EQ(read(r, buf, 2), 0);
}

TEST(blocking_write_open_waits_for_reader)
{
	const char *f = lt_path("f");
	REQUIRE_OK(mkfifo(f, 0600));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		usleep(50000);
		int r = open(f, O_RDONLY);
		char c;
		_exit(r >= 0 && read(r, &c, 1) == 1 && c == 'z' ? 0 : 1);
	}
	int w = REQUIRE_OK(open(f, O_WRONLY));
	CHECK_EQ(write(w, "z", 1), 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

static void noop(int sig)
{
	(void)sig;
}

TEST(blocking_open_interrupted_eintr)
{
	const char *f = lt_path("f");
	REQUIRE_OK(mkfifo(f, 0600));
	struct sigaction sa = {0};
	sa.sa_handler = noop;
	REQUIRE_OK(sigaction(SIGALRM, &sa, NULL));
	struct itimerval it = {{0, 0}, {0, 30000}};
	REQUIRE_OK(setitimer(ITIMER_REAL, &it, NULL));
	CHECK_ERR(open(f, O_RDONLY), EINTR);
}

TEST(writer_epipe_after_reader_closes)
{
	const char *f = lt_path("f");
	REQUIRE_OK(mkfifo(f, 0600));
	int r = REQUIRE_OK(open(f, O_RDONLY | O_NONBLOCK));
	int w = REQUIRE_OK(open(f, O_WRONLY | O_NONBLOCK));
	CHECK_OK(close(r));
	signal(SIGPIPE, SIG_IGN);
	CHECK_ERR(write(w, "x", 1), EPIPE);
}

TEST(reader_pollhup_after_writer_closes)
{
	const char *f = lt_path("f");
	REQUIRE_OK(mkfifo(f, 0600));
	int r = REQUIRE_OK(open(f, O_RDONLY | O_NONBLOCK));
	int w = REQUIRE_OK(open(f, O_WRONLY | O_NONBLOCK));
	CHECK_OK(close(w));
	struct pollfd p = {r, POLLIN, 0};
	CHECK_EQ(poll(&p, 1, 0), 1);
	CHECK_EQ(p.revents, POLLHUP);
}

TEST(data_dropped_when_last_closes)
{
	const char *f = lt_path("f");
	REQUIRE_OK(mkfifo(f, 0600));
	int fd = REQUIRE_OK(open(f, O_RDWR));
	REQUIRE_EQ(write(fd, "lost", 4), 4);
	CHECK_OK(close(fd));
	int r = REQUIRE_OK(open(f, O_RDONLY | O_NONBLOCK));
	char buf[4];
	CHECK_EQ(read(r, buf, 4), 0);
}

TEST(shared_between_openers)
{
	const char *f = lt_path("f");
	REQUIRE_OK(mkfifo(f, 0600));
	int a = REQUIRE_OK(open(f, O_RDWR));
	int b = REQUIRE_OK(open(f, O_RDONLY | O_NONBLOCK));
	REQUIRE_EQ(write(a, "q", 1), 1);
	char c;
	CHECK_EQ(read(b, &c, 1), 1);
	CHECK_EQ(c, 'q');
	CHECK_EQ(fcntl(b, F_GETPIPE_SZ), 65536);
}

TEST(not_seekable)
{
	const char *f = lt_path("f");
	REQUIRE_OK(mkfifo(f, 0600));
	int fd = REQUIRE_OK(open(f, O_RDWR));
	CHECK_ERR(lseek(fd, 0, SEEK_SET), ESPIPE);
}

TEST(open_needs_permission)
{
	const char *f = lt_path("f");
	REQUIRE_OK(mkfifo(f, 0600));
	REQUIRE_OK(chmod(lt_tmpdir(), 0755));
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	CHECK_ERR(open(f, O_RDONLY | O_NONBLOCK), EACCES);
}
