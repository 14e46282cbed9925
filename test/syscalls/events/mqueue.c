/* POSIX message queues: mq_open, mq_send/receive priorities, attributes, mq_notify. */
#include "lt.h"

#include <mqueue.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <time.h>

/* qname returns a queue name unique to the case. */
static const char *qname(void)
{
	static char name[64];
	snprintf(name, sizeof(name), "/lt_%s_%d", lt_current, getpid());
	return name;
}

static mqd_t open_new(int flags, long maxmsg, long msgsize)
{
	struct mq_attr a = {.mq_maxmsg = maxmsg, .mq_msgsize = msgsize};
	mqd_t q = mq_open(qname(), O_CREAT | O_EXCL | O_RDWR | flags, 0600, &a);
	if (q == (mqd_t)-1)
		ABORT("mq_open: %s", strerror(errno));
	mq_unlink(qname());
	return q;
}

TEST(send_receive)
{
	mqd_t q = open_new(0, 4, 32);
	CHECK_OK(mq_send(q, "hello", 5, 0));
	char buf[32];
	unsigned prio = 99;
	CHECK_EQ(mq_receive(q, buf, sizeof(buf), &prio), 5);
	CHECK_MEMEQ(buf, "hello", 5);
	CHECK_EQ(prio, 0);
}

TEST(priority_order_then_fifo)
{
	mqd_t q = open_new(0, 8, 16);
	CHECK_OK(mq_send(q, "low1", 4, 1));
	CHECK_OK(mq_send(q, "high", 4, 9));
	CHECK_OK(mq_send(q, "low2", 4, 1));
	CHECK_OK(mq_send(q, "mid", 3, 5));
	const char *want[] = {"high", "mid", "low1", "low2"};
	unsigned wantp[] = {9, 5, 1, 1};
	for (int i = 0; i < 4; i++) {
		char buf[16] = {0};
		unsigned prio;
		CHECK_EQ(mq_receive(q, buf, sizeof(buf), &prio), (long)strlen(want[i]));
		CHECK_STREQ(buf, want[i]);
		CHECK_EQ(prio, wantp[i]);
	}
}

TEST(default_attributes)
{
	mqd_t q = mq_open(qname(), O_CREAT | O_EXCL | O_RDWR, 0600, NULL);
	REQUIRE(q != (mqd_t)-1);
	mq_unlink(qname());
	struct mq_attr a;
	REQUIRE_OK(mq_getattr(q, &a));
	CHECK_EQ(a.mq_maxmsg, 10);
	CHECK_EQ(a.mq_msgsize, 8192);
	CHECK_EQ(a.mq_curmsgs, 0);
	CHECK_EQ(a.mq_flags, 0);
}

TEST(getattr_setattr_nonblock)
{
	mqd_t q = open_new(0, 3, 8);
	CHECK_OK(mq_send(q, "a", 1, 0));
	struct mq_attr a, old;
	REQUIRE_OK(mq_getattr(q, &a));
	CHECK_EQ(a.mq_maxmsg, 3);
	CHECK_EQ(a.mq_msgsize, 8);
	CHECK_EQ(a.mq_curmsgs, 1);
	struct mq_attr n = {.mq_flags = O_NONBLOCK, .mq_maxmsg = 100};
	REQUIRE_OK(mq_setattr(q, &n, &old));
	CHECK_EQ(old.mq_flags, 0);
	REQUIRE_OK(mq_getattr(q, &a));
	CHECK_EQ(a.mq_flags, O_NONBLOCK);
	/* Only the flags change. */
	CHECK_EQ(a.mq_maxmsg, 3);
	n.mq_flags = O_APPEND;
	CHECK_ERR(mq_setattr(q, &n, NULL), EINVAL);
}

TEST(nonblock_eagain)
{
	mqd_t q = open_new(O_NONBLOCK, 2, 8);
	char buf[8];
	CHECK_ERR(mq_receive(q, buf, sizeof(buf), NULL), EAGAIN);
	CHECK_OK(mq_send(q, "1", 1, 0));
	CHECK_OK(mq_send(q, "2", 1, 0));
	CHECK_ERR(mq_send(q, "3", 1, 0), EAGAIN);
}

