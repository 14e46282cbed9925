package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestOCIExec(t *testing.T) {
	e := newOCIEnv(t, "sleep", "1000")
	e.spec.Process.Env = append(e.spec.Process.Env, "FROM_CONFIG=1")
	e.writeSpec()
	e.mustCLI("run", "-d", "c1")
	e.waitStatus("c1", "running")

	// A missing working directory is made, as runc does (docker run -w).
	e.spec.Process.Cwd = "/new/dir"
	e.spec.Process.Args = []string{"sh", "-c", "pwd"}
	e.writeSpec()
	if r := e.cli(nil, "run", "c0"); r.code != 0 || r.stdout != "/new/dir\n" {
		t.Errorf("run in a missing cwd: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r := e.cli(nil, "exec", "--env", "X=y", "--cwd", "/tmp", "--user", "65534:65534", "c1",
		"sh", "-c", `echo $X $FROM_CONFIG $(pwd) $(id -u):$(id -g) ppid=$PPID; exit 4`)
	if r.code != 4 || r.stdout != "y 1 /tmp 65534:65534 ppid=0\n" {
		t.Errorf("exec: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	// Docker's form: --process JSON, --detach, --pid-file; the pid's
	// process exits with the exec'd process's status.
	proc := specs.Process{Args: []string{"sh", "-c", "echo detached; exit 9"}, Env: []string{"PATH=/bin"}, Cwd: "/"}
	pf := filepath.Join(t.TempDir(), "process.json")
	b, _ := json.Marshal(proc)
	os.WriteFile(pf, b, 0o644)
	pidFile := filepath.Join(t.TempDir(), "exec.pid")
	r = e.cli(nil, "exec", "--process", pf, "--detach", "--pid-file", pidFile, "c1")
	if r.code != 0 {
		t.Fatalf("exec --detach: exit %d, %q", r.code, r.stderr)
	}
	data, _ := os.ReadFile(pidFile)
	pid, err := strconv.Atoi(string(data))
	if err != nil {
		t.Fatalf("pid file %q: %v", data, err)
	}
	// Not our child (TestOCIExecProxyStatus checks its status): it
	// must end when the process does.
	waitPidGone(t, pid)
	if r := e.cli(nil, "exec", "c1", "/nonexistent"); r.code == 0 {
		t.Errorf("exec of a missing binary succeeded")
	}
	e.mustCLI("delete", "--force", "c1")
	if r := e.cli(nil, "exec", "c1", "true"); r.code == 0 || !strings.Contains(r.stderr, "does not exist") {
		t.Errorf("exec in a deleted container: exit %d %q", r.code, r.stderr)
	}
	e.assertNothingLeft()
}

// TestOCIExecProxyStatus runs `exec --detach` as a child of this test
// (made a subreaper, as containerd's shim is) and checks that the pid in
// the pid file exits with the exec'd process's status.
func TestOCIExecProxyStatus(t *testing.T) {
	e := newOCIEnv(t, "sleep", "1000")
	e.mustCLI("run", "-d", "c1")
	e.waitStatus("c1", "running")
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	defer unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
	pidFile := filepath.Join(t.TempDir(), "exec.pid")
	e.mustCLI("exec", "--detach", "--pid-file", pidFile, "c1", "sh", "-c", "exit 9")
	data, _ := os.ReadFile(pidFile)
	pid, err := strconv.Atoi(string(data))
	if err != nil {
		t.Fatalf("pid file %q: %v", data, err)
	}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, 0, nil); err != nil {
		t.Fatalf("wait4(%d): %v", pid, err)
	}
	if ws.ExitStatus() != 9 {
		t.Errorf("proxy exit status %v, want 9", ws)
	}
	e.mustCLI("delete", "--force", "c1")
}

func waitPidGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, _, ok := procStat(pid)
		if !ok || st == 'Z' {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d still alive", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestOCIHooks(t *testing.T) {
	e := newOCIEnv(t, "sh", "-c", "exit 0")
	out := t.TempDir()
	hook := func(name string) specs.Hook {
		// The hook saves its stdin (the state) and where the sandbox's
		// network namespace is, as Docker's libnetwork-setkey needs it.
		script := fmt.Sprintf(`cat > %s/%s.json; p=$(sed 's/.*"pid": *\([0-9]*\).*/\1/' %s/%s.json); readlink /proc/$p/ns/net > %s/%s.netns 2>/dev/null; true`,
			out, name, out, name, out, name)
		return specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", script}}
	}
	e.spec.Hooks = &specs.Hooks{
		Prestart:      []specs.Hook{hook("prestart")},
		CreateRuntime: []specs.Hook{hook("createRuntime")},
		Poststart:     []specs.Hook{hook("poststart")},
		Poststop:      []specs.Hook{hook("poststop")},
	}
	e.writeSpec()
	e.mustCLI("create", "c1")
	for _, h := range []string{"prestart", "createRuntime"} {
		var st ociState
		b, err := os.ReadFile(filepath.Join(out, h+".json"))
		if err != nil {
			t.Fatalf("%s hook did not run: %v", h, err)
		}
		if err := json.Unmarshal(b, &st); err != nil || st.ID != "c1" || st.Status != "created" || st.Pid == 0 || st.Bundle != e.bundle {
			t.Errorf("%s hook state %s (%v)", h, b, err)
		}
		ns, _ := os.ReadFile(filepath.Join(out, h+".netns"))
		self, _ := os.Readlink("/proc/self/ns/net")
		if !strings.HasPrefix(string(ns), "net:[") || strings.TrimSpace(string(ns)) == self {
			t.Errorf("%s hook: netns of the state's pid %q, want the sandbox's (not the host's %q)", h, ns, self)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "poststart.json")); err == nil {
		t.Errorf("poststart ran before start")
	}
	e.mustCLI("start", "c1")
	waitFile(t, filepath.Join(out, "poststart.json"))
	e.waitStatus("c1", "stopped")
	if _, err := os.Stat(filepath.Join(out, "poststop.json")); err == nil {
		t.Errorf("poststop ran before delete")
	}
	e.mustCLI("delete", "c1")
	if _, err := os.Stat(filepath.Join(out, "poststop.json")); err != nil {
		t.Errorf("poststop did not run: %v", err)
	}

	// A failing prestart hook fails create and leaves nothing.
	e.spec.Hooks = &specs.Hooks{Prestart: []specs.Hook{{Path: "/bin/false"}}}
	e.writeSpec()
	if r := e.cli(nil, "create", "c2"); r.code == 0 || !strings.Contains(r.stderr, "prestart") {
		t.Errorf("create with a failing hook: exit %d %q", r.code, r.stderr)
	}
	e.assertNothingLeft()
}

func TestOCIMounts(t *testing.T) {
	e := newOCIEnv(t, "sh", "-c", `echo rw > /rw/new && echo root > /newfile && cat /ro/data /etc/hosts && ! echo x > /ro/x 2>/dev/null && echo ok`)
	rw := e.bindDir("/rw", false)
	ro := e.bindDir("/ro", true)
	os.WriteFile(filepath.Join(ro, "data"), []byte("ro-data\n"), 0o644)
	// A single file, as Docker binds /etc/hosts.
	hosts := filepath.Join(t.TempDir(), "hosts")
	os.WriteFile(hosts, []byte("127.0.0.1 bound-hosts\n"), 0o644)
	e.spec.Mounts = append(e.spec.Mounts, specs.Mount{Destination: "/etc/hosts", Type: "bind", Source: hosts, Options: []string{"rbind", "rprivate"}})
	e.writeSpec()
	r := e.cli(nil, "run", "c1")
	if r.code != 0 || r.stdout != "ro-data\n127.0.0.1 bound-hosts\nok\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if b, err := os.ReadFile(filepath.Join(rw, "new")); err != nil || string(b) != "rw\n" {
		t.Errorf("rw bind mount write did not reach the host: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(e.rootfs, "newfile")); err == nil {
		t.Errorf("a write to the root file system reached the host")
	}
	if _, err := os.Stat(filepath.Join(ro, "x")); err == nil {
		t.Errorf("a write to a read-only bind mount reached the host")
	}

	// root.readonly: the root refuses writes, mounts on it do not.
	e.spec.Root.Readonly = true
	e.spec.Process.Args = []string{"sh", "-c", `echo x > /newfile 2>/dev/null && echo wrote; echo t > /tmp/t && echo tmp-ok`}
	e.writeSpec()
	r = e.cli(nil, "run", "c2")
	if r.stdout != "tmp-ok\n" {
		t.Errorf("read-only root: stdout %q, stderr %q", r.stdout, r.stderr)
	}
	e.assertNothingLeft()
}

func TestOCIConsoleSocket(t *testing.T) {
	e := newOCIEnv(t, "sh", "-c", `[ -t 0 ] && [ -t 1 ] && echo is-a-tty; read x; echo got-$x; exit 2`)
	e.spec.Process.Terminal = true
	e.writeSpec()
	sock, got := consoleListener(t)
	e.mustCLI("create", "--console-socket", sock, "c1")
	master := <-got
	if master == nil {
		t.Fatal("no pty master")
	}
	defer master.Close()
	e.mustCLI("start", "c1")
	var out bytes.Buffer
	buf := make([]byte, 256)
	master.SetReadDeadline(time.Now().Add(20 * time.Second))
	readUntil := func(s string) {
		for !strings.Contains(out.String(), s) {
			n, err := master.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				break
			}
		}
	}
	readUntil("is-a-tty")
	master.Write([]byte("hello\n"))
	readUntil("got-hello")
	if !strings.Contains(out.String(), "is-a-tty") || !strings.Contains(out.String(), "got-hello") {
		t.Errorf("terminal output %q", out.String())
	}
	e.waitStatus("c1", "stopped")
	if r := e.mustCLI("wait", "c1"); strings.TrimSpace(r.stdout) != "2" {
		t.Errorf("status %q", r.stdout)
	}
	e.mustCLI("delete", "c1")
	e.assertNothingLeft()
}

func TestOCICgroups(t *testing.T) {
	if _, err := os.Stat("/sys/fs/cgroup/memory/memory.limit_in_bytes"); err != nil {
		t.Skip("needs cgroup v1 memory")
	}
	e := newOCIEnv(t, "sleep", "1000")
	limit, pids, shares, quota, period := int64(256<<20), int64(64), uint64(512), int64(50000), uint64(100000)
	e.spec.Linux.CgroupsPath = "/runsc-lite-test/c1"
	e.spec.Linux.Resources = &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: &limit},
		Pids:   &specs.LinuxPids{Limit: &pids},
		CPU:    &specs.LinuxCPU{Shares: &shares, Quota: &quota, Period: &period},
	}
	e.writeSpec()
	defer func() {
		for _, c := range v1Controllers {
			os.Remove(filepath.Join("/sys/fs/cgroup", c, "runsc-lite-test"))
		}
	}()
	e.mustCLI("run", "-d", "c1")
	st := e.waitStatus("c1", "running")
	read := func(c, f string) string {
		b, _ := os.ReadFile(filepath.Join("/sys/fs/cgroup", c, "runsc-lite-test/c1", f))
		return strings.TrimSpace(string(b))
	}
	for _, c := range []struct{ ctl, file, want string }{
		{"memory", "memory.limit_in_bytes", "268435456"},
		{"pids", "pids.max", strconv.FormatInt(hostPidsLimit(64), 10)},
		{"cpu", "cpu.shares", "512"},
		{"cpu", "cpu.cfs_quota_us", "50000"},
		{"cpu", "cpu.cfs_period_us", "100000"},
	} {
		if got := read(c.ctl, c.file); got != c.want {
			t.Errorf("%s = %q, want %s", c.file, got, c.want)
		}
	}
	// Every host process of the sandbox is in the cgroup: the sentry and
	// the gofer, moved there as they started, and the stubs running guest
	// code, forked only after that.
	saved, err := readState(filepath.Join(e.root, "c1"), "c1")
	if err != nil {
		t.Fatal(err)
	}
	sandboxPids := []int{saved.GoferPid}
	for pids := []int{st.Pid}; len(pids) > 0; pids = append(pids[1:], children(pids[0])...) {
		sandboxPids = append(sandboxPids, pids[0])
	}
	if len(sandboxPids) < 4 {
		t.Errorf("sandbox processes %v: want the gofer, the sentry, the stub master and a stub", sandboxPids)
	}
	// They size their Go runtime by the container's CPU quota, not the
	// launcher's cgroup, where they started.
	for _, pid := range []int{st.Pid, saved.GoferPid} {
		env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		want := fmt.Sprintf("GOMAXPROCS=%d", goMaxProcs(e.spec.Linux.Resources))
		if !strings.Contains("\x00"+string(env)+"\x00", "\x00"+want+"\x00") {
			t.Errorf("process %d's environment %q lacks %s", pid, env, want)
		}
	}
	for _, c := range v1Controllers {
		procs := " " + strings.Join(strings.Fields(read(c, "cgroup.procs")), " ") + " "
		for _, pid := range sandboxPids {
			if !strings.Contains(procs, fmt.Sprintf(" %d ", pid)) {
				t.Errorf("process %d of the sandbox is not in the %s cgroup (%q)", pid, c, procs)
			}
		}
	}
	// ps --format json lists the host pids (the cgroup's).
	var ps []int
	if err := json.Unmarshal([]byte(e.mustCLI("ps", "--format", "json", "c1").stdout), &ps); err != nil || len(ps) < 2 {
		t.Errorf("ps: %v %v", ps, err)
	}
	// update --resources - (Docker's update --memory).
	in := bytes.NewBufferString(`{"memory":{"limit":67108864,"reservation":0,"swap":134217728,"kernel":0},"cpu":{"shares":0,"quota":0,"period":0},"blockIO":{"weight":0}}`)
	if r := e.cli(in, "update", "--resources", "-", "c1"); r.code != 0 {
		t.Errorf("update: %d %q", r.code, r.stderr)
	}
	if got := read("memory", "memory.limit_in_bytes"); got != "67108864" {
		t.Errorf("after update: limit %s", got)
	}
	// events --stats: one JSON event with the cgroup's counters.
	var ev struct {
		Type, ID string
		Data     struct {
			Memory struct{ Usage struct{ Usage, Limit uint64 } }
			Pids   struct{ Current uint64 }
		}
	}
	if err := json.Unmarshal([]byte(e.mustCLI("events", "--stats", "c1").stdout), &ev); err != nil ||
		ev.Type != "stats" || ev.ID != "c1" || ev.Data.Memory.Usage.Usage == 0 || ev.Data.Memory.Usage.Limit != 67108864 || ev.Data.Pids.Current < 2 {
		t.Errorf("events --stats: %+v %v", ev, err)
	}
	// pause / resume through the freezer.
	e.mustCLI("pause", "c1")
	if s := e.state("c1").Status; s != "paused" || read("freezer", "freezer.state") != "FROZEN" {
		t.Errorf("after pause: %s, freezer %s", s, read("freezer", "freezer.state"))
	}
	e.mustCLI("resume", "c1")
	if s := e.state("c1").Status; s != "running" || read("freezer", "freezer.state") != "THAWED" {
		t.Errorf("after resume: %s", s)
	}
	e.mustCLI("pause", "c1")
	e.mustCLI("delete", "--force", "c1")
	if _, err := os.Stat("/sys/fs/cgroup/memory/runsc-lite-test/c1"); err == nil {
		t.Errorf("cgroup left behind")
	}
	e.assertNothingLeft()
}

