//go:build linux

package gofer

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The Setup tests re-exec the test binary as a gofer in new namespaces:
// Setup changes the whole process irreversibly, so it must never run in
// the test binary itself.
const helperEnv = "GOFER_SETUP_HELPER"

// TestHelperGofer is the child side; it does nothing in a normal run.
// fd 3 is the gofer socket, fd 4 a pipe for the child's self-check report.
func TestHelperGofer(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("helper process for TestSetup")
	}
	report := os.NewFile(4, "report")
	cfg := SetupConfig{Rootfs: os.Getenv("GOFER_ROOTFS")}
	for _, v := range strings.Split(os.Getenv("GOFER_VOLUMES"), ",") {
		if path, mode, ok := strings.Cut(v, ":"); ok {
			cfg.Volumes = append(cfg.Volumes, Mount{HostPath: path, ReadOnly: mode == "ro"})
		}
	}
	if err := Setup(cfg); err != nil {
		fmt.Fprintf(report, "setup failed: %v\n", err)
		os.Exit(1)
	}
	// Confined now: host paths must be out of reach, whatever the route.
	var problems []string
	for _, p := range []string{
		os.Getenv("GOFER_SECRET"),
		"/proc/1/root" + os.Getenv("GOFER_SECRET"),
		"/proc/self/status",
		"/root/proc/1/root/etc/passwd",
	} {
		if p == "" {
			continue
		}
		if f, err := os.Open(p); err == nil {
			f.Close()
			problems = append(problems, "could open "+p)
		}
	}
	// The FD the server keeps into its private procfs reaches processes
	// only: no host-wide file through "..".
	for _, p := range []string{"../../sys/kernel/ostype", "../../kallsyms", "../../mounts/../sys"} {
		if fd, err := unix.Openat(procSelfFDForServer, p, unix.O_RDONLY, 0); err == nil {
			unix.Close(fd)
			problems = append(problems, "could open /proc/self/fd/"+p)
		}
	}
	if len(problems) == 0 {
		fmt.Fprintln(report, "ok")
	} else {
		fmt.Fprintln(report, strings.Join(problems, "; "))
	}
	report.Close()
	if os.Getenv("GOFER_FORBIDDEN") != "" {
		// Not on the allowlist: the filter must kill us right here.
		unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
		os.Exit(3)
	}
	if err := ServeFD(3, cfg.Mounts()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

type gofer struct {
	cmd    *exec.Cmd
	c      *Client
	stderr bytes.Buffer
}

// startGofer runs the helper with cfg and waits for its self-check.
func startGofer(t *testing.T, rootfs string, volumes []Mount, secret string, env ...string) *gofer {
	if os.Geteuid() != 0 {
		t.Skip("Setup needs root")
	}
	sfd, cfd := newSeqpacketPair(t)
	sock := os.NewFile(uintptr(sfd), "gofer-sock")
	defer sock.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	var vols []string
	for _, v := range volumes {
		mode := "rw"
		if v.ReadOnly {
			mode = "ro"
		}
		vols = append(vols, v.HostPath+":"+mode)
	}
	g := &gofer{cmd: exec.Command(os.Args[0], "-test.run=^TestHelperGofer$")}
	g.cmd.Env = append(os.Environ(), helperEnv+"=1", "GOFER_ROOTFS="+rootfs,
		"GOFER_VOLUMES="+strings.Join(vols, ","), "GOFER_SECRET="+secret)
	g.cmd.Env = append(g.cmd.Env, env...)
	g.cmd.ExtraFiles = []*os.File{sock, pw}
	g.cmd.Stderr = &g.stderr
	g.cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS,
		Pdeathsig:  syscall.SIGKILL,
	}
	if err := g.cmd.Start(); err != nil {
		t.Fatalf("start gofer: %v", err)
	}
	pw.Close()
	t.Cleanup(func() {
		g.cmd.Process.Kill()
		g.cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(pr).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case l := <-line:
		if strings.Contains(l, "changing all threads is not possible") {
			t.Skipf("test binary cannot run Setup: %s (use CGO_ENABLED=0)", l)
		}
		if l != "ok" {
			t.Fatalf("gofer self-check: %q; stderr: %s", l, g.stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("gofer did not report; stderr: %s", g.stderr.String())
	}
	c, err := NewClient(cfd)
	if err != nil {
		t.Fatal(err)
	}
	g.c = c
	return g
}

// stop closes the connection and checks the gofer exits cleanly: a
// seccomp kill (SIGSYS) would show here.
func (g *gofer) stop(t *testing.T) {
	g.c.Close()
	done := make(chan error, 1)
	go func() { done <- g.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("gofer exited with %v; stderr: %s", err, g.stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Errorf("gofer did not exit after the connection closed")
	}
}

// checkConfined reads /proc/PID/task/*/status of the gofer: every thread
// must be in seccomp filter mode with only the kept capabilities.
func checkConfined(t *testing.T, pid int) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"Seccomp":    "2",
		"NoNewPrivs": "1",
		"CapInh":     "0000000000000000",
		"CapPrm":     fmt.Sprintf("%016x", KeptCapabilities()),
		"CapEff":     fmt.Sprintf("%016x", KeptCapabilities()),
		"CapBnd":     fmt.Sprintf("%016x", KeptCapabilities()),
		"CapAmb":     "0000000000000000",
	}
	for _, task := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/status", pid, task.Name()))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok {
				got[k] = strings.TrimSpace(v)
			}
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("task %s: %s = %q, want %q", task.Name(), k, got[k], v)
			}
		}
	}
	t.Logf("checked %d gofer threads: %v", len(tasks), want)
}

