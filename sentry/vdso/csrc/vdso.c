// The guest's vDSO: clock_gettime, gettimeofday and time computed from the
// TSC and the parameters the sentry publishes in the data page mapped just
// below this image, so the common clocks never trap into the sentry. Other
// clocks, and every call before the sentry has calibrated the TSC, make the
// real system call.
//
// Built by ../gen.sh; the generated image is committed in ../vdso_image.go.

#include <stdint.h>

struct timespec64 { int64_t sec, nsec; };
struct timeval64 { int64_t sec, usec; };

// params is the layout of the data page (struct params in ../params.go).
// Every field is volatile: all must be read inside the seqlock window.
struct params {
	uint64_t seq;            // odd while the sentry updates the page
	uint64_t ready;          // 1 once the TSC is calibrated
	uint64_t tsc_base;       // TSC at the sample below
	uint64_t mono_ns;        // CLOCK_MONOTONIC at tsc_base
	uint64_t real_ns;        // CLOCK_REALTIME at tsc_base
	uint64_t boot_ns;        // CLOCK_BOOTTIME at tsc_base
	uint64_t mult;           // ns = (tsc - tsc_base) * mult >> shift
	uint64_t shift;
};

extern const char __ehdr_start[] __attribute__((visibility("hidden")));

static inline const volatile struct params *params(void) {
	return (const volatile struct params *)(__ehdr_start - 4096);
}

#define barrier() __asm__ __volatile__("" ::: "memory")

static inline uint64_t rdtsc(void) {
	uint32_t lo, hi;
	__asm__ __volatile__("lfence; rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static long sys(long nr, long a, long b) {
	long ret;
	__asm__ __volatile__("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
	return ret;
}

enum { CLK_REALTIME = 0, CLK_MONOTONIC = 1, CLK_MONOTONIC_RAW = 4, CLK_REALTIME_COARSE = 5,
       CLK_MONOTONIC_COARSE = 6, CLK_BOOTTIME = 7 };
enum { SYS_gettimeofday = 96, SYS_time = 201, SYS_clock_gettime = 228, SYS_clock_getres = 229, SYS_getcpu = 309 };

// now returns the clock's time in ns, or 0 when the caller must trap. The
// sentry reads the same page the same way (params.go) for the clocks it
// serves, so a time read here and one read through a system call are one
// clock. CLOCK_MONOTONIC_RAW is CLOCK_MONOTONIC, as in the sentry: the
// sandbox has no separate unslewed clock.
static uint64_t now(long clk) {
	const volatile struct params *p = params();
	uint64_t seq, base, ns, delta;
	do {
		seq = p->seq;
		barrier();
		if (seq & 1)
			continue;
		if (!p->ready)
			return 0;
		switch (clk) {
		case CLK_REALTIME:
		case CLK_REALTIME_COARSE:
			base = p->real_ns;
			break;
		case CLK_MONOTONIC:
		case CLK_MONOTONIC_COARSE:
		case CLK_MONOTONIC_RAW:
			base = p->mono_ns;
			break;
		case CLK_BOOTTIME:
			base = p->boot_ns;
			break;
		default:
			return 0;
		}
		uint64_t tsc = rdtsc();
		delta = tsc > p->tsc_base ? tsc - p->tsc_base : 0;
		ns = base + (uint64_t)(((unsigned __int128)delta * p->mult) >> p->shift);
		barrier();
	} while (seq != p->seq || (seq & 1));
	return ns;
}

int __vdso_clock_gettime(long clk, struct timespec64 *ts) {
	uint64_t ns = now(clk);
	if (!ns)
		return (int)sys(SYS_clock_gettime, clk, (long)ts);
	ts->sec = (int64_t)(ns / 1000000000);
	ts->nsec = (int64_t)(ns % 1000000000);
	return 0;
}

int __vdso_gettimeofday(struct timeval64 *tv, void *tz) {
	uint64_t ns = tz ? 0 : now(CLK_REALTIME);
	if (!ns)
		return (int)sys(SYS_gettimeofday, (long)tv, (long)tz);
	if (tv) {
		tv->sec = (int64_t)(ns / 1000000000);
		tv->usec = (int64_t)(ns % 1000000000 / 1000);
	}
	return 0;
}

long __vdso_time(long *t) {
	uint64_t ns = now(CLK_REALTIME);
	if (!ns)
		return sys(SYS_time, (long)t, 0);
	long s = (long)(ns / 1000000000);
	if (t)
		*t = s;
	return s;
}

int __vdso_clock_getres(long clk, struct timespec64 *ts) {
	return (int)sys(SYS_clock_getres, clk, (long)ts);
}

int __vdso_getcpu(unsigned *cpu, unsigned *node, void *cache) {
	return (int)sys(SYS_getcpu, (long)cpu, (long)node);
}

int clock_gettime(long, struct timespec64 *) __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct timeval64 *, void *) __attribute__((weak, alias("__vdso_gettimeofday")));
long time(long *) __attribute__((weak, alias("__vdso_time")));
int clock_getres(long, struct timespec64 *) __attribute__((weak, alias("__vdso_clock_getres")));
int getcpu(unsigned *, unsigned *, void *) __attribute__((weak, alias("__vdso_getcpu")));
