package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/boot"
)

func TestParseByteSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"1", 1}, {"4096", 4096}, {"8k", 8 << 10}, {"8K", 8 << 10}, {"64M", 64 << 20},
		{"3g", 3 << 30}, {"2T", 2 << 40}, {"1048576", 1 << 20},
		{"", -1}, {"0", -1}, {"0M", -1}, {"-5", -1}, {"+5", -1}, {"5X", -1}, {"M", -1},
		{"1.5G", -1}, {"5 M", -1}, {"99999999999T", -1}, {"9223372036854775807", -1},
	} {
		got, err := parseByteSize(tc.in)
		if tc.want < 0 {
			if err == nil {
				t.Errorf("%q: %d, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestOverlayFlags(t *testing.T) {
	dir := t.TempDir()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		global, do []string
		want       overlayOptions
		doErr      string // do refuses what the global flags accept
	}{
		{nil, nil, overlayOptions{}, ""},
		{[]string{"--overlay", "memory"}, nil, overlayOptions{medium: mediumMemory}, ""},
		{[]string{"--overlay", "dir:" + dir, "--overlay-size", "1G"}, nil, overlayOptions{medium: mediumDir, dir: dir, size: 1 << 30}, ""},
		{[]string{"--overlay=dir:" + dir + "/."}, nil, overlayOptions{medium: mediumDir, dir: dir}, ""},
		{[]string{"--overlay", "dir:rel"}, nil, overlayOptions{medium: mediumDir, dir: filepath.Join(wd, "rel")}, "no such directory"},
		{[]string{"--overlay", "self"}, nil, overlayOptions{medium: mediumSelf}, "for OCI containers"},
		// do's own flags override the global ones.
		{[]string{"--overlay", "dir:" + dir, "--overlay-size", "1G"}, []string{"--overlay", "memory"}, overlayOptions{medium: mediumMemory, size: 1 << 30}, ""},
		{nil, []string{"--overlay", "dir:" + dir, "--overlay-size", "16m"}, overlayOptions{medium: mediumDir, dir: dir, size: 16 << 20}, ""},
	} {
		g, rest, err := parseGlobalFlags(append(tc.global, "do"))
		if err != nil || len(rest) != 1 {
			t.Errorf("%q: %v", tc.global, err)
			continue
		}
		if tc.do == nil && g.overlay != tc.want {
			t.Errorf("global %q: %+v, want %+v", tc.global, g.overlay, tc.want)
		}
		o, err := parseDoArgs(g, append(tc.do, "true"))
		if tc.doErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.doErr) {
				t.Errorf("do %q %q: %v, want an error about %q", tc.global, tc.do, err, tc.doErr)
			}
			continue
		}
		if err != nil || o.overlay != tc.want {
			t.Errorf("do %q %q: %+v, %v; want %+v", tc.global, tc.do, o, err, tc.want)
		}
	}
}

// TestOverlayConfig: the options reach the sentry's configuration, and a
// host medium gives an unnamed file of the limit's size.
func TestOverlayConfig(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		o        overlayOptions
		rootfs   string
		wantFile bool
		wantSize int64
	}{
		{overlayOptions{}, "", false, 0},
		{overlayOptions{medium: mediumMemory, size: 8 << 20}, "", false, 8 << 20},
		{overlayOptions{medium: mediumDir, dir: dir, size: 8 << 20}, "", true, 8 << 20},
		{overlayOptions{medium: mediumDir, dir: dir}, "", true, boot.DefaultOverlaySize()},
		{overlayOptions{medium: mediumSelf, size: 1 << 30}, dir, true, 1 << 30},
	} {
		var cfg boot.Config
		f, err := tc.o.open(&cfg, tc.rootfs)
		if err != nil {
			t.Errorf("%+v: %v", tc.o, err)
			continue
		}
		if cfg.OverlayFile != tc.wantFile || cfg.OverlaySize != tc.wantSize || (f != nil) != tc.wantFile {
			t.Errorf("%+v: config file %v size %d, file %v; want %v, %d", tc.o, cfg.OverlayFile, cfg.OverlaySize, f, tc.wantFile, tc.wantSize)
		}
		if f == nil {
			continue
		}
		var st unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &st); err != nil || st.Size != tc.wantSize || st.Nlink != 0 || st.Blocks != 0 {
			t.Errorf("%+v: file size %d, %d links, %d blocks (%v); want an unnamed sparse file of %d bytes", tc.o, st.Size, st.Nlink, st.Blocks, err, tc.wantSize)
		}
		f.Close()
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("files left in the medium's directory: %v", ents)
	}
}

