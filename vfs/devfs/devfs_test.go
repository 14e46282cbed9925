package devfs

import (
	"bytes"
	"sort"
	"testing"

	"github.com/runsc-lite/runsc-lite/sentry/memfile"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/pipe"
	"github.com/runsc-lite/runsc-lite/vfs/tmpfs"
	"golang.org/x/sys/unix"
)

var rootCtx = vfs.NewContext(vfs.RootCredentials())

type env struct {
	v    *vfs.VFS
	root vfs.Location
}

// newEnv mounts a devfs at /dev of a tmpfs root.
func newEnv(t *testing.T) *env {
	t.Helper()
	mf, err := memfile.New("devfs-test", 16<<20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mf.Close() })
	v := vfs.New()
	rootFS, err := tmpfs.New(v, mf, tmpfs.Options{RootMode: 0o755})
	if err != nil {
		t.Fatal(err)
	}
	ns := v.NewMountNamespace(rootFS, 0)
	root := ns.Root()
	if err := v.Mkdir(rootCtx, root, root, "/dev", 0o755); err != nil {
		t.Fatal(err)
	}
	dev, err := New(v, mf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Mount(rootCtx, root, root, "/dev", dev, 0); err != nil {
		t.Fatal(err)
	}
	return &env{v: v, root: root}
}

func (e *env) open(t *testing.T, ctx vfs.Context, path string, flags uint32) *vfs.File {
	t.Helper()
	f, err := e.v.OpenAt(ctx, e.root, e.root, path, flags, 0)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { f.DecRef(ctx) })
	return f
}

func TestDevices(t *testing.T) {
	e := newEnv(t)
	user := vfs.NewContext(vfs.UserCredentials(1000, 1000))
	zeros := make([]byte, 64)
	tests := []struct {
		path      string
		readN     int
		readZeros bool
		writeErr  error
	}{
		{"/dev/null", 0, false, nil},
		{"/dev/zero", 64, true, nil},
		{"/dev/full", 64, true, unix.ENOSPC},
		{"/dev/random", 64, false, nil},
		{"/dev/urandom", 64, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			// Unprivileged users may open them read-write (0666).
			f := e.open(t, user, tc.path, unix.O_RDWR)
			buf := bytes.Repeat([]byte{0xff}, 64)
			n, err := f.Read(user, buf)
			if err != nil || n != tc.readN {
				t.Fatalf("Read = %d, %v; want %d", n, err, tc.readN)
			}
			if tc.readZeros && !bytes.Equal(buf, zeros) {
				t.Errorf("Read gave %x, want zeros", buf)
			}
			if tc.readN > 0 && !tc.readZeros && bytes.Equal(buf, zeros) {
				t.Errorf("random gave zeros")
			}
			// PRead at any offset (mmap by copying).
			buf = bytes.Repeat([]byte{0xff}, 64)
			n, err = f.PRead(user, buf, 1<<40)
			if err != nil || n != tc.readN {
				t.Fatalf("PRead = %d, %v; want %d", n, err, tc.readN)
			}
			if tc.readZeros && !bytes.Equal(buf, zeros) {
				t.Errorf("PRead gave %x, want zeros", buf)
			}
			n, err = f.Write(user, []byte("data"))
			if err != tc.writeErr || (err == nil && n != 4) {
				t.Errorf("Write = %d, %v; want 4, %v", n, err, tc.writeErr)
			}
			if _, err := f.Seek(user, 100, unix.SEEK_SET); err != nil {
				t.Errorf("Seek: %v", err)
			}
			st, err := f.Stat(user)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode != unix.S_IFCHR|0o666 || st.Rdev_major != MemMajor {
				t.Errorf("mode %#o rdev %d:%d", st.Mode, st.Rdev_major, st.Rdev_minor)
			}
		})
	}
}

