/* /dev/tty without a controlling terminal, /dev/fd/N, /dev/stdin and
 * friends, /dev/shm, and the /dev directory itself. */
#include "lt.h"
#include "procfs.h"
#include <dirent.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

/* in_new_session runs fn in a child that leads a new session (so has no
 * controlling terminal); the case fails if fn's checks do. */
static void in_new_session(void (*fn)(void))
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		ABORT("fork: %s", strerror(errno));
	if (pid == 0) {
		if (setsid() < 0)
			ABORT("setsid: %s", strerror(errno));
		fn();
		fflush(stdout);
		_exit(lt_failed ? 1 : 0);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

static void no_tty(void)
{
	CHECK_ERR(open("/dev/tty", O_RDWR), ENXIO);
	CHECK_ERR(open("/dev/tty", O_RDONLY | O_NONBLOCK), ENXIO);
}

TEST(tty_without_controlling_terminal_enxio)
{
	in_new_session(no_tty);
}

TEST(dev_fd_n_reopens)
{
	int fd = REQUIRE_OK(open(lt_path("f"), O_CREAT | O_RDWR, 0600));
	REQUIRE_EQ(write(fd, "data", 4), 4);
	char p[64];
	snprintf(p, sizeof(p), "/dev/fd/%d", fd);
	int fd2 = REQUIRE_OK(open(p, O_RDONLY));
	char buf[8] = {0};
	CHECK_EQ(read(fd2, buf, sizeof(buf)), 4);
	CHECK_STREQ(buf, "data");
	struct stat a, b;
	REQUIRE_OK(fstat(fd, &a));
	REQUIRE_OK(fstat(fd2, &b));
	CHECK_EQ(a.st_ino, b.st_ino);
}

TEST(dev_fd_of_pipe_shares_pipe)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	char path[64];
	snprintf(path, sizeof(path), "/dev/fd/%d", p[1]);
	int w = REQUIRE_OK(open(path, O_WRONLY));
	REQUIRE_EQ(write(w, "via", 3), 3);
	char buf[4] = {0};
	CHECK_EQ(read(p[0], buf, 3), 3);
	CHECK_STREQ(buf, "via");
}

TEST(dev_fd_missing_enoent)
{
	struct stat st;
	CHECK_ERR(stat("/dev/fd/999", &st), ENOENT);
	CHECK_ERR(open("/dev/fd/999", O_RDONLY), ENOENT);
}

TEST(stdio_links)
{
	const char *names[] = {"/dev/stdin", "/dev/stdout", "/dev/stderr"};
	const char *want[] = {"/proc/self/fd/0", "/proc/self/fd/1", "/proc/self/fd/2"};
	for (int i = 0; i < 3; i++) {
		char buf[64] = {0};
		struct stat st;
		REQUIRE_OK(lstat(names[i], &st));
		CHECK(S_ISLNK(st.st_mode));
		REQUIRE_GT(readlink(names[i], buf, sizeof(buf) - 1), 0);
		CHECK_STREQ(buf, want[i]);
	}
}

TEST(dev_stdin_reads_fd0)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	REQUIRE_OK(dup2(p[0], 0));
	REQUIRE_EQ(write(p[1], "in", 2), 2);
	int fd = REQUIRE_OK(open("/dev/stdin", O_RDONLY));
	char buf[4] = {0};
	CHECK_EQ(read(fd, buf, sizeof(buf)), 2);
	CHECK_STREQ(buf, "in");
}

TEST(dev_stdout_writes_fd1)
{
	int fd = REQUIRE_OK(open(lt_path("out"), O_CREAT | O_RDWR, 0600));
	int saved = REQUIRE_OK(dup(1));
	REQUIRE_OK(dup2(fd, 1));
	int o = open("/dev/stdout", O_WRONLY);
	int e = errno;
	dup2(saved, 1);
	errno = e;
	REQUIRE_OK(o);
	REQUIRE_EQ(write(o, "out", 3), 3);
	char buf[4] = {0};
	CHECK_EQ(pread(fd, buf, 3, 0), 3);
	CHECK_STREQ(buf, "out");
}

