package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// cgroupRoot is where the host's cgroup hierarchies are mounted: cgroup
// v1 controllers at cgroupRoot/<controller> (with cgroup2 at
// cgroupRoot/unified in hybrid mode), or cgroup2 at cgroupRoot itself.
const cgroupRoot = "/sys/fs/cgroup"

// v1Controllers are the cgroup v1 hierarchies a container's processes
// join.
var v1Controllers = []string{"memory", "pids", "cpu", "cpuacct", "freezer"}

// cgroup is a container's cgroup: path is relative to each hierarchy's
// root (like Docker's /docker/<id>).
type cgroup struct {
	path string
}

// cgroupPath is the bundle's linux.cgroupsPath, or /runsc-lite/<id>.
func cgroupPath(spec *specs.Spec, id string) string {
	if spec.Linux != nil && spec.Linux.CgroupsPath != "" {
		return filepath.Join("/", spec.Linux.CgroupsPath)
	}
	return filepath.Join("/runsc-lite", id)
}

func cgroupV2() bool {
	_, err := os.Stat(filepath.Join(cgroupRoot, "cgroup.controllers"))
	return err == nil
}

// dirs returns the cgroup's directories, one per hierarchy that exists.
func (cg *cgroup) dirs() []string {
	if cgroupV2() {
		return []string{filepath.Join(cgroupRoot, cg.path)}
	}
	var d []string
	for _, c := range v1Controllers {
		if _, err := os.Stat(filepath.Join(cgroupRoot, c)); err == nil {
			d = append(d, filepath.Join(cgroupRoot, c, cg.path))
		}
	}
	return d
}

// newCgroup creates the cgroup and applies spec's linux.resources.
func newCgroup(path string, spec *specs.Spec) (*cgroup, error) {
	if path == "/" {
		return nil, errors.New("cgroupsPath must not be the root cgroup")
	}
	cg := &cgroup{path: path}
	if cgroupV2() {
		enableV2Controllers(filepath.Dir(filepath.Join(cgroupRoot, path)))
	}
	for _, d := range cg.dirs() {
		if err := os.MkdirAll(d, 0o755); err != nil {
			cg.destroy()
			return nil, fmt.Errorf("cgroup: %w", err)
		}
	}
	if spec.Linux != nil && spec.Linux.Resources != nil {
		if err := cg.apply(spec.Linux.Resources); err != nil {
			cg.destroy()
			return nil, err
		}
	}
	return cg, nil
}

// enableV2Controllers turns the controllers we use on for the children of
// dir and its ancestors (cgroup v2 only hands down what is enabled).
func enableV2Controllers(dir string) {
	var chain []string
	for d := dir; strings.HasPrefix(d, cgroupRoot); d = filepath.Dir(d) {
		chain = append([]string{d}, chain...)
		if d == cgroupRoot {
			break
		}
	}
	for _, d := range chain {
		os.MkdirAll(d, 0o755)
		for _, c := range []string{"+memory", "+pids", "+cpu"} {
			os.WriteFile(filepath.Join(d, "cgroup.subtree_control"), []byte(c), 0)
		}
	}
}

// write writes value to a control file of the hierarchy (v1 controller
// name, ignored on v2).
func (cg *cgroup) write(controller, file, value string) error {
	dir := filepath.Join(cgroupRoot, controller, cg.path)
	if cgroupV2() {
		dir = filepath.Join(cgroupRoot, cg.path)
	}
	if err := os.WriteFile(filepath.Join(dir, file), []byte(value), 0); err != nil {
		return fmt.Errorf("cgroup: setting %s to %s: %w", file, value, err)
	}
	return nil
}

// apply sets the limits of r (zero values leave a limit as it is).
func (cg *cgroup) apply(r *specs.LinuxResources) error {
	v2 := cgroupV2()
	if m := r.Memory; m != nil {
		if m.Limit != nil && *m.Limit != 0 {
			if v2 {
				if err := cg.write("", "memory.max", v2Max(*m.Limit)); err != nil {
					return err
				}
			} else {
				if err := cg.setV1Memory(*m.Limit, m.Swap); err != nil {
					return err
				}
			}
		}
		if m.Reservation != nil && *m.Reservation > 0 {
			if v2 {
				cg.write("", "memory.low", strconv.FormatInt(*m.Reservation, 10))
			} else {
				cg.write("memory", "memory.soft_limit_in_bytes", strconv.FormatInt(*m.Reservation, 10))
			}
		}
	}
	if p := r.Pids; p != nil && p.Limit != nil && *p.Limit != 0 {
		if err := cg.write("pids", "pids.max", v2Max(hostPidsLimit(*p.Limit))); err != nil {
			return err
		}
	}
	if c := r.CPU; c != nil {
		if err := cg.applyCPU(c, v2); err != nil {
			return err
		}
	}
	return nil
}

