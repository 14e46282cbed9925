package vfs_test

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/runsc-lite/runsc-lite/sentry/memfile"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/tmpfs"
	"github.com/runsc-lite/runsc-lite/vfs/waiter"
	"golang.org/x/sys/unix"
)

type env struct {
	t    *testing.T
	v    *vfs.VFS
	mf   *memfile.File
	root vfs.Location
	ctx  vfs.Context
}

func newEnv(t *testing.T) *env {
	t.Helper()
	mf, err := memfile.New("test", 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mf.Close() })
	v := vfs.New()
	fs, err := tmpfs.New(v, mf, tmpfs.Options{RootMode: 0o755})
	if err != nil {
		t.Fatal(err)
	}
	ns := v.NewMountNamespace(fs, 0)
	return &env{t: t, v: v, mf: mf, root: ns.Root(), ctx: vfs.NewContext(vfs.RootCredentials())}
}

func (e *env) mkdir(p string, mode uint32) {
	e.t.Helper()
	if err := e.v.Mkdir(e.ctx, e.root, e.root, p, mode); err != nil {
		e.t.Fatalf("mkdir %s: %v", p, err)
	}
}

func (e *env) write(p string, data string) {
	e.t.Helper()
	f, err := e.v.OpenAt(e.ctx, e.root, e.root, p, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC, 0o644)
	if err != nil {
		e.t.Fatalf("open %s: %v", p, err)
	}
	defer f.DecRef(e.ctx)
	if _, err := f.Write(e.ctx, []byte(data)); err != nil {
		e.t.Fatalf("write %s: %v", p, err)
	}
}

func (e *env) read(p string) string {
	e.t.Helper()
	f, err := e.v.OpenAt(e.ctx, e.root, e.root, p, unix.O_RDONLY, 0)
	if err != nil {
		e.t.Fatalf("open %s: %v", p, err)
	}
	defer f.DecRef(e.ctx)
	var out []byte
	buf := make([]byte, 1000)
	for {
		n, err := f.Read(e.ctx, buf)
		if err != nil {
			e.t.Fatalf("read %s: %v", p, err)
		}
		if n == 0 {
			return string(out)
		}
		out = append(out, buf[:n]...)
	}
}

func (e *env) symlink(target, p string) {
	e.t.Helper()
	if err := e.v.Symlink(e.ctx, e.root, target, e.root, p); err != nil {
		e.t.Fatalf("symlink %s: %v", p, err)
	}
}

func (e *env) stat(p string) vfs.Statx {
	e.t.Helper()
	st, err := e.v.Stat(e.ctx, e.root, e.root, p, unix.AT_SYMLINK_NOFOLLOW)
	if err != nil {
		e.t.Fatalf("stat %s: %v", p, err)
	}
	return st
}

func (e *env) loc(p string) vfs.Location {
	e.t.Helper()
	l, err := e.v.GetLocation(e.ctx, e.root, e.root, p, 0)
	if err != nil {
		e.t.Fatalf("getlocation %s: %v", p, err)
	}
	return l
}

