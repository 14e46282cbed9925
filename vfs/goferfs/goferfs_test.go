package goferfs_test

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/runsc-lite/runsc-lite/sentry/memfile"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/goferfs"
	"github.com/runsc-lite/runsc-lite/vfs/overlay"
	"github.com/runsc-lite/runsc-lite/vfs/tmpfs"
	"golang.org/x/sys/unix"
)

var ctx = vfs.NewContext(vfs.RootCredentials())

func hostTree(t *testing.T) string {
	dir := t.TempDir()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "etc"), 0o755))
	must(os.MkdirAll(filepath.Join(dir, "usr/lib"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "etc/hosts"), []byte("127.0.0.1 localhost\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "usr/lib/libx.so"), []byte(strings.Repeat("lib", 5000)), 0o755))
	must(os.Symlink("../etc/hosts", filepath.Join(dir, "usr/hosts")))
	must(os.Symlink("/etc/hosts", filepath.Join(dir, "abs")))
	must(os.Symlink("/../../../..", filepath.Join(dir, "escape")))
	for i := 0; i < 300; i++ {
		must(os.WriteFile(filepath.Join(dir, fmt.Sprintf("etc/f%03d", i)), nil, 0o600))
	}
	return dir
}

// hostSnapshot hashes a host tree: names, modes, sizes, mtimes, contents.
func hostSnapshot(t *testing.T, dir string) string {
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		var st unix.Stat_t
		unix.Lstat(p, &st)
		fmt.Fprintf(&b, "%s %o %d %d.%d %d", strings.TrimPrefix(p, dir), st.Mode, st.Size, st.Mtim.Sec, st.Mtim.Nsec, st.Nlink)
		if d.Type().IsRegular() {
			data, _ := os.ReadFile(p)
			fmt.Fprintf(&b, " %x", sha256.Sum256(data))
		}
		if d.Type()&fs.ModeSymlink != 0 {
			s, _ := os.Readlink(p)
			b.WriteString(" -> " + s)
		}
		b.WriteString("\n")
		return nil
	})
	return b.String()
}

func openDir(t *testing.T, dir string) int {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

func read(t *testing.T, v *vfs.VFS, root vfs.Location, p string) string {
	t.Helper()
	f, err := v.OpenAt(ctx, root, root, p, unix.O_RDONLY, 0)
	if err != nil {
		t.Fatalf("open %s: %v", p, err)
	}
	defer f.DecRef(ctx)
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := f.Read(ctx, buf)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return string(out)
		}
		out = append(out, buf[:n]...)
	}
}

func ls(t *testing.T, v *vfs.VFS, root vfs.Location, p string, bufSize int) []string {
	t.Helper()
	f, err := v.OpenAt(ctx, root, root, p, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatalf("opendir %s: %v", p, err)
	}
	defer f.DecRef(ctx)
	var names []string
	buf := make([]byte, bufSize)
	for {
		n, err := f.Getdents64(ctx, buf)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		for b := buf[:n]; len(b) > 0; {
			reclen := int(b[16]) | int(b[17])<<8
			name := strings.TrimRight(string(b[19:reclen]), "\x00")
			if name != "." && name != ".." {
				names = append(names, name)
			}
			b = b[reclen:]
		}
	}
	sort.Strings(names)
	return names
}

