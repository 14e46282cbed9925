// Package fuzz runs a random system call fuzzer (testdata/syscallfuzz.c)
// and regression cases for the bugs it found (testdata/regress.c) inside
// the sandbox:
// whatever a guest does with any syscall arguments, the sentry and the
// gofer must neither panic nor hang nor leak.
//
// Leaks are measured on the host: the fuzzer stops at checkpoints (after a
// warm-up fifth of the run, at each further fifth, and at the end) with
// the guest in the same quiet state each time, and the test samples the
// sentry's and the gofer's host FDs, threads, anonymous RSS, the memory
// file's allocated size and the guest memory in use; from the warm-up to
// the end each may grow only within the bounds in growthBounds
// (hoststate_test.go).
//
// RUNSC_LITE_FUZZ_COUNT sets the number of fuzzed syscalls (default
// 200000); RUNSC_LITE_FUZZ_SEED fixes the seed (default: from the clock,
// printed by the fuzzer).
package fuzz

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func binary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("RUNSC_LITE_BINARY")
	if bin == "" {
		t.Skip("RUNSC_LITE_BINARY is not set (run through `make test`): the fuzzer needs a built runsc-lite")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (the sandbox uses namespaces)")
	}
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("needs gcc (make deps)")
	}
	return bin
}

// compile builds testdata/src into dir (the C sources live in testdata:
// the go tool refuses .c files in a package without cgo).
func compile(t *testing.T, dir, src string) string {
	t.Helper()
	out := filepath.Join(dir, strings.TrimSuffix(src, ".c"))
	if b, err := exec.Command("gcc", "-O1", "-Wall", "-pthread", "-o", out, filepath.Join("testdata", src)).CombinedOutput(); err != nil {
		t.Fatalf("gcc %s: %v\n%s", src, err, b)
	}
	return out
}

type result struct {
	code           int
	stdout, stderr string
}

// runSandbox runs args in a sandbox with dir as a volume, with a deadline.
func runSandbox(t *testing.T, bin, dir string, timeout time.Duration, args ...string) result {
	t.Helper()
	return runSandboxWatch(t, bin, dir, timeout, nil, args...)
}

// runSandboxWatch is runSandbox with watch, if not nil, run beside the
// sandbox with the CLI's pid until the sandbox exits and stop is closed.
func runSandboxWatch(t *testing.T, bin, dir string, timeout time.Duration, watch func(cli int, stop <-chan struct{}), args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"do", "--volume", dir + ":" + dir, "--"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err := cmd.Start(); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	stop, watched := make(chan struct{}), make(chan struct{})
	if watch != nil {
		go func() {
			defer close(watched)
			watch(cmd.Process.Pid, stop)
		}()
	} else {
		close(watched)
	}
	err := cmd.Wait()
	close(stop)
	<-watched
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if ctx.Err() != nil {
		t.Fatalf("%v: hung (no exit within %v)\nstdout:\n%s\nstderr:\n%s", args, timeout, tail(r.stdout), tail(r.stderr))
	}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	if strings.Contains(r.stderr, "panic:") || strings.Contains(r.stderr, "goroutine ") {
		t.Fatalf("%v: sandbox panicked:\n%s", args, tail(r.stderr))
	}
	return r
}

func tail(s string) string {
	if len(s) > 8000 {
		return "...\n" + s[len(s)-8000:]
	}
	return s
}

// sandboxProcs lists live runsc-boot and runsc-gofer processes that are
// descendants of this test process.
func sandboxProcs() []string {
	self := os.Getpid()
	ents, _ := os.ReadDir("/proc")
	var ps []string
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		if err != nil {
			continue
		}
		s := string(b)
		if !strings.Contains(s, "Name:\trunsc-boot\n") && !strings.Contains(s, "Name:\trunsc-gofer\n") {
			continue
		}
		if strings.Contains(s, "State:\tZ") {
			continue
		}
		// Walk up to see whether it is ours.
		for p := pid; p > 1; {
			if p == self {
				ps = append(ps, fmt.Sprintf("%d %s", pid, strings.SplitN(s, "\n", 2)[0]))
				break
			}
			st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
			if err != nil {
				break
			}
			f := strings.Fields(string(st[bytes.LastIndexByte(st, ')')+1:]))
			if len(f) < 2 {
				break
			}
			p, _ = strconv.Atoi(f[1])
		}
	}
	return ps
}

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