func wantErr(t *testing.T, what string, got, want error) {
	t.Helper()
	if !errors.Is(got, want) && !(got == nil && want == nil) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

func TestOpenErrors(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/d", 0o755)
	e.write("/d/f", "hello")
	e.symlink("f", "/d/lf")
	e.symlink("/d", "/ld")
	e.symlink("loop1", "/loop2")
	e.symlink("loop2", "/loop1")
	e.symlink("self", "/self")
	e.symlink("nothere", "/dangling")
	e.symlink("/d/newfile", "/dangling2")
	long := strings.Repeat("x", 256)
	tests := []struct {
		path  string
		flags uint32
		want  error
	}{
		{"/d/f", unix.O_RDONLY, nil},
		{"/d/f/", unix.O_RDONLY, unix.ENOTDIR},
		{"/d/f/x", unix.O_RDONLY, unix.ENOTDIR},
		{"/d/f", unix.O_RDONLY | unix.O_DIRECTORY, unix.ENOTDIR},
		{"/d", unix.O_RDONLY | unix.O_DIRECTORY, nil},
		{"/d/", unix.O_RDONLY, nil},
		{"/d", unix.O_WRONLY, unix.EISDIR},
		{"/d", unix.O_RDWR, unix.EISDIR},
		{"/d/f", unix.O_CREAT | unix.O_EXCL | unix.O_WRONLY, unix.EEXIST},
		{"/d/lf", unix.O_CREAT | unix.O_EXCL | unix.O_WRONLY, unix.EEXIST},
		{"/dangling", unix.O_CREAT | unix.O_EXCL | unix.O_WRONLY, unix.EEXIST},
		{"/d/new/", unix.O_CREAT | unix.O_WRONLY, unix.EISDIR},
		{"/d", unix.O_CREAT | unix.O_RDONLY, unix.EISDIR},
		{"/", unix.O_CREAT | unix.O_RDONLY, unix.EISDIR},
		// O_CREAT: a trailing slash is EISDIR before any lookup; the dots
		// name an existing directory (EEXIST with O_EXCL).
		{"/d/f/", unix.O_CREAT | unix.O_RDONLY, unix.EISDIR},
		{"/d/", unix.O_CREAT | unix.O_EXCL | unix.O_RDONLY, unix.EISDIR},
		{"/dangling/", unix.O_CREAT | unix.O_EXCL | unix.O_RDONLY, unix.EISDIR},
		{"/d/.", unix.O_CREAT | unix.O_EXCL | unix.O_RDONLY, unix.EEXIST},
		{"/d/..", unix.O_CREAT | unix.O_RDONLY, unix.EISDIR},
		{"/", unix.O_CREAT | unix.O_EXCL | unix.O_RDONLY, unix.EEXIST},
		{"/d/lf", unix.O_RDONLY | unix.O_NOFOLLOW, unix.ELOOP},
		{"/d/lf", unix.O_RDONLY, nil},
		{"/ld/f", unix.O_RDONLY | unix.O_NOFOLLOW, nil},
		{"/ld/", unix.O_RDONLY | unix.O_NOFOLLOW, nil},
		{"/loop1", unix.O_RDONLY, unix.ELOOP},
		{"/self", unix.O_RDONLY, unix.ELOOP},
		{"/self/x", unix.O_RDONLY, unix.ELOOP},
		{"/dangling", unix.O_RDONLY, unix.ENOENT},
		{"/nope", unix.O_RDONLY, unix.ENOENT},
		{"/nope/x", unix.O_RDONLY, unix.ENOENT},
		{"", unix.O_RDONLY, unix.ENOENT},
		{"/" + long, unix.O_RDONLY, unix.ENAMETOOLONG},
		{"/" + strings.Repeat("a/", 2100), unix.O_RDONLY, unix.ENAMETOOLONG},
		{"/d/../d/./f", unix.O_RDONLY, nil},
		{"/../../d/f", unix.O_RDONLY, nil},
		{"/dangling2", unix.O_CREAT | unix.O_WRONLY, nil}, // creates /d/newfile
		{"/d/lf", unix.O_RDONLY | unix.O_PATH | unix.O_NOFOLLOW, nil},
	}
	for _, tc := range tests {
		f, err := e.v.OpenAt(e.ctx, e.root, e.root, tc.path, tc.flags, 0o644)
		wantErr(t, fmt.Sprintf("open(%.40q, %#x)", tc.path, tc.flags), err, tc.want)
		if f != nil {
			f.DecRef(e.ctx)
		}
	}
	if st := e.stat("/d/newfile"); st.Mode&unix.S_IFMT != unix.S_IFREG {
		t.Errorf("dangling symlink O_CREAT did not create target")
	}
	// Symlink chain of exactly 40 works, 41 fails.
	e.mkdir("/chain", 0o755)
	e.write("/chain/l0", "end")
	for i := 1; i <= 41; i++ {
		e.symlink(fmt.Sprintf("l%d", i-1), fmt.Sprintf("/chain/l%d", i))
	}
	if got := e.read("/chain/l40"); got != "end" {
		t.Errorf("40 links: %q", got)
	}
	_, err := e.v.OpenAt(e.ctx, e.root, e.root, "/chain/l41", unix.O_RDONLY, 0)
	wantErr(t, "41 links", err, unix.ELOOP)
}

func TestDotDotAndChroot(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/jail", 0o755)
	e.mkdir("/jail/sub", 0o755)
	e.write("/jail/inside", "in")
	e.write("/outside", "out")
	e.symlink("/inside", "/jail/abs")
	e.symlink("../../../../outside", "/jail/sub/rel")
	jail := e.loc("/jail")
	sub := e.loc("/jail/sub")
	for _, p := range []string{"../../../inside", "/../inside", "/abs", "../abs"} {
		f, err := e.v.OpenAt(e.ctx, jail, sub, p, unix.O_RDONLY, 0)
		if err != nil {
			t.Errorf("chroot open %s: %v", p, err)
			continue
		}
		f.DecRef(e.ctx)
	}
	if _, err := e.v.OpenAt(e.ctx, jail, sub, "rel", unix.O_RDONLY, 0); err != unix.ENOENT {
		t.Errorf("symlink escaping chroot: %v", err)
	}
	p, _ := e.v.PathOf(jail, sub)
	if p != "/sub" {
		t.Errorf("PathOf in jail = %q", p)
	}
	p, _ = e.v.PathOf(jail, e.root)
	if !strings.HasPrefix(p, "(unreachable)") {
		t.Errorf("PathOf outside jail = %q", p)
	}
}

func TestMounts(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/mnt", 0o755)
	e.mkdir("/mnt/under", 0o755)
	fs2, _ := tmpfs.New(e.v, e.mf, tmpfs.Options{})
	m, err := e.v.Mount(e.ctx, e.root, e.root, "/mnt", fs2, 0)
	if err != nil {
		t.Fatal(err)
	}
	e.write("/mnt/onfs2", "x")
	if _, err := e.v.Stat(e.ctx, e.root, e.root, "/mnt/under", 0); err != unix.ENOENT {
		t.Errorf("mount does not hide: %v", err)
	}
	st := e.stat("/mnt/onfs2")
	if st.Dev_minor == e.stat("/").Dev_minor {
		t.Errorf("same st_dev across mounts")
	}
	if st.Mnt_id != m.ID() {
		t.Errorf("mnt_id")
	}
	// .. from the mount root goes to the parent filesystem.
	e.write("/marker", "m")
	if got := e.read("/mnt/../marker"); got != "m" {
		t.Errorf("dotdot across mount: %q", got)
	}
	l := e.loc("/mnt")
	if p, _ := e.v.PathOf(e.root, l); p != "/mnt" {
		t.Errorf("PathOf = %q", p)
	}
	// Cross-mount rename and link are EXDEV.
	wantErr(t, "rename exdev", e.v.Rename(e.ctx, e.root, e.root, "/marker", e.root, "/mnt/marker", 0), unix.EXDEV)
	wantErr(t, "link exdev", e.v.Link(e.ctx, e.root, e.root, "/marker", e.root, "/mnt/marker", 0), unix.EXDEV)
	// Busy while l is held.
	wantErr(t, "umount busy", e.v.Unmount(e.ctx, e.root, e.root, "/mnt", 0), unix.EBUSY)
	wantErr(t, "rmdir mountpoint", e.v.Rmdir(e.ctx, e.root, e.root, "/mnt"), unix.EBUSY)
	l.DecRef()
	wantErr(t, "umount non-root", e.v.Unmount(e.ctx, e.root, e.root, "/mnt/..", 0), unix.EINVAL)
	if err := e.v.Unmount(e.ctx, e.root, e.root, "/mnt", 0); err != nil {
		t.Fatal(err)
	}
	e.stat("/mnt/under")
	// Bind mount of a subdirectory.
	e.mkdir("/src", 0o755)
	e.write("/src/file", "bound")
	e.mkdir("/dst", 0o755)
	if _, err := e.v.BindMount(e.ctx, e.loc("/src"), e.root, e.root, "/dst", 0, false); err != nil {
		t.Fatal(err)
	}
	if got := e.read("/dst/file"); got != "bound" {
		t.Errorf("bind: %q", got)
	}
	// Read-only mount.
	e.mkdir("/ro", 0o755)
	fs3, _ := tmpfs.New(e.v, e.mf, tmpfs.Options{})
	if _, err := e.v.Mount(e.ctx, e.root, e.root, "/ro", fs3, vfs.MountReadOnly); err != nil {
		t.Fatal(err)
	}
	_, err = e.v.OpenAt(e.ctx, e.root, e.root, "/ro/x", unix.O_CREAT|unix.O_WRONLY, 0o644)
	wantErr(t, "create on ro", err, unix.EROFS)
	wantErr(t, "mkdir on ro", e.v.Mkdir(e.ctx, e.root, e.root, "/ro/x", 0o755), unix.EROFS)
	// A read-only mount refuses before permissions count (Linux's
	// mnt_want_write): a user without write access gets EROFS too.
	user := vfs.NewContext(vfs.UserCredentials(1000, 1000))
	e.mkdir("/rou", 0o755)
	fs4, _ := tmpfs.New(e.v, e.mf, tmpfs.Options{RootMode: 0o755})
	if _, err := e.v.Mount(e.ctx, e.root, e.root, "/rou", fs4, 0); err != nil {
		t.Fatal(err)
	}
	e.mkdir("/rou/d", 0o755)
	e.write("/rou/f", "f")
	// The same file system again, read-only, over it.
	if _, err := e.v.Mount(e.ctx, e.root, e.root, "/rou", fs4, vfs.MountReadOnly); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "user mkdir on ro", e.v.Mkdir(user, e.root, e.root, "/rou/x", 0o755), unix.EROFS)
	_, err = e.v.OpenAt(user, e.root, e.root, "/rou/x", unix.O_CREAT|unix.O_WRONLY, 0o644)
	wantErr(t, "user create on ro", err, unix.EROFS)
	wantErr(t, "user unlink on ro", e.v.Unlink(user, e.root, e.root, "/rou/f"), unix.EROFS)
	wantErr(t, "user rmdir on ro", e.v.Rmdir(user, e.root, e.root, "/rou/d"), unix.EROFS)
}

