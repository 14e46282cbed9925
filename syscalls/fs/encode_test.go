package fs

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/vfs"
)

// rawBytes returns the memory of v (a struct the host kernel filled).
func rawBytes[T any](v *T) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(v)), unsafe.Sizeof(*v))
}

// hostFile makes a file with some content and an xattr-free inode.
func hostFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, bytes.Repeat([]byte("x"), 12345), 0o640); err != nil {
		t.Fatal(err)
	}
	return p
}

// The host kernel is the reference: its struct stat for a file must be
// byte for byte what encodeStat makes of its statx for the same file.
func TestEncodeStatMatchesHost(t *testing.T) {
	for _, p := range []string{hostFile(t), "/", "/dev/null"} {
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			t.Fatal(err)
		}
		var stx unix.Statx_t
		if err := unix.Statx(unix.AT_FDCWD, p, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_ALL, &stx); err != nil {
			t.Fatal(err)
		}
		if unsafe.Sizeof(st) != statSize {
			t.Fatalf("sizeof(stat) = %d", unsafe.Sizeof(st))
		}
		got := encodeStat(&stx)
		if want := rawBytes(&st); !bytes.Equal(got, want) {
			t.Errorf("%s: encodeStat\n got %x\nwant %x", p, got, want)
		}
	}
}

func TestEncodeStatxMatchesHost(t *testing.T) {
	p := hostFile(t)
	var stx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, p, 0, unix.STATX_ALL, &stx); err != nil {
		t.Fatal(err)
	}
	if unsafe.Sizeof(stx) != statxSize {
		t.Fatalf("sizeof(statx) = %d", unsafe.Sizeof(stx))
	}
	got := encodeStatx(&stx)
	if want := rawBytes(&stx); !bytes.Equal(got, want) {
		t.Errorf("encodeStatx\n got %x\nwant %x", got, want)
	}
}

func TestEncodeStatfsLayout(t *testing.T) {
	var s unix.Statfs_t
	if err := unix.Statfs("/", &s); err != nil {
		t.Fatal(err)
	}
	if unsafe.Sizeof(s) != statfsSize {
		t.Fatalf("sizeof(statfs) = %d", unsafe.Sizeof(s))
	}
	// Apart from f_flags (computed from our mount flags) and f_spare, the
	// encoding is the host's own layout.
	got := encodeStatfs(&s, 0)
	want := rawBytes(&s)
	if !bytes.Equal(got[:80], want[:80]) {
		t.Errorf("statfs\n got %x\nwant %x", got[:80], want[:80])
	}
	cases := []struct {
		mount uint32
		want  uint64
	}{
		{0, stValid},
		{vfs.MountReadOnly, stValid | stRdonly},
		{vfs.MountNoSuid | vfs.MountNoDev | vfs.MountNoExec, stValid | stNosuid | stNodev | stNoexec},
	}
	for _, c := range cases {
		if f := le.Uint64(encodeStatfs(&s, c.mount)[80:]); f != c.want {
			t.Errorf("mount %#x: f_flags %#x, want %#x", c.mount, f, c.want)
		}
	}
}

func TestDecodeDev(t *testing.T) {
	cases := []struct {
		dev          uint32
		major, minor uint32
	}{
		{0, 0, 0},
		{0x0103, 1, 3},           // /dev/null
		{0x8800, 0x88, 0},        // pts
		{0x12345, 0x123, 0x45},   // 12-bit major
		{0x112345, 0x123, 0x145}, // minor above 8 bits
	}
	for _, c := range cases {
		ma, mi := decodeDev(c.dev)
		if ma != c.major || mi != c.minor {
			t.Errorf("decodeDev(%#x) = %#x,%#x want %#x,%#x", c.dev, ma, mi, c.major, c.minor)
		}
		// Round trip through the glibc encoding for small numbers.
		if c.major < 0x1000 && c.minor < 0x100 && uint32(unix.Mkdev(ma, mi)) != c.dev {
			t.Errorf("Mkdev(%#x,%#x) = %#x, want %#x", ma, mi, unix.Mkdev(ma, mi), c.dev)
		}
	}
}

