/* pthread mutexes, condition variables, barriers, rwlocks (futex based). */
#include "lt.h"

#include <pthread.h>
#include <sys/mman.h>
#include <time.h>

#define THREADS 4
#define ROUNDS 2000

static pthread_mutex_t counter_mu = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *add_rounds(void *arg)
{
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		pthread_mutex_lock(&counter_mu);
		long v = counter;
		if (i % 100 == 0)
			sched_yield();
		counter = v + 1;
		pthread_mutex_unlock(&counter_mu);
	}
	return NULL;
}

TEST(mutex_excludes)
{
	pthread_t th[THREADS];
	for (int i = 0; i < THREADS; i++)
		REQUIRE_EQ(pthread_create(&th[i], NULL, add_rounds, NULL), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ(counter, THREADS * ROUNDS);
}

static pthread_mutex_t kind_mutex(int kind)
{
	pthread_mutexattr_t a;
	pthread_mutex_t m;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, kind);
	pthread_mutex_init(&m, &a);
	return m;
}

TEST(errorcheck_mutex)
{
	pthread_mutex_t m = kind_mutex(PTHREAD_MUTEX_ERRORCHECK);
	CHECK_EQ(pthread_mutex_unlock(&m), EPERM);
	CHECK_EQ(pthread_mutex_lock(&m), 0);
	CHECK_EQ(pthread_mutex_lock(&m), EDEADLK);
	CHECK_EQ(pthread_mutex_unlock(&m), 0);
}

TEST(recursive_mutex)
{
	pthread_mutex_t m = kind_mutex(PTHREAD_MUTEX_RECURSIVE);
	CHECK_EQ(pthread_mutex_lock(&m), 0);
	CHECK_EQ(pthread_mutex_lock(&m), 0);
	CHECK_EQ(pthread_mutex_trylock(&m), 0);
	CHECK_EQ(pthread_mutex_unlock(&m), 0);
	CHECK_EQ(pthread_mutex_unlock(&m), 0);
	CHECK_EQ(pthread_mutex_unlock(&m), 0);
	CHECK_EQ(pthread_mutex_unlock(&m), EPERM);
}

static void *try_from_thread(void *arg)
{
	return (void *)(long)pthread_mutex_trylock(arg);
}

TEST(trylock_busy_in_other_thread)
{
	static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	REQUIRE_EQ(pthread_mutex_lock(&m), 0);
	pthread_t th;
	REQUIRE_EQ(pthread_create(&th, NULL, try_from_thread, &m), 0);
	void *r;
	pthread_join(th, &r);
	CHECK_EQ((long)r, EBUSY);
}

static void *timedlock_from_thread(void *arg)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 20000000;
	ts.tv_sec += ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	return (void *)(long)pthread_mutex_timedlock(arg, &ts);
}

TEST(timedlock_timeout)
{
	static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	REQUIRE_EQ(pthread_mutex_lock(&m), 0);
	pthread_t th;
	REQUIRE_EQ(pthread_create(&th, NULL, timedlock_from_thread, &m), 0);
	void *r;
	pthread_join(th, &r);
	CHECK_EQ((long)r, ETIMEDOUT);
}

static pthread_mutex_t cmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready, woken;

static void *cond_waiter(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&cmu);
	ready++;
	while (ready < 1000)
		pthread_cond_wait(&cv, &cmu);
	woken++;
	pthread_mutex_unlock(&cmu);
	return NULL;
}

TEST(cond_broadcast_wakes_all)
{
	pthread_t th[THREADS];
	for (int i = 0; i < THREADS; i++)
		REQUIRE_EQ(pthread_create(&th[i], NULL, cond_waiter, NULL), 0);
	for (;;) {
		pthread_mutex_lock(&cmu);
		int r = ready;
		pthread_mutex_unlock(&cmu);
		if (r == THREADS)
			break;
		usleep(1000);
	}
	pthread_mutex_lock(&cmu);
	ready = 1000;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&cmu);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ(woken, THREADS);
}

TEST(cond_timedwait_monotonic)
{
	pthread_condattr_t ca;
	pthread_cond_t c;
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	REQUIRE_EQ(pthread_condattr_init(&ca), 0);
	REQUIRE_EQ(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC), 0);
	REQUIRE_EQ(pthread_cond_init(&c, &ca), 0);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += 20000000;
	ts.tv_sec += ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	pthread_mutex_lock(&m);
	CHECK_EQ(pthread_cond_timedwait(&c, &m, &ts), ETIMEDOUT);
	pthread_mutex_unlock(&m);
}