func TestOCIMemoryLimit(t *testing.T) {
	if _, err := os.Stat("/sys/fs/cgroup/memory/memory.limit_in_bytes"); err != nil {
		t.Skip("needs cgroup v1 memory")
	}
	// The guest's memory lives in the sentry's memory file, charged to
	// the sandbox's cgroup: 256 MiB cannot fit in 64.
	e := newOCIEnv(t, "sh", "-c", `dd if=/dev/zero bs=1M count=256 | cat > /dev/shm/big; echo survived`)
	limit := int64(64 << 20)
	e.spec.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}}
	e.writeSpec()
	r := e.cli(nil, "run", "c1")
	if r.code == 0 || strings.Contains(r.stdout, "survived") {
		t.Errorf("a guest used 256 MiB under a 64 MiB limit: exit %d %q", r.code, r.stdout)
	}
	e.assertNothingLeft()
}

func TestOCIListSpecFeatures(t *testing.T) {
	e := newOCIEnv(t, "sleep", "1000")
	e.mustCLI("create", "c1")
	e.mustCLI("create", "c2")
	e.mustCLI("start", "c2")
	var list []ociState
	if err := json.Unmarshal([]byte(e.mustCLI("list", "--format", "json").stdout), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != "c1" || list[0].Status != "created" || list[1].ID != "c2" || list[1].Status != "running" {
		t.Errorf("list: %+v", list)
	}
	if out := e.mustCLI("list").stdout; !strings.Contains(out, "c1") || !strings.Contains(out, "running") {
		t.Errorf("list table: %q", out)
	}
	e.mustCLI("delete", "--force", "c1")
	e.mustCLI("delete", "--force", "c2")

	dir := t.TempDir()
	e.mustCLI("spec", "--bundle", dir)
	var spec specs.Spec
	b, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	if err := json.Unmarshal(b, &spec); err != nil || spec.Root.Path != "rootfs" || spec.Process.Args[0] != "sh" {
		t.Errorf("spec: %v %s", err, b)
	}
	if r := e.cli(nil, "spec", "--bundle", dir); r.code == 0 {
		t.Errorf("spec over an existing config.json succeeded")
	}
	var f struct {
		OCIVersionMax string   `json:"ociVersionMax"`
		Hooks         []string `json:"hooks"`
	}
	if err := json.Unmarshal([]byte(e.mustCLI("features").stdout), &f); err != nil || f.OCIVersionMax == "" || len(f.Hooks) == 0 {
		t.Errorf("features: %+v %v", f, err)
	}
	e.assertNothingLeft()
}

func TestOCIInstall(t *testing.T) {
	e := newOCIEnv(t, "true")
	cfg := filepath.Join(t.TempDir(), "daemon.json")
	os.WriteFile(cfg, []byte(`{"debug": true, "x-custom": {"deep": [1, "two"]}, "runtimes": {"other": {"path": "/usr/bin/other", "runtimeArgs": ["--x"]}}}`), 0o600)
	e.mustCLI("install", "--config-file", cfg, "--runtime", "rl", "--", "--debug", "--platform=systrap")
	var got map[string]any
	b, _ := os.ReadFile(cfg)
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	rts := got["runtimes"].(map[string]any)
	rl := rts["rl"].(map[string]any)
	if p, _ := rl["path"].(string); !filepath.IsAbs(p) || fmt.Sprint(rl["runtimeArgs"]) != "[--debug --platform=systrap]" {
		t.Errorf("installed entry %v", rl)
	}
	if fmt.Sprint(rts["other"]) != "map[path:/usr/bin/other runtimeArgs:[--x]]" || got["debug"] != true || fmt.Sprint(got["x-custom"]) != "map[deep:[1 two]]" {
		t.Errorf("other settings changed: %s", b)
	}
	if fi, _ := os.Stat(cfg); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
	e.mustCLI("uninstall", "--config-file", cfg, "--runtime", "rl")
	b, _ = os.ReadFile(cfg)
	got = nil
	json.Unmarshal(b, &got)
	if _, ok := got["runtimes"].(map[string]any)["rl"]; ok || got["x-custom"] == nil {
		t.Errorf("after uninstall: %s", b)
	}
	if r := e.cli(nil, "uninstall", "--config-file", cfg, "--runtime", "rl"); r.code == 0 {
		t.Errorf("uninstall of a missing runtime succeeded")
	}
}

// consoleListener accepts one console-socket connection and returns the
// pty master it carried.
func consoleListener(t *testing.T) (string, <-chan *os.File) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "console.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	got := make(chan *os.File, 1)
	go func() {
		c, err := l.AcceptUnix()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		buf := make([]byte, 64)
		oob := make([]byte, unix.CmsgSpace(4*4))
		n, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
		if err != nil || string(buf[:n]) != "/dev/ptmx" {
			t.Errorf("console message %q, %v", buf[:n], err)
		}
		msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
		var fds []int
		for i := range msgs {
			f, _ := unix.ParseUnixRights(&msgs[i])
			fds = append(fds, f...)
		}
		if len(fds) != 1 {
			t.Errorf("got %d fds, want 1", len(fds))
			got <- nil
			return
		}
		got <- os.NewFile(uintptr(fds[0]), "ptmx")
	}()
	return sock, got
}

