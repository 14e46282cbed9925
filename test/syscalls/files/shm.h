/*
 * shm.h: a scratch directory on tmpfs for the files tests.
 *
 * lt_tmpdir() is on the root overlay in the sandbox but on the host's disk
 * file system natively; cases that must also hold on tmpfs use
 * lt_shm_path(). Natively the case first gets a private mount namespace
 * with a fresh tmpfs on /dev/shm, so nothing is left on the host's
 * /dev/shm; in the sandbox /dev/shm is already the sandbox's own tmpfs.
 */
#ifndef LT_SHM_H
#define LT_SHM_H

#include "lt.h"

#include <grp.h>
#include <sched.h>
#include <sys/mount.h>

static inline const char *lt_shm_dir(void)
{
	static char dir[256];
	if (dir[0])
		return dir;
	if (!lt_in_sandbox()) {
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("tmpfs", "/dev/shm", "tmpfs", 0, "size=64m") < 0)
			ABORT("private tmpfs on /dev/shm: %s", strerror(errno));
	}
	snprintf(dir, sizeof(dir), "/dev/shm/%s.XXXXXX", lt_current);
	if (mkdtemp(dir) == NULL)
		ABORT("mkdtemp %s: %s", dir, strerror(errno));
	return dir;
}

/* lt_shm_path returns lt_shm_dir()/name in a static buffer (one of 4). */
static inline const char *lt_shm_path(const char *name)
{
	static char bufs[4][512];
	static int next;
	char *b = bufs[next++ % 4];
	snprintf(b, sizeof(bufs[0]), "%s/%s", lt_shm_dir(), name);
	return b;
}

/*
 * lt_bad is an unmapped address for EFAULT cases, hidden from the compiler
 * (which otherwise refuses to pass a constant bad pointer to read(2)).
 */
static void *volatile lt_bad_ptr = (void *)1;
#define lt_bad ((void *)lt_bad_ptr)

/*
 * lt_file creates (or truncates) path with mode 0644 and content s, and
 * returns a read-write descriptor for it at offset strlen(s).
 */
static inline int lt_file(const char *path, const char *s)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		ABORT("open %s: %s", path, strerror(errno));
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		ABORT("write %s: %s", path, strerror(errno));
	return fd;
}

/* lt_drop_privs makes the case an unprivileged user (nobody/nogroup). */
static inline void lt_drop_privs(void)
{
	gid_t none[1] = {65534};
	if (setgroups(1, none) < 0 || setresgid(65534, 65534, 65534) < 0 ||
	    setresuid(65534, 65534, 65534) < 0)
		ABORT("drop privileges: %s", strerror(errno));
}

#endif /* LT_SHM_H */
