/*
 * files.h: small file helpers shared by the dirs/ programs (after lt.h).
 */
#ifndef DIRS_FILES_H
#define DIRS_FILES_H

#include "lt.h"

/* mkfile creates (or truncates) path holding data; it ends the case on error. */
static void mkfile(const char *path, const char *data)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	if (fd < 0)
		ABORT("open %s: %s", path, strerror(errno));
	size_t n = strlen(data);
	if (write(fd, data, n) != (ssize_t)n)
		ABORT("write %s: %s", path, strerror(errno));
	close(fd);
}

/* content reads a small file into a static buffer ("" on error). */
static const char *content(const char *path)
{
	static char buf[256];
	buf[0] = 0;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return "";
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	close(fd);
	return buf;
}

/* ino returns the inode number path resolves to (following links), or 0. */
static ino_t ino(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return 0;
	return st.st_ino;
}

/* lino returns the inode number of path itself (not following), or 0. */
static ino_t lino(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return 0;
	return st.st_ino;
}

#endif