func TestOCIExecTTY(t *testing.T) {
	e := newOCIEnv(t, "sleep", "1000")
	e.mustCLI("run", "-d", "c1")
	e.waitStatus("c1", "running")
	sock, got := consoleListener(t)
	pidFile := filepath.Join(t.TempDir(), "exec.pid")
	e.mustCLI("exec", "--tty", "--detach", "--console-socket", sock, "--pid-file", pidFile, "c1",
		"sh", "-c", `[ -t 0 ] && echo tty-ok; read x; echo got-$x`)
	master := <-got
	if master == nil {
		t.Fatal("no pty master")
	}
	defer master.Close()
	master.SetReadDeadline(time.Now().Add(20 * time.Second))
	var out bytes.Buffer
	buf := make([]byte, 256)
	readUntil := func(s string) {
		for !strings.Contains(out.String(), s) {
			n, err := master.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				break
			}
		}
	}
	readUntil("tty-ok")
	master.Write([]byte("typed\n"))
	readUntil("got-typed")
	if !strings.Contains(out.String(), "got-typed") {
		t.Errorf("terminal output %q", out.String())
	}
	data, _ := os.ReadFile(pidFile)
	pid, _ := strconv.Atoi(string(data))
	waitPidGone(t, pid)
	e.mustCLI("delete", "--force", "c1")
}

