/*
 * File seals on files memfd_create did not make: a tmpfs file starts with
 * F_SEAL_SEAL (Linux keeps seals on every shmem inode), so none can be
 * added and nothing is sealed; a file of any other file system has no
 * seals at all (EINVAL). memfds are mem/memfd.c's.
 */
#include "shm.h"

TEST(tmpfs_file_is_sealed_against_seals)
{
	int fd = lt_file(lt_shm_path("f"), "x");
	CHECK_EQ(fcntl(fd, F_GET_SEALS), F_SEAL_SEAL);
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, 0), EPERM);
	/* Nothing else is sealed. */
	CHECK_EQ(pwrite(fd, "yz", 2, 1), 2);
	CHECK_OK(ftruncate(fd, 0));
	close(fd);
	int t = REQUIRE_OK(open(lt_shm_dir(), O_TMPFILE | O_RDWR, 0600));
	CHECK_EQ(fcntl(t, F_GET_SEALS), F_SEAL_SEAL);
	close(t);
}

TEST(other_file_has_no_seals)
{
	/* On the root overlay in the sandbox (whose upper layer is a
	 * tmpfs), on the host's disk natively. */
	int fd = lt_file(lt_path("f"), "x");
	CHECK_ERR(fcntl(fd, F_GET_SEALS), EINVAL);
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL), EINVAL);
	close(fd);
}
