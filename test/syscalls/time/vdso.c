/* The vDSO: present in the auxiliary vector, a valid ELF image that
 * exports the time functions, and agreeing with the system calls. */
#include "lt.h"

#include <elf.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

static const Elf64_Ehdr *vdso(void)
{
	return (const Elf64_Ehdr *)getauxval(AT_SYSINFO_EHDR);
}

/* vdso_sym finds a dynamic symbol of the vDSO by name. */
static void *vdso_sym(const char *name)
{
	const Elf64_Ehdr *eh = vdso();
	if (eh == NULL)
		return NULL;
	const char *base = (const char *)eh;
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(base + eh->e_phoff);
	uintptr_t load = 0;
	const Elf64_Dyn *dyn = NULL;
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && load == 0)
			load = (uintptr_t)base + ph[i].p_offset - ph[i].p_vaddr;
		if (ph[i].p_type == PT_DYNAMIC)
			dyn = (const Elf64_Dyn *)(base + ph[i].p_offset);
	}
	if (dyn == NULL)
		return NULL;
	const Elf64_Sym *symtab = NULL;
	const char *strtab = NULL;
	const uint32_t *hash = NULL;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		if (dyn->d_tag == DT_SYMTAB)
			symtab = (const Elf64_Sym *)(load + dyn->d_un.d_ptr);
		if (dyn->d_tag == DT_STRTAB)
			strtab = (const char *)(load + dyn->d_un.d_ptr);
		if (dyn->d_tag == DT_HASH)
			hash = (const uint32_t *)(load + dyn->d_un.d_ptr);
	}
	if (symtab == NULL || strtab == NULL || hash == NULL)
		return NULL;
	uint32_t nsyms = hash[1];
	for (uint32_t i = 0; i < nsyms; i++) {
		if (symtab[i].st_shndx != SHN_UNDEF && strcmp(strtab + symtab[i].st_name, name) == 0)
			return (void *)(load + symtab[i].st_value);
	}
	return NULL;
}

typedef int (*gettime_fn)(clockid_t, struct timespec *);
typedef int (*gettimeofday_fn)(struct timeval *, void *);
typedef time_t (*time_fn)(time_t *);

static int64_t ns(struct timespec ts)
{
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

TEST(auxv_sysinfo_ehdr_present)
{
	CHECK_NE(getauxval(AT_SYSINFO_EHDR), 0);
}

TEST(is_an_elf_shared_object)
{
	const Elf64_Ehdr *eh = vdso();
	REQUIRE(eh != NULL);
	CHECK_MEMEQ(eh->e_ident, ELFMAG, SELFMAG);
	CHECK_EQ(eh->e_ident[EI_CLASS], ELFCLASS64);
	CHECK_EQ(eh->e_type, ET_DYN);
	CHECK_EQ(eh->e_machine, EM_X86_64);
	CHECK_EQ((uintptr_t)eh % 4096, 0);
}

TEST(exports_time_functions)
{
	CHECK(vdso_sym("__vdso_clock_gettime") != NULL);
	CHECK(vdso_sym("__vdso_gettimeofday") != NULL);
	CHECK(vdso_sym("__vdso_time") != NULL);
	CHECK(vdso_sym("__vdso_clock_getres") != NULL);
}

/*
 * The vDSO and the system call read one clock, as Linux's both read the
 * kernel's timekeeper: a vDSO read after a system call read is never
 * smaller, nor a system call read after a vDSO read. Round after round for
 * over a second, so that the reads span updates of the sandbox's clock
 * parameters.
 */
TEST(clock_gettime_agrees_with_syscall)
{
	gettime_fn fn = (gettime_fn)vdso_sym("__vdso_clock_gettime");
	REQUIRE(fn != NULL);
	clockid_t ids[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME,
			   CLOCK_MONOTONIC_RAW};
	struct timespec start, now;
	REQUIRE_OK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &start));
	long rounds = 0;
	do {
		for (int i = 0; i < 4; i++) {
			struct timespec a, b, c, d;
			REQUIRE_OK(syscall(SYS_clock_gettime, ids[i], &a));
			REQUIRE_EQ(fn(ids[i], &b), 0);
			REQUIRE_OK(syscall(SYS_clock_gettime, ids[i], &c));
			REQUIRE_EQ(fn(ids[i], &d), 0);
			if (ns(a) > ns(b) || ns(b) > ns(c) || ns(c) > ns(d)) {
				FAIL("round %ld, clock %d: syscall %lld, vdso %+lld, syscall %+lld, vdso %+lld",
				     rounds, ids[i], (long long)ns(a), (long long)(ns(b) - ns(a)),
				     (long long)(ns(c) - ns(a)), (long long)(ns(d) - ns(a)));
				return;
			}
		}
		rounds++;
		REQUIRE_OK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &now));
		/*
		 * Long enough to span updates of the clock's parameters, and many
		 * rounds; bounded for a loaded machine, where each system call
		 * may wait for a CPU.
		 */
	} while ((ns(now) - ns(start) < 1200000000LL || rounds < 1000) &&
		 ns(now) - ns(start) < 8000000000LL);
}

