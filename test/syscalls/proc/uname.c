/* uname, sethostname, setdomainname, gethostname, sysinfo. */
#include "lt.h"
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>

TEST(uname_fields)
{
	struct utsname u;
	REQUIRE_OK(uname(&u));
	CHECK_STREQ(u.sysname, "Linux");
	CHECK_STREQ(u.machine, "x86_64");
	CHECK_GT(strlen(u.release), 0);
	CHECK_GT(strlen(u.version), 0);
	CHECK(u.release[0] >= '3' && u.release[0] <= '9');
}

TEST(uname_efault)
{
	CHECK_ERR(syscall(SYS_uname, (void *)1), EFAULT);
}

TEST(sethostname_visible_in_uname)
{
	REQUIRE_OK(sethostname("lt-host", 7));
	struct utsname u;
	REQUIRE_OK(uname(&u));
	CHECK_STREQ(u.nodename, "lt-host");
	char buf[65];
	REQUIRE_OK(gethostname(buf, sizeof(buf)));
	CHECK_STREQ(buf, "lt-host");
	char proc[128] = "";
	FILE *f = fopen("/proc/sys/kernel/hostname", "r");
	REQUIRE(f != NULL);
	CHECK(fgets(proc, sizeof(proc), f) != NULL);
	fclose(f);
	CHECK_STREQ(proc, "lt-host\n");
}

TEST(sethostname_length_is_exact)
{
	/* The length counts: no terminating NUL is needed. */
	REQUIRE_OK(sethostname("abcdef", 3));
	struct utsname u;
	REQUIRE_OK(uname(&u));
	CHECK_STREQ(u.nodename, "abc");
	REQUIRE_OK(sethostname("", 0));
	REQUIRE_OK(uname(&u));
	CHECK_STREQ(u.nodename, "");
}

TEST(sethostname_errors)
{
	char big[70];
	memset(big, 'h', sizeof(big));
	CHECK_ERR(sethostname(big, 65), EINVAL);
	CHECK_OK(sethostname(big, 64));
	CHECK_ERR(syscall(SYS_sethostname, big, -1), EINVAL);
	CHECK_ERR(syscall(SYS_sethostname, (char *)1, 5), EFAULT);
}

TEST(setdomainname_visible_in_uname)
{
	REQUIRE_OK(setdomainname("lt.domain", 9));
	struct utsname u;
	REQUIRE_OK(uname(&u));
	CHECK_STREQ(u.domainname, "lt.domain");
	char buf[65];
	REQUIRE_OK(getdomainname(buf, sizeof(buf)));
	CHECK_STREQ(buf, "lt.domain");
	char big[70];
	memset(big, 'd', sizeof(big));
	CHECK_ERR(setdomainname(big, 65), EINVAL);
}

TEST(names_need_cap_sys_admin)
{
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	CHECK_ERR(sethostname("x", 1), EPERM);
	CHECK_ERR(setdomainname("x", 1), EPERM);
}

TEST(hostname_shared_with_child)
{
	REQUIRE_OK(sethostname("before", 6));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(sethostname("fromchild", 9) == 0 ? 0 : 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
	struct utsname u;
	REQUIRE_OK(uname(&u));
	CHECK_STREQ(u.nodename, "fromchild");
}

TEST(sysinfo_values)
{
	struct sysinfo si;
	REQUIRE_OK(sysinfo(&si));
	CHECK_GE(si.uptime, 0);
	CHECK_GT(si.totalram, 0);
	CHECK_LE(si.freeram, si.totalram);
	CHECK_GE(si.procs, 2);
	CHECK_GT(si.mem_unit, 0);
	CHECK_ERR(sysinfo((struct sysinfo *)1), EFAULT);
}

/* fork_and_count: procs while 5 more children live, minus procs before. */
static long fork_and_count(void)
{
	struct sysinfo a, b;
	if (sysinfo(&a) < 0)
		return -1;
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t kids[5];
	for (int i = 0; i < 5; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			char c;
			close(p[1]);
			(void)!read(p[0], &c, 1);
			_exit(0);
		}
	}
	long d = sysinfo(&b) < 0 ? -1 : (long)b.procs - (long)a.procs;
	close(p[0]);
	close(p[1]);
	for (int i = 0; i < 5; i++)
		if (kids[i] > 0)
			lt_wait_exit(kids[i]);
	return d;
}

TEST(sysinfo_procs_counts_processes)
{
	/*
	 * Natively procs counts the whole host, whose other processes come
	 * and go meanwhile: one of a few tries must see exactly ours.
	 */
	long d = -1;
	for (int i = 0; i < 20 && d != 5; i++)
		d = fork_and_count();
	CHECK_EQ(d, 5);
}
