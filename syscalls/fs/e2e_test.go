package fs

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/vfs/tmpfs"
)

func TestOpenWriteReadStat(t *testing.T) {
	h := newHarness(t)
	path := h.str("/f")
	fd := h.must("open", Openat, fdcwd, path, unix.O_CREAT|unix.O_RDWR|unix.O_CLOEXEC, 0o666)
	data := []byte("hello, world")
	buf := h.bytes(data)
	if n := h.must("write", Write, fd, buf, uint64(len(data))); n != uint64(len(data)) {
		t.Fatalf("write %d", n)
	}
	if off := h.must("lseek", Lseek, fd, 0, unix.SEEK_CUR); off != uint64(len(data)) {
		t.Errorf("offset %d", off)
	}
	out := h.alloc(64)
	if n := h.must("pread", Pread64, fd, out, 64, 7); n != 5 || string(h.read(out, 5)) != "world" {
		t.Errorf("pread %d %q", n, h.read(out, 5))
	}
	// The umask applied: 0666 &^ 022.
	st := h.alloc(statSize)
	h.must("fstat", Fstat, fd, st)
	b := h.read(st, statSize)
	if mode := le.Uint32(b[24:]); mode != unix.S_IFREG|0o644 {
		t.Errorf("mode %#o", mode)
	}
	if size := le.Uint64(b[48:]); size != uint64(len(data)) {
		t.Errorf("size %d", size)
	}
	// O_CLOEXEC went to the table; F_GETFL has O_LARGEFILE, not O_CLOEXEC.
	if r := h.must("F_GETFD", Fcntl, fd, unix.F_GETFD); r != unix.FD_CLOEXEC {
		t.Errorf("F_GETFD %d", r)
	}
	if r := h.must("F_GETFL", Fcntl, fd, unix.F_GETFL); r != unix.O_RDWR|linux.O_LARGEFILE {
		t.Errorf("F_GETFL %#x", r)
	}
	// readv across two buffers.
	h.must("lseek", Lseek, fd, 0, unix.SEEK_SET)
	b1, b2 := h.alloc(5), h.alloc(100)
	iov := h.bytes(iovBytes(b1, 5, b2, 100))
	if n := h.must("readv", Readv, fd, iov, 2); n != 12 || string(h.read(b1, 5))+string(h.read(b2, 7)) != "hello, world" {
		t.Errorf("readv %d", n)
	}
	h.errno("iovcnt", unix.EINVAL, Readv, fd, iov, 1025)
	h.errno("negative iovcnt", unix.EINVAL, Readv, fd, iov, ^uint64(0))
	h.must("close", Close, fd)
	h.errno("close again", unix.EBADF, Close, fd)
}

func TestPathErrors(t *testing.T) {
	h := newHarness(t)
	h.errno("empty path", unix.ENOENT, Openat, fdcwd, h.str(""), unix.O_RDONLY, 0)
	h.errno("too long", unix.ENAMETOOLONG, Openat, fdcwd, h.str(strings.Repeat("a", 5000)), unix.O_RDONLY, 0)
	h.errno("bad pointer", unix.EFAULT, Openat, fdcwd, 0x10, unix.O_RDONLY, 0)
	h.errno("bad dirfd", unix.EBADF, Openat, 77, h.str("x"), unix.O_RDONLY, 0)
	fd := h.must("creat", Creat, h.str("/file"), 0o600)
	h.errno("dirfd not dir", unix.ENOTDIR, Openat, fd, h.str("x"), unix.O_RDONLY, 0)
	// Absolute paths ignore dirfd entirely.
	h.must("abs with bad dirfd", Openat, 999, h.str("/file"), unix.O_RDONLY, 0)
	// AT_EMPTY_PATH stats the dirfd itself.
	st := h.alloc(statSize)
	h.must("fstatat empty", Newfstatat, fd, h.str(""), st, unix.AT_EMPTY_PATH)
	h.errno("fstatat empty without flag", unix.ENOENT, Newfstatat, fd, h.str(""), st, 0)
	h.errno("fstatat flags", unix.EINVAL, Newfstatat, fdcwd, h.str("/file"), st, 0x1)
}

