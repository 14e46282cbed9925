/* /proc/PID/fd and /proc/PID/fdinfo: links to open files and their state. */
#include "lt.h"
#include "procfs.h"
#include <dirent.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

static const char *link_of(int fd)
{
	static char buf[4096];
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(p, buf, sizeof(buf) - 1);
	if (n < 0)
		return NULL;
	buf[n] = 0;
	return buf;
}

static const char *fdinfo(int fd)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fdinfo/%d", fd);
	return slurp(p);
}

TEST(link_names_file)
{
	int fd = REQUIRE_OK(open(lt_path("f"), O_CREAT | O_RDWR, 0600));
	const char *l = link_of(fd);
	REQUIRE(l != NULL);
	const char *base = strrchr(l, '/');
	CHECK(base != NULL && strcmp(base, "/f") == 0);
	struct stat a, b;
	REQUIRE_OK(stat(l, &a));
	REQUIRE_OK(fstat(fd, &b));
	CHECK_EQ(a.st_ino, b.st_ino);
}

TEST(link_of_deleted_file)
{
	int fd = REQUIRE_OK(open(lt_path("f"), O_CREAT | O_RDWR, 0600));
	REQUIRE_OK(unlink(lt_path("f")));
	const char *l = link_of(fd);
	REQUIRE(l != NULL);
	size_t n = strlen(l);
	CHECK(n > 12 && strcmp(l + n - 12, "/f (deleted)") == 0);
}

TEST(link_of_pipe_socket_anon)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	struct stat st;
	REQUIRE_OK(fstat(p[0], &st));
	char want[64];
	snprintf(want, sizeof(want), "pipe:[%lu]", (unsigned long)st.st_ino);
	CHECK_STREQ(link_of(p[0]), want);
	int s[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	REQUIRE_OK(fstat(s[0], &st));
	snprintf(want, sizeof(want), "socket:[%lu]", (unsigned long)st.st_ino);
	CHECK_STREQ(link_of(s[0]), want);
	int e = REQUIRE_OK(eventfd(0, 0));
	CHECK_STREQ(link_of(e), "anon_inode:[eventfd]");
}

TEST(open_through_link_is_new_description)
{
	int fd = REQUIRE_OK(open(lt_path("f"), O_CREAT | O_RDWR, 0600));
	REQUIRE_EQ(write(fd, "hello", 5), 5);
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	int fd2 = REQUIRE_OK(open(p, O_RDONLY));
	/* A new open file description: its own offset. */
	CHECK_EQ(lseek(fd2, 0, SEEK_CUR), 0);
	char buf[8] = {0};
	CHECK_EQ(read(fd2, buf, sizeof(buf)), 5);
	CHECK_STREQ(buf, "hello");
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 5);
}

TEST(open_deleted_file_through_link)
{
	int fd = REQUIRE_OK(open(lt_path("f"), O_CREAT | O_RDWR, 0600));
	REQUIRE_EQ(write(fd, "abc", 3), 3);
	REQUIRE_OK(unlink(lt_path("f")));
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	int fd2 = REQUIRE_OK(open(p, O_RDONLY));
	char buf[4] = {0};
	CHECK_EQ(read(fd2, buf, 3), 3);
	CHECK_STREQ(buf, "abc");
}

TEST(listing_matches_open_fds)
{
	int fd = REQUIRE_OK(open("/dev/null", O_RDONLY));
	REQUIRE_OK(dup2(fd, 100));
	DIR *d = opendir("/proc/self/fd");
	REQUIRE(d != NULL);
	int saw_fd = 0, saw_100 = 0, saw_dirfd = 0, n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		n++;
		int v = atoi(de->d_name);
		saw_fd += v == fd;
		saw_100 += v == 100;
		saw_dirfd += v == dirfd(d);
		CHECK_EQ(de->d_type, DT_LNK);
	}
	closedir(d);
	CHECK_EQ(saw_fd, 1);
	CHECK_EQ(saw_100, 1);
	CHECK_EQ(saw_dirfd, 1);
	CHECK_GE(n, 4);
	struct stat st;
	CHECK_ERR(lstat("/proc/self/fd/999", &st), ENOENT);
}

