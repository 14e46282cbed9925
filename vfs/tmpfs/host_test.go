package tmpfs_test

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/memfile"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/tmpfs"
)

// TestOverHostFile runs a tmpfs whose data lives in a host file, as the
// root overlay's upper layer with a directory medium: the data is the
// file's, mappings point into it, and the file's size is the limit.
func TestOverHostFile(t *testing.T) {
	fd, err := unix.Open(t.TempDir(), unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC|unix.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	const limit = 32 * 4096
	mf, err := memfile.NewHost(fd, limit)
	if err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	t.Cleanup(func() { mf.Close() })
	v := vfs.New()
	fs, err := tmpfs.New(v, mf, tmpfs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	root := v.NewMountNamespace(fs, 0).Root()
	ctx := vfs.NewContext(vfs.RootCredentials())
	f, err := v.OpenAt(ctx, root, root, "/data", unix.O_CREAT|unix.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef(ctx)
	data := bytes.Repeat([]byte("0123456789abcdef"), 3*4096/16)
	if n, err := f.Write(ctx, data); n != len(data) || err != nil {
		t.Fatalf("write: %d, %v", n, err)
	}
	m := f.Mappable()
	if m.MemoryFile() != mf {
		t.Fatal("the file's pages are not said to be in the host file")
	}
	off, err := m.MapPage(ctx, 2, true)
	if err != nil {
		t.Fatal(err)
	}
	host := make([]byte, 4096)
	if _, err := unix.Pread(fd, host, off); err != nil || !bytes.Equal(host, data[2*4096:]) {
		t.Fatalf("host file at %#x holds %q... (%v), want the file's third page", off, host[:16], err)
	}
	mf.DecRef(off)
	st, err := f.StatFS(ctx)
	if err != nil || st.Blocks != limit/4096 || st.Bfree != limit/4096-3 {
		t.Fatalf("statfs %+v (%v), want %d blocks, %d free", st, err, limit/4096, limit/4096-3)
	}
	// The host file's size is the limit.
	if n, err := f.PWrite(ctx, make([]byte, limit), 3*4096); err != nil || n != limit-3*4096 {
		t.Fatalf("write up to the limit: %d, %v; want %d", n, err, limit-3*4096)
	}
	if _, err := f.PWrite(ctx, []byte{1}, limit); err != unix.ENOSPC {
		t.Fatalf("write past the limit: %v, want ENOSPC", err)
	}
}