// hostPidsLimit is the host pids limit of a sandbox whose guest may have
// n tasks. The sentry enforces n itself (boot.Config.MaxTasks); on the
// host every guest thread is a sentry thread and a stub thread, and the
// sentry and gofer have threads of their own: a host limit of n would
// make the Go runtime of the sentry die for want of a thread long before
// the guest reached n. The host limit still bounds a runaway sandbox.
func hostPidsLimit(n int64) int64 {
	if n <= 0 {
		return n
	}
	return 2*n + 128
}

func v2Max(n int64) string {
	if n < 0 {
		return "max"
	}
	return strconv.FormatInt(n, 10)
}

// setV1Memory sets the memory limit and, where the kernel accounts swap,
// memory+swap: in the order that keeps limit <= memsw at every step.
func (cg *cgroup) setV1Memory(limit int64, swap *int64) error {
	memsw := filepath.Join(cgroupRoot, "memory", cg.path, "memory.memsw.limit_in_bytes")
	_, err := os.Stat(memsw)
	hasSwap := err == nil && swap != nil && *swap != 0
	set := func() error { return cg.write("memory", "memory.limit_in_bytes", strconv.FormatInt(limit, 10)) }
	if !hasSwap {
		return set()
	}
	setSw := func() error { return cg.write("memory", "memory.memsw.limit_in_bytes", strconv.FormatInt(*swap, 10)) }
	if err := set(); err != nil {
		// Raising the limit above the current memsw: memsw first.
		if err := setSw(); err != nil {
			return err
		}
		return set()
	}
	return setSw()
}

func (cg *cgroup) applyCPU(c *specs.LinuxCPU, v2 bool) error {
	if v2 {
		if c.Shares != nil && *c.Shares != 0 {
			// runc's conversion of shares (2-262144) to weight (1-10000).
			w := 1 + ((*c.Shares-2)*9999)/262142
			if err := cg.write("", "cpu.weight", strconv.FormatUint(w, 10)); err != nil {
				return err
			}
		}
		if c.Quota != nil && *c.Quota != 0 {
			period := uint64(100000)
			if c.Period != nil && *c.Period != 0 {
				period = *c.Period
			}
			return cg.write("", "cpu.max", fmt.Sprintf("%s %d", v2Max(*c.Quota), period))
		}
		return nil
	}
	if c.Shares != nil && *c.Shares != 0 {
		if err := cg.write("cpu", "cpu.shares", strconv.FormatUint(*c.Shares, 10)); err != nil {
			return err
		}
	}
	if c.Period != nil && *c.Period != 0 {
		if err := cg.write("cpu", "cpu.cfs_period_us", strconv.FormatUint(*c.Period, 10)); err != nil {
			return err
		}
	}
	if c.Quota != nil && *c.Quota != 0 {
		if err := cg.write("cpu", "cpu.cfs_quota_us", strconv.FormatInt(*c.Quota, 10)); err != nil {
			return err
		}
	}
	return nil
}

// join moves the processes pids and their descendants (each with all its
// threads) into the cgroup. The sandbox's processes are moved as soon as
// they run, rather than forked from inside the cgroup: the first
// migration waits for an RCU grace period (cgroup_threadgroup_rwsem, 10-20
// ms on a small VM), during which they set themselves up. A process's
// children are listed after it moved: a fork and a migration exclude each
// other (that rwsem), so a child is either listed or born in the cgroup.
func (cg *cgroup) join(pids ...int) error {
	dirs := cg.dirs()
	for len(pids) > 0 {
		pid := pids[0]
		pids = pids[1:]
		for _, d := range dirs {
			err := os.WriteFile(filepath.Join(d, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0)
			if errors.Is(err, unix.ESRCH) {
				break // it exited meanwhile
			}
			if err != nil {
				return fmt.Errorf("cgroup: moving %d into %s: %w", pid, d, err)
			}
		}
		pids = append(pids, children(pid)...)
	}
	return nil
}

// children lists the child processes of pid: from its threads'
// /proc/PID/task/TID/children, or, on a kernel without them, from every
// process's parent in /proc/PID/stat.
func children(pid int) []int {
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var kids []int
	if len(files) == 0 {
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			n, err := strconv.Atoi(e.Name())
			if err == nil && parentOf(n) == pid {
				kids = append(kids, n)
			}
		}
		return kids
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, w := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(w); err == nil {
				kids = append(kids, n)
			}
		}
	}
	return kids
}

