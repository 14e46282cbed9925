/* O_TMPFILE: unnamed files in a directory, linkat to give them a name, and the errors. */
#include "shm.h"

#include <dirent.h>

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		ABORT("opendir %s: %s", dir, strerror(errno));
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void check_unnamed(const char *dir)
{
	int fd = REQUIRE_OK(open(dir, O_TMPFILE | O_RDWR, 0600));
	CHECK_EQ(write(fd, "hello", 5), 5);
	char buf[8] = {0};
	CHECK_EQ(pread(fd, buf, 5, 0), 5);
	CHECK_STREQ(buf, "hello");
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK(S_ISREG(st.st_mode));
	CHECK_EQ(st.st_nlink, 0);
	CHECK_EQ(st.st_size, 5);
	CHECK_EQ(count_entries(dir), 0);
}

TEST(unnamed_file) { check_unnamed(lt_tmpdir()); }
TEST(unnamed_file_tmpfs) { check_unnamed(lt_shm_dir()); }

static void check_linkat(const char *dir, const char *name)
{
	int fd = REQUIRE_OK(open(dir, O_TMPFILE | O_WRONLY, 0640));
	CHECK_EQ(write(fd, "abc", 3), 3);
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	REQUIRE_OK(linkat(AT_FDCWD, proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW));
	struct stat st;
	REQUIRE_OK(stat(name, &st));
	CHECK_EQ(st.st_nlink, 1);
	CHECK_EQ(st.st_size, 3);
	CHECK_EQ(st.st_mode & 07777, 0640);
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_nlink, 1);
	CHECK_EQ(count_entries(dir), 1);
}

TEST(linkat_gives_name) { check_linkat(lt_tmpdir(), lt_path("named")); }
TEST(linkat_gives_name_tmpfs) { check_linkat(lt_shm_dir(), lt_shm_path("named")); }

TEST(linkat_empty_path)
{
	int fd = REQUIRE_OK(open(lt_tmpdir(), O_TMPFILE | O_RDWR, 0600));
	REQUIRE_OK(linkat(fd, "", AT_FDCWD, lt_path("x"), AT_EMPTY_PATH));
	CHECK_OK(access(lt_path("x"), F_OK));
}

TEST(excl_cannot_be_linked)
{
	int fd = REQUIRE_OK(open(lt_tmpdir(), O_TMPFILE | O_RDWR | O_EXCL, 0600));
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	CHECK_ERR(linkat(AT_FDCWD, proc, AT_FDCWD, lt_path("x"), AT_SYMLINK_FOLLOW), ENOENT);
	CHECK_ERR(linkat(fd, "", AT_FDCWD, lt_path("x"), AT_EMPTY_PATH), ENOENT);
}

TEST(requires_write_access_mode)
{
	CHECK_ERR(open(lt_tmpdir(), O_TMPFILE | O_RDONLY, 0600), EINVAL);
	CHECK_OK(open(lt_tmpdir(), O_TMPFILE | O_WRONLY, 0600));
}

TEST(not_a_directory)
{
	int fd = REQUIRE_OK(open(lt_path("f"), O_CREAT | O_WRONLY, 0600));
	close(fd);
	CHECK_ERR(open(lt_path("f"), O_TMPFILE | O_RDWR, 0600), ENOTDIR);
	CHECK_ERR(open(lt_path("missing"), O_TMPFILE | O_RDWR, 0600), ENOENT);
}

TEST(with_creat_einval)
{
	CHECK_ERR(open(lt_tmpdir(), O_TMPFILE | O_CREAT | O_RDWR, 0600), EINVAL);
}

TEST(mode_and_umask)
{
	umask(027);
	int fd = REQUIRE_OK(open(lt_tmpdir(), O_TMPFILE | O_RDWR, 0777));
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_mode, S_IFREG | 0750);
	CHECK_EQ(st.st_uid, geteuid());
}

TEST(independent_files)
{
	int a = REQUIRE_OK(open(lt_tmpdir(), O_TMPFILE | O_RDWR, 0600));
	int b = REQUIRE_OK(open(lt_tmpdir(), O_TMPFILE | O_RDWR, 0600));
	CHECK_EQ(write(a, "aaaa", 4), 4);
	struct stat sa, sb;
	REQUIRE_OK(fstat(a, &sa));
	REQUIRE_OK(fstat(b, &sb));
	CHECK_NE(sa.st_ino, sb.st_ino);
	CHECK_EQ(sb.st_size, 0);
}

TEST(unwritable_dir_eacces)
{
	REQUIRE_OK(chmod(lt_tmpdir(), 0755));
	int dir = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	lt_drop_privs();
	CHECK_ERR(openat(dir, ".", O_TMPFILE | O_RDWR, 0600), EACCES);
}
