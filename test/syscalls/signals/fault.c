/* Synchronous fault signals: SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP,
 * their siginfo (si_code, si_addr) and what blocking or ignoring does. */
#include "lt.h"

#include <setjmp.h>
#include <stdint.h>
#include <sys/mman.h>
#include <ucontext.h>

static sigjmp_buf jb;
static volatile int got_sig, got_code;
static void *volatile got_addr;
static volatile uintptr_t got_rip;

static void fault_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	got_sig = si->si_signo;
	got_code = si->si_code;
	got_addr = si->si_addr;
	got_rip = uc->uc_mcontext.gregs[REG_RIP];
	siglongjmp(jb, 1);
}

static void catch(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fault_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

TEST(segv_unmapped_maperr)
{
	catch(SIGSEGV);
	char *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(p != MAP_FAILED);
	REQUIRE_OK(munmap(p, 4096));
	if (sigsetjmp(jb, 1) == 0) {
		*(volatile char *)(p + 123) = 1;
		FAIL("no fault");
	}
	CHECK_EQ(got_sig, SIGSEGV);
	CHECK_EQ(got_code, SEGV_MAPERR);
	CHECK_EQ(got_addr, p + 123);
}

TEST(segv_readonly_accerr)
{
	catch(SIGSEGV);
	char *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(p != MAP_FAILED);
	if (sigsetjmp(jb, 1) == 0) {
		*(volatile char *)(p + 8) = 1;
		FAIL("no fault");
	}
	CHECK_EQ(got_sig, SIGSEGV);
	CHECK_EQ(got_code, SEGV_ACCERR);
	CHECK_EQ(got_addr, p + 8);
}

TEST(segv_prot_none_accerr)
{
	catch(SIGSEGV);
	char *p = mmap(NULL, 8192, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(p != MAP_FAILED);
	if (sigsetjmp(jb, 1) == 0) {
		(void)*(volatile char *)(p + 4096);
		FAIL("no fault");
	}
	CHECK_EQ(got_code, SEGV_ACCERR);
	CHECK_EQ(got_addr, p + 4096);
}

TEST(segv_null_read)
{
	catch(SIGSEGV);
	if (sigsetjmp(jb, 1) == 0) {
		(void)*(volatile int *)16;
		FAIL("no fault");
	}
	CHECK_EQ(got_code, SEGV_MAPERR);
	CHECK_EQ(got_addr, (void *)16);
}

TEST(bus_beyond_file_end)
{
	catch(SIGBUS);
	int fd = REQUIRE_OK(open(lt_path("f"), O_RDWR | O_CREAT, 0600));
	REQUIRE_OK(ftruncate(fd, 100));
	char *p = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
	REQUIRE(p != MAP_FAILED);
	CHECK_EQ(p[99], 0);
	if (sigsetjmp(jb, 1) == 0) {
		(void)*(volatile char *)(p + 4096);
		FAIL("no fault");
	}
	CHECK_EQ(got_sig, SIGBUS);
	CHECK_EQ(got_code, BUS_ADRERR);
	CHECK_EQ(got_addr, p + 4096);
}

static volatile int zero;

TEST(fpe_integer_divide)
{
	catch(SIGFPE);
	if (sigsetjmp(jb, 1) == 0) {
		int q;
		__asm__ volatile("cltd\n\tidivl %2" : "=a"(q) : "a"(1), "r"(zero) : "edx");
		FAIL("no fault (%d)", q);
	}
	CHECK_EQ(got_sig, SIGFPE);
	CHECK_EQ(got_code, FPE_INTDIV);
	/* si_addr is the faulting instruction. */
	CHECK_EQ((uintptr_t)got_addr, got_rip);
}

TEST(ill_ud2)
{
	catch(SIGILL);
	if (sigsetjmp(jb, 1) == 0) {
		__asm__ volatile("ud2");
		FAIL("no fault");
	}
	CHECK_EQ(got_sig, SIGILL);
	CHECK_EQ(got_code, ILL_ILLOPN);
	CHECK_EQ((uintptr_t)got_addr, got_rip);
	CHECK_EQ(*(unsigned short *)got_rip, 0x0b0f);
}

TEST(trap_int3)
{
	catch(SIGTRAP);
	if (sigsetjmp(jb, 1) == 0) {
		__asm__ volatile("int3");
		FAIL("no trap");
	}
	CHECK_EQ(got_sig, SIGTRAP);
	CHECK_EQ(got_code, SI_KERNEL);
	/* The saved RIP is after the int3. */
	CHECK_EQ(*(unsigned char *)(got_rip - 1), 0xcc);
}

TEST(rip_points_at_faulting_instruction)
{
	catch(SIGSEGV);
	if (sigsetjmp(jb, 1) == 0) {
		__asm__ volatile("movq $0x1000, %%rax\n\tmovb $1, (%%rax)" ::: "rax", "memory");
		FAIL("no fault");
	}
	/* movb $1,(%rax) is c6 00 01. */
	CHECK_EQ(((unsigned char *)got_rip)[0], 0xc6);
	CHECK_EQ(((unsigned char *)got_rip)[1], 0x00);
	CHECK_EQ(got_addr, (void *)0x1000);
}

static int child_status(void (*fn)(void))
{
	pid_t pid = fork();
	if (pid == 0) {
		fn();
		_exit(0);
	}
	return lt_wait_exit(pid);
}

static void blocked_segv(void)
{
	catch(SIGSEGV);
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGSEGV);
	sigprocmask(SIG_BLOCK, &s, NULL);
	(void)*(volatile int *)8;
}

static void ignored_segv(void)
{
	signal(SIGSEGV, SIG_IGN);
	(void)*(volatile int *)8;
}

TEST(blocked_fault_kills)
{
	CHECK_EQ(child_status(blocked_segv), 128 + SIGSEGV);
}

TEST(ignored_fault_kills)
{
	CHECK_EQ(child_status(ignored_segv), 128 + SIGSEGV);
}

TEST(siglongjmp_restores_mask)
{
	catch(SIGSEGV);
	if (sigsetjmp(jb, 1) == 0)
		(void)*(volatile int *)8;
	sigset_t cur;
	sigprocmask(SIG_SETMASK, NULL, &cur);
	CHECK_EQ(sigismember(&cur, SIGSEGV), 0);
	/* A second fault is caught again. */
	got_sig = 0;
	if (sigsetjmp(jb, 1) == 0)
		(void)*(volatile int *)8;
	CHECK_EQ(got_sig, SIGSEGV);
}

TEST(kill_segv_is_si_user)
{
	catch(SIGSEGV);
	if (sigsetjmp(jb, 1) == 0) {
		kill(getpid(), SIGSEGV);
		FAIL("no signal");
	}
	CHECK_EQ(got_code, SI_USER);
}

static void *volatile fixed_page;
static void fixing_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	/* Make the page writable and return: the access is retried. */
	mprotect((void *)((uintptr_t)si->si_addr & ~4095UL), 4096, PROT_READ | PROT_WRITE);
	got_sig++;
}

TEST(handler_fixes_fault_and_returns)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fixing_handler;
	sa.sa_flags = SA_SIGINFO;
	REQUIRE_OK(sigaction(SIGSEGV, &sa, NULL));
	char *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(p != MAP_FAILED);
	p[10] = 42;
	CHECK_EQ(got_sig, 1);
	CHECK_EQ(p[10], 42);
}