func TestDirectFS(t *testing.T) {
	dir := hostTree(t)
	v := vfs.New()
	gfs, err := goferfs.NewDirect(v, openDir(t, dir), goferfs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	root := v.NewMountNamespace(gfs, 0).Root()
	if got := read(t, v, root, "/usr/hosts"); got != "127.0.0.1 localhost\n" {
		t.Errorf("relative symlink: %q", got)
	}
	if got := read(t, v, root, "/abs"); got != "127.0.0.1 localhost\n" {
		t.Errorf("absolute symlink resolved in sandbox: %q", got)
	}
	if _, err := v.Stat(ctx, root, root, "/escape/etc/hosts", 0); err != nil {
		t.Errorf("escape symlink should stay at sandbox root: %v", err)
	}
	if got := ls(t, v, root, "/etc", 256); len(got) != 301 {
		t.Errorf("ls /etc: %d entries", len(got))
	}
	st, err := v.Stat(ctx, root, root, "/usr/lib/libx.so", 0)
	if err != nil || st.Size != 15000 || st.Mode&0o777 != 0o755 {
		t.Errorf("stat %v %d %o", err, st.Size, st.Mode)
	}
	// Writes go to the host.
	f, err := v.OpenAt(ctx, root, root, "/etc/new", unix.O_CREAT|unix.O_WRONLY|unix.O_EXCL, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(ctx, []byte("written"))
	f.DecRef(ctx)
	if data, _ := os.ReadFile(filepath.Join(dir, "etc/new")); string(data) != "written" {
		t.Errorf("host file: %q", data)
	}
	var hst unix.Stat_t
	unix.Stat(filepath.Join(dir, "etc/new"), &hst)
	if hst.Mode&0o777 != 0o640 {
		t.Errorf("host mode %o", hst.Mode)
	}
	if err := v.Mkdir(ctx, root, root, "/d", 0o700); err != nil {
		t.Fatal(err)
	}
	if err := v.Rename(ctx, root, root, "/etc/new", root, "/d/moved", 0); err != nil {
		t.Fatal(err)
	}
	if got := read(t, v, root, "/d/moved"); got != "written" {
		t.Errorf("after rename: %q", got)
	}
	if err := v.SetStat(ctx, root, root, "/d/moved", 0, &vfs.SetStatOptions{Mask: unix.STATX_SIZE | unix.STATX_MODE, Size: 3, Mode: 0o600}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, v, root, "/d/moved"); got != "wri" {
		t.Errorf("after truncate: %q", got)
	}
	if err := v.Link(ctx, root, root, "/d/moved", root, "/d/link", 0); err != nil {
		t.Fatal(err)
	}
	if err := v.Symlink(ctx, root, "moved", root, "/d/sym"); err != nil {
		t.Fatal(err)
	}
	if s, _ := v.Readlink(ctx, root, root, "/d/sym"); s != "moved" {
		t.Errorf("readlink %q", s)
	}
	for _, p := range []string{"/d/moved", "/d/link", "/d/sym"} {
		if err := v.Unlink(ctx, root, root, p); err != nil {
			t.Errorf("unlink %s: %v", p, err)
		}
	}
	if err := v.Rmdir(ctx, root, root, "/d"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "d")); !os.IsNotExist(err) {
		t.Errorf("host dir still there")
	}
	sfs, err := v.StatFS(ctx, root, root, "/")
	if err != nil || sfs.Bsize == 0 {
		t.Errorf("statfs %v", err)
	}
	// Read-only option.
	ro, _ := goferfs.NewDirect(v, openDir(t, dir), goferfs.Options{ReadOnly: true})
	rr := v.NewMountNamespace(ro, 0).Root()
	if _, err := v.OpenAt(ctx, rr, rr, "/etc/hosts", unix.O_WRONLY, 0); err != unix.EROFS {
		t.Errorf("read-only open for write: %v", err)
	}
}

func TestOverlayOnGofer(t *testing.T) {
	dir := hostTree(t)
	before := hostSnapshot(t, dir)
	v := vfs.New()
	lower, err := goferfs.NewDirect(v, openDir(t, dir), goferfs.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	mf, err := memfile.New("t", 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Close()
	upper, _ := tmpfs.New(v, mf, tmpfs.Options{})
	ofs, err := overlay.New(v, upper, lower)
	if err != nil {
		t.Fatal(err)
	}
	r := v.NewMountNamespace(ofs, 0).Root()
	// Modify everything.
	f, err := v.OpenAt(ctx, r, r, "/etc/hosts", unix.O_WRONLY|unix.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(ctx, []byte("10.0.0.1 other\n"))
	f.DecRef(ctx)
	if got := read(t, v, r, "/usr/hosts"); got != "127.0.0.1 localhost\n10.0.0.1 other\n" {
		t.Errorf("overlay read: %q", got)
	}
	for i := 0; i < 300; i += 2 {
		if err := v.Unlink(ctx, r, r, fmt.Sprintf("/etc/f%03d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := ls(t, v, r, "/etc", 300); len(got) != 151 {
		t.Errorf("ls /etc after unlinks: %d", len(got))
	}
	if err := v.Rename(ctx, r, r, "/usr", r, "/usr2", 0); err != nil {
		t.Fatal(err)
	}
	if got := read(t, v, r, "/usr2/lib/libx.so"); got != strings.Repeat("lib", 5000) {
		t.Errorf("renamed dir content")
	}
	if err := v.SetStat(ctx, r, r, "/usr2/lib/libx.so", 0, &vfs.SetStatOptions{Mask: unix.STATX_MODE | unix.STATX_UID, Mode: 0o600, UID: 5}); err != nil {
		t.Fatal(err)
	}
	v.Mkdir(ctx, r, r, "/newdir", 0o755)
	v.Symlink(ctx, r, "x", r, "/newdir/l")
	if err := v.SetXattr(ctx, r, r, "/etc/hosts", 0, "user.k", []byte("v"), 0); err != nil {
		t.Errorf("setxattr on copied-up file: %v", err)
	}
	if after := hostSnapshot(t, dir); after != before {
		t.Errorf("host lower modified:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestHardLinkOutlivesOldName checks that a new hard link still works after
// its original name is removed (git writes objects as tmp file + link +
// unlink), and that open(O_CREAT) of a read-only mode still gives a
// writable file, as on Linux.
func TestHardLinkOutlivesOldName(t *testing.T) {
	dir := t.TempDir()
	v := vfs.New()
	gfs, err := goferfs.NewDirect(v, openDir(t, dir), goferfs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	root := v.NewMountNamespace(gfs, 0).Root()
	f, err := v.OpenAt(ctx, root, root, "/tmp_obj", unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, 0o444)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(ctx, []byte("object")); err != nil {
		t.Fatalf("write through the creating open of a 0444 file: %v", err)
	}
	f.DecRef(ctx)
	if err := v.Link(ctx, root, root, "/tmp_obj", root, "/obj", 0); err != nil {
		t.Fatal(err)
	}
	if err := v.Unlink(ctx, root, root, "/tmp_obj"); err != nil {
		t.Fatal(err)
	}
	if got := read(t, v, root, "/obj"); got != "object" {
		t.Fatalf("after unlinking the old name: %q", got)
	}
	if b, err := os.ReadFile(dir + "/obj"); err != nil || string(b) != "object" {
		t.Fatalf("host file: %q, %v", b, err)
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestDirectoryFDsBounded walks more directories than goferfs keeps host
// FDs for: the process's FD count stays bounded, and evicted directories
// are reopened by name when used again (also after a rename), unless the
// host replaced them.
func TestDirectoryFDsBounded(t *testing.T) {
	dir := t.TempDir()
	const n = 3000
	for i := 0; i < n; i++ {
		if err := os.Mkdir(fmt.Sprintf("%s/d%d", dir, i), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	v := vfs.New()
	gfs, err := goferfs.NewDirect(v, openDir(t, dir), goferfs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	root := v.NewMountNamespace(gfs, 0).Root()
	before := openFDs(t)
	for i := 0; i < n; i++ {
		if _, err := v.Stat(ctx, root, root, fmt.Sprintf("/d%d/.", i), 0); err != nil {
			t.Fatal(err)
		}
	}
	if grew := openFDs(t) - before; grew > 1100 {
		t.Fatalf("walking %d directories left %d more host FDs open", n, grew)
	}
	// d0 was evicted long ago: creating in it reopens it.
	f, err := v.OpenAt(ctx, root, root, "/d0/file", unix.O_WRONLY|unix.O_CREAT, 0o644)
	if err != nil {
		t.Fatalf("create in an evicted directory: %v", err)
	}
	f.DecRef(ctx)
	if _, err := os.Stat(dir + "/d0/file"); err != nil {
		t.Fatalf("host file: %v", err)
	}
	// Renamed through the sandbox, then evicted again: found by its new name.
	if err := v.Rename(ctx, root, root, "/d1", root, "/renamed", 0); err != nil {
		t.Fatal(err)
	}
	for i := 2; i < n; i++ {
		v.Stat(ctx, root, root, fmt.Sprintf("/d%d/.", i), 0)
	}
	if _, err := v.Stat(ctx, root, root, "/renamed/.", 0); err != nil {
		t.Fatalf("renamed, evicted directory: %v", err)
	}
	// Replaced on the host behind the sandbox's back: not silently another
	// directory.
	if err := os.Rename(dir+"/d2", dir+"/old-d2"); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir+"/d2", 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 3; i < n; i++ {
		v.Stat(ctx, root, root, fmt.Sprintf("/d%d/.", i), 0)
	}
	if _, err := v.OpenAt(ctx, root, root, "/d2/x", unix.O_WRONLY|unix.O_CREAT, 0o644); err != unix.ENOENT {
		t.Fatalf("create in a directory replaced on the host: %v, want ENOENT", err)
	}
}

// TestRemovedDirectoryFDsClosed makes and removes more directories than
// goferfs keeps host FDs for (by rmdir and by renaming over them): a
// removed directory's FD is closed at once, not left in the LRU, and a
// location still in a removed directory (a cwd) finds nothing there.
func TestRemovedDirectoryFDsClosed(t *testing.T) {
	dir := t.TempDir()
	v := vfs.New()
	gfs, err := goferfs.NewDirect(v, openDir(t, dir), goferfs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	root := v.NewMountNamespace(gfs, 0).Root()
	before := openFDs(t)
	for i := 0; i < 200; i++ {
		d := fmt.Sprintf("/d%d", i)
		if err := v.Mkdir(ctx, root, root, d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := v.Mkdir(ctx, root, root, d+"/sub", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := v.Mkdir(ctx, root, root, "/empty", 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := v.Stat(ctx, root, root, "/empty/.", 0); err != nil {
			t.Fatal(err)
		}
		if err := v.Rename(ctx, root, root, d+"/sub", root, "/empty", 0); err != nil {
			t.Fatalf("rename over an empty directory: %v", err)
		}
		if err := v.Rmdir(ctx, root, root, "/empty"); err != nil {
			t.Fatal(err)
		}
		if err := v.Rmdir(ctx, root, root, d); err != nil {
			t.Fatal(err)
		}
	}
	if grew := openFDs(t) - before; grew > 0 {
		t.Errorf("making and removing 600 directories left %d more host FDs open", grew)
	}

	cwd, err := v.GetLocation(ctx, root, root, "/", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer cwd.DecRef()
	if err := v.Mkdir(ctx, root, root, "/gone", 0o755); err != nil {
		t.Fatal(err)
	}
	gone, err := v.GetLocation(ctx, root, root, "/gone", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer gone.DecRef()
	if err := v.Rmdir(ctx, root, root, "/gone"); err != nil {
		t.Fatal(err)
	}
	// Another directory of the same name on the host is not the removed one.
	if err := os.Mkdir(dir+"/gone", 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := v.OpenAt(ctx, root, gone, "x", unix.O_WRONLY|unix.O_CREAT, 0o644); err != unix.ENOENT {
		t.Errorf("create in a removed directory: %v, want ENOENT", err)
	}
	if _, err := os.Stat(dir + "/gone/x"); !os.IsNotExist(err) {
		t.Errorf("the create reached the new host directory: %v", err)
	}
}
