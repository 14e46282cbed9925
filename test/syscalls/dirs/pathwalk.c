/* Path resolution: "." and "..", trailing slashes, symlink loops, limits. */
#include "lt.h"
#include "files.h"
#include <limits.h>



TEST(dot_and_dotdot)
{
	REQUIRE_OK(mkdir(lt_path("a"), 0700));
	REQUIRE_OK(mkdir(lt_path("a/b"), 0700));
	CHECK_EQ(ino(lt_path("a/b/..")), ino(lt_path("a")));
	CHECK_EQ(ino(lt_path("a/./b/.")), ino(lt_path("a/b")));
	CHECK_EQ(ino(lt_path("a/b/../b/../..")), ino(lt_tmpdir()));
}

TEST(dotdot_of_root_is_root)
{
	CHECK_EQ(ino("/.."), ino("/"));
	CHECK_EQ(ino("/../../.."), ino("/"));
	REQUIRE_OK(chdir("/"));
	CHECK_EQ(ino(".."), ino("/"));
}

TEST(repeated_slashes)
{
	REQUIRE_OK(mkdir(lt_path("a"), 0700));
	mkfile(lt_path("a/f"), "");
	char p[4200];
	snprintf(p, sizeof(p), "%s//a///f", lt_tmpdir());
	CHECK_EQ(ino(p), ino(lt_path("a/f")));
	CHECK_EQ(ino("//"), ino("/"));
}

TEST(trailing_slash_on_dir_ok)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	char p[4200];
	snprintf(p, sizeof(p), "%s/", lt_path("d"));
	struct stat st;
	CHECK_OK(stat(p, &st));
	snprintf(p, sizeof(p), "%s//", lt_path("d"));
	CHECK_OK(stat(p, &st));
	CHECK_OK(open(p, O_RDONLY));
}

TEST(trailing_slash_on_file_enotdir)
{
	mkfile(lt_path("f"), "");
	char p[4200];
	snprintf(p, sizeof(p), "%s/", lt_path("f"));
	struct stat st;
	CHECK_ERR(stat(p, &st), ENOTDIR);
	CHECK_ERR(open(p, O_RDONLY), ENOTDIR);
	snprintf(p, sizeof(p), "%s/.", lt_path("f"));
	CHECK_ERR(stat(p, &st), ENOTDIR);
}

TEST(trailing_slash_create_eisdir)
{
	char p[4200];
	snprintf(p, sizeof(p), "%s/", lt_path("new"));
	CHECK_ERR(open(p, O_CREAT | O_WRONLY, 0600), EISDIR);
}

TEST(trailing_slash_follows_symlink_to_dir)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	REQUIRE_OK(symlink("d", lt_path("l")));
	char p[4200];
	snprintf(p, sizeof(p), "%s/", lt_path("l"));
	struct stat st;
	REQUIRE_OK(lstat(p, &st));
	CHECK(S_ISDIR(st.st_mode));
	REQUIRE_OK(lstat(lt_path("l"), &st));
	CHECK(S_ISLNK(st.st_mode));
}

TEST(symlink_loop_eloop)
{
	REQUIRE_OK(symlink("b", lt_path("a")));
	REQUIRE_OK(symlink("a", lt_path("b")));
	struct stat st;
	CHECK_ERR(stat(lt_path("a"), &st), ELOOP);
	CHECK_ERR(open(lt_path("a"), O_RDONLY), ELOOP);
	CHECK_OK(lstat(lt_path("a"), &st));
}

TEST(self_loop_eloop)
{
	REQUIRE_OK(symlink("self", lt_path("self")));
	struct stat st;
	CHECK_ERR(stat(lt_path("self"), &st), ELOOP);
	char p[4200];
	snprintf(p, sizeof(p), "%s/x", lt_path("self"));
	CHECK_ERR(stat(p, &st), ELOOP);
}

