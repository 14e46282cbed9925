/*
 * procfs.h: helpers shared by the procdev/ programs (after lt.h).
 */
#ifndef PROCDEV_PROCFS_H
#define PROCDEV_PROCFS_H

#include "lt.h"

/* slurp reads a whole (small) file into a static buffer; NULL on error. */
static const char *slurp(const char *path)
{
	static char buf[1 << 16];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, buf + n, sizeof(buf) - 1 - n);
		if (r < 0) {
			close(fd);
			return NULL;
		}
		if (r == 0)
			break;
		n += r;
		if (n == sizeof(buf) - 1)
			break;
	}
	close(fd);
	buf[n] = 0;
	return buf;
}

/*
 * field returns the value after "Name:" in a "Name:\tvalue" file (status,
 * meminfo) in a static buffer, without leading blanks; NULL if absent.
 */
static const char *field(const char *text, const char *name)
{
	static char val[512];
	size_t nl = strlen(name);
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			size_t n = strcspn(v, "\n");
			if (n >= sizeof(val))
				n = sizeof(val) - 1;
			memcpy(val, v, n);
			val[n] = 0;
			return val;
		}
	}
	return NULL;
}

/* field_ll returns field() as a number, or -1 if absent. */
static long long field_ll(const char *text, const char *name)
{
	const char *v = field(text, name);
	return v ? atoll(v) : -1;
}

#endif
