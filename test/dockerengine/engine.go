// Package dockerengine runs a private Docker engine (containerd and
// dockerd with their own data root, sockets and exec root under one
// temporary directory, never the machine's defaults) with runsc-lite
// registered as a runtime, for the Docker tests (test/docker) and the
// benchmarks (bench). Only one engine may run on a machine at a time: they
// share the docker0 bridge and iptables chains.
package dockerengine

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Engine is a private containerd and dockerd: their own data root, sockets
// and exec root under one temporary directory, never the machine's
// defaults.
type Engine struct {
	Dir        string // everything of the engine lives here
	Bin        string // the runsc-lite binary registered
	Docker     string // the docker CLI
	containerd *exec.Cmd
	dockerd    *exec.Cmd
	logs       *os.File
}

// Image is the busybox image Start imports.
const Image = "rlbb:latest"

// RuntimeName is the name runsc-lite is registered under.
const RuntimeName = "runsc-lite"

// Path returns the path of name in the engine's directory.
func (e *Engine) Path(name string) string { return filepath.Join(e.Dir, name) }

// Start starts containerd and dockerd, imports the busybox image and
// registers runsc-lite with `runsc-lite install` and a SIGHUP. The daemons
// get SIGTERM if the calling thread dies first (a test binary that timed
// out), so that no engine outlives its user.
func Start(bin string) (e *Engine, err error) {
	for _, tool := range []string{"dockerd", "containerd", "busybox"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("%s is not installed (make deps installs docker.io and busybox-static)", tool)
		}
	}
	dir, err := os.MkdirTemp("", "rl-docker-")
	if err != nil {
		return nil, err
	}
	eng := &Engine{Dir: dir, Bin: bin, Docker: dockerCLI()}
	e = eng
	defer func() {
		if err != nil {
			eng.Stop() // e is nil by now
		}
	}()
	if e.logs, err = os.Create(e.Path("engine.log")); err != nil {
		return nil, err
	}
	if err := e.startContainerd(); err != nil {
		return nil, err
	}
	if err := os.WriteFile(e.Path("daemon.json"), []byte("{}\n"), 0o644); err != nil {
		return nil, err
	}
	e.dockerd = exec.Command("dockerd",
		"--config-file", e.Path("daemon.json"),
		"--data-root", e.Path("data"),
		"--exec-root", e.Path("exec"),
		"--pidfile", e.Path("dockerd.pid"),
		"-H", "unix://"+e.Path("docker.sock"),
		"--containerd", e.Path("containerd.sock"))
	e.dockerd.Stdout, e.dockerd.Stderr = e.logs, e.logs
	e.dockerd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGTERM}
	if err := e.dockerd.Start(); err != nil {
		return nil, fmt.Errorf("dockerd: %w", err)
	}
	if err := e.waitReady(); err != nil {
		return nil, err
	}
	// Register the runtime the way a user would, then reload dockerd.
	if out, err := exec.Command(bin, "install", "--runtime", RuntimeName, "--config-file", e.Path("daemon.json")).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("runsc-lite install: %v: %s", err, out)
	}
	if err := e.dockerd.Process.Signal(syscall.SIGHUP); err != nil {
		return nil, err
	}
	if err := e.waitRuntime(); err != nil {
		return nil, err
	}
	if err := e.importImage(); err != nil {
		return nil, err
	}
	return e, nil
}

// dockerCLI prefers Debian's client, which matches the daemon.
func dockerCLI() string {
	if _, err := os.Stat("/usr/bin/docker"); err == nil {
		return "/usr/bin/docker"
	}
	return "docker"
}

