/* inotify: events for names and contents, cookies, one-shot watches, polling. */
#include "lt.h"
#include <poll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/xattr.h>

struct ev {
	int wd;
	uint32_t mask, cookie;
	char name[256];
};

/* drain reads every queued event (non-blocking fd) into out. */
static int drain(int fd, struct ev *out, int max)
{
	char buf[8192] __attribute__((aligned(8)));
	int n = 0;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r <= 0)
			return n;
		for (ssize_t off = 0; off < r;) {
			struct inotify_event *e = (struct inotify_event *)(buf + off);
			if (n < max) {
				out[n].wd = e->wd;
				out[n].mask = e->mask;
				out[n].cookie = e->cookie;
				snprintf(out[n].name, sizeof(out[n].name), "%s", e->len ? e->name : "");
			}
			n++;
			off += sizeof(*e) + e->len;
		}
	}
}

static int newfd(void)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		ABORT("inotify_init1: %s", strerror(errno));
	return fd;
}

static void touch(const char *path)
{
	int fd = open(path, O_CREAT | O_WRONLY, 0600);
	if (fd < 0)
		ABORT("open %s: %s", path, strerror(errno));
	close(fd);
}

/* expect checks event i of evs against wd, mask and name. */
#define EXPECT(evs, n, i, wantwd, wantmask, wantname)                          \
	do {                                                                   \
		if ((i) >= (n)) {                                              \
			FAIL("event %d missing (have %d)", (i), (n));          \
			break;                                                 \
		}                                                              \
		CHECK_EQ((evs)[i].wd, wantwd);                                 \
		CHECK_EQ((evs)[i].mask, wantmask);                             \
		CHECK_STREQ((evs)[i].name, wantname);                          \
	} while (0)

