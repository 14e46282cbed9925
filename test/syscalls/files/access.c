/* access, faccessat, faccessat2: modes for root and unprivileged users, AT_EACCESS, AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH, errors. */
#include "shm.h"

#include <linux/capability.h>
#include <sys/syscall.h>

static int faccessat2_(int dirfd, const char *path, int mode, int flags)
{
	return syscall(SYS_faccessat2, dirfd, path, mode, flags);
}

/* setup makes the scratch directory searchable with r (0444), x (0111), w (0222) and none (0). */
static int setup(void)
{
	REQUIRE_OK(chmod(lt_tmpdir(), 0755));
	const char *names[] = {"r", "x", "w", "none"};
	mode_t modes[] = {0444, 0111, 0222, 0};
	for (int i = 0; i < 4; i++) {
		close(lt_file(lt_path(names[i]), ""));
		REQUIRE_OK(chmod(lt_path(names[i]), modes[i]));
	}
	return REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
}

TEST(existence)
{
	int d = setup();
	CHECK_OK(faccessat(d, "none", F_OK, 0));
	CHECK_ERR(faccessat(d, "missing", F_OK, 0), ENOENT);
	CHECK_ERR(access(lt_path("r/x"), F_OK), ENOTDIR);
}

TEST(root_may_read_write_anything)
{
	int d = setup();
	CHECK_OK(faccessat(d, "none", R_OK | W_OK, 0));
	/* But execute needs at least one x bit. */
	CHECK_ERR(faccessat(d, "none", X_OK, 0), EACCES);
	CHECK_ERR(faccessat(d, "r", X_OK, 0), EACCES);
	CHECK_OK(faccessat(d, "x", X_OK, 0));
	/* Directories are searchable by root. */
	CHECK_OK(access(lt_tmpdir(), X_OK));
}

TEST(unprivileged_modes)
{
	int d = setup();
	lt_drop_privs();
	CHECK_OK(faccessat(d, "r", R_OK, 0));
	CHECK_ERR(faccessat(d, "r", W_OK, 0), EACCES);
	CHECK_ERR(faccessat(d, "r", R_OK | X_OK, 0), EACCES);
	CHECK_OK(faccessat(d, "w", W_OK, 0));
	CHECK_OK(faccessat(d, "x", X_OK, 0));
	CHECK_ERR(faccessat(d, "none", R_OK, 0), EACCES);
	/* F_OK only needs the path to resolve. */
	CHECK_OK(faccessat(d, "none", F_OK, 0));
}

TEST(search_permission_on_path)
{
	int d = setup();
	REQUIRE_OK(mkdir(lt_path("closed"), 0700));
	close(lt_file(lt_path("closed/f"), ""));
	lt_drop_privs();
	CHECK_ERR(faccessat(d, "closed/f", F_OK, 0), EACCES);
}

TEST(real_vs_effective_ids)
{
	/* access uses the real uid; AT_EACCESS the effective one. */
	int d = setup();
	REQUIRE_OK(chmod(lt_path("r"), 0400)); /* root-only read */
	REQUIRE_OK(setresuid(65534, 0, 0));
	CHECK_ERR(faccessat(d, "r", R_OK, 0), EACCES);
	CHECK_OK(faccessat(d, "r", R_OK, AT_EACCESS));
	CHECK_OK(faccessat2_(d, "r", R_OK, AT_EACCESS));
	CHECK_ERR(faccessat2_(d, "r", R_OK, 0), EACCES);
}

TEST(owner_bits_before_other)
{
	int d = setup();
	REQUIRE_OK(fchownat(d, "r", 65534, 65534, 0));
	REQUIRE_OK(fchmodat(d, "r", 0077, 0));
	lt_drop_privs();
	/* The owner class applies even though "other" would allow it. */
	CHECK_ERR(faccessat(d, "r", R_OK, 0), EACCES);
}

