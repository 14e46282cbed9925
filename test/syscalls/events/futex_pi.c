/* futex(2) priority-inheritance locks: LOCK_PI, TRYLOCK_PI, UNLOCK_PI. */
#include "lt.h"

#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>

static long futex(uint32_t *uaddr, int op, const struct timespec *ts)
{
	return syscall(SYS_futex, uaddr, op, 0, ts, NULL, 0);
}

static uint32_t tid(void)
{
	return (uint32_t)gettid();
}

TEST(trylock_free_sets_owner)
{
	uint32_t f = 0;
	CHECK_EQ(futex(&f, FUTEX_TRYLOCK_PI, NULL), 0);
	CHECK_EQ(f, tid());
	CHECK_EQ(futex(&f, FUTEX_UNLOCK_PI, NULL), 0);
	CHECK_EQ(f, 0);
}

TEST(lock_free_sets_owner)
{
	uint32_t f = 0;
	CHECK_EQ(futex(&f, FUTEX_LOCK_PI_PRIVATE, NULL), 0);
	CHECK_EQ(f, tid());
	CHECK_EQ(futex(&f, FUTEX_UNLOCK_PI_PRIVATE, NULL), 0);
	CHECK_EQ(f, 0);
}

TEST(lock_own_edeadlk)
{
	uint32_t f = tid();
	CHECK_ERR(futex(&f, FUTEX_LOCK_PI, NULL), EDEADLK);
	CHECK_ERR(futex(&f, FUTEX_TRYLOCK_PI, NULL), EDEADLK);
}

TEST(unlock_not_owner_eperm)
{
	uint32_t f = 0;
	CHECK_ERR(futex(&f, FUTEX_UNLOCK_PI, NULL), EPERM);
	f = 1; /* PID 1 holds it, not us */
	CHECK_ERR(futex(&f, FUTEX_UNLOCK_PI, NULL), EPERM);
	CHECK_EQ(f, 1);
}

TEST(dead_owner_esrch)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(0);
	CHECK_EQ(lt_wait_exit(pid), 0);
	uint32_t f = (uint32_t)pid;
	CHECK_ERR(futex(&f, FUTEX_LOCK_PI, NULL), ESRCH);
}

TEST(owner_died_bit_free_lock)
{
	/* TID 0 with OWNER_DIED: the lock is free and says its owner died. */
	uint32_t f = FUTEX_OWNER_DIED;
	CHECK_EQ(futex(&f, FUTEX_TRYLOCK_PI, NULL), 0);
	CHECK_EQ(f, FUTEX_OWNER_DIED | tid());
}

TEST(efault)
{
	CHECK_ERR(futex((uint32_t *)8, FUTEX_LOCK_PI, NULL), EFAULT);
	CHECK_ERR(futex((uint32_t *)8, FUTEX_UNLOCK_PI, NULL), EFAULT);
	CHECK_ERR(futex((uint32_t *)8, FUTEX_TRYLOCK_PI, NULL), EFAULT);
}

TEST(realtime_flag_enosys)
{
	uint32_t f = 0;
	CHECK_ERR(futex(&f, FUTEX_LOCK_PI | FUTEX_CLOCK_REALTIME, NULL), ENOSYS);
	CHECK_ERR(futex(&f, FUTEX_UNLOCK_PI | FUTEX_CLOCK_REALTIME, NULL), ENOSYS);
	CHECK_EQ(f, 0);
}

struct holder {
	uint32_t *f;
	uint32_t tid;
	int locked, release;
	int on_waiters; /* release once a waiter has queued */
};

static void *hold(void *arg)
{
	struct holder *h = arg;
	h->tid = tid();
	if (futex(h->f, FUTEX_LOCK_PI, NULL) != 0)
		return (void *)1;
	__atomic_store_n(&h->locked, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&h->release, __ATOMIC_SEQ_CST) &&
	       !(h->on_waiters && (__atomic_load_n(h->f, __ATOMIC_SEQ_CST) & FUTEX_WAITERS)))
		usleep(1000);
	if ((*h->f & FUTEX_TID_MASK) != h->tid)
		return (void *)2;
	return (void *)futex(h->f, FUTEX_UNLOCK_PI, NULL);
}

static void start_holder(pthread_t *th, struct holder *h)
{
	REQUIRE_EQ(pthread_create(th, NULL, hold, h), 0);
	while (!__atomic_load_n(&h->locked, __ATOMIC_SEQ_CST))
		usleep(1000);
}

/* stop_holder lets the holder unlock and checks that it did. */
static void stop_holder(pthread_t th, struct holder *h)
{
	__atomic_store_n(&h->release, 1, __ATOMIC_SEQ_CST);
	void *r;
	CHECK_EQ(pthread_join(th, &r), 0);
	CHECK_EQ((long)r, 0);
}

TEST(trylock_held_eagain)
{
	static uint32_t f;
	struct holder h = {&f, 0, 0, 0, 0};
	pthread_t th;
	start_holder(&th, &h);
	CHECK_EQ(f, h.tid);
	CHECK_ERR(futex(&f, FUTEX_TRYLOCK_PI, NULL), EAGAIN);
	stop_holder(th, &h);
	CHECK_EQ(f, 0);
}

