/*
 * setxattr, getxattr, listxattr, removexattr: user.* attributes on tmpfs
 * (/dev/shm) and on the scratch directory's file system (the overlay in
 * the sandbox).
 */
#include "lt.h"
#include <sys/syscall.h>
#include <sys/xattr.h>

/* shm_file makes a fresh file under /dev/shm, removed at exit of the case. */
static const char *shm_file(void)
{
	static char p[64];
	snprintf(p, sizeof(p), "/dev/shm/lt-xattr-%d", getpid());
	int fd = open(p, O_CREAT | O_RDWR | O_TRUNC, 0600);
	if (fd < 0)
		ABORT("open %s: %s", p, strerror(errno));
	close(fd);
	return p;
}

static void cleanup_shm(void)
{
	char p[64];
	snprintf(p, sizeof(p), "/dev/shm/lt-xattr-%d", getpid());
	unlink(p);
}

static const char *scratch_file(void)
{
	const char *p = lt_path("f");
	int fd = open(p, O_CREAT | O_RDWR, 0600);
	if (fd < 0)
		ABORT("open %s: %s", p, strerror(errno));
	close(fd);
	return p;
}

/* roundtrip sets, gets and lists one attribute on path. */
static void roundtrip(const char *path)
{
	REQUIRE_OK(setxattr(path, "user.k", "value", 5, 0));
	char buf[64] = {0};
	CHECK_EQ(getxattr(path, "user.k", buf, sizeof(buf)), 5);
	CHECK_STREQ(buf, "value");
	/* A size of 0 asks for the length. */
	CHECK_EQ(getxattr(path, "user.k", NULL, 0), 5);
}

TEST(tmpfs_roundtrip)
{
	roundtrip(shm_file());
	cleanup_shm();
}

TEST(scratch_roundtrip)
{
	roundtrip(scratch_file());
}

TEST(list_names)
{
	const char *p = scratch_file();
	REQUIRE_OK(setxattr(p, "user.a", "1", 1, 0));
	REQUIRE_OK(setxattr(p, "user.bb", "22", 2, 0));
	char list[256];
	ssize_t n = CHECK_OK(listxattr(p, list, sizeof(list)));
	/* Other (security.*) names may be there too; ours must be. */
	int a = 0, bb = 0;
	for (ssize_t off = 0; off < n; off += strlen(list + off) + 1) {
		a += strcmp(list + off, "user.a") == 0;
		bb += strcmp(list + off, "user.bb") == 0;
	}
	CHECK_EQ(a, 1);
	CHECK_EQ(bb, 1);
	CHECK_EQ(listxattr(p, NULL, 0), n);
}

TEST(list_empty_tmpfs)
{
	const char *p = shm_file();
	char list[64];
	CHECK_EQ(listxattr(p, list, sizeof(list)), 0);
	cleanup_shm();
}

TEST(xattr_create_flag)
{
	const char *p = shm_file();
	REQUIRE_OK(setxattr(p, "user.k", "v1", 2, XATTR_CREATE));
	CHECK_ERR(setxattr(p, "user.k", "v2", 2, XATTR_CREATE), EEXIST);
	char buf[8] = {0};
	CHECK_EQ(getxattr(p, "user.k", buf, sizeof(buf)), 2);
	CHECK_STREQ(buf, "v1");
	cleanup_shm();
}

TEST(xattr_replace_flag)
{
	const char *p = scratch_file();
	CHECK_ERR(setxattr(p, "user.k", "v", 1, XATTR_REPLACE), ENODATA);
	REQUIRE_OK(setxattr(p, "user.k", "v", 1, 0));
	CHECK_OK(setxattr(p, "user.k", "new", 3, XATTR_REPLACE));
	char buf[8] = {0};
	CHECK_EQ(getxattr(p, "user.k", buf, sizeof(buf)), 3);
	CHECK_STREQ(buf, "new");
}

TEST(bad_flags_einval)
{
	const char *p = shm_file();
	CHECK_ERR(setxattr(p, "user.k", "v", 1, XATTR_CREATE | XATTR_REPLACE | 4), EINVAL);
	CHECK_ERR(setxattr(p, "user.k", "v", 1, 8), EINVAL);
	cleanup_shm();
}

TEST(get_missing_enodata)
{
	const char *p = scratch_file();
	char buf[8];
	CHECK_ERR(getxattr(p, "user.none", buf, sizeof(buf)), ENODATA);
	CHECK_ERR(removexattr(p, "user.none"), ENODATA);
}

TEST(get_small_buffer_erange)
{
	const char *p = shm_file();
	REQUIRE_OK(setxattr(p, "user.k", "0123456789", 10, 0));
	char buf[4];
	CHECK_ERR(getxattr(p, "user.k", buf, sizeof(buf)), ERANGE);
	cleanup_shm();
}

TEST(list_small_buffer_erange)
{
	const char *p = scratch_file();
	REQUIRE_OK(setxattr(p, "user.longname", "v", 1, 0));
	char buf[4];
	CHECK_ERR(listxattr(p, buf, sizeof(buf)), ERANGE);
}

