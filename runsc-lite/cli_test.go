package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/test/e2e"
)

// Binaries built by TestMain: the real CLI, and a test build whose sentry
// runs the guest natively (fakesentry.go) so that the launcher can be
// tested before and independently of the kernel.
var (
	realBin string
	fakeBin string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "runsc-lite-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	realBin = filepath.Join(dir, "runsc-lite")
	fakeBin = filepath.Join(dir, "runsc-lite-fakesentry")
	for _, b := range []struct{ out, tags string }{{realBin, ""}, {fakeBin, "runsc_lite_fakesentry"}} {
		cmd := exec.Command("go", "build", "-tags", b.tags, "-o", b.out, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building %s: %v\n%s", b.out, err, out)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (namespaces)")
	}
}

// requireRealSentry marks a test that runs guest code in the real sentry.
func requireRealSentry(t *testing.T) {
	t.Helper()
	requireRoot(t)
}

// mountInfo returns our mount table, one line per mount.
func mountInfo(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" {
			m[l] = true
		}
	}
	return m
}

// sessionProcs lists the live processes of session sid (zombies are dead:
// after a SIGKILL of the CLI, the sandbox processes are reparented to init,
// which reaps them in its own time).
func sessionProcs(sid int) []string {
	ents, _ := os.ReadDir("/proc")
	var ps []string
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp session ...
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 3 && f[3] == strconv.Itoa(sid) && f[0] != "Z" {
			ps = append(ps, fmt.Sprintf("%d %s", pid, s[strings.IndexByte(s, '('):strings.LastIndexByte(s, ')')+1]))
		}
	}
	return ps
}

// run is one run of the CLI in a session of its own, with a private
// TMPDIR, so what it leaves behind can be found.
type run struct {
	t       *testing.T
	cmd     *exec.Cmd
	tmp     string
	mounts  map[string]bool
	stdout  bytes.Buffer
	stderr  bytes.Buffer
	code    int
	waitErr error
}

func newRun(t *testing.T, bin string, args ...string) *run {
	t.Helper()
	r := &run{t: t, tmp: t.TempDir(), mounts: mountInfo(t)}
	r.cmd = exec.Command(bin, args...)
	r.cmd.Env = append(os.Environ(), "TMPDIR="+r.tmp)
	r.cmd.Stdout = &r.stdout
	r.cmd.Stderr = &r.stderr
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	return r
}

func (r *run) start() {
	r.t.Helper()
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() {
		// Whatever happened, leave nothing behind for the next test.
		if r.cmd.ProcessState == nil {
			r.cmd.Process.Kill()
			r.cmd.Wait()
		}
	})
}

func (r *run) wait() *run {
	r.t.Helper()
	r.waitErr = r.cmd.Wait()
	r.code = r.cmd.ProcessState.ExitCode()
	if ws := r.cmd.ProcessState.Sys().(syscall.WaitStatus); ws.Signaled() {
		r.code = 128 + int(ws.Signal())
	}
	r.checkClean()
	return r
}

func (r *run) run() *run {
	r.t.Helper()
	r.start()
	return r.wait()
}

// checkClean asserts that the CLI left no process, mount or temporary file.
func (r *run) checkClean() {
	t := r.t
	t.Helper()
	sid := r.cmd.Process.Pid
	deadline := time.Now().Add(5 * time.Second)
	for {
		ps := sessionProcs(sid)
		if len(ps) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("processes left behind: %q", ps)
			for _, p := range ps {
				pid, _ := strconv.Atoi(strings.Fields(p)[0])
				unix.Kill(pid, unix.SIGKILL)
			}
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	var added []string
	for i := 0; i < 10; i++ {
		added = added[:0]
		for l := range mountInfo(t) {
			// test/docker's private Docker engine (another test
			// package, maybe running now) mounts under its own
			// directory; nothing of runsc-lite's lives there.
			if !r.mounts[l] && !strings.Contains(l, "/rl-docker-") {
				added = append(added, l)
			}
		}
		if len(added) == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond) // someone else's transient mount?
	}
	if len(added) > 0 {
		t.Errorf("mounts left behind: %q", added)
	}
	if ents, _ := os.ReadDir(r.tmp); len(ents) > 0 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("files left in TMPDIR: %q", names)
	}
	if ents, _ := os.ReadDir("/tmp"); len(ents) > 0 {
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), "runsc-lite-") && !strings.HasPrefix(e.Name(), "runsc-lite-cli-test-") {
				t.Errorf("/tmp/%s left behind?", e.Name())
			}
		}
	}
}