TEST(coarse_clocks_agree)
{
	gettime_fn fn = (gettime_fn)vdso_sym("__vdso_clock_gettime");
	REQUIRE(fn != NULL);
	struct timespec a, b;
	REQUIRE_EQ(fn(CLOCK_MONOTONIC_COARSE, &a), 0);
	REQUIRE_OK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &b));
	CHECK_LE(ns(a), ns(b));
	CHECK_LT(ns(b) - ns(a), 1000000000);
}

TEST(cpu_clocks_through_vdso_fall_back)
{
	gettime_fn fn = (gettime_fn)vdso_sym("__vdso_clock_gettime");
	REQUIRE(fn != NULL);
	struct timespec ts = {-1, -1};
	CHECK_EQ(fn(CLOCK_PROCESS_CPUTIME_ID, &ts), 0);
	CHECK_GE(ts.tv_sec, 0);
	CHECK_EQ(fn(12345, &ts), -EINVAL);
}

TEST(gettimeofday_agrees)
{
	gettimeofday_fn fn = (gettimeofday_fn)vdso_sym("__vdso_gettimeofday");
	REQUIRE(fn != NULL);
	struct timespec a, c;
	struct timeval tv;
	REQUIRE_OK(syscall(SYS_clock_gettime, CLOCK_REALTIME, &a));
	REQUIRE_EQ(fn(&tv, NULL), 0);
	REQUIRE_OK(syscall(SYS_clock_gettime, CLOCK_REALTIME, &c));
	int64_t us = tv.tv_sec * 1000000LL + tv.tv_usec;
	CHECK_GE(us, ns(a) / 1000); /* one clock, as above */
	CHECK_LE(us, ns(c) / 1000);
}

TEST(time_agrees)
{
	time_fn fn = (time_fn)vdso_sym("__vdso_time");
	REQUIRE(fn != NULL);
	time_t a = syscall(SYS_time, NULL), t = 0;
	time_t b = fn(&t);
	time_t c = syscall(SYS_time, NULL);
	CHECK_EQ(b, t);
	CHECK_GE(b, a);
	CHECK_LE(b, c);
}

TEST(getres_agrees)
{
	gettime_fn fn = (gettime_fn)vdso_sym("__vdso_clock_getres");
	REQUIRE(fn != NULL);
	struct timespec a, b;
	REQUIRE_EQ(fn(CLOCK_MONOTONIC, &a), 0);
	REQUIRE_OK(syscall(SYS_clock_getres, CLOCK_MONOTONIC, &b));
	CHECK_EQ(a.tv_sec, b.tv_sec);
	CHECK_EQ(a.tv_nsec, b.tv_nsec);
}

TEST(vdso_monotonic_never_goes_back)
{
	gettime_fn fn = (gettime_fn)vdso_sym("__vdso_clock_gettime");
	REQUIRE(fn != NULL);
	struct timespec ts;
	fn(CLOCK_MONOTONIC, &ts);
	int64_t start = ns(ts), prev = start;
	/* For over a second: across updates of the clock parameters. */
	for (long i = 0; i < 100000 || prev - start < 1200000000LL; i++) {
		fn(CLOCK_MONOTONIC, &ts);
		if (ns(ts) < prev) {
			FAIL("went back at %ld: %lld < %lld", i, (long long)ns(ts), (long long)prev);
			break;
		}
		prev = ns(ts);
	}
}

TEST(vdso_mapping_in_maps)
{
	FILE *f = fopen("/proc/self/maps", "r");
	REQUIRE(f != NULL);
	char line[512];
	int found = 0;
	uintptr_t want = (uintptr_t)vdso();
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "[vdso]")) {
			found = 1;
			CHECK_EQ(strtoull(line, NULL, 16), want);
		}
	}
	fclose(f);
	CHECK_EQ(found, 1);
}

TEST(vdso_survives_fork)
{
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		gettime_fn fn = (gettime_fn)vdso_sym("__vdso_clock_gettime");
		struct timespec ts;
		_exit(fn != NULL && fn(CLOCK_MONOTONIC, &ts) == 0 ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
}