func TestPermissions(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/pub", 0o777)
	e.mkdir("/priv", 0o700)
	e.write("/priv/secret", "s")
	e.write("/pub/rootfile", "r")
	e.mkdir("/sticky", 0o1777)
	e.write("/sticky/rootfile", "r")
	user := vfs.NewContext(vfs.UserCredentials(1000, 1000))
	other := vfs.NewContext(vfs.UserCredentials(1001, 1001))
	_, err := e.v.OpenAt(user, e.root, e.root, "/priv/secret", unix.O_RDONLY, 0)
	wantErr(t, "search denied", err, unix.EACCES)
	_, err = e.v.OpenAt(user, e.root, e.root, "/pub/rootfile", unix.O_WRONLY, 0)
	wantErr(t, "write denied", err, unix.EACCES)
	f, err := e.v.OpenAt(user, e.root, e.root, "/pub/rootfile", unix.O_RDONLY, 0)
	wantErr(t, "read allowed", err, nil)
	if f != nil {
		f.DecRef(user)
	}
	f, err = e.v.OpenAt(user, e.root, e.root, "/pub/mine", unix.O_CREAT|unix.O_RDWR, 0)
	wantErr(t, "create mode 0 opens rw", err, nil)
	if f != nil {
		f.DecRef(user)
	}
	st, _ := e.v.Stat(user, e.root, e.root, "/pub/mine", 0)
	if st.Uid != 1000 || st.Gid != 1000 {
		t.Errorf("owner %d:%d", st.Uid, st.Gid)
	}
	wantErr(t, "chmod by other", e.v.SetStat(other, e.root, e.root, "/pub/mine", 0, &vfs.SetStatOptions{Mask: unix.STATX_MODE, Mode: 0o777}), unix.EPERM)
	wantErr(t, "chmod by owner", e.v.SetStat(user, e.root, e.root, "/pub/mine", 0, &vfs.SetStatOptions{Mask: unix.STATX_MODE, Mode: 0o640}), nil)
	wantErr(t, "chown by user", e.v.SetStat(user, e.root, e.root, "/pub/mine", 0, &vfs.SetStatOptions{Mask: unix.STATX_UID, UID: 0}), unix.EPERM)
	wantErr(t, "chown by root", e.v.SetStat(e.ctx, e.root, e.root, "/pub/mine", 0, &vfs.SetStatOptions{Mask: unix.STATX_UID, UID: 1001}), nil)
	wantErr(t, "utimes explicit by non-owner", e.v.SetStat(user, e.root, e.root, "/pub/rootfile", 0, &vfs.SetStatOptions{Mask: unix.STATX_MTIME, Mtime: vfs.Timestamp{Sec: 5}}), unix.EPERM)
	wantErr(t, "utimes now without write", e.v.SetStat(user, e.root, e.root, "/pub/rootfile", 0, &vfs.SetStatOptions{Mask: unix.STATX_MTIME | unix.STATX_ATIME, Mtime: vfs.Timestamp{Nsec: unix.UTIME_NOW}, Atime: vfs.Timestamp{Nsec: unix.UTIME_NOW}}), unix.EACCES)
	wantErr(t, "truncate without write", e.v.SetStat(user, e.root, e.root, "/pub/rootfile", 0, &vfs.SetStatOptions{Mask: unix.STATX_SIZE}), unix.EACCES)
	// With write access: both times now is a touch, now with omit is not.
	e.write("/pub/shared", "s")
	e.v.SetStat(e.ctx, e.root, e.root, "/pub/shared", 0, &vfs.SetStatOptions{Mask: unix.STATX_MODE, Mode: 0o666})
	now, omit := vfs.Timestamp{Nsec: unix.UTIME_NOW}, vfs.Timestamp{Nsec: unix.UTIME_OMIT}
	wantErr(t, "touch with write", e.v.SetStat(user, e.root, e.root, "/pub/shared", 0, &vfs.SetStatOptions{Mask: unix.STATX_MTIME | unix.STATX_ATIME, Mtime: now, Atime: now}), nil)
	wantErr(t, "now and omit by non-owner", e.v.SetStat(user, e.root, e.root, "/pub/shared", 0, &vfs.SetStatOptions{Mask: unix.STATX_MTIME | unix.STATX_ATIME, Mtime: omit, Atime: now}), unix.EPERM)
	wantErr(t, "truncate with write by non-owner", e.v.SetStat(user, e.root, e.root, "/pub/shared", 0, &vfs.SetStatOptions{Mask: unix.STATX_SIZE | unix.STATX_MTIME, Mtime: now}), nil)
	wantErr(t, "sticky unlink", e.v.Unlink(user, e.root, e.root, "/sticky/rootfile"), unix.EPERM)
	wantErr(t, "mkdir in root-owned", e.v.Mkdir(user, e.root, e.root, "/x", 0o755), unix.EACCES)
	wantErr(t, "access W_OK", e.v.Access(user, e.root, e.root, "/pub/rootfile", unix.W_OK, 0), unix.EACCES)
	wantErr(t, "access R_OK", e.v.Access(user, e.root, e.root, "/pub/rootfile", unix.R_OK, 0), nil)
	wantErr(t, "access X_OK root no x", e.v.Access(e.ctx, e.root, e.root, "/pub/rootfile", unix.X_OK, 0), unix.EACCES)
	wantErr(t, "access X_OK root dir", e.v.Access(e.ctx, e.root, e.root, "/priv", unix.X_OK, 0), nil)
	wantErr(t, "mknod chr by user", e.v.Mknod(user, e.root, e.root, "/pub/dev", unix.S_IFCHR|0o600, unix.Mkdev(1, 3)), unix.EPERM)
	// Group permissions via supplementary groups.
	e.mkdir("/grp", 0o770)
	e.v.SetStat(e.ctx, e.root, e.root, "/grp", 0, &vfs.SetStatOptions{Mask: unix.STATX_GID, GID: 50})
	wantErr(t, "group search", e.v.Access(vfs.NewContext(vfs.UserCredentials(1000, 1000, 50)), e.root, e.root, "/grp", unix.X_OK, unix.AT_EACCESS), nil)
	wantErr(t, "non-group search", e.v.Access(user, e.root, e.root, "/grp", unix.X_OK, unix.AT_EACCESS), unix.EACCES)
	// setgid directory inheritance.
	e.v.SetStat(e.ctx, e.root, e.root, "/grp", 0, &vfs.SetStatOptions{Mask: unix.STATX_MODE, Mode: 0o2777})
	e.mkdir("/grp/sub", 0o755)
	st = e.stat("/grp/sub")
	if st.Gid != 50 || st.Mode&unix.S_ISGID == 0 {
		t.Errorf("setgid inheritance: gid %d mode %o", st.Gid, st.Mode)
	}
}