// TestOverlayBadValues: a bad --overlay or --overlay-size is one error line,
// before anything starts.
func TestOverlayBadValues(t *testing.T) {
	requireRoot(t)
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"do", "--overlay", "bogus", "true"}, `runsc-lite: do: invalid value "bogus" for --overlay: must be memory, self or dir:DIR`},
		{[]string{"do", "--overlay", "disk", "true"}, `invalid value "disk" for --overlay`},
		{[]string{"do", "--overlay", "dir:", "true"}, `invalid value "dir:" for --overlay: dir: needs a directory`},
		{[]string{"do", "--overlay", "dir:/nonexistent/runsc-lite", "true"}, "runsc-lite: do: --overlay dir:/nonexistent/runsc-lite: no such directory"},
		{[]string{"do", "--overlay", "dir:" + file, "true"}, "--overlay dir:" + file + ": not a directory"},
		{[]string{"do", "--overlay", "self", "true"}, "--overlay self is for OCI containers"},
		{[]string{"do", "--overlay-size", "0", "true"}, `invalid value "0" for --overlay-size: want a positive number`},
		{[]string{"do", "--overlay-size", "12Q", "true"}, `invalid value "12Q" for --overlay-size`},
		{[]string{"do", "--overlay-size", "-1M", "true"}, `invalid value "-1M" for --overlay-size`},
		{[]string{"do", "--overlay-size", "65G", "true"}, "--overlay-size 65G: the memory medium holds at most 64G"},
		{[]string{"do", "--overlay", "dir:/tmp", "--overlay-size", "5T", "true"}, "--overlay-size 5T: a host file holds at most 4T"},
		{[]string{"--overlay", "bogus", "do", "true"}, `runsc-lite: invalid value "bogus" for --overlay`},
		{[]string{"--overlay", "dir:/nonexistent/runsc-lite", "do", "true"}, "runsc-lite: do: --overlay dir:/nonexistent/runsc-lite: no such directory"},
		{[]string{"--overlay-size", "1.5G", "do", "true"}, `runsc-lite: invalid value "1.5G" for --overlay-size`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			r := newRun(t, realBin, tc.args...).run()
			if r.code != exitUsage {
				t.Errorf("exit code %d, want %d", r.code, exitUsage)
			}
			r.oneErrorLine(tc.want)
		})
	}
}

// sentryOf returns the pid of the sentry (runsc-boot) that the CLI process
// cli started.
func sentryOf(t *testing.T, cli int) int {
	t.Helper()
	// The CLI forks it from a launcher thread: children() reads every
	// thread's children.
	kids := children(cli)
	for _, pid := range kids {
		if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.TrimSpace(string(comm)) == "runsc-boot" {
			return pid
		}
	}
	t.Fatalf("no runsc-boot among the children %v of %d", kids, cli)
	return 0
}

// backingFiles returns the disk bytes of the sentry's memory file and of
// its open file in dir (-1: none).
func backingFiles(t *testing.T, sentry int, dir string) (mem, host int64) {
	t.Helper()
	mem, host = -1, -1
	fds := fmt.Sprintf("/proc/%d/fd", sentry)
	ents, err := os.ReadDir(fds)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		p := filepath.Join(fds, e.Name())
		link, _ := os.Readlink(p)
		var st unix.Stat_t
		if unix.Stat(p, &st) != nil {
			continue
		}
		switch {
		case strings.HasPrefix(link, "/memfd:runsc-lite-memory"):
			mem = st.Blocks * 512
		case strings.HasPrefix(link, dir+"/#") && strings.HasSuffix(link, " (deleted)"):
			host = st.Blocks * 512
		}
	}
	return mem, host
}

