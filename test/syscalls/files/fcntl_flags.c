/* fcntl F_GETFL/F_SETFL and F_GETFD/F_SETFD: which flags show, which change, and the errors. */
#include "shm.h"

#include <sys/ioctl.h>
#include <sys/socket.h>

/* The kernel's O_LARGEFILE: set on every open on 64-bit (glibc defines it as 0). */
#define K_LARGEFILE 0100000

TEST(getfl_access_modes)
{
	close(lt_file(lt_path("f"), ""));
	int r = REQUIRE_OK(open(lt_path("f"), O_RDONLY));
	int w = REQUIRE_OK(open(lt_path("f"), O_WRONLY));
	int rw = REQUIRE_OK(open(lt_path("f"), O_RDWR));
	CHECK_EQ(fcntl(r, F_GETFL) & O_ACCMODE, O_RDONLY);
	CHECK_EQ(fcntl(w, F_GETFL) & O_ACCMODE, O_WRONLY);
	CHECK_EQ(fcntl(rw, F_GETFL) & O_ACCMODE, O_RDWR);
	/* Open-time-only flags do not show. */
	int c = REQUIRE_OK(open(lt_path("f"), O_RDWR | O_CREAT | O_TRUNC | O_NOCTTY | O_CLOEXEC));
	CHECK_EQ(fcntl(c, F_GETFL), O_RDWR | K_LARGEFILE);
}

TEST(getfl_status_flags)
{
	close(lt_file(lt_path("f"), ""));
	int fd = REQUIRE_OK(open(lt_path("f"), O_WRONLY | O_APPEND | O_NONBLOCK | O_SYNC | O_DSYNC));
	int fl = fcntl(fd, F_GETFL);
	CHECK_EQ(fl & O_APPEND, O_APPEND);
	CHECK_EQ(fl & O_NONBLOCK, O_NONBLOCK);
	CHECK_EQ(fl & O_SYNC, O_SYNC);
	CHECK_EQ(fl & O_DSYNC, O_DSYNC);
}

TEST(setfl_changes_settable_only)
{
	close(lt_file(lt_path("f"), ""));
	int fd = REQUIRE_OK(open(lt_path("f"), O_RDONLY));
	REQUIRE_OK(fcntl(fd, F_SETFL, O_APPEND | O_NONBLOCK | O_RDWR | O_SYNC | O_TRUNC));
	int fl = fcntl(fd, F_GETFL);
	CHECK_EQ(fl & (O_APPEND | O_NONBLOCK), O_APPEND | O_NONBLOCK);
	/* The access mode, O_SYNC and open-time flags are unchanged. */
	CHECK_EQ(fl & O_ACCMODE, O_RDONLY);
	CHECK_EQ(fl & O_SYNC, 0);
	REQUIRE_OK(fcntl(fd, F_SETFL, 0));
	CHECK_EQ(fcntl(fd, F_GETFL) & (O_APPEND | O_NONBLOCK), 0);
}

TEST(setfl_append_affects_writes)
{
	int fd = lt_file(lt_path("f"), "abc");
	REQUIRE_EQ(lseek(fd, 0, SEEK_SET), 0);
	REQUIRE_OK(fcntl(fd, F_SETFL, O_APPEND));
	CHECK_EQ(write(fd, "d", 1), 1);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 4);
}