// oneErrorLine asserts that stderr is exactly one "runsc-lite: " line
// containing want.
func (r *run) oneErrorLine(want string) {
	r.t.Helper()
	s := r.stderr.String()
	if !strings.HasPrefix(s, "runsc-lite: ") || strings.Count(s, "\n") != 1 || !strings.HasSuffix(s, "\n") || !strings.Contains(s, want) {
		r.t.Errorf("stderr %q: want one line \"runsc-lite: ...%s...\"", s, want)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"do"}, "runsc-lite: do: missing command"},
		{[]string{"do", "--"}, "runsc-lite: do: missing command"},
		{[]string{"do", "--network", "host"}, "runsc-lite: do: missing command"},
		{[]string{"do", "--bogus", "true"}, "runsc-lite: do: unknown flag --bogus"},
		{[]string{"do", "--network", "bogus", "true"}, `runsc-lite: do: invalid value "bogus" for --network: must be none or host`},
		{[]string{"do", "--network=bogus", "true"}, `runsc-lite: do: invalid value "bogus" for --network`},
		{[]string{"do", "--network"}, "runsc-lite: do: flag --network needs an argument"},
		{[]string{"do", "--volume", "/nonexistent/runsc-lite-test", "true"}, "host path /nonexistent/runsc-lite-test does not exist"},
		{[]string{"do", "--volume", dir + ":rel", "true"}, "is not absolute"},
		{[]string{"do", "--cwd", "", "true"}, `runsc-lite: do: invalid value "" for --cwd: must not be empty`},
		{[]string{"do", "--cwd=", "true"}, `invalid value "" for --cwd: must not be empty`},
		{[]string{"do", "--platform", "bogus", "true"}, `invalid value "bogus" for --platform`},
		{[]string{"do", "--debug-log=", "true"}, `invalid value "" for --debug-log`},
		{[]string{"do", ""}, "empty command name"},
		{[]string{"--bogus", "do", "true"}, "runsc-lite: unknown flag --bogus"},
		{[]string{"--log-format", "xml", "do", "true"}, `runsc-lite: invalid value "xml" for --log-format: must be text or json`},
		{[]string{}, "runsc-lite: no command given"},
		{[]string{"frobnicate"}, `runsc-lite: unknown command "frobnicate"`},
		{[]string{"help", "frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"version", "extra"}, "unexpected arguments"},
		{[]string{"boot"}, "boot: internal command"},
		{[]string{"gofer"}, "gofer: internal command"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			r := newRun(t, realBin, tc.args...).run()
			if r.code != 2 {
				t.Errorf("exit code %d, want 2", r.code)
			}
			r.oneErrorLine(tc.want)
			if r.stdout.Len() != 0 {
				t.Errorf("stdout: %q", r.stdout.String())
			}
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"help"}, "Usage: runsc-lite [GLOBAL FLAGS] COMMAND"},
		{[]string{"--help"}, "Commands:"},
		{[]string{"help", "do"}, "--volume HOST[:GUEST][:ro]"},
		{[]string{"do", "--help"}, "Usage: runsc-lite do"},
		{[]string{"version"}, "runsc-lite version "},
	} {
		r := newRun(t, realBin, tc.args...).run()
		if r.code != 0 || r.stderr.Len() != 0 || !strings.Contains(r.stdout.String(), tc.want) {
			t.Errorf("%q: exit %d, stderr %q, stdout %q; want %q", tc.args, r.code, r.stderr.String(), r.stdout.String(), tc.want)
		}
	}
	r := newRun(t, realBin, "help").run()
	for _, internal := range []string{"  boot ", "  gofer "} {
		if strings.Contains(r.stdout.String(), internal) {
			t.Errorf("help lists internal command %q", internal)
		}
	}
}

