package fs

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/vfs"
)

func iovBytes(v ...uint64) []byte {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		le.PutUint64(b[8*i:], x)
	}
	return b
}

func TestParseIovecs(t *testing.T) {
	cases := []struct {
		name  string
		b     []byte
		total int64
		lens  []uint64
		err   error
	}{
		{"empty", nil, 0, nil, nil},
		{"two", iovBytes(0x1000, 10, 0x2000, 20), 30, []uint64{10, 20}, nil},
		{"zero length at any address", iovBytes(^uint64(0)-5, 0), 0, []uint64{0}, nil},
		{"negative length", iovBytes(0x1000, 1<<63), 0, nil, unix.EINVAL},
		{"kernel address", iovBytes(0xffff800000000000, 1), 0, nil, unix.EFAULT},
		{"wraps", iovBytes(0x7fff00000000, 0x8000_0000_0000), 0, nil, unix.EFAULT},
		{"capped at MAX_RW_COUNT", iovBytes(0x1000, maxRWCount-5, 0x10000000, 100, 0x20000000, 7),
			maxRWCount, []uint64{maxRWCount - 5, 5, 0}, nil},
	}
	for _, c := range cases {
		seq, total, err := parseIovecs(c.b)
		if err != c.err {
			t.Errorf("%s: err %v, want %v", c.name, err, c.err)
			continue
		}
		if err != nil {
			continue
		}
		if total != c.total || len(seq) != len(c.lens) {
			t.Errorf("%s: total %d (%d segs), want %d (%d)", c.name, total, len(seq), c.total, len(c.lens))
			continue
		}
		for i, l := range c.lens {
			if seq[i].len != l {
				t.Errorf("%s: seg %d len %d, want %d", c.name, i, seq[i].len, l)
			}
		}
	}
}

func TestSingleSeq(t *testing.T) {
	// Linux checks the uncapped range: a "negative" count is EFAULT.
	if _, _, err := singleSeq(0x1000, 1<<63); err != unix.EFAULT {
		t.Errorf("negative count: %v", err)
	}
	if _, n, err := singleSeq(0x1000, 1<<40); err != nil || n != maxRWCount {
		t.Errorf("huge count: %d %v", n, err)
	}
	if _, _, err := singleSeq(taskSize-10, 100); err != unix.EFAULT {
		t.Errorf("past user space: %v", err)
	}
	if _, n, err := singleSeq(0, 0); err != nil || n != 0 {
		t.Errorf("zero: %d %v", n, err)
	}
}