func TestRename(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/a", 0o755)
	e.mkdir("/a/b", 0o755)
	e.mkdir("/empty", 0o755)
	e.mkdir("/full", 0o755)
	e.write("/full/x", "x")
	e.write("/f1", "one")
	e.write("/f2", "two")
	tests := []struct {
		old, new string
		flags    uint32
		want     error
	}{
		{"/a", "/a/b/c", 0, unix.EINVAL},
		{"/a", "/a/b", 0, unix.EINVAL},
		{"/a/b", "/a", 0, unix.ENOTEMPTY},
		{"/f1", "/a", 0, unix.EISDIR},
		{"/a", "/f1", 0, unix.ENOTDIR},
		{"/a", "/full", 0, unix.ENOTEMPTY},
		{"/nope", "/x", 0, unix.ENOENT},
		{"/f1", "/f2", unix.RENAME_NOREPLACE, unix.EEXIST},
		{"/f1", "/nope", unix.RENAME_EXCHANGE, unix.ENOENT},
		{"/f1", "/f2", unix.RENAME_EXCHANGE | unix.RENAME_NOREPLACE, unix.EINVAL},
		{"/f1/", "/f3", 0, unix.ENOTDIR},
		{"/.", "/x", 0, unix.EBUSY},
		{"/a/..", "/x", 0, unix.EBUSY},
		{"/f1", "/f1", 0, nil},
		{"/f1", "/f2", unix.RENAME_EXCHANGE, nil},
		{"/f1", "/f2", 0, nil},
		{"/a", "/empty", 0, nil},
		{"/empty/b", "/b2/", 0, nil},
	}
	for _, tc := range tests {
		err := e.v.Rename(e.ctx, e.root, e.root, tc.old, e.root, tc.new, tc.flags)
		wantErr(t, fmt.Sprintf("rename(%s, %s, %d)", tc.old, tc.new, tc.flags), err, tc.want)
	}
	if got := e.read("/f2"); got != "two" { // after exchange f1=two, then f1->f2
		t.Errorf("f2 = %q", got)
	}
	e.stat("/b2")
	if _, err := e.v.Stat(e.ctx, e.root, e.root, "/a", 0); err != unix.ENOENT {
		t.Errorf("/a still there: %v", err)
	}
	if st := e.stat("/"); st.Nlink != 5 { // ., .., empty, full, b2
		t.Errorf("root nlink = %d", st.Nlink)
	}
	// Sticky rename by non-owner.
	e.mkdir("/tmp", 0o1777)
	e.write("/tmp/rootfile", "r")
	user := vfs.NewContext(vfs.UserCredentials(1000, 1000))
	wantErr(t, "sticky rename", e.v.Rename(user, e.root, e.root, "/tmp/rootfile", e.root, "/tmp/mine", 0), unix.EPERM)
	// Open file survives rename; PathOf follows.
	f, _ := e.v.OpenAt(e.ctx, e.root, e.root, "/f2", unix.O_RDONLY, 0)
	e.v.Rename(e.ctx, e.root, e.root, "/f2", e.root, "/b2/moved", 0)
	if p, _ := e.v.PathOf(e.root, f.Location()); p != "/b2/moved" {
		t.Errorf("PathOf after rename = %q", p)
	}
	e.v.Unlink(e.ctx, e.root, e.root, "/b2/moved")
	if p, _ := e.v.PathOf(e.root, f.Location()); p != "/b2/moved (deleted)" {
		t.Errorf("PathOf after unlink = %q", p)
	}
	buf := make([]byte, 10)
	n, _ := f.Read(e.ctx, buf)
	if string(buf[:n]) != "two" {
		t.Errorf("read unlinked = %q", buf[:n])
	}
	f.DecRef(e.ctx)
}