func TestRandomLength(t *testing.T) {
	e := newEnv(t)
	f := e.open(t, rootCtx, "/dev/urandom", unix.O_RDONLY)
	for _, n := range []int{0, 1, 7, 4096, 1 << 20} {
		buf := make([]byte, n)
		got, err := f.Read(rootCtx, buf)
		if err != nil || got != n {
			t.Errorf("Read(%d) = %d, %v", n, got, err)
		}
	}
	a, b := make([]byte, 32), make([]byte, 32)
	f.Read(rootCtx, a)
	f.Read(rootCtx, b)
	if bytes.Equal(a, b) {
		t.Error("two random reads are equal")
	}
}

func TestFullENOSPC(t *testing.T) {
	e := newEnv(t)
	f := e.open(t, rootCtx, "/dev/full", unix.O_WRONLY)
	if _, err := f.Write(rootCtx, []byte("x")); err != unix.ENOSPC {
		t.Fatalf("write: %v, want ENOSPC", err)
	}
	if _, err := f.Write(rootCtx, nil); err != unix.ENOSPC {
		t.Fatalf("write of nothing: %v, want ENOSPC", err)
	}
	if _, err := f.PWrite(rootCtx, []byte("x"), 10); err != unix.ENOSPC {
		t.Fatalf("pwrite: %v, want ENOSPC", err)
	}
}