TEST(fd_link_lstat_mode_by_access)
{
	int r = REQUIRE_OK(open("/dev/null", O_RDONLY));
	int w = REQUIRE_OK(open("/dev/null", O_WRONLY));
	int rw = REQUIRE_OK(open("/dev/null", O_RDWR));
	char p[64];
	struct stat st;
	snprintf(p, sizeof(p), "/proc/self/fd/%d", r);
	REQUIRE_OK(lstat(p, &st));
	CHECK(S_ISLNK(st.st_mode));
	CHECK_EQ(st.st_mode & 0777, 0500);
	snprintf(p, sizeof(p), "/proc/self/fd/%d", w);
	REQUIRE_OK(lstat(p, &st));
	CHECK_EQ(st.st_mode & 0777, 0300);
	snprintf(p, sizeof(p), "/proc/self/fd/%d", rw);
	REQUIRE_OK(lstat(p, &st));
	CHECK_EQ(st.st_mode & 0777, 0700);
}

TEST(fdinfo_pos_flags)
{
	int fd = REQUIRE_OK(open(lt_path("f"), O_CREAT | O_RDWR | O_APPEND | O_CLOEXEC, 0600));
	REQUIRE_EQ(write(fd, "12345", 5), 5);
	const char *s = fdinfo(fd);
	REQUIRE(s != NULL);
	CHECK_EQ(field_ll(s, "pos"), 5);
	const char *fl = field(s, "flags");
	REQUIRE(fl != NULL);
	unsigned long flags = strtoul(fl, NULL, 8);
	CHECK_EQ(fl[0], '0');
	CHECK_EQ(flags & O_ACCMODE, O_RDWR);
	CHECK(flags & O_APPEND);
	CHECK(flags & O_CLOEXEC);
	CHECK(field(s, "mnt_id") != NULL);
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(field_ll(s, "ino"), (long long)st.st_ino);
}

TEST(fdinfo_tracks_cloexec_and_offset)
{
	int fd = REQUIRE_OK(open("/dev/zero", O_RDONLY));
	CHECK_EQ(strtoul(field(fdinfo(fd), "flags"), NULL, 8) & O_CLOEXEC, 0);
	REQUIRE_OK(fcntl(fd, F_SETFD, FD_CLOEXEC));
	CHECK_NE(strtoul(field(fdinfo(fd), "flags"), NULL, 8) & O_CLOEXEC, 0);
	int f = REQUIRE_OK(open(lt_path("x"), O_CREAT | O_RDWR, 0600));
	REQUIRE_OK(lseek(f, 1234, SEEK_SET));
	CHECK_EQ(field_ll(fdinfo(f), "pos"), 1234);
}

TEST(eventfd_fdinfo)
{
	int e = REQUIRE_OK(eventfd(5, 0));
	const char *s = fdinfo(e);
	REQUIRE(s != NULL);
	const char *c = field(s, "eventfd-count");
	REQUIRE(c != NULL);
	CHECK_EQ(strtoull(c, NULL, 16), 5);
}

TEST(child_fds_visible_to_parent)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		int fd = open("/dev/null", O_RDONLY);
		dup2(fd, 77);
		char c;
		(void)!read(p[0], &c, 1);
		_exit(0);
	}
	char path[64], buf[64] = {0};
	snprintf(path, sizeof(path), "/proc/%d/fd/77", pid);
	int found = 0;
	for (int i = 0; i < 2000 && !found; i++) {
		found = readlink(path, buf, sizeof(buf) - 1) > 0;
		if (!found)
			usleep(5000);
	}
	CHECK_STREQ(buf, "/dev/null");
	REQUIRE_EQ(write(p[1], "x", 1), 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(dev_fd_is_proc_self_fd)
{
	char buf[64] = {0};
	REQUIRE_GT(readlink("/dev/fd", buf, sizeof(buf) - 1), 0);
	CHECK_STREQ(buf, "/proc/self/fd");
}

TEST(closed_fd_disappears)
{
	int fd = REQUIRE_OK(open("/dev/null", O_RDONLY));
	CHECK(link_of(fd) != NULL);
	close(fd);
	CHECK(link_of(fd) == NULL);
	CHECK(fdinfo(fd) == NULL);
}
