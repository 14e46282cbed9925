/* System V message queues: msgget, msgsnd, msgrcv by type, msgctl. */
#include "lt.h"

#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/time.h>

struct msg {
	long type;
	char text[64];
};

static int new_queue(void)
{
	int id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	if (id < 0)
		ABORT("msgget: %s", strerror(errno));
	return id;
}

static int send(int id, long type, const char *text)
{
	struct msg m = {.type = type};
	strncpy(m.text, text, sizeof(m.text) - 1);
	return msgsnd(id, &m, strlen(text), IPC_NOWAIT);
}

/* recv returns the type received, with the text in out. */
static long recv(int id, long type, int flags, char *out)
{
	struct msg m;
	memset(&m, 0, sizeof(m));
	ssize_t n = msgrcv(id, &m, sizeof(m.text), type, flags | IPC_NOWAIT);
	if (n < 0)
		return -1;
	if (out) {
		memcpy(out, m.text, n);
		out[n] = 0;
	}
	return m.type;
}

TEST(send_receive_fifo)
{
	int id = new_queue();
	CHECK_OK(send(id, 1, "one"));
	CHECK_OK(send(id, 2, "two"));
	char buf[65];
	CHECK_EQ(recv(id, 0, 0, buf), 1);
	CHECK_STREQ(buf, "one");
	CHECK_EQ(recv(id, 0, 0, buf), 2);
	CHECK_STREQ(buf, "two");
}

TEST(receive_by_type)
{
	int id = new_queue();
	CHECK_OK(send(id, 5, "a"));
	CHECK_OK(send(id, 3, "b"));
	CHECK_OK(send(id, 5, "c"));
	char buf[65];
	CHECK_EQ(recv(id, 5, 0, buf), 5);
	CHECK_STREQ(buf, "a");
	CHECK_EQ(recv(id, 5, 0, buf), 5);
	CHECK_STREQ(buf, "c");
	CHECK_EQ(recv(id, 5, 0, buf), -1);
	CHECK_EQ(errno, ENOMSG);
	CHECK_EQ(recv(id, 3, 0, buf), 3);
}

TEST(receive_negative_type_lowest_first)
{
	int id = new_queue();
	CHECK_OK(send(id, 7, "seven"));
	CHECK_OK(send(id, 4, "four"));
	CHECK_OK(send(id, 2, "two"));
	CHECK_OK(send(id, 9, "nine"));
	char buf[65];
	/* The lowest type not above 5, then the next lowest. */
	CHECK_EQ(recv(id, -5, 0, buf), 2);
	CHECK_EQ(recv(id, -5, 0, buf), 4);
	CHECK_EQ(recv(id, -5, 0, buf), -1);
	CHECK_EQ(errno, ENOMSG);
	CHECK_EQ(recv(id, -100, 0, buf), 7);
}

TEST(receive_except)
{
	int id = new_queue();
	CHECK_OK(send(id, 1, "x"));
	CHECK_OK(send(id, 2, "y"));
	CHECK_EQ(recv(id, 1, MSG_EXCEPT, NULL), 2);
	CHECK_EQ(recv(id, 1, MSG_EXCEPT, NULL), -1);
	CHECK_EQ(errno, ENOMSG);
}

TEST(too_big_e2big_or_truncated)
{
	int id = new_queue();
	CHECK_OK(send(id, 1, "hello world"));
	struct msg m;
	CHECK_ERR(msgrcv(id, &m, 5, 0, IPC_NOWAIT), E2BIG);
	/* Still queued; MSG_NOERROR truncates and consumes it. */
	CHECK_EQ(msgrcv(id, &m, 5, 0, IPC_NOWAIT | MSG_NOERROR), 5);
	CHECK_MEMEQ(m.text, "hello", 5);
	CHECK_ERR(msgrcv(id, &m, 64, 0, IPC_NOWAIT), ENOMSG);
}

TEST(zero_length_message)
{
	int id = new_queue();
	struct msg m = {.type = 3};
	CHECK_OK(msgsnd(id, &m, 0, 0));
	CHECK_EQ(msgrcv(id, &m, 0, 0, IPC_NOWAIT), 0);
	CHECK_EQ(m.type, 3);
}

TEST(send_errors)
{
	int id = new_queue();
	struct msg m = {.type = 0};
	CHECK_ERR(msgsnd(id, &m, 1, 0), EINVAL);
	m.type = -1;
	CHECK_ERR(msgsnd(id, &m, 1, 0), EINVAL);
	m.type = 1;
	static char big[8192 + 16];
	CHECK_ERR(msgsnd(id, big, 8193, 0), EINVAL);
	CHECK_ERR(msgsnd(-1, &m, 1, 0), EINVAL);
	CHECK_ERR(msgsnd(id + 1000, &m, 1, 0), EINVAL);
	CHECK_ERR(msgsnd(id, (void *)1, 1, 0), EFAULT);
	CHECK_ERR(msgrcv(id, &m, -1, 0, 0), EINVAL);
}

TEST(queue_full_eagain)
{
	int id = new_queue();
	static struct {
		long type;
		char text[8192];
	} m = {.type = 1};
	CHECK_OK(msgsnd(id, &m, 8192, IPC_NOWAIT));
	CHECK_OK(msgsnd(id, &m, 8192, IPC_NOWAIT));
	/* 16384 bytes is the default limit. */
	CHECK_ERR(msgsnd(id, &m, 1, IPC_NOWAIT), EAGAIN);
}