func TestListing(t *testing.T) {
	e := newEnv(t)
	f := e.open(t, rootCtx, "/dev", unix.O_RDONLY|unix.O_DIRECTORY)
	got := map[string]uint8{}
	if err := f.IterDirents(rootCtx, func(d vfs.Dirent) bool {
		got[d.Name] = d.Type
		return true
	}); err != nil {
		t.Fatal(err)
	}
	want := map[string]uint8{
		".": unix.DT_DIR, "..": unix.DT_DIR,
		"null": unix.DT_CHR, "zero": unix.DT_CHR, "full": unix.DT_CHR, "random": unix.DT_CHR,
		"urandom": unix.DT_CHR, "tty": unix.DT_CHR, "ptmx": unix.DT_CHR,
		"fd": unix.DT_LNK, "stdin": unix.DT_LNK, "stdout": unix.DT_LNK, "stderr": unix.DT_LNK,
		"shm": unix.DT_DIR, "pts": unix.DT_DIR,
	}
	var names []string
	for n := range got {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(got) != len(want) {
		t.Errorf("entries %v", names)
	}
	for n, typ := range want {
		if g, ok := got[n]; !ok || g != typ {
			t.Errorf("%s: type %d present %v, want %d", n, g, ok, typ)
		}
	}
	// The pts directory is empty.
	pts := e.open(t, rootCtx, "/dev/pts", unix.O_RDONLY|unix.O_DIRECTORY)
	n := 0
	pts.IterDirents(rootCtx, func(d vfs.Dirent) bool { n++; return true })
	if n != 2 {
		t.Errorf("/dev/pts has %d entries, want . and ..", n)
	}
}

func TestModesAndLinks(t *testing.T) {
	e := newEnv(t)
	modes := []struct {
		path string
		mode uint32
		rdev uint64
	}{
		{"/dev", unix.S_IFDIR | 0o755, 0},
		{"/dev/shm", unix.S_IFDIR | 0o1777, 0},
		{"/dev/pts", unix.S_IFDIR | 0o755, 0},
		{"/dev/null", unix.S_IFCHR | 0o666, unix.Mkdev(1, 3)},
		{"/dev/zero", unix.S_IFCHR | 0o666, unix.Mkdev(1, 5)},
		{"/dev/full", unix.S_IFCHR | 0o666, unix.Mkdev(1, 7)},
		{"/dev/random", unix.S_IFCHR | 0o666, unix.Mkdev(1, 8)},
		{"/dev/urandom", unix.S_IFCHR | 0o666, unix.Mkdev(1, 9)},
		{"/dev/tty", unix.S_IFCHR | 0o666, unix.Mkdev(5, 0)},
		{"/dev/ptmx", unix.S_IFCHR | 0o666, unix.Mkdev(5, 2)},
		{"/dev/fd", unix.S_IFLNK | 0o777, 0},
	}
	for _, m := range modes {
		st, err := e.v.Stat(rootCtx, e.root, e.root, m.path, unix.AT_SYMLINK_NOFOLLOW)
		if err != nil {
			t.Errorf("stat %s: %v", m.path, err)
			continue
		}
		if uint32(st.Mode) != m.mode || unix.Mkdev(st.Rdev_major, st.Rdev_minor) != m.rdev {
			t.Errorf("%s: mode %#o rdev %d:%d, want %#o %#x", m.path, st.Mode, st.Rdev_major, st.Rdev_minor, m.mode, m.rdev)
		}
	}
	links := map[string]string{
		"/dev/fd":     "/proc/self/fd",
		"/dev/stdin":  "/proc/self/fd/0",
		"/dev/stdout": "/proc/self/fd/1",
		"/dev/stderr": "/proc/self/fd/2",
	}
	for p, want := range links {
		if got, err := e.v.Readlink(rootCtx, e.root, e.root, p); err != nil || got != want {
			t.Errorf("readlink %s = %q, %v", p, got, err)
		}
	}
	// /dev/shm is usable by anyone.
	user := vfs.NewContext(vfs.UserCredentials(1000, 1000))
	f, err := e.v.OpenAt(user, e.root, e.root, "/dev/shm/x", unix.O_CREAT|unix.O_RDWR, 0o600)
	if err != nil {
		t.Fatalf("create in /dev/shm: %v", err)
	}
	f.DecRef(user)
}

type ttyCtx struct {
	vfs.Context
	tty *vfs.File
}

func (c ttyCtx) ControllingTerminal() *vfs.File { return c.tty }

func TestTTYAndPtmx(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/dev/tty", "/dev/ptmx"} {
		if _, err := e.v.OpenAt(rootCtx, e.root, e.root, p, unix.O_RDWR, 0); err != unix.ENXIO {
			t.Errorf("open %s: %v, want ENXIO", p, err)
		}
	}
	if _, err := e.v.OpenAt(ttyCtx{rootCtx, nil}, e.root, e.root, "/dev/tty", unix.O_RDWR, 0); err != unix.ENXIO {
		t.Errorf("open /dev/tty without a terminal: %v, want ENXIO", err)
	}
	// A controlling terminal (a pipe stands in for it): /dev/tty forwards.
	r, w, err := pipe.NewPipe(e.v, rootCtx, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.DecRef(rootCtx)
	ctx := ttyCtx{rootCtx, w}
	f, err := e.v.OpenAt(ctx, e.root, e.root, "/dev/tty", unix.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("open /dev/tty: %v", err)
	}
	w.DecRef(rootCtx) // /dev/tty holds its own reference
	if n, err := f.Write(ctx, []byte("hi")); n != 2 || err != nil {
		t.Fatalf("write /dev/tty = %d, %v", n, err)
	}
	buf := make([]byte, 8)
	if n, err := r.Read(rootCtx, buf); err != nil || string(buf[:n]) != "hi" {
		t.Fatalf("read back %q, %v", buf[:n], err)
	}
	f.DecRef(ctx)
	// Last writer gone: EOF.
	if n, err := r.Read(rootCtx, buf); n != 0 || err != nil {
		t.Fatalf("after close: %d, %v; want EOF", n, err)
	}
}

func TestRandomIoctl(t *testing.T) {
	e := newEnv(t)
	f := e.open(t, rootCtx, "/dev/random", unix.O_RDONLY)
	if _, err := f.Ioctl(rootCtx, unix.RNDGETENTCNT, 0x1000); err != unix.EFAULT {
		t.Errorf("RNDGETENTCNT without memory: %v", err)
	}
	if _, err := f.Ioctl(rootCtx, unix.TCGETS, 0x1000); err != unix.ENOTTY {
		t.Errorf("TCGETS: %v", err)
	}
	null := e.open(t, rootCtx, "/dev/null", unix.O_RDONLY)
	if _, err := null.Ioctl(rootCtx, unix.TCGETS, 0x1000); err != unix.ENOTTY {
		t.Errorf("TCGETS on null: %v", err)
	}
}
