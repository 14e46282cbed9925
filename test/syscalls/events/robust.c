/* Robust futex lists: a lock holder's death is reported (EOWNERDEAD). */
#include "lt.h"

#include <linux/futex.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>

static void init_robust(pthread_mutex_t *m, int shared, int pi)
{
	pthread_mutexattr_t a;
	REQUIRE_EQ(pthread_mutexattr_init(&a), 0);
	REQUIRE_EQ(pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST), 0);
	if (shared)
		REQUIRE_EQ(pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED), 0);
	if (pi)
		REQUIRE_EQ(pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT), 0);
	REQUIRE_EQ(pthread_mutex_init(m, &a), 0);
}

static void *lock_and_exit(void *arg)
{
	pthread_mutex_lock(arg);
	return NULL;
}

static void thread_dies_holding(int pi)
{
	static pthread_mutex_t m;
	init_robust(&m, 0, pi);
	pthread_t th;
	REQUIRE_EQ(pthread_create(&th, NULL, lock_and_exit, &m), 0);
	REQUIRE_EQ(pthread_join(th, NULL), 0);
	CHECK_EQ(pthread_mutex_lock(&m), EOWNERDEAD);
	CHECK_EQ(pthread_mutex_consistent(&m), 0);
	CHECK_EQ(pthread_mutex_unlock(&m), 0);
	CHECK_EQ(pthread_mutex_lock(&m), 0);
	CHECK_EQ(pthread_mutex_unlock(&m), 0);
}

TEST(thread_dies_holding)
{
	thread_dies_holding(0);
}

TEST(thread_dies_holding_pi)
{
	thread_dies_holding(1);
}

static void process_dies_holding(int pi)
{
	pthread_mutex_t *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE(m != MAP_FAILED);
	init_robust(m, 1, pi);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		pthread_mutex_lock(m);
		_exit(0);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_EQ(pthread_mutex_lock(m), EOWNERDEAD);
	CHECK_EQ(pthread_mutex_consistent(m), 0);
	CHECK_EQ(pthread_mutex_unlock(m), 0);
}

TEST(process_dies_holding)
{
	process_dies_holding(0);
}

TEST(process_dies_holding_pi)
{
	process_dies_holding(1);
}

TEST(killed_process_holding)
{
	pthread_mutex_t *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE(m != MAP_FAILED);
	init_robust(m, 1, 0);
	int *locked = (int *)(m + 1);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		pthread_mutex_lock(m);
		__atomic_store_n(locked, 1, __ATOMIC_SEQ_CST);
		pause();
		_exit(0);
	}
	while (!__atomic_load_n(locked, __ATOMIC_SEQ_CST))
		usleep(1000);
	CHECK_EQ(pthread_mutex_trylock(m), EBUSY);
	CHECK_OK(kill(pid, SIGKILL));
	CHECK_EQ(lt_wait_exit(pid), 128 + SIGKILL);
	CHECK_EQ(pthread_mutex_lock(m), EOWNERDEAD);
	CHECK_EQ(pthread_mutex_consistent(m), 0);
	CHECK_EQ(pthread_mutex_unlock(m), 0);
}

TEST(waiter_wakes_with_eownerdead)
{
	pthread_mutex_t *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE(m != MAP_FAILED);
	init_robust(m, 1, 0);
	int *go = (int *)(m + 1);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		pthread_mutex_lock(m);
		__atomic_store_n(go, 1, __ATOMIC_SEQ_CST);
		/* Die once the parent waits in the kernel (FUTEX_WAITERS). */
		while (!(__atomic_load_n(&m->__data.__lock, __ATOMIC_SEQ_CST) & FUTEX_WAITERS))
			usleep(1000);
		_exit(0);
	}
	while (!__atomic_load_n(go, __ATOMIC_SEQ_CST))
		usleep(1000);
	CHECK_EQ(pthread_mutex_lock(m), EOWNERDEAD);
	CHECK_EQ(pthread_mutex_consistent(m), 0);
	CHECK_EQ(pthread_mutex_unlock(m), 0);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(not_made_consistent_unrecoverable)
{
	static pthread_mutex_t m;
	init_robust(&m, 0, 0);
	pthread_t th;
	REQUIRE_EQ(pthread_create(&th, NULL, lock_and_exit, &m), 0);
	REQUIRE_EQ(pthread_join(th, NULL), 0);
	CHECK_EQ(pthread_mutex_lock(&m), EOWNERDEAD);
	CHECK_EQ(pthread_mutex_unlock(&m), 0);
	CHECK_EQ(pthread_mutex_lock(&m), ENOTRECOVERABLE);
}

/* The kernel side alone: a raw robust list with one held lock. */
struct raw_lock {
	struct robust_list list;
	uint32_t futex;
};

struct raw_shared {
	struct robust_list_head head;
	struct raw_lock lock;
};

/*
 * raw_exit_holding forks a child that registers a robust list holding one
 * lock whose word is word (0: the child's TID | FUTEX_WAITERS) and exits; it
 * returns the lock word after the child's death.
 */
static uint32_t raw_exit_holding(uint32_t word)
{
	struct raw_shared *s = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE(s != MAP_FAILED);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		s->head.list.next = &s->lock.list;
		s->head.futex_offset = offsetof(struct raw_lock, futex);
		s->head.list_op_pending = NULL;
		s->lock.list.next = &s->head.list;
		s->lock.futex = word ? word : (gettid() | FUTEX_WAITERS);
		if (syscall(SYS_set_robust_list, &s->head, sizeof(s->head)) != 0)
			_exit(1);
		_exit(0);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
	return s->lock.futex;
}

TEST(raw_list_marks_owner_died)
{
	CHECK_EQ(raw_exit_holding(0), FUTEX_OWNER_DIED | FUTEX_WAITERS);
}

TEST(raw_list_other_owner_untouched)
{
	/* Held by PID 1, not by the dying child. */
	CHECK_EQ(raw_exit_holding(1), 1);
}

TEST(set_robust_list_bad_len)
{
	struct robust_list_head h;
	CHECK_ERR(syscall(SYS_set_robust_list, &h, sizeof(h) + 1), EINVAL);
	CHECK_ERR(syscall(SYS_set_robust_list, &h, 0), EINVAL);
}

TEST(get_robust_list)
{
	struct robust_list_head h;
	REQUIRE_OK(syscall(SYS_set_robust_list, &h, sizeof(h)));
	void *head = NULL;
	size_t len = 0;
	CHECK_OK(syscall(SYS_get_robust_list, 0, &head, &len));
	CHECK_EQ(head, &h);
	CHECK_EQ(len, sizeof(h));
	CHECK_OK(syscall(SYS_get_robust_list, gettid(), &head, &len));
	CHECK_EQ(head, &h);
	CHECK_ERR(syscall(SYS_get_robust_list, 0, (void *)1, &len), EFAULT);
	CHECK_ERR(syscall(SYS_get_robust_list, 0, &head, (void *)1), EFAULT);
	CHECK_ERR(syscall(SYS_get_robust_list, 999999, &head, &len), ESRCH);
}
