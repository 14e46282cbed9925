/* epoll: edge-triggered, one-shot with re-arm, exclusive wakeups, RDHUP. */
#include "lt.h"

#include <pthread.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

static int add(int ep, int fd, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.fd = fd};
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int mod(int ep, int fd, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.fd = fd};
	return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

static int wait0(int ep)
{
	struct epoll_event ev[4];
	return epoll_wait(ep, ev, 4, 0);
}

TEST(edge_reports_once)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	int ep = REQUIRE_OK(epoll_create1(0));
	REQUIRE_OK(add(ep, p[0], EPOLLIN | EPOLLET));
	REQUIRE_EQ(write(p[1], "ab", 2), 2);
	CHECK_EQ(wait0(ep), 1);
	/* Still readable, but no new edge. */
	CHECK_EQ(wait0(ep), 0);
}

TEST(edge_new_data_new_edge)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	int ep = REQUIRE_OK(epoll_create1(0));
	REQUIRE_OK(add(ep, p[0], EPOLLIN | EPOLLET));
	REQUIRE_EQ(write(p[1], "a", 1), 1);
	CHECK_EQ(wait0(ep), 1);
	/* More data arrives without the reader draining: another event. */
	REQUIRE_EQ(write(p[1], "b", 1), 1);
	CHECK_EQ(wait0(ep), 1);
	CHECK_EQ(wait0(ep), 0);
}

TEST(edge_after_drain_and_refill)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	int ep = REQUIRE_OK(epoll_create1(0));
	REQUIRE_OK(add(ep, p[0], EPOLLIN | EPOLLET));
	REQUIRE_EQ(write(p[1], "a", 1), 1);
	CHECK_EQ(wait0(ep), 1);
	char c;
	REQUIRE_EQ(read(p[0], &c, 1), 1);
	CHECK_EQ(wait0(ep), 0);
	REQUIRE_EQ(write(p[1], "b", 1), 1);
	CHECK_EQ(wait0(ep), 1);
}

TEST(edge_mod_rearms)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	int ep = REQUIRE_OK(epoll_create1(0));
	REQUIRE_OK(add(ep, p[0], EPOLLIN | EPOLLET));
	REQUIRE_EQ(write(p[1], "a", 1), 1);
	CHECK_EQ(wait0(ep), 1);
	CHECK_EQ(wait0(ep), 0);
	/* EPOLL_CTL_MOD re-checks readiness. */
	REQUIRE_OK(mod(ep, p[0], EPOLLIN | EPOLLET));
	CHECK_EQ(wait0(ep), 1);
}

TEST(edge_eventfd_writes)
{
	int efd = REQUIRE_OK(eventfd(0, EFD_NONBLOCK));
	int ep = REQUIRE_OK(epoll_create1(0));
	REQUIRE_OK(add(ep, efd, EPOLLIN | EPOLLET));
	uint64_t one = 1;
	REQUIRE_EQ(write(efd, &one, 8), 8);
	CHECK_EQ(wait0(ep), 1);
	CHECK_EQ(wait0(ep), 0);
	REQUIRE_EQ(write(efd, &one, 8), 8);
	CHECK_EQ(wait0(ep), 1);
}

TEST(oneshot_disables_after_event)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	int ep = REQUIRE_OK(epoll_create1(0));
	REQUIRE_OK(add(ep, p[0], EPOLLIN | EPOLLONESHOT));
	REQUIRE_EQ(write(p[1], "a", 1), 1);
	CHECK_EQ(wait0(ep), 1);
	CHECK_EQ(wait0(ep), 0);
	REQUIRE_EQ(write(p[1], "b", 1), 1);
	CHECK_EQ(wait0(ep), 0);
	/* Still registered: ADD fails, MOD re-arms. */
	CHECK_ERR(add(ep, p[0], EPOLLIN), EEXIST);
	REQUIRE_OK(mod(ep, p[0], EPOLLIN | EPOLLONESHOT));
	CHECK_EQ(wait0(ep), 1);
	CHECK_EQ(wait0(ep), 0);
}

