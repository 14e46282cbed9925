/* mmap: anonymous, file-backed, shared and private mappings, flags, faults. */
#include "lt.h"
#include "ltmem.h"

#define PG 4096

TEST(anon_private_zeroed_and_writable)
{
	char *p = REQUIRE_MAP(mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	CHECK_EQ((long)p % PG, 0);
	for (int i = 0; i < 3 * PG; i += 512)
		CHECK_EQ(p[i], 0);
	p[PG + 7] = 'x';
	CHECK_EQ(p[PG + 7], 'x');
}

TEST(anon_shared_visible_to_child_and_back)
{
	char *p = REQUIRE_MAP(mmap(NULL, PG, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0));
	p[0] = 'p';
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		_exit(p[0] == 'p' ? (p[1] = 'c', 0) : 1);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_EQ(p[1], 'c');
}

TEST(private_cow_isolated_after_fork)
{
	char *p = lt_map_anon(2);
	p[0] = 'a';
	int sync[2];
	REQUIRE_OK(pipe(sync));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		char c;
		p[0] = 'c'; /* the child's copy */
		if (read(sync[0], &c, 1) != 1)
			_exit(2);
		/* The parent wrote p[PG] after the fork: not seen here. */
		_exit(p[PG] == 0 && p[0] == 'c' ? 0 : 1);
	}
	p[PG] = 'q';
	REQUIRE_EQ(write(sync[1], "x", 1), 1);
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_EQ(p[0], 'a');
	CHECK_EQ(p[PG], 'q');
}

TEST(file_shared_write_seen_by_read)
{
	int fd = lt_file_of("f", 2, O_RDWR);
	char *p = REQUIRE_MAP(mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
				  MAP_SHARED, fd, 0));
	CHECK_EQ(p[0], 'a');
	CHECK_EQ(p[PG], 'b');
	memcpy(p + PG + 10, "shared", 6);
	char buf[6];
	CHECK_EQ(pread(fd, buf, 6, PG + 10), 6);
	CHECK_MEMEQ(buf, "shared", 6);
}

TEST(file_write_seen_by_shared_mapping)
{
	int fd = lt_file_of("f", 1, O_RDWR);
	char *p = REQUIRE_MAP(mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0));
	CHECK_EQ(pwrite(fd, "new", 3, 100), 3);
	CHECK_MEMEQ(p + 100, "new", 3);
}

TEST(file_shared_write_by_child_seen_by_parent)
{
	int fd = lt_file_of("f", 1, O_RDWR);
	char *p = REQUIRE_MAP(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED,
				  fd, 0));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		memcpy(p + 5, "child", 5);
		_exit(0);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_MEMEQ(p + 5, "child", 5);
	char buf[5];
	CHECK_EQ(pread(fd, buf, 5, 5), 5);
	CHECK_MEMEQ(buf, "child", 5);
}

TEST(file_private_write_not_in_file)
{
	int fd = lt_file_of("f", 1, O_RDWR);
	char *p = REQUIRE_MAP(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE,
				  fd, 0));
	p[0] = 'z';
	char c;
	CHECK_EQ(pread(fd, &c, 1, 0), 1);
	CHECK_EQ(c, 'a');
	CHECK_EQ(p[0], 'z');
}

TEST(file_private_readonly_fd_writable_mapping)
{
	int fd = lt_file_of("f", 1, O_RDONLY);
	char *p = REQUIRE_MAP(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE,
				  fd, 0));
	p[1] = 'w';
	CHECK_EQ(p[1], 'w');
	CHECK_EQ(p[0], 'a');
}

TEST(file_offset_maps_later_page)
{
	int fd = lt_file_of("f", 3, O_RDONLY);
	char *p = REQUIRE_MAP(mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 2 * PG));
	CHECK_EQ(p[0], 'c');
	CHECK_EQ(p[PG - 1], 'c');
}

TEST(file_tail_of_last_page_is_zero)
{
	int fd = REQUIRE_OK(open(lt_path("f"), O_RDWR | O_CREAT, 0644));
	REQUIRE_EQ(write(fd, "abc", 3), 3);
	char *p = REQUIRE_MAP(mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0));
	CHECK_MEMEQ(p, "abc", 3);
	CHECK_EQ(p[3], 0);
	CHECK_EQ(p[PG - 1], 0);
}

