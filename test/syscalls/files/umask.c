/* umask: the previous value, the mask's effect on every way of creating files, and inheritance. */
#include "shm.h"

#include <sys/socket.h>
#include <sys/un.h>

static mode_t mode_of(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		ABORT("lstat %s: %s", path, strerror(errno));
	return st.st_mode & 07777;
}

TEST(returns_previous)
{
	umask(022);
	CHECK_EQ(umask(077), 022);
	CHECK_EQ(umask(0), 077);
	/* Only the permission bits are kept. */
	CHECK_EQ(umask(0177777), 0);
	CHECK_EQ(umask(022), 0777);
}

static void check_open(const char *path)
{
	umask(027);
	close(REQUIRE_OK(open(path, O_CREAT | O_WRONLY, 0666)));
	CHECK_EQ(mode_of(path), 0640);
}

TEST(applies_to_open) { check_open(lt_path("f")); }
TEST(applies_to_open_tmpfs) { check_open(lt_shm_path("f")); }

TEST(applies_to_mkdir_mknod_mkfifo)
{
	umask(077);
	REQUIRE_OK(mkdir(lt_path("d"), 0777));
	CHECK_EQ(mode_of(lt_path("d")), 0700);
	REQUIRE_OK(mkfifo(lt_path("p"), 0666));
	CHECK_EQ(mode_of(lt_path("p")), 0600);
	REQUIRE_OK(mknod(lt_path("n"), S_IFREG | 0644, 0));
	CHECK_EQ(mode_of(lt_path("n")), 0600);
}

TEST(not_applied_to_chmod_or_symlink)
{
	umask(0777);
	close(REQUIRE_OK(open(lt_path("f"), O_CREAT | O_WRONLY, 0666)));
	CHECK_EQ(mode_of(lt_path("f")), 0);
	REQUIRE_OK(chmod(lt_path("f"), 0755));
	CHECK_EQ(mode_of(lt_path("f")), 0755);
	REQUIRE_OK(symlink("f", lt_path("l")));
	CHECK_EQ(mode_of(lt_path("l")), 0777);
}

TEST(special_bits_kept)
{
	umask(022);
	REQUIRE_OK(mkdir(lt_path("d"), 01777));
	CHECK_EQ(mode_of(lt_path("d")), 01755);
	/* mkdir ignores the set-uid/set-gid bits of its mode argument; open keeps them. */
	close(REQUIRE_OK(open(lt_path("f"), O_CREAT | O_WRONLY, 06777)));
	CHECK_EQ(mode_of(lt_path("f")), 06755);
}

TEST(unix_socket_bind)
{
	umask(077);
	int s = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	REQUIRE_OK(chdir(lt_tmpdir()));
	strcpy(sa.sun_path, "sock");
	REQUIRE_OK(bind(s, (struct sockaddr *)&sa, sizeof(sa)));
	struct stat st;
	REQUIRE_OK(stat("sock", &st));
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 0777, 0700);
}

TEST(inherited_by_fork_and_exec)
{
	umask(0123);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		if (umask(0) != 0123)
			_exit(1);
		umask(0123);
		execl("/bin/sh", "sh", "-c", "test \"$(umask)\" = 0123", (char *)NULL);
		_exit(2);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
	/* The child's change did not reach the parent. */
	CHECK_EQ(umask(022), 0123);
}

TEST(shown_in_proc_status)
{
	umask(0027);
	FILE *f = fopen("/proc/self/status", "r");
	REQUIRE(f != NULL);
	char line[256];
	int found = 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "Umask:", 6) == 0) {
			CHECK_STREQ(line, "Umask:\t0027\n");
			found = 1;
		}
	fclose(f);
	CHECK(found);
}

TEST(tmpfile_and_openat2)
{
	umask(066);
	int fd = REQUIRE_OK(open(lt_tmpdir(), O_TMPFILE | O_RDWR, 0666));
	struct stat st;
	REQUIRE_OK(fstat(fd, &st));
	CHECK_EQ(st.st_mode & 0777, 0600);
}
