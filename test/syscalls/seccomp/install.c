/* Installing seccomp filters: seccomp(2), prctl(PR_SET_SECCOMP), validation, permissions. */
#include "lt_seccomp.h"

static struct sock_filter allow_all[] = {
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};

/* install_nnp sets no_new_privs and installs n instructions. */
static long install_nnp(struct sock_filter *f, size_t n)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -2;
	return lt_filter_flags(f, n, 0);
}

TEST(get_seccomp_mode)
{
	CHECK_EQ(prctl(PR_GET_SECCOMP, 0, 0, 0, 0), 0);
	REQUIRE_EQ(install_nnp(allow_all, 1), 0);
	CHECK_EQ(prctl(PR_GET_SECCOMP, 0, 0, 0, 0), 2);
}

TEST(prctl_set_seccomp_filter)
{
	struct sock_fprog prog = {.len = 1, .filter = allow_all};
	REQUIRE_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	CHECK_EQ(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0), 0);
	CHECK_EQ(prctl(PR_GET_SECCOMP, 0, 0, 0, 0), 2);
}

TEST(prctl_set_seccomp_bad_mode)
{
	CHECK_ERR(prctl(PR_SET_SECCOMP, 3, 0, 0, 0), EINVAL);
	CHECK_ERR(prctl(PR_SET_SECCOMP, 0, 0, 0, 0), EINVAL);
}

static void drop_to_nobody(void)
{
	if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)
		ABORT("dropping privileges: %s", strerror(errno));
}

TEST(unprivileged_needs_no_new_privs)
{
	drop_to_nobody();
	CHECK_EQ(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 0);
	CHECK_ERR(lt_filter_flags(allow_all, 1, 0), EACCES);
	struct sock_fprog prog = {.len = 1, .filter = allow_all};
	CHECK_ERR(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0), EACCES);
	CHECK_EQ(prctl(PR_GET_SECCOMP, 0, 0, 0, 0), 0);
	REQUIRE_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	CHECK_EQ(lt_filter_flags(allow_all, 1, 0), 0);
}

TEST(cap_sys_admin_without_no_new_privs)
{
	/* Root (CAP_SYS_ADMIN) may install a filter without no_new_privs. */
	CHECK_EQ(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 0);
	CHECK_EQ(lt_filter_flags(allow_all, 1, 0), 0);
	CHECK_EQ(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 0);
}

TEST(efault)
{
	REQUIRE_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	CHECK_ERR(lt_seccomp(SECCOMP_SET_MODE_FILTER, 0, (void *)1), EFAULT);
	CHECK_ERR(lt_filter_flags((struct sock_filter *)1, 1, 0), EFAULT);
	CHECK_EQ(prctl(PR_GET_SECCOMP, 0, 0, 0, 0), 0);
}

TEST(bad_length_einval)
{
	REQUIRE_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	CHECK_ERR(lt_filter_flags(allow_all, 0, 0), EINVAL);
	static struct sock_filter big[BPF_MAXINSNS + 1];
	for (int i = 0; i <= BPF_MAXINSNS; i++)
		big[i] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	CHECK_ERR(lt_filter_flags(big, BPF_MAXINSNS + 1, 0), EINVAL);
	CHECK_EQ(lt_filter_flags(big, BPF_MAXINSNS, 0), 0);
}

TEST(length_checked_before_permission)
{
	drop_to_nobody();
	CHECK_ERR(lt_filter_flags(allow_all, 0, 0), EINVAL);
	/* ... and the permission before the instructions are read. */
	CHECK_ERR(lt_filter_flags((struct sock_filter *)1, 1, 0), EACCES);
}

/* check_invalid expects EINVAL for a program and that no filter is left. */
static void check_invalid(struct sock_filter *f, size_t n)
{
	CHECK_ERR(install_nnp(f, n), EINVAL);
	CHECK_EQ(prctl(PR_GET_SECCOMP, 0, 0, 0, 0), 0);
}

TEST(last_instruction_not_return)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, LT_NR_OFF),
	};
	check_invalid(f, 2);
}

