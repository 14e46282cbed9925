package realprogs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// runTimeout bounds one run of one suite, natively or in the sandbox, so
// that a hang fails the test with its output instead of stalling the run.
const runTimeout = 12 * time.Minute

// slots bounds the runs (native or sandboxed) at once: the CI machine has
// 2 cores, and these suites mostly wait (sleeps, timeouts, children).
var slots = make(chan struct{}, 4)

// suite is one test program to run natively and in the sandbox.
type suite struct {
	dir        string   // working directory of the native run
	sandboxDir string   // working directory in the sandbox; dir if empty
	argv       []string // the program and its arguments
	env        []string // the environment of both runs
}

// result is one run of a suite.
type result struct {
	out  []byte
	code int
	err  error // a failure to run or a timeout, not an exit status
}

// runner describes a test runner's output: the names of the tests that
// failed and of those that were skipped.
type runner struct {
	failures, skips *regexp.Regexp // first submatch: a test's name
	// gaps are tests known to skip themselves in the sandbox only, by
	// name, with the missing feature.
	gaps map[string]string
}

// runBoth runs s natively and in a sandbox of bin at the same time, and
// requires both to exit 0 and the sandbox to skip no test that runs
// natively (a test that finds a feature missing in the sandbox and skips
// itself hides a gap).
func runBoth(t *testing.T, bin string, s suite, r runner) {
	t.Helper()
	sdir := s.sandboxDir
	if sdir == "" {
		sdir = s.dir
	}
	// The suite runs as a child of a shell, not as the sandbox's first
	// process: natively it is no session leader, so opening a terminal
	// does not make it the controlling terminal (and closing that
	// terminal's master does not send it SIGHUP). The shell also reaps
	// orphans as init does.
	sargv := append([]string{bin, "do", "--cwd", sdir, "/bin/sh", "-c", `"$@"; exit $?`, "sh"}, s.argv...)
	var native, sandbox result
	var wg sync.WaitGroup
	for _, r := range []struct {
		res  *result
		dir  string
		argv []string
	}{{&native, s.dir, s.argv}, {&sandbox, sdir, sargv}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			*r.res = run(r.dir, s.env, r.argv)
		}()
	}
	wg.Wait()
	if native.err != nil || native.code != 0 {
		t.Fatalf("native run fails (exit %d, %v); the host cannot run this suite: %s\n%s",
			native.code, native.err, strings.Join(matches(r.failures, native.out), ", "), tail(native.out))
	}
	if sandbox.err != nil || sandbox.code != 0 {
		t.Errorf("sandbox run fails (exit %d, %v) where the native run passes; failed: %s\n%s",
			sandbox.code, sandbox.err, strings.Join(matches(r.failures, sandbox.out), ", "), tail(sandbox.out))
	}
	nativeSkips := matches(r.skips, native.out)
	var extra []string
	for _, name := range matches(r.skips, sandbox.out) {
		if slices.Contains(nativeSkips, name) {
			continue
		}
		if why, ok := r.gaps[name]; ok {
			t.Logf("skipped in the sandbox only (known gap): %s: %s", name, why)
			continue
		}
		extra = append(extra, name)
	}
	if len(extra) > 0 {
		t.Errorf("skipped in the sandbox but run natively: %s", strings.Join(extra, ", "))
	}
	t.Logf("%d tests skipped natively and in the sandbox", len(nativeSkips))
}

// run runs argv in dir with env, with output combined.
func run(dir string, env, argv []string) result {
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = dir, env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// Children that keep the output pipe open must not hold Wait up
	// after a kill.
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	r := result{out: out.Bytes()}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		r.err = fmt.Errorf("timed out after %v", runTimeout)
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		r.err = err
	}
	return r
}

// tail returns the end of out, where test runners print their verdicts.
func tail(out []byte) string {
	const max = 12000
	if len(out) > max {
		return "...\n" + string(out[len(out)-max:])
	}
	return string(out)
}

// matches returns the first submatch of re on every line of out.
func matches(re *regexp.Regexp, out []byte) []string {
	var names []string
	for _, m := range re.FindAllSubmatch(out, -1) {
		names = append(names, string(m[1]))
	}
	return names
}

// environ returns the host's environment with the given overrides; an
// override without "=" removes the variable.
func environ(overrides ...string) []string {
	env := os.Environ()
	for _, kv := range overrides {
		k, _, set := strings.Cut(kv, "=")
		env = slices.DeleteFunc(env, func(e string) bool { return strings.HasPrefix(e, k+"=") })
		if set {
			env = append(env, kv)
		}
	}
	return env
}