func TestSetup(t *testing.T) {
	base := t.TempDir()
	rootfs, rw, ro, outside := filepath.Join(base, "rootfs"), filepath.Join(base, "rw"), filepath.Join(base, "ro"), filepath.Join(base, "outside")
	for _, d := range []string{rootfs + "/etc", rw, ro, outside} {
		os.MkdirAll(d, 0o755)
	}
	os.WriteFile(rootfs+"/etc/hello", []byte("hello from rootfs"), 0o644)
	os.Symlink("/", rootfs+"/escape")
	os.WriteFile(ro+"/f", []byte("ro"), 0o644)
	secret := filepath.Join(outside, "secret")
	os.WriteFile(secret, []byte("secret"), 0o600)

	g := startGofer(t, rootfs, []Mount{{HostPath: rw}, {HostPath: ro, ReadOnly: true}}, secret)
	checkConfined(t, g.cmd.Process.Pid)
	c := g.c

	root, st, dirFD, err := c.Attach(0)
	if err != nil {
		t.Fatal(err)
	}
	var fst unix.Stat_t
	unix.Fstat(dirFD, &fst)
	var hst unix.Stat_t
	unix.Stat(rootfs, &hst)
	if st.Ino != hst.Ino || fst.Ino != hst.Ino {
		t.Errorf("root ino %d / dir FD ino %d, want %d", st.Ino, fst.Ino, hst.Ino)
	}
	unix.Close(dirFD)
	res, err := c.Walk(root, []string{"etc", "hello"})
	if err != nil {
		t.Fatal(err)
	}
	fd, err := c.Open(res[1].FID, unix.O_RDONLY)
	if err != nil || readFD(t, fd) != "hello from rootfs" {
		t.Fatalf("read rootfs file: %v", err)
	}
	unix.Close(fd)
	// The rootfs is read-only, both in the server and in the kernel.
	_, _, _, err = c.Create(root, "new", unix.O_RDWR, 0o644, 0, 0)
	wantErrno(t, "create in rootfs", err, unix.EROFS)
	_, err = c.Walk(root, []string{"escape", "tmp"})
	wantErrno(t, "walk through symlink to /", err, unix.ENOTDIR)
	_, err = c.Walk(root, []string{"..", "outside"})
	wantErrno(t, "walk ..", err, unix.EINVAL)

	exerciseVolume(t, c, rw)

	rofid, _, fd, err := c.Attach(2)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	_, _, err = c.Mkdir(rofid, "d", 0o755, 0, 0)
	wantErrno(t, "mkdir in ro volume", err, unix.EROFS)
	checkConfined(t, g.cmd.Process.Pid)
	g.stop(t)
}

