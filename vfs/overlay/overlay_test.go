package overlay_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/runsc-lite/runsc-lite/sentry/memfile"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/overlay"
	"github.com/runsc-lite/runsc-lite/vfs/tmpfs"
	"golang.org/x/sys/unix"
)

var ctx = vfs.NewContext(vfs.RootCredentials())

type tree struct {
	v    *vfs.VFS
	root vfs.Location
}

func (tr tree) write(t *testing.T, p, data string, flags uint32) {
	t.Helper()
	f, err := tr.v.OpenAt(ctx, tr.root, tr.root, p, unix.O_WRONLY|unix.O_CREAT|flags, 0o644)
	if err != nil {
		t.Fatalf("open %s: %v", p, err)
	}
	defer f.DecRef(ctx)
	if _, err := f.Write(ctx, []byte(data)); err != nil {
		t.Fatalf("write %s: %v", p, err)
	}
}

func (tr tree) read(t *testing.T, p string) string {
	t.Helper()
	f, err := tr.v.OpenAt(ctx, tr.root, tr.root, p, unix.O_RDONLY, 0)
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

func (tr tree) ls(t *testing.T, p string) []string {
	t.Helper()
	f, err := tr.v.OpenAt(ctx, tr.root, tr.root, p, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatalf("opendir %s: %v", p, err)
	}
	defer f.DecRef(ctx)
	var names []string
	f.IterDirents(ctx, func(d vfs.Dirent) bool {
		if d.Name != "." && d.Name != ".." {
			names = append(names, d.Name)
		}
		return true
	})
	sort.Strings(names)
	return names
}

func (tr tree) exists(p string) error {
	_, err := tr.v.Stat(ctx, tr.root, tr.root, p, unix.AT_SYMLINK_NOFOLLOW)
	return err
}

// snapshot describes every file of a tree: type, mode, owner, size,
// mtime, content or target, xattrs.
func (tr tree) snapshot(t *testing.T) string {
	var b strings.Builder
	var walk func(p string)
	walk = func(p string) {
		st, err := tr.v.Stat(ctx, tr.root, tr.root, p, unix.AT_SYMLINK_NOFOLLOW)
		if err != nil {
			t.Fatalf("snapshot stat %s: %v", p, err)
		}
		fmt.Fprintf(&b, "%s mode=%o uid=%d gid=%d size=%d nlink=%d mtime=%d.%d ctime=%d.%d", p, st.Mode, st.Uid, st.Gid, st.Size, st.Nlink, st.Mtime.Sec, st.Mtime.Nsec, st.Ctime.Sec, st.Ctime.Nsec)
		names, _ := tr.v.ListXattr(ctx, tr.root, tr.root, p, unix.AT_SYMLINK_NOFOLLOW)
		sort.Strings(names)
		for _, n := range names {
			val, _ := tr.v.GetXattr(ctx, tr.root, tr.root, p, unix.AT_SYMLINK_NOFOLLOW, n)
			fmt.Fprintf(&b, " %s=%q", n, val)
		}
		switch uint32(st.Mode) & unix.S_IFMT {
		case unix.S_IFREG:
			fmt.Fprintf(&b, " data=%x\n", sha256.Sum256([]byte(tr.read(t, p))))
		case unix.S_IFLNK:
			s, _ := tr.v.Readlink(ctx, tr.root, tr.root, p)
			fmt.Fprintf(&b, " target=%q\n", s)
		case unix.S_IFDIR:
			b.WriteString("\n")
			for _, n := range tr.ls(t, p) {
				walk(strings.TrimSuffix(p, "/") + "/" + n)
			}
		default:
			b.WriteString("\n")
		}
	}
	walk("/")
	return b.String()
}

func setup(t *testing.T) (lower, ovl tree) {
	mf, err := memfile.New("t", 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mf.Close() })
	v := vfs.New()
	lfs, _ := tmpfs.New(v, mf, tmpfs.Options{RootMode: 0o755})
	lower = tree{v, v.NewMountNamespace(lfs, 0).Root()}
	for _, d := range []string{"/etc", "/dir", "/dir/sub", "/emptydir", "/opq", "/usr", "/usr/lib", "/usr/lib/deep"} {
		if err := v.Mkdir(ctx, lower.root, lower.root, d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	lower.write(t, "/etc/passwd", "root:x:0:0\n", 0)
	lower.write(t, "/dir/a", "A", 0)
	lower.write(t, "/dir/b", "B", 0)
	lower.write(t, "/dir/sub/c", "C", 0)
	lower.write(t, "/opq/x", "X", 0)
	lower.write(t, "/usr/lib/deep/libc.so", strings.Repeat("elf", 10000), 0)
	v.Symlink(ctx, lower.root, "etc/passwd", lower.root, "/link")
	v.SetXattr(ctx, lower.root, lower.root, "/etc/passwd", 0, "user.tag", []byte("v1"), 0)
	v.SetStat(ctx, lower.root, lower.root, "/dir/b", 0, &vfs.SetStatOptions{Mask: unix.STATX_UID | unix.STATX_GID | unix.STATX_MTIME, UID: 7, GID: 8, Mtime: vfs.Timestamp{Sec: 1000}})
	f, _ := v.OpenAt(ctx, lower.root, lower.root, "/sparse", unix.O_CREAT|unix.O_RDWR, 0o600)
	f.PWrite(ctx, []byte("end"), 1<<20)
	f.DecRef(ctx)

	ufs, _ := tmpfs.New(v, mf, tmpfs.Options{RootMode: 0o755})
	ofs, err := overlay.New(v, ufs, lfs)
	if err != nil {
		t.Fatal(err)
	}
	ovl = tree{v, v.NewMountNamespace(ofs, 0).Root()}
	return lower, ovl
}

func TestOverlay(t *testing.T) {
	lower, o := setup(t)
	before := lower.snapshot(t)
	noRoot := func(s string) string { return s[strings.IndexByte(s, '\n'):] }
	if noRoot(before) != noRoot(o.snapshot(t)) {
		t.Fatalf("fresh overlay differs from lower:\n%s", diff(before, o.snapshot(t)))
	}
	v := o.v
	r := o.root

	// Reading lower files.
	if got := o.read(t, "/etc/passwd"); got != "root:x:0:0\n" {
		t.Errorf("read lower: %q", got)
	}
	if got := o.read(t, "/link"); got != "root:x:0:0\n" {
		t.Errorf("read via symlink: %q", got)
	}
	st0, _ := v.Stat(ctx, r, r, "/etc/passwd", 0)

	// Write copies up; inode number stays.
	o.write(t, "/etc/passwd", "user:x:1000\n", unix.O_APPEND)
	if got := o.read(t, "/etc/passwd"); got != "root:x:0:0\nuser:x:1000\n" {
		t.Errorf("after append: %q", got)
	}
	st1, _ := v.Stat(ctx, r, r, "/etc/passwd", 0)
	if st0.Ino != st1.Ino {
		t.Errorf("ino changed across copy-up: %d -> %d", st0.Ino, st1.Ino)
	}
	if val, err := v.GetXattr(ctx, r, r, "/etc/passwd", 0, "user.tag"); string(val) != "v1" || err != nil {
		t.Errorf("xattr not copied: %q %v", val, err)
	}
	// Copy-up keeps owner and mtime of untouched metadata.
	if err := v.SetStat(ctx, r, r, "/dir/b", 0, &vfs.SetStatOptions{Mask: unix.STATX_MODE, Mode: 0o600}); err != nil {
		t.Fatal(err)
	}
	st, _ := v.Stat(ctx, r, r, "/dir/b", 0)
	if st.Uid != 7 || st.Gid != 8 || st.Mtime.Sec != 1000 || st.Mode&0o7777 != 0o600 {
		t.Errorf("chmod copy-up: uid %d gid %d mtime %d mode %o", st.Uid, st.Gid, st.Mtime.Sec, st.Mode)
	}
	// Sparse file copy-up keeps size and content.
	o.write(t, "/sparse", "S", 0)
	if st, _ := v.Stat(ctx, r, r, "/sparse", 0); st.Size != 1<<20+3 {
		t.Errorf("sparse size %d", st.Size)
	}

	// Unlink of a lower file: gone from lookup and readdir.
	if err := v.Unlink(ctx, r, r, "/dir/a"); err != nil {
		t.Fatal(err)
	}
	if err := o.exists("/dir/a"); err != unix.ENOENT {
		t.Errorf("unlinked lower file: %v", err)
	}
	if got := o.ls(t, "/dir"); fmt.Sprint(got) != "[b sub]" {
		t.Errorf("ls /dir = %v", got)
	}
	// Recreate after delete.
	o.write(t, "/dir/a", "new A", unix.O_EXCL)
	if got := o.read(t, "/dir/a"); got != "new A" {
		t.Errorf("recreated: %q", got)
	}
	if got := o.ls(t, "/dir"); fmt.Sprint(got) != "[a b sub]" {
		t.Errorf("ls /dir = %v", got)
	}
	// Unlink again leaves a whiteout again.
	v.Unlink(ctx, r, r, "/dir/a")
	if err := o.exists("/dir/a"); err != unix.ENOENT {
		t.Errorf("re-unlinked: %v", err)
	}

	// rmdir: non-empty merged dir, then empty lower dir.
	if err := v.Rmdir(ctx, r, r, "/dir"); err != unix.ENOTEMPTY {
		t.Errorf("rmdir non-empty: %v", err)
	}
	if err := v.Rmdir(ctx, r, r, "/emptydir"); err != nil {
		t.Fatal(err)
	}
	if err := o.exists("/emptydir"); err != unix.ENOENT {
		t.Errorf("rmdir'd: %v", err)
	}
	// Directory emptied of lower entries can be removed.
	v.Unlink(ctx, r, r, "/dir/sub/c")
	if err := v.Rmdir(ctx, r, r, "/dir/sub"); err != nil {
		t.Errorf("rmdir emptied lower dir: %v", err)
	}

	// Opaque: remove a lower dir with contents, recreate it: empty.
	v.Unlink(ctx, r, r, "/opq/x")
	if err := v.Rmdir(ctx, r, r, "/opq"); err != nil {
		t.Fatal(err)
	}
	if err := v.Mkdir(ctx, r, r, "/opq", 0o755); err != nil {
		t.Fatal(err)
	}
	if got := o.ls(t, "/opq"); len(got) != 0 {
		t.Errorf("opaque dir shows %v", got)
	}
	if err := o.exists("/opq/x"); err != unix.ENOENT {
		t.Errorf("opaque lookup: %v", err)
	}
	if _, err := v.GetXattr(ctx, r, r, "/opq", 0, "trusted.overlay.opaque"); err != unix.ENODATA {
		t.Errorf("private xattr visible: %v", err)
	}

	// Rename of a lower directory (with a deep tree) works.
	if err := v.Rename(ctx, r, r, "/usr", r, "/usr2", 0); err != nil {
		t.Fatal(err)
	}
	if got := o.read(t, "/usr2/lib/deep/libc.so"); got != strings.Repeat("elf", 10000) {
		t.Errorf("renamed tree content wrong")
	}
	if err := o.exists("/usr"); err != unix.ENOENT {
		t.Errorf("old dir name: %v", err)
	}
	// Rename a lower file over another lower file.
	if err := v.Rename(ctx, r, r, "/dir/b", r, "/etc/b", 0); err != nil {
		t.Fatal(err)
	}
	if got := o.ls(t, "/dir"); len(got) != 0 {
		t.Errorf("ls /dir after moves = %v", got)
	}
	if err := v.Rmdir(ctx, r, r, "/dir"); err != nil {
		t.Errorf("rmdir dir: %v", err)
	}
	// Hard link of a lower file.
	if err := v.Link(ctx, r, r, "/link", r, "/hardlink", 0); err != nil {
		t.Fatal(err)
	}
	if s, _ := v.Readlink(ctx, r, r, "/hardlink"); s != "etc/passwd" {
		t.Errorf("hardlinked symlink: %q", s)
	}
	// A directory renamed over the whiteout of a removed one.
	v.Mkdir(ctx, r, r, "/newdir", 0o755)
	if err := v.Rename(ctx, r, r, "/newdir", r, "/emptydir", 0); err != nil {
		t.Errorf("rename over whiteout: %v", err)
	}
	// Root listing is the union minus whiteouts.
	if got := fmt.Sprint(o.ls(t, "/")); got != "[emptydir etc hardlink link opq sparse usr2]" {
		t.Errorf("ls / = %s", got)
	}
	sfs, _ := v.StatFS(ctx, r, r, "/")
	if sfs.Type != overlay.Magic {
		t.Errorf("statfs type %#x", sfs.Type)
	}
	// O_TRUNC copy-up of a big file skips the data.
	o.write(t, "/usr2/lib/deep/libc.so", "x", unix.O_TRUNC)
	if got := o.read(t, "/usr2/lib/deep/libc.so"); got != "x" {
		t.Errorf("trunc: %q", got)
	}

	// Nothing reached the lower layer.
	if after := lower.snapshot(t); after != before {
		t.Errorf("lower layer modified:\n%s", diff(before, after))
	}
}

func TestOverlayGetdentsInos(t *testing.T) {
	_, o := setup(t)
	o.write(t, "/etc/newfile", "n", 0)
	o.write(t, "/etc/passwd", "changed", unix.O_TRUNC)
	f, _ := o.v.OpenAt(ctx, o.root, o.root, "/etc", unix.O_RDONLY, 0)
	defer f.DecRef(ctx)
	n := 0
	f.IterDirents(ctx, func(d vfs.Dirent) bool {
		n++
		st, err := o.v.Stat(ctx, o.root, o.root, "/etc/"+d.Name, unix.AT_SYMLINK_NOFOLLOW)
		if err != nil {
			t.Errorf("stat %s: %v", d.Name, err)
		} else if st.Ino != d.Ino {
			t.Errorf("%s: d_ino %d != st_ino %d", d.Name, d.Ino, st.Ino)
		}
		return true
	})
	if n != 4 {
		t.Errorf("%d entries", n)
	}
	// Permissions come from the layer's metadata.
	user := vfs.NewContext(vfs.UserCredentials(1000, 1000))
	if _, err := o.v.OpenAt(user, o.root, o.root, "/etc/passwd", unix.O_WRONLY, 0); err != unix.EACCES {
		t.Errorf("non-root write: %v", err)
	}
	if !bytes.Equal([]byte(o.read(t, "/etc/passwd")), []byte("changed")) {
		t.Errorf("content")
	}
}

func diff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			out = append(out, "- "+x, "+ "+y)
		}
	}
	return strings.Join(out, "\n")
}

