package tmpfs_test

import (
	"bytes"
	"testing"

	"github.com/runsc-lite/runsc-lite/sentry/memfile"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/tmpfs"
	"golang.org/x/sys/unix"
)

func setup(t *testing.T, opts tmpfs.Options) (*vfs.VFS, vfs.Location, vfs.Context, *memfile.File) {
	mf, err := memfile.New("t", 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mf.Close() })
	v := vfs.New()
	fs, _ := tmpfs.New(v, mf, opts)
	ns := v.NewMountNamespace(fs, 0)
	return v, ns.Root(), vfs.NewContext(vfs.RootCredentials()), mf
}

func TestENOSPC(t *testing.T) {
	v, root, ctx, mf := setup(t, tmpfs.Options{MaxBytes: 16 * 4096})
	f, err := v.OpenAt(ctx, root, root, "/big", unix.O_CREAT|unix.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10*4096)
	if n, err := f.Write(ctx, buf); n != len(buf) || err != nil {
		t.Fatalf("write %d %v", n, err)
	}
	n, err := f.Write(ctx, buf)
	if n != 6*4096 || err != nil {
		t.Fatalf("partial write %d %v", n, err)
	}
	if _, err := f.Write(ctx, buf); err != unix.ENOSPC {
		t.Fatalf("full: %v", err)
	}
	sfs, _ := f.StatFS(ctx)
	if sfs.Bfree != 0 || sfs.Blocks != 16 {
		t.Errorf("statfs %+v", sfs)
	}
	if err := f.Allocate(ctx, 0, 1<<20, 4096); err != unix.ENOSPC {
		t.Errorf("fallocate: %v", err)
	}
	// Unlink + close frees the space and the memory-file pages.
	v.Unlink(ctx, root, root, "/big")
	if mf.InUse() == 0 {
		t.Errorf("pages freed while open")
	}
	f.DecRef(ctx)
	if mf.InUse() != 0 {
		t.Errorf("pages in use after close: %d", mf.InUse())
	}
	g, _ := v.OpenAt(ctx, root, root, "/again", unix.O_CREAT|unix.O_RDWR, 0o644)
	if n, err := g.Write(ctx, make([]byte, 16*4096)); err != nil || n != 16*4096 {
		t.Errorf("after free: %d %v", n, err)
	}
	g.DecRef(ctx)
}

func TestSparse(t *testing.T) {
	v, root, ctx, mf := setup(t, tmpfs.Options{})
	f, _ := v.OpenAt(ctx, root, root, "/s", unix.O_CREAT|unix.O_RDWR, 0o644)
	defer f.DecRef(ctx)
	f.PWrite(ctx, []byte("data"), 3*4096+10)
	st, _ := f.Stat(ctx)
	if st.Size != 3*4096+14 || st.Blocks != 8 {
		t.Errorf("size %d blocks %d", st.Size, st.Blocks)
	}
	buf := make([]byte, 4096)
	n, _ := f.PRead(ctx, buf, 0)
	if n != 4096 || !bytes.Equal(buf, make([]byte, 4096)) {
		t.Errorf("hole not zero")
	}
	for _, tc := range []struct {
		off    int64
		whence int
		want   int64
		err    error
	}{
		{0, unix.SEEK_DATA, 3 * 4096, nil},
		{0, unix.SEEK_HOLE, 0, nil},
		{3*4096 + 5, unix.SEEK_HOLE, 3*4096 + 14, nil},
		{3*4096 + 5, unix.SEEK_DATA, 3*4096 + 5, nil},
		{3*4096 + 14, unix.SEEK_DATA, 0, unix.ENXIO},
		{0, unix.SEEK_END, 3*4096 + 14, nil},
		{-1, unix.SEEK_SET, 0, unix.EINVAL},
	} {
		got, err := f.Seek(ctx, tc.off, tc.whence)
		if err != tc.err || (err == nil && got != tc.want) {
			t.Errorf("seek(%d, %d) = %d, %v; want %d, %v", tc.off, tc.whence, got, err, tc.want, tc.err)
		}
	}
	// Punch the data page away.
	if err := f.Allocate(ctx, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, 3*4096, 4096); err != nil {
		t.Fatal(err)
	}
	if mf.InUse() != 0 {
		t.Errorf("punch did not free")
	}
	// Truncate down zeroes the tail of a partial page.
	f.PWrite(ctx, bytes.Repeat([]byte{'x'}, 100), 0)
	f.Truncate(ctx, 10)
	f.Truncate(ctx, 100)
	n, _ = f.PRead(ctx, buf[:100], 0)
	if n != 100 || buf[9] != 'x' || buf[10] != 0 {
		t.Errorf("truncate tail: %q", buf[:20])
	}
}