// TestOCIInheritedFD: an FD the caller leaks (containerd's shim leaks its
// ttrpc socket as FD 3) reaches no process of the sandbox.
func TestOCIInheritedFD(t *testing.T) {
	e := newOCIEnv(t, "sleep", "1000")
	leak, err := os.Create(filepath.Join(t.TempDir(), "leaked"))
	if err != nil {
		t.Fatal(err)
	}
	defer leak.Close()
	out, _ := os.Create(filepath.Join(t.TempDir(), "out"))
	defer out.Close()
	cmd := exec.Command(realBin, "--root", e.root, "create", "--bundle", e.bundle, "c1")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.ExtraFiles = []*os.File{leak} // FD 3
	if err := cmd.Run(); err != nil {
		b, _ := os.ReadFile(out.Name())
		t.Fatalf("create: %v %s", err, b)
	}
	st := e.state("c1")
	pids := []int{st.Pid}
	var ps []int
	json.Unmarshal([]byte(e.mustCLI("ps", "--format", "json", "c1").stdout), &ps)
	pids = append(pids, ps...)
	for _, pid := range pids {
		ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		for _, ent := range ents {
			if l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, ent.Name())); l == leak.Name() {
				t.Errorf("pid %d has the leaked FD as %s", pid, ent.Name())
			}
		}
	}
	e.mustCLI("delete", "--force", "c1")
	e.assertNothingLeft()
}