func TestDirsAndLinks(t *testing.T) {
	h := newHarness(t)
	h.must("mkdir", Mkdir, h.str("/d"), 0o777)
	h.must("chdir", Chdir, h.str("/d"))
	buf := h.alloc(64)
	if n := h.must("getcwd", Getcwd, buf, 64); n != 3 || string(h.read(buf, 3)) != "/d\x00" {
		t.Errorf("getcwd %d %q", n, h.read(buf, 3))
	}
	h.errno("getcwd small", unix.ERANGE, Getcwd, buf, 2)
	h.must("symlink", Symlink, h.str("target-of-link"), h.str("l"))
	if n := h.must("readlink", Readlink, h.str("l"), buf, 6); n != 6 || string(h.read(buf, 6)) != "target" {
		t.Errorf("readlink truncated %d %q", n, h.read(buf, 6))
	}
	h.errno("readlink non-link", unix.EINVAL, Readlink, h.str("/d"), buf, 64)
	h.errno("readlink size 0", unix.EINVAL, Readlink, h.str("l"), buf, 0)
	fd := h.must("creat", Creat, h.str("a"), 0o644)
	h.must("close", Close, fd)
	h.must("link", Link, h.str("a"), h.str("b"))
	h.must("rename", Rename, h.str("b"), h.str("c"))
	h.errno("unlink dir", unix.EISDIR, Unlink, h.str("/d"))
	h.errno("unlinkat flags", unix.EINVAL, Unlinkat, fdcwd, h.str("a"), 0x1)
	h.must("unlink", Unlink, h.str("a"))
	h.must("access", Access, h.str("c"), unix.R_OK|unix.W_OK)
	h.errno("access gone", unix.ENOENT, Access, h.str("a"), 0)

	// getdents64 and the old getdents list the same names.
	dfd := h.must("open dir", Open, h.str("."), unix.O_RDONLY|unix.O_DIRECTORY, 0)
	ents := h.alloc(4096)
	n := h.must("getdents64", Getdents64, dfd, ents, 4096)
	names := direntNames(h.read(ents, int(n)), true)
	if strings.Join(names, ",") != ".,..,l,c" {
		t.Errorf("getdents64 names %v", names)
	}
	h.must("rewind", Lseek, dfd, 0, unix.SEEK_SET)
	n = h.must("getdents", Getdents, dfd, ents, 4096)
	if got := direntNames(h.read(ents, int(n)), false); strings.Join(got, ",") != ".,..,l,c" {
		t.Errorf("getdents names %v", got)
	}
	if n := h.must("getdents at end", Getdents64, dfd, ents, 8); n != 0 {
		t.Errorf("getdents at end %d", n)
	}
	h.must("rewind", Lseek, dfd, 0, unix.SEEK_SET)
	h.errno("getdents small", unix.EINVAL, Getdents64, dfd, ents, 8)
	h.errno("read dir", unix.EISDIR, Read, dfd, ents, 10)

	h.must("unlink c", Unlink, h.str("c"))
	h.must("unlink l", Unlink, h.str("l"))
	h.must("rmdir cwd", Rmdir, h.str("/d"))
	h.errno("getcwd removed", unix.ENOENT, Getcwd, buf, 64)
}

func direntNames(b []byte, is64 bool) []string {
	var out []string
	for len(b) > 0 {
		rl := int(le.Uint16(b[16:]))
		nameOff := 19
		if !is64 {
			nameOff = 18
		}
		name := b[nameOff:rl]
		out = append(out, string(name[:bytes.IndexByte(name, 0)]))
		b = b[rl:]
	}
	return out
}