func TestOldDirents(t *testing.T) {
	ents := []vfs.Dirent{
		{Name: ".", Ino: 1, Type: unix.DT_DIR, NextOff: 1},
		{Name: "..", Ino: 2, Type: unix.DT_DIR, NextOff: 2},
		{Name: "a-longer-name", Ino: 77, Type: unix.DT_REG, NextOff: 3},
	}
	iter := func(start int) func(cb func(vfs.Dirent) bool) error {
		return func(cb func(vfs.Dirent) bool) error {
			for _, e := range ents[start:] {
				if !cb(e) {
					break
				}
			}
			return nil
		}
	}
	// Whole directory.
	buf := make([]byte, 4096)
	n, err := fillOldDirents(buf, iter(0))
	if err != nil {
		t.Fatal(err)
	}
	if want := 24 + 24 + 40; n != want {
		t.Fatalf("n = %d, want %d", n, want)
	}
	// Check the third record's layout.
	r := buf[48:n]
	if le.Uint64(r[0:]) != 77 || le.Uint64(r[8:]) != 3 || le.Uint16(r[16:]) != 40 {
		t.Errorf("record header %x", r[:18])
	}
	if string(r[18:18+13]) != "a-longer-name" || r[18+13] != 0 || r[39] != unix.DT_REG {
		t.Errorf("record body %q", r[18:])
	}
	// A buffer too small for the first entry is EINVAL; one that holds
	// some entries returns those.
	if _, err := fillOldDirents(make([]byte, 10), iter(0)); err != unix.EINVAL {
		t.Errorf("tiny buffer: %v, want EINVAL", err)
	}
	if n, err := fillOldDirents(make([]byte, 50), iter(0)); n != 48 || err != nil {
		t.Errorf("partial: %d, %v", n, err)
	}
	// End of directory.
	if n, err := fillOldDirents(buf, iter(3)); n != 0 || err != nil {
		t.Errorf("eof: %d, %v", n, err)
	}
}

func TestFlockRoundTrip(t *testing.T) {
	in := flockRange{typ: unix.F_WRLCK, whence: unix.SEEK_END, start: -10, len: 5, pid: 1234}
	if out := decodeFlock(encodeFlock(in)); out != in {
		t.Errorf("round trip %+v -> %+v", in, out)
	}
	// Layout check against the host's struct.
	h := unix.Flock_t{Type: unix.F_WRLCK, Whence: unix.SEEK_END, Start: -10, Len: 5, Pid: 1234}
	if got, want := encodeFlock(in), rawBytes(&h); !bytes.Equal(got, want) {
		t.Errorf("struct flock\n got %x\nwant %x", got, want)
	}
}

func TestTimes(t *testing.T) {
	mk := func(v ...int64) []byte {
		b := make([]byte, 32)
		for i, x := range v {
			le.PutUint64(b[8*i:], uint64(x))
		}
		return b
	}
	cases := []struct {
		name string
		b    []byte
		ok   bool
	}{
		{"plain", mk(1, 2, 3, 999999999), true},
		{"now/omit", mk(-5, unix.UTIME_NOW, 7, unix.UTIME_OMIT), true},
		{"nsec too big", mk(1, 1e9, 0, 0), false},
		{"negative nsec", mk(1, -1, 0, 0), false},
	}
	for _, c := range cases {
		ts, err := parseTimespecPair(c.b)
		if (err == nil) != c.ok {
			t.Errorf("%s: err %v", c.name, err)
		}
		if c.ok && ts[0].Sec != int64(le.Uint64(c.b)) {
			t.Errorf("%s: sec %d", c.name, ts[0].Sec)
		}
	}
	ts, err := parseTimevalPair(mk(1, 999999, 2, 0))
	if err != nil || ts[0].Nsec != 999999000 || ts[1].Sec != 2 {
		t.Errorf("timeval: %+v %v", ts, err)
	}
	if _, err := parseTimevalPair(mk(1, 1e6, 2, 0)); err != unix.EINVAL {
		t.Errorf("timeval usec 1e6: %v", err)
	}
}

func TestXattrList(t *testing.T) {
	if got := encodeXattrList([]string{"user.a", "user.bc"}); string(got) != "user.a\x00user.bc\x00" {
		t.Errorf("list %q", got)
	}
	if got := encodeXattrList(nil); len(got) != 0 {
		t.Errorf("empty list %q", got)
	}
}
