package main

import (
	"os"
	"os/exec"
	"runtime"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestGoMaxProcs(t *testing.T) {
	cpus := runtime.NumCPU()
	quota := func(q int64, period uint64) *specs.LinuxResources {
		r := &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: &q}}
		if period != 0 {
			r.CPU.Period = &period
		}
		return r
	}
	for _, tc := range []struct {
		name string
		r    *specs.LinuxResources
		want int
	}{
		{"no resources", nil, cpus},
		{"no CPU limit", &specs.LinuxResources{}, cpus},
		{"unlimited quota", quota(-1, 100000), cpus},
		{"half a CPU: at least 2", quota(50000, 100000), min(cpus, 2)},
		{"1.5 CPUs round up", quota(150000, 100000), min(cpus, 2)},
		{"3 CPUs, default period", quota(300000, 0), min(cpus, 3)},
		{"a thousand CPUs", quota(100000000, 100000), cpus},
	} {
		if got := goMaxProcs(tc.r); got != tc.want {
			t.Errorf("%s: goMaxProcs = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestChildren checks both ways of listing a process's children against a
// child of ours.
func TestChildren(t *testing.T) {
	cmd := exec.Command("sleep", "10")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	if got := children(os.Getpid()); !slices.Contains(got, cmd.Process.Pid) {
		t.Errorf("children(%d) = %v, want %d among them", os.Getpid(), got, cmd.Process.Pid)
	}
	if got := parentOf(cmd.Process.Pid); got != os.Getpid() {
		t.Errorf("parentOf(%d) = %d, want %d", cmd.Process.Pid, got, os.Getpid())
	}
}
