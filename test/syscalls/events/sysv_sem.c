/* System V semaphores: semget, semop, semtimedop, semctl, SEM_UNDO, IPC_RMID. */
#include "lt.h"

#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <time.h>

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
	struct seminfo *info;
};

static int new_set(int n)
{
	int id = semget(IPC_PRIVATE, n, IPC_CREAT | 0600);
	if (id < 0)
		ABORT("semget: %s", strerror(errno));
	return id;
}

static int getval(int id, int num)
{
	return semctl(id, num, GETVAL);
}

static int op(int id, unsigned short num, short delta, short flg)
{
	struct sembuf b = {num, delta, flg};
	return semop(id, &b, 1);
}

TEST(semget_private_zeroed)
{
	int id = new_set(3);
	CHECK_GE(id, 0);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(getval(id, i), 0);
	CHECK_NE(new_set(1), id);
}

TEST(semget_key_lookup)
{
	key_t key = 0x5e11;
	int id = REQUIRE_OK(semget(key, 2, IPC_CREAT | IPC_EXCL | 0600));
	CHECK_EQ(semget(key, 2, 0), id);
	CHECK_EQ(semget(key, 0, 0), id);
	CHECK_EQ(semget(key, 1, IPC_CREAT | 0600), id);
	CHECK_ERR(semget(key, 2, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
	CHECK_ERR(semget(key, 3, 0), EINVAL);
	CHECK_ERR(semget(0x5e12, 1, 0), ENOENT);
	CHECK_OK(semctl(id, 0, IPC_RMID));
	CHECK_ERR(semget(key, 2, 0), ENOENT);
}

TEST(semget_bad_nsems_einval)
{
	CHECK_ERR(semget(IPC_PRIVATE, 0, IPC_CREAT | 0600), EINVAL);
	CHECK_ERR(semget(IPC_PRIVATE, -1, IPC_CREAT | 0600), EINVAL);
	CHECK_ERR(semget(IPC_PRIVATE, 32001, IPC_CREAT | 0600), EINVAL);
}

TEST(semget_permission)
{
	key_t key = 0x5e13;
	int id = REQUIRE_OK(semget(key, 1, IPC_CREAT | 0600));
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	CHECK_ERR(semget(key, 1, 0600), EACCES);
	CHECK_ERR(semctl(id, 0, GETVAL), EACCES);
	CHECK_ERR(op(id, 0, 1, 0), EACCES);
	CHECK_ERR(semctl(id, 0, IPC_RMID), EPERM);
}

TEST(semop_add_and_take)
{
	int id = new_set(2);
	CHECK_OK(op(id, 0, 5, 0));
	CHECK_OK(op(id, 0, -2, 0));
	CHECK_EQ(getval(id, 0), 3);
	CHECK_EQ(getval(id, 1), 0);
	CHECK_EQ(semctl(id, 0, GETPID), getpid());
}

TEST(semop_nowait_eagain)
{
	int id = new_set(1);
	CHECK_ERR(op(id, 0, -1, IPC_NOWAIT), EAGAIN);
	CHECK_OK(op(id, 0, 1, 0));
	/* Waiting for zero on a non-zero value. */
	CHECK_ERR(op(id, 0, 0, IPC_NOWAIT), EAGAIN);
}

TEST(semop_all_or_nothing)
{
	int id = new_set(2);
	struct sembuf b[2] = {{0, 1, 0}, {1, -1, IPC_NOWAIT}};
	CHECK_ERR(semop(id, b, 2), EAGAIN);
	CHECK_EQ(getval(id, 0), 0);
	/* The same semaphore twice in one call applies in order. */
	struct sembuf c[2] = {{0, 2, 0}, {0, -1, 0}};
	CHECK_OK(semop(id, c, 2));
	CHECK_EQ(getval(id, 0), 1);
}

TEST(semop_errors)
{
	int id = new_set(1);
	struct sembuf b = {1, 1, 0};
	CHECK_ERR(semop(id, &b, 1), EFBIG);
	b.sem_num = 0;
	CHECK_ERR(semop(id, &b, 0), EINVAL);
	CHECK_ERR(semop(-1, &b, 1), EINVAL);
	CHECK_ERR(semop(id + 1000, &b, 1), EINVAL);
	CHECK_ERR(semop(id, (struct sembuf *)1, 1), EFAULT);
	static struct sembuf many[501];
	CHECK_ERR(semop(id, many, 501), E2BIG);
	b.sem_op = 32767;
	CHECK_OK(semop(id, &b, 1));
	b.sem_op = 1;
	CHECK_ERR(semop(id, &b, 1), ERANGE);
}

TEST(semop_blocks_until_post)
{
	int id = new_set(1);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		usleep(30000);
		_exit(op(id, 0, 2, 0) == 0 ? 0 : 1);
	}
	CHECK_OK(op(id, 0, -2, 0));
	CHECK_EQ(getval(id, 0), 0);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(ncnt_and_zcnt)
{
	int id = new_set(1);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		op(id, 0, -1, 0);
		_exit(0);
	}
	for (int i = 0; i < 5000 && semctl(id, 0, GETNCNT) == 0; i++)
		usleep(1000);
	CHECK_EQ(semctl(id, 0, GETNCNT), 1);
	CHECK_EQ(semctl(id, 0, GETZCNT), 0);
	CHECK_OK(op(id, 0, 1, 0));
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_EQ(semctl(id, 0, GETNCNT), 0);
}

TEST(semtimedop_timeout_eagain)
{
	int id = new_set(1);
	struct sembuf b = {0, -1, 0};
	struct timespec ts = {0, 20 * 1000 * 1000};
	CHECK_ERR(semtimedop(id, &b, 1, &ts), EAGAIN);
	struct timespec bad = {0, 1000000000};
	CHECK_ERR(semtimedop(id, &b, 1, &bad), EINVAL);
	CHECK_ERR(syscall(SYS_semtimedop, id, &b, 1, (void *)1), EFAULT);
}

TEST(rmid_wakes_waiters_eidrm)
{
	int id = new_set(1);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		int r = op(id, 0, -1, 0);
		_exit(r == -1 && errno == EIDRM ? 0 : 1);
	}
	for (int i = 0; i < 5000 && semctl(id, 0, GETNCNT) == 0; i++)
		usleep(1000);
	CHECK_OK(semctl(id, 0, IPC_RMID));
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_ERR(semctl(id, 0, GETVAL), EINVAL);
}

