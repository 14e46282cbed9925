//go:build linux

package gofer

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// testEnv is a server over temp directories and a client connected to it
// through a socketpair, as the sentry and gofer are connected.
type testEnv struct {
	t      testing.TB
	srv    *Server
	c      *Client
	root   string // mount 0, read-write here so tests can create files
	roDir  string // mount 1, read-only
	rwDir  string // mount 2, read-write
	rootID uint64
}

func newSeqpacketPair(t testing.TB) (int, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	return fds[0], fds[1]
}

func newEnv(t testing.TB) *testEnv {
	t.Helper()
	base := t.TempDir()
	e := &testEnv{t: t,
		root:  filepath.Join(base, "root"),
		roDir: filepath.Join(base, "ro"),
		rwDir: filepath.Join(base, "rw"),
	}
	for _, d := range []string{e.root, e.roDir, e.rwDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := NewServer([]Mount{{HostPath: e.root}, {HostPath: e.roDir, ReadOnly: true}, {HostPath: e.rwDir}})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	sfd, cfd := newSeqpacketPair(t)
	done := make(chan error, 1)
	go func() { done <- srv.ServeFD(sfd) }()
	c, err := NewClient(cfd)
	if err != nil {
		t.Fatal(err)
	}
	e.c = c
	t.Cleanup(func() {
		c.Close()
		if err := <-done; err != nil {
			t.Errorf("ServeFD: %v", err)
		}
		unix.Close(sfd)
		srv.Close()
	})
	fid, _, dirFD, err := c.Attach(0)
	if err != nil {
		t.Fatalf("Attach: %v", err)
	}
	unix.Close(dirFD)
	e.rootID = fid
	return e
}

func (e *testEnv) write(rel, data string) {
	e.t.Helper()
	p := filepath.Join(e.root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// walk walks rel (slash separated) from the root and returns the last fid.
func (e *testEnv) walk(names ...string) uint64 {
	e.t.Helper()
	res, err := e.c.Walk(e.rootID, names)
	if err != nil {
		e.t.Fatalf("Walk(%q): %v", names, err)
	}
	return res[len(res)-1].FID
}

func (e *testEnv) attach(mount int) uint64 {
	e.t.Helper()
	fid, _, fd, err := e.c.Attach(mount)
	if err != nil {
		e.t.Fatalf("Attach(%d): %v", mount, err)
	}
	unix.Close(fd)
	return fid
}

func wantErrno(t testing.TB, what string, err error, want unix.Errno) {
	t.Helper()
	var got unix.Errno
	if !errors.As(err, &got) || got != want {
		t.Errorf("%s: got error %v, want %v", what, err, want)
	}
}

func readFD(t testing.TB, fd int) string {
	t.Helper()
	buf := make([]byte, 4096)
	n, err := unix.Pread(fd, buf, 0)
	if err != nil {
		t.Fatalf("pread: %v", err)
	}
	return string(buf[:n])
}