func TestOCIProcessAttributes(t *testing.T) {
	e := newOCIEnv(t, "sh", "-c", `ulimit -n; id -u; id -G; hostname; grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status`)
	caps := []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"}
	e.spec.Process.User = specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{10, 20}}
	e.spec.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 123, Hard: 456}}
	e.spec.Process.Capabilities = &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps}
	e.spec.Process.NoNewPrivileges = true
	e.spec.Hostname = "attrs"
	adj := 500
	e.spec.Process.OOMScoreAdj = &adj
	e.spec.Annotations = map[string]string{"org.example.key": "value"}
	e.writeSpec()
	e.mustCLI("create", "c1")
	st := e.state("c1")
	if st.Annotations["org.example.key"] != "value" {
		t.Errorf("annotations %v", st.Annotations)
	}
	if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/oom_score_adj", st.Pid)); strings.TrimSpace(string(b)) != "500" {
		t.Errorf("sentry oom_score_adj %q", b)
	}
	e.mustCLI("delete", "c1")
	r := e.cli(nil, "run", "c2")
	// grep is exec'd by a non-root user without ambient capabilities: as
	// with runc, execve leaves its effective set empty (capabilities(7));
	// the bounding set is the spec's.
	want := "123\n1000\n1000 10 20\nattrs\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000420\nNoNewPrivs:\t1\n"
	if r.code != 0 || r.stdout != want {
		t.Errorf("exit %d, stdout %q, want %q (stderr %q)", r.code, r.stdout, want, r.stderr)
	}
	e.assertNothingLeft()
}

