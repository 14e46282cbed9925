package docker

import (
	"os"
	"strings"
	"testing"
	"time"
)

// startDetached runs a long-lived container and removes it at the end of
// the test.
func startDetached(t *testing.T, args ...string) string {
	t.Helper()
	id := strings.TrimSpace(docker(t, append([]string{"run", "-d", "--runtime", runtimeName}, args...)...))
	t.Cleanup(func() { eng.Run("rm", "-f", id) })
	return id
}

// waitFor polls cond for up to 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestDetachedLifecycle(t *testing.T) {
	// The trap prints when USR1 arrives; TERM is left to its default, which
	// init does not get, so stop has to escalate to SIGKILL.
	id := startDetached(t, image, "sh", "-c", "trap 'echo got usr1' USR1; echo started; while true; do echo tick; sleep 0.1; done")
	waitFor(t, "the container's first output", func() bool { return strings.Contains(docker(t, "logs", id), "started") })

	t.Run("exec", func(t *testing.T) {
		if got := docker(t, "exec", id, "sh", "-c", "echo in $(hostname) && cat /proc/1/cmdline | tr '\\0' ' '"); !strings.HasPrefix(got, "in ") || !strings.Contains(got, "while true") {
			t.Errorf("exec output %q: want to run beside init in the same sandbox", got)
		}
		out, _, err := eng.Run("exec", id, "sh", "-c", "exit 5")
		if exitCode(err) != 5 {
			t.Errorf("exec exit status %d (%q), want 5", exitCode(err), out)
		}
		if got := docker(t, "exec", "-t", id, "sh", "-c", "test -t 0 && test -t 1 && echo tty"); strings.TrimSpace(got) != "tty" {
			t.Errorf("exec -t: %q, want a terminal", got)
		}
	})
	t.Run("top", func(t *testing.T) {
		got := docker(t, "top", id)
		if !strings.Contains(got, "PID") || len(strings.Split(strings.TrimSpace(got), "\n")) < 2 {
			t.Errorf("docker top: %q", got)
		}
	})
	t.Run("kill USR1", func(t *testing.T) {
		docker(t, "kill", "-s", "USR1", id)
		waitFor(t, "the USR1 trap", func() bool { return strings.Contains(docker(t, "logs", id), "got usr1") })
		if st := eng.Inspect(id, "{{.State.Status}}"); st != "running" {
			t.Errorf("state %q after USR1, want running", st)
		}
	})
	t.Run("pause", func(t *testing.T) {
		docker(t, "pause", id)
		if st := eng.Inspect(id, "{{.State.Status}}"); st != "paused" {
			t.Errorf("state %q after pause", st)
		}
		// A paused container runs nothing: its ticks stop.
		time.Sleep(300 * time.Millisecond)
		before := docker(t, "logs", id)
		time.Sleep(700 * time.Millisecond)
		if after := docker(t, "logs", id); after != before {
			t.Errorf("a paused container wrote %q", strings.TrimPrefix(after, before))
		}
		docker(t, "unpause", id)
		if st := eng.Inspect(id, "{{.State.Status}}"); st != "running" {
			t.Errorf("state %q after unpause", st)
		}
		n := strings.Count(docker(t, "logs", id), "tick")
		waitFor(t, "ticks after unpause", func() bool { return strings.Count(docker(t, "logs", id), "tick") > n })
	})
	t.Run("update memory", func(t *testing.T) {
		docker(t, "update", "--memory", "96m", "--memory-swap", "192m", id)
		if got := eng.Inspect(id, "{{.HostConfig.Memory}}"); got != "100663296" {
			t.Errorf("HostConfig.Memory %s", got)
		}
		limit := cgroupValue(t, id, "memory", "memory.limit_in_bytes", "memory.max")
		if limit != "100663296" {
			t.Errorf("the sandbox's cgroup memory limit is %q, want 100663296", limit)
		}
	})
	t.Run("restart", func(t *testing.T) {
		docker(t, "restart", "-t", "1", id)
		if st := eng.Inspect(id, "{{.State.Status}}"); st != "running" {
			t.Errorf("state %q after restart", st)
		}
		if got := docker(t, "exec", id, "echo", "back"); got != "back\n" {
			t.Errorf("exec after restart: %q", got)
		}
	})
	t.Run("stop", func(t *testing.T) {
		start := time.Now()
		docker(t, "stop", "-t", "1", id)
		if st := eng.Inspect(id, "{{.State.Status}}"); st != "exited" {
			t.Errorf("state %q after stop", st)
		}
		// Init ignores SIGTERM (no handler): stop had to kill it.
		if code := eng.Inspect(id, "{{.State.ExitCode}}"); code != "137" {
			t.Errorf("exit code %s after stop, want 137 (SIGKILL after the timeout)", code)
		}
		if time.Since(start) < time.Second {
			t.Errorf("stop returned before its 1 s timeout: SIGTERM should have been ignored")
		}
	})
	t.Run("rm", func(t *testing.T) {
		docker(t, "rm", "-f", id)
		checkNothingLeft(t, id)
	})
}