// waitSignal waits for file sig, written by the guest, while the sandbox
// runs.
func waitSignal(t *testing.T, r *run, sig string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(sig); err == nil {
			return
		}
		if r.cmd.ProcessState != nil || time.Now().After(deadline) {
			t.Fatalf("%s did not appear; stdout %q, stderr %q", sig, r.stdout.String(), r.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// emptyDir fails the test when dir holds any visible file.
func emptyDir(t *testing.T, dir, when string) {
	t.Helper()
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 0 {
		t.Errorf("%s: the overlay directory holds %v (%v), want nothing visible", when, ents, err)
	}
}

// TestOverlayMedia writes 64 MiB to the root, maps it with python3 and
// reads it back, with the upper layer in a host directory and in memory:
// the data round-trips through write, mmap and read either way; in a
// directory it lands in an unnamed file there (nothing visible, during or
// after) and the sentry's memory file does not grow by its size; in
// memory (the default) the memory file holds it, as before.
func TestOverlayMedia(t *testing.T) {
	requireRealSentry(t)
	requireTools(t, "python3", "yes", "head", "sha256sum")
	const size = 64 << 20
	line := []byte("abcdefghijklmno\n")
	data := bytes.Repeat(line, size/len(line))
	sum := sha256.Sum256(data)
	copy(data, "HELLO")
	sumAfter := sha256.Sum256(data)
	want := fmt.Sprintf("%d %s\nHELLO\n%s  -\n", size, hex.EncodeToString(sum[:]), hex.EncodeToString(sumAfter[:]))
	script := `set -e
python3 -c pass
touch /sig/before; while [ ! -e /sig/go1 ]; do sleep 0.05; done
yes abcdefghijklmno | head -c 67108864 > /var/big
python3 -c '
import hashlib, mmap
with open("/var/big", "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    print(len(m), hashlib.sha256(m).hexdigest())
    m[0:5] = b"HELLO"
    m.flush()
'
head -c 5 /var/big; echo
sha256sum < /var/big
touch /sig/after; while [ ! -e /sig/go2 ]; do sleep 0.05; done`
	for _, medium := range []string{"dir", "memory"} {
		t.Run(medium, func(t *testing.T) {
			dir, sig := t.TempDir(), t.TempDir()
			args := []string{"do", "--volume", sig + ":/sig", "sh", "-c", script}
			if medium == "dir" {
				args = append([]string{"--overlay", "dir:" + dir}, args...)
			}
			r := newRun(t, realBin, args...)
			r.start()
			waitSignal(t, r, filepath.Join(sig, "before"))
			sentry := sentryOf(t, r.cmd.Process.Pid)
			mem0, host0 := backingFiles(t, sentry, dir)
			emptyDir(t, dir, "before the write")
			os.WriteFile(filepath.Join(sig, "go1"), nil, 0o644)
			waitSignal(t, r, filepath.Join(sig, "after"))
			mem1, host1 := backingFiles(t, sentry, dir)
			emptyDir(t, dir, "with the data written")
			os.WriteFile(filepath.Join(sig, "go2"), nil, 0o644)
			r.wait()
			if r.code != 0 || r.stdout.String() != want {
				t.Fatalf("exit %d, stdout %q, stderr %q; want stdout %q", r.code, r.stdout.String(), r.stderr.String(), want)
			}
			t.Logf("memory file: %d -> %d bytes; host file: %d -> %d bytes", mem0, mem1, host0, host1)
			if mem0 < 0 {
				t.Fatalf("sentry %d has no memory file", sentry)
			}
			switch medium {
			case "dir":
				if host0 < 0 {
					t.Fatalf("sentry %d has no file in %s", sentry, dir)
				}
				if host1-host0 < size {
					t.Errorf("the host file grew by %d bytes, want at least the file's %d", host1-host0, size)
				}
				if mem1-mem0 >= size/2 {
					t.Errorf("the memory file grew by %d bytes for a %d-byte file on the root", mem1-mem0, size)
				}
			case "memory":
				if host0 >= 0 {
					t.Errorf("sentry %d has a file in %s with the memory medium", sentry, dir)
				}
				if mem1-mem0 < size {
					t.Errorf("the memory file grew by %d bytes, want at least the file's %d", mem1-mem0, size)
				}
			}
			emptyDir(t, dir, "after the sandbox")
		})
	}
}

// TestOverlaySizeFlag checks --overlay-size for both media: writes to the
// root beyond it fail with ENOSPC, below it they work.
func TestOverlaySizeFlag(t *testing.T) {
	requireRealSentry(t)
	requireTools(t, "dd")
	dir := t.TempDir()
	for _, medium := range []string{"memory", "dir:" + dir} {
		t.Run(medium, func(t *testing.T) {
			script := `dd if=/dev/zero of=/var/small bs=1M count=4 2>/dev/null && echo small-ok; dd if=/dev/zero of=/var/big bs=1M count=16`
			r := newRun(t, realBin, "do", "--overlay", medium, "--overlay-size", "8M", "sh", "-c", script).run()
			if r.code != 1 || r.stdout.String() != "small-ok\n" || !strings.Contains(r.stderr.String(), "/var/big': No space left on device") {
				t.Errorf("exit %d, stdout %q, stderr %q; want small-ok, then dd failing with ENOSPC", r.code, r.stdout.String(), r.stderr.String())
			}
		})
	}
	emptyDir(t, dir, "after the sandboxes")
}

// TestOCIOverlay runs containers with the global --overlay flags: in a host
// directory (an unnamed file there while the container runs, nothing
// after), self (in the bundle's rootfs, with a limit that gives ENOSPC),
// and a bad directory, refused before anything is made.
func TestOCIOverlay(t *testing.T) {
	t.Run("dir", func(t *testing.T) {
		e := newOCIEnv(t, "sh", "-c", `dd if=/dev/zero of=/big bs=1M count=8 2>/dev/null; wc -c < /big > /shared/size.tmp; mv /shared/size.tmp /shared/size
while [ ! -e /shared/go ]; do sleep 0.05; done`)
		shared := e.bindDir("/shared", false)
		dir := t.TempDir()
		e.mustCLI("--overlay", "dir:"+dir, "create", "--bundle", e.bundle, "c1")
		pid := e.state("c1").Pid
		e.mustCLI("start", "c1")
		waitFile(t, filepath.Join(shared, "size"))
		if b, _ := os.ReadFile(filepath.Join(shared, "size")); strings.TrimSpace(string(b)) != "8388608" {
			t.Errorf("container wrote %q bytes, want 8388608", b)
		}
		mem, host := backingFiles(t, pid, dir)
		t.Logf("memory file %d bytes, host file %d bytes", mem, host)
		if host < 8<<20 {
			t.Errorf("the sentry's file in %s holds %d bytes, want the container's 8 MiB", dir, host)
		}
		emptyDir(t, dir, "while the container runs")
		os.WriteFile(filepath.Join(shared, "go"), nil, 0o644)
		e.waitStatus("c1", "stopped")
		e.mustCLI("delete", "c1")
		emptyDir(t, dir, "after delete")
		e.assertNothingLeft()
	})
	t.Run("self", func(t *testing.T) {
		e := newOCIEnv(t, "sh", "-c", `dd if=/dev/zero of=/big bs=1M count=2 2>/dev/null && echo ok; dd if=/dev/zero of=/big2 bs=1M count=4`)
		before, err := os.ReadDir(e.rootfs)
		if err != nil {
			t.Fatal(err)
		}
		r := e.cli(nil, "--overlay", "self", "--overlay-size", "4M", "run", "c2")
		if r.code != 1 || r.stdout != "ok\n" || !strings.Contains(r.stderr, "No space left on device") {
			t.Errorf("exit %d, stdout %q, stderr %q; want ok, then dd failing with ENOSPC", r.code, r.stdout, r.stderr)
		}
		after, err := os.ReadDir(e.rootfs)
		if err != nil || len(after) != len(before) {
			t.Errorf("rootfs holds %v after the run (%v), %v before", after, err, before)
		}
		e.assertNothingLeft()
	})
	t.Run("bad dir", func(t *testing.T) {
		e := newOCIEnv(t, "true")
		r := e.cli(nil, "--overlay", "dir:/nonexistent/runsc-lite", "run", "c3")
		want := "runsc-lite: run: --overlay dir:/nonexistent/runsc-lite: no such directory\n"
		if r.code != 1 || r.stderr != want {
			t.Errorf("exit %d, stderr %q; want 1, %q", r.code, r.stderr, want)
		}
		e.assertNothingLeft()
	})
}