TEST(jump_out_of_range)
{
	struct sock_filter f[] = {
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	check_invalid(f, 2);
	struct sock_filter g[] = {
		BPF_STMT(BPF_JMP | BPF_JA, 5),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	check_invalid(g, 2);
}

TEST(load_outside_seccomp_data)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, sizeof(struct seccomp_data)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	check_invalid(f, 2);
	struct sock_filter g[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 2), /* unaligned */
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	check_invalid(g, 2);
}

TEST(byte_load_not_allowed)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	check_invalid(f, 2);
	struct sock_filter g[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_IND, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	check_invalid(g, 2);
}

TEST(bad_alu_constants)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	check_invalid(f, 2);
	struct sock_filter g[] = {
		BPF_STMT(BPF_ALU | BPF_LSH | BPF_K, 32),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	check_invalid(g, 2);
	struct sock_filter h[] = {
		BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, 3),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	check_invalid(h, 2);
}

TEST(scratch_memory_checks)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_MEM, 0), /* read before any store */
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	check_invalid(f, 2);
	struct sock_filter g[] = {
		BPF_STMT(BPF_ST, 16), /* only M[0..15] */
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	check_invalid(g, 2);
	struct sock_filter ok[] = {
		BPF_STMT(BPF_ST, 15),
		BPF_STMT(BPF_LDX | BPF_MEM, 15),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	CHECK_EQ(install_nnp(ok, 3), 0);
}

TEST(bad_flags_einval)
{
	REQUIRE_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	CHECK_ERR(lt_filter_flags(allow_all, 1, 1u << 30), EINVAL);
	CHECK_ERR(lt_filter_flags(allow_all, 1, SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_NEW_LISTENER), EINVAL);
	CHECK_EQ(prctl(PR_GET_SECCOMP, 0, 0, 0, 0), 0);
	CHECK_EQ(lt_filter_flags(allow_all, 1, SECCOMP_FILTER_FLAG_LOG), 0);
	CHECK_EQ(lt_filter_flags(allow_all, 1, SECCOMP_FILTER_FLAG_SPEC_ALLOW), 0);
}

TEST(bad_operation_einval)
{
	CHECK_ERR(lt_seccomp(99, 0, NULL), EINVAL);
	CHECK_ERR(lt_seccomp(SECCOMP_SET_MODE_STRICT, 1, NULL), EINVAL);
	CHECK_ERR(lt_seccomp(SECCOMP_SET_MODE_STRICT, 0, allow_all), EINVAL);
}

TEST(filter_mode_cannot_become_strict)
{
	REQUIRE_EQ(install_nnp(allow_all, 1), 0);
	CHECK_ERR(lt_seccomp(SECCOMP_SET_MODE_STRICT, 0, NULL), EINVAL);
	CHECK_ERR(prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0), EINVAL);
	CHECK_EQ(prctl(PR_GET_SECCOMP, 0, 0, 0, 0), 2);
}

TEST(action_avail)
{
	unsigned known[] = {
		SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_TRAP, SECCOMP_RET_ERRNO,
		SECCOMP_RET_USER_NOTIF, SECCOMP_RET_TRACE, SECCOMP_RET_LOG, SECCOMP_RET_ALLOW,
	};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		CHECK_EQ(lt_seccomp(SECCOMP_GET_ACTION_AVAIL, 0, &known[i]), 0);
	unsigned bad[] = {0x00010000, 0x7ffe0000, SECCOMP_RET_ERRNO | 1};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_ERR(lt_seccomp(SECCOMP_GET_ACTION_AVAIL, 0, &bad[i]), EOPNOTSUPP);
	CHECK_ERR(lt_seccomp(SECCOMP_GET_ACTION_AVAIL, 1, &known[0]), EINVAL);
	CHECK_ERR(lt_seccomp(SECCOMP_GET_ACTION_AVAIL, 0, (void *)1), EFAULT);
}

TEST(notif_sizes)
{
	struct seccomp_notif_sizes s = {0};
	CHECK_EQ(lt_seccomp(SECCOMP_GET_NOTIF_SIZES, 0, &s), 0);
	CHECK_EQ(s.seccomp_data, sizeof(struct seccomp_data));
	CHECK_GE(s.seccomp_notif, sizeof(struct seccomp_notif));
	CHECK_GE(s.seccomp_notif_resp, sizeof(struct seccomp_notif_resp));
	CHECK_ERR(lt_seccomp(SECCOMP_GET_NOTIF_SIZES, 1, &s), EINVAL);
	CHECK_ERR(lt_seccomp(SECCOMP_GET_NOTIF_SIZES, 0, (void *)1), EFAULT);
}

TEST(too_many_instructions_enomem)
{
	static struct sock_filter big[BPF_MAXINSNS];
	for (int i = 0; i < BPF_MAXINSNS; i++)
		big[i] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	REQUIRE_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	/* 32768 instructions per path as Linux converts them (4096 returns are 8195), 4 more per filter. */
	int n = 0;
	long r;
	while ((r = lt_filter_flags(big, BPF_MAXINSNS, 0)) == 0 && n < 100)
		n++;
	CHECK_EQ(r, -1);
	CHECK_EQ(errno, ENOMEM);
	CHECK_EQ(n, 3);
}
