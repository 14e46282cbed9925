/* getdents64: every entry once, d_type, small buffers, offsets, errors. */
#include "lt.h"
#include <dirent.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>

struct ent {
	char name[256];
	unsigned char type;
};

/* read_all lists fd with getdents64 in buffers of bufsz bytes. */
static int read_all(int fd, size_t bufsz, struct ent *out, int max, int *calls)
{
	char buf[8192];
	int n = 0;
	*calls = 0;
	for (;;) {
		long r = syscall(SYS_getdents64, fd, buf, bufsz);
		if (r < 0)
			return -1;
		if (r == 0)
			return n;
		(*calls)++;
		for (long off = 0; off < r;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			if (n < max) {
				snprintf(out[n].name, sizeof(out[n].name), "%s", d->d_name);
				out[n].type = d->d_type;
			}
			n++;
			off += d->d_reclen;
		}
	}
}

static int find(struct ent *e, int n, const char *name)
{
	int count = 0;
	for (int i = 0; i < n; i++)
		if (strcmp(e[i].name, name) == 0)
			count++;
	return count;
}

static unsigned char type_of(struct ent *e, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(e[i].name, name) == 0)
			return e[i].type;
	return 255;
}

static int mkfiles(int count)
{
	char name[64];
	for (int i = 0; i < count; i++) {
		snprintf(name, sizeof(name), "file-with-a-longish-name-%03d", i);
		int fd = open(lt_path(name), O_CREAT | O_WRONLY, 0600);
		if (fd < 0)
			return -1;
		close(fd);
	}
	return 0;
}

TEST(empty_dir_has_dot_and_dotdot)
{
	int fd = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	struct ent e[8];
	int calls;
	int n = read_all(fd, 8192, e, 8, &calls);
	CHECK_EQ(n, 2);
	CHECK_EQ(find(e, n, "."), 1);
	CHECK_EQ(find(e, n, ".."), 1);
	CHECK_EQ(type_of(e, n, "."), DT_DIR);
	CHECK_EQ(type_of(e, n, ".."), DT_DIR);
}

TEST(all_entries_once)
{
	REQUIRE_OK(mkfiles(50));
	int fd = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	static struct ent e[64];
	int calls;
	int n = read_all(fd, 8192, e, 64, &calls);
	CHECK_EQ(n, 52);
	char name[64];
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "file-with-a-longish-name-%03d", i);
		CHECK_EQ(find(e, n, name), 1);
		CHECK_EQ(type_of(e, n, name), DT_REG);
	}
}

TEST(small_buffer_several_calls)
{
	REQUIRE_OK(mkfiles(40));
	int fd = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	static struct ent e[64];
	int calls;
	/* Room for about two entries per call. */
	int n = read_all(fd, 100, e, 64, &calls);
	CHECK_EQ(n, 42);
	CHECK_GE(calls, 21);
	char name[64];
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "file-with-a-longish-name-%03d", i);
		CHECK_EQ(find(e, n, name), 1);
	}
}

TEST(d_type_of_each_kind)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	REQUIRE_OK(symlink("nowhere", lt_path("l")));
	REQUIRE_OK(mkfifo(lt_path("p"), 0600));
	int fd = REQUIRE_OK(open(lt_path("f"), O_CREAT | O_WRONLY, 0600));
	close(fd);
	int s = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", lt_path("s"));
	REQUIRE_OK(bind(s, (struct sockaddr *)&sa, sizeof(sa)));
	fd = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	struct ent e[16];
	int calls;
	int n = read_all(fd, 8192, e, 16, &calls);
	CHECK_EQ(n, 7);
	CHECK_EQ(type_of(e, n, "d"), DT_DIR);
	CHECK_EQ(type_of(e, n, "l"), DT_LNK);
	CHECK_EQ(type_of(e, n, "p"), DT_FIFO);
	CHECK_EQ(type_of(e, n, "f"), DT_REG);
	CHECK_EQ(type_of(e, n, "s"), DT_SOCK);
}

TEST(d_type_chr_in_dev)
{
	int fd = REQUIRE_OK(open("/dev", O_RDONLY | O_DIRECTORY));
	static struct ent e[512];
	int calls;
	int n = read_all(fd, 8192, e, 512, &calls);
	CHECK_GT(n, 2);
	CHECK_EQ(type_of(e, n, "null"), DT_CHR);
	CHECK_EQ(type_of(e, n, "zero"), DT_CHR);
}

TEST(unlinked_entry_gone_after_rewind)
{
	REQUIRE_OK(mkfiles(5));
	int fd = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	struct ent e[16];
	int calls;
	int n = read_all(fd, 8192, e, 16, &calls);
	CHECK_EQ(n, 7);
	REQUIRE_OK(unlink(lt_path("file-with-a-longish-name-002")));
	REQUIRE_OK(lseek(fd, 0, SEEK_SET));
	n = read_all(fd, 8192, e, 16, &calls);
	CHECK_EQ(n, 6);
	CHECK_EQ(find(e, n, "file-with-a-longish-name-002"), 0);
	CHECK_EQ(find(e, n, "file-with-a-longish-name-003"), 1);
}

