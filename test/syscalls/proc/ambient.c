/* Ambient capabilities (PR_CAP_AMBIENT) and what execve does with
 * capabilities for root and non-root callers. */
#include "lt.h"
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#define BIT(c) (1ULL << (c))

static void get_caps(struct __user_cap_data_struct d[2]) {
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	if (syscall(SYS_capget, &h, d) < 0)
		ABORT("capget: %s", strerror(errno));
}

/* set_inheritable sets the inheritable set (low 32 bits). */
static int set_inheritable(unsigned int inh) {
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	get_caps(d);
	d[0].inheritable = inh;
	d[1].inheritable = 0;
	return syscall(SYS_capset, &h, d);
}

static int ambient(int op, unsigned long cap) { return prctl(PR_CAP_AMBIENT, op, cap, 0, 0); }

/* exec_caps runs a shell that prints its CapPrm, CapEff and CapAmb lines
 * and returns them joined in buf. */
static void exec_caps(char *buf, size_t n) {
	int p[2];
	if (pipe(p) < 0)
		ABORT("pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		execl("/bin/sh", "sh", "-c", "grep -E '^Cap(Prm|Eff|Amb)' /proc/self/status | tr -d '\\t' | tr '\\n' ' '", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	size_t got = 0;
	ssize_t r;
	while (got < n - 1 && (r = read(p[0], buf + got, n - 1 - got)) > 0)
		got += r;
	buf[got] = 0;
	close(p[0]);
	lt_wait_exit(pid);
}

TEST(initially_not_set) {
	CHECK_EQ(ambient(PR_CAP_AMBIENT_IS_SET, CAP_NET_RAW), 0);
}

TEST(raise_needs_inheritable) {
	CHECK_ERR(ambient(PR_CAP_AMBIENT_RAISE, CAP_NET_RAW), EPERM);
}

TEST(raise_lower_is_set) {
	REQUIRE_OK(set_inheritable(BIT(CAP_NET_RAW)));
	CHECK_OK(ambient(PR_CAP_AMBIENT_RAISE, CAP_NET_RAW));
	CHECK_EQ(ambient(PR_CAP_AMBIENT_IS_SET, CAP_NET_RAW), 1);
	CHECK_EQ(ambient(PR_CAP_AMBIENT_IS_SET, CAP_CHOWN), 0);
	CHECK_OK(ambient(PR_CAP_AMBIENT_LOWER, CAP_NET_RAW));
	CHECK_EQ(ambient(PR_CAP_AMBIENT_IS_SET, CAP_NET_RAW), 0);
	/* Lowering what is not raised is fine. */
	CHECK_OK(ambient(PR_CAP_AMBIENT_LOWER, CAP_CHOWN));
}

TEST(clear_all) {
	REQUIRE_OK(set_inheritable(BIT(CAP_NET_RAW) | BIT(CAP_CHOWN)));
	CHECK_OK(ambient(PR_CAP_AMBIENT_RAISE, CAP_NET_RAW));
	CHECK_OK(ambient(PR_CAP_AMBIENT_RAISE, CAP_CHOWN));
	CHECK_OK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0));
	CHECK_EQ(ambient(PR_CAP_AMBIENT_IS_SET, CAP_NET_RAW), 0);
	CHECK_EQ(ambient(PR_CAP_AMBIENT_IS_SET, CAP_CHOWN), 0);
}

TEST(errors) {
	CHECK_ERR(ambient(PR_CAP_AMBIENT_IS_SET, 99), EINVAL);
	CHECK_ERR(ambient(PR_CAP_AMBIENT_RAISE, 99), EINVAL);
	CHECK_ERR(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_CHOWN, 1, 0), EINVAL);
	CHECK_ERR(prctl(PR_CAP_AMBIENT, 9, CAP_CHOWN, 0, 0), EINVAL);
	CHECK_ERR(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 1, 0, 0), EINVAL);
}

TEST(dropping_inheritable_lowers_ambient) {
	REQUIRE_OK(set_inheritable(BIT(CAP_NET_RAW)));
	CHECK_OK(ambient(PR_CAP_AMBIENT_RAISE, CAP_NET_RAW));
	CHECK_OK(set_inheritable(0));
	CHECK_EQ(ambient(PR_CAP_AMBIENT_IS_SET, CAP_NET_RAW), 0);
}

TEST(root_exec_keeps_all) {
	char buf[256];
	exec_caps(buf, sizeof(buf));
	CHECK(strstr(buf, "CapAmb:0000000000000000") != NULL);
	CHECK(strstr(buf, "CapEff:0000000000000000") == NULL);
}

TEST(nonroot_exec_drops_kept_caps) {
	REQUIRE_OK(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	struct __user_cap_data_struct d[2];
	get_caps(d);
	CHECK_NE(d[0].permitted, 0);
	char buf[256];
	exec_caps(buf, sizeof(buf));
	CHECK_STREQ(buf, "CapPrm:0000000000000000 CapEff:0000000000000000 CapAmb:0000000000000000 ");
}

TEST(nonroot_exec_gets_ambient) {
	REQUIRE_OK(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	REQUIRE_OK(set_inheritable(BIT(CAP_NET_BIND_SERVICE)));
	REQUIRE_OK(ambient(PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE));
	char buf[256];
	exec_caps(buf, sizeof(buf));
	CHECK_STREQ(buf, "CapPrm:0000000000000400 CapEff:0000000000000400 CapAmb:0000000000000400 ");
}