// ioSeq.walk splits a logical range over segments.
func TestIoSeqWalk(t *testing.T) {
	s := ioSeq{{0x1000, 4}, {0x2000, 0}, {0x3000, 6}}
	type piece struct {
		addr    uint64
		from, n int
	}
	var got []piece
	n, err := s.walk(2, 6, func(addr uint64, from, n int) (int, error) {
		got = append(got, piece{addr, from, n})
		return n, nil
	})
	want := []piece{{0x1002, 0, 2}, {0x3000, 2, 4}}
	if n != 6 || err != nil || len(got) != len(want) {
		t.Fatalf("walk = %d, %v, %+v", n, err, got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("piece %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	// A short copy stops the walk with EFAULT and reports progress.
	n, err = s.walk(0, 10, func(addr uint64, from, n int) (int, error) {
		if addr == 0x3000 {
			return 1, unix.EFAULT
		}
		return n, nil
	})
	if n != 5 || err != unix.EFAULT {
		t.Errorf("fault walk = %d, %v", n, err)
	}
}

func TestBuildOpenFlags(t *testing.T) {
	const umask = 0o022
	cases := []struct {
		name    string
		flags   uint64
		mode    uint64
		strict  bool
		want    uint32
		mode2   uint32
		cloexec bool
		err     error
	}{
		{"rdonly", unix.O_RDONLY, 0o777, false, linux.O_LARGEFILE, 0, false, nil},
		{"creat applies umask", unix.O_CREAT | unix.O_WRONLY, 0o777, false, unix.O_CREAT | unix.O_WRONLY | linux.O_LARGEFILE, 0o755, false, nil},
		{"cloexec to the table", unix.O_RDWR | unix.O_CLOEXEC, 0, false, unix.O_RDWR | linux.O_LARGEFILE, 0, true, nil},
		{"unknown flag dropped", unix.O_RDONLY | 0x40000000, 0, false, linux.O_LARGEFILE, 0, false, nil},
		{"unknown flag strict", unix.O_RDONLY | 0x40000000, 0, true, 0, 0, false, unix.EINVAL},
		{"upper bits strict", 1 << 40, 0, true, 0, 0, false, unix.EINVAL},
		{"mode without creat strict", unix.O_RDONLY, 0o644, true, 0, 0, false, unix.EINVAL},
		{"mode high bits strict", unix.O_CREAT, 0o10000, true, 0, 0, false, unix.EINVAL},
		{"mode ignored without creat", unix.O_RDONLY, 0o644, false, linux.O_LARGEFILE, 0, false, nil},
		{"creat|directory", unix.O_CREAT | unix.O_DIRECTORY, 0o644, false, 0, 0, false, unix.EINVAL},
		{"tmpfile rdonly", unix.O_TMPFILE | unix.O_RDONLY, 0o600, false, 0, 0, false, unix.EINVAL},
		{"tmpfile without directory", unix.O_TMPFILE&^unix.O_DIRECTORY | unix.O_RDWR, 0o600, false, 0, 0, false, unix.EINVAL},
		{"tmpfile", unix.O_TMPFILE | unix.O_RDWR, 0o666, false, unix.O_TMPFILE | unix.O_RDWR | linux.O_LARGEFILE, 0o644, false, nil},
		{"path strips", unix.O_PATH | unix.O_RDWR | unix.O_TRUNC | unix.O_NOFOLLOW, 0, false, unix.O_PATH | unix.O_NOFOLLOW, 0, false, nil},
		{"path strict", unix.O_PATH | unix.O_TRUNC, 0, true, 0, 0, false, unix.EINVAL},
		{"largefile strict", unix.O_RDONLY | linux.O_LARGEFILE, 0, true, linux.O_LARGEFILE, 0, false, nil},
		{"sync implies dsync", unix.O_SYNC | unix.O_WRONLY, 0, false, unix.O_SYNC | unix.O_WRONLY | linux.O_LARGEFILE, 0, false, nil},
	}
	for _, c := range cases {
		o, err := buildOpenFlags(c.flags, c.mode, umask, c.strict)
		if err != c.err {
			t.Errorf("%s: err %v, want %v", c.name, err, c.err)
			continue
		}
		if err != nil {
			continue
		}
		if o.flags != c.want || o.mode != c.mode2 || o.cloexec != c.cloexec {
			t.Errorf("%s: got flags %#o mode %#o cloexec %v, want %#o %#o %v", c.name, o.flags, o.mode, o.cloexec, c.want, c.mode2, c.cloexec)
		}
	}
}

func TestParseOpenHow(t *testing.T) {
	mk := func(size int, flags, mode, resolve uint64) []byte {
		b := make([]byte, max(size, 24))
		le.PutUint64(b[0:], flags)
		le.PutUint64(b[8:], mode)
		le.PutUint64(b[16:], resolve)
		return b[:size]
	}
	big := mk(40, 0, 0, 0)
	big[39] = 1
	cases := []struct {
		name string
		b    []byte
		err  error
	}{
		{"v0", mk(24, unix.O_RDONLY, 0, 0), nil},
		{"larger zero-padded", mk(64, 0, 0, resolveBeneath), nil},
		{"too small", mk(16, 0, 0, 0), unix.EINVAL},
		{"non-zero tail", big, unix.E2BIG},
		{"too big", mk(pageSize+8, 0, 0, 0), unix.E2BIG},
		{"unknown resolve", mk(24, 0, 0, 0x40), unix.EINVAL},
		{"beneath|in_root", mk(24, 0, 0, resolveBeneath|resolveInRoot), unix.EINVAL},
	}
	for _, c := range cases {
		if _, err := parseOpenHow(c.b); err != c.err {
			t.Errorf("%s: %v, want %v", c.name, err, c.err)
		}
	}
}

func TestSplitPath(t *testing.T) {
	cases := []struct {
		p        string
		comps    []string
		trailing bool
	}{
		{"a/b", []string{"a", "b"}, false},
		{"/a//b/", []string{"a", "b"}, true},
		{"/", nil, true},
		{"..", []string{".."}, false},
	}
	for _, c := range cases {
		comps, tr := splitPath(c.p)
		if len(comps) != len(c.comps) || tr != c.trailing {
			t.Errorf("%q: %q %v", c.p, comps, tr)
			continue
		}
		for i := range comps {
			if comps[i] != c.comps[i] {
				t.Errorf("%q: %q", c.p, comps)
			}
		}
	}
}

func TestFlagChecks(t *testing.T) {
	// RWF_* for preadv2/pwritev2.
	for _, c := range []struct {
		flags      uint32
		fileAppend bool
		want       rwOpts
		err        error
	}{
		{0, false, rwOpts{}, nil},
		{rwfHipri | rwfDsync | rwfNowait | rwfAppend, false, rwOpts{nowait: true, appendMode: true, sync: true}, nil},
		{unix.RWF_NOAPPEND, true, rwOpts{noAppend: true}, nil},
		{unix.RWF_NOAPPEND, false, rwOpts{}, nil},
		{unix.RWF_NOAPPEND | rwfAppend, true, rwOpts{}, unix.EINVAL},
		{unix.RWF_ATOMIC, false, rwOpts{}, unix.EOPNOTSUPP},
		{0x100, false, rwOpts{}, unix.EOPNOTSUPP},
	} {
		if got, err := rwfOpts(c.flags, c.fileAppend); err != c.err || got != c.want {
			t.Errorf("rwfOpts(%#x, %v) = %+v, %v; want %+v, %v", c.flags, c.fileAppend, got, err, c.want, c.err)
		}
	}
	// pipe2.
	for _, c := range []struct {
		flags uint32
		err   error
	}{
		{0, nil},
		{unix.O_CLOEXEC | unix.O_NONBLOCK, nil},
		{unix.O_DIRECT, nil},
		{oNotificationPipe, unix.EINVAL},
		{unix.O_RDWR, unix.EINVAL},
	} {
		if err := checkPipeFlags(c.flags); err != c.err {
			t.Errorf("checkPipeFlags(%#x) = %v, want %v", c.flags, err, c.err)
		}
	}
	// statx.
	for _, c := range []struct {
		flags, mask uint32
		err         error
	}{
		{0, unix.STATX_BASIC_STATS, nil},
		{unix.AT_SYMLINK_NOFOLLOW | unix.AT_EMPTY_PATH | atStatxDontSync, unix.STATX_ALL, nil},
		{atStatxForceSync | atStatxDontSync, 0, unix.EINVAL},
		{unix.AT_REMOVEDIR, 0, unix.EINVAL},
		{0, statxReserved, unix.EINVAL},
	} {
		if err := checkStatxArgs(c.flags, c.mask); err != c.err {
			t.Errorf("checkStatxArgs(%#x, %#x) = %v, want %v", c.flags, c.mask, err, c.err)
		}
	}
	// memfd_create.
	for _, c := range []struct {
		flags uint32
		err   error
	}{
		{0, nil},
		{unix.MFD_CLOEXEC | unix.MFD_ALLOW_SEALING, nil},
		{unix.MFD_NOEXEC_SEAL, nil},
		{unix.MFD_EXEC | unix.MFD_NOEXEC_SEAL, unix.EINVAL},
		{unix.MFD_HUGETLB, unix.EINVAL},
		{unix.MFD_HUGE_2MB, unix.EINVAL},
		{0x100, unix.EINVAL},
	} {
		if err := checkMemfdFlags(c.flags); err != c.err {
			t.Errorf("checkMemfdFlags(%#x) = %v, want %v", c.flags, err, c.err)
		}
	}
}

func TestSyscallTable(t *testing.T) {
	tab := Syscalls()
	for nr, s := range tab {
		if s.Fn == nil || s.Name == "" {
			t.Errorf("syscall %d: incomplete entry %+v", nr, s.Name)
		}
	}
	for _, nr := range []uintptr{unix.SYS_READ, unix.SYS_OPENAT, unix.SYS_FCNTL, unix.SYS_GETDENTS64, unix.SYS_STATX} {
		if _, ok := tab[nr]; !ok {
			t.Errorf("syscall %d missing", nr)
		}
	}
}

func TestAdjustStatxMask(t *testing.T) {
	full := unix.STATX_BASIC_STATS | unix.STATX_BTIME | unix.STATX_MNT_ID
	for _, c := range []struct {
		req, want uint32
	}{
		{unix.STATX_BASIC_STATS, unix.STATX_BASIC_STATS | unix.STATX_MNT_ID},
		{unix.STATX_BTIME, uint32(full)},
		{statxMntIDUnique, unix.STATX_BASIC_STATS | statxMntIDUnique},
	} {
		st := vfs.Statx{Mask: uint32(full), Btime: unix.StatxTimestamp{Sec: 5}}
		adjustStatxMask(&st, c.req)
		if st.Mask != c.want {
			t.Errorf("request %#x: mask %#x, want %#x", c.req, st.Mask, c.want)
		}
		if st.Mask&unix.STATX_BTIME == 0 && st.Btime.Sec != 0 {
			t.Errorf("request %#x: btime left in place without STATX_BTIME", c.req)
		}
	}
}