func TestPipeDupFcntl(t *testing.T) {
	h := newHarness(t)
	fds := h.alloc(8)
	h.errno("pipe2 O_NOTIFICATION_PIPE", unix.EINVAL, Pipe2, fds, oNotificationPipe)
	h.must("pipe2", Pipe2, fds, unix.O_NONBLOCK)
	b := h.read(fds, 8)
	r, w := uint64(le.Uint32(b)), uint64(le.Uint32(b[4:]))
	buf := h.alloc(16)
	h.errno("empty nonblocking read", unix.EAGAIN, Read, r, buf, 16)
	h.must("write", Write, w, h.str("abc"), 3)
	if n := h.must("ioctl FIONREAD", Ioctl, r, 0x541B, buf); n != 0 || le.Uint32(h.read(buf, 4)) != 3 {
		t.Errorf("FIONREAD %d", le.Uint32(h.read(buf, 4)))
	}
	if sz := h.must("F_GETPIPE_SZ", Fcntl, r, fGetPipeSz); sz != 65536 {
		t.Errorf("pipe size %d", sz)
	}
	h.errno("lseek pipe", unix.ESPIPE, Lseek, r, 0, 0)
	h.errno("pread pipe", unix.ESPIPE, Pread64, r, buf, 1, 0)
	d := h.must("F_DUPFD", Fcntl, r, unix.F_DUPFD, 10)
	if d != 10 {
		t.Errorf("F_DUPFD = %d", d)
	}
	h.must("dup2", Dup2, w, 20)
	h.errno("dup3 same", unix.EINVAL, Dup3, 20, 20, 0)
	h.must("dup3 cloexec", Dup3, w, 21, unix.O_CLOEXEC)
	if r := h.must("F_GETFD", Fcntl, 21, unix.F_GETFD); r != unix.FD_CLOEXEC {
		t.Errorf("dup3 cloexec %d", r)
	}
	h.must("FIONCLEX", Ioctl, 21, fionclex)
	if r := h.must("F_GETFD", Fcntl, 21, unix.F_GETFD); r != 0 {
		t.Errorf("after FIONCLEX %d", r)
	}
	if n := h.must("read dup", Read, d, buf, 16); n != 3 {
		t.Errorf("read %d", n)
	}
	// Clear O_NONBLOCK with FIONBIO, check F_GETFL.
	h.must("FIONBIO", Ioctl, r, fionbio, h.bytes([]byte{0, 0, 0, 0}))
	if fl := h.must("F_GETFL", Fcntl, r, unix.F_GETFL); fl&unix.O_NONBLOCK != 0 {
		t.Errorf("O_NONBLOCK still set: %#x", fl)
	}
	// Close every write end: reads see EOF, writes get EPIPE.
	h.must("close_range", CloseRange, w, w, 0)
	h.must("close", Close, 20)
	h.must("close", Close, 21)
	if n := h.must("eof", Read, r, buf, 16); n != 0 {
		t.Errorf("eof read %d", n)
	}
	h.must("pipe", Pipe, fds)
	b = h.read(fds, 8)
	h.must("close read end", Close, uint64(le.Uint32(b)))
	h.errno("EPIPE", unix.EPIPE, Write, uint64(le.Uint32(b[4:])), buf, 1)
}

