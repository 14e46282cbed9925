/* System V shared memory: shmget, shmat, shmdt, shmctl. */
#include "lt.h"
#include "ltmem.h"
#include <sys/ipc.h>
#include <sys/shm.h>

#define PG 4096

static struct shmid_ds stat_of(int id)
{
	struct shmid_ds ds;
	memset(&ds, 0, sizeof(ds));
	if (shmctl(id, IPC_STAT, &ds) < 0)
		ABORT("IPC_STAT %d: %s", id, strerror(errno));
	return ds;
}

static char *attach(int id, int flags)
{
	void *p = shmat(id, NULL, flags);
	if (p == (void *)-1)
		ABORT("shmat %d: %s", id, strerror(errno));
	return p;
}

TEST(private_segment_stat)
{
	int id = REQUIRE_OK(shmget(IPC_PRIVATE, 10000, 0640));
	struct shmid_ds ds = stat_of(id);
	CHECK_EQ(ds.shm_segsz, 10000);
	CHECK_EQ(ds.shm_nattch, 0);
	CHECK_EQ(ds.shm_cpid, getpid());
	CHECK_EQ(ds.shm_perm.mode & 0777, 0640);
	CHECK_EQ(ds.shm_perm.uid, 0);
	CHECK_EQ(ds.shm_perm.cuid, 0);
	CHECK_EQ(ds.shm_perm.__key, IPC_PRIVATE);
	CHECK_GT(ds.shm_ctime, 0);
	CHECK_OK(shmctl(id, IPC_RMID, NULL));
}