TEST(symlink_nofollow)
{
	int d = setup();
	REQUIRE_OK(symlink("missing", lt_path("dangling")));
	CHECK_ERR(faccessat2_(d, "dangling", F_OK, 0), ENOENT);
	CHECK_OK(faccessat2_(d, "dangling", F_OK, AT_SYMLINK_NOFOLLOW));
	/* The old faccessat has no flags argument in the kernel: glibc emulates. */
	CHECK_OK(faccessat(d, "dangling", F_OK, AT_SYMLINK_NOFOLLOW));
}

TEST(empty_path)
{
	int d = setup();
	int fd = REQUIRE_OK(openat(d, "r", O_RDONLY));
	CHECK_OK(faccessat2_(fd, "", R_OK, AT_EMPTY_PATH));
	CHECK_ERR(faccessat2_(fd, "", R_OK, 0), ENOENT);
	CHECK_ERR(faccessat2_(fd, "", X_OK, AT_EMPTY_PATH), EACCES);
}

TEST(bad_mode_and_flags_einval)
{
	int d = setup();
	CHECK_ERR(faccessat(d, "r", 8, 0), EINVAL);
	CHECK_ERR(access(lt_path("r"), -1), EINVAL);
	CHECK_ERR(faccessat2_(d, "r", R_OK, 0x1), EINVAL);
	CHECK_ERR(faccessat2_(d, "r", R_OK, AT_SYMLINK_FOLLOW), EINVAL);
}

TEST(bad_dirfd_and_pointer)
{
	CHECK_ERR(faccessat(12345, "x", F_OK, 0), EBADF);
	CHECK_ERR(access(lt_bad, F_OK), EFAULT);
	int fd = lt_file(lt_path("f"), "");
	CHECK_ERR(faccessat(fd, "x", F_OK, 0), ENOTDIR);
}

TEST(directory_modes_unprivileged)
{
	int d = setup();
	REQUIRE_OK(mkdir(lt_path("sub"), 0755));
	lt_drop_privs();
	CHECK_OK(faccessat(d, "sub", R_OK | X_OK, 0));
	CHECK_ERR(faccessat(d, "sub", W_OK, 0), EACCES);
	CHECK_ERR(faccessat(d, ".", W_OK, 0), EACCES);
}

TEST(tmpfs_unprivileged)
{
	int fd = lt_file(lt_shm_path("f"), "");
	REQUIRE_OK(fchmod(fd, 0604));
	REQUIRE_OK(chmod(lt_shm_dir(), 0755));
	lt_drop_privs();
	CHECK_OK(access(lt_shm_path("f"), R_OK));
	CHECK_ERR(access(lt_shm_path("f"), W_OK), EACCES);
}

/* drop_caps clears caps from the effective (and with perm, the permitted) set. */
static void drop_caps(const int *caps, int n, int perm)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	REQUIRE_OK(syscall(SYS_capget, &h, d));
	for (int i = 0; i < n; i++) {
		d[caps[i] / 32].effective &= ~(1u << (caps[i] % 32));
		if (perm)
			d[caps[i] / 32].permitted &= ~(1u << (caps[i] % 32));
	}
	REQUIRE_OK(syscall(SYS_capset, &h, d));
}

TEST(real_root_access_uses_permitted_caps)
{
	/* access(2) gives a real root its permitted capabilities back; AT_EACCESS does not. */
	int d = setup();
	int dac[] = {CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH};
	drop_caps(dac, 2, 0);
	CHECK_ERR(openat(d, "none", O_RDONLY), EACCES);
	CHECK_OK(faccessat(d, "none", R_OK | W_OK, 0));
	CHECK_ERR(faccessat(d, "none", R_OK, AT_EACCESS), EACCES);
	CHECK_ERR(faccessat2_(d, "w", R_OK, AT_EACCESS), EACCES);
	/* Without them in the permitted set either, access fails too. */
	drop_caps(dac, 2, 1);
	CHECK_ERR(faccessat(d, "none", R_OK, 0), EACCES);
	CHECK_OK(faccessat(d, "r", R_OK, 0));
}
