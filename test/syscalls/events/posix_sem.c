/* POSIX semaphores (futex based): unnamed, process-shared, named (/dev/shm). */
#include "lt.h"

#include <limits.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <time.h>

static sem_t *shared_sem(unsigned value)
{
	sem_t *s = mmap(NULL, sizeof(sem_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s == MAP_FAILED)
		ABORT("mmap: %s", strerror(errno));
	if (sem_init(s, 1, value) != 0)
		ABORT("sem_init: %s", strerror(errno));
	return s;
}

static struct timespec in_ms(int ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (long)ms * 1000000;
	ts.tv_sec += ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	return ts;
}

TEST(init_post_wait_value)
{
	sem_t s;
	REQUIRE_OK(sem_init(&s, 0, 2));
	int v;
	CHECK_OK(sem_getvalue(&s, &v));
	CHECK_EQ(v, 2);
	CHECK_OK(sem_wait(&s));
	CHECK_OK(sem_post(&s));
	CHECK_OK(sem_post(&s));
	CHECK_OK(sem_getvalue(&s, &v));
	CHECK_EQ(v, 3);
	CHECK_OK(sem_destroy(&s));
}

TEST(trywait_eagain)
{
	sem_t s;
	REQUIRE_OK(sem_init(&s, 0, 1));
	CHECK_OK(sem_trywait(&s));
	CHECK_ERR(sem_trywait(&s), EAGAIN);
}

TEST(timedwait_timeout)
{
	sem_t s;
	REQUIRE_OK(sem_init(&s, 0, 0));
	struct timespec ts = in_ms(20);
	CHECK_ERR(sem_timedwait(&s, &ts), ETIMEDOUT);
	struct timespec bad = {0, 1000000000};
	CHECK_ERR(sem_timedwait(&s, &bad), EINVAL);
}

TEST(clockwait_monotonic)
{
	sem_t s;
	REQUIRE_OK(sem_init(&s, 0, 0));
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += 20 * 1000 * 1000;
	ts.tv_sec += ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	CHECK_ERR(sem_clockwait(&s, CLOCK_MONOTONIC, &ts), ETIMEDOUT);
}

TEST(init_value_too_large)
{
	sem_t s;
	CHECK_ERR(sem_init(&s, 0, (unsigned)SEM_VALUE_MAX + 1), EINVAL);
}

TEST(shared_across_fork)
{
	sem_t *s = shared_sem(0);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(sem_wait(s) == 0 ? 0 : 1);
	usleep(30000);
	CHECK_OK(sem_post(s));
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(ping_pong)
{
	sem_t *ping = shared_sem(0), *pong = shared_sem(0);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		for (int i = 0; i < 200; i++)
			if (sem_wait(ping) != 0 || sem_post(pong) != 0)
				_exit(1);
		_exit(0);
	}
	for (int i = 0; i < 200; i++) {
		REQUIRE_OK(sem_post(ping));
		REQUIRE_OK(sem_wait(pong));
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(waiters_all_released)
{
	sem_t *s = shared_sem(0);
	pid_t pids[4];
	for (int i = 0; i < 4; i++) {
		pids[i] = REQUIRE_OK(fork());
		if (pids[i] == 0) {
			struct timespec ts = in_ms(5000);
			_exit(sem_timedwait(s, &ts) == 0 ? 0 : 1);
		}
	}
	usleep(30000);
	for (int i = 0; i < 4; i++)
		CHECK_OK(sem_post(s));
	for (int i = 0; i < 4; i++)
		CHECK_EQ(lt_wait_exit(pids[i]), 0);
	int v = -1;
	CHECK_OK(sem_getvalue(s, &v));
	CHECK_EQ(v, 0);
}

TEST(named_open_create_unlink)
{
	char name[64];
	snprintf(name, sizeof(name), "/lt_sem_%d", getpid());
	sem_t *s = sem_open(name, O_CREAT | O_EXCL, 0600, 3);
	REQUIRE(s != SEM_FAILED);
	CHECK(sem_open(name, O_CREAT | O_EXCL, 0600, 1) == SEM_FAILED);
	CHECK_EQ(errno, EEXIST);
	sem_t *again = sem_open(name, 0);
	REQUIRE(again != SEM_FAILED);
	int v;
	CHECK_OK(sem_getvalue(again, &v));
	CHECK_EQ(v, 3);
	CHECK_OK(sem_close(again));
	CHECK_OK(sem_unlink(name));
	CHECK(sem_open(name, 0) == SEM_FAILED);
	CHECK_EQ(errno, ENOENT);
	CHECK_ERR(sem_unlink(name), ENOENT);
	/* Still usable after the unlink. */
	CHECK_OK(sem_wait(s));
	CHECK_OK(sem_close(s));
}

TEST(named_shared_between_processes)
{
	char name[64];
	snprintf(name, sizeof(name), "/lt_sem2_%d", getpid());
	sem_t *s = sem_open(name, O_CREAT | O_EXCL, 0600, 0);
	REQUIRE(s != SEM_FAILED);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		sem_t *c = sem_open(name, 0);
		_exit(c != SEM_FAILED && sem_post(c) == 0 ? 0 : 1);
	}
	struct timespec ts = in_ms(5000);
	CHECK_OK(sem_timedwait(s, &ts));
	CHECK_EQ(lt_wait_exit(pid), 0);
	sem_unlink(name);
}

static void noop(int sig)
{
	(void)sig;
}

TEST(wait_interrupted_eintr)
{
	sem_t s;
	REQUIRE_OK(sem_init(&s, 0, 0));
	struct sigaction sa = {0};
	sa.sa_handler = noop;
	REQUIRE_OK(sigaction(SIGALRM, &sa, NULL));
	alarm(1);
	CHECK_ERR(sem_wait(&s), EINTR);
}