TEST(key_create_excl_and_lookup)
{
	key_t key = 0x4c540001;
	int id = REQUIRE_OK(shmget(key, PG, IPC_CREAT | IPC_EXCL | 0600));
	CHECK_ERR(shmget(key, PG, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
	CHECK_EQ(shmget(key, PG, IPC_CREAT | 0600), id);
	CHECK_EQ(shmget(key, 0, 0), id);
	CHECK_EQ(shmget(key, 100, 0), id);
	/* Bigger than the segment. */
	CHECK_ERR(shmget(key, 2 * PG, 0), EINVAL);
	CHECK_ERR(shmget(0x4c540002, PG, 0600), ENOENT);
	CHECK_OK(shmctl(id, IPC_RMID, NULL));
}

TEST(size_errors_einval)
{
	CHECK_ERR(shmget(IPC_PRIVATE, 0, 0600), EINVAL);
	CHECK_ERR(shmget(IPC_PRIVATE, (size_t)-1, 0600), EINVAL);
}

TEST(zero_filled_and_shared_between_attaches)
{
	int id = REQUIRE_OK(shmget(IPC_PRIVATE, 2 * PG, 0600));
	char *a = attach(id, 0);
	char *b = attach(id, 0);
	CHECK_NE(a, b);
	CHECK_EQ(a[0], 0);
	CHECK_EQ(a[2 * PG - 1], 0);
	strcpy(a + PG, "shared");
	CHECK_STREQ(b + PG, "shared");
	CHECK_EQ(stat_of(id).shm_nattch, 2);
	CHECK_OK(shmdt(a));
	CHECK_OK(shmdt(b));
	CHECK_EQ(stat_of(id).shm_nattch, 0);
	CHECK_OK(shmctl(id, IPC_RMID, NULL));
}

TEST(shared_between_forked_processes)
{
	int id = REQUIRE_OK(shmget(IPC_PRIVATE, PG, 0600));
	char *p = attach(id, 0);
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		/* Inherited attachment, and one of its own. */
		char *q = shmat(id, NULL, 0);
		if (q == (void *)-1)
			_exit(2);
		strcpy(p, "inherited");
		strcpy(q + 100, "own");
		struct shmid_ds ds;
		shmctl(id, IPC_STAT, &ds);
		_exit(ds.shm_nattch == 3 ? 0 : 3);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_STREQ(p, "inherited");
	CHECK_STREQ(p + 100, "own");
	/* The child's exit detached both of its attachments. */
	struct shmid_ds ds = stat_of(id);
	CHECK_EQ(ds.shm_nattch, 1);
	CHECK_EQ(ds.shm_lpid, pid);
	CHECK_OK(shmctl(id, IPC_RMID, NULL));
}

TEST(exec_detaches_before_close_on_exec)
{
	int id = REQUIRE_OK(shmget(IPC_PRIVATE, PG, 0600));
	attach(id, 0);
	int p[2];
	REQUIRE_OK(pipe2(p, O_CLOEXEC));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		close(p[0]);
		if (shmat(id, NULL, 0) == (void *)-1)
			_exit(2);
		execl("/bin/sleep", "sleep", "100", (char *)NULL);
		_exit(3);
	}
	close(p[1]);
	char c;
	/* EOF once the child's exec closed the pipe. */
	CHECK_EQ(read(p[0], &c, 1), 0);
	close(p[0]);
	/* Linux drops the old image (and its attachments) before that. */
	CHECK_EQ(stat_of(id).shm_nattch, 1);
	kill(pid, SIGKILL);
	CHECK_EQ(lt_wait_exit(pid), 128 + SIGKILL);
	CHECK_OK(shmctl(id, IPC_RMID, NULL));
}

TEST(exit_detaches_before_wait)
{
	int id = REQUIRE_OK(shmget(IPC_PRIVATE, PG, 0600));
	for (int i = 0; i < 50; i++) {
		pid_t pid = REQUIRE_OK(fork());
		if (pid == 0) {
			_exit(shmat(id, NULL, 0) == (void *)-1 ? 2 : 0);
		}
		REQUIRE_EQ(lt_wait_exit(pid), 0);
		REQUIRE_EQ(stat_of(id).shm_nattch, 0);
	}
	CHECK_OK(shmctl(id, IPC_RMID, NULL));
}

TEST(rmid_lives_until_last_detach)
{
	key_t key = 0x4c540003;
	int id = REQUIRE_OK(shmget(key, PG, IPC_CREAT | 0600));
	char *p = attach(id, 0);
	p[0] = 'k';
	REQUIRE_OK(shmctl(id, IPC_RMID, NULL));
	struct shmid_ds ds = stat_of(id);
	CHECK_EQ(ds.shm_perm.mode & SHM_DEST, SHM_DEST);
	CHECK_EQ(ds.shm_perm.__key, IPC_PRIVATE);
	CHECK_EQ(ds.shm_nattch, 1);
	CHECK_EQ(p[0], 'k');
	/* The key is free again. */
	CHECK_ERR(shmget(key, PG, 0600), ENOENT);
	int id2 = REQUIRE_OK(shmget(key, PG, IPC_CREAT | 0600));
	CHECK_NE(id2, id);
	/* Still attachable by id while it lives. */
	char *q = (char *)shmat(id, NULL, 0);
	CHECK(q != (void *)-1);
	if (q != (void *)-1) {
		CHECK_EQ(q[0], 'k');
		CHECK_OK(shmdt(q));
	}
	CHECK_OK(shmdt(p));
	struct shmid_ds gone;
	CHECK_ERR(shmctl(id, IPC_STAT, &gone), EINVAL);
	CHECK_ERR(shmat(id, NULL, 0), EINVAL);
	CHECK_OK(shmctl(id2, IPC_RMID, NULL));
}

TEST(rmid_unattached_goes_at_once)
{
	int id = REQUIRE_OK(shmget(IPC_PRIVATE, PG, 0600));
	REQUIRE_OK(shmctl(id, IPC_RMID, NULL));
	struct shmid_ds ds;
	CHECK_ERR(shmctl(id, IPC_STAT, &ds), EINVAL);
	CHECK_ERR(shmctl(id, IPC_RMID, NULL), EINVAL);
}

TEST(rdonly_attach)
{
	int id = REQUIRE_OK(shmget(IPC_PRIVATE, PG, 0600));
	char *p = attach(id, SHM_RDONLY);
	CHECK_EQ(lt_probe(p, 0), 0);
	CHECK_EQ(lt_probe(p, 1), SIGSEGV);
	CHECK_EQ(lt_fault_code(), SEGV_ACCERR);
	CHECK_ERR(mprotect(p, PG, PROT_READ | PROT_WRITE), EACCES);
	CHECK_OK(shmctl(id, IPC_RMID, NULL));
}

TEST(attach_at_address)
{
	int id = REQUIRE_OK(shmget(IPC_PRIVATE, PG, 0600));
	char *hole = lt_map_anon(2);
	REQUIRE_OK(munmap(hole, 2 * PG));
	CHECK_EQ(shmat(id, hole, 0), hole);
	CHECK_ERR(shmat(id, hole + PG + 1, 0), EINVAL);
	CHECK_EQ(shmat(id, hole + PG + 1, SHM_RND), hole + PG);
	/* In use: only with SHM_REMAP. */
	CHECK_ERR(shmat(id, hole, 0), EINVAL);
	CHECK_EQ(shmat(id, hole, SHM_REMAP), hole);
	CHECK_ERR(shmat(id, NULL, SHM_REMAP), EINVAL);
	CHECK_OK(shmctl(id, IPC_RMID, NULL));
}

TEST(shmdt_errors)
{
	int id = REQUIRE_OK(shmget(IPC_PRIVATE, 2 * PG, 0600));
	char *p = attach(id, 0);
	CHECK_ERR(shmdt(p + 1), EINVAL);
	CHECK_ERR(shmdt(p + PG), EINVAL);
	char *anon = lt_map_anon(1);
	CHECK_ERR(shmdt(anon), EINVAL);
	CHECK_OK(shmdt(p));
	CHECK_ERR(shmdt(p), EINVAL);
	CHECK_EQ(lt_probe(p, 0), SIGSEGV);
	CHECK_OK(shmctl(id, IPC_RMID, NULL));
}

TEST(permissions_unprivileged)
{
	key_t key = 0x4c540004;
	int id = REQUIRE_OK(shmget(key, PG, IPC_CREAT | 0600));
	int ro = REQUIRE_OK(shmget(IPC_PRIVATE, PG, 0644));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		if (setresuid(65534, 65534, 65534) < 0)
			_exit(2);
		struct shmid_ds ds;
		if (shmat(id, NULL, 0) != (void *)-1 || errno != EACCES)
			_exit(3);
		if (shmget(key, PG, 0600) != -1 || errno != EACCES)
			_exit(4);
		if (shmctl(id, IPC_STAT, &ds) != -1 || errno != EACCES)
			_exit(5);
		if (shmctl(id, IPC_RMID, NULL) != -1 || errno != EPERM)
			_exit(6);
		/* Readable by others: read-only attach only. */
		if (shmat(ro, NULL, SHM_RDONLY) == (void *)-1)
			_exit(7);
		if (shmat(ro, NULL, 0) != (void *)-1 || errno != EACCES)
			_exit(8);
		_exit(0);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_OK(shmctl(id, IPC_RMID, NULL));
	CHECK_OK(shmctl(ro, IPC_RMID, NULL));
}

TEST(ipc_set_changes_mode_and_owner)
{
	int id = REQUIRE_OK(shmget(IPC_PRIVATE, PG, 0600));
	struct shmid_ds ds = stat_of(id);
	ds.shm_perm.mode = 0604;
	ds.shm_perm.uid = 1234;
	REQUIRE_OK(shmctl(id, IPC_SET, &ds));
	ds = stat_of(id);
	CHECK_EQ(ds.shm_perm.mode & 0777, 0604);
	CHECK_EQ(ds.shm_perm.uid, 1234);
	CHECK_EQ(ds.shm_perm.cuid, 0);
	CHECK_OK(shmctl(id, IPC_RMID, NULL));
}

TEST(shmctl_errors)
{
	struct shmid_ds ds;
	CHECK_ERR(shmctl(-1, IPC_STAT, &ds), EINVAL);
	CHECK_ERR(shmctl(0x7fffffff, IPC_STAT, &ds), EINVAL);
	int id = REQUIRE_OK(shmget(IPC_PRIVATE, PG, 0600));
	CHECK_ERR(shmctl(id, 999, &ds), EINVAL);
	CHECK_ERR(shmctl(id, IPC_STAT, (struct shmid_ds *)1), EFAULT);
	CHECK_OK(shmctl(id, IPC_RMID, NULL));
}

TEST(ipc_info_limits)
{
	struct shminfo in;
	memset(&in, 0, sizeof(in));
	CHECK_GE(shmctl(0, IPC_INFO, (struct shmid_ds *)&in), 0);
	CHECK_EQ(in.shmmni, 4096);
	CHECK_EQ(in.shmmin, 1);
	CHECK_EQ(in.shmmax, ~0UL - (1UL << 24));
}

TEST(attachment_in_maps)
{
	key_t key = 0x4c540005;
	int id = REQUIRE_OK(shmget(key, PG, IPC_CREAT | 0600));
	char *p = attach(id, 0);
	FILE *f = fopen("/proc/self/maps", "r");
	REQUIRE(f != NULL);
	char line[512], want[64];
	snprintf(want, sizeof(want), "%lx-", (unsigned long)p);
	int found = 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, want, strlen(want)) == 0)
			found = strstr(line, "rw-s") != NULL && strstr(line, "/SYSV4c540005") != NULL;
	fclose(f);
	CHECK(found);
	CHECK_OK(shmctl(id, IPC_RMID, NULL));
}