TEST(forty_links_limit)
{
	/* A chain of 40 links resolves; 41 is too many (Linux's MAXSYMLINKS). */
	mkfile(lt_path("l0"), "");
	char name[32], prev[32];
	for (int i = 1; i <= 41; i++) {
		snprintf(name, sizeof(name), "l%d", i);
		snprintf(prev, sizeof(prev), "l%d", i - 1);
		REQUIRE_OK(symlink(prev, lt_path(name)));
	}
	struct stat st;
	CHECK_OK(stat(lt_path("l40"), &st));
	CHECK_ERR(stat(lt_path("l41"), &st), ELOOP);
}

TEST(o_nofollow_eloop)
{
	mkfile(lt_path("f"), "");
	REQUIRE_OK(symlink("f", lt_path("l")));
	CHECK_ERR(open(lt_path("l"), O_RDONLY | O_NOFOLLOW), ELOOP);
	CHECK_OK(open(lt_path("f"), O_RDONLY | O_NOFOLLOW));
}

TEST(name_too_long)
{
	char name[NAME_MAX + 2];
	memset(name, 'n', NAME_MAX + 1);
	name[NAME_MAX + 1] = 0;
	struct stat st;
	CHECK_ERR(stat(lt_path(name), &st), ENAMETOOLONG);
	CHECK_ERR(open(lt_path(name), O_CREAT | O_WRONLY, 0600), ENAMETOOLONG);
	name[NAME_MAX] = 0;
	int fd = CHECK_OK(open(lt_path(name), O_CREAT | O_WRONLY, 0600));
	close(fd);
}

TEST(path_too_long)
{
	static char p[PATH_MAX + 10];
	memset(p, 0, sizeof(p));
	strcpy(p, "/");
	while (strlen(p) < PATH_MAX + 2)
		strcat(p, "./");
	struct stat st;
	CHECK_ERR(stat(p, &st), ENAMETOOLONG);
	/* PATH_MAX - 1 characters fit. */
	memset(p, 0, sizeof(p));
	strcpy(p, "/");
	while (strlen(p) < PATH_MAX - 2)
		strcat(p, "./");
	if (strlen(p) > PATH_MAX - 1)
		p[PATH_MAX - 1] = 0;
	CHECK_OK(stat(p, &st));
}

TEST(component_through_file_enotdir)
{
	mkfile(lt_path("f"), "");
	struct stat st;
	char p[4200];
	snprintf(p, sizeof(p), "%s/../f", lt_path("f"));
	CHECK_ERR(stat(p, &st), ENOTDIR);
}

TEST(dotdot_through_symlink_is_physical)
{
	REQUIRE_OK(mkdir(lt_path("a"), 0700));
	REQUIRE_OK(mkdir(lt_path("a/b"), 0700));
	REQUIRE_OK(symlink("a/b", lt_path("l")));
	/* l/.. is a (the parent of b), not the scratch directory. */
	char p[4200];
	snprintf(p, sizeof(p), "%s/..", lt_path("l"));
	CHECK_EQ(ino(p), ino(lt_path("a")));
}

TEST(absolute_symlink)
{
	mkfile(lt_path("f"), "");
	REQUIRE_OK(symlink(lt_path("f"), lt_path("l")));
	CHECK_EQ(ino(lt_path("l")), ino(lt_path("f")));
}

TEST(search_permission_eacces)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	mkfile(lt_path("d/f"), "");
	REQUIRE_OK(chmod(lt_tmpdir(), 0755));
	REQUIRE_OK(chdir(lt_tmpdir()));
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	struct stat st;
	CHECK_ERR(stat("d/f", &st), EACCES);
	CHECK_OK(stat("d", &st));
}

TEST(relative_to_cwd)
{
	REQUIRE_OK(mkdir(lt_path("d"), 0700));
	mkfile(lt_path("d/f"), "");
	REQUIRE_OK(chdir(lt_path("d")));
	CHECK_EQ(ino("f"), ino(lt_path("d/f")));
	CHECK_EQ(ino("./f"), ino(lt_path("d/f")));
	CHECK_EQ(ino("../d/f"), ino(lt_path("d/f")));
}

TEST(empty_path_enoent)
{
	struct stat st;
	CHECK_ERR(stat("", &st), ENOENT);
	CHECK_ERR(open("", O_RDONLY), ENOENT);
}