TEST(lock_timeout_realtime)
{
	static uint32_t f;
	struct holder h = {&f, 0, 0, 0, 0};
	pthread_t th;
	start_holder(&th, &h);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 20 * 1000 * 1000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	CHECK_ERR(futex(&f, FUTEX_LOCK_PI, &ts), ETIMEDOUT);
	/* The waiter left FUTEX_WAITERS behind: the owner unlocks in the kernel. */
	CHECK_EQ(f, h.tid | FUTEX_WAITERS);
	stop_holder(th, &h);
	CHECK_EQ(f, 0);
}

TEST(contended_lock_hands_over)
{
	static uint32_t f;
	struct holder h = {&f, 0, 0, 0, 1};
	pthread_t th;
	start_holder(&th, &h);
	/* The holder lets go once we are queued (FUTEX_WAITERS set). */
	CHECK_EQ(futex(&f, FUTEX_LOCK_PI, NULL), 0);
	CHECK_EQ(f & FUTEX_TID_MASK, tid());
	stop_holder(th, &h);
	CHECK_EQ(futex(&f, FUTEX_UNLOCK_PI, NULL), 0);
	CHECK_EQ(f, 0);
}

static void *waiters_bit_setter(void *arg)
{
	uint32_t *f = arg;
	/* Wait in the kernel until the main thread hands over the lock. */
	long r = futex(f, FUTEX_LOCK_PI, NULL);
	if (r != 0)
		return (void *)1;
	uint32_t v = *f;
	futex(f, FUTEX_UNLOCK_PI, NULL);
	return (void *)(uintptr_t)v;
}

TEST(unlock_with_waiter_sets_waiters_bit)
{
	static uint32_t f;
	f = tid();
	pthread_t th;
	REQUIRE_EQ(pthread_create(&th, NULL, waiters_bit_setter, &f), 0);
	while (!(__atomic_load_n(&f, __ATOMIC_SEQ_CST) & FUTEX_WAITERS))
		usleep(1000);
	CHECK_EQ(f, tid() | FUTEX_WAITERS);
	CHECK_EQ(futex(&f, FUTEX_UNLOCK_PI, NULL), 0);
	void *r;
	CHECK_EQ(pthread_join(th, &r), 0);
	/* The new owner saw its own TID with FUTEX_WAITERS. */
	CHECK_EQ((uint32_t)(uintptr_t)r & FUTEX_WAITERS, FUTEX_WAITERS);
	CHECK_NE((uint32_t)(uintptr_t)r & FUTEX_TID_MASK, tid());
	CHECK_EQ(f, 0);
}

TEST(pthread_pi_mutex)
{
	pthread_mutexattr_t a;
	pthread_mutex_t m;
	REQUIRE_EQ(pthread_mutexattr_init(&a), 0);
	REQUIRE_EQ(pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT), 0);
	REQUIRE_EQ(pthread_mutex_init(&m, &a), 0);
	CHECK_EQ(pthread_mutex_lock(&m), 0);
	CHECK_EQ((uint32_t)m.__data.__lock & FUTEX_TID_MASK, tid());
	CHECK_EQ(pthread_mutex_trylock(&m), EBUSY);
	CHECK_EQ(pthread_mutex_unlock(&m), 0);
	CHECK_EQ(m.__data.__lock, 0);
}

TEST(shared_pi_across_processes)
{
	uint32_t *f = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE(f != MAP_FAILED);
	REQUIRE_EQ(futex(f, FUTEX_LOCK_PI, NULL), 0);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		if (futex(f, FUTEX_TRYLOCK_PI, NULL) != -1 || errno != EAGAIN)
			_exit(2);
		if (futex(f, FUTEX_LOCK_PI, NULL) != 0)
			_exit(3);
		_exit((*f & FUTEX_TID_MASK) == (uint32_t)getpid() ? 0 : 4);
	}
	while (!(__atomic_load_n(f, __ATOMIC_SEQ_CST) & FUTEX_WAITERS))
		usleep(1000);
	CHECK_EQ(futex(f, FUTEX_UNLOCK_PI, NULL), 0);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

static uint32_t exit_lock;
static volatile int exit_locked;

static void *lock_and_exit_holding(void *arg)
{
	(void)arg;
	/* No robust list: the kernel's exit path still releases the lock. */
	syscall(SYS_set_robust_list, NULL, 0);
	if (futex(&exit_lock, FUTEX_LOCK_PI, NULL) != 0)
		syscall(SYS_exit, 1);
	exit_locked = 1;
	while (!(__atomic_load_n(&exit_lock, __ATOMIC_SEQ_CST) & FUTEX_WAITERS))
		usleep(1000);
	syscall(SYS_exit, 0);
	return NULL;
}

TEST(owner_exit_hands_over_owner_died)
{
	pthread_t th;
	REQUIRE_EQ(pthread_create(&th, NULL, lock_and_exit_holding, NULL), 0);
	while (!exit_locked)
		usleep(1000);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	/* The waiter gets the lock when the owner dies, told so. */
	CHECK_EQ(futex(&exit_lock, FUTEX_LOCK_PI, &ts), 0);
	CHECK_EQ(exit_lock, tid() | FUTEX_WAITERS | FUTEX_OWNER_DIED);
}