TEST(setfl_nonblock_pipe)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	REQUIRE_OK(fcntl(p[0], F_SETFL, O_NONBLOCK));
	char c;
	CHECK_ERR(read(p[0], &c, 1), EAGAIN);
	/* The flag belongs to the open file description: dup shares it. */
	int d = REQUIRE_OK(dup(p[0]));
	CHECK_EQ(fcntl(d, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	REQUIRE_OK(fcntl(d, F_SETFL, 0));
	CHECK_EQ(fcntl(p[0], F_GETFL) & O_NONBLOCK, 0);
}

TEST(setfl_noatime_needs_owner)
{
	close(lt_file(lt_path("f"), ""));
	REQUIRE_OK(chmod(lt_path("f"), 0644));
	int fd = REQUIRE_OK(open(lt_path("f"), O_RDONLY));
	lt_drop_privs();
	CHECK_ERR(fcntl(fd, F_SETFL, O_NOATIME), EPERM);
	CHECK_OK(fcntl(fd, F_SETFL, O_NONBLOCK));
}

TEST(getfd_setfd)
{
	int fd = REQUIRE_OK(open("/dev/null", O_RDONLY));
	CHECK_EQ(fcntl(fd, F_GETFD), 0);
	REQUIRE_OK(fcntl(fd, F_SETFD, FD_CLOEXEC));
	CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	/* Unknown bits are ignored. */
	REQUIRE_OK(fcntl(fd, F_SETFD, 0xfe));
	CHECK_EQ(fcntl(fd, F_GETFD), 0);
	/* The flag is per descriptor: dup does not copy it. */
	REQUIRE_OK(fcntl(fd, F_SETFD, FD_CLOEXEC));
	int d = REQUIRE_OK(dup(fd));
	CHECK_EQ(fcntl(d, F_GETFD), 0);
}

TEST(cloexec_survives_fork)
{
	int fd = REQUIRE_OK(open("/dev/null", O_RDONLY | O_CLOEXEC));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(fcntl(fd, F_GETFD) == FD_CLOEXEC ? 0 : 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(bad_fd_ebadf)
{
	CHECK_ERR(fcntl(-1, F_GETFL), EBADF);
	CHECK_ERR(fcntl(12345, F_GETFD), EBADF);
	CHECK_ERR(fcntl(12345, F_SETFD, 0), EBADF);
	CHECK_ERR(fcntl(12345, F_SETFL, 0), EBADF);
}

TEST(bad_command_einval)
{
	int fd = REQUIRE_OK(open("/dev/null", O_RDONLY));
	CHECK_ERR(fcntl(fd, 9999), EINVAL);
	CHECK_ERR(fcntl(fd, -1), EINVAL);
}

TEST(o_path_allowed_commands)
{
	close(lt_file(lt_path("f"), ""));
	int fd = REQUIRE_OK(open(lt_path("f"), O_PATH));
	CHECK_OK(fcntl(fd, F_GETFD));
	CHECK_OK(fcntl(fd, F_SETFD, FD_CLOEXEC));
	CHECK_OK(fcntl(fd, F_GETFL));
	int d = CHECK_OK(fcntl(fd, F_DUPFD, 0));
	CHECK_GT(d, fd);
	CHECK_ERR(fcntl(fd, F_SETFL, O_NONBLOCK), EBADF);
	struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
	CHECK_ERR(fcntl(fd, F_GETLK, &fl), EBADF);
}

TEST(socket_flags)
{
	int s = REQUIRE_OK(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
	CHECK_EQ(fcntl(s, F_GETFL), O_NONBLOCK | O_RDWR);
	CHECK_EQ(fcntl(s, F_GETFD), FD_CLOEXEC);
}

TEST(async_only_where_supported)
{
	/* Regular files have no fasync: F_SETFL drops O_ASYNC, FIOASYNC refuses it. */
	int fd = lt_file(lt_path("f"), "");
	REQUIRE_OK(fcntl(fd, F_SETFL, O_ASYNC | O_APPEND));
	CHECK_EQ(fcntl(fd, F_GETFL) & (O_ASYNC | O_APPEND), O_APPEND);
	int on = 1, off = 0;
	CHECK_ERR(ioctl(fd, FIOASYNC, &on), ENOTTY);
	CHECK_OK(ioctl(fd, FIOASYNC, &off));
	int d = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	REQUIRE_OK(fcntl(d, F_SETFL, O_ASYNC));
	CHECK_EQ(fcntl(d, F_GETFL) & O_ASYNC, 0);
	/* Pipes keep it. */
	int p[2];
	REQUIRE_OK(pipe(p));
	REQUIRE_OK(fcntl(p[0], F_SETFL, O_ASYNC));
	CHECK_EQ(fcntl(p[0], F_GETFL) & O_ASYNC, O_ASYNC);
	CHECK_OK(ioctl(p[1], FIOASYNC, &on));
	CHECK_EQ(fcntl(p[1], F_GETFL) & O_ASYNC, O_ASYNC);
}

TEST(pipe_flags_no_largefile)
{
	int p[2];
	REQUIRE_OK(pipe2(p, O_NONBLOCK));
	CHECK_EQ(fcntl(p[0], F_GETFL), O_RDONLY | O_NONBLOCK);
	CHECK_EQ(fcntl(p[1], F_GETFL), O_WRONLY | O_NONBLOCK);
}

TEST(tmpfs_file_flags)
{
	int fd = REQUIRE_OK(open(lt_shm_path("f"), O_RDWR | O_CREAT | O_APPEND, 0600));
	CHECK_EQ(fcntl(fd, F_GETFL), O_RDWR | O_APPEND | K_LARGEFILE);
	REQUIRE_OK(fcntl(fd, F_SETFL, O_DIRECT));
	/* tmpfs accepts O_DIRECT since Linux 6.6. */
	CHECK_EQ(fcntl(fd, F_GETFL) & O_DIRECT, O_DIRECT);
}