func TestMappable(t *testing.T) {
	v, root, ctx, mf := setup(t, tmpfs.Options{})
	f, _ := v.OpenAt(ctx, root, root, "/m", unix.O_CREAT|unix.O_RDWR, 0o644)
	f.Truncate(ctx, 8192)
	m := f.Mappable()
	if m == nil {
		t.Fatal("tmpfs file not mappable")
	}
	off, err := m.MapPage(ctx, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	copy(mf.Page(off), "shared")
	buf := make([]byte, 6)
	f.PRead(ctx, buf, 4096)
	if string(buf) != "shared" {
		t.Errorf("mapped write not visible: %q", buf)
	}
	if _, err := m.MapPage(ctx, 2, false); err != unix.EFAULT {
		t.Errorf("beyond EOF: %v", err)
	}
	f.DecRef(ctx)
	v.Unlink(ctx, root, root, "/m")
	if mf.Refs(off) != 1 {
		t.Errorf("mapping ref lost: %d", mf.Refs(off))
	}
	mf.DecRef(off)
}

func TestFIFO(t *testing.T) {
	v, root, ctx, _ := setup(t, tmpfs.Options{})
	if err := v.Mknod(ctx, root, root, "/fifo", unix.S_IFIFO|0o644, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := v.OpenAt(ctx, root, root, "/fifo", unix.O_WRONLY|unix.O_NONBLOCK, 0); err != unix.ENXIO {
		t.Errorf("nonblock write open: %v", err)
	}
	r, err := v.OpenAt(ctx, root, root, "/fifo", unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.OpenReady() {
		t.Errorf("reader ready without writer")
	}
	w, err := v.OpenAt(ctx, root, root, "/fifo", unix.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OpenReady() || !w.OpenReady() {
		t.Errorf("not ready after both opened")
	}
	w.Write(ctx, []byte("via fifo"))
	buf := make([]byte, 20)
	n, _ := r.Read(ctx, buf)
	if string(buf[:n]) != "via fifo" {
		t.Errorf("got %q", buf[:n])
	}
	w.DecRef(ctx)
	if n, err := r.Read(ctx, buf); n != 0 || err != nil {
		t.Errorf("EOF: %d %v", n, err)
	}
	r.DecRef(ctx)
	st, _ := v.Stat(ctx, root, root, "/fifo", 0)
	if st.Mode&unix.S_IFMT != unix.S_IFIFO {
		t.Errorf("mode %o", st.Mode)
	}
}

func TestDirNlinkAndTimes(t *testing.T) {
	v, root, ctx, _ := setup(t, tmpfs.Options{})
	v.Mkdir(ctx, root, root, "/d", 0o755)
	before, _ := v.Stat(ctx, root, root, "/d", 0)
	v.Mkdir(ctx, root, root, "/d/a", 0o755)
	v.Mkdir(ctx, root, root, "/d/b", 0o755)
	after, _ := v.Stat(ctx, root, root, "/d", 0)
	if after.Nlink != 4 || before.Nlink != 2 {
		t.Errorf("nlink %d -> %d", before.Nlink, after.Nlink)
	}
	if after.Mtime.Sec < before.Mtime.Sec {
		t.Errorf("mtime went back")
	}
	err := v.SetStat(ctx, root, root, "/d", 0, &vfs.SetStatOptions{Mask: unix.STATX_ATIME | unix.STATX_MTIME,
		Atime: vfs.Timestamp{Sec: 100, Nsec: 5}, Mtime: vfs.Timestamp{Nsec: unix.UTIME_OMIT}})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := v.Stat(ctx, root, root, "/d", 0)
	if st.Atime.Sec != 100 || st.Atime.Nsec != 5 || st.Mtime != after.Mtime {
		t.Errorf("utimes: %+v %+v", st.Atime, st.Mtime)
	}
}

// A fallocate larger than the file system fails at once, allocating
// nothing (found by test/fuzz: fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 1<<46)
// allocated page after page, unkillable, until the size limit).
func TestFallocateHuge(t *testing.T) {
	v, root, ctx, mf := setup(t, tmpfs.Options{})
	f, err := v.OpenAt(ctx, root, root, "/f", unix.O_CREAT|unix.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef(ctx)
	for _, mode := range []uint32{0, unix.FALLOC_FL_KEEP_SIZE} {
		if err := f.Allocate(ctx, mode, 0x1396, 0x7ffdf75f60a7); err != unix.ENOSPC {
			t.Errorf("fallocate mode %d of 128 TiB: %v, want ENOSPC", mode, err)
		}
		if n := mf.InUse(); n != 0 {
			t.Errorf("fallocate mode %d: %d pages in use", mode, n)
		}
	}
	if err := f.Allocate(ctx, 0, 0, 3*4096); err != nil || mf.InUse() != 3 {
		t.Errorf("fallocate of 3 pages: %v, %d pages in use", err, mf.InUse())
	}
}

// TestSeals: seals live on the inode (a second open sees them); a plain
// tmpfs file starts with F_SEAL_SEAL, a Sealable instance's with none;
// F_SEAL_WRITE waits for writable shared mappings to go and then refuses
// new ones.
func TestSeals(t *testing.T) {
	for _, tc := range []struct {
		sealable bool
		want     uint32
	}{{false, unix.F_SEAL_SEAL}, {true, 0}} {
		v, root, ctx, _ := setup(t, tmpfs.Options{Sealable: tc.sealable})
		f, err := v.OpenAt(ctx, root, root, "/f", unix.O_CREAT|unix.O_RDWR, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.DecRef(ctx)
		s := tmpfs.SealsOf(f)
		if s == nil {
			t.Fatalf("sealable=%v: a tmpfs file has no seals", tc.sealable)
		}
		if got := s.Get(); got != tc.want {
			t.Errorf("sealable=%v: initial seals %#x, want %#x", tc.sealable, got, tc.want)
		}
		if !tc.sealable {
			if err := s.Add(unix.F_SEAL_WRITE); err != unix.EPERM {
				t.Errorf("adding to F_SEAL_SEAL: %v, want EPERM", err)
			}
			continue
		}
		_, release, err := s.MapShared(true, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Add(unix.F_SEAL_WRITE); err != unix.EBUSY {
			t.Errorf("F_SEAL_WRITE with a writable mapping: %v, want EBUSY", err)
		}
		release()
		if err := s.Add(unix.F_SEAL_WRITE | unix.F_SEAL_SHRINK); err != nil {
			t.Fatalf("F_SEAL_WRITE after release: %v", err)
		}
		if _, _, err := s.MapShared(true, true); err != unix.EPERM {
			t.Errorf("writable mapping of a write-sealed file: %v, want EPERM", err)
		}
		if may, _, err := s.MapShared(false, true); err != nil || may {
			t.Errorf("read-only mapping of a write-sealed file: mayWrite %v, %v", may, err)
		}
		g, err := v.OpenAt(ctx, root, root, "/f", unix.O_RDONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := tmpfs.SealsOf(g).Get(); got != unix.F_SEAL_WRITE|unix.F_SEAL_SHRINK {
			t.Errorf("second open sees seals %#x", got)
		}
		g.DecRef(ctx)
	}
}
