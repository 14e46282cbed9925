/* openat2: struct open_how validation and the RESOLVE_* flags. */
#include "shm.h"

#include <linux/openat2.h>
#include <sys/syscall.h>

static long openat2_(int dirfd, const char *path, struct open_how *how, size_t size)
{
	return syscall(SYS_openat2, dirfd, path, how, size);
}

static long open_how(int dirfd, const char *path, unsigned long long flags, unsigned long long resolve)
{
	struct open_how how = {.flags = flags, .resolve = resolve};
	return openat2_(dirfd, path, &how, sizeof(how));
}

/* tree makes d/f, d/sub/, d/abs -> /, d/up -> .., d/in -> sub, d/lf -> f. */
static int tree(void)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0755));
	REQUIRE_OK(mkdir(lt_path("d/sub"), 0755));
	close(REQUIRE_OK(open(lt_path("d/f"), O_CREAT | O_WRONLY, 0644)));
	REQUIRE_OK(symlink("/", lt_path("d/abs")));
	REQUIRE_OK(symlink("..", lt_path("d/up")));
	REQUIRE_OK(symlink("sub", lt_path("d/in")));
	REQUIRE_OK(symlink("f", lt_path("d/lf")));
	return REQUIRE_OK(open(lt_path("d"), O_PATH | O_DIRECTORY));
}

TEST(basic_open)
{
	int d = tree();
	int fd = CHECK_OK(open_how(d, "f", O_RDWR, 0));
	CHECK_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
	CHECK_OK(open_how(d, "new", O_CREAT | O_WRONLY, 0));
	CHECK_ERR(open_how(d, "missing", O_RDONLY, 0), ENOENT);
}

TEST(mode_applies_only_with_creat)
{
	int d = tree();
	umask(0);
	struct open_how how = {.flags = O_CREAT | O_WRONLY, .mode = 0640};
	int fd = REQUIRE_OK(openat2_(d, "n", &how, sizeof(how)));
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_mode & 07777, 0640);
	how.flags = O_RDONLY;
	CHECK_ERR(openat2_(d, "f", &how, sizeof(how)), EINVAL);
	how.mode = 010000;
	how.flags = O_CREAT | O_WRONLY;
	CHECK_ERR(openat2_(d, "m", &how, sizeof(how)), EINVAL);
}

TEST(unknown_flags_einval)
{
	int d = tree();
	CHECK_ERR(open_how(d, "f", O_RDONLY | 0x40000000, 0), EINVAL);
	CHECK_ERR(open_how(d, "f", O_RDONLY | (1ULL << 40), 0), EINVAL);
	CHECK_ERR(open_how(d, "f", O_RDONLY, 0x100), EINVAL);
	/* Flags that only make sense together. */
	CHECK_ERR(open_how(d, "f", O_RDONLY, RESOLVE_BENEATH | RESOLVE_IN_ROOT), EINVAL);
}

TEST(size_checks)
{
	int d = tree();
	struct {
		struct open_how how;
		unsigned long long extra;
	} big = {{.flags = O_RDONLY}, 0};
	CHECK_ERR(openat2_(d, "f", &big.how, 8), EINVAL);
	CHECK_ERR(openat2_(d, "f", &big.how, 0), EINVAL);
	/* A larger struct is fine if the tail is zero, E2BIG if not. */
	CHECK_OK(openat2_(d, "f", &big.how, sizeof(big)));
	big.extra = 1;
	CHECK_ERR(openat2_(d, "f", &big.how, sizeof(big)), E2BIG);
	CHECK_ERR(openat2_(d, "f", &big.how, 1 << 20), E2BIG);
}

TEST(bad_pointers_efault)
{
	int d = tree();
	CHECK_ERR(openat2_(d, "f", (struct open_how *)1, sizeof(struct open_how)), EFAULT);
	struct open_how how = {.flags = O_RDONLY};
	CHECK_ERR(openat2_(d, (char *)1, &how, sizeof(how)), EFAULT);
}

TEST(resolve_no_symlinks)
{
	int d = tree();
	CHECK_ERR(open_how(d, "lf", O_RDONLY, RESOLVE_NO_SYMLINKS), ELOOP);
	CHECK_ERR(open_how(d, "in/.", O_RDONLY, RESOLVE_NO_SYMLINKS), ELOOP);
	CHECK_OK(open_how(d, "sub/.", O_RDONLY, RESOLVE_NO_SYMLINKS));
	/* With O_PATH|O_NOFOLLOW the final link itself may be opened. */
	CHECK_OK(open_how(d, "lf", O_PATH | O_NOFOLLOW, RESOLVE_NO_SYMLINKS));
}

TEST(resolve_no_magiclinks)
{
	int d = tree();
	int fd = REQUIRE_OK(open(lt_path("d/f"), O_RDONLY));
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	CHECK_ERR(open_how(AT_FDCWD, p, O_RDONLY, RESOLVE_NO_MAGICLINKS), ELOOP);
	CHECK_OK(open_how(AT_FDCWD, p, O_RDONLY, 0));
	/* Ordinary symlinks are still followed. */
	CHECK_OK(open_how(d, "lf", O_RDONLY, RESOLVE_NO_MAGICLINKS));
}

