package memfile

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// openTmpfile opens an unnamed file in dir, as the CLI does for the root
// overlay's medium.
func openTmpfile(t *testing.T, dir string) int {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC|unix.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

// blocks returns the bytes of disk the file occupies.
func blocks(t *testing.T, fd int) int64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	return st.Blocks * 512
}

// smallTmpfs mounts a tmpfs of size bytes: a file system that fills up.
func smallTmpfs(t *testing.T, size int64) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	return dir
}

// TestHostFile: pages of a host-backed file are the file's bytes, the file
// is sparse, and its blocks are reserved as pages are handed out and given
// back once enough are freed; pages allocated again read as zeroes.
func TestHostFile(t *testing.T) {
	fd := openTmpfile(t, t.TempDir())
	f, err := NewHost(fd, 2*reclaimPages*PageSize)
	if err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	if st.Size != 2*reclaimPages*PageSize || f.Size() != st.Size {
		t.Fatalf("file size %d, Size %d, want %d", st.Size, f.Size(), 2*reclaimPages*PageSize)
	}
	if b := blocks(t, fd); b != 0 {
		t.Fatalf("new file occupies %d bytes, want a sparse file", b)
	}
	off, err := f.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	copy(f.Page(off), "through the mapping")
	buf := make([]byte, 19)
	if _, err := unix.Pread(fd, buf, off); err != nil || string(buf) != "through the mapping" {
		t.Fatalf("file holds %q (%v), want what was written to the page", buf, err)
	}
	if b := blocks(t, fd); b < chunkPages*PageSize {
		t.Fatalf("file occupies %d bytes after the first page, want the first chunk (%d) reserved", b, chunkPages*PageSize)
	}
	f.DecRef(off)

	n := reclaimPages + 100
	offs := make([]int64, n)
	for i := range offs {
		if offs[i], err = f.Allocate(); err != nil {
			t.Fatal(err)
		}
		f.Page(offs[i])[0] = 0xff
	}
	full := blocks(t, fd)
	if full < int64(n)*PageSize {
		t.Fatalf("file occupies %d bytes with %d pages in use", full, n)
	}
	for _, off := range offs {
		f.DecRef(off)
	}
	// st_blocks counts the file system's own blocks for the file too
	// (ext4's extent tree): allow a few.
	const metadataSlack = 16 * PageSize
	if b := blocks(t, fd); b > full-reclaimPages*PageSize+metadataSlack {
		t.Fatalf("file occupies %d bytes after freeing %d pages, was %d: blocks not given back", b, n, full)
	}
	for i := 0; i < n; i++ {
		off, err := f.Allocate()
		if err != nil {
			t.Fatal(err)
		}
		if p := f.Page(off); p[0] != 0 {
			t.Fatalf("page %#x not zero after reuse", off)
		}
		p := f.Page(off)
		p[0] = 1 // a page given back must have its blocks again
	}
	if b := blocks(t, fd); b < int64(n)*PageSize {
		t.Fatalf("file occupies %d bytes with %d pages in use again", b, n)
	}
}

// TestHostFileFull: when the host file system is full, Allocate and
// AllocateRun fail with ENOSPC (the sentry never touches a page without
// blocks, which would be SIGBUS), and work again once pages are freed.
func TestHostFileFull(t *testing.T) {
	dir := smallTmpfs(t, 4*chunkPages*PageSize)
	fd := openTmpfile(t, dir)
	f, err := NewHost(fd, 64*chunkPages*PageSize)
	if err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	defer f.Close()
	var offs []int64
	for {
		off, err := f.Allocate()
		if err != nil {
			if !errors.Is(err, unix.ENOSPC) {
				t.Fatalf("allocation %d: %v, want ENOSPC", len(offs), err)
			}
			break
		}
		f.Page(off)[0] = 1
		offs = append(offs, off)
		if len(offs) > 64*chunkPages {
			t.Fatal("a 4-chunk file system held more than the file")
		}
	}
	if len(offs) < chunkPages || len(offs) > 4*chunkPages {
		t.Fatalf("%d pages allocated on a file system of %d pages", len(offs), 4*chunkPages)
	}
	if _, err := f.AllocateRun(16); !errors.Is(err, unix.ENOSPC) {
		t.Fatalf("AllocateRun on a full file system: %v, want ENOSPC", err)
	}
	f.DecRef(offs[len(offs)-1])
	off, err := f.Allocate()
	if err != nil {
		t.Fatalf("allocation after a free: %v", err)
	}
	if p := f.Page(off); p[0] != 0 {
		t.Fatal("reused page not zero")
	}
}

func TestNewHostRejects(t *testing.T) {
	if _, err := NewHost(-1, 1<<20); err == nil {
		t.Error("NewHost of a closed descriptor succeeded")
	}
	dir, err := unix.Open(t.TempDir(), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dir)
	if _, err := NewHost(dir, 1<<20); err == nil {
		t.Error("NewHost of a directory succeeded")
	}
	fd := openTmpfile(t, t.TempDir())
	defer unix.Close(fd)
	if _, err := NewHost(fd, 0); err == nil {
		t.Error("NewHost of an empty file without a size succeeded")
	}
}

// TestHostFileFullAfterReclaim: pages whose blocks were given back get
// them again before they are handed out, so once the file system has
// filled up meanwhile, allocating them is ENOSPC, not a page that would
// raise SIGBUS when written.
func TestHostFileFullAfterReclaim(t *testing.T) {
	const n = reclaimPages + chunkPages
	dir := smallTmpfs(t, (n+4*chunkPages)*PageSize)
	fd := openTmpfile(t, dir)
	f, err := NewHost(fd, 2*n*PageSize)
	if err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	defer f.Close()
	offs := make([]int64, n)
	for i := range offs {
		if offs[i], err = f.Allocate(); err != nil {
			t.Fatal(err)
		}
		f.Page(offs[i])[0] = 1
	}
	for _, off := range offs {
		f.DecRef(off)
	}
	// Another file takes the space given back, and all the rest.
	other, err := os.CreateTemp(dir, "filler")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	chunk := make([]byte, 1<<20)
	for {
		if _, err := other.Write(chunk); err != nil {
			break
		}
	}
	got := 0
	for ; got < n; got++ {
		off, err := f.Allocate()
		if err != nil {
			if !errors.Is(err, unix.ENOSPC) {
				t.Fatalf("allocation %d: %v, want ENOSPC", got, err)
			}
			break
		}
		f.Page(off)[0] = 2 // SIGBUS here if the page had no blocks
	}
	if got == n {
		t.Fatalf("%d pages allocated on a full file system", got)
	}
}
