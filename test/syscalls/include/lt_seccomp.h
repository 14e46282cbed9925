/*
 * lt_seccomp.h: helpers for the seccomp programs of the conformance suite
 * (test/syscalls/seccomp): building and installing classic BPF filters.
 */
#ifndef LT_SECCOMP_H
#define LT_SECCOMP_H

#include "lt.h"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#define LT_NR_OFF offsetof(struct seccomp_data, nr)
#define LT_ARCH_OFF offsetof(struct seccomp_data, arch)
#define LT_ARG_OFF(i) offsetof(struct seccomp_data, args[i])

static inline long lt_seccomp(unsigned op, unsigned flags, void *args)
{
	return syscall(SYS_seccomp, op, flags, args);
}

/* lt_filter installs a program with seccomp(2) and the given flags. */
static inline long lt_filter_flags(struct sock_filter *insns, size_t n, unsigned flags)
{
	struct sock_fprog prog = {.len = (unsigned short)n, .filter = insns};
	return lt_seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog);
}

#define LT_FILTER(insns) lt_filter_flags(insns, sizeof(insns) / sizeof(insns[0]), 0)

/*
 * lt_ret_for installs a filter that answers ret for system call nr and
 * allows the rest, after setting no_new_privs; it ends the case on failure.
 */
static inline void lt_ret_for(int nr, unsigned ret)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, LT_NR_OFF),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, ret),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || LT_FILTER(f) != 0)
		ABORT("installing the filter: %s", strerror(errno));
}

/*
 * lt_child_status runs fn in a forked child and returns its exit status as
 * lt_wait_exit does (128+N when killed by signal N).
 */
static inline int lt_child_status(void (*fn)(void))
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		ABORT("fork: %s", strerror(errno));
	if (pid == 0) {
		fn();
		_exit(0);
	}
	return lt_wait_exit(pid);
}

#endif /* LT_SECCOMP_H */