TEST(message_size_limits)
{
	mqd_t q = open_new(O_NONBLOCK, 2, 8);
	CHECK_ERR(mq_send(q, "123456789", 9, 0), EMSGSIZE);
	CHECK_OK(mq_send(q, "12345678", 8, 0));
	char buf[8];
	CHECK_ERR(mq_receive(q, buf, 7, NULL), EMSGSIZE);
	CHECK_EQ(mq_receive(q, buf, 8, NULL), 8);
	CHECK_OK(mq_send(q, "", 0, 0));
	CHECK_EQ(mq_receive(q, buf, 8, NULL), 0);
}

TEST(priority_limit_einval)
{
	mqd_t q = open_new(O_NONBLOCK, 2, 8);
	CHECK_ERR(mq_send(q, "x", 1, 32768), EINVAL);
	CHECK_OK(mq_send(q, "x", 1, 32767));
}

TEST(timedreceive_timeout)
{
	mqd_t q = open_new(0, 2, 8);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 20 * 1000 * 1000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	char buf[8];
	CHECK_ERR(mq_timedreceive(q, buf, sizeof(buf), NULL, &ts), ETIMEDOUT);
	struct timespec bad = {0, 1000000000};
	CHECK_ERR(mq_timedreceive(q, buf, sizeof(buf), NULL, &bad), EINVAL);
	/* The timeout is checked even when the call would not block. */
	CHECK_OK(mq_send(q, "x", 1, 0));
	CHECK_ERR(mq_timedreceive(q, buf, sizeof(buf), NULL, &bad), EINVAL);
}

/* mq_timedreceive's absolute CLOCK_REALTIME timeout never ends the wait
 * before that clock reaches it. */
TEST(timedreceive_never_early)
{
	mqd_t q = open_new(0, 2, 8);
	char buf[8];
	for (int i = 0; i < 200; i++) {
		struct timespec ts, now;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 20000 + (i * 37 % 500) * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		REQUIRE_ERR(mq_timedreceive(q, buf, sizeof(buf), NULL, &ts), ETIMEDOUT);
		clock_gettime(CLOCK_REALTIME, &now);
		if (now.tv_sec < ts.tv_sec || (now.tv_sec == ts.tv_sec && now.tv_nsec < ts.tv_nsec)) {
			FAIL("wait %d timed out at %lld.%09ld, before %lld.%09ld", i, (long long)now.tv_sec,
			     now.tv_nsec, (long long)ts.tv_sec, ts.tv_nsec);
			break;
		}
	}
}

TEST(timedsend_timeout)
{
	mqd_t q = open_new(0, 1, 8);
	CHECK_OK(mq_send(q, "x", 1, 0));
	struct timespec ts = {1, 0}; /* long past */
	CHECK_ERR(mq_timedsend(q, "y", 1, 0, &ts), ETIMEDOUT);
}

TEST(blocking_receive_woken)
{
	mqd_t q = open_new(0, 2, 8);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		usleep(30000);
		_exit(mq_send(q, "late", 4, 3) == 0 ? 0 : 1);
	}
	char buf[8];
	unsigned prio;
	CHECK_EQ(mq_receive(q, buf, sizeof(buf), &prio), 4);
	CHECK_EQ(prio, 3);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(open_rules)
{
	const char *n = qname();
	mqd_t q = REQUIRE_OK(mq_open(n, O_CREAT | O_EXCL | O_WRONLY, 0600, NULL));
	CHECK_ERR(mq_open(n, O_CREAT | O_EXCL | O_RDWR, 0600, NULL), EEXIST);
	mqd_t q2 = CHECK_OK(mq_open(n, O_RDONLY));
	CHECK_ERR(mq_open("/lt_no_such_queue", O_RDONLY), ENOENT);
	/* Access modes: a write-only descriptor cannot receive. */
	char buf[8192];
	CHECK_ERR(mq_receive(q, buf, sizeof(buf), NULL), EBADF);
	CHECK_ERR(mq_send(q2, "x", 1, 0), EBADF);
	CHECK_OK(mq_unlink(n));
	CHECK_ERR(mq_unlink(n), ENOENT);
	CHECK_ERR(mq_open(n, O_RDONLY), ENOENT);
}