TEST(dev_shm_is_sticky_tmpfs)
{
	struct stat st;
	REQUIRE_OK(stat("/dev/shm", &st));
	CHECK(S_ISDIR(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 01777);
	struct statfs sf;
	REQUIRE_OK(statfs("/dev/shm", &sf));
	CHECK_EQ(sf.f_type, 0x01021994);
}

TEST(shm_open_lives_in_dev_shm)
{
	char name[64];
	snprintf(name, sizeof(name), "/lt-shm-%d", getpid());
	int fd = REQUIRE_OK(shm_open(name, O_CREAT | O_RDWR | O_EXCL, 0600));
	REQUIRE_OK(ftruncate(fd, 4096));
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE(p != MAP_FAILED);
	strcpy(p, "shared");
	char path[96];
	snprintf(path, sizeof(path), "/dev/shm%s", name);
	struct stat st;
	REQUIRE_OK(stat(path, &st));
	CHECK_EQ(st.st_size, 4096);
	int fd2 = REQUIRE_OK(open(path, O_RDONLY));
	char buf[8] = {0};
	CHECK_EQ(read(fd2, buf, 6), 6);
	CHECK_STREQ(buf, "shared");
	REQUIRE_OK(shm_unlink(name));
	CHECK_ERR(stat(path, &st), ENOENT);
	CHECK_ERR(shm_open(name, O_RDWR, 0), ENOENT);
}

TEST(dev_shm_unprivileged_create_and_sticky)
{
	char mine[64], roots[64];
	snprintf(roots, sizeof(roots), "/dev/shm/lt-root-%d", getpid());
	int fd = REQUIRE_OK(open(roots, O_CREAT | O_WRONLY, 0666));
	close(fd);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		if (setresuid(65534, 65534, 65534) < 0)
			_exit(10);
		snprintf(mine, sizeof(mine), "/dev/shm/lt-nobody-%d", getpid());
		int f = open(mine, O_CREAT | O_WRONLY, 0600);
		if (f < 0)
			_exit(1);
		if (unlink(mine) < 0)
			_exit(2);
		/* Sticky: another user's file cannot be removed. */
		if (unlink(roots) == 0 || errno != EPERM)
			_exit(3);
		_exit(0);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
	unlink(roots);
}

TEST(dev_listing)
{
	DIR *d = opendir("/dev");
	REQUIRE(d != NULL);
	int null = 0, zero = 0, shm = 0, pts = 0, fd = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		null += strcmp(de->d_name, "null") == 0 && de->d_type == DT_CHR;
		zero += strcmp(de->d_name, "zero") == 0 && de->d_type == DT_CHR;
		shm += strcmp(de->d_name, "shm") == 0 && de->d_type == DT_DIR;
		pts += strcmp(de->d_name, "pts") == 0 && de->d_type == DT_DIR;
		fd += strcmp(de->d_name, "fd") == 0 && de->d_type == DT_LNK;
	}
	closedir(d);
	CHECK_EQ(null, 1);
	CHECK_EQ(zero, 1);
	CHECK_EQ(shm, 1);
	CHECK_EQ(pts, 1);
	CHECK_EQ(fd, 1);
}

TEST(ptmx_present)
{
	struct stat st;
	REQUIRE_OK(stat("/dev/ptmx", &st));
	CHECK(S_ISCHR(st.st_mode));
	int fd = REQUIRE_OK(posix_openpt(O_RDWR | O_NOCTTY));
	CHECK_OK(grantpt(fd));
	CHECK_OK(unlockpt(fd));
	const char *name = ptsname(fd);
	REQUIRE(name != NULL);
	CHECK_EQ(strncmp(name, "/dev/pts/", 9), 0);
}

static void pty_tty(void)
{
	int m = REQUIRE_OK(posix_openpt(O_RDWR | O_NOCTTY));
	REQUIRE_OK(grantpt(m));
	REQUIRE_OK(unlockpt(m));
	int s = REQUIRE_OK(open(ptsname(m), O_RDWR));
	(void)s;
	int t = REQUIRE_OK(open("/dev/tty", O_RDWR));
	struct stat st;
	REQUIRE_OK(fstat(t, &st));
	CHECK_EQ(st.st_rdev, makedev(5, 0));
	/* What is written to /dev/tty arrives at the terminal's master. */
	REQUIRE_EQ(write(t, "x", 1), 1);
	char c = 0;
	CHECK_EQ(read(m, &c, 1), 1);
	CHECK_EQ(c, 'x');
}

TEST(dev_tty_with_controlling_terminal)
{
	/* With a pseudo-terminal as controlling terminal, /dev/tty opens it. */
	in_new_session(pty_tty);
}
