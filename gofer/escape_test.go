//go:build linux

package gofer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestEscapeNames checks every op that takes a name refuses names that
// could leave the directory they are resolved in.
func TestEscapeNames(t *testing.T) {
	e := newEnv(t)
	e.write("f", "")
	f := e.walk("f")
	bad := []struct {
		name  string
		errno unix.Errno
	}{
		{"..", unix.EINVAL},
		{".", unix.EINVAL},
		{"", unix.EINVAL},
		{"a/b", unix.EINVAL},
		{"/etc", unix.EINVAL},
		{"../etc", unix.EINVAL},
		{"a\x00b", unix.EINVAL},
		{strings.Repeat("x", 256), unix.ENAMETOOLONG},
	}
	for _, b := range bad {
		ops := map[string]func() error{
			"walk": func() error { _, err := e.c.Walk(e.rootID, []string{b.name}); return err },
			"create": func() error {
				_, _, _, err := e.c.Create(e.rootID, b.name, unix.O_RDWR, 0o644, 0, 0)
				return err
			},
			"mkdir":      func() error { _, _, err := e.c.Mkdir(e.rootID, b.name, 0o755, 0, 0); return err },
			"unlink":     func() error { return e.c.Unlink(e.rootID, b.name, 0) },
			"rename old": func() error { return e.c.Rename(e.rootID, b.name, e.rootID, "x", 0) },
			"rename new": func() error { return e.c.Rename(e.rootID, "f", e.rootID, b.name, 0) },
			"symlink":    func() error { _, _, err := e.c.Symlink(e.rootID, b.name, "t", 0, 0); return err },
			"link":       func() error { _, _, err := e.c.Link(e.rootID, b.name, f); return err },
		}
		for op, fn := range ops {
			wantErrno(t, op+" "+strings.ReplaceAll(b.name, "\x00", `\0`), fn(), b.errno)
		}
	}
	// A 255-byte name is fine.
	long := strings.Repeat("y", 255)
	if _, _, err := e.c.Mkdir(e.rootID, long, 0o755, 0, 0); err != nil {
		t.Errorf("255-byte name: %v", err)
	}
}

// TestSymlinksNotFollowed plants symlinks to the host's /etc and checks
// that Walk returns the link itself and nothing goes through it.
func TestSymlinksNotFollowed(t *testing.T) {
	e := newEnv(t)
	for name, target := range map[string]string{
		"abs":  "/etc",
		"rel":  "../../../../../../../../etc",
		"file": "/etc/passwd",
	} {
		if err := os.Symlink(target, filepath.Join(e.root, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"abs", "rel", "file"} {
		res, err := e.c.Walk(e.rootID, []string{name})
		if err != nil {
			t.Fatalf("walk %s: %v", name, err)
		}
		if res[0].Stat.Mode&unix.S_IFMT != unix.S_IFLNK {
			t.Errorf("walk %s: mode %o, want the symlink itself", name, res[0].Stat.Mode)
		}
		fid := res[0].FID
		_, err = e.c.Open(fid, unix.O_RDONLY)
		wantErrno(t, "open "+name, err, unix.ELOOP)
		_, err = e.c.Open(fid, unix.O_RDONLY|unix.O_DIRECTORY)
		wantErrno(t, "open dir "+name, err, unix.ELOOP)
		_, err = e.c.Readdir(fid, 0, 10)
		wantErrno(t, "readdir "+name, err, unix.ENOTDIR)
		_, _, err = e.c.Mkdir(fid, "x", 0o755, 0, 0)
		wantErrno(t, "mkdir through "+name, err, unix.ENOTDIR)
		_, _, _, err = e.c.Create(fid, "x", unix.O_RDWR, 0o644, 0, 0)
		wantErrno(t, "create through "+name, err, unix.ENOTDIR)
		_, err = e.c.SetAttr(fid, Attr{Mask: SetAttrSize})
		wantErrno(t, "truncate "+name, err, unix.EINVAL)
	}
	res, err := e.c.Walk(e.rootID, []string{"abs", "passwd"})
	wantErrno(t, "walk abs/passwd", err, unix.ENOTDIR)
	if len(res) != 1 {
		t.Errorf("walked %d components through a symlink", len(res))
	}
	// The link's target is reported, for the sentry to resolve itself.
	if got, _ := e.c.Readlink(e.walk("abs")); got != "/etc" {
		t.Errorf("readlink = %q", got)
	}
	// chmod/chown on a link must not touch the target.
	var before unix.Stat_t
	unix.Stat("/etc/passwd", &before)
	e.c.SetAttr(e.walk("file"), Attr{Mask: SetAttrUID | SetAttrGID | SetAttrAtime, UID: 4242, GID: 4242, Atime: unix.Timespec{Sec: 1}})
	var after unix.Stat_t
	unix.Stat("/etc/passwd", &after)
	if after.Uid != before.Uid || after.Gid != before.Gid || after.Atim != before.Atim {
		t.Errorf("/etc/passwd changed through a symlink: %+v", after)
	}
}