func TestLogFile(t *testing.T) {
	log := filepath.Join(t.TempDir(), "log.json")
	r := newRun(t, realBin, "--log", log, "--log-format", "json", "frobnicate").run()
	if r.code != 2 {
		t.Fatalf("exit %d", r.code)
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"level":"error","msg":"unknown command \"frobnicate\"`) || !strings.Contains(string(b), `"time":"`) {
		t.Errorf("log: %s", b)
	}
}

// A failing sandbox (today: the kernel is missing) and a working one both
// leave nothing behind.
func TestDoLeavesNothing(t *testing.T) {
	requireRoot(t)
	r := newRun(t, realBin, "do", "/bin/true").run()
	if r.code != 0 {
		r.oneErrorLine("")
		if r.code != exitSetup {
			t.Errorf("exit %d", r.code)
		}
	}
}

// launchTest runs against the fake sentry always and the real one once it
// works.
func launchTest(t *testing.T, f func(t *testing.T, bin string)) {
	t.Helper()
	requireRoot(t)
	t.Run("fake-sentry", func(t *testing.T) {
		t.Parallel()
		f(t, fakeBin)
	})
	t.Run("real-sentry", func(t *testing.T) {
		t.Parallel()
		requireRealSentry(t)
		f(t, realBin)
	})
}

func TestDoExitStatus(t *testing.T) {
	launchTest(t, func(t *testing.T, bin string) {
		for _, tc := range []struct {
			args []string
			code int
		}{
			{[]string{"/bin/true"}, 0},
			{[]string{"true"}, 0},
			{[]string{"false"}, 1},
			{[]string{"sh", "-c", "exit 3"}, 3},
			{[]string{"sh", "-c", "exit 255"}, 255},
			// The command is the sandbox's init: like Linux, it ignores
			// SIGKILL/SIGTERM sent from inside its PID namespace, so the
			// signal deaths are of a child, whose status sh passes on.
			{[]string{"sh", "-c", `exec 2>/dev/null; sh -c 'kill -9 $$'`}, 137},
			{[]string{"sh", "-c", `exec 2>/dev/null; sh -c 'kill -TERM $$'`}, 143},
		} {
			r := newRun(t, bin, append([]string{"do"}, tc.args...)...).run()
			if r.code != tc.code || r.stderr.Len() != 0 {
				t.Errorf("%q: exit %d, want %d; stderr %q", tc.args, r.code, tc.code, r.stderr.String())
			}
		}
	})
}

func TestDoCommandNotFound(t *testing.T) {
	launchTest(t, func(t *testing.T, bin string) {
		r := newRun(t, bin, "do", "no-such-command-runsc-lite").run()
		if r.code != 127 {
			t.Errorf("exit %d, want 127", r.code)
		}
		r.oneErrorLine("no-such-command-runsc-lite")
		r = newRun(t, bin, "do", "/etc/passwd").run()
		if r.code != 126 {
			t.Errorf("not executable: exit %d, want 126", r.code)
		}
		r.oneErrorLine("/etc/passwd")
	})
}

func TestDoStdio(t *testing.T) {
	launchTest(t, func(t *testing.T, bin string) {
		r := newRun(t, bin, "do", "cat")
		r.cmd.Stdin = strings.NewReader("hello\nworld\n")
		r.run()
		if r.code != 0 || r.stdout.String() != "hello\nworld\n" || r.stderr.Len() != 0 {
			t.Errorf("cat: exit %d, stdout %q, stderr %q", r.code, r.stdout.String(), r.stderr.String())
		}

		r = newRun(t, bin, "do", "sh", "-c", "echo out; echo err >&2; test -t 0 || test -t 1 || echo notty")
		r.run()
		if r.code != 0 || r.stdout.String() != "out\nnotty\n" || r.stderr.String() != "err\n" {
			t.Errorf("sh: exit %d, stdout %q, stderr %q", r.code, r.stdout.String(), r.stderr.String())
		}

		// Stdio from files.
		dir := t.TempDir()
		in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
		os.WriteFile(in, []byte("from a file\n"), 0o644)
		fin, _ := os.Open(in)
		defer fin.Close()
		fout, _ := os.Create(out)
		defer fout.Close()
		r = newRun(t, bin, "do", "cat")
		r.cmd.Stdin, r.cmd.Stdout = fin, fout
		r.run()
		if b, _ := os.ReadFile(out); r.code != 0 || string(b) != "from a file\n" {
			t.Errorf("files: exit %d, out %q, stderr %q", r.code, b, r.stderr.String())
		}
	})
}

func TestDoEnvAndCwd(t *testing.T) {
	launchTest(t, func(t *testing.T, bin string) {
		dir := t.TempDir()
		r := newRun(t, bin, "do", "sh", "-c", `echo "$RUNSC_LITE_TEST_VAR"; pwd`)
		r.cmd.Env = append(r.cmd.Env, "RUNSC_LITE_TEST_VAR=a b")
		r.cmd.Dir = dir
		r.run()
		if want := "a b\n" + dir + "\n"; r.code != 0 || r.stdout.String() != want {
			t.Errorf("exit %d, stdout %q, want %q; stderr %q", r.code, r.stdout.String(), want, r.stderr.String())
		}
		r = newRun(t, bin, "do", "--cwd", "/usr", "pwd").run()
		if r.code != 0 || r.stdout.String() != "/usr\n" {
			t.Errorf("--cwd: exit %d, stdout %q, stderr %q", r.code, r.stdout.String(), r.stderr.String())
		}
	})
}

const loopbackScript = `
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
c = socket.create_connection(s.getsockname(), timeout=5)
a, _ = s.accept()
c.sendall(b"ping")
print(a.recv(4).decode())
`

func TestDoNetworkNone(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed")
	}
	launchTest(t, func(t *testing.T, bin string) {
		r := newRun(t, bin, "do", "--network", "none", "python3", "-c", loopbackScript).run()
		if r.code != 0 || r.stdout.String() != "ping\n" {
			t.Errorf("loopback: exit %d, stdout %q, stderr %q", r.code, r.stdout.String(), r.stderr.String())
		}
	})
}

func TestDoDebugLog(t *testing.T) {
	launchTest(t, func(t *testing.T, bin string) {
		dir := filepath.Join(t.TempDir(), "logs")
		r := newRun(t, bin, "--debug-log", dir, "do", "true").run()
		if r.code != 0 || r.stderr.Len() != 0 {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr.String())
		}
		do, _ := filepath.Glob(filepath.Join(dir, "*.do.log"))
		gofer, _ := filepath.Glob(filepath.Join(dir, "*.gofer.log"))
		if len(do) != 1 || len(gofer) != 1 {
			t.Errorf("logs: %q %q", do, gofer)
		}
	})
}

// TestDoDebugLogPerSandbox: sandboxes logging to one directory keep their
// sentry logs apart (each sentry is PID 1 of its namespace), named like
// their CLI's and gofer's.
func TestDoDebugLogPerSandbox(t *testing.T) {
	requireRealSentry(t)
	dir := filepath.Join(t.TempDir(), "logs")
	for i := 0; i < 2; i++ {
		if r := newRun(t, realBin, "--debug-log", dir, "do", "--strace", "true").run(); r.code != 0 {
			t.Fatalf("exit %d, stderr %q", r.code, r.stderr.String())
		}
	}
	sentry, _ := filepath.Glob(filepath.Join(dir, "*.sentry.log"))
	if len(sentry) != 2 {
		t.Fatalf("sentry logs %q, want one per sandbox", sentry)
	}
	for _, log := range sentry {
		if b, _ := os.ReadFile(log); !strings.Contains(string(b), "] exit_group(") {
			t.Errorf("%s has no strace of its guest's exit", log)
		}
		if _, err := os.Stat(strings.TrimSuffix(log, ".sentry.log") + ".gofer.log"); err != nil {
			t.Errorf("%s has no gofer log of the same name: %v", log, err)
		}
	}
}

// startReady starts a CLI whose guest prints "ready" once it runs.
func startReady(t *testing.T, bin string, script string) (*run, *bufio.Reader) {
	t.Helper()
	r := newRun(t, bin, "do", "sh", "-c", script)
	r.cmd.Stdout = nil
	pr, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	r.start()
	br := bufio.NewReader(pr)
	lineC := make(chan string, 1)
	go func() {
		l, _ := br.ReadString('\n')
		lineC <- l
	}()
	select {
	case l := <-lineC:
		if l != "ready\n" {
			r.cmd.Process.Kill()
			r.wait()
			t.Fatalf("guest said %q; stderr %q", l, r.stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("guest not ready after 30s")
	}
	return r, br
}

func TestDoForwardsSignals(t *testing.T) {
	launchTest(t, func(t *testing.T, bin string) {
		for _, sig := range []unix.Signal{unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGUSR1, unix.SIGUSR2} {
			name := unix.SignalName(sig)[3:]
			r, br := startReady(t, bin, fmt.Sprintf(`trap 'echo got %s; exit 7' %s; echo ready; while :; do sleep 0.02; done`, name, name))
			r.cmd.Process.Signal(sig)
			rest, _ := io.ReadAll(br)
			r.wait()
			if r.code != 7 || string(rest) != "got "+name+"\n" {
				t.Errorf("%v: exit %d, stdout %q, stderr %q", sig, r.code, rest, r.stderr.String())
			}
		}
		// Not trapped: the guest dies of it, with status 128+N.
		r, br := startReady(t, bin, `echo ready; exec sleep 100`)
		r.cmd.Process.Signal(unix.SIGTERM)
		io.ReadAll(br)
		r.wait()
		if r.code != 128+int(unix.SIGTERM) {
			t.Errorf("untrapped SIGTERM: exit %d, stderr %q", r.code, r.stderr.String())
		}
	})
}

func TestDoSIGKILLLeavesNothing(t *testing.T) {
	launchTest(t, func(t *testing.T, bin string) {
		r, _ := startReady(t, bin, `echo ready; sleep 100; echo never`)
		if ps := sessionProcs(r.cmd.Process.Pid); len(ps) < 3 {
			t.Errorf("expected CLI, gofer, sentry... running: %q", ps)
		}
		r.cmd.Process.Kill()
		r.wait() // checks that nothing is left
		if r.code != 128+9 {
			t.Errorf("exit %d", r.code)
		}
	})
}

// openPty returns a new pseudo-terminal's master and slave.
func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, s, err := e2e.OpenPTY()
	if err != nil {
		t.Skipf("no ptys: %v", err)
	}
	return m, s
}

// ptyRun is a CLI running on a terminal it controls, like under an
// interactive shell.
type ptyRun struct {
	*run
	master *os.File
	mu     sync.Mutex
	out    bytes.Buffer
}

func startOnPty(t *testing.T, bin string, args ...string) *ptyRun {
	t.Helper()
	master, slave := openPty(t)
	t.Cleanup(func() { master.Close() })
	p := &ptyRun{run: newRun(t, bin, args...), master: master}
	p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr = slave, slave, slave
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	p.start()
	slave.Close()
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return p
}

func (p *ptyRun) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

func (p *ptyRun) waitOutput(want string) {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(p.output(), want) {
		if time.Now().After(deadline) {
			p.t.Fatalf("no %q in the output after 30s: %q", want, p.output())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (p *ptyRun) waitExit() {
	p.t.Helper()
	done := make(chan struct{})
	go func() { p.wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-done
		p.t.Fatalf("CLI did not exit; output %q", p.output())
	}
}

// TestDoTerminal runs the CLI on a terminal it controls, like an
// interactive shell would: the guest sees a terminal and ^C interrupts it.
func TestDoTerminal(t *testing.T) {
	launchTest(t, func(t *testing.T, bin string) {
		p := startOnPty(t, bin, "do", "sh", "-c", `test -t 0 && test -t 1 && echo tty-ok; echo ready; sleep 100; echo never`)
		p.waitOutput("ready")
		// ^C until it ends: one that lands while sh is between vfork and
		// exec runs sh's handler in the child and does not reach sleep
		// (dash's race, natively too; the sandbox's slower exec widens it).
		done := make(chan struct{})
		go func() { p.wait(); close(done) }()
	interrupt:
		for i := 0; ; i++ {
			if i == 20 {
				p.cmd.Process.Kill()
				<-done
				t.Fatalf("20 ^C did not end the CLI; output %q", p.output())
			}
			p.master.Write([]byte{3}) // ^C
			select {
			case <-done:
				break interrupt
			case <-time.After(time.Second):
			}
		}
		if p.code != 130 || !strings.Contains(p.output(), "tty-ok") || strings.Contains(p.output(), "never") {
			t.Errorf("exit %d, output %q", p.code, p.output())
		}
	})
}

// TestDoTerminalIsDevPts: the host terminal the guest gets is a replica of
// the sandbox's /dev/pts, as a container's console is under runc (the
// host's own number for it means nothing inside): ttyname(3) finds it,
// stat of the entry matches fstat of the descriptor, and opening the entry
// writes to the terminal.
func TestDoTerminalIsDevPts(t *testing.T) {
	requireRealSentry(t)
	p := startOnPty(t, realBin, "do", "sh", "-c",
		`tty; ls -1 /dev/pts; stat -L -c '%d:%i:%t:%T' /proc/self/fd/0 /dev/pts/0 | uniq | wc -l; echo via-node > /dev/pts/0; echo done`)
	p.waitExit()
	want := "/dev/pts/0\r\n0\r\nptmx\r\n1\r\nvia-node\r\ndone\r\n"
	if p.code != 0 || p.output() != want {
		t.Errorf("exit %d, output %q, want %q", p.code, p.output(), want)
	}
}

// TestDoVolumeAsRoot: a guest root has root's access to a volume whose
// files belong to someone else, as root has on Linux (and in a runc
// container): it reads a private file, creates in a directory it does not
// own, changes modes and owners, and removes. With directfs the sentry
// opens those host files itself, so this needs its file capabilities.
func TestDoVolumeAsRoot(t *testing.T) {
	requireRealSentry(t)
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	for _, directfs := range []bool{true, false} {
		t.Run(fmt.Sprintf("directfs=%v", directfs), func(t *testing.T) {
			vol := t.TempDir()
			sub := filepath.Join(vol, "owned")
			if err := os.Mkdir(sub, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(sub, "private"), []byte("secret\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{sub, filepath.Join(sub, "private")} {
				if err := os.Chown(p, 1000, 1000); err != nil {
					t.Fatal(err)
				}
			}
			script := `cat /v/owned/private && echo made > /v/owned/new && chmod 640 /v/owned/private &&
chown 1001:1001 /v/owned/new && rm /v/owned/private && ls /v/owned`
			r := newRun(t, realBin, "do", fmt.Sprintf("--directfs=%v", directfs), "--volume", vol+":/v", "sh", "-c", script).run()
			if r.code != 0 || r.stdout.String() != "secret\nnew\n" {
				t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout.String(), r.stderr.String())
			}
			var st unix.Stat_t
			if err := unix.Stat(filepath.Join(sub, "new"), &st); err != nil || st.Uid != 1001 || st.Gid != 1001 {
				t.Errorf("the new file on the host: %+v %v, want owner 1001:1001", st, err)
			}
		})
	}
}

// TestDoVolumeAsUser: the sentry's file capabilities are its own, not a
// guest's: a guest user gets exactly a user's access to a volume, as on
// Linux.
func TestDoVolumeAsUser(t *testing.T) {
	requireRealSentry(t)
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("needs python3")
	}
	vol := t.TempDir()
	// Natively the user must reach it.
	os.Chmod(vol, 0o755)
	os.Chmod(filepath.Dir(vol), 0o755)
	files := []struct {
		name string
		mode os.FileMode
		uid  int
	}{{"mine", 0o600, 1000}, {"theirs", 0o600, 1001}, {"theirdir", 0o755 | os.ModeDir, 1001}, {"shared", 0o644, 1001}}
	for _, f := range files {
		p := filepath.Join(vol, f.name)
		var err error
		if f.mode.IsDir() {
			err = os.Mkdir(p, f.mode.Perm())
		} else {
			err = os.WriteFile(p, []byte(f.name+"\n"), f.mode.Perm())
		}
		if err == nil {
			err = os.Chown(p, f.uid, f.uid)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	script := `
import os
os.setgroups([]); os.setgid(1000); os.setuid(1000)
def try_(what, fn):
    try:
        fn(); print(what, "ok")
    except OSError as e:
        print(what, e.strerror)
try_("read mine", lambda: open("/v/mine").read())
try_("read theirs", lambda: open("/v/theirs").read())
try_("write shared", lambda: open("/v/shared", "a"))
try_("read shared", lambda: open("/v/shared").read())
try_("create in theirdir", lambda: open("/v/theirdir/x", "w"))
try_("chmod theirs", lambda: os.chmod("/v/theirs", 0o666))
try_("unlink in theirdir", lambda: os.unlink("/v/theirdir/none"))
try_("rename theirs", lambda: os.rename("/v/theirs", "/v/theirdir/moved"))
`
	// Linux's answers, checked natively below.
	const want = "read mine ok\nread theirs Permission denied\nwrite shared Permission denied\nread shared ok\n" +
		"create in theirdir Permission denied\nchmod theirs Operation not permitted\n" +
		"unlink in theirdir No such file or directory\nrename theirs Permission denied\n"
	out, err := exec.Command("python3", "-c", strings.ReplaceAll(script, "/v/", vol+"/")).Output()
	if err != nil || string(out) != want {
		t.Errorf("natively: %v, %q, want %q", err, out, want)
	}
	for _, directfs := range []bool{true, false} {
		r := newRun(t, realBin, "do", fmt.Sprintf("--directfs=%v", directfs), "--volume", vol+":/v", "python3", "-c", script).run()
		if r.code != 0 || r.stdout.String() != want {
			t.Errorf("directfs=%v: exit %d, stdout %q, want %q (stderr %q)", directfs, r.code, r.stdout.String(), want, r.stderr.String())
		}
	}
}

// Real-kernel-only behaviour: the sandbox's file system view.
func TestDoFileSystem(t *testing.T) {
	requireRealSentry(t)
	hostFile := filepath.Join(t.TempDir(), "written-in-sandbox")
	r := newRun(t, realBin, "do", "sh", "-c", "echo x > "+hostFile+" && cat "+hostFile).run()
	if r.code != 0 || r.stdout.String() != "x\n" {
		t.Errorf("write to overlay: exit %d, stdout %q, stderr %q", r.code, r.stdout.String(), r.stderr.String())
	}
	if _, err := os.Stat(hostFile); err == nil {
		t.Errorf("a write in the sandbox reached the host: %s", hostFile)
	}

	vol := t.TempDir()
	os.WriteFile(filepath.Join(vol, "f"), []byte("volume data\n"), 0o644)
	r = newRun(t, realBin, "do", "--volume", vol+":/mnt/vol:ro", "sh", "-c", "cat /mnt/vol/f; echo y > /mnt/vol/g || echo ro").run()
	if r.code != 0 || !strings.HasPrefix(r.stdout.String(), "volume data\n") || !strings.HasSuffix(r.stdout.String(), "ro\n") {
		t.Errorf("read-only volume: exit %d, stdout %q, stderr %q", r.code, r.stdout.String(), r.stderr.String())
	}
	if _, err := os.Stat(filepath.Join(vol, "g")); err == nil {
		t.Error("write to a read-only volume reached the host")
	}
}

// TestDoMoveImageDirectory: a directory from the image (the host's root,
// below the overlay) too large to copy up in one rename gives EXDEV, as on
// Docker's overlay2, and mv moves it by copying; the host keeps it.
func TestDoMoveImageDirectory(t *testing.T) {
	requireRealSentry(t)
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed")
	}
	dir := filepath.Join(t.TempDir(), "tree")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	const files = 1100 // more than a rename copies up
	for i := 0; i < files; i++ {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%04d", i)), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := `python3 -c 'import os, sys
try:
    os.rename(sys.argv[1], sys.argv[1] + ".renamed")
except OSError as e:
    print("rename:", e.errno)' "$1" && mv "$1" "$1.moved" && ls "$1.moved" | wc -l && test ! -e "$1" && echo gone`
	r := newRun(t, realBin, "do", "sh", "-c", script, "sh", dir).run()
	if want := fmt.Sprintf("rename: %d\n%d\ngone\n", unix.EXDEV, files); r.code != 0 || r.stdout.String() != want {
		t.Fatalf("exit %d, stdout %q (want %q), stderr %q", r.code, r.stdout.String(), want, r.stderr.String())
	}
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) != files {
		t.Errorf("the host's directory after the sandbox moved it: %d entries, %v; want %d", len(ents), err, files)
	}
}