TEST(beyond_eof_sigbus)
{
	int fd = lt_file_of("f", 1, O_RDWR);
	char *p = REQUIRE_MAP(mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
				  MAP_SHARED, fd, 0));
	CHECK_EQ(lt_probe(p, 0), 0);
	CHECK_EQ(lt_probe(p + PG, 0), SIGBUS);
	CHECK_EQ(lt_fault_code(), BUS_ADRERR);
	CHECK_EQ(lt_fault_addr(), p + PG);
	/* Growing the file makes the page accessible. */
	REQUIRE_OK(ftruncate(fd, 2 * PG));
	CHECK_EQ(lt_probe(p + PG, 1), 0);
}

TEST(prot_none_sigsegv)
{
	char *p = REQUIRE_MAP(mmap(NULL, PG, PROT_NONE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	CHECK_EQ(lt_probe(p + 8, 0), SIGSEGV);
	CHECK_EQ(lt_fault_code(), SEGV_ACCERR);
	CHECK_EQ(lt_fault_addr(), p + 8);
	CHECK_EQ(lt_probe(p, 1), SIGSEGV);
}

TEST(read_only_write_sigsegv)
{
	char *p = REQUIRE_MAP(mmap(NULL, PG, PROT_READ,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	CHECK_EQ(lt_probe(p, 0), 0);
	CHECK_EQ(lt_probe(p, 1), SIGSEGV);
	CHECK_EQ(lt_fault_code(), SEGV_ACCERR);
}

TEST(unmapped_sigsegv_maperr)
{
	char *p = lt_map_anon(1);
	REQUIRE_OK(munmap(p, PG));
	CHECK_EQ(lt_probe(p, 0), SIGSEGV);
	CHECK_EQ(lt_fault_code(), SEGV_MAPERR);
	CHECK_EQ(lt_fault_addr(), p);
}

TEST(fixed_replaces_mapping)
{
	char *p = lt_map_anon(3);
	memset(p, 'x', 3 * PG);
	char *q = REQUIRE_MAP(mmap(p + PG, PG, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	CHECK_EQ(q, p + PG);
	CHECK_EQ(p[0], 'x');
	CHECK_EQ(p[PG], 0);
	CHECK_EQ(p[2 * PG], 'x');
}

TEST(fixed_unaligned_einval)
{
	char *p = lt_map_anon(2);
	CHECK_ERR(mmap(p + 1, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		       -1, 0), EINVAL);
}

TEST(fixed_noreplace_eexist)
{
	char *p = lt_map_anon(2);
	CHECK_ERR(mmap(p + PG, PG, PROT_READ,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0),
		  EEXIST);
	/* Overlapping only the start of the range is enough. */
	CHECK_ERR(mmap(p + PG, 2 * PG, PROT_READ,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0),
		  EEXIST);
	p[PG] = 'k';
	CHECK_EQ(p[PG], 'k');
}

TEST(fixed_noreplace_free_range)
{
	char *p = lt_map_anon(2);
	REQUIRE_OK(munmap(p, 2 * PG));
	char *q = CHECK_MAP(mmap(p, 2 * PG, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
				-1, 0));
	CHECK_EQ(q, p);
}

TEST(hint_used_when_free)
{
	char *p = lt_map_anon(4);
	REQUIRE_OK(munmap(p, 4 * PG));
	char *q = CHECK_MAP(mmap(p + PG, PG, PROT_READ,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	CHECK_EQ(q, p + PG);
}

TEST(hint_not_used_when_taken)
{
	char *p = lt_map_anon(1);
	p[0] = 'k';
	char *q = CHECK_MAP(mmap(p, PG, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	CHECK_NE(q, p);
	CHECK_EQ(p[0], 'k');
}

TEST(populate_makes_resident)
{
	char *p = REQUIRE_MAP(mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0));
	unsigned char vec[4];
	REQUIRE_OK(mincore(p, 4 * PG, vec));
	for (int i = 0; i < 4; i++)
		CHECK_EQ(vec[i] & 1, 1);
	CHECK_EQ(p[3 * PG], 0);
}

TEST(growsdown_and_noreserve_usable)
{
	char *g = REQUIRE_MAP(mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0));
	g[PG] = 'g';
	CHECK_EQ(g[PG], 'g');
	char *n = REQUIRE_MAP(mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
	n[(1 << 20) - 1] = 'n';
	CHECK_EQ(n[(1 << 20) - 1], 'n');
	CHECK_EQ(n[0], 0);
}

TEST(length_zero_einval)
{
	CHECK_ERR(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
		  EINVAL);
	int fd = lt_file_of("f", 1, O_RDONLY);
	CHECK_ERR(mmap(NULL, 0, PROT_READ, MAP_SHARED, fd, 0), EINVAL);
}

TEST(unaligned_offset_einval)
{
	int fd = lt_file_of("f", 2, O_RDONLY);
	CHECK_ERR(mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 100), EINVAL);
	CHECK_ERR(mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, PG + 1), EINVAL);
}

TEST(no_type_einval)
{
	CHECK_ERR(mmap(NULL, PG, PROT_READ, MAP_ANONYMOUS, -1, 0), EINVAL);
	CHECK_ERR(mmap(NULL, PG, PROT_READ, MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0), EINVAL);
}

TEST(shared_validate_unknown_flag_eopnotsupp)
{
	int fd = lt_file_of("f", 1, O_RDWR);
	CHECK_ERR(mmap(NULL, PG, PROT_READ, MAP_SHARED_VALIDATE | 0x200000, fd, 0),
		  EOPNOTSUPP);
	/* MAP_SYNC needs a DAX file. */
	CHECK_ERR(mmap(NULL, PG, PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0),
		  EOPNOTSUPP);
	/* Plain MAP_SHARED ignores unknown flags. */
	char *p = CHECK_MAP(mmap(NULL, PG, PROT_READ | PROT_WRITE,
				 MAP_SHARED | 0x200000, fd, 0));
	if (p != MAP_FAILED)
		CHECK_EQ(p[0], 'a');
	p = CHECK_MAP(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED_VALIDATE,
			   fd, 0));
	if (p != MAP_FAILED)
		CHECK_EQ(p[0], 'a');
}

TEST(shared_validate_anonymous_einval)
{
	CHECK_ERR(mmap(NULL, PG, PROT_READ, MAP_SHARED_VALIDATE | MAP_ANONYMOUS,
		       -1, 0), EINVAL);
}

TEST(bad_fd_ebadf)
{
	CHECK_ERR(mmap(NULL, PG, PROT_READ, MAP_SHARED, -1, 0), EBADF);
	CHECK_ERR(mmap(NULL, PG, PROT_READ, MAP_PRIVATE, 999, 0), EBADF);
}

TEST(write_only_fd_eacces)
{
	int fd = lt_file_of("f", 1, O_WRONLY);
	CHECK_ERR(mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0), EACCES);
	CHECK_ERR(mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0), EACCES);
}

TEST(shared_writable_on_read_only_fd_eacces)
{
	int fd = lt_file_of("f", 1, O_RDONLY);
	CHECK_ERR(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
		  EACCES);
	char *p = CHECK_MAP(mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0));
	if (p != MAP_FAILED)
		CHECK_EQ(p[0], 'a');
}

TEST(o_append_fd_shared_writable)
{
	int fd = lt_file_of("f", 1, O_RDWR | O_APPEND);
	char *p = CHECK_MAP(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED,
				 fd, 0));
	if (p != MAP_FAILED) {
		p[0] = 'A';
		char c;
		CHECK_EQ(pread(fd, &c, 1, 0), 1);
		CHECK_EQ(c, 'A');
	}
}

TEST(dev_zero_maps_zeroes)
{
	int fd = REQUIRE_OK(open("/dev/zero", O_RDWR));
	char *p = REQUIRE_MAP(mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE, fd, 0));
	CHECK_EQ(p[PG + 3], 0);
	p[0] = 'z';
	CHECK_EQ(p[0], 'z');
	char *s = REQUIRE_MAP(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED,
				   fd, 0));
	pid_t pid = REQUIRE_OK(fork());
	if (pid == 0) {
		s[1] = 's';
		_exit(0);
	}
	CHECK_EQ(lt_wait_exit(pid), 0);
	CHECK_EQ(s[1], 's');
}

TEST(pipe_and_directory_enodev)
{
	int p[2];
	REQUIRE_OK(pipe(p));
	CHECK_ERR(mmap(NULL, PG, PROT_READ, MAP_SHARED, p[0], 0), ENODEV);
	int d = REQUIRE_OK(open(lt_tmpdir(), O_RDONLY | O_DIRECTORY));
	CHECK_ERR(mmap(NULL, PG, PROT_READ, MAP_PRIVATE, d, 0), ENODEV);
}

TEST(huge_length_enomem)
{
	CHECK_ERR(mmap(NULL, 1UL << 62, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0), ENOMEM);
	CHECK_ERR(mmap(NULL, (size_t)-PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0), ENOMEM);
}

TEST(unknown_prot_bits_ignored)
{
	char *p = CHECK_MAP(mmap(NULL, PG, PROT_READ | 0x100,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	if (p != MAP_FAILED)
		CHECK_EQ(p[0], 0);
}