// exerciseVolume runs every op on a read-write volume under the seccomp
// filter, so a syscall missing from the allowlist kills the test gofer.
func exerciseVolume(t *testing.T, c *Client, host string) {
	vol, _, fd, err := c.Attach(1)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	fid, _, fd, err := c.Create(vol, "file", unix.O_RDWR, 0o640, 1000, 1000)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	unix.Write(fd, []byte("written in sandbox"))
	unix.Close(fd)
	if b, _ := os.ReadFile(filepath.Join(host, "file")); string(b) != "written in sandbox" {
		t.Errorf("host sees %q", b)
	}
	dir, _, err := c.Mkdir(vol, "dir", 0o755, 1000, 1000)
	if err != nil {
		t.Fatalf("mkdir: %v", err)
	}
	lnk, _, err := c.Symlink(dir, "link", "../file", 1000, 1000)
	if err != nil {
		t.Fatalf("symlink: %v", err)
	}
	if target, err := c.Readlink(lnk); err != nil || target != "../file" {
		t.Errorf("readlink %q %v", target, err)
	}
	if _, _, err := c.Link(dir, "hard", fid); err != nil {
		t.Errorf("link: %v", err)
	}
	if err := c.Rename(vol, "file", dir, "moved", unix.RENAME_NOREPLACE); err != nil {
		t.Errorf("rename: %v", err)
	}
	if err := c.Rename(dir, "moved", dir, "hard", unix.RENAME_EXCHANGE); err != nil {
		t.Errorf("rename exchange: %v", err)
	}
	st, err := c.SetAttr(fid, Attr{Mask: setAttrAll, Mode: 0o600, UID: 1, GID: 2, Size: 4,
		Atime: unix.Timespec{Sec: 5}, Mtime: unix.Timespec{Nsec: unix.UTIME_NOW}})
	if err != nil || st.Size != 4 || st.Mode&0o7777 != 0o600 || st.UID != 1 {
		t.Errorf("setattr: %+v %v", st, err)
	}
	ents, err := c.Readdir(dir, 0, 100)
	if err != nil || len(ents) != 3 {
		t.Errorf("readdir: %v %v", ents, err)
	}
	if fd, err := c.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY); err != nil {
		t.Errorf("open dir: %v", err)
	} else {
		unix.Close(fd)
	}
	if _, err := c.StatFS(vol); err != nil {
		t.Errorf("statfs: %v", err)
	}
	for _, n := range []string{"link", "hard", "moved"} {
		if err := c.Unlink(dir, n, 0); err != nil {
			t.Errorf("unlink %s: %v", n, err)
		}
	}
	if err := c.Unlink(vol, "dir", unix.AT_REMOVEDIR); err != nil {
		t.Errorf("rmdir: %v", err)
	}
	for _, f := range []uint64{fid, dir, lnk} {
		c.Clunk(f)
	}
	if ents, _ := os.ReadDir(host); len(ents) != 0 {
		t.Errorf("volume not empty: %v", ents)
	}
}