func TestRecordLocksThroughFcntl(t *testing.T) {
	h := newHarness(t)
	fd := h.must("open", Openat, fdcwd, h.str("/lk"), unix.O_CREAT|unix.O_RDWR, 0o644)
	lk := h.bytes(encodeFlock(flockRange{typ: lockWrite, whence: unix.SEEK_SET, start: 0, len: 10}))
	h.must("F_SETLK", Fcntl, fd, unix.F_SETLK, lk)
	// Our own lock never conflicts with us.
	q := h.bytes(encodeFlock(flockRange{typ: lockWrite, whence: unix.SEEK_SET}))
	h.must("F_GETLK", Fcntl, fd, unix.F_GETLK, q)
	if got := decodeFlock(h.read(q, flockSize)); got.typ != lockUnlock {
		t.Errorf("F_GETLK own lock: %+v", got)
	}
	// An OFD lock on another open file description conflicts.
	fd2 := h.must("open2", Openat, fdcwd, h.str("/lk"), unix.O_RDWR, 0)
	q = h.bytes(encodeFlock(flockRange{typ: lockRead, whence: unix.SEEK_SET, start: 5, len: 1}))
	h.must("F_OFD_GETLK", Fcntl, fd2, unix.F_OFD_GETLK, q)
	if got := decodeFlock(h.read(q, flockSize)); got.typ != lockWrite || got.start != 0 || got.len != 10 || got.pid != h.task.ThreadGroup().ID() {
		t.Errorf("F_OFD_GETLK: %+v", got)
	}
	q = h.bytes(encodeFlock(flockRange{typ: lockRead, whence: unix.SEEK_SET, start: 5, len: 1}))
	h.errno("F_OFD_SETLK conflict", unix.EAGAIN, Fcntl, fd2, unix.F_OFD_SETLK, q)
	// Closing any descriptor of the file drops the process's locks.
	fd3 := h.must("open3", Openat, fdcwd, h.str("/lk"), unix.O_RDONLY, 0)
	h.must("close3", Close, fd3)
	h.must("F_OFD_SETLK after close", Fcntl, fd2, unix.F_OFD_SETLK, q)
	// flock: separate from record locks; LOCK_NB conflicts between OFDs.
	h.must("flock ex", Flock, fd, lockEX|lockNB)
	h.errno("flock conflict", unix.EAGAIN, Flock, fd2, lockSH|lockNB)
	h.must("close fd", Close, fd)
	h.must("flock after close", Flock, fd2, lockSH|lockNB)
	h.errno("flock bad op", unix.EINVAL, Flock, fd2, 0)
}

func TestMemfdSeals(t *testing.T) {
	h := newHarness(t)
	fd := h.must("memfd_create", MemfdCreate, h.str("x"), unix.MFD_ALLOW_SEALING)
	h.must("write", Write, fd, h.str("data"), 4)
	h.must("seal", Fcntl, fd, fAddSeals, unix.F_SEAL_GROW|unix.F_SEAL_SHRINK)
	if s := h.must("get seals", Fcntl, fd, fGetSeals); s != unix.F_SEAL_GROW|unix.F_SEAL_SHRINK {
		t.Errorf("seals %#x", s)
	}
	h.errno("grow by write", unix.EPERM, Write, fd, h.str("more"), 4)
	h.must("overwrite in place", Pwrite64, fd, h.str("DA"), 2, 0)
	h.errno("shrink", unix.EPERM, Ftruncate, fd, 1)
	h.errno("grow", unix.EPERM, Ftruncate, fd, 100)
	h.must("same size", Ftruncate, fd, 4)
	h.must("seal write", Fcntl, fd, fAddSeals, unix.F_SEAL_WRITE|unix.F_SEAL_SEAL)
	h.errno("write sealed", unix.EPERM, Pwrite64, fd, h.str("x"), 1, 0)
	h.errno("seal sealed", unix.EPERM, Fcntl, fd, fAddSeals, unix.F_SEAL_GROW)
	plain := h.must("memfd no sealing", MemfdCreate, h.str("y"), 0)
	h.errno("seal without ALLOW_SEALING", unix.EPERM, Fcntl, plain, fAddSeals, unix.F_SEAL_GROW)
	// The harness's root is a tmpfs: as on Linux, its files have
	// F_SEAL_SEAL from the start.
	f := h.must("creat", Creat, h.str("/reg"), 0o644)
	if s := h.must("seals on a tmpfs file", Fcntl, f, fGetSeals); s != unix.F_SEAL_SEAL {
		t.Errorf("seals on a tmpfs file %#x, want F_SEAL_SEAL", s)
	}
	h.errno("seal a tmpfs file", unix.EPERM, Fcntl, f, fAddSeals, unix.F_SEAL_GROW)
	fds := h.alloc(8)
	h.must("pipe2", Pipe2, fds, 0)
	h.errno("seals on a pipe", unix.EINVAL, Fcntl, uint64(le.Uint32(h.read(fds, 4))), fGetSeals)
}