TEST(cond_timedwait_realtime)
{
	pthread_cond_t c = PTHREAD_COND_INITIALIZER;
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 20000000;
	ts.tv_sec += ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	pthread_mutex_lock(&m);
	CHECK_EQ(pthread_cond_timedwait(&c, &m, &ts), ETIMEDOUT);
	pthread_mutex_unlock(&m);
}

/* pthread_cond_timedwait never times out before its clock (CLOCK_REALTIME
 * by default) reaches the deadline. */
TEST(cond_timedwait_never_early)
{
	pthread_cond_t c = PTHREAD_COND_INITIALIZER;
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&m);
	for (int i = 0; i < 200; i++) {
		struct timespec ts, now;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 20000 + (i * 37 % 500) * 1000;
		ts.tv_sec += ts.tv_nsec / 1000000000;
		ts.tv_nsec %= 1000000000;
		REQUIRE_EQ(pthread_cond_timedwait(&c, &m, &ts), ETIMEDOUT);
		clock_gettime(CLOCK_REALTIME, &now);
		if (now.tv_sec < ts.tv_sec || (now.tv_sec == ts.tv_sec && now.tv_nsec < ts.tv_nsec)) {
			FAIL("wait %d timed out at %lld.%09ld, before %lld.%09ld", i, (long long)now.tv_sec,
			     now.tv_nsec, (long long)ts.tv_sec, ts.tv_nsec);
			break;
		}
	}
	pthread_mutex_unlock(&m);
}

static pthread_barrier_t bar;
static int serial;

static void *barrier_thread(void *arg)
{
	(void)arg;
	if (pthread_barrier_wait(&bar) == PTHREAD_BARRIER_SERIAL_THREAD)
		__atomic_add_fetch(&serial, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

TEST(barrier_one_serial_thread)
{
	REQUIRE_EQ(pthread_barrier_init(&bar, NULL, THREADS), 0);
	pthread_t th[THREADS];
	for (int i = 0; i < THREADS; i++)
		REQUIRE_EQ(pthread_create(&th[i], NULL, barrier_thread, NULL), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ(serial, 1);
}

TEST(rwlock_readers_share_writer_excludes)
{
	pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
	CHECK_EQ(pthread_rwlock_rdlock(&rw), 0);
	CHECK_EQ(pthread_rwlock_tryrdlock(&rw), 0);
	CHECK_EQ(pthread_rwlock_trywrlock(&rw), EBUSY);
	CHECK_EQ(pthread_rwlock_unlock(&rw), 0);
	CHECK_EQ(pthread_rwlock_unlock(&rw), 0);
	CHECK_EQ(pthread_rwlock_wrlock(&rw), 0);
	CHECK_EQ(pthread_rwlock_tryrdlock(&rw), EBUSY);
	CHECK_EQ(pthread_rwlock_unlock(&rw), 0);
}

struct shared {
	pthread_mutex_t m;
	pthread_cond_t c;
	int flag;
};

TEST(process_shared_mutex_and_cond)
{
	struct shared *s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE(s != MAP_FAILED);
	pthread_mutexattr_t ma;
	pthread_condattr_t ca;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_condattr_init(&ca);
	pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
	REQUIRE_EQ(pthread_mutex_init(&s->m, &ma), 0);
	REQUIRE_EQ(pthread_cond_init(&s->c, &ca), 0);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		pthread_mutex_lock(&s->m);
		while (s->flag == 0)
			pthread_cond_wait(&s->c, &s->m);
		s->flag = 2;
		pthread_cond_signal(&s->c);
		pthread_mutex_unlock(&s->m);
		_exit(0);
	}
	usleep(20000);
	pthread_mutex_lock(&s->m);
	s->flag = 1;
	pthread_cond_signal(&s->c);
	while (s->flag != 2)
		pthread_cond_wait(&s->c, &s->m);
	pthread_mutex_unlock(&s->m);
	CHECK_EQ(s->flag, 2);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

static void *spin_join_target(void *arg)
{
	usleep(20000);
	return arg;
}

TEST(join_waits_for_exit)
{
	pthread_t th;
	REQUIRE_EQ(pthread_create(&th, NULL, spin_join_target, (void *)42), 0);
	void *r;
	CHECK_EQ(pthread_join(th, &r), 0);
	CHECK_EQ((long)r, 42);
}
