/* open of special cases: sockets (ENXIO), FIFOs without peers, O_NOATIME, O_DIRECT, O_CREAT on directories, ETXTBSY, /proc/self/fd reopen modes. */
#include "shm.h"

#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

TEST(unix_socket_file_enxio)
{
	int s = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	REQUIRE_OK(chdir(lt_tmpdir()));
	strcpy(sa.sun_path, "sock");
	REQUIRE_OK(bind(s, (struct sockaddr *)&sa, sizeof(sa)));
	CHECK_ERR(open("sock", O_RDONLY), ENXIO);
	CHECK_ERR(open("sock", O_RDWR), ENXIO);
	/* O_PATH works on anything. */
	CHECK_OK(open("sock", O_PATH));
}

TEST(fifo_nonblock_writer_without_reader_enxio)
{
	REQUIRE_OK(mkfifo(lt_path("p"), 0600));
	CHECK_ERR(open(lt_path("p"), O_WRONLY | O_NONBLOCK), ENXIO);
	/* A non-blocking reader opens at once. */
	int r = CHECK_OK(open(lt_path("p"), O_RDONLY | O_NONBLOCK));
	CHECK_OK(open(lt_path("p"), O_WRONLY | O_NONBLOCK));
	char c;
	CHECK_ERR(read(r, &c, 1), EAGAIN);
}

TEST(fifo_rdwr_opens_at_once)
{
	REQUIRE_OK(mkfifo(lt_path("p"), 0600));
	int fd = CHECK_OK(open(lt_path("p"), O_RDWR));
	CHECK_EQ(write(fd, "x", 1), 1);
	char c;
	CHECK_EQ(read(fd, &c, 1), 1);
}

TEST(fifo_blocking_open_waits_for_peer)
{
	REQUIRE_OK(mkfifo(lt_path("p"), 0600));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		int w = open(lt_path("p"), O_WRONLY);
		_exit(w >= 0 && write(w, "hi", 2) == 2 ? 0 : 1);
	}
	int r = REQUIRE_OK(open(lt_path("p"), O_RDONLY));
	char buf[4] = {0};
	CHECK_EQ(read(r, buf, sizeof(buf)), 2);
	CHECK_STREQ(buf, "hi");
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(fifo_trunc_is_harmless)
{
	REQUIRE_OK(mkfifo(lt_path("p"), 0600));
	CHECK_OK(open(lt_path("p"), O_RDWR | O_TRUNC));
}

TEST(noatime_needs_owner)
{
	close(lt_file(lt_path("f"), ""));
	REQUIRE_OK(chmod(lt_path("f"), 0644));
	REQUIRE_OK(chmod(lt_tmpdir(), 0755));
	int d = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	CHECK_OK(openat(d, "f", O_RDONLY | O_NOATIME));
	lt_drop_privs();
	CHECK_ERR(openat(d, "f", O_RDONLY | O_NOATIME), EPERM);
	CHECK_OK(openat(d, "f", O_RDONLY));
}

TEST(o_direct_tmpfs)
{
	int fd = CHECK_OK(open(lt_shm_path("f"), O_RDWR | O_CREAT | O_DIRECT, 0600));
	CHECK_EQ(fcntl(fd, F_GETFL) & O_DIRECT, O_DIRECT);
}

TEST(creat_on_existing_directory)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	CHECK_ERR(open(lt_path("d"), O_RDONLY | O_CREAT, 0600), EISDIR);
	CHECK_ERR(open(lt_path("d"), O_RDONLY | O_CREAT | O_EXCL, 0600), EEXIST);
	/* With a trailing slash the name must be a directory to create: EISDIR. */
	CHECK_ERR(open(lt_path("d/"), O_RDONLY | O_CREAT | O_EXCL, 0600), EISDIR);
}

TEST(creat_trailing_slash_always_eisdir)
{
	/* Linux refuses O_CREAT of "name/" before looking the name up. */
	close(lt_file(lt_path("f"), ""));
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	REQUIRE_OK(symlink("d", lt_path("l")));
	REQUIRE_OK(symlink("nowhere", lt_path("dl")));
	const char *names[] = {"f/", "d/", "l/", "dl/", "new/"};
	for (int i = 0; i < 5; i++) {
		CHECK_ERR(open(lt_path(names[i]), O_RDONLY | O_CREAT, 0600), EISDIR);
		CHECK_ERR(open(lt_path(names[i]), O_RDONLY | O_CREAT | O_EXCL, 0600), EISDIR);
	}
	CHECK_ERR(access(lt_path("nowhere"), F_OK), ENOENT);
}

TEST(creat_dots)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	CHECK_ERR(open(lt_path("d/."), O_RDONLY | O_CREAT, 0600), EISDIR);
	CHECK_ERR(open(lt_path("d/."), O_RDONLY | O_CREAT | O_EXCL, 0600), EEXIST);
	CHECK_ERR(open(lt_path("d/.."), O_RDONLY | O_CREAT | O_EXCL, 0600), EEXIST);
	CHECK_ERR(open("/", O_RDONLY | O_CREAT | O_EXCL, 0600), EEXIST);
}

