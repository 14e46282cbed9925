/*
 * lt_sock.h: socket helpers for the conformance suite's sockets/ programs
 * (include after lt.h).
 */
#ifndef LT_SOCK_H
#define LT_SOCK_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

/*
 * un_path fills a pathname AF_UNIX address for name relative to the case's
 * scratch directory, which becomes the working directory (absolute scratch
 * paths may not fit in sun_path). It returns the address length.
 */
static socklen_t un_path(struct sockaddr_un *a, const char *name)
{
	if (chdir(lt_tmpdir()) != 0)
		ABORT("chdir %s: %s", lt_tmpdir(), strerror(errno));
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	strcpy(a->sun_path, name);
	return offsetof(struct sockaddr_un, sun_path) + strlen(name) + 1;
}

/* un_abstract fills an abstract address "\0name" and returns its length. */
static socklen_t un_abstract(struct sockaddr_un *a, const char *name)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	memcpy(a->sun_path + 1, name, strlen(name));
	return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
}

/* un_bound returns a socket of type type bound to the path name. */
static int un_bound(int type, const char *name)
{
	struct sockaddr_un a;
	socklen_t len = un_path(&a, name);
	int s = REQUIRE_OK(socket(AF_UNIX, type, 0));
	REQUIRE_OK(bind(s, (struct sockaddr *)&a, len));
	return s;
}

/* un_listener returns a socket of type type listening on the path name. */
static int un_listener(int type, const char *name, int backlog)
{
	int l = un_bound(type, name);
	REQUIRE_OK(listen(l, backlog));
	return l;
}

/* un_connect returns a socket of type type connected to the path name. */
static int un_connect(int type, const char *name)
{
	struct sockaddr_un a;
	socklen_t len = un_path(&a, name);
	int c = REQUIRE_OK(socket(AF_UNIX, type, 0));
	REQUIRE_OK(connect(c, (struct sockaddr *)&a, len));
	return c;
}

/*
 * in_loopback fills *ss with the loopback address of family (AF_INET or
 * AF_INET6) and port (host order), and returns the address length.
 */
static socklen_t in_loopback(struct sockaddr_storage *ss, int family, int port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(*a);
	}
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
	a->sin6_family = AF_INET6;
	a->sin6_port = htons(port);
	a->sin6_addr = in6addr_loopback;
	return sizeof(*a);
}

/* in_port returns the port (host order) of the socket's local address. */
static int in_port(int s)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	REQUIRE_OK(getsockname(s, (struct sockaddr *)&ss, &len));
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/*
 * in_bound returns a socket of family and type bound to an ephemeral
 * loopback port; *port gets the port.
 */
static int in_bound(int family, int type, int *port)
{
	struct sockaddr_storage ss;
	socklen_t len = in_loopback(&ss, family, 0);
	int s = REQUIRE_OK(socket(family, type, 0));
	REQUIRE_OK(bind(s, (struct sockaddr *)&ss, len));
	*port = in_port(s);
	return s;
}

/* in_listener returns a TCP socket listening on a loopback port. */
static int in_listener(int family, int *port)
{
	int l = in_bound(family, SOCK_STREAM, port);
	REQUIRE_OK(listen(l, 16));
	return l;
}

/* in_connect returns a socket of family and type connected to port on
 * loopback. */
static int in_connect(int family, int type, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = in_loopback(&ss, family, port);
	int c = REQUIRE_OK(socket(family, type, 0));
	REQUIRE_OK(connect(c, (struct sockaddr *)&ss, len));
	return c;
}

/* A pointer the compiler cannot see through (it warns about (void *)1). */
static void *volatile bad_ptr = (void *)1;

#endif /* LT_SOCK_H */