TEST(unlink_during_listing_no_duplicates)
{
	REQUIRE_OK(mkfiles(30));
	int fd = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	char buf[200];
	long r = REQUIRE_OK(syscall(SYS_getdents64, fd, buf, sizeof(buf)));
	REQUIRE_GT(r, 0);
	/* Remove everything; what remains to read must not repeat earlier names. */
	char name[64];
	for (int i = 0; i < 30; i++) {
		snprintf(name, sizeof(name), "file-with-a-longish-name-%03d", i);
		REQUIRE_OK(unlink(lt_path(name)));
	}
	static struct ent e[64];
	int calls;
	int n = read_all(fd, 8192, e, 64, &calls);
	CHECK_GE(n, 0);
	CHECK_LE(n, 30);
}

TEST(end_of_directory_stays_at_end)
{
	int fd = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	struct ent e[8];
	int calls;
	CHECK_EQ(read_all(fd, 8192, e, 8, &calls), 2);
	char buf[512];
	CHECK_EQ(syscall(SYS_getdents64, fd, buf, sizeof(buf)), 0);
	/* A file created after the end was reached shows after a rewind. */
	int f = REQUIRE_OK(open(lt_path("late"), O_CREAT | O_WRONLY, 0600));
	close(f);
	REQUIRE_OK(lseek(fd, 0, SEEK_SET));
	int n = read_all(fd, 8192, e, 8, &calls);
	CHECK_EQ(n, 3);
	CHECK_EQ(find(e, n, "late"), 1);
}

TEST(ebadf)
{
	char buf[512];
	CHECK_ERR(syscall(SYS_getdents64, -1, buf, sizeof(buf)), EBADF);
	CHECK_ERR(syscall(SYS_getdents64, 999, buf, sizeof(buf)), EBADF);
}

TEST(ebadf_opath)
{
	int fd = REQUIRE_OK(open(lt_tmpdir(), O_PATH | O_DIRECTORY));
	char buf[512];
	CHECK_ERR(syscall(SYS_getdents64, fd, buf, sizeof(buf)), EBADF);
}

TEST(enotdir_on_file)
{
	int fd = REQUIRE_OK(open(lt_path("f"), O_CREAT | O_RDWR, 0600));
	char buf[512];
	CHECK_ERR(syscall(SYS_getdents64, fd, buf, sizeof(buf)), ENOTDIR);
}

TEST(einval_buffer_too_small)
{
	int fd = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	char buf[512];
	CHECK_ERR(syscall(SYS_getdents64, fd, buf, 1), EINVAL);
	CHECK_ERR(syscall(SYS_getdents64, fd, buf, 0), EINVAL);
	/* Nothing was consumed: a real read still sees "." first. */
	long r = CHECK_OK(syscall(SYS_getdents64, fd, buf, sizeof(buf)));
	CHECK_GT(r, 0);
}

TEST(efault_bad_buffer)
{
	int fd = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	CHECK_ERR(syscall(SYS_getdents64, fd, (void *)1, 4096), EFAULT);
}

TEST(reclen_aligned_and_offsets_increase)
{
	REQUIRE_OK(mkfiles(10));
	int fd = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	char buf[8192];
	long r = REQUIRE_OK(syscall(SYS_getdents64, fd, buf, sizeof(buf)));
	REQUIRE_GT(r, 0);
	for (long off = 0; off < r;) {
		struct dirent64 *d = (struct dirent64 *)(buf + off);
		CHECK_EQ(d->d_reclen % 8, 0);
		CHECK_GE(d->d_reclen, offsetof(struct dirent64, d_name) + strlen(d->d_name) + 1);
		CHECK_NE(d->d_ino, 0);
		off += d->d_reclen;
	}
}

TEST(seek_to_d_off_resumes)
{
	REQUIRE_OK(mkfiles(10));
	int fd = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	char buf[8192];
	long r = REQUIRE_OK(syscall(SYS_getdents64, fd, buf, sizeof(buf)));
	REQUIRE_GT(r, 0);
	/* Take the third entry's d_off; reading from there gives the fourth. */
	struct dirent64 *d = (struct dirent64 *)buf;
	d = (struct dirent64 *)((char *)d + d->d_reclen);
	d = (struct dirent64 *)((char *)d + d->d_reclen);
	off_t resume = d->d_off;
	struct dirent64 *fourth = (struct dirent64 *)((char *)d + d->d_reclen);
	char want[256];
	snprintf(want, sizeof(want), "%s", fourth->d_name);
	REQUIRE_EQ(lseek(fd, resume, SEEK_SET), resume);
	char buf2[8192];
	r = REQUIRE_OK(syscall(SYS_getdents64, fd, buf2, sizeof(buf2)));
	REQUIRE_GT(r, 0);
	CHECK_STREQ(((struct dirent64 *)buf2)->d_name, want);
}

TEST(readdir_libc_matches)
{
	REQUIRE_OK(mkfiles(3));
	DIR *d = opendir(lt_tmpdir());
	REQUIRE(d != NULL);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		n++;
	CHECK_EQ(n, 5);
	closedir(d);
}

TEST(deleted_dir_reads_empty)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	int fd = REQUIRE_OK(open(lt_path("d"), O_RDONLY | O_DIRECTORY));
	REQUIRE_OK(rmdir(lt_path("d")));
	char buf[4096];
	CHECK_ERR(syscall(SYS_getdents64, fd, buf, sizeof(buf)), ENOENT);
}
