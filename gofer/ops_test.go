//go:build linux

package gofer

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestWalkAndStat(t *testing.T) {
	e := newEnv(t)
	e.write("a/b/c", "hello")
	var host unix.Stat_t
	if err := unix.Lstat(filepath.Join(e.root, "a/b/c"), &host); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		names   []string
		walked  int
		errno   unix.Errno
		lastReg bool
	}{
		{names: []string{"a", "b", "c"}, walked: 3, lastReg: true},
		{names: []string{"a"}, walked: 1},
		{names: []string{"a", "nope", "c"}, walked: 1, errno: unix.ENOENT},
		{names: []string{"nope"}, walked: 0, errno: unix.ENOENT},
		{names: []string{"a", "b", "c", "d"}, walked: 3, errno: unix.ENOTDIR},
		{names: []string{"a", "..", "a"}, walked: 1, errno: unix.EINVAL},
		{names: nil, walked: 0, errno: unix.EINVAL},
	}
	for _, tc := range tests {
		res, err := e.c.Walk(e.rootID, tc.names)
		if tc.errno != 0 {
			wantErrno(t, strings.Join(tc.names, "/"), err, tc.errno)
		} else if err != nil {
			t.Errorf("Walk(%q): %v", tc.names, err)
		}
		if len(res) != tc.walked {
			t.Errorf("Walk(%q) walked %d, want %d", tc.names, len(res), tc.walked)
		}
		if tc.lastReg && len(res) > 0 {
			st := res[len(res)-1].Stat
			if st.Mode != host.Mode || st.Ino != host.Ino || st.Size != 5 || st.Nlink != 1 ||
				st.Mtime != host.Mtim.Nano() {
				t.Errorf("stat = %+v, host %+v", st, host)
			}
			got, err := e.c.Stat(res[len(res)-1].FID)
			if err != nil || got.Ino != host.Ino || got.Mode != host.Mode {
				t.Errorf("Stat = %+v, %v", got, err)
			}
		}
		for _, r := range res {
			if err := e.c.Clunk(r.FID); err != nil {
				t.Errorf("Clunk: %v", err)
			}
		}
	}
}

func TestOpen(t *testing.T) {
	e := newEnv(t)
	e.write("f", "content")
	e.write("d/x", "")
	f, d := e.walk("f"), e.walk("d")
	tests := []struct {
		name  string
		fid   uint64
		flags int
		errno unix.Errno
	}{
		{"read", f, unix.O_RDONLY, 0},
		{"rdwr", f, unix.O_RDWR | unix.O_APPEND, 0},
		{"dir", d, unix.O_RDONLY | unix.O_DIRECTORY, 0},
		{"dir for write", d, unix.O_WRONLY, unix.EISDIR},
		{"file as dir", f, unix.O_RDONLY | unix.O_DIRECTORY, unix.ENOTDIR},
		{"O_CREAT", f, unix.O_RDONLY | unix.O_CREAT, unix.EINVAL},
		{"O_PATH", f, unix.O_PATH, unix.EINVAL},
		{"O_TMPFILE", d, unix.O_TMPFILE | unix.O_RDWR, unix.EINVAL},
		{"accmode 3", f, 3, unix.EINVAL},
		{"bad fid", 1 << 40, unix.O_RDONLY, unix.EBADF},
	}
	for _, tc := range tests {
		fd, err := e.c.Open(tc.fid, tc.flags)
		if tc.errno != 0 {
			wantErrno(t, tc.name, err, tc.errno)
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if tc.fid == f && readFD(t, fd) != "content" {
			t.Errorf("%s: wrong content", tc.name)
		}
		if fl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); fl&unix.FD_CLOEXEC == 0 {
			t.Errorf("%s: received FD is not close-on-exec", tc.name)
		}
		unix.Close(fd)
	}
	// Writes through the FD reach the host file.
	fd, err := e.c.Open(f, unix.O_WRONLY|unix.O_TRUNC)
	if err != nil {
		t.Fatal(err)
	}
	unix.Write(fd, []byte("new"))
	unix.Close(fd)
	if b, _ := os.ReadFile(filepath.Join(e.root, "f")); string(b) != "new" {
		t.Errorf("host file = %q", b)
	}
}