// TestOCIJoinNetNS: a network namespace path in the bundle is joined.
func TestOCIJoinNetNS(t *testing.T) {
	e := newOCIEnv(t, "sleep", "1000")
	holder := exec.Command("unshare", "--net", "sleep", "1000")
	if err := holder.Start(); err != nil {
		t.Skipf("unshare: %v", err)
	}
	defer func() { holder.Process.Kill(); holder.Wait() }()
	nsPath := fmt.Sprintf("/proc/%d/ns/net", holder.Process.Pid)
	var want string
	deadline := time.Now().Add(10 * time.Second)
	self, _ := os.Readlink("/proc/self/ns/net")
	for {
		want, _ = os.Readlink(nsPath)
		if want != "" && want != self {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("unshare did not make a network namespace")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i, ns := range e.spec.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace {
			e.spec.Linux.Namespaces[i].Path = nsPath
		}
	}
	e.writeSpec()
	e.mustCLI("create", "c1")
	st := e.state("c1")
	if got, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", st.Pid)); got != want {
		t.Errorf("sandbox netns %q, want the bundle's %q", got, want)
	}
	e.mustCLI("delete", "c1")
	// The global --network overrides the bundle.
	for _, c := range []struct{ mode, want string }{{"host", self}, {"none", ""}} {
		e.mustCLI("--network", c.mode, "create", "c2")
		got, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", e.state("c2").Pid))
		if c.want != "" && got != c.want || c.want == "" && (got == self || got == want) {
			t.Errorf("--network %s: sandbox netns %q (host %q, bundle %q)", c.mode, got, self, want)
		}
		e.mustCLI("delete", "c2")
	}
	e.assertNothingLeft()
}

