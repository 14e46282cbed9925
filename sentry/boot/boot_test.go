package boot

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/host"
	"github.com/runsc-lite/runsc-lite/vfs/tmpfs"
)

// runInTmpfs runs argv in a kernel whose root is a tmpfs holding a copy of
// the host's static busybox, and returns its stdout and exit status.
func runInTmpfs(t *testing.T, argv ...string) (string, int) {
	t.Helper()
	return runInRoot(t, &Config{Argv: argv, Env: []string{"PATH=/bin"}, Cwd: "/"}, -1)
}

// runInRoot is runInTmpfs with cfg, whose root tmpfs is the upper layer's
// (in the host file overlayFD with cfg.OverlayFile).
func runInRoot(t *testing.T, cfg *Config, overlayFD int) (string, int) {
	t.Helper()
	argv := cfg.Argv
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Skipf("needs a static /bin/busybox (apt-get install busybox-static): %v", err)
	}
	s, err := newSandbox(cfg, testLog{t}, overlayFD)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	rootFS, err := tmpfs.New(s.vfs, s.upper, tmpfs.Options{RootMode: 0o755, MaxBytes: s.upperLimit})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.setupNamespace(rootFS); err != nil {
		t.Fatal(err)
	}
	ctx := rootCtx()
	root := s.ns.Root()
	if err := s.mkdirAll(root, "/tmp"); err != nil {
		t.Fatal(err)
	}
	if err := s.mkdirAll(root, "/bin"); err != nil {
		t.Fatal(err)
	}
	f, err := s.vfs.OpenAt(ctx, root, root, "/bin/busybox", uint32(os.O_CREATE|os.O_WRONLY), 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(ctx, bb); err != nil {
		t.Fatal(err)
	}
	f.DecRef(ctx)
	for _, applet := range []string{"sh", "echo", "cat", "ls", "true", "false", "tr", "sort", "sleep", "kill", "mkdir"} {
		if err := s.vfs.Symlink(ctx, root, "busybox", root, "/bin/"+applet); err != nil {
			t.Fatal(err)
		}
	}
	inR, inW, _ := os.Pipe()
	outR, outW, _ := os.Pipe()
	inW.Close()
	var stdio [3]*vfs.File
	for i, hf := range []*os.File{inR, outW, outW} {
		stdio[i], err = host.NewFile(s.vfs, int(hf.Fd()), hostFlags(int(hf.Fd())))
		if err != nil {
			t.Fatal(err)
		}
	}
	status, started, err := s.startInit(initProcess(cfg), stdio)
	if err != nil {
		t.Fatal(err)
	}
	if !started {
		outW.Close()
		inR.Close()
		b, _ := io.ReadAll(outR)
		return string(b), status
	}
	done := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(outR)
		done <- b
	}()
	select {
	case <-s.k.Done():
		status = s.k.Wait()
	case <-time.After(20 * time.Second):
		t.Fatalf("guest %q did not finish", argv)
	}
	outW.Close()
	inR.Close()
	out := <-done
	return string(out), status
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func TestBusyboxEcho(t *testing.T) {
	out, status := runInTmpfs(t, "/bin/busybox", "echo", "hello", "sandbox")
	if status != 0 || out != "hello sandbox\n" {
		t.Fatalf("got %q status %d", out, status)
	}
}

func TestBusyboxShell(t *testing.T) {
	for _, tc := range []struct {
		name, script, want string
		status             int
	}{
		{"exit", "exit 3", "", 3},
		{"pipeline", "echo b a c | tr ' ' '\\n' | sort | tr '\\n' ' '", "a b c ", 0},
		{"subshell", "x=$(echo inner); echo got $x", "got inner\n", 0},
		{"loop", "i=0; while [ $i -lt 5 ]; do i=$((i+1)); done; echo $i", "5\n", 0},
		{"background-wait", "sleep 0.1 & wait $!; echo waited $?", "waited 0\n", 0},
		{"trap", "trap 'echo caught' USR1; kill -USR1 $$; echo after", "caught\nafter\n", 0},
		// Linux ignores SIGKILL sent to a PID namespace's init from inside.
		{"init-ignores-kill", "kill -9 $$; echo alive", "alive\n", 0},
		{"child-killed", "sh -c 'kill -9 $$'; echo st $?", "Killed\nst 137\n", 0},
		{"file", "echo data > /tmp/f && cat /tmp/f", "data\n", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, status := runInTmpfs(t, "/bin/sh", "-c", tc.script)
			if out != tc.want || status != tc.status {
				t.Fatalf("got %q status %d, want %q status %d", out, status, tc.want, tc.status)
			}
		})
	}
}

// TestRootOnHostFile runs busybox from a root whose data lives in a host
// file: the program's pages are mapped from that file (the platform's
// second backing file), what the guest writes lands there, and the
// layer's limit is ENOSPC.
func TestRootOnHostFile(t *testing.T) {
	fd, err := unix.Open(t.TempDir(), unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC|unix.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	const limit = 8 << 20
	script := "echo data > /tmp/f && cat /tmp/f && /bin/busybox yes | /bin/busybox dd of=/tmp/big bs=4096 count=5000 iflag=fullblock; echo status $?"
	cfg := &Config{Argv: []string{"/bin/sh", "-c", script + " 2>&1"}, Env: []string{"PATH=/bin"}, Cwd: "/",
		OverlayFile: true, OverlaySize: limit}
	out, status := runInRoot(t, cfg, fd)
	if status != 0 || !strings.HasPrefix(out, "data\n") || !strings.Contains(out, "No space left on device") ||
		!strings.HasSuffix(out, "status 1\n") {
		t.Fatalf("got %q, status %d; want data, a write failing with ENOSPC, status 1", out, status)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	if st.Size != limit || st.Blocks*512 < limit-(2<<20) {
		t.Fatalf("host file: size %d, %d bytes of blocks; want size %d, nearly all of it used", st.Size, st.Blocks*512, limit)
	}
}