TEST(resolve_beneath)
{
	int d = tree();
	CHECK_OK(open_how(d, "sub/../f", O_RDONLY, RESOLVE_BENEATH));
	CHECK_OK(open_how(d, "in", O_RDONLY, RESOLVE_BENEATH));
	CHECK_ERR(open_how(d, "..", O_RDONLY, RESOLVE_BENEATH), EXDEV);
	CHECK_ERR(open_how(d, "sub/../..", O_RDONLY, RESOLVE_BENEATH), EXDEV);
	CHECK_ERR(open_how(d, "up", O_RDONLY, RESOLVE_BENEATH), EXDEV);
	CHECK_ERR(open_how(d, "abs", O_RDONLY, RESOLVE_BENEATH), EXDEV);
	CHECK_ERR(open_how(d, "/", O_RDONLY, RESOLVE_BENEATH), EXDEV);
}

TEST(resolve_in_root)
{
	int d = tree();
	/* ".." and absolute links stay inside the root. */
	int fd = CHECK_OK(open_how(d, "up/f", O_RDONLY, RESOLVE_IN_ROOT));
	struct stat a, b;
	REQUIRE_OK(fstat(fd, &a));
	REQUIRE_OK(stat(lt_path("d/f"), &b));
	CHECK_EQ(a.st_ino, b.st_ino);
	fd = CHECK_OK(open_how(d, "abs/sub", O_RDONLY, RESOLVE_IN_ROOT));
	REQUIRE_OK(fstat(fd, &a));
	REQUIRE_OK(stat(lt_path("d/sub"), &b));
	CHECK_EQ(a.st_ino, b.st_ino);
	fd = CHECK_OK(open_how(d, "/f", O_RDONLY, RESOLVE_IN_ROOT));
	REQUIRE_OK(fstat(fd, &a));
	REQUIRE_OK(stat(lt_path("d/f"), &b));
	CHECK_EQ(a.st_ino, b.st_ino);
}

TEST(resolve_no_xdev)
{
	int d = tree();
	CHECK_OK(open_how(d, "sub", O_RDONLY, RESOLVE_NO_XDEV));
	/* /proc is another mount than /. */
	int root = REQUIRE_OK(open("/", O_PATH));
	CHECK_ERR(open_how(root, "proc/self", O_RDONLY, RESOLVE_NO_XDEV), EXDEV);
	CHECK_ERR(open_how(AT_FDCWD, "/proc", O_RDONLY, RESOLVE_NO_XDEV), EXDEV);
}

TEST(resolve_cached_eagain)
{
	int d = tree();
	/* RESOLVE_CACHED may not create or truncate. */
	CHECK_ERR(open_how(d, "n", O_CREAT | O_WRONLY, RESOLVE_CACHED), EAGAIN);
	CHECK_ERR(open_how(d, "f", O_WRONLY | O_TRUNC, RESOLVE_CACHED), EAGAIN);
}

TEST(bad_dirfd)
{
	CHECK_ERR(open_how(12345, "f", O_RDONLY, 0), EBADF);
	int d = tree();
	int f = REQUIRE_OK(openat(d, "f", O_RDONLY));
	CHECK_ERR(open_how(f, "x", O_RDONLY, 0), ENOTDIR);
	/* An absolute path ignores the dirfd. */
	CHECK_OK(open_how(12345, "/", O_RDONLY, 0));
}

TEST(create_beneath_and_in_root)
{
	int d = tree();
	CHECK_OK(open_how(d, "new", O_CREAT | O_WRONLY, RESOLVE_BENEATH));
	CHECK_OK(access(lt_path("d/new"), F_OK));
	CHECK_ERR(open_how(d, "../escape", O_CREAT | O_WRONLY, RESOLVE_BENEATH), EXDEV);
	CHECK_ERR(access(lt_path("escape"), F_OK), ENOENT);
	/* In a root, ".." from the top stays at the top: the file lands in d. */
	CHECK_OK(open_how(d, "up/../x", O_CREAT | O_WRONLY, RESOLVE_IN_ROOT));
	CHECK_OK(access(lt_path("d/x"), F_OK));
}

TEST(tmpfile_and_cached)
{
	int d = tree();
	int fd = CHECK_OK(open_how(d, ".", O_TMPFILE | O_RDWR, RESOLVE_BENEATH));
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_nlink, 0);
	/* A lookup that needs no I/O succeeds under RESOLVE_CACHED. */
	CHECK_OK(open_how(d, "sub", O_RDONLY, RESOLVE_CACHED));
	CHECK_ERR(open_how(d, "sub", O_RDONLY | O_CREAT, 0), EISDIR);
}

TEST(no_symlinks_in_middle)
{
	int d = tree();
	CHECK_ERR(open_how(d, "in/..", O_RDONLY, RESOLVE_NO_SYMLINKS), ELOOP);
	CHECK_ERR(open_how(d, "in", O_RDONLY | O_DIRECTORY, RESOLVE_NO_SYMLINKS), ELOOP);
	/* The link itself may be opened with O_PATH|O_NOFOLLOW, even if it points outside. */
	CHECK_OK(open_how(d, "up", O_PATH | O_NOFOLLOW, RESOLVE_BENEATH));
}
