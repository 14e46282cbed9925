/* futex(2): WAIT/WAKE, timeouts, REQUEUE, CMP_REQUEUE, bitsets, shared futexes. */
#include "lt.h"

#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <time.h>

static long futex(uint32_t *uaddr, int op, uint32_t val,
		  const struct timespec *ts, uint32_t *uaddr2, uint32_t val3)
{
	return syscall(SYS_futex, uaddr, op, val, ts, uaddr2, val3);
}

/* waiter blocks on the futex word given as its argument until woken. */
static void *waiter(void *arg)
{
	uint32_t *f = arg;
	long r = futex(f, FUTEX_WAIT, 0, NULL, NULL, 0);
	return (void *)r;
}

/*
 * wait_sleeping waits until n threads other than the caller sleep (state S
 * in /proc/self/task/TID/stat). The waiters do nothing but FUTEX_WAIT, and
 * a futex waiter shows S only once a wake can find it: Linux sets the
 * state under the hash bucket lock that FUTEX_WAKE takes, the sentry after
 * queueing the waiter. So no extra delay is needed after this, however
 * loaded the machine is; and a waiter that never gets there fails here,
 * not as a wrong count later.
 */
static void wait_sleeping(int n)
{
	pid_t self = gettid();
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	int sleeping = 0;
	for (;;) {
		sleeping = 0;
		DIR *d = opendir("/proc/self/task");
		REQUIRE(d != NULL);
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.' || atoi(e->d_name) == self)
				continue;
			char path[300], buf[512];
			snprintf(path, sizeof(path), "/proc/self/task/%s/stat", e->d_name);
			int fd = open(path, O_RDONLY);
			if (fd < 0)
				continue;
			ssize_t r = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			if (r <= 0)
				continue;
			buf[r] = 0;
			char *p = strrchr(buf, ')');
			if (p && p[2] == 'S')
				sleeping++;
		}
		closedir(d);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (sleeping >= n || now.tv_sec - start.tv_sec > 15)
			break;
		usleep(1000);
	}
	/* Not all asleep within 15 s: the case's own limit is 20. */
	REQUIRE_GE(sleeping, n);
}

static void start_waiters(pthread_t *th, int n, uint32_t *f)
{
	for (int i = 0; i < n; i++)
		REQUIRE_EQ(pthread_create(&th[i], NULL, waiter, f), 0);
	wait_sleeping(n);
}

static void join_all(pthread_t *th, int n)
{
	for (int i = 0; i < n; i++) {
		void *r;
		CHECK_EQ(pthread_join(th[i], &r), 0);
		CHECK_EQ((long)r, 0);
	}
}

TEST(wait_wrong_value_eagain)
{
	uint32_t f = 1;
	CHECK_ERR(futex(&f, FUTEX_WAIT, 0, NULL, NULL, 0), EAGAIN);
	CHECK_ERR(futex(&f, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0), EAGAIN);
}

TEST(wait_relative_timeout)
{
	uint32_t f = 0;
	struct timespec ts = {0, 20 * 1000 * 1000};
	CHECK_ERR(futex(&f, FUTEX_WAIT, 0, &ts, NULL, 0), ETIMEDOUT);
	struct timespec zero = {0, 0};
	CHECK_ERR(futex(&f, FUTEX_WAIT_PRIVATE, 0, &zero, NULL, 0), ETIMEDOUT);
}

TEST(wait_bad_timeout_einval)
{
	uint32_t f = 0;
	struct timespec ts = {0, 1000000000};
	CHECK_ERR(futex(&f, FUTEX_WAIT, 0, &ts, NULL, 0), EINVAL);
	struct timespec neg = {-1, 0};
	CHECK_ERR(futex(&f, FUTEX_WAIT, 0, &neg, NULL, 0), EINVAL);
}

TEST(wait_efault)
{
	CHECK_ERR(futex((uint32_t *)8, FUTEX_WAIT, 0, NULL, NULL, 0), EFAULT);
	uint32_t f = 0;
	CHECK_ERR(futex(&f, FUTEX_WAIT, 0, (struct timespec *)8, NULL, 0), EFAULT);
}

TEST(unaligned_einval)
{
	uint32_t f[2] = {0, 0};
	CHECK_ERR(futex((uint32_t *)((char *)f + 1), FUTEX_WAIT, 0, NULL, NULL, 0), EINVAL);
	CHECK_ERR(futex((uint32_t *)((char *)f + 2), FUTEX_WAKE, 1, NULL, NULL, 0), EINVAL);
}

TEST(bad_op_enosys)
{
	uint32_t f = 0;
	CHECK_ERR(futex(&f, 99, 0, NULL, NULL, 0), ENOSYS);
	/* FUTEX_CLOCK_REALTIME only goes with the bitset/PI waits. */
	CHECK_ERR(futex(&f, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0), ENOSYS);
}

TEST(wake_nobody_zero)
{
	uint32_t f = 0;
	CHECK_EQ(futex(&f, FUTEX_WAKE, 1, NULL, NULL, 0), 0);
	CHECK_EQ(futex(&f, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0), 0);
}