func TestUnlinkRmdir(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/d", 0o755)
	e.mkdir("/d/sub", 0o755)
	e.write("/d/f", "x")
	e.symlink("/d", "/ld")
	wantErr(t, "unlink dir", e.v.Unlink(e.ctx, e.root, e.root, "/d/sub"), unix.EISDIR)
	wantErr(t, "unlink trailing", e.v.Unlink(e.ctx, e.root, e.root, "/d/f/"), unix.ENOTDIR)
	wantErr(t, "rmdir file", e.v.Rmdir(e.ctx, e.root, e.root, "/d/f"), unix.ENOTDIR)
	wantErr(t, "rmdir nonempty", e.v.Rmdir(e.ctx, e.root, e.root, "/d"), unix.ENOTEMPTY)
	wantErr(t, "rmdir dot", e.v.Rmdir(e.ctx, e.root, e.root, "/d/sub/."), unix.EINVAL)
	wantErr(t, "rmdir dotdot", e.v.Rmdir(e.ctx, e.root, e.root, "/d/sub/.."), unix.ENOTEMPTY)
	wantErr(t, "rmdir root", e.v.Rmdir(e.ctx, e.root, e.root, "/"), unix.EBUSY)
	wantErr(t, "rmdir symlink", e.v.Rmdir(e.ctx, e.root, e.root, "/ld"), unix.ENOTDIR)
	wantErr(t, "mkdir exists", e.v.Mkdir(e.ctx, e.root, e.root, "/d", 0o755), unix.EEXIST)
	wantErr(t, "mkdir dangling", e.v.Mkdir(e.ctx, e.root, e.root, "/ld", 0o755), unix.EEXIST)
	wantErr(t, "mkdir trailing", e.v.Mkdir(e.ctx, e.root, e.root, "/d/new/", 0o755), nil)
	wantErr(t, "symlink trailing", e.v.Symlink(e.ctx, e.root, "x", e.root, "/d/sl/"), unix.ENOENT)
	if st := e.stat("/d"); st.Nlink != 4 {
		t.Errorf("nlink /d = %d", st.Nlink)
	}
	// cwd removed: creating in it is ENOENT.
	cwd := e.loc("/d/sub")
	wantErr(t, "rmdir sub", e.v.Rmdir(e.ctx, e.root, e.root, "/d/sub"), nil)
	_, err := e.v.OpenAt(e.ctx, e.root, cwd, "x", unix.O_CREAT|unix.O_WRONLY, 0o644)
	wantErr(t, "create in deleted dir", err, unix.ENOENT)
	if !cwd.Dentry.IsDead() {
		t.Errorf("not dead")
	}
	// Hard links.
	wantErr(t, "link", e.v.Link(e.ctx, e.root, e.root, "/d/f", e.root, "/d/f2", 0), nil)
	wantErr(t, "link dir", e.v.Link(e.ctx, e.root, e.root, "/d", e.root, "/d2", 0), unix.EPERM)
	wantErr(t, "link exists", e.v.Link(e.ctx, e.root, e.root, "/d/f", e.root, "/d/f2", 0), unix.EEXIST)
	if st := e.stat("/d/f"); st.Nlink != 2 {
		t.Errorf("nlink = %d", st.Nlink)
	}
	if e.stat("/d/f").Ino != e.stat("/d/f2").Ino {
		t.Errorf("link ino differs")
	}
}

