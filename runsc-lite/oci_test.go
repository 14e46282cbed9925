package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// ociEnv is a state root, a log file and a busybox bundle for OCI tests.
type ociEnv struct {
	t      *testing.T
	root   string // --root
	log    string // --log (json)
	bundle string
	rootfs string
	spec   *specs.Spec
	// ids are the container ids created or run through the env: the
	// cgroups assertNothingLeft looks for (other test processes on the
	// machine may have containers of their own under /runsc-lite).
	// Tests run CLIs concurrently: idsMu guards it.
	idsMu sync.Mutex
	ids   map[string]bool
}

// busyboxRootfs builds a root file system holding busybox-static and its
// applet links in dir.
func busyboxRootfs(t *testing.T, dir string) {
	t.Helper()
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("busybox-static is not installed")
	}
	for _, d := range []string{"bin", "tmp", "etc", "proc", "dev", "sys"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(filepath.Join(dir, "tmp"), 0o1777)
	data, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", "busybox"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bb, "--list").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range strings.Fields(string(out)) {
		if a != "busybox" {
			os.Symlink("busybox", filepath.Join(dir, "bin", a))
		}
	}
	os.WriteFile(filepath.Join(dir, "etc", "passwd"), []byte("root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "etc", "group"), []byte("root:x:0:\nnogroup:x:65534:\n"), 0o644)
}

func newOCIEnv(t *testing.T, args ...string) *ociEnv {
	t.Helper()
	requireRealSentry(t)
	dir := t.TempDir()
	e := &ociEnv{t: t, root: filepath.Join(dir, "state"), log: filepath.Join(dir, "log.json"),
		bundle: filepath.Join(dir, "bundle")}
	e.rootfs = filepath.Join(e.bundle, "rootfs")
	busyboxRootfs(t, e.rootfs)
	e.spec = &specs.Spec{
		Version:  specs.Version,
		Process:  &specs.Process{Args: args, Env: []string{"PATH=/bin"}, Cwd: "/"},
		Root:     &specs.Root{Path: "rootfs"},
		Hostname: "oci-test",
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m"}},
		},
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace}, {Type: specs.MountNamespace},
			},
		},
	}
	e.writeSpec()
	t.Cleanup(e.cleanup)
	return e
}

// bindDir adds a bind mount of a new host directory at dest and returns
// the host directory.
func (e *ociEnv) bindDir(dest string, ro bool) string {
	e.t.Helper()
	dir := e.t.TempDir()
	opts := []string{"rbind", "rw"}
	if ro {
		opts = []string{"rbind", "ro"}
	}
	e.spec.Mounts = append(e.spec.Mounts, specs.Mount{Destination: dest, Type: "bind", Source: dir, Options: opts})
	e.writeSpec()
	return dir
}

// waitFile waits until path exists.
func waitFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (e *ociEnv) writeSpec() {
	e.t.Helper()
	b, err := json.Marshal(e.spec)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.bundle, "config.json"), b, 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// cleanup force-deletes whatever the test left and checks that nothing
// of any container stays: state directories, cgroups.
func (e *ociEnv) cleanup() {
	ents, _ := os.ReadDir(e.root)
	for _, ent := range ents {
		e.cli(nil, "delete", "--force", ent.Name())
	}
}

// cliResult is one CLI run.
type cliResult struct {
	code           int
	stdout, stderr string
}

// command is a CLI command with the env's global flags, run in the
// bundle.
func (e *ociEnv) command(args ...string) *exec.Cmd {
	for _, a := range args {
		if a == "create" || a == "run" {
			e.idsMu.Lock()
			if e.ids == nil {
				e.ids = map[string]bool{}
			}
			e.ids[args[len(args)-1]] = true
			e.idsMu.Unlock()
			break
		}
	}
	all := append([]string{"--root", e.root, "--log", e.log, "--log-format", "json"}, args...)
	cmd := exec.Command(realBin, all...)
	cmd.Dir = e.bundle
	return cmd
}

// cli runs the CLI with the env's global flags, stdin from in.
func (e *ociEnv) cli(in *bytes.Buffer, args ...string) cliResult {
	e.t.Helper()
	cmd := e.command(args...)
	if in != nil {
		cmd.Stdin = in
	}
	// Files, not pipes: a created container keeps its stdio open, and
	// Run would wait for the end of a pipe.
	dir := e.t.TempDir()
	out, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		e.t.Fatal(err)
	}
	defer out.Close()
	errf, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		e.t.Fatal(err)
	}
	defer errf.Close()
	cmd.Stdout, cmd.Stderr = out, errf
	cmd.Run()
	ob, _ := os.ReadFile(out.Name())
	eb, _ := os.ReadFile(errf.Name())
	return cliResult{code: cmd.ProcessState.ExitCode(), stdout: string(ob), stderr: string(eb)}
}

