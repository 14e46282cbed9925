// Package docker tests runsc-lite as Docker's runtime: a private containerd
// and dockerd, runsc-lite registered in their daemon.json with
// `runsc-lite install`, and the real docker CLI.
package docker

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/runsc-lite/runsc-lite/test/dockerengine"
	"github.com/runsc-lite/runsc-lite/test/e2e"
)

// eng is the engine the tests share (started by TestMain).
var eng *dockerengine.Engine

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	bin := os.Getenv("RUNSC_LITE_BINARY")
	if bin == "" || os.Geteuid() != 0 {
		fmt.Println("skipping the Docker tests: they need root and RUNSC_LITE_BINARY (make test)")
		return 0
	}
	var err error
	if eng, err = dockerengine.Start(bin); err != nil {
		fmt.Fprintf(os.Stderr, "starting a private Docker engine: %v\n", err)
		return 1
	}
	defer eng.Stop()
	return m.Run()
}

// docker runs the docker CLI, failing the test on an error.
func docker(t *testing.T, args ...string) string {
	t.Helper()
	out, stderr, err := eng.Run(args...)
	if err != nil {
		t.Fatalf("docker %v: %v\nstdout: %s\nstderr: %s\nengine log:\n%s", args, err, out, stderr, eng.Log())
	}
	return out
}

// rrun is `docker run --rm --runtime runsc-lite ARGS`.
func rrun(args ...string) []string {
	return append([]string{"run", "--rm", "--runtime", runtimeName}, args...)
}

func TestSmoke(t *testing.T) {
	if got := docker(t, rrun(image, "echo", "hello")...); got != "hello\n" {
		t.Fatalf("got %q", got)
	}
}

func TestRunExitStatusAndStreams(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		stdout     string
		stderr     string
		exitStatus int
	}{
		{"ok", []string{"true"}, "", "", 0},
		{"status", []string{"sh", "-c", "exit 3"}, "", "", 3},
		// (init itself ignores SIGKILL sent from inside its namespace)
		{"killed", []string{"sh", "-c", "sh -c 'kill -9 $$'; exit $?"}, "", "", 137},
		{"init ignores kill", []string{"sh", "-c", "kill -9 $$; echo alive"}, "alive\n", "", 0},
		{"not executable", []string{"/etc/passwd"}, "", "", 126},
		{"not found", []string{"/nonexistent"}, "", "", 127},
		{"streams apart", []string{"sh", "-c", "echo out; echo err >&2; echo out2"}, "out\nout2\n", "err\n", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, err := eng.Run(rrun(append([]string{image}, tc.args...)...)...)
			if code := exitCode(err); code != tc.exitStatus {
				t.Fatalf("exit status %d, want %d (stderr %q)", code, tc.exitStatus, stderr)
			}
			if out != tc.stdout {
				t.Errorf("stdout %q, want %q", out, tc.stdout)
			}
			if tc.exitStatus < 126 && stderr != tc.stderr {
				t.Errorf("stderr %q, want %q", stderr, tc.stderr)
			}
		})
	}
}