// TestStopGraceful: a container that handles SIGTERM exits on it.
func TestStopGraceful(t *testing.T) {
	id := startDetached(t, image, "sh", "-c", "trap 'exit 7' TERM; while true; do sleep 0.1; done")
	waitFor(t, "running", func() bool { return eng.Inspect(id, "{{.State.Status}}") == "running" })
	time.Sleep(300 * time.Millisecond) // let the shell install its trap
	docker(t, "stop", "-t", "20", id)
	if code := eng.Inspect(id, "{{.State.ExitCode}}"); code != "7" {
		t.Errorf("exit code %s, want 7 from the TERM trap", code)
	}
	docker(t, "rm", id)
	checkNothingLeft(t, id)
}

// cgroupValue reads a limit of the container's cgroup (cgroup v1 file, or
// the v2 one), found through the sandbox's processes.
func cgroupValue(t *testing.T, id, controller, v1, v2 string) string {
	t.Helper()
	pid := eng.Inspect(id, "{{.State.Pid}}")
	cg := readFile("/proc/" + pid + "/cgroup")
	for _, line := range strings.Split(cg, "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		if f[0] == "0" && f[1] == "" {
			if b, err := os.ReadFile("/sys/fs/cgroup/unified" + f[2] + "/" + v2); err == nil {
				return strings.TrimSpace(string(b))
			}
		}
		for _, c := range strings.Split(f[1], ",") {
			if c == controller {
				if b, err := os.ReadFile("/sys/fs/cgroup/" + controller + f[2] + "/" + v1); err == nil {
					return strings.TrimSpace(string(b))
				}
			}
		}
	}
	t.Fatalf("no %s cgroup for pid %s:\n%s", controller, pid, cg)
	return ""
}

// checkNothingLeft checks that a removed container left no process, mount,
// cgroup or runtime state behind.
func checkNothingLeft(t *testing.T, id string) {
	t.Helper()
	waitFor(t, "the container's processes to go", func() bool { return len(hostPIDs(id)) == 0 })
	for _, m := range strings.Split(readFile("/proc/self/mountinfo"), "\n") {
		if strings.Contains(m, id) {
			t.Errorf("mount left behind: %s", m)
		}
	}
	for _, root := range []string{"/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified"} {
		for _, dir := range []string{root + "/docker/" + id, root + "/runsc-lite/" + id} {
			if _, err := os.Stat(dir); err == nil {
				t.Errorf("cgroup left behind: %s", dir)
			}
		}
	}
	if _, err := os.Stat(eng.Path("exec/runtime-runc/moby/" + id)); err == nil {
		t.Errorf("runtime state left behind under %s", eng.Path("exec/runtime-runc/moby"))
	}
}

// TestKillPausedAsRunc: `docker kill -s USR1` of a paused container. Docker
// itself unpauses a container it signals (when the image sets no stop
// signal), so the trap runs at once and a later `docker unpause` fails
// with "not paused": the same with runc, which this compares against in
// the same run.
func TestKillPausedAsRunc(t *testing.T) {
	type outcome struct {
		trapRan   bool
		state     string
		unpauseOK bool
	}
	try := func(runtime string) outcome {
		id := strings.TrimSpace(docker(t, "run", "-d", "--runtime", runtime, image, "sh", "-c", "trap 'echo got-usr1' USR1; echo started; while :; do sleep 0.1; done"))
		defer eng.Run("rm", "-f", id)
		waitFor(t, runtime+"'s first output", func() bool { return strings.Contains(docker(t, "logs", id), "started") })
		docker(t, "pause", id)
		docker(t, "kill", "-s", "USR1", id)
		var o outcome
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && !o.trapRan; time.Sleep(100 * time.Millisecond) {
			o.trapRan = strings.Contains(docker(t, "logs", id), "got-usr1")
		}
		o.state = eng.Inspect(id, "{{.State.Status}}")
		_, _, err := eng.Run("unpause", id)
		o.unpauseOK = err == nil
		return o
	}
	runc, ours := try("runc"), try(runtimeName)
	if ours != runc {
		t.Errorf("pause, kill -s USR1, unpause: runsc-lite %+v, runc %+v", ours, runc)
	}
	t.Logf("runc and runsc-lite: %+v", ours)
}