// A lower directory too large to copy up in one rename gives EXDEV (as
// Linux's overlayfs without redirect_dir does for every one), and the
// failed rename leaves both names as they were; within the bounds it moves.
func TestRenameLowerDirBounds(t *testing.T) {
	lower, o := setup(t)
	v, r := o.v, o.root
	for _, d := range []string{"/big", "/many", "/small"} {
		if err := v.Mkdir(ctx, lower.root, lower.root, d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	lower.write(t, "/big/blob", strings.Repeat("b", overlay.MaxTreeBytes+1), 0)
	for i := 0; i < overlay.MaxTreeEntries; i++ { // with the directory: one too many
		lower.write(t, fmt.Sprintf("/many/f%d", i), "", 0)
	}
	lower.write(t, "/small/blob", strings.Repeat("s", overlay.MaxTreeBytes-1), 0)
	tests := []struct {
		from, to string
		flags    uint32
		want     error
	}{
		{"/big", "/big2", 0, unix.EXDEV},
		{"/many", "/many2", 0, unix.EXDEV},
		{"/etc", "/big", unix.RENAME_EXCHANGE, unix.EXDEV}, // the other side is too large
		{"/small", "/small2", 0, nil},
	}
	for _, tt := range tests {
		if err := v.Rename(ctx, r, r, tt.from, r, tt.to, tt.flags); err != tt.want {
			t.Errorf("rename %s %s: %v, want %v", tt.from, tt.to, err, tt.want)
		}
	}
	for _, p := range []string{"/big/blob", "/many/f0", "/etc/passwd", "/small2/blob"} {
		if err := o.exists(p); err != nil {
			t.Errorf("%s after the renames: %v", p, err)
		}
	}
	for _, p := range []string{"/big2", "/many2", "/small"} {
		if err := o.exists(p); err != unix.ENOENT {
			t.Errorf("%s after the renames: %v, want ENOENT", p, err)
		}
	}
	if got := o.read(t, "/small2/blob"); got != strings.Repeat("s", overlay.MaxTreeBytes-1) {
		t.Errorf("renamed small tree: %d bytes", len(got))
	}
	// A large lower file still moves (a file is copied up, as on Linux).
	if err := v.Rename(ctx, r, r, "/big/blob", r, "/blob", 0); err != nil {
		t.Errorf("rename of a large lower file: %v", err)
	}
}