TEST(blocking_receive_woken_by_send)
{
	int id = new_queue();
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		usleep(30000);
		_exit(send(id, 8, "late") == 0 ? 0 : 1);
	}
	struct msg m;
	CHECK_EQ(msgrcv(id, &m, sizeof(m.text), 8, 0), 4);
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(blocking_send_woken_by_receive)
{
	int id = new_queue();
	static struct {
		long type;
		char text[8192];
	} m = {.type = 1};
	REQUIRE_OK(msgsnd(id, &m, 8192, 0));
	REQUIRE_OK(msgsnd(id, &m, 8192, 0));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		usleep(30000);
		_exit(msgrcv(id, &m, 8192, 0, 0) == 8192 ? 0 : 1);
	}
	CHECK_OK(msgsnd(id, &m, 100, 0));
	CHECK_EQ(lt_wait_exit(pid), 0);
}

TEST(rmid_wakes_receiver_eidrm)
{
	int id = new_queue();
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		struct msg m;
		ssize_t n = msgrcv(id, &m, sizeof(m.text), 0, 0);
		_exit(n == -1 && errno == EIDRM ? 0 : 1);
	}
	/* Removed before the child's msgrcv, the queue would give EINVAL. */
	REQUIRE_OK(lt_wait_sleeping(pid, pid));
	CHECK_OK(msgctl(id, IPC_RMID, NULL));
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_ERR(send(id, 1, "x"), EINVAL);
}

TEST(ipc_stat)
{
	int id = REQUIRE_OK(msgget(0x6e55, IPC_CREAT | IPC_EXCL | 0640));
	CHECK_OK(send(id, 1, "abc"));
	CHECK_OK(send(id, 2, "de"));
	struct msqid_ds ds;
	REQUIRE_OK(msgctl(id, IPC_STAT, &ds));
	CHECK_EQ(ds.msg_qnum, 2);
	CHECK_EQ(ds.__msg_cbytes, 5);
	CHECK_EQ(ds.msg_qbytes, 16384);
	CHECK_EQ(ds.msg_lspid, getpid());
	CHECK_EQ(ds.msg_lrpid, 0);
	CHECK_EQ(ds.msg_perm.__key, 0x6e55);
	CHECK_EQ(ds.msg_perm.mode & 0777, 0640);
	CHECK_GT(ds.msg_stime, 0);
	CHECK_EQ(ds.msg_rtime, 0);
	CHECK_EQ(recv(id, 0, 0, NULL), 1);
	REQUIRE_OK(msgctl(id, IPC_STAT, &ds));
	CHECK_EQ(ds.msg_qnum, 1);
	CHECK_EQ(ds.msg_lrpid, getpid());
	CHECK_ERR(msgctl(id, IPC_STAT, (struct msqid_ds *)1), EFAULT);
	CHECK_OK(msgctl(id, IPC_RMID, NULL));
}

TEST(ipc_set_qbytes)
{
	int id = new_queue();
	struct msqid_ds ds;
	REQUIRE_OK(msgctl(id, IPC_STAT, &ds));
	ds.msg_qbytes = 10;
	REQUIRE_OK(msgctl(id, IPC_SET, &ds));
	CHECK_OK(send(id, 1, "0123456789"));
	CHECK_ERR(send(id, 1, "x"), EAGAIN);
	/* Raising above the default needs CAP_SYS_RESOURCE. */
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	ds.msg_qbytes = 100000;
	CHECK_ERR(msgctl(id, IPC_SET, &ds), EPERM);
}

TEST(msgget_key_rules)
{
	key_t key = 0x6e56;
	int id = REQUIRE_OK(msgget(key, IPC_CREAT | 0600));
	CHECK_EQ(msgget(key, 0), id);
	CHECK_ERR(msgget(key, IPC_CREAT | IPC_EXCL), EEXIST);
	CHECK_ERR(msgget(0x6e57, 0), ENOENT);
	REQUIRE_OK(setresuid(65534, 65534, 65534));
	CHECK_ERR(msgget(key, 0400), EACCES);
	CHECK_ERR(send(id, 1, "x"), EACCES);
	CHECK_ERR(msgctl(id, IPC_RMID, NULL), EPERM);
}

TEST(msgctl_bad_cmd)
{
	int id = new_queue();
	struct msqid_ds ds;
	CHECK_ERR(msgctl(id, 99, &ds), EINVAL);
	CHECK_ERR(msgctl(-1, IPC_STAT, &ds), EINVAL);
}

TEST(msg_info)
{
	struct msginfo mi;
	CHECK_GE(msgctl(0, IPC_INFO, (struct msqid_ds *)&mi), 0);
	CHECK_EQ(mi.msgmax, 8192);
	CHECK_EQ(mi.msgmnb, 16384);
	CHECK_EQ(mi.msgmni, 32000);
}

static void noop(int sig)
{
	(void)sig;
}

TEST(receive_interrupted_even_with_sa_restart)
{
	int id = new_queue();
	struct sigaction sa = {0};
	sa.sa_handler = noop;
	sa.sa_flags = SA_RESTART;
	REQUIRE_OK(sigaction(SIGALRM, &sa, NULL));
	struct itimerval it = {{0, 0}, {0, 20000}};
	REQUIRE_OK(setitimer(ITIMER_REAL, &it, NULL));
	/* System V IPC calls are never restarted after a handler. */
	struct msg m;
	CHECK_ERR(msgrcv(id, &m, sizeof(m.text), 0, 0), EINTR);
}