// TestSetupHostRoot serves the host's / as `runsc-lite do` does: the host's
// /proc must not be reachable through it.
func TestSetupHostRoot(t *testing.T) {
	g := startGofer(t, "/", nil, "")
	c := g.c
	root, _, fd, err := c.Attach(0)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	res, err := c.Walk(root, []string{"etc", "passwd"})
	if err != nil {
		t.Fatalf("walk /etc/passwd: %v", err)
	}
	fd, err = c.Open(res[1].FID, unix.O_RDONLY)
	if err != nil {
		t.Fatalf("open /etc/passwd: %v", err)
	}
	unix.Close(fd)
	for _, names := range [][]string{
		{"proc", "1", "root", "etc", "passwd"},
		{"proc", "self", "root"},
		{"sys", "kernel"},
	} {
		if res, err := c.Walk(root, names); err == nil {
			t.Errorf("walked host pseudo file system %q (%d components)", names, len(res))
		}
	}
	checkConfined(t, g.cmd.Process.Pid)
	if n, _ := os.ReadDir("/proc/" + strconv.Itoa(g.cmd.Process.Pid) + "/task"); len(n) == 0 {
		t.Error("no gofer threads")
	}
	g.stop(t)
}

// TestSetupSeccompKills checks the filter is enforcing: a syscall off the
// allowlist (socket) kills the gofer with SIGSYS.
func TestSetupSeccompKills(t *testing.T) {
	g := startGofer(t, t.TempDir(), nil, "", "GOFER_FORBIDDEN=1")
	err := g.cmd.Wait()
	ws, ok := g.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGSYS {
		t.Errorf("gofer making a forbidden syscall: %v, want killed by SIGSYS", err)
	}
	g.c.Close()
}

// TestSetupFileVolume: a regular file is served as a directory holding
// only VolumeFile, which is the host file itself: reads see it, writes of
// a read-write volume reach it, a read-only one refuses them, and nothing
// beside the file is reachable.
func TestSetupFileVolume(t *testing.T) {
	base := t.TempDir()
	rootfs := filepath.Join(base, "rootfs")
	os.MkdirAll(rootfs, 0o755)
	rw, ro := filepath.Join(base, "rw.conf"), filepath.Join(base, "ro.conf")
	os.WriteFile(rw, []byte("rw\n"), 0o644)
	os.WriteFile(ro, []byte("ro\n"), 0o644)
	os.WriteFile(filepath.Join(base, "beside"), []byte("beside"), 0o644)
	g := startGofer(t, rootfs, []Mount{{HostPath: rw}, {HostPath: ro, ReadOnly: true}}, filepath.Join(base, "beside"))
	c := g.c
	for _, tc := range []struct {
		mount    int
		host     string
		readOnly bool
	}{{1, rw, false}, {2, ro, true}} {
		dir, _, dirFD, err := c.Attach(tc.mount)
		if err != nil {
			t.Fatal(err)
		}
		unix.Close(dirFD)
		ents, err := c.Readdir(dir, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range ents {
			if e.Name != "." && e.Name != ".." {
				names = append(names, e.Name)
			}
		}
		if len(names) != 1 || names[0] != VolumeFile {
			t.Errorf("mount %d lists %v, want only %q", tc.mount, names, VolumeFile)
		}
		res, err := c.Walk(dir, []string{VolumeFile})
		if err != nil {
			t.Fatal(err)
		}
		var hst unix.Stat_t
		unix.Stat(tc.host, &hst)
		if res[0].Stat.Ino != hst.Ino {
			t.Errorf("mount %d: %s has ino %d, want the host file's %d", tc.mount, VolumeFile, res[0].Stat.Ino, hst.Ino)
		}
		fd, err := c.Open(res[0].FID, unix.O_WRONLY|unix.O_APPEND)
		if tc.readOnly {
			wantErrno(t, "open of a read-only file volume for writing", err, unix.EROFS)
			continue
		}
		if err != nil {
			t.Fatalf("open for writing: %v", err)
		}
		unix.Write(fd, []byte("written\n"))
		unix.Close(fd)
		if b, _ := os.ReadFile(tc.host); string(b) != "rw\nwritten\n" {
			t.Errorf("the host file after a write: %q", b)
		}
		_, err = c.Walk(dir, []string{"..", "beside"})
		wantErrno(t, "walk .. from a file volume", err, unix.EINVAL)
	}
	g.stop(t)
}