TEST(bad_attributes_einval)
{
	struct mq_attr a = {.mq_maxmsg = 0, .mq_msgsize = 8};
	CHECK_ERR(mq_open(qname(), O_CREAT | O_RDWR, 0600, &a), EINVAL);
	a.mq_maxmsg = 2;
	a.mq_msgsize = -1;
	CHECK_ERR(mq_open(qname(), O_CREAT | O_RDWR, 0600, &a), EINVAL);
	/* Access mode 3 creates a queue but cannot open an existing one. */
	mqd_t q = CHECK_OK(mq_open(qname(), O_RDWR | O_WRONLY | O_CREAT | O_EXCL, 0600, NULL));
	CHECK_ERR(mq_send(q, "x", 1, 0), EBADF);
	CHECK_ERR(mq_open(qname(), O_RDWR | O_WRONLY), EINVAL);
	mq_unlink(qname());
}

TEST(limits_need_privilege)
{
	struct mq_attr a = {.mq_maxmsg = 11, .mq_msgsize = 8};
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	CHECK_ERR(mq_open(qname(), O_CREAT | O_RDWR, 0600, &a), EINVAL);
	a.mq_maxmsg = 10;
	a.mq_msgsize = 8193;
	CHECK_ERR(mq_open(qname(), O_CREAT | O_RDWR, 0600, &a), EINVAL);
}

TEST(bad_names)
{
	CHECK_ERR(syscall(SYS_mq_open, "a/b", O_CREAT | O_RDWR, 0600, NULL), EACCES);
	CHECK_ERR(syscall(SYS_mq_open, "", O_CREAT | O_RDWR, 0600, NULL), ENOENT);
	char long_name[300];
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = 0;
	CHECK_ERR(syscall(SYS_mq_open, long_name, O_CREAT | O_RDWR, 0600, NULL), ENAMETOOLONG);
	CHECK_ERR(syscall(SYS_mq_open, (void *)1, O_RDWR, 0600, NULL), EFAULT);
}

TEST(permissions)
{
	const char *n = qname();
	mqd_t q = REQUIRE_OK(mq_open(n, O_CREAT | O_EXCL | O_RDWR, 0644, NULL));
	(void)q;
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		REQUIRE_OK(setresuid(65534, 65534, 65534));
		CHECK_ERR(mq_open(n, O_WRONLY), EACCES);
		mqd_t r = CHECK_OK(mq_open(n, O_RDONLY));
		(void)r;
		/* Only the owner unlinks. */
		CHECK_ERR(mq_unlink(n), EACCES);
		_exit(lt_failed ? 1 : 0);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_OK(mq_unlink(n));
}

TEST(not_a_queue_ebadf)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	char buf[8];
	CHECK_ERR(mq_send(p[1], "x", 1, 0), EBADF);
	CHECK_ERR(mq_receive(p[0], buf, sizeof(buf), NULL), EBADF);
	struct mq_attr a;
	CHECK_ERR(mq_getattr(p[0], &a), EBADF);
	CHECK_ERR(mq_send(12345, "x", 1, 0), EBADF);
}

TEST(poll_readiness)
{
	mqd_t q = open_new(O_NONBLOCK, 1, 8);
	struct pollfd p = {q, POLLIN | POLLOUT, 0};
	CHECK_EQ(poll(&p, 1, 0), 1);
	CHECK_EQ(p.revents, POLLOUT);
	CHECK_OK(mq_send(q, "x", 1, 0));
	CHECK_EQ(poll(&p, 1, 0), 1);
	CHECK_EQ(p.revents, POLLIN);
}

TEST(read_shows_status)
{
	mqd_t q = open_new(O_NONBLOCK, 2, 8);
	CHECK_OK(mq_send(q, "abc", 3, 0));
	char buf[128] = {0};
	CHECK_GT(read(q, buf, sizeof(buf) - 1), 0);
	CHECK(strncmp(buf, "QSIZE:3 ", 8) == 0);
	CHECK(strstr(buf, "NOTIFY:0") != NULL);
}

static volatile int notified;
static volatile int notified_code;
static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	notified++;
	notified_code = si->si_code;
}

