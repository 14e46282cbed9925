package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// cpuTicks is the user plus system time of a process, in clock ticks
// (/proc/PID/stat fields 14 and 15).
func cpuTicks(t *testing.T, pid int) uint64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("/proc/%d/stat: %q", pid, s)
	}
	return utime + stime
}

// TestSetFreezer: a busy process in a frozen cgroup gets no CPU until the
// cgroup is thawed, with cgroup v1's freezer and with cgroup2's
// cgroup.freeze (those of the two the host mounts).
func TestSetFreezer(t *testing.T) {
	requireRoot(t)
	v2Root := "/sys/fs/cgroup/unified" // hybrid hosts
	if cgroupV2() {
		v2Root = cgroupRoot
	}
	for _, tc := range []struct {
		name string
		root string
		v2   bool
	}{
		{"v1", "/sys/fs/cgroup/freezer", false},
		{"v2", v2Root, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Each hierarchy's root has this file; only cgroup2's has
			// cgroup.controllers.
			probe := "cgroup.procs"
			if tc.v2 {
				probe = "cgroup.controllers"
			}
			if _, err := os.Stat(filepath.Join(tc.root, probe)); err != nil {
				t.Skipf("no hierarchy at %s: %v", tc.root, err)
			}
			dir := filepath.Join(tc.root, fmt.Sprintf("runsc-lite-freezer-test-%d", os.Getpid()))
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			busy := exec.Command("sh", "-c", "while :; do :; done")
			if err := busy.Start(); err != nil {
				os.Remove(dir)
				t.Fatal(err)
			}
			t.Cleanup(func() {
				setFreezer(dir, tc.v2, false)
				busy.Process.Kill()
				busy.Wait()
				for i := 0; i < 100 && os.Remove(dir) != nil; i++ {
					time.Sleep(10 * time.Millisecond)
				}
			})
			pid := busy.Process.Pid
			if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
				t.Fatal(err)
			}

			if err := setFreezer(dir, tc.v2, true); err != nil {
				t.Fatalf("freeze: %v", err)
			}
			if ok, err := freezerSettled(dir, tc.v2, true); !ok || err != nil {
				t.Fatalf("freezer not frozen once freeze returned (%v)", err)
			}
			before := cpuTicks(t, pid)
			time.Sleep(300 * time.Millisecond)
			if after := cpuTicks(t, pid); after != before {
				t.Errorf("a frozen busy loop ran: cpu ticks %d -> %d", before, after)
			}

			if err := setFreezer(dir, tc.v2, false); err != nil {
				t.Fatalf("thaw: %v", err)
			}
			for deadline := time.Now().Add(10 * time.Second); cpuTicks(t, pid) == before; time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the busy loop did not run again after thaw")
				}
			}
		})
	}
}

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