static void noop(int sig)
{
	(void)sig;
}

TEST(semop_interrupted_eintr)
{
	int id = new_set(1);
	struct sigaction sa = {0};
	sa.sa_handler = noop;
	REQUIRE_OK(sigaction(SIGALRM, &sa, NULL));
	alarm(1);
	CHECK_ERR(op(id, 0, -1, 0), EINTR);
}

TEST(sem_undo_on_exit)
{
	int id = new_set(2);
	REQUIRE_OK(semctl(id, 0, SETVAL, (union semun){.val = 5}));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		if (op(id, 0, -2, SEM_UNDO) != 0 || op(id, 1, 3, SEM_UNDO) != 0)
			_exit(1);
		_exit(getval(id, 0) == 3 && getval(id, 1) == 3 ? 0 : 2);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
	/* The child's adjustments were undone when it exited. */
	CHECK_EQ(getval(id, 0), 5);
	CHECK_EQ(getval(id, 1), 0);
}

TEST(sem_undo_killed_process)
{
	int id = new_set(1);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		op(id, 0, 1, SEM_UNDO);
		pause();
		_exit(0);
	}
	for (int i = 0; i < 5000 && getval(id, 0) == 0; i++)
		usleep(1000);
	CHECK_EQ(getval(id, 0), 1);
	CHECK_OK(kill(pid, SIGKILL));
	CHECK_EQ(lt_wait_exit(pid), 128 + SIGKILL);
	CHECK_EQ(getval(id, 0), 0);
}