func TestRunOptions(t *testing.T) {
	host := t.TempDir()
	if err := os.WriteFile(host+"/in", []byte("from host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hostFile := filepath.Join(t.TempDir(), "app.conf")
	if err := os.WriteFile(hostFile, []byte("setting=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ro := t.TempDir()
	if err := os.WriteFile(ro+"/f", []byte("read only\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		args  []string
		stdin string
		want  string
	}{
		{"stdin", []string{"-i", image, "sh", "-c", "tr a-z A-Z"}, "hello\n", "HELLO\n"},
		{"env", []string{"-e", "FOO=bar baz", image, "sh", "-c", `echo "$FOO"`}, "", "bar baz\n"},
		{"workdir", []string{"-w", "/tmp/work", image, "pwd"}, "", "/tmp/work\n"},
		{"user", []string{"--user", "65534:65534", image, "sh", "-c", "id -u; id -g"}, "", "65534\n65534\n"},
		{"hostname", []string{"--hostname", "sandboxed", image, "hostname"}, "", "sandboxed\n"},
		{"domainname", []string{"--domainname", "example.org", image, "cat", "/proc/sys/kernel/domainname"}, "", "example.org\n"},
		{"ipc sysctl", []string{"--sysctl", "kernel.shmmax=1048576", "--sysctl", "kernel.msgmnb=65536", image, "cat", "/proc/sys/kernel/shmmax", "/proc/sys/kernel/msgmnb"}, "", "1048576\n65536\n"},
		{"read-only root", []string{"--read-only", image, "sh", "-c", "touch /x 2>/dev/null && echo wrote || echo refused"}, "", "refused\n"},
		{"tmpfs", []string{"--read-only", "--tmpfs", "/scratch", image, "sh", "-c", "echo hi > /scratch/f && cat /scratch/f && grep -c ' /scratch tmpfs' /proc/mounts"}, "", "hi\n1\n"},
		{"volume read-write", []string{"-v", host + ":/data", image, "sh", "-c", "cat /data/in; echo from container > /data/out"}, "", "from host\n"},
		{"volume read-only", []string{"-v", ro + ":/data:ro", image, "sh", "-c", "cat /data/f; echo x > /data/f 2>/dev/null && echo wrote || echo refused"}, "", "read only\nrefused\n"},
		{"file volume", []string{"-v", hostFile + ":/etc/app.conf", image, "sh", "-c", "cat /etc/app.conf; echo setting=2 >> /etc/app.conf"}, "", "setting=1\n"},
		{"file volume read-only", []string{"-v", hostFile + ":/etc/app.conf:ro", image, "sh", "-c", "echo x >> /etc/app.conf || echo refused"}, "", "refused\n"},
		{"root writes stay inside", []string{image, "sh", "-c", "echo x > /etc/passwd && echo written"}, "", "written\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdin []byte
			if tc.stdin != "" {
				stdin = []byte(tc.stdin)
			}
			out, stderr, err := eng.RunInput(stdin, rrun(tc.args...)...)
			if err != nil {
				t.Fatalf("%v: %v\nstderr: %s", tc.args, err, stderr)
			}
			if out != tc.want {
				t.Errorf("got %q, want %q (stderr %q)", out, tc.want, stderr)
			}
		})
	}
	if got := readFile(host + "/out"); got != "from container\n" {
		t.Errorf("a write to the read-write volume did not reach the host: %q", got)
	}
	if got := readFile(hostFile); got != "setting=1\nsetting=2\n" {
		t.Errorf("a write to the read-write file volume did not reach the host: %q", got)
	}
	if got := readFile(ro + "/f"); got != "read only\n" {
		t.Errorf("the read-only volume changed on the host: %q", got)
	}
	if got := readFile(eng.Path("image/etc/passwd")); !strings.HasPrefix(got, "root:x:0:0") {
		t.Errorf("the image's /etc/passwd changed: %q", got)
	}
}

// TestRunTerminal is `docker run -it` from a terminal: the shell's prompt,
// the terminal's size in the container, a resize, and the exit status.
func TestRunTerminal(t *testing.T) {
	master, slave, err := e2e.OpenPTY()
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	defer master.Close()
	term := e2e.NewTerminal(master)
	if err := term.Resize(24, 80); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(eng.Docker, append([]string{"-H", "unix://" + eng.Path("docker.sock")}, rrun("-it", image, "sh")...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	var waitErr error
	done := make(chan struct{})
	go func() { waitErr = cmd.Wait(); close(done) }()
	defer func() {
		select {
		case <-done:
		default:
			cmd.Process.Kill()
			<-done
		}
	}()

	term.WaitOutput(t, "/ # ", time.Minute)
	for _, step := range []struct{ typed, want string }{
		{"tty; stty size\n", "/dev/pts/0\r\n24 80\r\n"},
		{"echo $((6*7))\n", "\r\n42\r\n"},
	} {
		term.Skip()
		term.Type(t, step.typed)
		term.WaitOutput(t, step.want, 30*time.Second)
	}
	// docker passes the new size on to the container's terminal.
	if err := term.Resize(40, 100); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		term.Skip()
		term.Type(t, "stty size\n")
		time.Sleep(200 * time.Millisecond)
		if strings.Contains(term.Output(), "\r\n40 100\r\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a resize to 40x100 the container's terminal shows %q", term.Output())
		}
	}
	term.Type(t, "exit 7\n")
	select {
	case <-done:
		if code := exitCode(waitErr); code != 7 {
			t.Errorf("docker run -it exited %d, want 7", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("docker run -it did not end after exit; terminal: %q", term.Output())
	}
}