// parentOf returns the parent of pid (/proc/PID/stat field 4), or 0.
func parentOf(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// goMaxProcs is the GOMAXPROCS the Go runtime would choose in a cgroup with
// the CPU limit of r: the CPUs this process may run on, at most the
// quota's CPUs rounded up, and at least 2 (runtime.defaultGOMAXPROCS).
func goMaxProcs(r *specs.LinuxResources) int {
	n := runtime.NumCPU()
	if r == nil || r.CPU == nil || r.CPU.Quota == nil || *r.CPU.Quota <= 0 {
		return n
	}
	period := uint64(100000) // the kernel's default
	if r.CPU.Period != nil && *r.CPU.Period > 0 {
		period = *r.CPU.Period
	}
	limit := int((uint64(*r.CPU.Quota) + period - 1) / period)
	return min(n, max(limit, 2))
}

// primeMigration starts, in the background, the wait that the first
// cgroup migration of the sandbox (join) would otherwise begin: by moving
// this process into the cgroup it is already in, which changes nothing
// but takes the same locks. Migrations a few milliseconds later then wait
// only for what is left of the grace period. Meanwhile the migration
// holds cgroup_mutex, which creating or removing a cgroup needs too. Best
// effort: a failure only loses the head start.
func primeMigration() {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return
	}
	file := ""
	for _, line := range strings.Split(string(b), "\n") {
		// hierarchy-ID:controllers:path; cgroup v2 is 0::path.
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[1] == "" && cgroupV2():
			file = filepath.Join(cgroupRoot, parts[2], "cgroup.procs")
		case parts[1] == "pids" && !cgroupV2():
			file = filepath.Join(cgroupRoot, "pids", parts[2], "cgroup.procs")
		}
	}
	if file == "" {
		return
	}
	self := []byte(strconv.Itoa(os.Getpid()))
	go os.WriteFile(file, self, 0)
}

// hierarchyOf returns the v1 controller of a cgroup directory.
func hierarchyOf(dir string) string {
	rel := strings.TrimPrefix(dir, cgroupRoot+"/")
	if i := strings.IndexByte(rel, '/'); i >= 0 {
		return rel[:i]
	}
	return rel
}

// pids lists the host processes in the cgroup.
func (cg *cgroup) pids() []int {
	dirs := cg.dirs()
	if len(dirs) == 0 {
		return nil
	}
	d := dirs[0]
	for _, x := range dirs {
		if hierarchyOf(x) == "pids" {
			d = x
		}
	}
	b, err := os.ReadFile(filepath.Join(d, "cgroup.procs"))
	if err != nil {
		return nil
	}
	var pids []int
	for _, l := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(l); err == nil {
			pids = append(pids, n)
		}
	}
	return pids
}

// destroy removes the cgroup's directories (empty once its processes are
// gone; an exiting process may linger for a moment).
func (cg *cgroup) destroy() error {
	var errs []error
	for _, d := range cg.dirs() {
		var err error
		for i := 0; i < 200; i++ {
			err = os.Remove(d)
			if err == nil || errors.Is(err, os.ErrNotExist) {
				err = nil
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("cgroup: %w", err))
		}
	}
	return errors.Join(errs...)
}

// freezeTimeout bounds the wait for the kernel to stop (or restart) every
// process of a cgroup.
const freezeTimeout = 5 * time.Second

// freeze stops (or with frozen false, resumes) every process of the
// cgroup and returns once the kernel reports them all stopped (resumed).
// A freeze that does not complete is undone: a cgroup left half frozen
// would run some of the container and not the rest while its state says
// running.
func freeze(path string, frozen bool) error {
	v2 := cgroupV2()
	dir := filepath.Join(cgroupRoot, "freezer", path)
	if v2 {
		dir = filepath.Join(cgroupRoot, path)
	}
	err := setFreezer(dir, v2, frozen)
	if err != nil && frozen {
		setFreezer(dir, v2, false)
	}
	return err
}

// setFreezer sets the freezer of the cgroup directory dir (cgroup v1's
// freezer.state, or cgroup2's cgroup.freeze) and waits until it has
// settled: v1 reports FREEZING, v2 "frozen 0" in cgroup.events, until the
// last process has stopped.
func setFreezer(dir string, v2, frozen bool) error {
	file, value := "freezer.state", "THAWED"
	if frozen {
		value = "FROZEN"
	}
	if v2 {
		file, value = "cgroup.freeze", "0"
		if frozen {
			value = "1"
		}
	}
	write := func() error {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(value), 0); err != nil {
			return fmt.Errorf("cgroup: setting %s to %s: %w", file, value, err)
		}
		return nil
	}
	if err := write(); err != nil {
		return err
	}
	deadline := time.Now().Add(freezeTimeout)
	for i := 1; ; i++ {
		done, err := freezerSettled(dir, v2, frozen)
		if err != nil || done {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroup: %s: %s did not settle at %s", dir, file, value)
		}
		time.Sleep(time.Millisecond)
		if frozen && !v2 && i%50 == 0 {
			// A v1 freeze can miss a task forked while it ran; asking
			// again takes it too.
			if err := write(); err != nil {
				return err
			}
		}
	}
}

// freezerSettled reports whether the freezer of dir has reached the
// frozen (or thawed) state.
func freezerSettled(dir string, v2, frozen bool) (bool, error) {
	file, want := "freezer.state", "THAWED"
	if frozen {
		want = "FROZEN"
	}
	if v2 {
		file, want = "cgroup.events", "frozen 0"
		if frozen {
			want = "frozen 1"
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return false, fmt.Errorf("cgroup: %w", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(l) == want {
			return true, nil
		}
	}
	return false, nil
}

func thaw(path string) {
	if path != "" {
		freeze(path, false)
	}
}
