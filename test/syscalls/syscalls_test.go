package syscalls

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// nativeInitEnv marks the test binary re-executed as the native runs' init:
// it finishes setting up the fresh namespaces and then execs the program.
const nativeInitEnv = "LT_NATIVE_INIT"

func TestMain(m *testing.M) {
	if os.Getenv(nativeInitEnv) == "1" {
		nativeInit()
	}
	os.Exit(m.Run())
}

// nativeInit runs as PID 1 of fresh PID, mount, UTS, IPC and network
// namespaces, so that a native run sees what a sandbox's first process sees
// (its own PID 1, /proc, /sys, hostname, loopback) and cannot change the host's
// hostname, IPC objects or network.
func nativeInit() {
	fail := func(what string, err error) {
		fmt.Fprintf(os.Stderr, "native init: %s: %v\n", what, err)
		os.Exit(125)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		fail("make / private", err)
	}
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		fail("mount /proc", err)
	}
	// The sandbox's /sys is a sysfs of its own, read-only as a
	// container's: a fresh one here shows this network namespace's
	// interfaces (the host's /sys shows the host's) and nothing mounted
	// below it.
	if err := unix.Mount("sysfs", "/sys", "sysfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		fail("mount /sys", err)
	}
	if err := loopbackUp(); err != nil {
		fail("loopback up", err)
	}
	argv := strings.Split(os.Getenv("LT_NATIVE_ARGV"), "\x00")
	env := make([]string, 0, len(os.Environ()))
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, nativeInitEnv+"=") && !strings.HasPrefix(kv, "LT_NATIVE_ARGV=") {
			env = append(env, kv)
		}
	}
	fail("exec "+argv[0], unix.Exec(argv[0], argv, env))
}

func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

// program is one compiled test program of the suite.
type program struct {
	area, name string // test/syscalls/AREA/NAME.c
	src, bin   string
}

func (p program) id() string { return p.area + "/" + p.name }

// findPrograms returns every test program, sorted: each AREA/NAME.c under
// this directory.
func findPrograms(t *testing.T) []program {
	srcs, err := filepath.Glob("*/*.c")
	if err != nil {
		t.Fatal(err)
	}
	var progs []program
	for _, src := range srcs {
		area := filepath.Dir(src)
		if area == "include" {
			continue
		}
		progs = append(progs, program{area: area, name: strings.TrimSuffix(filepath.Base(src), ".c"), src: src})
	}
	sort.Slice(progs, func(i, j int) bool { return progs[i].id() < progs[j].id() })
	return progs
}

// compile builds every program into dir with gcc, in parallel.
func compile(t *testing.T, progs []program, dir string) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not installed")
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []string
		sem  = make(chan struct{}, runtime.NumCPU()+1)
	)
	for i := range progs {
		p := &progs[i]
		p.bin = filepath.Join(dir, p.area+"_"+p.name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out, err := exec.Command(gcc, "-O1", "-g", "-Wall", "-Werror", "-Wno-unused-function", "-Wno-format-truncation",
				"-Iinclude", "-o", p.bin, p.src, "-lpthread", "-lrt").CombinedOutput()
			if err != nil {
				mu.Lock()
				errs = append(errs, fmt.Sprintf("gcc %s: %v\n%s", p.src, err, out))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatal(strings.Join(errs, "\n"))
	}
}

// result is what one run of a program said of its cases.
type result struct {
	status  map[string]string   // case -> "ok", "FAIL" or "MARK"
	lines   map[string][]string // case -> its FAIL and MARK lines
	order   []string            // cases in the order they reported
	output  string              // everything the run printed
	exitErr error
}

func parse(out []byte, exitErr error) result {
	r := result{status: map[string]string{}, lines: map[string][]string{}, output: string(out), exitErr: exitErr}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		kind, rest, _ := strings.Cut(line, " ")
		var name string
		switch kind {
		case "ok":
			name = rest
		case "FAIL", "MARK":
			name, _, _ = strings.Cut(rest, " ")
			name = strings.TrimSuffix(name, ":")
			r.lines[name] = append(r.lines[name], line)
		default:
			continue
		}
		if _, seen := r.status[name]; !seen {
			r.order = append(r.order, name)
		}
		// A FAIL line wins over an ok line for the same case.
		if r.status[name] != "FAIL" {
			r.status[name] = kind
		}
	}
	return r
}