// TestOCIKillPaused: a signal to a paused container is delivered once it
// resumes (Docker stops a paused container that way).
func TestOCIKillPaused(t *testing.T) {
	e := newOCIEnv(t, "sh", "-c", `trap "exit 7" TERM; echo up > /shared/up; while :; do sleep 0.05; done`)
	shared := e.bindDir("/shared", false)
	e.mustCLI("run", "-d", "c1")
	waitFile(t, filepath.Join(shared, "up"))
	e.mustCLI("pause", "c1")
	e.mustCLI("kill", "c1", "15")
	if s := e.state("c1").Status; s != "paused" {
		t.Errorf("status %s after kill of a paused container", s)
	}
	e.mustCLI("resume", "c1")
	e.waitStatus("c1", "stopped")
	if r := e.mustCLI("wait", "c1"); strings.TrimSpace(r.stdout) != "7" {
		t.Errorf("status %q, want 7", r.stdout)
	}
	e.mustCLI("delete", "c1")
	e.assertNothingLeft()
}

// TestOCIPausedSignals: a paused container runs nothing, whatever it is
// sent, and gets the signals when it resumes, as runc's frozen processes
// get theirs on thaw: any signal (not only those a sentry can take from
// the host), to init or with --all to every process, a standard signal
// once however often it was sent. Docker's kill of a paused container is
// kill, then resume; its stop is kill 15, then kill 9.
func TestOCIPausedSignals(t *testing.T) {
	e := newOCIEnv(t, "sh", "-c", `for s in USR1 USR2 ALRM; do trap "echo got $s" $s; done; echo up; while :; do sleep 0.1; done`)
	outPath := filepath.Join(t.TempDir(), "stdout")
	out, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	create := e.command("create", "c1")
	create.Stdout, create.Stderr = out, out
	if err := create.Run(); err != nil {
		b, _ := os.ReadFile(outPath)
		t.Fatalf("create: %v: %q", err, b)
	}
	e.mustCLI("start", "c1")
	output := func() string {
		b, err := os.ReadFile(outPath)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	waitOutput := func(want ...string) string {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			got, all := output(), true
			for _, w := range want {
				all = all && strings.Contains(got, w)
			}
			if all {
				return got
			}
			if time.Now().After(deadline) {
				t.Fatalf("output %q, want %q", got, want)
			}
		}
	}
	waitOutput("up\n") // the traps are set

	e.mustCLI("pause", "c1")
	for _, k := range [][]string{{"c1", "USR1"}, {"c1", "10"}, {"c1", "SIGALRM"}, {"--all", "c1", "USR2"}} {
		e.mustCLI(append([]string{"kill"}, k...)...)
	}
	if s := e.state("c1").Status; s != "paused" {
		t.Errorf("status %s after kill of a paused container, want paused", s)
	}
	// What runs while paused would print: look for a second (a check of
	// what is printed, not of how fast).
	for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if got := output(); got != "up\n" {
			t.Fatalf("a paused container printed %q", strings.TrimPrefix(got, "up\n"))
		}
	}
	if s := e.state("c1").Status; s != "paused" {
		t.Errorf("status %s while paused", s)
	}
	e.mustCLI("resume", "c1")
	if s := e.state("c1").Status; s != "running" {
		t.Errorf("status %s after resume, want running", s)
	}
	got := waitOutput("got USR1\n", "got ALRM\n", "got USR2\n")
	if n := strings.Count(got, "got USR1"); n != 1 {
		t.Errorf("USR1 sent twice while paused ran its trap %d times, want once: %q", n, got)
	}
	if r := e.cli(nil, "resume", "c1"); r.code == 0 {
		t.Errorf("resume of a running container succeeded")
	}

	// docker stop of a paused container: TERM (which init without a
	// handler does not take), then KILL, still paused.
	e.mustCLI("pause", "c1")
	e.mustCLI("kill", "c1", "15")
	if s := e.state("c1").Status; s != "paused" {
		t.Errorf("status %s after kill 15 of a paused container, want paused", s)
	}
	e.mustCLI("kill", "c1", "9")
	e.waitStatus("c1", "stopped")
	if r := e.mustCLI("wait", "c1"); strings.TrimSpace(r.stdout) != "137" {
		t.Errorf("wait after kill 9: %q, want 137", r.stdout)
	}
	e.mustCLI("delete", "c1")
	e.assertNothingLeft()
}

