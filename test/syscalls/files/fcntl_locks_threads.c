/* Record locks and threads: POSIX locks belong to the process (threads share them), OFD locks to descriptions (threads can block each other), holders that die release. */
#include "shm.h"

#include <pthread.h>

static int lock(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	return fcntl(fd, cmd, &fl);
}

struct arg {
	int fd, cmd;
	short type;
	int result, err;
};

static void *locker(void *p)
{
	struct arg *a = p;
	a->result = lock(a->fd, a->cmd, a->type, 0, 10);
	a->err = errno;
	return NULL;
}

TEST(threads_share_posix_locks)
{
	int fd = lt_file(lt_path("f"), "");
	REQUIRE_OK(lock(fd, F_SETLK, F_WRLCK, 0, 10));
	/* Another thread of the process does not conflict with its own lock. */
	int fd2 = REQUIRE_OK(open(lt_path("f"), O_RDWR));
	struct arg a = {fd2, F_SETLK, F_WRLCK, -2, 0};
	pthread_t t;
	REQUIRE_EQ(pthread_create(&t, NULL, locker, &a), 0);
	pthread_join(t, NULL);
	CHECK_EQ(a.result, 0);
}

static void *closer(void *p)
{
	close(*(int *)p);
	return NULL;
}

TEST(thread_close_releases_process_locks)
{
	int fd = lt_file(lt_path("f"), "");
	REQUIRE_OK(lock(fd, F_SETLK, F_WRLCK, 0, 10));
	int other = REQUIRE_OK(open(lt_path("f"), O_RDONLY));
	pthread_t t;
	REQUIRE_EQ(pthread_create(&t, NULL, closer, &other), 0);
	pthread_join(t, NULL);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		int c = open(lt_path("f"), O_RDWR);
		_exit(lock(c, F_SETLK, F_WRLCK, 0, 10) == 0 ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(ofd_lock_blocks_other_thread)
{
	int a = lt_file(lt_path("f"), "");
	int b = REQUIRE_OK(open(lt_path("f"), O_RDWR));
	REQUIRE_OK(lock(a, F_OFD_SETLK, F_WRLCK, 0, 10));
	struct arg arg = {b, F_OFD_SETLKW, F_WRLCK, -2, 0};
	pthread_t t;
	REQUIRE_EQ(pthread_create(&t, NULL, locker, &arg), 0);
	usleep(50000);
	/* Still waiting. */
	CHECK_EQ(__atomic_load_n(&arg.result, __ATOMIC_SEQ_CST), -2);
	REQUIRE_OK(lock(a, F_OFD_SETLK, F_UNLCK, 0, 10));
	pthread_join(t, NULL);
	CHECK_EQ(arg.result, 0);
}

TEST(dead_holder_wakes_waiter)
{
	int fd = lt_file(lt_path("f"), "");
	int ready[2];
	REQUIRE_OK(pipe(ready));
	pid_t holder = REQUIRE_OK(fork());
	if (holder == 0) {
		int c = open(lt_path("f"), O_RDWR);
		if (lock(c, F_SETLK, F_WRLCK, 0, 0) < 0)
			_exit(1);
		write(ready[1], "x", 1);
		pause();
		_exit(0);
	}
	char c;
	REQUIRE_EQ(read(ready[0], &c, 1), 1);
	pid_t waiter = REQUIRE_OK(fork());
	if (waiter == 0)
		_exit(lock(fd, F_SETLKW, F_WRLCK, 0, 10) == 0 ? 0 : 1);
	usleep(50000);
	kill(holder, SIGKILL);
	CHECK_EQ(lt_wait_exit(holder), 128 + SIGKILL);
	CHECK_EQ(lt_wait_exit(waiter), 0);
}

TEST(getlk_from_thread_sees_other_process)
{
	int fd = lt_file(lt_path("f"), "");
	int ready[2];
	REQUIRE_OK(pipe(ready));
	pid_t holder = REQUIRE_OK(fork());
	if (holder == 0) {
		int c = open(lt_path("f"), O_RDWR);
		if (lock(c, F_SETLK, F_RDLCK, 3, 3) < 0)
			_exit(1);
		write(ready[1], "x", 1);
		pause();
		_exit(0);
	}
	char c;
	REQUIRE_EQ(read(ready[0], &c, 1), 1);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	REQUIRE_OK(fcntl(fd, F_GETLK, &fl));
	CHECK_EQ(fl.l_type, F_RDLCK);
	CHECK_EQ(fl.l_pid, holder);
	CHECK_EQ(fl.l_start, 3);
	CHECK_EQ(fl.l_len, 3);
	kill(holder, SIGKILL);
	lt_wait_exit(holder);
}

TEST(setlk_many_ranges_merge_and_split)
{
	int fd = lt_file(lt_path("f"), "");
	/* Ten separate read locks, then one write lock over them all. */
	for (int i = 0; i < 10; i++)
		REQUIRE_OK(lock(fd, F_SETLK, F_RDLCK, i * 10, 5));
	REQUIRE_OK(lock(fd, F_SETLK, F_WRLCK, 0, 100));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		int c = open(lt_path("f"), O_RDWR);
		struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
		if (fcntl(c, F_GETLK, &fl) < 0)
			_exit(9);
		_exit(fl.l_type == F_WRLCK && fl.l_start == 0 && fl.l_len == 100 ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(seek_end_range_fixed_at_lock_time)
{
	int fd = lt_file(lt_path("f"), "0123456789");
	/* "From 2 bytes before the end, to EOF and beyond" is [8, inf) once taken. */
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_END, .l_start = -2, .l_len = 0};
	REQUIRE_OK(fcntl(fd, F_SETLK, &fl));
	REQUIRE_EQ(pwrite(fd, "abcdefghij", 10, 10), 10);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		int c = open(lt_path("f"), O_RDWR);
		struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
		if (fcntl(c, F_GETLK, &q) < 0)
			_exit(9);
		_exit(q.l_start == 8 && q.l_len == 0 ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(ofd_waits_are_not_deadlocks)
{
	/* Deadlock detection applies to POSIX locks only: an OFD wait on a lock of the same process just waits. */
	int a = lt_file(lt_path("f"), "");
	int b = REQUIRE_OK(open(lt_path("f"), O_RDWR));
	REQUIRE_OK(lock(a, F_OFD_SETLK, F_WRLCK, 0, 10));
	struct arg arg = {b, F_OFD_SETLKW, F_RDLCK, -2, 0};
	pthread_t t;
	REQUIRE_EQ(pthread_create(&t, NULL, locker, &arg), 0);
	usleep(50000);
	CHECK_EQ(__atomic_load_n(&arg.result, __ATOMIC_SEQ_CST), -2);
	REQUIRE_OK(close(a));
	pthread_join(t, NULL);
	CHECK_EQ(arg.result, 0);
}