func (e *ociEnv) mustCLI(args ...string) cliResult {
	e.t.Helper()
	r := e.cli(nil, args...)
	if r.code != 0 {
		e.t.Fatalf("%v: exit %d, stderr %q", args, r.code, r.stderr)
	}
	return r
}

func (e *ociEnv) state(id string) ociState {
	e.t.Helper()
	r := e.mustCLI("state", id)
	var st ociState
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		e.t.Fatalf("state %s: %v: %q", id, err, r.stdout)
	}
	return st
}

// waitStatus polls until container id has status want.
func (e *ociEnv) waitStatus(id, want string) ociState {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := e.state(id)
		if st.Status == want {
			return st
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("container %s: status %s, want %s", id, st.Status, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// logErrors returns the msg of every error line in the log; every line
// must be JSON with level, msg and time.
func (e *ociEnv) logErrors() []string {
	e.t.Helper()
	b, _ := os.ReadFile(e.log)
	var msgs []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l == "" {
			continue
		}
		var m struct{ Level, Msg, Time string }
		if err := json.Unmarshal([]byte(l), &m); err != nil || m.Time == "" || m.Level == "" {
			e.t.Errorf("log line is not {level,msg,time} JSON: %q", l)
			continue
		}
		if m.Level == "error" {
			msgs = append(msgs, m.Msg)
		}
	}
	return msgs
}

// assertNothingLeft checks that no container state and no cgroup remain.
func (e *ociEnv) assertNothingLeft() {
	e.t.Helper()
	if ents, _ := os.ReadDir(e.root); len(ents) > 0 {
		var names []string
		for _, ent := range ents {
			names = append(names, ent.Name())
		}
		e.t.Errorf("state left behind: %v", names)
	}
	// Containers without linux.cgroupsPath get /runsc-lite/<id>.
	for _, c := range []string{"memory", "pids", "cpu", "freezer"} {
		e.idsMu.Lock()
		ids := slices.Collect(maps.Keys(e.ids))
		e.idsMu.Unlock()
		for _, id := range ids {
			if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", c, "runsc-lite", id)); err == nil {
				e.t.Errorf("cgroup %s:/runsc-lite/%s left behind", c, id)
			}
		}
	}
}

func TestOCIRun(t *testing.T) {
	e := newOCIEnv(t, "sh", "-c", "echo out $(hostname) $PATH; echo err >&2; exit 3")
	r := e.cli(nil, "run", "c1")
	if r.code != 3 {
		t.Errorf("exit %d, want 3 (stderr %q)", r.code, r.stderr)
	}
	if r.stdout != "out oci-test /bin\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	if r.stderr != "err\n" {
		t.Errorf("stderr %q, want only the container's", r.stderr)
	}
	e.assertNothingLeft()
}

func TestOCILifecycle(t *testing.T) {
	e := newOCIEnv(t, "sh", "-c", `trap "echo term; exit 7" TERM; echo up > /shared/up; while :; do sleep 0.05; done`)
	shared := e.bindDir("/shared", false)
	pidFile := filepath.Join(t.TempDir(), "init.pid")
	e.mustCLI("create", "--bundle", e.bundle, "--pid-file", pidFile, "c1")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(string(b)) // no newline allowed
	if err != nil {
		t.Fatalf("pid file %q: %v", b, err)
	}
	st := e.state("c1")
	if st.Status != "created" || st.Pid != pid || st.ID != "c1" || st.Bundle != e.bundle || st.Rootfs != e.rootfs || st.OCIVersion == "" {
		t.Errorf("state after create: %+v (pid file %d)", st, pid)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
		t.Errorf("pid %d is not alive: %v", pid, err)
	}
	if r := e.cli(nil, "create", "--bundle", e.bundle, "c1"); r.code == 0 || !strings.Contains(r.stderr, "already exists") {
		t.Errorf("duplicate create: exit %d, stderr %q", r.code, r.stderr)
	}
	e.mustCLI("start", "c1")
	e.waitStatus("c1", "running")
	if r := e.cli(nil, "start", "c1"); r.code == 0 {
		t.Errorf("second start succeeded")
	}
	if r := e.cli(nil, "delete", "c1"); r.code == 0 {
		t.Errorf("delete of a running container succeeded")
	}
	waitFile(t, filepath.Join(shared, "up")) // the trap is set
	e.mustCLI("kill", "c1", "SIGTERM")
	st = e.waitStatus("c1", "stopped")
	if st.Pid != 0 {
		t.Errorf("stopped container has pid %d", st.Pid)
	}
	r := e.mustCLI("wait", "c1")
	if strings.TrimSpace(r.stdout) != "7" {
		t.Errorf("wait: %q, want 7", r.stdout)
	}
	e.mustCLI("delete", "c1")
	if r := e.cli(nil, "state", "c1"); r.code == 0 || !strings.Contains(r.stderr, "container does not exist") {
		t.Errorf("state after delete: exit %d, %q", r.code, r.stderr)
	}
	e.assertNothingLeft()
}