func TestGetdents(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/big", 0o755)
	const n = 1000
	want := map[string]bool{".": true, "..": true}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("file-%04d", i)
		e.write("/big/"+name, "")
		want[name] = true
	}
	f, err := e.v.OpenAt(e.ctx, e.root, e.root, "/big", unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef(e.ctx)
	got := map[string]bool{}
	buf := make([]byte, 100)
	var offs []int64
	for calls := 0; ; calls++ {
		m, err := f.Getdents64(e.ctx, buf)
		if err != nil {
			t.Fatal(err)
		}
		if m == 0 {
			break
		}
		for b := buf[:m]; len(b) > 0; {
			reclen := int(b[16]) | int(b[17])<<8
			off := int64(0)
			for i := 7; i >= 0; i-- {
				off = off<<8 | int64(b[8+i])
			}
			offs = append(offs, off)
			name := string(bytes.TrimRight(b[19:reclen], "\x00"))
			if got[name] {
				t.Fatalf("duplicate %s", name)
			}
			got[name] = true
			b = b[reclen:]
		}
		// Deleting entries already read must not disturb the iteration.
		if calls == 3 {
			e.v.Unlink(e.ctx, e.root, e.root, "/big/file-0000")
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d entries, want %d", len(got), len(want))
	}
	if !sort.SliceIsSorted(offs, func(i, j int) bool { return offs[i] < offs[j] }) {
		t.Errorf("offsets not increasing")
	}
	// seekdir to a saved offset resumes there.
	if _, err := f.Seek(e.ctx, offs[10], unix.SEEK_SET); err != nil {
		t.Fatal(err)
	}
	var first string
	f.IterDirents(e.ctx, func(d vfs.Dirent) bool { first = d.Name; return false })
	if first == "" {
		t.Errorf("seekdir")
	}
	if _, err := f.Getdents64(e.ctx, make([]byte, 10)); err != unix.EINVAL {
		t.Errorf("small buffer: %v", err)
	}
	if _, err := f.Read(e.ctx, buf); err != unix.EISDIR {
		t.Errorf("read dir: %v", err)
	}
}

// A removed directory that is still open lists nothing: ENOENT, as
// Linux's iterate_dir gives for a dead directory.
func TestGetdentsRemovedDir(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/d", 0o755)
	f, err := e.v.OpenAt(e.ctx, e.root, e.root, "/d", unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef(e.ctx)
	wantErr(t, "rmdir", e.v.Rmdir(e.ctx, e.root, e.root, "/d"), nil)
	if _, err := f.Getdents64(e.ctx, make([]byte, 512)); err != unix.ENOENT {
		t.Errorf("getdents64 of a removed directory: %v, want ENOENT", err)
	}
}

// fstatfs of an anonymous file names the pseudo file system Linux keeps it
// on.
func TestAnonStatFS(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		ftype uint32
		want  int64
	}{
		{unix.S_IFIFO, 0x50495045},
		{unix.S_IFSOCK, 0x534f434b},
		{0, 0x09041934},
	} {
		in := &vfs.AnonInode{Mode: tc.ftype | 0o600, Ino: e.v.NewAnonIno()}
		loc := e.v.NewAnonLocation("anon", in, tc.ftype)
		f := e.v.NewFile(loc, nullFile{}, unix.O_RDWR)
		loc.DecRef()
		s, err := f.StatFS(e.ctx)
		if err != nil || s.Type != tc.want {
			t.Errorf("type %#o: statfs %#x, %v; want %#x", tc.ftype, s.Type, err, tc.want)
		}
		f.DecRef(e.ctx)
	}
}

func TestTmpfile(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/d", 0o755)
	f, err := e.v.OpenAt(e.ctx, e.root, e.root, "/d", unix.O_TMPFILE|unix.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(e.ctx, []byte("tmp"))
	st, _ := f.Stat(e.ctx)
	if st.Nlink != 0 {
		t.Errorf("tmpfile nlink %d", st.Nlink)
	}
	if err := e.v.Link(e.ctx, e.root, f.Location(), "", e.root, "/d/named", unix.AT_EMPTY_PATH); err != nil {
		t.Fatal(err)
	}
	f.DecRef(e.ctx)
	if got := e.read("/d/named"); got != "tmp" {
		t.Errorf("linked tmpfile = %q", got)
	}
	_, err = e.v.OpenAt(e.ctx, e.root, e.root, "/d", unix.O_TMPFILE|unix.O_RDONLY, 0o600)
	wantErr(t, "tmpfile rdonly", err, unix.EINVAL)
	f, _ = e.v.OpenAt(e.ctx, e.root, e.root, "/d", unix.O_TMPFILE|unix.O_RDWR|unix.O_EXCL, 0o600)
	wantErr(t, "link excl tmpfile", e.v.Link(e.ctx, e.root, f.Location(), "", e.root, "/d/n2", unix.AT_EMPTY_PATH), unix.ENOENT)
	f.DecRef(e.ctx)
}

func TestFileOps(t *testing.T) {
	e := newEnv(t)
	e.write("/f", "hello")
	f, _ := e.v.OpenAt(e.ctx, e.root, e.root, "/f", unix.O_RDWR|unix.O_APPEND, 0)
	defer f.DecRef(e.ctx)
	f.Write(e.ctx, []byte(" world"))
	if got := e.read("/f"); got != "hello world" {
		t.Errorf("append: %q", got)
	}
	if off := f.Offset(); off != 11 {
		t.Errorf("offset after append %d", off)
	}
	if err := f.SetStatusFlags(e.ctx, 0); err != nil {
		t.Fatal(err)
	}
	f.Seek(e.ctx, 0, unix.SEEK_SET)
	f.Write(e.ctx, []byte("J"))
	if got := e.read("/f"); got != "Jello world" {
		t.Errorf("after F_SETFL: %q", got)
	}
	if fl := f.StatusFlags(); fl&unix.O_ACCMODE != unix.O_RDWR || fl&unix.O_APPEND != 0 {
		t.Errorf("flags %#x", fl)
	}
	ro, _ := e.v.OpenAt(e.ctx, e.root, e.root, "/f", unix.O_RDONLY, 0)
	if _, err := ro.Write(e.ctx, []byte("x")); err != unix.EBADF {
		t.Errorf("write on rdonly: %v", err)
	}
	if err := ro.Truncate(e.ctx, 0); err != unix.EINVAL {
		t.Errorf("ftruncate rdonly: %v", err)
	}
	ro.DecRef(e.ctx)
	p, _ := e.v.OpenAt(e.ctx, e.root, e.root, "/f", unix.O_PATH, 0)
	if _, err := p.Read(e.ctx, make([]byte, 1)); err != unix.EBADF {
		t.Errorf("read O_PATH: %v", err)
	}
	if _, err := p.Stat(e.ctx); err != nil {
		t.Errorf("stat O_PATH: %v", err)
	}
	p.DecRef(e.ctx)
	if _, err := f.Ioctl(e.ctx, 0x5401, 0); err != unix.ENOTTY {
		t.Errorf("ioctl: %v", err)
	}
	// O_TRUNC.
	g, _ := e.v.OpenAt(e.ctx, e.root, e.root, "/f", unix.O_WRONLY|unix.O_TRUNC, 0)
	g.DecRef(e.ctx)
	if st := e.stat("/f"); st.Size != 0 {
		t.Errorf("O_TRUNC size %d", st.Size)
	}
	// Readlink.
	e.symlink("target/x", "/l")
	if s, err := e.v.Readlink(e.ctx, e.root, e.root, "/l"); s != "target/x" || err != nil {
		t.Errorf("readlink %q %v", s, err)
	}
	if _, err := e.v.Readlink(e.ctx, e.root, e.root, "/f"); err != unix.EINVAL {
		t.Errorf("readlink file: %v", err)
	}
	// Xattrs.
	wantErr(t, "setxattr", e.v.SetXattr(e.ctx, e.root, e.root, "/f", 0, "user.k", []byte("v"), 0), nil)
	wantErr(t, "setxattr create", e.v.SetXattr(e.ctx, e.root, e.root, "/f", 0, "user.k", []byte("v"), unix.XATTR_CREATE), unix.EEXIST)
	wantErr(t, "setxattr replace", e.v.SetXattr(e.ctx, e.root, e.root, "/f", 0, "user.none", []byte("v"), unix.XATTR_REPLACE), unix.ENODATA)
	if v, err := e.v.GetXattr(e.ctx, e.root, e.root, "/f", 0, "user.k"); string(v) != "v" || err != nil {
		t.Errorf("getxattr %q %v", v, err)
	}
	if _, err := e.v.GetXattr(e.ctx, e.root, e.root, "/f", 0, "bogus.k"); err != unix.EOPNOTSUPP {
		t.Errorf("getxattr bad ns: %v", err)
	}
	names, _ := e.v.ListXattr(e.ctx, e.root, e.root, "/f", 0)
	if len(names) != 1 || names[0] != "user.k" {
		t.Errorf("listxattr %v", names)
	}
	wantErr(t, "removexattr", e.v.RemoveXattr(e.ctx, e.root, e.root, "/f", 0, "user.k"), nil)
	sfs, err := e.v.StatFS(e.ctx, e.root, e.root, "/f")
	if err != nil || sfs.Type != tmpfs.Magic {
		t.Errorf("statfs %v %#x", err, sfs.Type)
	}
}

type nullDev struct{}

func (nullDev) Open(vfs.Context, vfs.Location, uint32) (vfs.FileImpl, error) { return nullFile{}, nil }

type nullFile struct{ vfs.FileImplBase }

func (nullFile) PRead(vfs.Context, []byte, int64) (int, error)        { return 0, nil }
func (nullFile) PWrite(_ vfs.Context, b []byte, _ int64) (int, error) { return len(b), nil }

func TestDevices(t *testing.T) {
	e := newEnv(t)
	e.v.RegisterDevice(unix.S_IFCHR, 1, 3, nullDev{})
	if err := e.v.Mknod(e.ctx, e.root, e.root, "/null", unix.S_IFCHR|0o666, unix.Mkdev(1, 3)); err != nil {
		t.Fatal(err)
	}
	e.v.Mknod(e.ctx, e.root, e.root, "/zero", unix.S_IFCHR|0o666, unix.Mkdev(1, 5))
	f, err := e.v.OpenAt(e.ctx, e.root, e.root, "/null", unix.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := f.Write(e.ctx, []byte("abc")); n != 3 {
		t.Errorf("null write %d", n)
	}
	f.DecRef(e.ctx)
	_, err = e.v.OpenAt(e.ctx, e.root, e.root, "/zero", unix.O_RDWR, 0)
	wantErr(t, "unregistered device", err, unix.ENXIO)
	st := e.stat("/null")
	if st.Rdev_major != 1 || st.Rdev_minor != 3 {
		t.Errorf("rdev %d:%d", st.Rdev_major, st.Rdev_minor)
	}
}

func TestCloneMountNamespace(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/mnt", 0o755)
	fs2, _ := tmpfs.New(e.v, e.mf, tmpfs.Options{})
	e.v.Mount(e.ctx, e.root, e.root, "/mnt", fs2, 0)
	e.write("/mnt/f", "in fs2")
	root, cwd := e.root, e.loc("/mnt")
	root.IncRef()
	nns := e.v.CloneMountNamespace(e.root.Mount.Namespace(), &root, &cwd)
	if root != nns.Root() || cwd.Mount == e.root.Mount {
		t.Fatalf("locations not moved")
	}
	if err := e.v.Unmount(e.ctx, root, cwd, "/mnt", unix.MNT_DETACH); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v.Stat(e.ctx, root, root, "/mnt/f", 0); err != unix.ENOENT {
		t.Errorf("unmounted in clone: %v", err)
	}
	if got := e.read("/mnt/f"); got != "in fs2" {
		t.Errorf("original namespace changed: %q", got)
	}
}

func TestLocks(t *testing.T) {
	e := newEnv(t)
	e.write("/f", "0123456789")
	open := func() *vfs.File {
		f, err := e.v.OpenAt(e.ctx, e.root, e.root, "/f", unix.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	a, b := open(), open()
	wantErr(t, "flock ex a", a.Flock(unix.LOCK_EX), nil)
	wantErr(t, "flock sh b", b.Flock(unix.LOCK_SH), unix.EWOULDBLOCK)
	e1, ch := waiter.NewChannelEntry(waiter.AllEvents)
	b.LockQueue().Register(e1)
	a.DecRef(e.ctx) // close releases the flock
	<-ch
	b.LockQueue().Unregister(e1)
	wantErr(t, "flock sh b after close", b.Flock(unix.LOCK_SH), nil)
	b.Flock(unix.LOCK_UN)
	// POSIX locks.
	p1, p2 := "proc1", "proc2"
	wantErr(t, "wrlck p1", b.POSIXLock(p1, 1, unix.F_WRLCK, 0, 5), nil)
	wantErr(t, "rdlck p2 overlap", b.POSIXLock(p2, 2, unix.F_RDLCK, 4, 2), unix.EAGAIN)
	wantErr(t, "rdlck p2 disjoint", b.POSIXLock(p2, 2, unix.F_RDLCK, 5, 0), nil)
	typ, start, length, pid, ok, _ := b.TestPOSIXLock(p2, unix.F_WRLCK, 0, 1)
	if !ok || typ != unix.F_WRLCK || start != 0 || length != 5 || pid != 1 {
		t.Errorf("getlk %v %d %d %d %d", ok, typ, start, length, pid)
	}
	wantErr(t, "unlock middle", b.POSIXLock(p1, 1, unix.F_UNLCK, 1, 1), nil)
	if _, _, _, _, ok, _ := b.TestPOSIXLock(p2, unix.F_WRLCK, 1, 1); ok {
		t.Errorf("split lock still covers 1")
	}
	b.ReleasePOSIXLocks(p1)
	wantErr(t, "wrlck p2 after release", b.POSIXLock(p2, 2, unix.F_WRLCK, 0, 5), nil)
	b.DecRef(e.ctx)
}

// TestInternalMountPath checks how a named tmpfile on an internal mount
// (memfd_create's) shows in PathOf: "/memfd:NAME (deleted)", as on Linux.
func TestInternalMountPath(t *testing.T) {
	e := newEnv(t)
	fs, err := tmpfs.New(e.v, e.mf, tmpfs.Options{RootMode: 0o1777})
	if err != nil {
		t.Fatal(err)
	}
	in := e.v.NewInternalMount(fs)
	f, err := e.v.OpenAt(e.ctx, in, in, "/", unix.O_TMPFILE|unix.O_RDWR, 0o777)
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef(e.ctx)
	e.v.NameTmpfile(f.Location(), "memfd:x")
	if got, err := e.v.PathOf(e.root, f.Location()); err != nil || got != "/memfd:x (deleted)" {
		t.Errorf("PathOf = %q, %v; want \"/memfd:x (deleted)\"", got, err)
	}
}

func TestDenyWrite(t *testing.T) {
	e := newEnv(t)
	e.write("/prog", "#!")
	open := func(flags uint32) error {
		f, err := e.v.OpenAt(e.ctx, e.root, e.root, "/prog", flags, 0)
		if f != nil {
			f.DecRef(e.ctx)
		}
		return err
	}
	w, err := e.v.OpenAt(e.ctx, e.root, e.root, "/prog", unix.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.v.DenyWrite(w)
	wantErr(t, "deny while open for writing", err, unix.ETXTBSY)
	w.DecRef(e.ctx)

	r, err := e.v.OpenAt(e.ctx, e.root, e.root, "/prog", unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.DecRef(e.ctx)
	allow, err := e.v.DenyWrite(r)
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, "open for writing while denied", open(unix.O_RDWR), unix.ETXTBSY)
	wantErr(t, "O_TRUNC while denied", open(unix.O_RDONLY|unix.O_TRUNC), unix.ETXTBSY)
	wantErr(t, "truncate while denied", e.v.SetStat(e.ctx, e.root, e.root, "/prog", 0, &vfs.SetStatOptions{Mask: unix.STATX_SIZE}), unix.ETXTBSY)
	wantErr(t, "read-only open while denied", open(unix.O_RDONLY), nil)
	allow()
	allow() // idempotent
	wantErr(t, "open for writing once allowed", open(unix.O_WRONLY), nil)
}