TEST(notify_signal)
{
	mqd_t q = open_new(O_NONBLOCK, 2, 8);
	struct sigaction sa = {0};
	sa.sa_sigaction = on_usr1;
	sa.sa_flags = SA_SIGINFO;
	REQUIRE_OK(sigaction(SIGUSR1, &sa, NULL));
	struct sigevent ev = {0};
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGUSR1;
	REQUIRE_OK(mq_notify(q, &ev));
	/* Another registration is refused while this one stands. */
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		struct sigevent e2 = {0};
		e2.sigev_notify = SIGEV_NONE;
		_exit(mq_notify(q, &e2) == -1 && errno == EBUSY ? 0 : 1);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_OK(mq_send(q, "x", 1, 0));
	for (int i = 0; i < 1000 && !notified; i++)
		usleep(1000);
	CHECK_EQ(notified, 1);
	CHECK_EQ(notified_code, SI_MESGQ);
	/* One-shot: the next message to an empty queue sends nothing. */
	char buf[8];
	REQUIRE_EQ(mq_receive(q, buf, sizeof(buf), NULL), 1);
	CHECK_OK(mq_send(q, "y", 1, 0));
	usleep(20000);
	CHECK_EQ(notified, 1);
}

TEST(notify_unregister)
{
	mqd_t q = open_new(O_NONBLOCK, 2, 8);
	struct sigevent ev = {0};
	ev.sigev_notify = SIGEV_NONE;
	REQUIRE_OK(mq_notify(q, &ev));
	CHECK_ERR(mq_notify(q, &ev), EBUSY);
	CHECK_OK(mq_notify(q, NULL));
	CHECK_OK(mq_notify(q, &ev));
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = 65;
	CHECK_OK(mq_notify(q, NULL));
	CHECK_ERR(mq_notify(q, &ev), EINVAL);
	ev.sigev_notify = 99;
	CHECK_ERR(mq_notify(q, &ev), EINVAL);
}

TEST(rlimit_msgqueue_emfile)
{
	/* Default queues cost 10 * (8192 + 96) bytes of RLIMIT_MSGQUEUE. */
	struct rlimit rl = {819200, 819200};
	REQUIRE_OK(setrlimit(RLIMIT_MSGQUEUE, &rl));
	char name[64];
	int n = 0;
	mqd_t q[20];
	for (; n < 20; n++) {
		snprintf(name, sizeof(name), "/lt_rl_%d_%d", getpid(), n);
		q[n] = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, NULL);
		if (q[n] == (mqd_t)-1)
			break;
	}
	CHECK_EQ(n, 9);
	CHECK_EQ(errno, EMFILE);
	/* Unlinked but open, a queue still counts; closed too, it does not. */
	snprintf(name, sizeof(name), "/lt_rl_%d_%d", getpid(), 0);
	CHECK_OK(mq_unlink(name));
	snprintf(name, sizeof(name), "/lt_rl_%d_x", getpid());
	CHECK_ERR(mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, NULL), EMFILE);
	CHECK_OK(mq_close(q[0]));
	mqd_t r = CHECK_OK(mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, NULL));
	(void)r;
	for (int i = 1; i < n; i++) {
		snprintf(name, sizeof(name), "/lt_rl_%d_%d", getpid(), i);
		mq_unlink(name);
	}
	snprintf(name, sizeof(name), "/lt_rl_%d_x", getpid());
	mq_unlink(name);
}

static volatile int alarms;
static void count_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static void alarm_in_20ms(int flags)
{
	struct sigaction sa = {0};
	sa.sa_handler = count_alarm;
	sa.sa_flags = flags;
	REQUIRE_OK(sigaction(SIGALRM, &sa, NULL));
	struct itimerval it = {{0, 0}, {0, 20000}};
	REQUIRE_OK(setitimer(ITIMER_REAL, &it, NULL));
}

TEST(receive_interrupted_eintr)
{
	mqd_t q = open_new(0, 2, 8);
	alarm_in_20ms(0);
	char buf[8];
	CHECK_ERR(mq_receive(q, buf, sizeof(buf), NULL), EINTR);
	CHECK_EQ(alarms, 1);
}

TEST(receive_restarted_with_sa_restart)
{
	mqd_t q = open_new(0, 2, 8);
	alarm_in_20ms(SA_RESTART);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 200 * 1000 * 1000;
	ts.tv_sec += ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	char buf[8];
	/* The handler runs, the wait goes on to its (absolute) timeout. */
	CHECK_ERR(mq_timedreceive(q, buf, sizeof(buf), NULL, &ts), ETIMEDOUT);
	CHECK_EQ(alarms, 1);
}
