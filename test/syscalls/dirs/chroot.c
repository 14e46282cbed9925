/* chroot: paths resolve inside the new root and ".." cannot leave it. */
#include "lt.h"
#include "files.h"
#include <limits.h>
#include <sys/syscall.h>



TEST(absolute_paths_resolve_inside)
{
	mkfile(lt_path("inside"), "in");
	REQUIRE_OK(chroot(lt_tmpdir()));
	REQUIRE_OK(chdir("/"));
	char buf[8] = {0};
	int fd = REQUIRE_OK(open("/inside", O_RDONLY));
	CHECK_EQ(read(fd, buf, sizeof(buf)), 2);
	CHECK_STREQ(buf, "in");
	struct stat st;
	CHECK_ERR(stat("/proc", &st), ENOENT);
}

TEST(dotdot_stays_in)
{
	REQUIRE_OK(mkdir(lt_path("sub"), 0700));
	ino_t root = ino(lt_tmpdir());
	REQUIRE_OK(chroot(lt_tmpdir()));
	REQUIRE_OK(chdir("/sub"));
	CHECK_EQ(ino("/.."), root);
	CHECK_EQ(ino("../../../.."), root);
	REQUIRE_OK(chdir("../../.."));
	CHECK_EQ(ino("."), root);
}

TEST(getcwd_inside_is_relative_to_new_root)
{
	REQUIRE_OK(mkdir(lt_path("sub"), 0700));
	REQUIRE_OK(chroot(lt_tmpdir()));
	REQUIRE_OK(chdir("/sub"));
	char buf[PATH_MAX];
	REQUIRE(getcwd(buf, sizeof(buf)) != NULL);
	CHECK_STREQ(buf, "/sub");
}

TEST(cwd_outside_root_unreachable)
{
	REQUIRE_OK(mkdir(lt_path("jail"), 0700));
	REQUIRE_OK(chdir(lt_tmpdir()));
	/* chroot does not change the working directory. */
	REQUIRE_OK(chroot(lt_path("jail")));
	char buf[PATH_MAX];
	long n = syscall(SYS_getcwd, buf, sizeof(buf));
	REQUIRE_GT(n, 0);
	CHECK_EQ(strncmp(buf, "(unreachable)", 13), 0);
	/* glibc's getcwd rejects a path that does not start with "/". */
	errno = 0;
	CHECK(getcwd(buf, sizeof(buf)) == NULL);
	CHECK_EQ(errno, ENOENT);
}

TEST(symlinks_resolve_inside)
{
	mkfile(lt_path("target"), "t");
	REQUIRE_OK(symlink("/target", lt_path("abs")));
	REQUIRE_OK(symlink("../../../target", lt_path("rel")));
	ino_t want = ino(lt_path("target"));
	REQUIRE_OK(chroot(lt_tmpdir()));
	CHECK_EQ(ino("/abs"), want);
	CHECK_EQ(ino("/rel"), want);
}

TEST(proc_self_root_link)
{
	/* Opened before the chroot, /proc stays reachable through the fd. */
	int proc = REQUIRE_OK(open("/proc/self", O_RDONLY | O_DIRECTORY));
	REQUIRE_OK(chroot(lt_tmpdir()));
	char buf[PATH_MAX] = {0};
	CHECK_EQ(readlinkat(proc, "root", buf, sizeof(buf)), 1);
	CHECK_STREQ(buf, "/");
}

TEST(child_inherits_root)
{
	mkfile(lt_path("marker"), "m");
	REQUIRE_OK(chroot(lt_tmpdir()));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		struct stat st;
		_exit(stat("/marker", &st) == 0 ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(fchdir_escapes_with_fd_from_before)
{
	/* A directory fd opened outside the root still works (Linux allows it). */
	int out = REQUIRE_OK(open("/", O_RDONLY | O_DIRECTORY));
	REQUIRE_OK(mkdir(lt_path("jail"), 0700));
	REQUIRE_OK(chroot(lt_path("jail")));
	REQUIRE_OK(fchdir(out));
	struct stat st;
	CHECK_OK(stat("proc", &st));
}

TEST(chroot_errors)
{
	int fd = REQUIRE_OK(open(lt_path("f"), O_CREAT | O_WRONLY, 0600));
	close(fd);
	CHECK_ERR(chroot(lt_path("f")), ENOTDIR);
	CHECK_ERR(chroot(lt_path("none")), ENOENT);
	CHECK_ERR(chroot(""), ENOENT);
	CHECK_ERR(chroot((char *)1), EFAULT);
}

TEST(chroot_unprivileged_eperm)
{
	REQUIRE_OK(chmod(lt_tmpdir(), 0755));
	REQUIRE_OK(chdir(lt_tmpdir()));
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	CHECK_ERR(chroot("."), EPERM);
}

TEST(chroot_dot_after_chdir)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	mkfile(lt_path("d/f"), "x");
	REQUIRE_OK(chdir(lt_path("d")));
	REQUIRE_OK(chroot("."));
	struct stat st;
	CHECK_OK(stat("/f", &st));
}