TEST(remove_then_gone)
{
	const char *p = shm_file();
	REQUIRE_OK(setxattr(p, "user.k", "v", 1, 0));
	REQUIRE_OK(removexattr(p, "user.k"));
	CHECK_ERR(getxattr(p, "user.k", NULL, 0), ENODATA);
	char list[64];
	CHECK_EQ(listxattr(p, list, sizeof(list)), 0);
	cleanup_shm();
}

TEST(empty_value)
{
	const char *p = scratch_file();
	REQUIRE_OK(setxattr(p, "user.e", "", 0, 0));
	char buf[4];
	CHECK_EQ(getxattr(p, "user.e", buf, sizeof(buf)), 0);
}

TEST(binary_value)
{
	const char *p = shm_file();
	unsigned char v[16];
	for (int i = 0; i < 16; i++)
		v[i] = (unsigned char)(i * 17);
	v[3] = 0;
	REQUIRE_OK(setxattr(p, "user.bin", v, sizeof(v), 0));
	unsigned char got[16];
	CHECK_EQ(getxattr(p, "user.bin", got, sizeof(got)), 16);
	CHECK_MEMEQ(got, v, 16);
	cleanup_shm();
}

TEST(unknown_namespace_eopnotsupp)
{
	const char *p = shm_file();
	CHECK_ERR(setxattr(p, "bogus.k", "v", 1, 0), EOPNOTSUPP);
	CHECK_ERR(getxattr(p, "bogus.k", NULL, 0), EOPNOTSUPP);
	CHECK_ERR(setxattr(p, "nodot", "v", 1, 0), EOPNOTSUPP);
	cleanup_shm();
}

TEST(empty_name_erange)
{
	const char *p = shm_file();
	CHECK_ERR(setxattr(p, "", "v", 1, 0), ERANGE);
	CHECK_ERR(getxattr(p, "", NULL, 0), ERANGE);
	cleanup_shm();
}

TEST(name_too_long_erange)
{
	const char *p = shm_file();
	char name[300];
	memset(name, 'x', sizeof(name) - 1);
	memcpy(name, "user.", 5);
	name[sizeof(name) - 1] = 0;
	CHECK_ERR(setxattr(p, name, "v", 1, 0), ERANGE);
	cleanup_shm();
}

TEST(value_too_big_e2big)
{
	const char *p = shm_file();
	static char big[70000];
	CHECK_ERR(setxattr(p, "user.big", big, sizeof(big), 0), E2BIG);
	cleanup_shm();
}

TEST(fd_variants)
{
	int fd = REQUIRE_OK(open(lt_path("f"), O_CREAT | O_RDWR, 0600));
	REQUIRE_OK(fsetxattr(fd, "user.k", "fv", 2, 0));
	char buf[8] = {0};
	CHECK_EQ(fgetxattr(fd, "user.k", buf, sizeof(buf)), 2);
	CHECK_STREQ(buf, "fv");
	char list[64];
	CHECK_GE(flistxattr(fd, list, sizeof(list)), 7);
	CHECK_OK(fremovexattr(fd, "user.k"));
	CHECK_ERR(fgetxattr(fd, "user.k", buf, sizeof(buf)), ENODATA);
	CHECK_ERR(fgetxattr(-1, "user.k", buf, sizeof(buf)), EBADF);
	CHECK_ERR(fsetxattr(9999, "user.k", "v", 1, 0), EBADF);
}

TEST(user_xattr_on_symlink_eperm)
{
	REQUIRE_OK(symlink("target", lt_path("l")));
	CHECK_ERR(lsetxattr(lt_path("l"), "user.k", "v", 1, 0), EPERM);
}

TEST(missing_file_enoent)
{
	char buf[8];
	CHECK_ERR(getxattr(lt_path("none"), "user.k", buf, sizeof(buf)), ENOENT);
	CHECK_ERR(setxattr(lt_path("none"), "user.k", "v", 1, 0), ENOENT);
}

TEST(efault)
{
	const char *p = shm_file();
	CHECK_ERR(setxattr(p, (char *)1, "v", 1, 0), EFAULT);
	CHECK_ERR(syscall(SYS_setxattr, p, "user.k", (char *)1, 1, 0), EFAULT);
	cleanup_shm();
}

TEST(directory_xattr)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	REQUIRE_OK(setxattr(lt_path("d"), "user.dir", "yes", 3, 0));
	char buf[8] = {0};
	CHECK_EQ(getxattr(lt_path("d"), "user.dir", buf, sizeof(buf)), 3);
}

TEST(unprivileged_needs_write_permission)
{
	const char *p = scratch_file();
	REQUIRE_OK(chmod(p, 0644));
	REQUIRE_OK(setxattr(p, "user.k", "v", 1, 0));
	REQUIRE_OK(chmod(lt_tmpdir(), 0755));
	REQUIRE_OK(chdir(lt_tmpdir()));
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	char buf[8];
	CHECK_EQ(getxattr("f", "user.k", buf, sizeof(buf)), 1);
	CHECK_ERR(setxattr("f", "user.k", "w", 1, 0), EACCES);
}