TEST(init_flags)
{
	int fd = REQUIRE_OK(inotify_init1(IN_CLOEXEC));
	CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	CHECK_EQ(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	int fd2 = REQUIRE_OK(inotify_init1(IN_NONBLOCK));
	CHECK_EQ(fcntl(fd2, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	CHECK_ERR(inotify_init1(0x1), EINVAL);
	int fd3 = CHECK_OK(inotify_init());
	CHECK_EQ(fcntl(fd3, F_GETFD), 0);
}

TEST(create_event)
{
	int fd = newfd();
	int wd = REQUIRE_OK(inotify_add_watch(fd, lt_tmpdir(), IN_CREATE));
	touch(lt_path("f"));
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	struct ev e[8];
	int n = drain(fd, e, 8);
	CHECK_EQ(n, 2);
	EXPECT(e, n, 0, wd, IN_CREATE, "f");
	EXPECT(e, n, 1, wd, IN_CREATE | IN_ISDIR, "d");
}

TEST(delete_event)
{
	touch(lt_path("f"));
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	int fd = newfd();
	int wd = REQUIRE_OK(inotify_add_watch(fd, lt_tmpdir(), IN_DELETE));
	REQUIRE_OK(unlink(lt_path("f")));
	REQUIRE_OK(rmdir(lt_path("d")));
	struct ev e[8];
	int n = drain(fd, e, 8);
	CHECK_EQ(n, 2);
	EXPECT(e, n, 0, wd, IN_DELETE, "f");
	EXPECT(e, n, 1, wd, IN_DELETE | IN_ISDIR, "d");
}

TEST(modify_on_file_and_parent)
{
	touch(lt_path("f"));
	int fd = newfd();
	int dwd = REQUIRE_OK(inotify_add_watch(fd, lt_tmpdir(), IN_MODIFY));
	int fwd = REQUIRE_OK(inotify_add_watch(fd, lt_path("f"), IN_MODIFY));
	CHECK_NE(dwd, fwd);
	int f = REQUIRE_OK(open(lt_path("f"), O_WRONLY));
	REQUIRE_EQ(write(f, "x", 1), 1);
	struct ev e[8];
	int n = drain(fd, e, 8);
	CHECK_EQ(n, 2);
	/* Linux reports to the parent (with the name) before the file itself. */
	EXPECT(e, n, 0, dwd, IN_MODIFY, "f");
	EXPECT(e, n, 1, fwd, IN_MODIFY, "");
}

TEST(identical_events_coalesce)
{
	touch(lt_path("f"));
	int fd = newfd();
	int wd = REQUIRE_OK(inotify_add_watch(fd, lt_path("f"), IN_MODIFY));
	int f = REQUIRE_OK(open(lt_path("f"), O_WRONLY));
	for (int i = 0; i < 5; i++)
		REQUIRE_EQ(write(f, "x", 1), 1);
	struct ev e[8];
	int n = drain(fd, e, 8);
	CHECK_EQ(n, 1);
	EXPECT(e, n, 0, wd, IN_MODIFY, "");
	/* After a read, the next write is a new event. */
	REQUIRE_EQ(write(f, "x", 1), 1);
	CHECK_EQ(drain(fd, e, 8), 1);
}

TEST(open_close_events)
{
	touch(lt_path("f"));
	int fd = newfd();
	int wd = REQUIRE_OK(inotify_add_watch(fd, lt_path("f"), IN_OPEN | IN_CLOSE));
	int r = REQUIRE_OK(open(lt_path("f"), O_RDONLY));
	close(r);
	int w = REQUIRE_OK(open(lt_path("f"), O_WRONLY));
	close(w);
	struct ev e[8];
	int n = drain(fd, e, 8);
	CHECK_EQ(n, 4);
	EXPECT(e, n, 0, wd, IN_OPEN, "");
	EXPECT(e, n, 1, wd, IN_CLOSE_NOWRITE, "");
	EXPECT(e, n, 2, wd, IN_OPEN, "");
	EXPECT(e, n, 3, wd, IN_CLOSE_WRITE, "");
}

TEST(close_write_after_last_close_only)
{
	touch(lt_path("f"));
	int fd = newfd();
	int wd = REQUIRE_OK(inotify_add_watch(fd, lt_tmpdir(), IN_CLOSE_WRITE));
	int w = REQUIRE_OK(open(lt_path("f"), O_WRONLY));
	int w2 = REQUIRE_OK(dup(w));
	close(w);
	struct ev e[8];
	CHECK_EQ(drain(fd, e, 8), 0);
	close(w2);
	int n = drain(fd, e, 8);
	CHECK_EQ(n, 1);
	EXPECT(e, n, 0, wd, IN_CLOSE_WRITE, "f");
}

TEST(access_event)
{
	int f = open(lt_path("f"), O_CREAT | O_RDWR, 0600);
	REQUIRE_EQ(write(f, "abc", 3), 3);
	int fd = newfd();
	int wd = REQUIRE_OK(inotify_add_watch(fd, lt_path("f"), IN_ACCESS));
	char buf[4];
	REQUIRE_EQ(pread(f, buf, 3, 0), 3);
	struct ev e[8];
	int n = drain(fd, e, 8);
	CHECK_EQ(n, 1);
	EXPECT(e, n, 0, wd, IN_ACCESS, "");
}

TEST(attrib_event)
{
	touch(lt_path("f"));
	int fd = newfd();
	int wd = REQUIRE_OK(inotify_add_watch(fd, lt_path("f"), IN_ATTRIB));
	REQUIRE_OK(chmod(lt_path("f"), 0640));
	struct ev e[8];
	int n = drain(fd, e, 8);
	CHECK_EQ(n, 1);
	EXPECT(e, n, 0, wd, IN_ATTRIB, "");
	REQUIRE_OK(utimensat(AT_FDCWD, lt_path("f"), NULL, 0));
	n = drain(fd, e, 8);
	CHECK_EQ(n, 1);
	REQUIRE_OK(link(lt_path("f"), lt_path("g")));
	n = drain(fd, e, 8);
	CHECK_EQ(n, 1);
	EXPECT(e, n, 0, wd, IN_ATTRIB, "");
}

TEST(truncate_is_modify)
{
	touch(lt_path("f"));
	int fd = newfd();
	int wd = REQUIRE_OK(inotify_add_watch(fd, lt_path("f"), IN_MODIFY | IN_ATTRIB));
	REQUIRE_OK(truncate(lt_path("f"), 100));
	struct ev e[8];
	int n = drain(fd, e, 8);
	CHECK_EQ(n, 1);
	EXPECT(e, n, 0, wd, IN_MODIFY, "");
}

TEST(move_cookies)
{
	REQUIRE_OK(mkdir(lt_path("a"), 0700));
	REQUIRE_OK(mkdir(lt_path("b"), 0700));
	touch(lt_path("a/f"));
	int fd = newfd();
	int wa = REQUIRE_OK(inotify_add_watch(fd, lt_path("a"), IN_MOVE));
	int wb = REQUIRE_OK(inotify_add_watch(fd, lt_path("b"), IN_MOVE));
	REQUIRE_OK(rename(lt_path("a/f"), lt_path("b/g")));
	REQUIRE_OK(rename(lt_path("b/g"), lt_path("b/h")));
	struct ev e[8];
	int n = drain(fd, e, 8);
	CHECK_EQ(n, 4);
	EXPECT(e, n, 0, wa, IN_MOVED_FROM, "f");
	EXPECT(e, n, 1, wb, IN_MOVED_TO, "g");
	EXPECT(e, n, 2, wb, IN_MOVED_FROM, "g");
	EXPECT(e, n, 3, wb, IN_MOVED_TO, "h");
	if (n == 4) {
		CHECK_NE(e[0].cookie, 0);
		CHECK_EQ(e[0].cookie, e[1].cookie);
		CHECK_EQ(e[2].cookie, e[3].cookie);
		CHECK_NE(e[0].cookie, e[2].cookie);
	}
}

TEST(move_self_and_dir_flag)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	int fd = newfd();
	int wself = REQUIRE_OK(inotify_add_watch(fd, lt_path("d"), IN_MOVE_SELF));
	int wtop = REQUIRE_OK(inotify_add_watch(fd, lt_tmpdir(), IN_MOVED_FROM | IN_MOVED_TO));
	REQUIRE_OK(rename(lt_path("d"), lt_path("e")));
	struct ev e[8];
	int n = drain(fd, e, 8);
	CHECK_EQ(n, 3);
	EXPECT(e, n, 0, wtop, IN_MOVED_FROM | IN_ISDIR, "d");
	EXPECT(e, n, 1, wtop, IN_MOVED_TO | IN_ISDIR, "e");
	EXPECT(e, n, 2, wself, IN_MOVE_SELF, "");
}

TEST(delete_self_and_ignored)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	int fd = newfd();
	int wd = REQUIRE_OK(inotify_add_watch(fd, lt_path("d"), IN_DELETE_SELF));
	REQUIRE_OK(rmdir(lt_path("d")));
	struct ev e[8];
	int n = drain(fd, e, 8);
	CHECK_EQ(n, 2);
	EXPECT(e, n, 0, wd, IN_DELETE_SELF, "");
	EXPECT(e, n, 1, wd, IN_IGNORED, "");
	/* The watch is gone. */
	CHECK_ERR(inotify_rm_watch(fd, wd), EINVAL);
}

TEST(unlink_file_delete_self)
{
	touch(lt_path("f"));
	int fd = newfd();
	int wd = REQUIRE_OK(inotify_add_watch(fd, lt_path("f"), IN_ALL_EVENTS));
	REQUIRE_OK(unlink(lt_path("f")));
	struct ev e[8];
	int n = drain(fd, e, 8);
	CHECK_EQ(n, 3);
	EXPECT(e, n, 0, wd, IN_ATTRIB, "");
	EXPECT(e, n, 1, wd, IN_DELETE_SELF, "");
	EXPECT(e, n, 2, wd, IN_IGNORED, "");
}

TEST(oneshot)
{
	int fd = newfd();
	int wd = REQUIRE_OK(inotify_add_watch(fd, lt_tmpdir(), IN_CREATE | IN_ONESHOT));
	touch(lt_path("a"));
	touch(lt_path("b"));
	struct ev e[8];
	int n = drain(fd, e, 8);
	CHECK_EQ(n, 2);
	EXPECT(e, n, 0, wd, IN_CREATE, "a");
	EXPECT(e, n, 1, wd, IN_IGNORED, "");
	CHECK_ERR(inotify_rm_watch(fd, wd), EINVAL);
}

TEST(rm_watch_generates_ignored)
{
	int fd = newfd();
	int wd = REQUIRE_OK(inotify_add_watch(fd, lt_tmpdir(), IN_CREATE));
	REQUIRE_OK(inotify_rm_watch(fd, wd));
	touch(lt_path("a"));
	struct ev e[8];
	int n = drain(fd, e, 8);
	CHECK_EQ(n, 1);
	EXPECT(e, n, 0, wd, IN_IGNORED, "");
	CHECK_ERR(inotify_rm_watch(fd, wd), EINVAL);
	CHECK_ERR(inotify_rm_watch(fd, 12345), EINVAL);
	CHECK_ERR(inotify_rm_watch(-1, wd), EBADF);
}

TEST(same_inode_same_wd_mask_replaced)
{
	touch(lt_path("f"));
	int fd = newfd();
	int wd = REQUIRE_OK(inotify_add_watch(fd, lt_path("f"), IN_MODIFY));
	CHECK_EQ(inotify_add_watch(fd, lt_path("f"), IN_ATTRIB), wd);
	REQUIRE_OK(link(lt_path("f"), lt_path("g")));
	CHECK_EQ(inotify_add_watch(fd, lt_path("g"), IN_ATTRIB), wd);
	struct ev e[8];
	CHECK_EQ(drain(fd, e, 8), 1); /* the link's IN_ATTRIB */
	int f = REQUIRE_OK(open(lt_path("f"), O_WRONLY));
	REQUIRE_EQ(write(f, "x", 1), 1);
	/* IN_MODIFY was replaced by IN_ATTRIB. */
	CHECK_EQ(drain(fd, e, 8), 0);
	CHECK_EQ(inotify_add_watch(fd, lt_path("f"), IN_MODIFY | IN_MASK_ADD), wd);
	REQUIRE_OK(chmod(lt_path("f"), 0600));
	REQUIRE_EQ(write(f, "x", 1), 1);
	CHECK_EQ(drain(fd, e, 8), 2);
}

TEST(mask_create_eexist)
{
	int fd = newfd();
	REQUIRE_OK(inotify_add_watch(fd, lt_tmpdir(), IN_CREATE | IN_MASK_CREATE));
	CHECK_ERR(inotify_add_watch(fd, lt_tmpdir(), IN_DELETE | IN_MASK_CREATE), EEXIST);
	CHECK_ERR(inotify_add_watch(fd, lt_tmpdir(), IN_DELETE | IN_MASK_CREATE | IN_MASK_ADD), EINVAL);
}

TEST(add_watch_errors)
{
	int fd = newfd();
	touch(lt_path("f"));
	CHECK_ERR(inotify_add_watch(fd, lt_path("none"), IN_CREATE), ENOENT);
	CHECK_ERR(inotify_add_watch(fd, lt_path("f"), 0), EINVAL);
	CHECK_ERR(inotify_add_watch(fd, lt_path("f"), IN_CREATE | IN_ONLYDIR), ENOTDIR);
	CHECK_ERR(inotify_add_watch(-1, lt_path("f"), IN_CREATE), EBADF);
	int notify = REQUIRE_OK(open(lt_path("f"), O_RDONLY));
	CHECK_ERR(inotify_add_watch(notify, lt_path("f"), IN_CREATE), EINVAL);
	CHECK_ERR(syscall(SYS_inotify_add_watch, fd, (char *)1, IN_CREATE), EFAULT);
}

TEST(dont_follow)
{
	touch(lt_path("f"));
	REQUIRE_OK(symlink("f", lt_path("l")));
	int fd = newfd();
	int wf = REQUIRE_OK(inotify_add_watch(fd, lt_path("f"), IN_ATTRIB));
	CHECK_EQ(inotify_add_watch(fd, lt_path("l"), IN_ATTRIB), wf);
	int wl = REQUIRE_OK(inotify_add_watch(fd, lt_path("l"), IN_ATTRIB | IN_DONT_FOLLOW));
	CHECK_NE(wl, wf);
}

TEST(add_watch_needs_read_permission)
{
	touch(lt_path("f"));
	REQUIRE_OK(chmod(lt_path("f"), 0200));
	REQUIRE_OK(chmod(lt_tmpdir(), 0755));
	REQUIRE_OK(chdir(lt_tmpdir()));
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	int fd = newfd();
	CHECK_ERR(inotify_add_watch(fd, "f", IN_MODIFY), EACCES);
	CHECK_OK(inotify_add_watch(fd, ".", IN_MODIFY));
}

TEST(read_small_buffer_einval)
{
	int fd = newfd();
	REQUIRE_OK(inotify_add_watch(fd, lt_tmpdir(), IN_CREATE));
	touch(lt_path("some-name"));
	char buf[sizeof(struct inotify_event) + 4];
	CHECK_ERR(read(fd, buf, sizeof(buf)), EINVAL);
	CHECK_ERR(read(fd, buf, 0), EINVAL);
	/* The event is still there. */
	struct ev e[2];
	CHECK_EQ(drain(fd, e, 2), 1);
}

TEST(read_several_events_at_once)
{
	int fd = newfd();
	REQUIRE_OK(inotify_add_watch(fd, lt_tmpdir(), IN_CREATE));
	touch(lt_path("a"));
	touch(lt_path("bb"));
	touch(lt_path("ccc"));
	char buf[4096] __attribute__((aligned(8)));
	ssize_t r = REQUIRE_OK(read(fd, buf, sizeof(buf)));
	/* Each name is NUL-padded to a multiple of 16 bytes. */
	CHECK_EQ(r, 3 * (sizeof(struct inotify_event) + 16));
	struct inotify_event *e = (struct inotify_event *)buf;
	CHECK_EQ(e->len, 16);
	CHECK_STREQ(e->name, "a");
	/* A buffer for exactly one event returns one event. */
	touch(lt_path("d"));
	touch(lt_path("e"));
	r = REQUIRE_OK(read(fd, buf, sizeof(struct inotify_event) + 16));
	CHECK_EQ(r, sizeof(struct inotify_event) + 16);
	CHECK_STREQ(e->name, "d");
}

TEST(empty_nonblock_eagain)
{
	int fd = newfd();
	char buf[256];
	CHECK_ERR(read(fd, buf, sizeof(buf)), EAGAIN);
}

TEST(fionread)
{
	int fd = newfd();
	REQUIRE_OK(inotify_add_watch(fd, lt_tmpdir(), IN_CREATE));
	int n = -1;
	REQUIRE_OK(ioctl(fd, FIONREAD, &n));
	CHECK_EQ(n, 0);
	touch(lt_path("a"));
	REQUIRE_OK(ioctl(fd, FIONREAD, &n));
	CHECK_EQ(n, sizeof(struct inotify_event) + 16);
}

TEST(poll_readiness)
{
	int fd = newfd();
	REQUIRE_OK(inotify_add_watch(fd, lt_tmpdir(), IN_CREATE));
	struct pollfd p = {.fd = fd, .events = POLLIN};
	CHECK_EQ(poll(&p, 1, 0), 0);
	touch(lt_path("a"));
	CHECK_EQ(poll(&p, 1, 0), 1);
	CHECK_EQ(p.revents, POLLIN);
	struct ev e[2];
	drain(fd, e, 2);
	CHECK_EQ(poll(&p, 1, 0), 0);
}

TEST(blocking_read_wakes)
{
	int fd = REQUIRE_OK(inotify_init());
	REQUIRE_OK(inotify_add_watch(fd, lt_tmpdir(), IN_CREATE));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		usleep(100000);
		int f = open(lt_path("late"), O_CREAT | O_WRONLY, 0600);
		_exit(f < 0);
	}
	char buf[256] __attribute__((aligned(8)));
	ssize_t r = CHECK_OK(read(fd, buf, sizeof(buf)));
	CHECK_GT(r, 0);
	CHECK_STREQ(((struct inotify_event *)buf)->name, "late");
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(events_from_child_process)
{
	int fd = newfd();
	int wd = REQUIRE_OK(inotify_add_watch(fd, lt_tmpdir(), IN_CREATE | IN_DELETE));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		int f = open(lt_path("c"), O_CREAT | O_WRONLY, 0600);
		close(f);
		_exit(unlink(lt_path("c")) != 0);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
	struct ev e[4];
	int n = drain(fd, e, 4);
	CHECK_EQ(n, 2);
	EXPECT(e, n, 0, wd, IN_CREATE, "c");
	EXPECT(e, n, 1, wd, IN_DELETE, "c");
}

TEST(tmpfs_watch)
{
	char dir[64];
	snprintf(dir, sizeof(dir), "/dev/shm/lt-inotify-%d", getpid());
	REQUIRE_OK(mkdir(dir, 0700));
	int fd = newfd();
	int wd = REQUIRE_OK(inotify_add_watch(fd, dir, IN_CREATE | IN_DELETE | IN_DELETE_SELF));
	char f[96];
	snprintf(f, sizeof(f), "%s/x", dir);
	touch(f);
	unlink(f);
	rmdir(dir);
	struct ev e[8];
	int n = drain(fd, e, 8);
	CHECK_EQ(n, 4);
	EXPECT(e, n, 0, wd, IN_CREATE, "x");
	EXPECT(e, n, 1, wd, IN_DELETE, "x");
	EXPECT(e, n, 2, wd, IN_DELETE_SELF, "");
	EXPECT(e, n, 3, wd, IN_IGNORED, "");
}

TEST(excl_unlink)
{
	int fd = newfd();
	int f = REQUIRE_OK(open(lt_path("f"), O_CREAT | O_RDWR, 0600));
	int wd = REQUIRE_OK(inotify_add_watch(fd, lt_tmpdir(), IN_MODIFY | IN_EXCL_UNLINK));
	REQUIRE_OK(unlink(lt_path("f")));
	REQUIRE_EQ(write(f, "x", 1), 1);
	struct ev e[4];
	CHECK_EQ(drain(fd, e, 4), 0);
	(void)wd;
}

TEST(proc_fdinfo_lists_watch)
{
	int fd = newfd();
	int wd = REQUIRE_OK(inotify_add_watch(fd, lt_tmpdir(), IN_CREATE));
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fdinfo/%d", fd);
	int f = REQUIRE_OK(open(p, O_RDONLY));
	char buf[1024] = {0};
	REQUIRE_GT(read(f, buf, sizeof(buf) - 1), 0);
	char want[32];
	snprintf(want, sizeof(want), "inotify wd:%x ", wd);
	CHECK(strstr(buf, want) != NULL);
	CHECK(strstr(buf, "mask:100 ") != NULL);
}

TEST(rename_over_target_deletes_it)
{
	touch(lt_path("a"));
	touch(lt_path("b"));
	int fd = newfd();
	int wa = REQUIRE_OK(inotify_add_watch(fd, lt_path("a"), IN_ALL_EVENTS));
	int wb = REQUIRE_OK(inotify_add_watch(fd, lt_path("b"), IN_ALL_EVENTS));
	REQUIRE_OK(rename(lt_path("a"), lt_path("b")));
	struct ev e[8];
	int n = drain(fd, e, 8);
	CHECK_EQ(n, 4);
	EXPECT(e, n, 0, wb, IN_ATTRIB, "");
	EXPECT(e, n, 1, wa, IN_MOVE_SELF, "");
	EXPECT(e, n, 2, wb, IN_DELETE_SELF, "");
	EXPECT(e, n, 3, wb, IN_IGNORED, "");
}

TEST(exchange_two_moves)
{
	touch(lt_path("a"));
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	int fd = newfd();
	int wd = REQUIRE_OK(inotify_add_watch(fd, lt_tmpdir(), IN_MOVE));
	REQUIRE_OK(syscall(SYS_renameat2, AT_FDCWD, lt_path("a"), AT_FDCWD, lt_path("d"), RENAME_EXCHANGE));
	struct ev e[8];
	int n = drain(fd, e, 8);
	CHECK_EQ(n, 4);
	EXPECT(e, n, 0, wd, IN_MOVED_FROM, "a");
	EXPECT(e, n, 1, wd, IN_MOVED_TO, "d");
	EXPECT(e, n, 2, wd, IN_MOVED_FROM | IN_ISDIR, "d");
	EXPECT(e, n, 3, wd, IN_MOVED_TO | IN_ISDIR, "a");
	if (n == 4) {
		CHECK_EQ(e[0].cookie, e[1].cookie);
		CHECK_EQ(e[2].cookie, e[3].cookie);
		CHECK_NE(e[0].cookie, e[2].cookie);
	}
}

TEST(delete_self_waits_for_last_close)
{
	int f = REQUIRE_OK(open(lt_path("f"), O_CREAT | O_RDWR, 0600));
	int fd = newfd();
	int wd = REQUIRE_OK(inotify_add_watch(fd, lt_path("f"), IN_ATTRIB | IN_DELETE_SELF | IN_CLOSE));
	REQUIRE_OK(unlink(lt_path("f")));
	struct ev e[8];
	int n = drain(fd, e, 8);
	CHECK_EQ(n, 1);
	EXPECT(e, n, 0, wd, IN_ATTRIB, "");
	close(f);
	n = drain(fd, e, 8);
	CHECK_EQ(n, 3);
	EXPECT(e, n, 0, wd, IN_CLOSE_WRITE, "");
	EXPECT(e, n, 1, wd, IN_DELETE_SELF, "");
	EXPECT(e, n, 2, wd, IN_IGNORED, "");
}

TEST(unlink_one_of_two_links_no_delete_self)
{
	touch(lt_path("f"));
	REQUIRE_OK(link(lt_path("f"), lt_path("g")));
	int fd = newfd();
	int wd = REQUIRE_OK(inotify_add_watch(fd, lt_path("f"), IN_ATTRIB | IN_DELETE_SELF));
	REQUIRE_OK(unlink(lt_path("f")));
	struct ev e[8];
	int n = drain(fd, e, 8);
	CHECK_EQ(n, 1);
	EXPECT(e, n, 0, wd, IN_ATTRIB, "");
}

TEST(directory_read_events_have_isdir)
{
	int fd = newfd();
	int wd = REQUIRE_OK(inotify_add_watch(fd, lt_tmpdir(), IN_OPEN | IN_ACCESS | IN_CLOSE_NOWRITE));
	int d = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	char buf[1024];
	REQUIRE_OK(syscall(SYS_getdents64, d, buf, sizeof(buf)));
	close(d);
	struct ev e[8];
	int n = drain(fd, e, 8);
	CHECK_EQ(n, 3);
	EXPECT(e, n, 0, wd, IN_OPEN | IN_ISDIR, "");
	EXPECT(e, n, 1, wd, IN_ACCESS | IN_ISDIR, "");
	EXPECT(e, n, 2, wd, IN_CLOSE_NOWRITE | IN_ISDIR, "");
}

TEST(create_open_close_sequence)
{
	int fd = newfd();
	int wd = REQUIRE_OK(inotify_add_watch(fd, lt_tmpdir(), IN_ALL_EVENTS));
	int f = REQUIRE_OK(open(lt_path("n"), O_CREAT | O_WRONLY, 0600));
	REQUIRE_EQ(write(f, "x", 1), 1);
	close(f);
	f = REQUIRE_OK(open(lt_path("n"), O_WRONLY | O_TRUNC));
	close(f);
	struct ev e[16];
	int n = drain(fd, e, 16);
	CHECK_EQ(n, 7);
	EXPECT(e, n, 0, wd, IN_CREATE, "n");
	EXPECT(e, n, 1, wd, IN_OPEN, "n");
	EXPECT(e, n, 2, wd, IN_MODIFY, "n");
	EXPECT(e, n, 3, wd, IN_CLOSE_WRITE, "n");
	EXPECT(e, n, 4, wd, IN_OPEN, "n");
	EXPECT(e, n, 5, wd, IN_MODIFY, "n");
	EXPECT(e, n, 6, wd, IN_CLOSE_WRITE, "n");
}

TEST(xattr_is_attrib)
{
	touch(lt_path("f"));
	int fd = newfd();
	int wd = REQUIRE_OK(inotify_add_watch(fd, lt_tmpdir(), IN_ATTRIB));
	REQUIRE_OK(setxattr(lt_path("f"), "user.k", "v", 1, 0));
	REQUIRE_OK(removexattr(lt_path("f"), "user.k"));
	struct ev e[8];
	int n = drain(fd, e, 8);
	/* Two identical events in a row are merged. */
	CHECK_EQ(n, 1);
	EXPECT(e, n, 0, wd, IN_ATTRIB, "f");
}

TEST(queue_overflow)
{
	int max = 0;
	FILE *mf = fopen("/proc/sys/fs/inotify/max_queued_events", "r");
	REQUIRE(mf != NULL);
	REQUIRE_EQ(fscanf(mf, "%d", &max), 1);
	fclose(mf);
	REQUIRE_GT(max, 0);
	REQUIRE(max <= 65536);
	int a = open(lt_path("a"), O_CREAT | O_RDWR, 0600);
	int b = open(lt_path("b"), O_CREAT | O_RDWR, 0600);
	REQUIRE_EQ(write(a, "x", 1), 1);
	REQUIRE_EQ(write(b, "x", 1), 1);
	int fd = newfd();
	REQUIRE_OK(inotify_add_watch(fd, lt_path("a"), IN_ACCESS));
	REQUIRE_OK(inotify_add_watch(fd, lt_path("b"), IN_ACCESS));
	char c;
	/* Alternating files: no two events in a row are alike. */
	for (int i = 0; i < max / 2 + 10; i++) {
		REQUIRE_EQ(pread(a, &c, 1, 0), 1);
		REQUIRE_EQ(pread(b, &c, 1, 0), 1);
	}
	static struct ev e[65536 + 8];
	int n = drain(fd, e, 65536 + 8);
	CHECK_EQ(n, max + 1);
	if (n == max + 1) {
		CHECK_EQ(e[max].wd, -1);
		CHECK_EQ(e[max].mask, IN_Q_OVERFLOW);
		CHECK_EQ(e[max - 1].mask, IN_ACCESS);
	}
}

TEST(close_of_inotify_fd_drops_watches)
{
	int fd = newfd();
	REQUIRE_OK(inotify_add_watch(fd, lt_tmpdir(), IN_CREATE));
	close(fd);
	/* Nothing to observe but that events to a closed instance do no harm. */
	touch(lt_path("after"));
	int fd2 = newfd();
	int wd = REQUIRE_OK(inotify_add_watch(fd2, lt_tmpdir(), IN_CREATE));
	CHECK_EQ(wd, 1);
}

TEST(read_on_inotify_blocks_until_event_in_thread_poll)
{
	int fd = newfd();
	REQUIRE_OK(inotify_add_watch(fd, lt_tmpdir(), IN_CREATE));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		usleep(50000);
		touch(lt_path("x"));
		_exit(0);
	}
	struct pollfd p = {.fd = fd, .events = POLLIN};
	CHECK_EQ(poll(&p, 1, 10000), 1);
	CHECK_EQ(p.revents, POLLIN);
	CHECK_EQ(lt_wait_exit(pid), 0);
}