TEST(setval_getall_setall)
{
	int id = new_set(3);
	CHECK_OK(semctl(id, 1, SETVAL, (union semun){.val = 7}));
	CHECK_EQ(getval(id, 1), 7);
	unsigned short vals[3] = {1, 2, 3};
	CHECK_OK(semctl(id, 0, SETALL, (union semun){.array = vals}));
	unsigned short got[3] = {0, 0, 0};
	CHECK_OK(semctl(id, 0, GETALL, (union semun){.array = got}));
	CHECK_EQ(got[0], 1);
	CHECK_EQ(got[1], 2);
	CHECK_EQ(got[2], 3);
	CHECK_ERR(semctl(id, 0, SETVAL, (union semun){.val = 32768}), ERANGE);
	CHECK_ERR(semctl(id, 0, SETVAL, (union semun){.val = -1}), ERANGE);
	CHECK_ERR(semctl(id, 3, SETVAL, (union semun){.val = 1}), EINVAL);
	CHECK_ERR(semctl(id, 3, GETVAL), EINVAL);
	unsigned short big[3] = {1, 40000, 1};
	CHECK_ERR(semctl(id, 0, SETALL, (union semun){.array = big}), ERANGE);
	CHECK_ERR(semctl(id, 0, GETALL, (union semun){.array = (unsigned short *)1}), EFAULT);
}

TEST(ipc_stat_and_set)
{
	int id = REQUIRE_OK(semget(0x5e14, 4, IPC_CREAT | 0640));
	struct semid_ds ds;
	REQUIRE_OK(semctl(id, 0, IPC_STAT, (union semun){.buf = &ds}));
	CHECK_EQ(ds.sem_nsems, 4);
	CHECK_EQ(ds.sem_perm.__key, 0x5e14);
	CHECK_EQ(ds.sem_perm.mode & 0777, 0640);
	CHECK_EQ(ds.sem_perm.uid, getuid());
	CHECK_EQ(ds.sem_perm.cuid, getuid());
	CHECK_EQ(ds.sem_otime, 0);
	CHECK_GT(ds.sem_ctime, 0);
	ds.sem_perm.mode = 0604;
	ds.sem_perm.uid = 65534;
	REQUIRE_OK(semctl(id, 0, IPC_SET, (union semun){.buf = &ds}));
	REQUIRE_OK(op(id, 0, 1, 0));
	struct semid_ds ds2;
	REQUIRE_OK(semctl(id, 0, IPC_STAT, (union semun){.buf = &ds2}));
	CHECK_EQ(ds2.sem_perm.mode & 0777, 0604);
	CHECK_EQ(ds2.sem_perm.uid, 65534);
	CHECK_EQ(ds2.sem_perm.cuid, getuid());
	CHECK_GT(ds2.sem_otime, 0);
	CHECK_ERR(semctl(id, 0, IPC_STAT, (union semun){.buf = (struct semid_ds *)1}), EFAULT);
	CHECK_OK(semctl(id, 0, IPC_RMID));
}

TEST(semctl_bad_cmd_and_id)
{
	int id = new_set(1);
	CHECK_ERR(semctl(id, 0, 99), EINVAL);
	CHECK_ERR(semctl(-1, 0, GETVAL), EINVAL);
	CHECK_ERR(semctl(id + 32768, 0, GETVAL), EINVAL);
}

TEST(sem_info)
{
	struct seminfo si;
	int max = REQUIRE_OK(semctl(0, 0, IPC_INFO, (union semun){.info = &si}));
	CHECK_GE(max, 0);
	CHECK_EQ(si.semmsl, 32000);
	CHECK_EQ(si.semopm, 500);
	CHECK_EQ(si.semvmx, 32767);
	CHECK_EQ(si.semmni, 32000);
}