func TestOCIKillNamesAndNumbers(t *testing.T) {
	for _, sig := range []string{"9", "KILL", "SIGKILL", "15", "TERM"} {
		t.Run(sig, func(t *testing.T) {
			e := newOCIEnv(t, "sleep", "1000")
			e.mustCLI("run", "--detach", "c1")
			e.waitStatus("c1", "running")
			e.mustCLI("kill", "c1", sig)
			if strings.Contains(sig, "TERM") || sig == "15" {
				// As with runc: a container's init without a handler
				// does not take SIGTERM from outside (Linux's rule for
				// a PID namespace's init); only SIGKILL ends it.
				time.Sleep(200 * time.Millisecond)
				if st := e.state("c1"); st.Status != "running" {
					t.Fatalf("init without a TERM handler: status %q after SIGTERM, want running", st.Status)
				}
				e.mustCLI("kill", "c1", "KILL")
			}
			e.waitStatus("c1", "stopped")
			if r := e.mustCLI("wait", "c1"); strings.TrimSpace(r.stdout) != "137" {
				t.Errorf("status %q, want 137", r.stdout)
			}
			e.mustCLI("delete", "c1")
			e.assertNothingLeft()
		})
	}
}

// TestOCIKillCreated: a signal to a container that was never started
// ends it with that signal's status.
func TestOCIKillCreated(t *testing.T) {
	e := newOCIEnv(t, "sleep", "1000")
	e.mustCLI("create", "c1")
	e.mustCLI("kill", "c1", "TERM")
	e.waitStatus("c1", "stopped")
	if r := e.mustCLI("wait", "c1"); strings.TrimSpace(r.stdout) != "143" {
		t.Errorf("status %q, want 143", r.stdout)
	}
	if r := e.cli(nil, "start", "c1"); r.code == 0 {
		t.Errorf("start of a stopped container succeeded")
	}
	e.mustCLI("delete", "c1")
	e.assertNothingLeft()
}

func TestOCIDeleteForce(t *testing.T) {
	e := newOCIEnv(t, "sleep", "1000")
	e.mustCLI("run", "-d", "c1")
	st := e.waitStatus("c1", "running")
	e.mustCLI("delete", "--force", "c1")
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", st.Pid)); err == nil {
		if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", st.Pid)); !strings.Contains(string(b), ") Z") {
			t.Errorf("sandbox %d still alive after delete --force", st.Pid)
		}
	}
	// Docker's cleanup shim deletes again: that must succeed.
	e.mustCLI("delete", "--force", "c1")
	e.assertNothingLeft()
}

