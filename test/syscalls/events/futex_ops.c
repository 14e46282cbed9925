/* FUTEX_WAKE_OP arithmetic and comparisons; futex_waitv(2). */
#include "lt.h"

#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif

static long futex(uint32_t *uaddr, int op, uint32_t val, long val2, uint32_t *uaddr2, uint32_t val3)
{
	return syscall(SYS_futex, uaddr, op, val, val2, uaddr2, val3);
}

/* wake_op applies op to a second word holding old and returns its new
 * value. */
static uint32_t wake_op(uint32_t old, int op)
{
	uint32_t f = 0, f2 = old;
	if (futex(&f, FUTEX_WAKE_OP, 0, 0, &f2, op) != 0)
		return 0xdeadbeef;
	return f2;
}

TEST(wake_op_arithmetic)
{
	CHECK_EQ(wake_op(5, FUTEX_OP(FUTEX_OP_SET, 9, FUTEX_OP_CMP_EQ, 0)), 9);
	CHECK_EQ(wake_op(5, FUTEX_OP(FUTEX_OP_ADD, 9, FUTEX_OP_CMP_EQ, 0)), 14);
	CHECK_EQ(wake_op(5, FUTEX_OP(FUTEX_OP_OR, 8, FUTEX_OP_CMP_EQ, 0)), 13);
	CHECK_EQ(wake_op(7, FUTEX_OP(FUTEX_OP_ANDN, 2, FUTEX_OP_CMP_EQ, 0)), 5);
	CHECK_EQ(wake_op(7, FUTEX_OP(FUTEX_OP_XOR, 5, FUTEX_OP_CMP_EQ, 0)), 2);
}

TEST(wake_op_shifted_argument)
{
	/* FUTEX_OP_OPARG_SHIFT: the argument is 1 << oparg. */
	CHECK_EQ(wake_op(0, FUTEX_OP((FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT), 4, FUTEX_OP_CMP_EQ, 0)), 16);
	CHECK_EQ(wake_op(0, FUTEX_OP((FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT), 31, FUTEX_OP_CMP_EQ, 0)), 1u << 31);
}

TEST(wake_op_bad_op_enosys)
{
	uint32_t f = 0, f2 = 3;
	CHECK_ERR(futex(&f, FUTEX_WAKE_OP, 0, 0, &f2, FUTEX_OP(6, 1, FUTEX_OP_CMP_EQ, 0)), ENOSYS);
	CHECK_ERR(futex(&f, FUTEX_WAKE_OP, 0, 0, &f2, FUTEX_OP(FUTEX_OP_SET, 1, 6, 0)), ENOSYS);
	CHECK_ERR(futex(&f, FUTEX_WAKE_OP, 0, 0, (uint32_t *)8, FUTEX_OP(FUTEX_OP_SET, 1, 0, 0)), EFAULT);
}

static volatile pid_t waiter_tid;

static void *wait_on(void *arg)
{
	waiter_tid = gettid();
	return (void *)futex(arg, FUTEX_WAIT, 0, 0, NULL, 0);
}

/* sleeping waits until the waiter thread sleeps in the kernel, and a
 * little more: asleep in the system call is not yet queued. */
static void sleeping(void)
{
	while (waiter_tid == 0)
		usleep(1000);
	lt_wait_sleeping(getpid(), waiter_tid);
	usleep(20000);
	waiter_tid = 0;
}

/* cmp_wakes reports whether FUTEX_WAKE_OP's comparison of old with arg woke
 * a waiter on the second word. */
static int cmp_wakes(uint32_t old, int cmp, int arg)
{
	static uint32_t f, f2;
	f2 = 0;
	pthread_t th;
	if (pthread_create(&th, NULL, wait_on, &f2) != 0)
		ABORT("pthread_create");
	sleeping();
	f2 = old; /* the waiter sleeps; a new value does not wake it */
	long n = futex(&f, FUTEX_WAKE_OP, 1, 1, &f2, FUTEX_OP(FUTEX_OP_ADD, 0, cmp, arg));
	if (n == 0)
		futex(&f2, FUTEX_WAKE, 1, 0, NULL, 0);
	pthread_join(th, NULL);
	return (int)n;
}

TEST(wake_op_comparisons)
{
	CHECK_EQ(cmp_wakes(3, FUTEX_OP_CMP_EQ, 3), 1);
	CHECK_EQ(cmp_wakes(3, FUTEX_OP_CMP_EQ, 4), 0);
	CHECK_EQ(cmp_wakes(3, FUTEX_OP_CMP_NE, 4), 1);
	CHECK_EQ(cmp_wakes(3, FUTEX_OP_CMP_LT, 4), 1);
	CHECK_EQ(cmp_wakes(4, FUTEX_OP_CMP_LT, 4), 0);
	CHECK_EQ(cmp_wakes(4, FUTEX_OP_CMP_LE, 4), 1);
	CHECK_EQ(cmp_wakes(5, FUTEX_OP_CMP_GT, 4), 1);
	CHECK_EQ(cmp_wakes(4, FUTEX_OP_CMP_GE, 4), 1);
	CHECK_EQ(cmp_wakes(3, FUTEX_OP_CMP_GE, 4), 0);
}

struct waitv {
	uint64_t val;
	uint64_t uaddr;
	uint32_t flags;
	uint32_t reserved;
};

#define FUTEX2_SIZE_U32 0x02
#define FUTEX2_PRIVATE 128

static long waitv(struct waitv *w, unsigned n, unsigned flags, struct timespec *ts, clockid_t clk)
{
	return syscall(SYS_futex_waitv, w, n, flags, ts, clk);
}