func TestCreateMkdirUnlink(t *testing.T) {
	e := newEnv(t)
	fid, st, fd, err := e.c.Create(e.rootID, "new", unix.O_RDWR, 0o4640, 1000, 1001)
	if err != nil {
		t.Fatal(err)
	}
	unix.Write(fd, []byte("data"))
	unix.Close(fd)
	var host unix.Stat_t
	unix.Lstat(filepath.Join(e.root, "new"), &host)
	if host.Mode != unix.S_IFREG|0o4640 || host.Uid != 1000 || host.Gid != 1001 || host.Size != 4 {
		t.Errorf("created file: mode %o uid %d gid %d size %d", host.Mode, host.Uid, host.Gid, host.Size)
	}
	if st.Mode != host.Mode || st.UID != 1000 || st.Ino != host.Ino {
		t.Errorf("Create stat %+v", st)
	}
	e.c.Clunk(fid)
	_, _, _, err = e.c.Create(e.rootID, "new", unix.O_RDWR, 0o644, 0, 0)
	wantErrno(t, "create existing", err, unix.EEXIST)
	_, _, _, err = e.c.Create(e.rootID, "bad", unix.O_RDWR, unix.S_IFCHR|0o644, 0, 0)
	wantErrno(t, "create with file type", err, unix.EINVAL)

	dfid, dst, err := e.c.Mkdir(e.rootID, "dir", 0o2751, 5, 6)
	if err != nil {
		t.Fatal(err)
	}
	if dst.Mode != unix.S_IFDIR|0o2751 || dst.UID != 5 || dst.GID != 6 {
		t.Errorf("Mkdir stat mode %o uid %d gid %d", dst.Mode, dst.UID, dst.GID)
	}
	_, _, err = e.c.Mkdir(e.rootID, "dir", 0o755, 0, 0)
	wantErrno(t, "mkdir existing", err, unix.EEXIST)
	if _, _, fd, err := e.c.Create(dfid, "inner", unix.O_WRONLY, 0o600, 0, 0); err != nil {
		t.Fatal(err)
	} else {
		unix.Close(fd)
	}

	tests := []struct {
		name  string
		dir   uint64
		entry string
		flags int
		errno unix.Errno
	}{
		{"dir without AT_REMOVEDIR", e.rootID, "dir", 0, unix.EISDIR},
		{"non-empty dir", e.rootID, "dir", unix.AT_REMOVEDIR, unix.ENOTEMPTY},
		{"file with AT_REMOVEDIR", e.rootID, "new", unix.AT_REMOVEDIR, unix.ENOTDIR},
		{"missing", e.rootID, "missing", 0, unix.ENOENT},
		{"bad flags", e.rootID, "new", 0x4000, unix.EINVAL},
		{"file", e.rootID, "new", 0, 0},
		{"inner", dfid, "inner", 0, 0},
		{"now empty dir", e.rootID, "dir", unix.AT_REMOVEDIR, 0},
	}
	for _, tc := range tests {
		err := e.c.Unlink(tc.dir, tc.entry, tc.flags)
		if tc.errno != 0 {
			wantErrno(t, tc.name, err, tc.errno)
		} else if err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if ents, _ := os.ReadDir(e.root); len(ents) != 0 {
		t.Errorf("root not empty after unlinks: %v", ents)
	}
}

func TestRename(t *testing.T) {
	e := newEnv(t)
	e.write("a", "A")
	e.write("b", "B")
	e.write("sub/c", "C")
	sub := e.walk("sub")
	rw := e.attach(2)
	tests := []struct {
		name           string
		oldDir         uint64
		oldName        string
		newDir         uint64
		newName        string
		flags          uint
		errno          unix.Errno
		wantA, wantSub string // expected contents of "a" and "sub/c" after
	}{
		{"noreplace onto existing", e.rootID, "a", e.rootID, "b", unix.RENAME_NOREPLACE, unix.EEXIST, "A", "C"},
		{"exchange", e.rootID, "a", sub, "c", unix.RENAME_EXCHANGE, 0, "C", "A"},
		{"both flags", e.rootID, "a", e.rootID, "b", unix.RENAME_EXCHANGE | unix.RENAME_NOREPLACE, unix.EINVAL, "C", "A"},
		{"whiteout refused", e.rootID, "a", e.rootID, "b", unix.RENAME_WHITEOUT, unix.EINVAL, "C", "A"},
		{"across mounts", e.rootID, "a", rw, "a", 0, unix.EXDEV, "C", "A"},
		{"dotdot target", e.rootID, "a", e.rootID, "..", 0, unix.EINVAL, "C", "A"},
		{"slash target", e.rootID, "a", e.rootID, "sub/x", 0, unix.EINVAL, "C", "A"},
		{"missing", e.rootID, "zz", e.rootID, "yy", 0, unix.ENOENT, "C", "A"},
		{"replace", sub, "c", e.rootID, "a", 0, 0, "A", ""},
	}
	for _, tc := range tests {
		err := e.c.Rename(tc.oldDir, tc.oldName, tc.newDir, tc.newName, tc.flags)
		if tc.errno != 0 {
			wantErrno(t, tc.name, err, tc.errno)
		} else if err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		a, _ := os.ReadFile(filepath.Join(e.root, "a"))
		c, _ := os.ReadFile(filepath.Join(e.root, "sub/c"))
		if string(a) != tc.wantA || string(c) != tc.wantSub {
			t.Errorf("%s: a=%q sub/c=%q, want %q %q", tc.name, a, c, tc.wantA, tc.wantSub)
		}
	}
}

func TestSymlinkLinkReadlink(t *testing.T) {
	e := newEnv(t)
	e.write("f", "x")
	fid, st, err := e.c.Symlink(e.rootID, "l", "some/where", 7, 8)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK || st.UID != 7 || st.GID != 8 {
		t.Errorf("Symlink stat %+v", st)
	}
	if got, err := e.c.Readlink(fid); err != nil || got != "some/where" {
		t.Errorf("Readlink = %q, %v", got, err)
	}
	if target, _ := os.Readlink(filepath.Join(e.root, "l")); target != "some/where" {
		t.Errorf("host link target %q", target)
	}
	_, _, err = e.c.Symlink(e.rootID, "l", "x", 0, 0)
	wantErrno(t, "symlink existing", err, unix.EEXIST)
	_, _, err = e.c.Symlink(e.rootID, "l2", "", 0, 0)
	wantErrno(t, "empty target", err, unix.ENOENT)
	_, _, err = e.c.Symlink(e.rootID, "l2", "a\x00b", 0, 0)
	wantErrno(t, "NUL in target", err, unix.EINVAL)

	f := e.walk("f")
	_, err = e.c.Readlink(f)
	wantErrno(t, "readlink of file", err, unix.EINVAL)
	lfid, lst, err := e.c.Link(e.rootID, "hard", f)
	if err != nil {
		t.Fatal(err)
	}
	if lst.Nlink != 2 {
		t.Errorf("link count %d", lst.Nlink)
	}
	if fst, _ := e.c.Stat(f); fst.Ino != lst.Ino {
		t.Errorf("hard link ino %d != %d", lst.Ino, fst.Ino)
	}
	e.c.Clunk(lfid)
	_, _, err = e.c.Link(e.rootID, "hard", f)
	wantErrno(t, "link existing", err, unix.EEXIST)
	_, _, err = e.c.Link(e.rootID, "dirlink", e.rootID)
	wantErrno(t, "link dir", err, unix.EPERM)
	_, _, err = e.c.Link(e.attach(2), "x", f)
	wantErrno(t, "link across mounts", err, unix.EXDEV)
}

func TestReaddirLarge(t *testing.T) {
	e := newEnv(t)
	const n = 1500
	want := map[string]bool{}
	for i := 0; i < n; i++ {
		// Long names force replies to split on the byte budget too.
		name := strings.Repeat("n", 200) + "-" + strings.Repeat("x", i%50) + "-" + strconv.Itoa(i)
		want[name] = true
		if err := os.WriteFile(filepath.Join(e.root, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Mkdir(filepath.Join(e.root, "adir"), 0o755)
	want["adir"] = true
	for _, count := range []int{0, 1, 7, 100, 5000} {
		start := time.Now()
		got := map[string]bool{}
		var off int64
		calls := 0
		for {
			ents, err := e.c.Readdir(e.rootID, off, count)
			if err != nil {
				t.Fatalf("Readdir: %v", err)
			}
			calls++
			if len(ents) == 0 {
				break
			}
			if count > 0 && len(ents) > count {
				t.Fatalf("count %d: got %d entries", count, len(ents))
			}
			for _, d := range ents {
				if got[d.Name] {
					t.Fatalf("count %d: duplicate %q", count, d.Name)
				}
				got[d.Name] = true
				wantType := uint8(unix.DT_REG)
				if d.Name == "adir" {
					wantType = unix.DT_DIR
				}
				if d.Type != wantType || d.Ino == 0 {
					t.Errorf("entry %+v", d)
				}
			}
			off = ents[len(ents)-1].Off
		}
		if len(got) != len(want) {
			t.Errorf("count %d: got %d entries, want %d", count, len(got), len(want))
		}
		t.Logf("count %d: %d calls in %v", count, calls, time.Since(start))
		if count == 0 && calls < 3 {
			t.Errorf("expected several calls for a large directory, got %d", calls)
		}
	}
	_, err := e.c.Readdir(e.rootID, -1, 10)
	wantErrno(t, "negative offset", err, unix.EINVAL)
	f := e.walk("adir")
	if ents, err := e.c.Readdir(f, 0, 10); err != nil || len(ents) != 0 {
		t.Errorf("empty dir: %v, %v", ents, err)
	}
	e.write("file", "")
	_, err = e.c.Readdir(e.walk("file"), 0, 10)
	wantErrno(t, "readdir of file", err, unix.ENOTDIR)
}

func TestSetAttr(t *testing.T) {
	e := newEnv(t)
	e.write("f", "0123456789")
	f := e.walk("f")
	os.Symlink("f", filepath.Join(e.root, "l"))
	l := e.walk("l")
	path := filepath.Join(e.root, "f")
	tests := []struct {
		name  string
		fid   uint64
		attr  Attr
		errno unix.Errno
		check func(st unix.Stat_t) bool
	}{
		{"truncate", f, Attr{Mask: SetAttrSize, Size: 3}, 0, func(st unix.Stat_t) bool { return st.Size == 3 }},
		{"extend", f, Attr{Mask: SetAttrSize, Size: 1 << 20}, 0, func(st unix.Stat_t) bool { return st.Size == 1<<20 }},
		{"negative size", f, Attr{Mask: SetAttrSize, Size: -1}, unix.EINVAL, nil},
		{"truncate dir", e.rootID, Attr{Mask: SetAttrSize}, unix.EISDIR, nil},
		{"mode", f, Attr{Mask: SetAttrMode, Mode: 0o6705}, 0, func(st unix.Stat_t) bool { return st.Mode == unix.S_IFREG|0o6705 }},
		{"mode with type bits", f, Attr{Mask: SetAttrMode, Mode: unix.S_IFDIR | 0o700}, unix.EINVAL, nil},
		{"owner", f, Attr{Mask: SetAttrUID | SetAttrGID, UID: 123, GID: 456}, 0, func(st unix.Stat_t) bool { return st.Uid == 123 && st.Gid == 456 }},
		{"gid only", f, Attr{Mask: SetAttrGID, GID: 789}, 0, func(st unix.Stat_t) bool { return st.Uid == 123 && st.Gid == 789 }},
		{"times", f, Attr{Mask: SetAttrAtime | SetAttrMtime, Atime: unix.Timespec{Sec: 100, Nsec: 5}, Mtime: unix.Timespec{Sec: 200, Nsec: 6}}, 0,
			func(st unix.Stat_t) bool { return st.Atim.Nano() == 100e9+5 && st.Mtim.Nano() == 200e9+6 }},
		{"mtime omit", f, Attr{Mask: SetAttrAtime | SetAttrMtime, Atime: unix.Timespec{Sec: 300}, Mtime: unix.Timespec{Nsec: unix.UTIME_OMIT}}, 0,
			func(st unix.Stat_t) bool { return st.Atim.Sec == 300 && st.Mtim.Nano() == 200e9+6 }},
		{"atime only", f, Attr{Mask: SetAttrAtime, Atime: unix.Timespec{Sec: 400}}, 0,
			func(st unix.Stat_t) bool { return st.Atim.Sec == 400 && st.Mtim.Nano() == 200e9+6 }},
		{"mtime now", f, Attr{Mask: SetAttrMtime, Mtime: unix.Timespec{Nsec: unix.UTIME_NOW}}, 0,
			func(st unix.Stat_t) bool { return st.Mtim.Sec > 1e9 && st.Atim.Sec == 400 }},
		{"bad nsec", f, Attr{Mask: SetAttrMtime, Mtime: unix.Timespec{Nsec: 2e9}}, unix.EINVAL, nil},
		{"bad mask", f, Attr{Mask: 1 << 20}, unix.EINVAL, nil},
		{"symlink mode", l, Attr{Mask: SetAttrMode, Mode: 0o700}, unix.EOPNOTSUPP, nil},
		{"symlink owner", l, Attr{Mask: SetAttrUID, UID: 9}, 0, nil},
		{"ro mount", e.attach(1), Attr{Mask: SetAttrMode, Mode: 0o700}, unix.EROFS, nil},
	}
	for _, tc := range tests {
		st, err := e.c.SetAttr(tc.fid, tc.attr)
		if tc.errno != 0 {
			wantErrno(t, tc.name, err, tc.errno)
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if tc.check != nil {
			var host unix.Stat_t
			unix.Lstat(path, &host)
			if !tc.check(host) {
				t.Errorf("%s: host stat %+v", tc.name, host)
			}
			if st.Size != uint64(host.Size) || st.Mode != host.Mode || st.Mtime != host.Mtim.Nano() {
				t.Errorf("%s: returned stat %+v differs from host %+v", tc.name, st, host)
			}
		}
	}
	var lst unix.Stat_t
	unix.Lstat(filepath.Join(e.root, "l"), &lst)
	if lst.Uid != 9 {
		t.Errorf("symlink owner %d, want 9 (and target untouched)", lst.Uid)
	}
}

func TestStatFS(t *testing.T) {
	e := newEnv(t)
	got, err := e.c.StatFS(e.rootID)
	if err != nil {
		t.Fatal(err)
	}
	var want unix.Statfs_t
	unix.Statfs(e.root, &want)
	if got.Type != int64(want.Type) || got.Bsize != int64(want.Bsize) || got.Blocks != want.Blocks || got.Namelen != int64(want.Namelen) {
		t.Errorf("StatFS = %+v, want %+v", got, want)
	}
}

func TestErrors(t *testing.T) {
	e := newEnv(t)
	e.write("f", "")
	f := e.walk("f")
	_, err := e.c.Stat(999999)
	wantErrno(t, "stat bad fid", err, unix.EBADF)
	_, _, _, err = e.c.Attach(3)
	wantErrno(t, "attach bad mount", err, unix.EINVAL)
	_, _, _, err = e.c.Attach(-1)
	wantErrno(t, "attach negative mount", err, unix.EINVAL)
	_, _, err = e.c.Mkdir(f, "x", 0o755, 0, 0)
	wantErrno(t, "mkdir in file", err, unix.ENOTDIR)
	_, err = e.c.Walk(f, []string{"x"})
	wantErrno(t, "walk from file", err, unix.ENOTDIR)
	if err := e.c.Clunk(f); err != nil {
		t.Fatal(err)
	}
	wantErrno(t, "double clunk", e.c.Clunk(f), unix.EBADF)
	_, err = e.c.Stat(f)
	wantErrno(t, "stat clunked", err, unix.EBADF)
}

func TestReadOnlyMount(t *testing.T) {
	e := newEnv(t)
	os.WriteFile(filepath.Join(e.roDir, "f"), []byte("ro"), 0o644)
	os.Mkdir(filepath.Join(e.roDir, "d"), 0o755)
	ro := e.attach(1)
	res, err := e.c.Walk(ro, []string{"f"})
	if err != nil {
		t.Fatal(err)
	}
	f := res[0].FID
	fd, err := e.c.Open(f, unix.O_RDONLY)
	if err != nil {
		t.Fatalf("read-only open: %v", err)
	}
	if readFD(t, fd) != "ro" {
		t.Error("wrong content")
	}
	unix.Close(fd)
	ops := map[string]func() error{
		"open wronly": func() error { _, err := e.c.Open(f, unix.O_WRONLY); return err },
		"open rdwr":   func() error { _, err := e.c.Open(f, unix.O_RDWR); return err },
		"open trunc":  func() error { _, err := e.c.Open(f, unix.O_RDONLY|unix.O_TRUNC); return err },
		"create": func() error {
			_, _, _, err := e.c.Create(ro, "n", unix.O_RDWR, 0o644, 0, 0)
			return err
		},
		"mkdir":   func() error { _, _, err := e.c.Mkdir(ro, "n", 0o755, 0, 0); return err },
		"unlink":  func() error { return e.c.Unlink(ro, "f", 0) },
		"rmdir":   func() error { return e.c.Unlink(ro, "d", unix.AT_REMOVEDIR) },
		"rename":  func() error { return e.c.Rename(ro, "f", ro, "g", 0) },
		"symlink": func() error { _, _, err := e.c.Symlink(ro, "s", "f", 0, 0); return err },
		"link":    func() error { _, _, err := e.c.Link(ro, "h", f); return err },
		"setattr": func() error { _, err := e.c.SetAttr(f, Attr{Mask: SetAttrSize}); return err },
	}
	for name, op := range ops {
		wantErrno(t, name, op(), unix.EROFS)
	}
	if b, _ := os.ReadFile(filepath.Join(e.roDir, "f")); string(b) != "ro" {
		t.Errorf("read-only file changed: %q", b)
	}
}

func TestDirectFS(t *testing.T) {
	e := newEnv(t)
	e.write("x", "")
	fid, st, dirFD, err := e.c.Attach(0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dirFD)
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		t.Errorf("root mode %o", st.Mode)
	}
	var fst unix.Stat_t
	if err := unix.Fstat(dirFD, &fst); err != nil || fst.Ino != st.Ino {
		t.Errorf("dir FD stat %+v %v", fst, err)
	}
	fl, _ := unix.FcntlInt(uintptr(dirFD), unix.F_GETFL, 0)
	if fl&unix.O_PATH != 0 || fl&unix.O_ACCMODE != unix.O_RDONLY {
		t.Errorf("dir FD flags %#x", fl)
	}
	// The sentry can use it directly with single-component openat.
	if fd, err := unix.Openat(dirFD, "x", unix.O_RDONLY|unix.O_NOFOLLOW, 0); err != nil {
		t.Errorf("openat on dir FD: %v", err)
	} else {
		unix.Close(fd)
	}
	e.c.Clunk(fid)

	e.c.DirectFS = false
	_, _, dirFD2, err := e.c.Attach(0)
	if err != nil || dirFD2 != -1 {
		t.Errorf("Attach without directfs: fd %d, %v", dirFD2, err)
	}
}