// TestOCISandboxDied: state is truthful when the sandbox dies behind the
// runtime's back, and delete still cleans up.
func TestOCISandboxDied(t *testing.T) {
	e := newOCIEnv(t, "sleep", "1000")
	e.mustCLI("run", "-d", "c1")
	st := e.waitStatus("c1", "running")
	if err := unix.Kill(st.Pid, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	e.waitStatus("c1", "stopped")
	if r := e.mustCLI("wait", "c1"); strings.TrimSpace(r.stdout) != "137" {
		t.Errorf("wait: %q, want 137", r.stdout)
	}
	e.mustCLI("delete", "c1")
	e.assertNothingLeft()
}

func TestOCIBadInput(t *testing.T) {
	e := newOCIEnv(t, "true")
	brokenBundle := t.TempDir()
	os.WriteFile(filepath.Join(brokenBundle, "config.json"), []byte(`{"process": {`), 0o644)
	noRootfs := t.TempDir()
	os.WriteFile(filepath.Join(noRootfs, "config.json"), []byte(`{"process":{"args":["true"],"cwd":"/"},"root":{"path":"nowhere"}}`), 0o644)
	cases := []struct {
		name   string
		args   []string
		want   string            // in the error message
		mutate func(*specs.Spec) // for a create of e's bundle (args nil)
	}{
		{"missing bundle", []string{"create", "--bundle", "/nonexistent/bundle", "x1"}, "not a directory", nil},
		{"broken config", []string{"create", "--bundle", brokenBundle, "x2"}, "config.json", nil},
		{"missing rootfs", []string{"create", "--bundle", noRootfs, "x3"}, "root file system", nil},
		{"bad id", []string{"create", "--bundle", e.bundle, "../x"}, "invalid container id", nil},
		{"unknown id start", []string{"start", "nope"}, "container does not exist", nil},
		{"unknown id state", []string{"state", "nope"}, "container does not exist", nil},
		{"unknown id kill", []string{"kill", "nope", "9"}, "container does not exist", nil},
		{"unknown id delete", []string{"delete", "nope"}, "container does not exist", nil},
		{"bad signal", []string{"kill", "nope", "SIGNOPE"}, "invalid signal", nil},
		{"bad flag", []string{"create", "--bogus", "x4"}, "unknown flag --bogus", nil},
		{"terminal without socket", nil, "--console-socket", func(s *specs.Spec) { s.Process.Terminal = true }},
		{"command not found", nil, "executable file not found", func(s *specs.Spec) { s.Process.Args = []string{"nosuchcmd"} }},
		{"command not executable", nil, "permission denied", func(s *specs.Spec) { s.Process.Args = []string{"/etc/passwd"} }},
		{"cwd is a file", nil, "working directory", func(s *specs.Spec) { s.Process.Cwd = "/etc/passwd" }},
		{"sysctl of no namespace", nil, "not in a separate kernel namespace", func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"vm.swappiness": "0"} }},
		{"net sysctl on the host's network", nil, "host's network namespace", func(s *specs.Spec) {
			s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.MountNamespace}}
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_unprivileged_port_start": "0"}
		}},
		{"bad sysctl name", nil, "not a sysctl name", func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"net/../../x": "0"} }},
		{"bad ipc sysctl value", nil, `sysctl kernel.shmmni="99999": invalid argument`, func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"kernel.shmmni": "99999"} }},
	}
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		cases = append(cases, struct {
			name   string
			args   []string
			want   string
			mutate func(*specs.Spec)
		}{"systemd cgroup without systemd", []string{"--systemd-cgroup", "create", "--bundle", e.bundle, "x6"}, "systemd is not running", nil})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			os.Remove(e.log)
			args := c.args
			if args == nil {
				saved, _ := json.Marshal(e.spec)
				c.mutate(e.spec)
				e.writeSpec()
				defer func() {
					var orig specs.Spec
					json.Unmarshal(saved, &orig)
					*e.spec = orig
					e.writeSpec()
				}()
				args = []string{"create", "--bundle", e.bundle, "x5"}
			}
			r := e.cli(nil, args...)
			if r.code == 0 {
				t.Fatalf("exit 0")
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], c.want) {
				t.Errorf("stderr %q, want one line with %q", r.stderr, c.want)
			}
			if msgs := e.logErrors(); len(msgs) != 1 || !strings.Contains(msgs[0], c.want) {
				t.Errorf("log errors %q, want one with %q", msgs, c.want)
			}
			e.assertNothingLeft()
		})
	}
}

func TestOCIConcurrency(t *testing.T) {
	e := newOCIEnv(t, "sleep", "1000")
	const n = 4
	var wg sync.WaitGroup
	codes := make([]cliResult, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			codes[i] = e.cli(nil, "create", fmt.Sprintf("p%d", i))
		}(i)
	}
	wg.Wait()
	for i, r := range codes {
		if r.code != 0 {
			t.Errorf("create p%d: exit %d %q", i, r.code, r.stderr)
		}
	}
	// Parallel creates of one id: exactly one wins.
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			codes[i] = e.cli(nil, "create", "same")
		}(i)
	}
	wg.Wait()
	if ok := countOK(codes); ok != 1 {
		t.Errorf("%d of %d parallel creates of one id succeeded", ok, n)
	}
	// Parallel deletes of one id: one deletes, the others find nothing.
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			codes[i] = e.cli(nil, "delete", "same")
		}(i)
	}
	wg.Wait()
	if ok := countOK(codes); ok != 1 {
		t.Errorf("%d of %d parallel deletes of one id succeeded: %+v", ok, n, codes)
	}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			codes[i] = e.cli(nil, "delete", "--force", fmt.Sprintf("p%d", i))
		}(i)
	}
	wg.Wait()
	for i, r := range codes {
		if r.code != 0 {
			t.Errorf("delete p%d: exit %d %q", i, r.code, r.stderr)
		}
	}
	e.assertNothingLeft()
}

func countOK(rs []cliResult) int {
	n := 0
	for _, r := range rs {
		if r.code == 0 {
			n++
		}
	}
	return n
}
