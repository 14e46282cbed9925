// Command bench measures runsc-lite against native execution on the same
// machine in the same run and prints each figure with the ratio and the
// target from the issue. Run it with `make bench` (as root).
package main

import (
	"bytes"
	_ "embed"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed csrc/micro.c
var microSource []byte

func main() {
	bin := flag.String("runsc-lite", os.Getenv("RUNSC_LITE_BINARY"), "runsc-lite binary")
	runs := flag.Int("runs", 15, "repetitions of whole-command measurements")
	ociRuns := flag.Int("oci-runs", 41, "repetitions of each of runc run and runsc-lite run, interleaved")
	flag.Parse()
	if *bin == "" {
		*bin = "runsc-lite"
	}
	dir, err := os.MkdirTemp("", "runsc-lite-bench")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(dir)
	micro := filepath.Join(dir, "micro")
	src := micro + ".c"
	if err := os.WriteFile(src, microSource, 0o644); err != nil {
		fatal(err)
	}
	if out, err := exec.Command("gcc", "-O2", "-o", micro, src).CombinedOutput(); err != nil {
		fatal(fmt.Errorf("compile micro.c: %v\n%s", err, out))
	}
	data := filepath.Join(dir, "data")
	if err := os.WriteFile(data, bytes.Repeat([]byte("x"), 8192), 0o644); err != nil {
		fatal(err)
	}

	fmt.Printf("%-40s %14s %14s %8s   %s\n", "benchmark", "native", "runsc-lite", "ratio", "target (runsc-lite)")
	sandbox := func(args ...string) []string {
		return append([]string{*bin, "do", "--volume", dir + ":" + dir}, args...)
	}
	do := walls(*runs, []string{"/bin/true"}, sandbox("/bin/true"))
	report(fmt.Sprintf("do /bin/true (wall, median of %d)", *runs), do[0], do[1], "< 45 ms")
	for _, m := range []struct {
		name, mode, n, target string
		extra                 []string
	}{
		{"getppid", "getppid", "200000", "< 5 us", nil},
		{"open+read 4KiB+close", "openread", "20000", "< 25 us", []string{data}},
		{"fork+exec+wait /bin/true", "forkexec", "200", "< 3 ms", nil},
	} {
		args := append([]string{micro, m.mode, m.n}, m.extra...)
		report(m.name, perOp(args), perOp(sandbox(args...)), m.target)
	}
	benchContended(micro, sandbox)
	benchOCIRun(*bin, dir, *ociRuns)
	benchDockerRun(*bin, *runs)
}

// benchContended measures system calls and fork+exec while every CPU also
// runs a busy loop, as on a host shared with other workloads: there the
// sentry and the stub must not spin for each other (platform/systrap's
// spinPolicy).
func benchContended(micro string, sandbox func(...string) []string) {
	var loops []*exec.Cmd
	for i := 0; i < runtime.NumCPU(); i++ {
		c := exec.Command("/bin/sh", "-c", "while :; do :; done")
		if err := c.Start(); err != nil {
			fatal(fmt.Errorf("start busy loop: %w", err))
		}
		loops = append(loops, c)
	}
	defer func() {
		for _, c := range loops {
			c.Process.Kill()
			c.Wait()
		}
	}()
	for _, m := range []struct{ name, mode, n string }{
		{"getppid, a busy loop per CPU", "getppid", "5000"},
		{"fork+exec+wait, a busy loop per CPU", "forkexec", "30"},
	} {
		args := []string{micro, m.mode, m.n}
		report(m.name, perOp(args), perOp(sandbox(args...)), "(no target)")
	}
}

// benchOCIRun compares `runsc-lite run` with `runc run` of one bundle
// running busybox's /bin/true (the "native" column is runc's). The two
// alternate, so that a change in the machine's load affects both alike.
func benchOCIRun(bin, dir string, runs int) {
	runc, err := exec.LookPath("runc")
	if err != nil {
		fmt.Println("run of a /bin/true bundle: runc is not installed, skipped")
		return
	}
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		fmt.Println("run of a /bin/true bundle: busybox is not installed, skipped")
		return
	}
	bundle := filepath.Join(dir, "bundle")
	rootfs := filepath.Join(bundle, "rootfs")
	for _, d := range []string{"bin", "proc", "dev", "tmp"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			fatal(err)
		}
	}
	data, err := os.ReadFile(busybox)
	if err != nil {
		fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rootfs, "bin", "busybox"), data, 0o755); err != nil {
		fatal(err)
	}
	if err := os.Symlink("busybox", filepath.Join(rootfs, "bin", "true")); err != nil {
		fatal(err)
	}
	config := `{"ociVersion":"1.0.2","process":{"user":{"uid":0,"gid":0},"args":["/bin/true"],"env":["PATH=/bin"],"cwd":"/"},
"root":{"path":"rootfs","readonly":true},"hostname":"bench",
"mounts":[{"destination":"/proc","type":"proc","source":"proc"}],
"linux":{"namespaces":[{"type":"pid"},{"type":"network"},{"type":"ipc"},{"type":"uts"},{"type":"mount"}]}}`
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), []byte(config), 0o644); err != nil {
		fatal(err)
	}
	root := func(name string) string { return filepath.Join(dir, name+"-state") }
	ociRun := func(binary, name string) []string {
		return []string{binary, "--root", root(name), "run", "--bundle", bundle, "bench-" + name}
	}
	ms := walls(runs, ociRun(runc, "runc"), ociRun(bin, "runsc-lite"))
	report(fmt.Sprintf("run of a /bin/true bundle (median of %d)", runs), ms[0], ms[1], "<= 1.0x runc's (native column: runc)")
}

// walls runs each argv in turn, runs times (after one unmeasured round),
// and returns the median wall time of each; -1 for one that failed.
func walls(runs int, argvs ...[]string) []time.Duration {
	ds := make([][]time.Duration, len(argvs))
	failed := make([]bool, len(argvs))
	for i := -1; i < runs; i++ {
		for j, argv := range argvs {
			if failed[j] {
				continue
			}
			start := time.Now()
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Stderr = os.Stderr
			if err := cmd.Run(); err != nil {
				failed[j] = true
				continue
			}
			if i >= 0 {
				ds[j] = append(ds[j], time.Since(start))
			}
		}
	}
	medians := make([]time.Duration, len(argvs))
	for j, d := range ds {
		if failed[j] {
			medians[j] = -1
			continue
		}
		sort.Slice(d, func(a, b int) bool { return d[a] < d[b] })
		medians[j] = d[len(d)/2]
	}
	return medians
}

// perOp runs a micro-benchmark and returns the per-operation time it prints.
func perOp(argv []string) time.Duration {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return -1
	}
	ns, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		return -1
	}
	return time.Duration(ns)
}

func report(name string, native, sandboxed time.Duration, target string) {
	show := func(d time.Duration) string {
		if d < 0 {
			return "failed"
		}
		if d >= time.Millisecond {
			return d.Round(10 * time.Microsecond).String()
		}
		return d.Round(time.Microsecond / 10).String()
	}
	ratio := "-"
	if native > 0 && sandboxed > 0 {
		ratio = fmt.Sprintf("%.2fx", float64(sandboxed)/float64(native))
	}
	fmt.Printf("%-40s %14s %14s %8s   %s\n", name, show(native), show(sandboxed), ratio, target)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}