TEST(oneshot_del_after_fire)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	int ep = REQUIRE_OK(epoll_create1(0));
	REQUIRE_OK(add(ep, p[1], EPOLLOUT | EPOLLONESHOT));
	CHECK_EQ(wait0(ep), 1);
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL));
	CHECK_OK(add(ep, p[1], EPOLLOUT));
	CHECK_EQ(wait0(ep), 1);
}

TEST(mod_changes_interest)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	int ep = REQUIRE_OK(epoll_create1(0));
	REQUIRE_OK(add(ep, p[1], EPOLLIN));
	CHECK_EQ(wait0(ep), 0);
	REQUIRE_OK(mod(ep, p[1], EPOLLOUT));
	struct epoll_event ev;
	CHECK_EQ(epoll_wait(ep, &ev, 1, 0), 1);
	CHECK_EQ(ev.events, EPOLLOUT);
}

TEST(rdhup_on_peer_shutdown)
{
	int sv[2];
	REQUIRE_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	int ep = REQUIRE_OK(epoll_create1(0));
	REQUIRE_OK(add(ep, sv[0], EPOLLIN | EPOLLRDHUP));
	CHECK_EQ(wait0(ep), 0);
	CHECK_OK(shutdown(sv[1], SHUT_WR));
	struct epoll_event ev;
	CHECK_EQ(epoll_wait(ep, &ev, 1, 0), 1);
	CHECK_EQ(ev.events, EPOLLIN | EPOLLRDHUP);
	CHECK_OK(close(sv[1]));
	CHECK_EQ(epoll_wait(ep, &ev, 1, 0), 1);
	CHECK_EQ(ev.events, EPOLLIN | EPOLLRDHUP | EPOLLHUP);
}

struct waiter {
	int ep;
	int woke;
};

static void *wait_one(void *arg)
{
	struct waiter *w = arg;
	struct epoll_event ev;
	if (epoll_wait(w->ep, &ev, 1, 2000) == 1)
		__atomic_add_fetch(&w->woke, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

TEST(exclusive_accepted_and_wakes)
{
	int efd = REQUIRE_OK(eventfd(0, EFD_NONBLOCK));
	/* Two epoll sets watching one eventfd exclusively, a waiter on each. */
	struct waiter w[2];
	pthread_t th[2];
	for (int i = 0; i < 2; i++) {
		w[i].ep = REQUIRE_OK(epoll_create1(0));
		w[i].woke = 0;
		REQUIRE_OK(add(w[i].ep, efd, EPOLLIN | EPOLLEXCLUSIVE));
	}
	for (int i = 0; i < 2; i++)
		REQUIRE_EQ(pthread_create(&th[i], NULL, wait_one, &w[i]), 0);
	usleep(50000);
	uint64_t one = 1;
	REQUIRE_EQ(write(efd, &one, 8), 8);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	/* At least one waiter woke (Linux may wake one or more). */
	CHECK_GE(w[0].woke + w[1].woke, 1);
}

TEST(shared_across_fork)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	int ep = REQUIRE_OK(epoll_create1(0));
	REQUIRE_OK(add(ep, p[0], EPOLLIN));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		struct epoll_event ev;
		_exit(epoll_wait(ep, &ev, 1, 5000) == 1 && ev.data.fd == p[0] ? 0 : 1);
	}
	usleep(20000);
	REQUIRE_EQ(write(p[1], "x", 1), 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
	/* The child's registration changes are the parent's too: same set. */
	pid = REQUIRE_OK(fork());
	if (pid == 0)
		_exit(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL) == 0 ? 0 : 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_EQ(wait0(ep), 0);
}

TEST(many_descriptors)
{
	int ep = REQUIRE_OK(epoll_create1(0));
	int n = 100;
	for (int i = 0; i < n; i++) {
		int efd = REQUIRE_OK(eventfd(i % 2, EFD_NONBLOCK));
		REQUIRE_OK(add(ep, efd, EPOLLIN));
	}
	struct epoll_event ev[128];
	CHECK_EQ(epoll_wait(ep, ev, 128, 0), n / 2);
}