// TestOCIPidsLimit: linux.resources.pids bounds the guest's tasks in the
// sentry (fork fails with EAGAIN) without starving the sandbox's own
// threads; the host cgroup gets room for them.
func TestOCIPidsLimit(t *testing.T) {
	e := newOCIEnv(t, "sh", "-c", `for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40; do sleep 2 & done; echo all-forked`)
	limit := int64(16)
	e.spec.Linux.Resources = &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: &limit}}
	e.writeSpec()
	r := e.cli(nil, "run", "c1")
	if strings.Contains(r.stdout, "all-forked") || !strings.Contains(r.stderr, "can't fork") || strings.Contains(r.stderr, "fatal error") {
		t.Errorf("40 processes under a limit of 16: exit %d, stdout %q, stderr %.300q", r.code, r.stdout, r.stderr)
	}
	e.spec.Process.Args = []string{"sh", "-c", `for i in 1 2 3 4 5 6 7 8 9 10; do sleep 0.2 & done; wait; echo ten-ok`}
	e.writeSpec()
	if r := e.cli(nil, "run", "c2"); r.code != 0 || r.stdout != "ten-ok\n" {
		t.Errorf("10 processes under a limit of 16: exit %d, stdout %q, stderr %.300q", r.code, r.stdout, r.stderr)
	}
	// update raises the limit of a running container.
	e.spec.Process.Args = []string{"sleep", "1000"}
	e.writeSpec()
	e.mustCLI("run", "-d", "c3")
	e.waitStatus("c3", "running")
	thirty := `for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30; do sleep 0.2 & done; wait; echo thirty-ok`
	if r := e.cli(nil, "exec", "c3", "sh", "-c", thirty); strings.Contains(r.stdout, "thirty-ok") {
		t.Errorf("30 processes ran under a limit of 16")
	}
	if r := e.cli(bytes.NewBufferString(`{"pids":{"limit":64}}`), "update", "--resources", "-", "c3"); r.code != 0 {
		t.Fatalf("update: %d %q", r.code, r.stderr)
	}
	if r := e.cli(nil, "exec", "c3", "sh", "-c", thirty); r.stdout != "thirty-ok\n" {
		t.Errorf("30 processes after raising the limit to 64: exit %d, stdout %q, stderr %.300q", r.code, r.stdout, r.stderr)
	}
	e.mustCLI("delete", "--force", "c3")
	e.assertNothingLeft()
}

// TestOCIExecProxyKilled: killing the pid-file process of a detached exec
// (as containerd's shim does) ends the exec'd process too.
func TestOCIExecProxyKilled(t *testing.T) {
	e := newOCIEnv(t, "sleep", "1000")
	e.mustCLI("run", "-d", "c1")
	e.waitStatus("c1", "running")
	pidFile := filepath.Join(t.TempDir(), "exec.pid")
	e.mustCLI("exec", "--detach", "--pid-file", pidFile, "c1", "sleep", "999")
	data, _ := os.ReadFile(pidFile)
	pid, err := strconv.Atoi(string(data))
	if err != nil {
		t.Fatalf("pid file %q", data)
	}
	running := func() bool {
		return strings.Contains(e.mustCLI("exec", "c1", "ps").stdout, "sleep 999")
	}
	if !running() {
		t.Fatal("the exec'd process is not running")
	}
	unix.Kill(pid, unix.SIGKILL)
	deadline := time.Now().Add(20 * time.Second)
	for running() {
		if time.Now().After(deadline) {
			t.Fatal("the exec'd process outlived its proxy")
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.mustCLI("delete", "--force", "c1")
}