TEST(wake_counts)
{
	static uint32_t f;
	pthread_t th[3];
	start_waiters(th, 3, &f);
	CHECK_EQ(futex(&f, FUTEX_WAKE, 2, NULL, NULL, 0), 2);
	CHECK_EQ(futex(&f, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0), 1);
	CHECK_EQ(futex(&f, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0), 0);
	join_all(th, 3);
}

TEST(requeue_moves_waiters)
{
	static uint32_t f, f2;
	pthread_t th[3];
	start_waiters(th, 3, &f);
	/* Wake one, move up to 5 others: returns woken + moved. */
	CHECK_EQ(futex(&f, FUTEX_REQUEUE, 1, (struct timespec *)5, &f2, 0), 3);
	CHECK_EQ(futex(&f, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0), 0);
	CHECK_EQ(futex(&f2, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0), 2);
	join_all(th, 3);
}

TEST(requeue_limit)
{
	static uint32_t f, f2;
	pthread_t th[3];
	start_waiters(th, 3, &f);
	CHECK_EQ(futex(&f, FUTEX_REQUEUE, 0, (struct timespec *)1, &f2, 0), 1);
	CHECK_EQ(futex(&f2, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0), 1);
	CHECK_EQ(futex(&f, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0), 2);
	join_all(th, 3);
}

TEST(cmp_requeue_mismatch_eagain)
{
	static uint32_t f, f2;
	pthread_t th[1];
	start_waiters(th, 1, &f);
	CHECK_ERR(futex(&f, FUTEX_CMP_REQUEUE, 1, (struct timespec *)1, &f2, 7), EAGAIN);
	/* Nothing was woken or moved by the failed call. */
	CHECK_EQ(futex(&f, FUTEX_CMP_REQUEUE, 0, (struct timespec *)1, &f2, 0), 1);
	CHECK_EQ(futex(&f2, FUTEX_WAKE, 1, NULL, NULL, 0), 1);
	join_all(th, 1);
}

TEST(cmp_requeue_negative_count_einval)
{
	uint32_t f = 0, f2 = 0;
	CHECK_ERR(futex(&f, FUTEX_CMP_REQUEUE, -1, (struct timespec *)1, &f2, 0), EINVAL);
	CHECK_ERR(futex(&f, FUTEX_CMP_REQUEUE, 1, (struct timespec *)-1L, &f2, 0), EINVAL);
}

static void abs_timeout(clockid_t clk, int flag)
{
	uint32_t f = 0;
	struct timespec ts, after;
	clock_gettime(clk, &ts);
	ts.tv_nsec += 30 * 1000 * 1000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	CHECK_ERR(futex(&f, FUTEX_WAIT_BITSET | flag, 0, &ts, NULL, FUTEX_BITSET_MATCH_ANY), ETIMEDOUT);
	clock_gettime(clk, &after);
	CHECK(after.tv_sec > ts.tv_sec || (after.tv_sec == ts.tv_sec && after.tv_nsec >= ts.tv_nsec));
}

TEST(wait_bitset_abs_monotonic)
{
	abs_timeout(CLOCK_MONOTONIC, 0);
}

TEST(wait_bitset_abs_realtime)
{
	abs_timeout(CLOCK_REALTIME, FUTEX_CLOCK_REALTIME);
}

/* abs_never_early waits many times for a deadline a fraction of a
 * millisecond ahead: the wait never ends before clk reaches it. */
static void abs_never_early(clockid_t clk, int flag)
{
	uint32_t f = 0;
	for (int i = 0; i < 300; i++) {
		struct timespec ts, after;
		clock_gettime(clk, &ts);
		ts.tv_nsec += 20000 + (i * 37 % 500) * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		REQUIRE_ERR(futex(&f, FUTEX_WAIT_BITSET | flag, 0, &ts, NULL, FUTEX_BITSET_MATCH_ANY), ETIMEDOUT);
		clock_gettime(clk, &after);
		if (after.tv_sec < ts.tv_sec || (after.tv_sec == ts.tv_sec && after.tv_nsec < ts.tv_nsec)) {
			FAIL("wait %d on clock %d ended at %lld.%09ld, before %lld.%09ld", i, (int)clk,
			     (long long)after.tv_sec, after.tv_nsec, (long long)ts.tv_sec, ts.tv_nsec);
			return;
		}
	}
}

TEST(wait_bitset_abs_never_early_monotonic)
{
	abs_never_early(CLOCK_MONOTONIC, 0);
}

TEST(wait_bitset_abs_never_early_realtime)
{
	abs_never_early(CLOCK_REALTIME, FUTEX_CLOCK_REALTIME);
}

TEST(wait_bitset_past_deadline)
{
	uint32_t f = 0;
	struct timespec ts = {1, 0};
	CHECK_ERR(futex(&f, FUTEX_WAIT_BITSET, 0, &ts, NULL, ~0u), ETIMEDOUT);
	CHECK_ERR(futex(&f, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 0, &ts, NULL, ~0u), ETIMEDOUT);
}

