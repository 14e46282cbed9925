// Package e2e helps tests that run a program natively and inside runsc-lite
// and require the same result: Linux is the specification.
package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
)

// Binary returns the runsc-lite binary under test (RUNSC_LITE_BINARY, which
// `make test` sets), skipping the test when there is none.
func Binary(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("RUNSC_LITE_BINARY")
	if bin == "" {
		t.Skip("RUNSC_LITE_BINARY is not set (run the tests with `make test`)")
	}
	return bin
}

// CompileC compiles the C file src into out with gcc, skipping the test when
// gcc is not installed.
func CompileC(t testing.TB, src, out string) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not installed")
	}
	if b, err := exec.Command(gcc, "-O1", "-Wall", "-o", out, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc %s: %v\n%s", src, err, b)
	}
	return out
}

// RunBoth runs argv natively and in a sandbox of bin (with dir as a volume at
// the same path) and requires the same output and exit status; the native
// run must succeed.
func RunBoth(t testing.TB, bin, dir string, argv ...string) {
	t.Helper()
	native, ncode := run(t, argv...)
	if ncode != 0 {
		t.Fatalf("native %v: exit %d\n%s", argv, ncode, native)
	}
	sandbox, scode := run(t, append([]string{bin, "do", "--volume", dir + ":" + dir}, argv...)...)
	if scode != ncode || sandbox != native {
		t.Errorf("%v:\nnative (exit %d):\n%s\nsandbox (exit %d):\n%s", argv, ncode, native, scode, sandbox)
	}
}

// run returns the combined output and exit status of args.
func run(t testing.TB, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return out.String(), 0
}