func TestOpenat2Resolve(t *testing.T) {
	h := newHarness(t)
	h.must("mkdir", Mkdir, h.str("/r"), 0o755)
	h.must("mkdir", Mkdir, h.str("/r/sub"), 0o755)
	h.must("creat", Creat, h.str("/r/sub/f"), 0o644)
	h.must("creat", Creat, h.str("/outside"), 0o644)
	h.must("symlink", Symlink, h.str("sub/f"), h.str("/r/rel"))
	h.must("symlink", Symlink, h.str("/outside"), h.str("/r/abs"))
	dir := h.must("open r", Open, h.str("/r"), unix.O_RDONLY|unix.O_DIRECTORY, 0)
	how := func(flags, resolve uint64) uint64 {
		b := make([]byte, 24)
		le.PutUint64(b, flags)
		le.PutUint64(b[16:], resolve)
		return h.bytes(b)
	}
	open2 := func(path string, flags, resolve uint64) (uint64, error) {
		return h.call(Openat2, dir, h.str(path), how(flags, resolve), 24)
	}
	cases := []struct {
		path    string
		resolve uint64
		err     error
	}{
		{"sub/f", resolveBeneath, nil},
		{"rel", resolveBeneath, nil},
		{"rel", resolveNoSymlinks, unix.ELOOP},
		{"../outside", resolveBeneath, unix.EXDEV},
		{"abs", resolveBeneath, unix.EXDEV},
		{"/sub/f", resolveBeneath, unix.EXDEV},
		{"/sub/f", resolveInRoot, nil},
		{"../../sub/f", resolveInRoot, nil},
		{"abs", resolveInRoot, unix.ENOENT}, // "/outside" inside /r
		{"abs", 0, nil},
		{"sub/../sub/./f", resolveBeneath | resolveNoXdev, nil},
	}
	for _, c := range cases {
		if _, err := open2(c.path, unix.O_RDONLY, c.resolve); err != c.err {
			t.Errorf("openat2(%q, resolve %#x) = %v, want %v", c.path, c.resolve, err, c.err)
		}
	}
	// Creation through the restricted walk.
	if _, err := open2("sub/new", unix.O_CREAT|unix.O_WRONLY, resolveBeneath); err != nil {
		t.Errorf("create beneath: %v", err)
	}
	h.must("stat new", Stat, h.str("/r/sub/new"), h.alloc(statSize))
	// Unknown flag bits in open_how are EINVAL; mode without O_CREAT too.
	if _, err := h.call(Openat2, dir, h.str("sub/f"), how(1<<40, 0), 24); err != unix.EINVAL {
		t.Errorf("openat2 upper flag bits: %v", err)
	}
}