// platforms are the platforms the sandbox runs are made on.
func platforms() []string {
	if p := os.Getenv("RUNSC_LITE_PLATFORMS"); p != "" {
		return strings.Fields(p)
	}
	return []string{"systrap"}
}

const runTimeout = 5 * time.Minute

func runNative(p program, tmp string) result {
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0])
	cmd.Env = append(os.Environ(), nativeInitEnv+"=1", "LT_NATIVE_ARGV="+p.bin, "LT_TMPDIR="+tmp, "LT_SANDBOX=0")
	cmd.Dir = tmp
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS |
			syscall.CLONE_NEWIPC | syscall.CLONE_NEWNET,
		Pdeathsig: syscall.SIGKILL,
	}
	out, err := cmd.CombinedOutput()
	return parse(out, err)
}

func runSandbox(bin, platform string, p program, tmp string) result {
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--platform", platform, "do", "--cwd", tmp, p.bin)
	cmd.Env = append(os.Environ(), "LT_TMPDIR="+tmp, "LT_SANDBOX=1")
	out, err := cmd.CombinedOutput()
	return parse(out, err)
}

// tally counts what the suite ran, for the report at the end.
type tally struct {
	mu       sync.Mutex
	programs int
	cases    int
	marks    []string
}

func (ta *tally) add(cases int, marks []string) {
	ta.mu.Lock()
	defer ta.mu.Unlock()
	ta.programs++
	ta.cases += cases
	ta.marks = append(ta.marks, marks...)
}

// TestConformance runs every program natively and in the sandbox on each
// platform; each case must pass in both, or carry a mark saying why it
// cannot. Run one area or program with -run, e.g.
// -run 'TestConformance/files/open/'.
func TestConformance(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the conformance suite runs as root (native runs use fresh namespaces)")
	}
	bin := os.Getenv("RUNSC_LITE_BINARY")
	if bin == "" {
		t.Skip("RUNSC_LITE_BINARY is not set (run the tests with `make test`)")
	}
	progs := findPrograms(t)
	if len(progs) == 0 {
		t.Fatal("no test programs found")
	}
	compile(t, progs, t.TempDir())

	var ta tally
	t.Run("suite", func(t *testing.T) {
		for _, p := range progs {
			t.Run(p.id(), func(t *testing.T) {
				t.Parallel()
				runProgram(t, bin, p, &ta)
			})
		}
	})
	sort.Strings(ta.marks)
	t.Logf("conformance: %d programs, %d cases, %d marked cases:\n%s",
		ta.programs, ta.cases, len(ta.marks), strings.Join(ta.marks, "\n"))
}

func runProgram(t *testing.T, bin string, p program, ta *tally) {
	native := runNative(p, t.TempDir())
	runs := map[string]result{}
	for _, pl := range platforms() {
		runs[pl] = runSandbox(bin, pl, p, t.TempDir())
	}
	if len(native.order) == 0 {
		t.Fatalf("native run reported no cases (%v):\n%s", native.exitErr, native.output)
	}
	var marks []string
	for _, name := range native.order {
		t.Run(name, func(t *testing.T) {
			check := func(where string, r result) {
				switch r.status[name] {
				case "ok":
				case "MARK":
					for _, l := range r.lines[name] {
						marks = append(marks, p.id()+"/"+name+" ("+where+"): "+strings.TrimPrefix(l, "MARK "+name+" "))
					}
				case "FAIL":
					t.Errorf("%s:\n%s", where, strings.Join(r.lines[name], "\n"))
				default:
					t.Errorf("%s: no result for the case (run ended: %v); output:\n%s", where, r.exitErr, tail(r.output, 40))
				}
			}
			check("native", native)
			for _, pl := range platforms() {
				check("sandbox/"+pl, runs[pl])
			}
		})
	}
	for pl, r := range runs {
		for _, name := range r.order {
			if _, ok := native.status[name]; !ok {
				t.Errorf("sandbox/%s reported case %q that the native run did not", pl, name)
			}
		}
	}
	ta.add(len(native.order), marks)
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
