/*
 * ltmem.h: helpers for conformance cases that touch memory which may fault
 * (test/syscalls/mem and friends). Include after lt.h.
 */
#ifndef LTMEM_H
#define LTMEM_H

#include <setjmp.h>
#include <sys/mman.h>

static sigjmp_buf ltm_jump;
static volatile int ltm_code;
static void *volatile ltm_addr;

static void ltm_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	ltm_code = si->si_code;
	ltm_addr = si->si_addr;
	siglongjmp(ltm_jump, sig);
}

/*
 * lt_probe reads (or, with write, writes 1 to) *p and returns 0, or the
 * signal the access raised (SIGSEGV or SIGBUS). lt_fault_code and
 * lt_fault_addr then say what the kernel reported in siginfo.
 */
static int lt_probe(volatile char *p, int write)
{
	struct sigaction sa, osegv, obus;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = ltm_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, &osegv);
	sigaction(SIGBUS, &sa, &obus);
	ltm_code = 0;
	ltm_addr = NULL;
	int sig = sigsetjmp(ltm_jump, 1);
	if (sig == 0) {
		if (write)
			*p = 1;
		else
			(void)*p;
	}
	sigaction(SIGSEGV, &osegv, NULL);
	sigaction(SIGBUS, &obus, NULL);
	return sig;
}

/* REQUIRE_MAP / CHECK_MAP: REQUIRE_OK / CHECK_OK for calls returning a pointer. */
#define REQUIRE_MAP(expr) ((char *)LT_OK(1, expr))
#define CHECK_MAP(expr) ((char *)LT_OK(0, expr))

#define lt_fault_code() ((int)ltm_code)
#define lt_fault_addr() ((void *)ltm_addr)

/* lt_map_anon maps n private anonymous read-write pages, or ends the case. */
static inline char *lt_map_anon(size_t n)
{
	void *p = mmap(NULL, n * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		ABORT("mmap %zu pages: %s", n, strerror(errno));
	return p;
}

/*
 * lt_file_of makes a scratch file called name holding n pages, page i filled
 * with the byte 'a'+i, and returns it opened with flags.
 */
static inline int lt_file_of(const char *name, size_t n, int flags)
{
	int fd = open(lt_path(name), O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		ABORT("create %s: %s", name, strerror(errno));
	char page[4096];
	for (size_t i = 0; i < n; i++) {
		memset(page, 'a' + (int)i, sizeof(page));
		if (write(fd, page, sizeof(page)) != (ssize_t)sizeof(page))
			ABORT("write %s: %s", name, strerror(errno));
	}
	close(fd);
	fd = open(lt_path(name), flags);
	if (fd < 0)
		ABORT("open %s: %s", name, strerror(errno));
	return fd;
}

/*
 * lt_vmas counts the /proc/self/maps entries that intersect [start, end); if
 * perms is not NULL it gets the permissions ("rw-p") of the first of them.
 */
static inline int lt_vmas(const void *start, const void *end, char *perms)
{
	FILE *f = fopen("/proc/self/maps", "r");
	if (f == NULL)
		ABORT("open /proc/self/maps: %s", strerror(errno));
	char line[512], p[8];
	unsigned long lo, hi;
	int n = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, p) != 3)
			continue;
		if (lo < (unsigned long)end && hi > (unsigned long)start) {
			if (n++ == 0 && perms != NULL)
				strcpy(perms, p);
		}
	}
	fclose(f);
	return n;
}

#endif /* LTMEM_H */