func TestXattrsAndTimes(t *testing.T) {
	h := newHarness(t)
	h.must("creat", Creat, h.str("/x"), 0o644)
	path := h.str("/x")
	name := h.str("user.k")
	h.must("setxattr", Setxattr, path, name, h.str("value"), 5, 0)
	if n := h.must("getxattr size", Getxattr, path, name, 0, 0); n != 5 {
		t.Errorf("size %d", n)
	}
	buf := h.alloc(64)
	h.errno("getxattr small", unix.ERANGE, Getxattr, path, name, buf, 2)
	if n := h.must("listxattr", Listxattr, path, buf, 64); string(h.read(buf, int(n))) != "user.k\x00" {
		t.Errorf("list %q", h.read(buf, int(n)))
	}
	h.errno("empty name", unix.ERANGE, Getxattr, path, h.str(""), buf, 64)
	h.must("removexattr", Removexattr, path, name)
	h.errno("gone", unix.ENODATA, Getxattr, path, name, buf, 64)

	ts := make([]byte, 32)
	le.PutUint64(ts[0:], 1000)
	le.PutUint64(ts[8:], 5)
	le.PutUint64(ts[16:], 2000)
	le.PutUint64(ts[24:], unix.UTIME_OMIT)
	h.must("utimensat", Utimensat, fdcwd, path, h.bytes(ts), 0)
	st := h.alloc(statSize)
	h.must("stat", Stat, path, st)
	b := h.read(st, statSize)
	if le.Uint64(b[72:]) != 1000 || le.Uint64(b[80:]) != 5 || le.Uint64(b[88:]) == 2000 {
		t.Errorf("times: atime %d.%d mtime %d", le.Uint64(b[72:]), le.Uint64(b[80:]), le.Uint64(b[88:]))
	}
	le.PutUint64(ts[8:], 1e9)
	h.errno("bad nsec", unix.EINVAL, Utimensat, fdcwd, path, h.bytes(ts), 0)
	h.must("chmod", Chmod, path, 0o600)
	h.must("stat", Stat, path, st)
	if mode := le.Uint32(h.read(st, statSize)[24:]); mode != unix.S_IFREG|0o600 {
		t.Errorf("mode %#o", mode)
	}
	h.must("truncate", Truncate, path, 100)
	stx := h.alloc(statxSize)
	h.must("statx", Statx, fdcwd, path, 0, unix.STATX_BASIC_STATS, stx)
	if size := le.Uint64(h.read(stx, statxSize)[40:]); size != 100 {
		t.Errorf("statx size %d", size)
	}
	if old := h.must("umask", Umask, 0o077); old != 0o022 {
		t.Errorf("umask %o", old)
	}
}

func TestSendfileSplice(t *testing.T) {
	h := newHarness(t)
	src := h.must("creat src", Openat, fdcwd, h.str("/src"), unix.O_CREAT|unix.O_RDWR, 0o644)
	payload := bytes.Repeat([]byte("0123456789"), 1000)
	h.must("write", Write, src, h.bytes(payload), uint64(len(payload)))
	dst := h.must("creat dst", Openat, fdcwd, h.str("/dst"), unix.O_CREAT|unix.O_RDWR, 0o644)
	off := h.bytes(make([]byte, 8))
	le.PutUint64(h.read(off, 8), 0)
	if n := h.must("sendfile", Sendfile, dst, src, off, 5000); n != 5000 {
		t.Errorf("sendfile %d", n)
	}
	if o := le.Uint64(h.read(off, 8)); o != 5000 {
		t.Errorf("offset after sendfile %d", o)
	}
	// copy_file_range the rest using the file offsets.
	h.must("lseek", Lseek, src, 5000, unix.SEEK_SET)
	if n := h.must("copy_file_range", CopyFileRange, src, 0, dst, 0, 1<<20, 0); n != 5000 {
		t.Errorf("copy_file_range %d", n)
	}
	if o := h.must("lseek dst", Lseek, dst, 0, unix.SEEK_CUR); o != 10000 {
		t.Errorf("dst offset %d", o)
	}
	got := h.alloc(len(payload))
	h.must("pread", Pread64, dst, got, uint64(len(payload)), 0)
	if !bytes.Equal(h.read(got, len(payload)), payload) {
		t.Error("copied data differs")
	}
	// splice file -> pipe -> file.
	fds := h.alloc(8)
	h.must("pipe", Pipe, fds)
	b := h.read(fds, 8)
	r, w := uint64(le.Uint32(b)), uint64(le.Uint32(b[4:]))
	inOff := h.bytes(make([]byte, 8))
	if n := h.must("splice in", Splice, src, inOff, w, 0, 100, 0); n != 100 {
		t.Errorf("splice to pipe %d", n)
	}
	h.errno("splice offset on pipe", unix.ESPIPE, Splice, r, inOff, dst, 0, 10, 0)
	h.errno("splice no pipe", unix.EINVAL, Splice, src, 0, dst, 0, 10, 0)
	out := h.must("creat out", Openat, fdcwd, h.str("/out"), unix.O_CREAT|unix.O_RDWR, 0o644)
	if n := h.must("splice out", Splice, r, 0, out, 0, 1000, 0); n != 100 {
		t.Errorf("splice from pipe %d", n)
	}
	h.must("pread", Pread64, out, got, 100, 0)
	if !bytes.Equal(h.read(got, 100), payload[:100]) {
		t.Error("spliced data differs")
	}
}