/* copy_sleep copies /bin/sleep to lt_path("sl"), executable. */
static void copy_sleep(void)
{
	int in = REQUIRE_OK(open("/bin/sleep", O_RDONLY));
	int out = lt_file(lt_path("sl"), "");
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		REQUIRE_EQ(write(out, buf, n), n);
	REQUIRE_OK(fchmod(out, 0755));
	REQUIRE_OK(close(out));
	REQUIRE_OK(close(in));
}

/* run_sleep starts lt_path("sl") and returns once the exec has happened. */
static pid_t run_sleep(void)
{
	int p[2];
	REQUIRE_OK(pipe2(p, O_CLOEXEC));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		execl(lt_path("sl"), "sl", "10", (char *)NULL);
		_exit(127);
	}
	REQUIRE_OK(close(p[1]));
	/* EOF on the close-on-exec pipe: the exec happened. */
	char c;
	REQUIRE_EQ(read(p[0], &c, 1), 0);
	close(p[0]);
	return pid;
}

TEST(write_to_running_executable_etxtbsy)
{
	copy_sleep();
	pid_t pid = run_sleep();
	CHECK_ERR(open(lt_path("sl"), O_WRONLY), ETXTBSY);
	CHECK_ERR(open(lt_path("sl"), O_RDONLY | O_TRUNC), ETXTBSY);
	CHECK_ERR(truncate(lt_path("sl"), 0), ETXTBSY);
	CHECK_OK(open(lt_path("sl"), O_RDONLY));
	kill(pid, SIGKILL);
	CHECK_EQ(lt_wait_exit(pid), 128 + SIGKILL);
	/* Once the process is gone (and reaped), writing is allowed again. */
	CHECK_OK(open(lt_path("sl"), O_WRONLY));
}

TEST(exec_of_file_open_for_writing_etxtbsy)
{
	copy_sleep();
	int w = REQUIRE_OK(open(lt_path("sl"), O_WRONLY));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		execl(lt_path("sl"), "sl", "0", (char *)NULL);
		_exit(errno == ETXTBSY ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
	REQUIRE_OK(close(w));
	pid = REQUIRE_OK(fork());
	if (pid == 0) {
		execl(lt_path("sl"), "sl", "0", (char *)NULL);
		_exit(127);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(proc_fd_reopen_modes)
{
	int fd = lt_file(lt_path("f"), "abc");
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	int r = REQUIRE_OK(open(p, O_RDONLY));
	/* A new open file description with its own offset. */
	CHECK_EQ(lseek(r, 0, SEEK_CUR), 0);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 3);
	int w = CHECK_OK(open(p, O_WRONLY | O_APPEND));
	CHECK_EQ(write(w, "d", 1), 1);
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_size, 4);
}

TEST(proc_fd_reopen_unlinked)
{
	int fd = lt_file(lt_path("f"), "abc");
	REQUIRE_OK(unlink(lt_path("f")));
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	int r = CHECK_OK(open(p, O_RDONLY));
	char buf[4] = {0};
	CHECK_EQ(read(r, buf, 3), 3);
	CHECK_STREQ(buf, "abc");
}

TEST(dev_null_and_dev_zero_modes)
{
	CHECK_OK(open("/dev/null", O_RDWR | O_TRUNC));
	CHECK_OK(open("/dev/zero", O_WRONLY | O_APPEND));
	CHECK_ERR(open("/dev/null", O_RDONLY | O_DIRECTORY), ENOTDIR);
}

TEST(relative_to_file_dirfd_enotdir)
{
	int fd = lt_file(lt_path("f"), "");
	CHECK_ERR(openat(fd, "x", O_RDONLY), ENOTDIR);
	CHECK_ERR(openat(fd, "x", O_RDONLY | O_CREAT, 0600), ENOTDIR);
	/* "" without O_PATH is ENOENT, whatever the dirfd. */
	CHECK_ERR(openat(fd, "", O_RDONLY), ENOENT);
}

TEST(dot_and_dotdot)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	int d = REQUIRE_OK(open(lt_path("d"), O_RDONLY | O_DIRECTORY));
	int dot = CHECK_OK(openat(d, ".", O_RDONLY));
	int up = CHECK_OK(openat(d, "..", O_RDONLY));
	struct stat a, b, c;
	REQUIRE_OK(fstat(dot, &a));
	REQUIRE_OK(fstat(d, &b));
	REQUIRE_OK(fstat(up, &c));
	CHECK_EQ(a.st_ino, b.st_ino);
	struct stat t;
	REQUIRE_OK(stat(lt_tmpdir(), &t));
	CHECK_EQ(c.st_ino, t.st_ino);
	CHECK_ERR(openat(d, ".", O_RDONLY | O_CREAT, 0600), EISDIR);
	CHECK_ERR(openat(d, "..", O_WRONLY), EISDIR);
}