TEST(bitset_zero_einval)
{
	uint32_t f = 0;
	CHECK_ERR(futex(&f, FUTEX_WAIT_BITSET, 0, NULL, NULL, 0), EINVAL);
	CHECK_ERR(futex(&f, FUTEX_WAKE_BITSET, 1, NULL, NULL, 0), EINVAL);
}

static void *bitset_waiter(void *arg)
{
	return (void *)futex(arg, FUTEX_WAIT_BITSET, 0, NULL, NULL, 0x1);
}

TEST(wake_bitset_selects)
{
	static uint32_t f;
	pthread_t th;
	REQUIRE_EQ(pthread_create(&th, NULL, bitset_waiter, &f), 0);
	wait_sleeping(1);
	CHECK_EQ(futex(&f, FUTEX_WAKE_BITSET, 1, NULL, NULL, 0x2), 0);
	CHECK_EQ(futex(&f, FUTEX_WAKE_BITSET, 1, NULL, NULL, 0x3), 1);
	join_all(&th, 1);
}

static void *private_waiter(void *arg)
{
	return (void *)futex(arg, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
}

TEST(private_wait_wake)
{
	static uint32_t f;
	pthread_t th;
	REQUIRE_EQ(pthread_create(&th, NULL, private_waiter, &f), 0);
	wait_sleeping(1);
	CHECK_EQ(futex(&f, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), 1);
	join_all(&th, 1);
}

static void noop(int sig)
{
	(void)sig;
}

TEST(wait_interrupted_eintr)
{
	uint32_t f = 0;
	/* A handler without SA_RESTART: the wait ends with EINTR. */
	struct sigaction h = {0};
	h.sa_handler = noop;
	REQUIRE_OK(sigaction(SIGALRM, &h, NULL));
	struct itimerval it = {{0, 0}, {0, 20000}};
	REQUIRE_OK(setitimer(ITIMER_REAL, &it, NULL));
	CHECK_ERR(futex(&f, FUTEX_WAIT, 0, NULL, NULL, 0), EINTR);
}

TEST(shared_futex_across_fork)
{
	uint32_t *f = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE(f != MAP_FAILED);
	f[0] = 0; /* the futex */
	f[1] = 0; /* child is about to wait */
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		__atomic_store_n(&f[1], 1, __ATOMIC_SEQ_CST);
		while (__atomic_load_n(&f[0], __ATOMIC_SEQ_CST) == 0)
			futex(&f[0], FUTEX_WAIT, 0, NULL, NULL, 0);
		_exit(f[0] == 42 ? 0 : 1);
	}
	while (__atomic_load_n(&f[1], __ATOMIC_SEQ_CST) == 0)
		usleep(1000);
	usleep(50000);
	__atomic_store_n(&f[0], 42, __ATOMIC_SEQ_CST);
	long woken = futex(&f[0], FUTEX_WAKE, 1, NULL, NULL, 0);
	CHECK_GE(woken, 0);
	CHECK_LE(woken, 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(shared_futex_wakes_other_process)
{
	uint32_t *f = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE(f != MAP_FAILED);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		long r = futex(f, FUTEX_WAIT, 0, NULL, NULL, 0);
		_exit(r == 0 ? 0 : 1);
	}
	/* The child is asleep once its state is S; wake exactly it. */
	long woken = 0;
	for (int i = 0; i < 5000 && woken == 0; i++) {
		woken = futex(f, FUTEX_WAKE, 1, NULL, NULL, 0);
		if (woken == 0)
			usleep(1000);
	}
	CHECK_EQ(woken, 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(private_flag_does_not_see_shared_waiter)
{
	uint32_t *f = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE(f != MAP_FAILED);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		long r = futex(f, FUTEX_WAIT, 0, NULL, NULL, 0);
		_exit(r == 0 ? 0 : 1);
	}
	long woken = 0;
	for (int i = 0; i < 5000 && woken == 0; i++) {
		/* A private wake in this process never reaches the child. */
		CHECK_EQ(futex(f, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), 0);
		woken = futex(f, FUTEX_WAKE, 1, NULL, NULL, 0);
		if (woken == 0)
			usleep(1000);
	}
	CHECK_EQ(woken, 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(wake_op_conditional)
{
	static uint32_t f, f2 = 5;
	/* *f2 = 7 (SET), then wake waiters on f2 if old value == 5. */
	int op = FUTEX_OP(FUTEX_OP_SET, 7, FUTEX_OP_CMP_EQ, 5);
	CHECK_EQ(futex(&f, FUTEX_WAKE_OP, 1, (struct timespec *)1, &f2, op), 0);
	CHECK_EQ(f2, 7);
	op = FUTEX_OP(FUTEX_OP_ADD, 3, FUTEX_OP_CMP_LT, 0);
	CHECK_EQ(futex(&f, FUTEX_WAKE_OP, 1, (struct timespec *)1, &f2, op), 0);
	CHECK_EQ(f2, 10);
}