// sendfile cannot read a pipe (Linux has no splice_read for it), and
// copy_file_range does not copy between two file systems.
func TestSendfilePipeSourceAndCopyAcrossFilesystems(t *testing.T) {
	h := newHarness(t)
	fds := h.alloc(8)
	h.must("pipe", Pipe, fds)
	b := h.read(fds, 8)
	r, w := uint64(le.Uint32(b)), uint64(le.Uint32(b[4:]))
	h.must("write", Write, w, h.bytes([]byte("data")), 4)
	src := h.must("creat src", Openat, fdcwd, h.str("/src"), unix.O_CREAT|unix.O_RDWR, 0o644)
	h.must("write src", Write, src, h.bytes([]byte("data")), 4)
	h.must("lseek", Lseek, src, 0, unix.SEEK_SET)
	h.errno("sendfile from a pipe", unix.EINVAL, Sendfile, src, r, 0, 4)

	fs2, err := tmpfs.New(h.task.Kernel().VFS(), h.mf, tmpfs.Options{RootMode: 0o755})
	if err != nil {
		t.Fatal(err)
	}
	h.must("mkdir", Mkdirat, fdcwd, h.str("/mnt"), 0o755)
	vctx := h.task.VFSContext()
	if _, err := h.task.Kernel().VFS().Mount(vctx, h.root, h.root, "/mnt", fs2, 0); err != nil {
		t.Fatal(err)
	}
	dst := h.must("creat dst", Openat, fdcwd, h.str("/mnt/dst"), unix.O_CREAT|unix.O_RDWR, 0o644)
	h.errno("copy_file_range across", unix.EXDEV, CopyFileRange, src, 0, dst, 0, 4, 0)
	if n := h.must("sendfile across", Sendfile, dst, src, 0, 4); n != 4 {
		t.Errorf("sendfile across file systems copied %d, want 4", n)
	}
}

// tee copies a pipe's contents into another pipe without consuming them;
// splice between two ends of one pipe is EINVAL.
func TestTee(t *testing.T) {
	h := newHarness(t)
	pipe := func() (uint64, uint64) {
		fds := h.alloc(8)
		h.must("pipe", Pipe, fds)
		b := h.read(fds, 8)
		return uint64(le.Uint32(b)), uint64(le.Uint32(b[4:]))
	}
	r1, w1 := pipe()
	r2, w2 := pipe()
	h.errno("tee of an empty pipe, non-blocking", unix.EAGAIN, Tee, r1, w2, 10, spliceFNonblock)
	h.must("write", Write, w1, h.bytes([]byte("abcdef")), 6)
	if n := h.must("tee", Tee, r1, w2, 4, 0); n != 4 {
		t.Errorf("tee copied %d, want 4", n)
	}
	got := h.alloc(16)
	if n := h.must("read copy", Read, r2, got, 16); n != 4 || string(h.read(got, 4)) != "abcd" {
		t.Errorf("copy: %q", h.read(got, int(n)))
	}
	if n := h.must("read source", Read, r1, got, 16); n != 6 || string(h.read(got, 6)) != "abcdef" {
		t.Errorf("source after tee: %q", h.read(got, int(n)))
	}
	h.errno("splice within one pipe", unix.EINVAL, Splice, r1, 0, w1, 0, 1, 0)
	h.must("close", Close, w1)
	if n := h.must("tee at EOF", Tee, r1, w2, 4, 0); n != 0 {
		t.Errorf("tee at EOF: %d", n)
	}
}