// checkClean checks that no sandbox process and no mount is left behind
// and that a normal command still works.
func checkClean(t *testing.T, bin, dir string, before map[string]bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(sandboxProcs()) != 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if ps := sandboxProcs(); len(ps) != 0 {
		t.Errorf("sandbox processes left behind: %v", ps)
	}
	for l := range mountInfo(t) {
		if !before[l] {
			t.Errorf("mount left behind: %s", l)
		}
	}
	if r := runSandbox(t, bin, dir, time.Minute, "sh", "-c", "echo hi"); r.code != 0 || r.stdout != "hi\n" {
		t.Errorf("after the fuzzer, `sh -c 'echo hi'`: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// checkpoints is how many times the fuzzer stops for the host state to be
// measured: the first is the warm-up, the last the end of the run.
const checkpoints = 5

var summary = regexp.MustCompile(`(?m)^fuzz: (\d+) syscalls, (\d+) workers died, alive\b`)

func TestSyscallFuzz(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	fuzzer := compile(t, dir, "syscallfuzz.c")
	count := "200000"
	if s := os.Getenv("RUNSC_LITE_FUZZ_COUNT"); s != "" {
		count = s
	}
	n, err := strconv.ParseUint(count, 0, 64)
	if err != nil || n == 0 {
		t.Fatalf("RUNSC_LITE_FUZZ_COUNT=%q: want a positive number", count)
	}
	// Two threads per worker (races on shared FD tables and address
	// spaces); half the workers in a host directory mounted as a volume
	// (goferfs and the gofer).
	vol := filepath.Join(dir, "vol")
	if err := os.Mkdir(vol, 0o777); err != nil {
		t.Fatal(err)
	}
	ckdir := filepath.Join(dir, "ckpt")
	if err := os.Mkdir(ckdir, 0o755); err != nil {
		t.Fatal(err)
	}
	every := max(n/checkpoints, 1)
	args := []string{fuzzer, "-n", count, "-t", "2", "-d", vol, "-k", ckdir, "-K", strconv.FormatUint(every, 10)}
	if s := os.Getenv("RUNSC_LITE_FUZZ_SEED"); s != "" {
		args = append(args, "-s", s)
	}
	before := mountInfo(t)
	// About 15k syscalls a second on two cores; leave a wide margin.
	timeout := 5*time.Minute + time.Duration(n/1000)*time.Second
	start := time.Now()
	var cps []checkpoint
	var errs []error
	r := runSandboxWatch(t, bin, dir, timeout, checkpointWatcher(ckdir, start, &cps, &errs), args...)
	t.Logf("%s in %v\n%s", strings.TrimSpace(r.stdout), time.Since(start).Round(time.Millisecond), tail(r.stderr))
	for _, c := range cps {
		t.Log(c)
	}
	for _, err := range errs {
		t.Error(err)
	}
	if r.code != 0 {
		t.Fatalf("fuzzer sandbox exited %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, tail(r.stderr))
	}
	m := summary.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no summary line in the fuzzer's output:\n%s", r.stdout)
	}
	if got, _ := strconv.ParseUint(m[1], 10, 64); got != n {
		t.Errorf("fuzzer ran %d syscalls, want %d", got, n)
	}
	if want := int((n + every - 1) / every); len(cps) != want || cps[len(cps)-1].guest["final"] != 1 {
		t.Fatalf("%d checkpoints, want %d, the last one final", len(cps), want)
	}
	checkGrowth(t, cps[0], cps[len(cps)-1])
	checkClean(t, bin, dir, before)
}

// TestRegressions runs one small C case per bug the fuzzer found; each
// prints "ok" and exits 0 when the sandbox behaves.
func TestRegressions(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	prog := compile(t, dir, "regress.c")
	out, err := exec.Command(prog, "list").Output()
	if err != nil {
		t.Fatalf("regress list: %v", err)
	}
	before := mountInfo(t)
	for _, name := range strings.Fields(string(out)) {
		t.Run(name, func(t *testing.T) {
			cdir := filepath.Join(dir, name)
			if err := os.Mkdir(cdir, 0o777); err != nil {
				t.Fatal(err)
			}
			var cps []checkpoint
			var errs []error
			r := runSandboxWatch(t, bin, dir, 2*time.Minute, checkpointWatcher(cdir, time.Now(), &cps, &errs), prog, name, cdir)
			if r.code != 0 || !strings.Contains(r.stdout, "ok\n") {
				t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, tail(r.stderr))
			}
			for _, err := range errs {
				t.Error(err)
			}
			if len(cps) > 1 {
				checkGrowth(t, cps[0], cps[len(cps)-1])
			}
		})
	}
	checkClean(t, bin, dir, before)
}