func (e *Engine) startContainerd() error {
	conf := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = %q
[ttrpc]
  address = %q
`, e.Path("containerd/root"), e.Path("containerd/state"), e.Path("containerd.sock"), e.Path("containerd.sock.ttrpc"))
	if err := os.WriteFile(e.Path("containerd.toml"), []byte(conf), 0o644); err != nil {
		return err
	}
	e.containerd = exec.Command("containerd", "--config", e.Path("containerd.toml"))
	e.containerd.Stdout, e.containerd.Stderr = e.logs, e.logs
	e.containerd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGTERM}
	if err := e.containerd.Start(); err != nil {
		return fmt.Errorf("containerd: %w", err)
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(e.Path("containerd.sock")); err == nil {
			return nil
		}
	}
	return fmt.Errorf("containerd did not start; log:\n%s", e.Log())
}

func (e *Engine) waitReady() error {
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if _, _, err := e.Run("version"); err == nil {
			return nil
		}
	}
	return fmt.Errorf("dockerd did not start; log:\n%s", e.Log())
}

// waitRuntime waits until dockerd has reloaded daemon.json with the runtime.
func (e *Engine) waitRuntime() error {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		out, _, err := e.Run("info", "--format", "{{json .Runtimes}}")
		if err == nil && strings.Contains(out, `"`+RuntimeName+`"`) {
			return nil
		}
	}
	return fmt.Errorf("dockerd did not pick up the %s runtime after SIGHUP; daemon.json:\n%s", RuntimeName, readFile(e.Path("daemon.json")))
}

// importImage builds a busybox root file system and imports it.
func (e *Engine) importImage() error {
	root := e.Path("image")
	for _, d := range []string{"bin", "etc", "tmp", "root", "www"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return err
		}
	}
	os.Chmod(filepath.Join(root, "tmp"), 0o1777)
	bb, err := exec.LookPath("busybox")
	if err != nil {
		return err
	}
	data, err := os.ReadFile(bb)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(root, "bin/busybox"), data, 0o755); err != nil {
		return err
	}
	out, err := exec.Command(bb, "--list").Output()
	if err != nil {
		return fmt.Errorf("busybox --list: %w", err)
	}
	for _, applet := range strings.Fields(string(out)) {
		if applet != "busybox" {
			os.Symlink("busybox", filepath.Join(root, "bin", applet))
		}
	}
	files := map[string]string{
		"etc/passwd":     "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n",
		"etc/group":      "root:x:0:\nnogroup:x:65534:\n",
		"www/index.html": "hello from runsc-lite\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	tarball := e.Path("image.tar")
	if out, err := exec.Command("tar", "-C", root, "-cf", tarball, ".").CombinedOutput(); err != nil {
		return fmt.Errorf("tar: %v: %s", err, out)
	}
	if _, stderr, err := e.Run("import", "-c", `CMD ["/bin/sh"]`, "-c", "ENV PATH=/bin", tarball, Image); err != nil {
		return fmt.Errorf("docker import: %v: %s", err, stderr)
	}
	return nil
}

// Run runs the docker CLI against the private engine and returns its stdout
// and stderr.
func (e *Engine) Run(args ...string) (string, string, error) {
	return e.RunInput(nil, args...)
}

// RunInput is Run with stdin.
func (e *Engine) RunInput(stdin []byte, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.Docker, append([]string{"-H", "unix://" + e.Path("docker.sock")}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// Log returns the end of the daemons' log.
func (e *Engine) Log() string { return tailString(readFile(e.Path("engine.log")), 40) }

func readFile(name string) string {
	b, _ := os.ReadFile(name)
	return string(b)
}

func tailString(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Stop removes every container, stops the daemons and removes the
// engine's directory (unmounting what the daemons left mounted in it).
func (e *Engine) Stop() {
	if e.dockerd != nil && e.dockerd.Process != nil {
		if out, _, err := e.Run("ps", "-aq"); err == nil && strings.TrimSpace(out) != "" {
			e.Run(append([]string{"rm", "-f"}, strings.Fields(out)...)...)
		}
		e.dockerd.Process.Signal(syscall.SIGTERM)
		waitOrKill(e.dockerd, 20*time.Second)
	}
	if e.containerd != nil && e.containerd.Process != nil {
		e.containerd.Process.Signal(syscall.SIGTERM)
		waitOrKill(e.containerd, 10*time.Second)
	}
	if e.logs != nil {
		e.logs.Close()
	}
	for _, m := range mountsUnder(e.Dir) {
		unix.Unmount(m, unix.MNT_DETACH)
	}
	os.RemoveAll(e.Dir)
}

func waitOrKill(cmd *exec.Cmd, d time.Duration) {
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		cmd.Process.Kill()
		<-done
	}
}

// mountsUnder returns the mount points under dir, deepest first.
func mountsUnder(dir string) []string {
	var ms []string
	for _, line := range strings.Split(readFile("/proc/self/mountinfo"), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			ms = append(ms, f[4])
		}
	}
	for i, j := 0, len(ms)-1; i < j; i, j = i+1, j-1 {
		ms[i], ms[j] = ms[j], ms[i]
	}
	return ms
}

// Inspect returns one field of docker inspect for a container.
func (e *Engine) Inspect(id, format string) string {
	out, _, _ := e.Run("inspect", "--format", format, id)
	return strings.TrimSpace(out)
}
