/* seccomp filters returning SECCOMP_RET_ERRNO, ALLOW, LOG, TRACE; arguments and arch. */
#include "lt_seccomp.h"

#include <stdint.h>
#include <sys/utsname.h>

TEST(errno_returned)
{
	lt_ret_for(SYS_getpid, SECCOMP_RET_ERRNO | EPERM);
	CHECK_ERR(syscall(SYS_getpid), EPERM);
	/* Others still work. */
	CHECK_GT(syscall(SYS_getppid), 0);
}

TEST(errno_value_is_data)
{
	lt_ret_for(SYS_getpid, SECCOMP_RET_ERRNO | 1234);
	CHECK_ERR(syscall(SYS_getpid), 1234);
}

TEST(errno_capped_at_max_errno)
{
	lt_ret_for(SYS_getpid, SECCOMP_RET_ERRNO | 0xffff);
	CHECK_ERR(syscall(SYS_getpid), 4095);
}

TEST(errno_zero_skips_call)
{
	/* ERRNO(0): the call "succeeds" with 0 and does nothing. */
	int p[2];
	REQUIRE_OK(pipe(p));
	lt_ret_for(SYS_write, SECCOMP_RET_ERRNO | 0);
	CHECK_EQ(write(p[1], "x", 1), 0);
	CHECK_OK(fcntl(p[0], F_SETFL, O_NONBLOCK));
	char c;
	CHECK_ERR(read(p[0], &c, 1), EAGAIN);
}

TEST(errno_call_not_run)
{
	const char *d = lt_path("d");
	lt_ret_for(SYS_mkdir, SECCOMP_RET_ERRNO | EROFS);
	CHECK_ERR(mkdir(d, 0700), EROFS);
	struct stat st;
	CHECK_ERR(stat(d, &st), ENOENT);
}

TEST(allow_and_log)
{
	lt_ret_for(SYS_getpid, SECCOMP_RET_LOG);
	CHECK_EQ(syscall(SYS_getpid), getpid());
	lt_ret_for(SYS_getppid, SECCOMP_RET_ALLOW);
	CHECK_EQ(syscall(SYS_getppid), getppid());
}

TEST(trace_without_tracer_enosys)
{
	lt_ret_for(SYS_getpid, SECCOMP_RET_TRACE | 5);
	CHECK_ERR(syscall(SYS_getpid), ENOSYS);
}

TEST(filter_on_argument)
{
	/* dup(2) of fd 0 fails with EBADE; of others works. */
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, LT_NR_OFF),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_dup, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, LT_ARG_OFF(0)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EBADE),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	REQUIRE_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	REQUIRE_OK(LT_FILTER(f));
	CHECK_ERR(dup(0), EBADE);
	int fd = CHECK_OK(dup(1));
	CHECK_OK(close(fd));
}

TEST(filter_on_argument_high_half)
{
	/* Fail lseek when the offset's upper 32 bits are 1. */
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, LT_NR_OFF),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_lseek, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, LT_ARG_OFF(1) + 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EOVERFLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	int fd = REQUIRE_OK(open(lt_path("f"), O_RDWR | O_CREAT, 0600));
	REQUIRE_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	REQUIRE_OK(LT_FILTER(f));
	CHECK_ERR(lseek(fd, 1LL << 32, SEEK_SET), EOVERFLOW);
	CHECK_EQ(lseek(fd, 1, SEEK_SET), 1);
	CHECK_EQ(lseek(fd, 3LL << 32, SEEK_SET), 3LL << 32);
}

TEST(filter_checks_arch)
{
	/* The usual preamble: anything but x86-64 is killed. */
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, LT_ARCH_OFF),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, LT_NR_OFF),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOKEY),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	REQUIRE_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	REQUIRE_OK(LT_FILTER(f));
	CHECK_ERR(syscall(SYS_getpid), ENOKEY);
}

TEST(filter_sees_instruction_pointer)
{
	/* Return the low bits of the instruction pointer as the errno. */
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, LT_NR_OFF),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpid, 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer)),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x3ff),
		BPF_STMT(BPF_ALU | BPF_OR | BPF_K, SECCOMP_RET_ERRNO),
		BPF_STMT(BPF_RET | BPF_A, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	REQUIRE_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	REQUIRE_OK(LT_FILTER(f));
	/* The instruction pointer is the address after the syscall instruction. */
	long ret;
	uintptr_t after;
	__asm__ volatile("syscall\n1:\n\tlea 1b(%%rip), %1"
			 : "=a"(ret), "=r"(after)
			 : "0"((long)SYS_getpid)
			 : "rcx", "r11", "memory");
	CHECK_EQ(ret, -(long)(after & 0x3ff));
}

TEST(scratch_memory_and_alu)
{
	/* M[0] = nr * 2; X = M[0]; A = nr + nr; ERRNO(5) when A == X. */
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, LT_NR_OFF),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 7),
		BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, 2),
		BPF_STMT(BPF_ST, 0),
		BPF_STMT(BPF_LDX | BPF_MEM, 0),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, LT_NR_OFF),
		BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, SYS_getppid),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_X, 0, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 5),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	REQUIRE_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	REQUIRE_OK(LT_FILTER(f));
	CHECK_ERR(syscall(SYS_getppid), 5);
	CHECK_EQ(syscall(SYS_getpid), getpid());
}

TEST(jset_and_jgt)
{
	/* ERRNO(EACCES) for openat with O_CREAT; ERRNO(E2BIG) for write of > 100 bytes. */
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, LT_NR_OFF),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, LT_ARG_OFF(2)),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, O_CREAT, 0, 5),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_write, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, LT_ARG_OFF(2)),
		BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, 100, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | E2BIG),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	int fd = REQUIRE_OK(open("/dev/null", O_WRONLY));
	REQUIRE_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	REQUIRE_OK(LT_FILTER(f));
	CHECK_ERR(open(lt_path("new"), O_WRONLY | O_CREAT, 0600), EACCES);
	int fd2 = CHECK_OK(open("/dev/null", O_RDONLY));
	close(fd2);
	static char big[200];
	CHECK_ERR(write(fd, big, sizeof(big)), E2BIG);
	CHECK_EQ(write(fd, big, 100), 100);
}

TEST(unknown_syscall_number_filtered)
{
	/* The filter runs before the kernel looks the number up. */
	lt_ret_for(1000, SECCOMP_RET_ERRNO | EDOM);
	CHECK_ERR(syscall(1000), EDOM);
	CHECK_ERR(syscall(1001), ENOSYS);
}

TEST(uname_filtered_in_libc)
{
	lt_ret_for(SYS_uname, SECCOMP_RET_ERRNO | EIO);
	struct utsname u;
	CHECK_ERR(uname(&u), EIO);
}