static void set_entry(struct waitv *w, uint32_t *addr, uint32_t val)
{
	w->val = val;
	w->uaddr = (uintptr_t)addr;
	w->flags = FUTEX2_SIZE_U32 | FUTEX2_PRIVATE;
	w->reserved = 0;
}

TEST(waitv_value_mismatch_eagain)
{
	uint32_t a = 1, b = 2;
	struct waitv w[2];
	set_entry(&w[0], &a, 1);
	set_entry(&w[1], &b, 3);
	CHECK_ERR(waitv(w, 2, 0, NULL, CLOCK_MONOTONIC), EAGAIN);
}

static struct timespec abs_in(clockid_t clk, int ms)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	ts.tv_nsec += (long)ms * 1000000;
	ts.tv_sec += ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	return ts;
}

TEST(waitv_timeout_both_clocks)
{
	uint32_t a = 0;
	struct waitv w;
	set_entry(&w, &a, 0);
	struct timespec ts = abs_in(CLOCK_MONOTONIC, 20);
	CHECK_ERR(waitv(&w, 1, 0, &ts, CLOCK_MONOTONIC), ETIMEDOUT);
	ts = abs_in(CLOCK_REALTIME, 20);
	CHECK_ERR(waitv(&w, 1, 0, &ts, CLOCK_REALTIME), ETIMEDOUT);
}

TEST(waitv_einval)
{
	uint32_t a = 0;
	struct waitv w;
	set_entry(&w, &a, 0);
	struct timespec ts = abs_in(CLOCK_MONOTONIC, 10);
	CHECK_ERR(waitv(&w, 1, 1, &ts, CLOCK_MONOTONIC), EINVAL);
	CHECK_ERR(waitv(&w, 0, 0, &ts, CLOCK_MONOTONIC), EINVAL);
	static struct waitv many[129];
	CHECK_ERR(waitv(many, 129, 0, &ts, CLOCK_MONOTONIC), EINVAL);
	CHECK_ERR(waitv(NULL, 1, 0, &ts, CLOCK_MONOTONIC), EINVAL);
	CHECK_ERR(waitv(&w, 1, 0, &ts, CLOCK_BOOTTIME), EINVAL);
	w.flags = 0x03; /* 64-bit words do not exist */
	CHECK_ERR(waitv(&w, 1, 0, &ts, CLOCK_MONOTONIC), EINVAL);
	w.flags = FUTEX2_SIZE_U32 | 0x1000;
	CHECK_ERR(waitv(&w, 1, 0, &ts, CLOCK_MONOTONIC), EINVAL);
	set_entry(&w, &a, 0);
	w.reserved = 1;
	CHECK_ERR(waitv(&w, 1, 0, &ts, CLOCK_MONOTONIC), EINVAL);
	set_entry(&w, &a, 0);
	w.val = 1ULL << 32;
	CHECK_ERR(waitv(&w, 1, 0, &ts, CLOCK_MONOTONIC), EINVAL);
	set_entry(&w, (uint32_t *)((char *)&a + 1), 0);
	CHECK_ERR(waitv(&w, 1, 0, &ts, CLOCK_MONOTONIC), EINVAL);
	CHECK_ERR(waitv((struct waitv *)8, 1, 0, &ts, CLOCK_MONOTONIC), EFAULT);
}

static uint32_t words[3];

static void *waitv_thread(void *arg)
{
	(void)arg;
	waiter_tid = gettid();
	struct waitv w[3];
	for (int i = 0; i < 3; i++)
		set_entry(&w[i], &words[i], 0);
	return (void *)waitv(w, 3, 0, NULL, 0);
}

TEST(waitv_returns_woken_index)
{
	pthread_t th;
	REQUIRE_EQ(pthread_create(&th, NULL, waitv_thread, NULL), 0);
	sleeping();
	CHECK_EQ(futex(&words[0], FUTEX_WAKE_PRIVATE, 1, 0, NULL, 0), 1);
	void *r;
	pthread_join(th, &r);
	CHECK_EQ((long)r, 0);
}

TEST(waitv_woken_once)
{
	pthread_t th;
	REQUIRE_EQ(pthread_create(&th, NULL, waitv_thread, NULL), 0);
	sleeping();
	/* One wake of the third word wakes the waiter; it is then gone from
	 * the other words' queues. */
	CHECK_EQ(futex(&words[2], FUTEX_WAKE_PRIVATE, 1, 0, NULL, 0), 1);
	void *r;
	pthread_join(th, &r);
	CHECK_EQ((long)r, 2);
	CHECK_EQ(futex(&words[0], FUTEX_WAKE_PRIVATE, 1, 0, NULL, 0), 0);
	CHECK_EQ(futex(&words[1], FUTEX_WAKE_PRIVATE, 1, 0, NULL, 0), 0);
}

TEST(waitv_shared_across_fork)
{
	uint32_t *w2 = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE(w2 != MAP_FAILED);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		struct waitv w[2];
		for (int i = 0; i < 2; i++) {
			set_entry(&w[i], &w2[i], 0);
			w[i].flags = FUTEX2_SIZE_U32; /* shared */
		}
		_exit((int)waitv(w, 2, 0, NULL, 0));
	}
	long n = 0;
	for (int i = 0; i < 5000 && n == 0; i++) {
		n = futex(&w2[1], FUTEX_WAKE, 1, 0, NULL, 0);
		if (n == 0)
			usleep(1000);
	}
	CHECK_EQ(n, 1);
	CHECK_EQ(lt_wait_exit(pid), 1);
}
