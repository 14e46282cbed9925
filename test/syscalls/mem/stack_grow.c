/*
 * Growth of the main thread's stack: faults below [stack] grow it, up to
 * RLIMIT_STACK, and never within the stack guard gap (256 pages) of an
 * accessible mapping below it. Each case runs in a child that overflows its
 * stack and reports the SIGSEGV from an alternate signal stack.
 */
#include "lt.h"
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define GUARD_GAP (256UL * 4096)

static char altstack[64 * 1024];
static volatile uintptr_t fault_addr;

/* Each frame takes a little more than a page; returns its depth reached. */
static int descend(volatile char *p, int n)
{
	volatile char buf[4096];
	buf[0] = *p;
	if (n == 0)
		return buf[0];
	return descend(buf, n - 1) + buf[1];
}

/* The SIGSEGV handler exits with 40 + si_code after checking the address. */
static uintptr_t want_lo, want_hi;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	uintptr_t a = (uintptr_t)si->si_addr;
	if (a < want_lo || a >= want_hi)
		_exit(3);
	_exit(40 + si->si_code);
}

static void catch_on_altstack(uintptr_t lo, uintptr_t hi)
{
	want_lo = lo;
	want_hi = hi;
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
	if (sigaltstack(&ss, NULL) < 0)
		_exit(4);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	if (sigaction(SIGSEGV, &sa, NULL) < 0)
		_exit(5);
}

static void set_stack_limit(rlim_t cur)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_STACK, &rl) < 0)
		_exit(6);
	rl.rlim_cur = cur;
	if (setrlimit(RLIMIT_STACK, &rl) < 0)
		_exit(7);
}

/* stack_vma finds [stack] in /proc/self/maps. */
static void stack_vma(uintptr_t *start, uintptr_t *end)
{
	FILE *f = fopen("/proc/self/maps", "r");
	if (f == NULL)
		_exit(8);
	char line[512];
	*start = *end = 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "[stack]"))
			sscanf(line, "%lx-%lx", start, end);
	fclose(f);
	if (*start == 0)
		_exit(9);
}

TEST(grows_within_limit)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		set_stack_limit(32 << 20);
		catch_on_altstack(0, 0);
		descend(&(char){0}, 4000); /* about 16 MB */
		uintptr_t start, end;
		stack_vma(&start, &end);
		_exit(end - start >= 16000000 && end - start <= (32 << 20) ? 0 : 10);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(limit_stops_growth_maperr)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		uintptr_t start, end;
		stack_vma(&start, &end);
		set_stack_limit(2 << 20);
		/* The fault that would make the stack larger than the limit. */
		catch_on_altstack(end - (2 << 20) - 8192, end - (2 << 20));
		descend(&(char){0}, 1000); /* about 4 MiB */
		_exit(0);
	}
	CHECK_EQ(lt_wait_exit(pid), 40 + SEGV_MAPERR);
}

TEST(lowered_limit_below_size_stops_next_growth)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		descend(&(char){0}, 600); /* grow past 2 MiB */
		uintptr_t start, end;
		stack_vma(&start, &end);
		if (end - start < (2 << 20))
			_exit(10);
		set_stack_limit(1 << 20);
		catch_on_altstack(start - 8192, start);
		descend(&(char){0}, 1000);
		_exit(0);
	}
	CHECK_EQ(lt_wait_exit(pid), 40 + SEGV_MAPERR);
}

TEST(overflow_without_handler_kills)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		set_stack_limit(1 << 20);
		descend(&(char){0}, 1000);
		_exit(0);
	}
	CHECK_EQ(lt_wait_exit(pid), 128 + SIGSEGV);
}

/*
 * overflow_towards runs in a child: it maps len bytes with prot 3 MiB below
 * the stack and overflows the stack towards them, catching the SIGSEGV
 * between lo and hi, offsets from the mapping's end.
 */
static void overflow_towards(int prot, size_t len, intptr_t lo, intptr_t hi)
{
	uintptr_t start, end;
	stack_vma(&start, &end);
	set_stack_limit(64 << 20);
	uintptr_t below = start - (3 << 20);
	void *m = mmap((void *)below, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (m != (void *)below)
		_exit(11);
	catch_on_altstack(below + len + lo, below + len + hi);
	descend(&(char){0}, 2000); /* about 8 MiB */
	_exit(0);
}

TEST(guard_gap_below_accessible_mapping)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		overflow_towards(PROT_READ, 4096, GUARD_GAP - 8192, GUARD_GAP);
	CHECK_EQ(lt_wait_exit(pid), 40 + SEGV_MAPERR);
}

TEST(no_gap_below_prot_none_mapping)
{
	pid_t pid = REQUIRE_OK(fork());
	/* Two pages: a frame's accesses can step over one. */
	if (pid == 0)
		overflow_towards(PROT_NONE, 8192, -8192, 0);
	CHECK_EQ(lt_wait_exit(pid), 40 + SEGV_ACCERR);
}

TEST(access_far_below_stack_is_not_growth)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		uintptr_t start, end;
		stack_vma(&start, &end);
		set_stack_limit(8 << 20);
		uintptr_t far = end - (16 << 20);
		catch_on_altstack(far, far + 1);
		*(volatile char *)far = 1;
		_exit(0);
	}
	CHECK_EQ(lt_wait_exit(pid), 40 + SEGV_MAPERR);
}
