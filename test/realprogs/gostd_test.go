package realprogs

import (
	"bytes"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/runsc-lite/runsc-lite/test/e2e"
)

// goPackages are the standard library packages whose tests run.
var goPackages = []string{"os", "os/exec", "os/signal", "syscall", "time"}

// goSkip excludes Go tests that depend on the host, not on the kernel.
type goSkip struct {
	pkg     string
	pattern string // a -test.skip pattern
	reason  string
	// applies reports whether the exclusion is needed on this host; nil
	// means always.
	applies func() bool
}

var goSkips = []goSkip{
	{"syscall", "^(TestGroupCleanup|TestGroupCleanupUserNamespace|TestCloneNEWUSERAndRemap)$",
		"they compare id(1) and whoami output with the name \"root\"; this host's /etc/passwd names uid 0 otherwise",
		func() bool { return passwdName(0) != "root" }},
}

// goGaps are Go tests that skip themselves in the sandbox (and run
// natively) because runsc-lite lacks what they test.
var goGaps = map[string]string{
	"TestEmptyCredGroupsDisableSetgroups":      noNamespaces,
	"TestUnshare":                              noNamespaces,
	"TestUnshareMountNameSpace":                noNamespaces,
	"TestUnshareMountNameSpaceChroot":          noNamespaces,
	"TestCloneTimeNamespace":                   noNamespaces,
	"TestPidFDWithUserNS":                      noNamespaces,
	"TestAmbientCapsUserns":                    noNamespaces,
	"TestGroupCleanupUserNamespace":            noNamespaces,
	"TestCloneNEWUSERAndRemap/setgroups=false": noNamespaces,
	"TestCloneNEWUSERAndRemap/setgroups=true":  noNamespaces,
	"TestFindExecutableVsNoexec":               "runsc-lite gap: mount(2) is not implemented (the test mounts a noexec tmpfs)",
}

const noNamespaces = "runsc-lite gap: no namespaces inside the sandbox (clone/unshare with CLONE_NEW* fail with EPERM)"

// TestGoStdlib runs the test binaries of goPackages (with -test.short)
// natively and in the sandbox; both must pass.
func TestGoStdlib(t *testing.T) {
	t.Parallel()
	bin := e2e.Binary(t)
	gobin, goroot := goTool(t)
	dir := t.TempDir()
	// One `go test -c` for all the packages: the binaries land in dir as
	// <last path element>.test.
	build := exec.Command(gobin, append([]string{"test", "-c", "-o", dir + "/"}, goPackages...)...)
	build.Env = environ("CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go test -c: %v\n%s", err, out)
	}
	r := runner{
		failures: regexp.MustCompile(`(?m)^\s*--- FAIL: (\S+)`),
		skips:    regexp.MustCompile(`(?m)^\s*--- SKIP: (\S+)`),
		gaps:     goGaps,
	}
	for _, pkg := range goPackages {
		t.Run(strings.ReplaceAll(pkg, "/", "_"), func(t *testing.T) {
			t.Parallel()
			argv := []string{filepath.Join(dir, path.Base(pkg)+".test"), "-test.short", "-test.timeout=9m", "-test.v"}
			for _, s := range goSkips {
				if s.pkg == pkg && (s.applies == nil || s.applies()) {
					t.Logf("excluded %s: %s", s.pattern, s.reason)
					argv = append(argv, "-test.skip="+s.pattern)
				}
			}
			s := suite{
				dir:  filepath.Join(goroot, "src", pkg),
				argv: argv,
				env:  environ("GOROOT="+goroot, "PWD="+filepath.Join(goroot, "src", pkg)),
			}
			runBoth(t, bin, s, r)
		})
	}
}

// goTool returns the go command and its GOROOT, skipping the test when Go
// is not installed.
func goTool(t *testing.T) (gobin, goroot string) {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = "/usr/local/go/bin/go"
		if _, err := os.Stat(gobin); err != nil {
			t.Skip("no go command")
		}
	}
	out, err := exec.Command(gobin, "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	return gobin, string(bytes.TrimSpace(out))
}

// passwdName returns the name /etc/passwd gives uid, or "".
func passwdName(uid int) string {
	b, err := os.ReadFile("/etc/passwd")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, ":")
		if len(f) > 2 && f[2] == strconv.Itoa(uid) {
			return f[0]
		}
	}
	return ""
}
